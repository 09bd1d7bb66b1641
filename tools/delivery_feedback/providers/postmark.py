# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Postmark webhooks: bounce, spam complaint, subscription change, delivery.

Documentation: https://postmarkapp.com/developer/webhooks/webhooks-overview
(HTTP Basic credentials in the webhook URL), the payloads at
https://postmarkapp.com/developer/webhooks/bounce-webhook,
https://postmarkapp.com/developer/webhooks/spam-complaint-webhook,
https://postmarkapp.com/developer/webhooks/subscription-change-webhook,
https://postmarkapp.com/developer/webhooks/delivery-webhook, and metadata
sent through SMTP (``X-PM-Metadata-<key>`` headers) at
https://postmarkapp.com/developer/user-guide/send-email-with-smtp.

Postmark signs nothing: a request proves only that its sender knows the URL
and the Basic credentials Odoo generated for the server. One event per
request (``RecordType``). Postmark reports its own ``MessageID``; Odoo sends
the mail's Message-ID as metadata (``X-PM-Metadata-odoo-message-id``),
which every event carries back in ``Metadata``.
"""

import datetime

from odoo.tools.translate import LazyTranslate

from .. import common

_lt = LazyTranslate(__name__)

CODE = "postmark"
METADATA_KEY = "odoo-message-id"
METADATA_HEADER = f"X-PM-Metadata-{METADATA_KEY}"

# bounce types (Type) that say the address is dead, and those that say
# delivery failed for now; the rest (AutoResponder, Subscribe, OpenRelayTest,
# ChallengeVerification...) change nothing
_PERMANENT = {
    "HardBounce",
    "BadEmailAddress",
    "ManuallyDeactivated",
    "Blocked",
    "DMARCPolicy",
}
_TEMPORARY = {"SoftBounce", "Transient", "DnsError", "Unknown"}


def _kind(item):
    record_type = item.get("RecordType")
    if record_type == "Bounce":
        bounce_type = item.get("Type")
        if bounce_type in _PERMANENT:
            return common.KIND_BOUNCE
        if bounce_type in _TEMPORARY:
            return common.KIND_DEFERRED
        if bounce_type == "Unsubscribe":
            return common.KIND_UNSUBSCRIBE
        if bounce_type == "SpamComplaint":
            return common.KIND_COMPLAINT
        return None
    if record_type == "SpamComplaint":
        return common.KIND_COMPLAINT
    if record_type == "Delivery":
        return common.KIND_DELIVERED
    if record_type == "SubscriptionChange":
        # a recipient's own unsubscription; a suppression for a hard bounce
        # or a complaint comes with its own Bounce/SpamComplaint event, and a
        # reactivation changes nothing here
        if (
            item.get("SuppressSending") is True
            and item.get("SuppressionReason") == "ManualSuppression"
        ):
            return common.KIND_UNSUBSCRIBE
        return None
    return None


def postmark_event(item):
    kind = _kind(item)
    if not kind:
        return None
    record_type = item.get("RecordType")
    recipient = item.get("Email") or item.get("Recipient")
    message = item.get("MessageID")
    if not (isinstance(recipient, str) and isinstance(message, str) and message):
        raise common.FeedbackError(common.REFUSAL_SHAPE, "MessageID or recipient")
    if record_type in ("Bounce", "SpamComplaint"):
        if not isinstance(item.get("ID"), int | str) or item.get("ID") in ("", None):
            raise common.FeedbackError(common.REFUSAL_SHAPE, "ID")
        uid = f"{record_type}:{item['ID']}"
        when = item.get("BouncedAt")
    else:
        # deliveries and subscription changes have no id of their own
        when = item.get("DeliveredAt") or item.get("ChangedAt")
        uid = f"{record_type}:" + common.event_uid(
            message, recipient, when, item.get("SuppressSending")
        )
    metadata = item.get("Metadata")
    message_id = metadata.get(METADATA_KEY) if isinstance(metadata, dict) else None
    reason = (
        common.words(
            common.text(item.get("Name"), 100),
            common.text(item.get("Details")) or common.text(item.get("Description")),
        )
        if kind in (common.KIND_BOUNCE, common.KIND_DEFERRED)
        else ""
    )
    return common.make_event(
        CODE, uid, kind, recipient, message_id, reason, _timestamp(when), item
    )


def _timestamp(value):
    """Postmark's ISO 8601 dates (``2019-11-05T16:33:54.9070259Z``, with
    seven decimals or an offset) as epoch seconds; 0 when unreadable."""
    if not isinstance(value, str) or len(value) < 19:
        return 0
    head, tail = value[:19], value[19:]
    offset = tail.lstrip("0123456789.")
    try:
        moment = datetime.datetime.fromisoformat(head + (offset or "+00:00"))
    except ValueError:
        return 0
    return moment.timestamp()


def postmark_record(body):
    """The one event of a request, in a list."""
    data = common.load_json(body)
    if not isinstance(data, dict) or not isinstance(data.get("RecordType"), str):
        raise common.FeedbackError(common.REFUSAL_SHAPE, "RecordType")
    return [data]


PROVIDER = common.secret_provider(
    CODE,
    postmark_event,
    label="Postmark",
    docs=("https://postmarkapp.com/developer/webhooks/webhooks-overview",),
    read_items=postmark_record,
    outgoing_headers=lambda message_id: {METADATA_HEADER: message_id},
    setup_steps=(
        _lt(
            "In Postmark, open the server's message stream > Webhooks > " "Add webhook."
        ),
        _lt(
            "Paste the Webhook URL below: it carries the credentials Odoo "
            "generated for this server (Postmark sends them as HTTP Basic "
            "authentication)."
        ),
        _lt(
            "Tick Bounce, Spam complaint, Subscription change and "
            "Delivery. Odoo sends each mail's Message-ID as metadata "
            "(X-PM-Metadata-odoo-message-id): no key to paste."
        ),
    ),
)
