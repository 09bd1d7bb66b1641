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

from .. import common

_lt = LazyTranslate(__name__)

CODE = "brevo"
CUSTOM_HEADER = "X-Mailin-custom"
CUSTOM_PREFIX = "odoo-message-id:"

KINDS = {
    "hard_bounce": common.KIND_BOUNCE,
    "invalid_email": common.KIND_BOUNCE,
    # Brevo refused to send: the address is on its blocklist (an earlier
    # hard bounce, complaint or unsubscription)
    "blocked": common.KIND_BOUNCE,
    "soft_bounce": common.KIND_DEFERRED,
    "deferred": common.KIND_DEFERRED,
    "spam": common.KIND_COMPLAINT,
    "unsubscribed": common.KIND_UNSUBSCRIBE,
    "delivered": common.KIND_DELIVERED,
}


def brevo_event(item):
    kind = KINDS.get(item.get("event"))
    if not kind:
        return None  # request (sent), opened, click, proxy_open, error...
    recipient = item.get("email")
    if not isinstance(recipient, str):
        raise common.FeedbackError(common.REFUSAL_SHAPE, "email")
    custom = common.text(item.get(CUSTOM_HEADER), 600)
    message_id = (
        custom[len(CUSTOM_PREFIX) :]
        if custom.startswith(CUSTOM_PREFIX)
        else item.get("message-id")
    )
    when = item.get("ts_event") or item.get("ts")
    uid = common.event_uid(item.get("event"), item.get("message-id"), recipient, when)
    reason = (
        common.text(item.get("reason"))
        if kind in (common.KIND_BOUNCE, common.KIND_DEFERRED)
        else ""
    )
    return common.make_event(CODE, uid, kind, recipient, message_id, reason, when, item)


def check_credentials(headers, secret):
    """Basic credentials, or the bearer token Brevo's webhook can send."""
    authorization = headers.get("Authorization") or ""
    scheme, _space, token = authorization.partition(" ")
    if scheme.lower() == "bearer":
        if not secret:
            raise common.FeedbackError(common.REFUSAL_NO_KEY)
        if not hmac.compare_digest(token.strip().encode(), secret.encode()):
            raise common.FeedbackError(common.REFUSAL_CREDENTIALS)
        return
    common.check_basic(headers, secret)


PROVIDER = common.secret_provider(
    CODE,
    brevo_event,
    label="Brevo (Sendinblue)",
    docs=("https://developers.brevo.com/docs/transactional-webhooks",),
    outgoing_headers=lambda message_id: {CUSTOM_HEADER: CUSTOM_PREFIX + message_id},
    check=check_credentials,
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
