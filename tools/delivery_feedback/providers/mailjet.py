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

from .. import common

_lt = LazyTranslate(__name__)

CODE = "mailjet"
CUSTOM_ID_HEADER = "X-MJ-CustomID"


def _kind(item):
    event = item.get("event")
    if event == "bounce":
        return common.failure_kind(item.get("hard_bounce") is True)
    return {
        # Mailjet did not send it (preblocked address, duplicate, spam...)
        "blocked": common.KIND_BOUNCE,
        "spam": common.KIND_COMPLAINT,
        "unsub": common.KIND_UNSUBSCRIBE,
        "sent": common.KIND_DELIVERED,
    }.get(event)


def mailjet_event(item):
    kind = _kind(item)
    if not kind:
        return None  # open, click
    recipient = item.get("email")
    message = item.get("MessageID") or item.get("Message_GUID")
    if not (isinstance(recipient, str) and message):
        raise common.FeedbackError(common.REFUSAL_SHAPE, "email or MessageID")
    reason = common.words(
        common.text(item.get("error_related_to"), 100),
        common.text(item.get("error"), 500),
        common.text(item.get("smtp_reply"), 500),
    )
    when = item.get("time")
    return common.make_event(
        CODE,
        common.event_uid(item.get("event"), message, recipient, when),
        kind,
        recipient,
        item.get("CustomID"),
        reason if kind in (common.KIND_BOUNCE, common.KIND_DEFERRED) else "",
        when,
        item,
    )


PROVIDER = common.secret_provider(
    CODE,
    mailjet_event,
    label="Mailjet",
    docs=("https://dev.mailjet.com/email/guides/webhooks/",),
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
