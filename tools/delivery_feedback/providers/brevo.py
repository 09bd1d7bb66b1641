# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Brevo (formerly Sendinblue) transactional webhooks.

Documentation: https://developers.brevo.com/docs/transactional-webhooks
(events and payload), https://developers.brevo.com/docs/how-to-secure-webhooks
(Basic credentials in the URL, or a bearer token), and the ``X-Mailin-custom``
header sent back in the events:
https://developers.brevo.com/docs/smtp-integration.

Brevo signs nothing: a request proves only that its sender knows the URL and
the secret Odoo generated for the server, sent as Basic credentials
(``odoo:<secret>``) or as ``Authorization: Bearer <secret>``. One event a
request, or a list when the webhook is batched. Events carry the mail's
``message-id``; Odoo also sends it in ``X-Mailin-custom``, which Brevo
returns as is.
"""

import hmac

from odoo.tools.translate import LazyTranslate

from ..common import (
    KIND_BOUNCE,
    KIND_COMPLAINT,
    KIND_DEFERRED,
    KIND_DELIVERED,
    KIND_UNSUBSCRIBE,
    PROOF_SECRET,
    REFUSAL_CREDENTIALS,
    REFUSAL_NO_KEY,
    REFUSAL_SHAPE,
    FeedbackError,
    Provider,
    check_basic,
    collect,
    event_uid,
    json_events,
    make_event,
    text,
)

_lt = LazyTranslate(__name__)

CODE = "brevo"
CUSTOM_HEADER = "X-Mailin-custom"
CUSTOM_PREFIX = "odoo-message-id:"

KINDS = {
    "hard_bounce": KIND_BOUNCE,
    "invalid_email": KIND_BOUNCE,
    # Brevo refused to send: the address is on its blocklist (an earlier
    # hard bounce, complaint or unsubscription)
    "blocked": KIND_BOUNCE,
    "soft_bounce": KIND_DEFERRED,
    "deferred": KIND_DEFERRED,
    "spam": KIND_COMPLAINT,
    "unsubscribed": KIND_UNSUBSCRIBE,
    "delivered": KIND_DELIVERED,
}


def brevo_event(item):
    kind = KINDS.get(item.get("event"))
    if not kind:
        return None  # request (sent), opened, click, proxy_open, error...
    recipient = item.get("email")
    if not isinstance(recipient, str):
        raise FeedbackError(REFUSAL_SHAPE, "email")
    custom = text(item.get(CUSTOM_HEADER), 600)
    message_id = (
        custom[len(CUSTOM_PREFIX) :]
        if custom.startswith(CUSTOM_PREFIX)
        else item.get("message-id")
    )
    when = item.get("ts_event") or item.get("ts")
    return make_event(
        CODE,
        event_uid(item.get("event"), item.get("message-id"), recipient, when),
        kind,
        recipient,
        message_id,
        text(item.get("reason")) if kind in (KIND_BOUNCE, KIND_DEFERRED) else "",
        when,
        item,
    )


def check_credentials(headers, secret):
    """Basic credentials, or the bearer token Brevo's webhook can send."""
    authorization = headers.get("Authorization") or ""
    scheme, _space, token = authorization.partition(" ")
    if scheme.lower() == "bearer":
        if not secret:
            raise FeedbackError(REFUSAL_NO_KEY)
        if not hmac.compare_digest(token.strip().encode(), secret.encode()):
            raise FeedbackError(REFUSAL_CREDENTIALS)
        return
    check_basic(headers, secret)


def verify_brevo(request, now):
    check_credentials(request.headers, request.secret)
    items = json_events(request.body, kind_key="event")
    return collect(CODE, items, brevo_event, timestamp=now)


PROVIDER = Provider(
    code=CODE,
    label="Brevo (Sendinblue)",
    proof=PROOF_SECRET,
    verify=verify_brevo,
    docs=("https://developers.brevo.com/docs/transactional-webhooks",),
    basic_auth=True,
    outgoing_headers=lambda message_id: {CUSTOM_HEADER: CUSTOM_PREFIX + message_id},
    setup_steps=(
        _lt("In Brevo, open Transactional > Settings > Webhook > Add a webhook."),
        _lt(
            "Paste the Webhook URL below (it carries Odoo's credentials), "
            "or the URL without them and the secret as bearer token."
        ),
        _lt(
            "Tick Hard bounce, Soft bounce, Blocked, Invalid email, Spam, "
            "Unsubscribed, Deferred and Delivered. No key to paste."
        ),
    ),
)
