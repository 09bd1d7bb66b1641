# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Mailjet's Event API (event tracking webhooks).

Documentation: https://dev.mailjet.com/email/guides/webhooks/ (events,
payloads, Basic credentials in the URL, grouped events), and the
``X-MJ-CustomID`` header of mail sent through Mailjet's SMTP relay:
https://dev.mailjet.com/smtp-relay/custom-headers/.

Mailjet signs nothing: a request proves only that its sender knows the URL
and the Basic credentials Odoo generated for the server. One event a request,
or a list when "group events" is on. Mailjet reports its own ``MessageID``;
Odoo sends the mail's Message-ID as ``X-MJ-CustomID``, returned as
``CustomID``. An event has no id: the event, Mailjet's message, the
recipient and the time make one.
"""

from odoo.tools.translate import LazyTranslate

from ..common import (
    KIND_BOUNCE,
    KIND_COMPLAINT,
    KIND_DEFERRED,
    KIND_DELIVERED,
    KIND_UNSUBSCRIBE,
    PROOF_SECRET,
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

CODE = "mailjet"
CUSTOM_ID_HEADER = "X-MJ-CustomID"


def _kind(item):
    event = item.get("event")
    if event == "bounce":
        return KIND_BOUNCE if item.get("hard_bounce") is True else KIND_DEFERRED
    return {
        # Mailjet did not send it (preblocked address, duplicate, spam...)
        "blocked": KIND_BOUNCE,
        "spam": KIND_COMPLAINT,
        "unsub": KIND_UNSUBSCRIBE,
        "sent": KIND_DELIVERED,
    }.get(event)


def mailjet_event(item):
    kind = _kind(item)
    if not kind:
        return None  # open, click
    recipient = item.get("email")
    message = item.get("MessageID") or item.get("Message_GUID")
    if not (isinstance(recipient, str) and message):
        raise FeedbackError(REFUSAL_SHAPE, "email or MessageID")
    reason = " ".join(
        part
        for part in (
            text(item.get("error_related_to"), 100),
            text(item.get("error"), 500),
            text(item.get("smtp_reply"), 500),
        )
        if part
    )
    return make_event(
        CODE,
        event_uid(item.get("event"), message, recipient, item.get("time")),
        kind,
        recipient,
        item.get("CustomID"),
        reason if kind in (KIND_BOUNCE, KIND_DEFERRED) else "",
        item.get("time"),
        item,
    )


def verify_mailjet(request, now):
    check_basic(request.headers, request.secret)
    items = json_events(request.body, kind_key="event")
    return collect(CODE, items, mailjet_event, timestamp=now)


PROVIDER = Provider(
    code=CODE,
    label="Mailjet",
    proof=PROOF_SECRET,
    verify=verify_mailjet,
    docs=("https://dev.mailjet.com/email/guides/webhooks/",),
    basic_auth=True,
    outgoing_headers=lambda message_id: {CUSTOM_ID_HEADER: message_id},
    setup_steps=(
        _lt("In Mailjet, open Account settings > Event tracking (triggers)."),
        _lt(
            "Paste the Webhook URL below (it carries Odoo's credentials) "
            "for the events Sent, Bounce, Blocked, Spam and Unsub; "
            "grouping events is fine."
        ),
        _lt("Odoo sends each mail's Message-ID as X-MJ-CustomID: no key " "to paste."),
    ),
)
