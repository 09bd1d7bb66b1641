# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Mailgun webhooks (HTTP API), signed with the domain's webhook signing key.

Documentation: https://documentation.mailgun.com/docs/mailgun/user-manual/tracking-messages/#securing-webhooks
and https://documentation.mailgun.com/docs/mailgun/user-manual/events/webhooks/

One event per request, a JSON object ``{"signature": {"timestamp", "token",
"signature"}, "event-data": {...}}``; the signature is the hex HMAC-SHA256 of
``timestamp + token`` with the signing key. Mailgun keeps the mail's
Message-ID (``event-data.message.headers.message-id``).
"""

import hashlib
import hmac

from odoo.tools.translate import LazyTranslate

from .. import common

_lt = LazyTranslate(__name__)

CODE = "mailgun"


def verify_mailgun(body, signing_key, now):
    """The events of a Mailgun webhook request, or :class:`FeedbackError`."""
    if not signing_key:
        raise common.FeedbackError(common.REFUSAL_NO_KEY)
    data = common.load_json(body)
    if not isinstance(data, dict):
        raise common.FeedbackError(common.REFUSAL_SHAPE, "not an object")
    signature = data.get("signature")
    if not isinstance(signature, dict) or not all(
        isinstance(signature.get(key), str | int)
        for key in ("timestamp", "token", "signature")
    ):
        raise common.FeedbackError(common.REFUSAL_SIGNATURE_MISSING)
    timestamp, token = str(signature["timestamp"]), str(signature["token"])
    expected = hmac.new(
        signing_key.encode(), (timestamp + token).encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, str(signature["signature"]).lower()):
        raise common.FeedbackError(common.REFUSAL_SIGNATURE)
    try:
        signed_at = float(timestamp)
    except ValueError as error:
        raise common.FeedbackError(common.REFUSAL_SHAPE, "timestamp") from error
    common.check_age(signed_at, now)
    event_data = data.get("event-data")
    if not isinstance(event_data, dict) or not isinstance(event_data.get("event"), str):
        raise common.FeedbackError(common.REFUSAL_SHAPE, "event-data")
    event = mailgun_event(event_data)
    return common.VerifiedRequest(
        replay_key=f"{CODE}:{token}",
        timestamp=signed_at,
        events=(event,) if event else (),
        ignored=0 if event else 1,
    )


def mailgun_kind(event_data):
    event = event_data.get("event")
    if event == "failed":
        return common.failure_kind(event_data.get("severity") == "permanent")
    return {
        "delivered": common.KIND_DELIVERED,
        "complained": common.KIND_COMPLAINT,
        "unsubscribed": common.KIND_UNSUBSCRIBE,
    }.get(event)


def mailgun_event(event_data):
    """The :class:`DeliveryEvent` of Mailgun's ``event-data``, or ``None`` for
    an event that changes nothing in Odoo (accepted, opened, clicked...)."""
    kind = mailgun_kind(event_data)
    if not kind:
        return None
    uid = event_data.get("id")
    recipient = event_data.get("recipient")
    message = event_data.get("message")
    headers = message.get("headers") if isinstance(message, dict) else None
    if not (isinstance(uid, str) and uid and isinstance(recipient, str)):
        raise common.FeedbackError(common.REFUSAL_SHAPE, "id or recipient")
    if not isinstance(headers, dict):
        raise common.FeedbackError(common.REFUSAL_SHAPE, "message headers")
    status = event_data.get("delivery-status")
    # the receiving server's answer belongs to a delivery attempt: a
    # complaint or an unsubscription has none of its own
    status = (
        status
        if isinstance(status, dict)
        and kind in (common.KIND_BOUNCE, common.KIND_DEFERRED, common.KIND_DELIVERED)
        else {}
    )
    # Mailgun's own classification of a failure: "bounce" and "generic"
    # repeat what the kind says; the others ("suppress-bounce", "old"...)
    # say why Mailgun gave up, kept apart from the server's words
    code = (
        common.text(event_data.get("reason"), 100)
        if kind in (common.KIND_BOUNCE, common.KIND_DEFERRED)
        else ""
    )
    reason = common.words(
        str(status.get("code") or ""),
        common.text(status.get("description")) or common.text(status.get("message")),
        f"(Mailgun: {code})" if code and code not in ("bounce", "generic") else "",
    )
    message_id, when = headers.get("message-id"), event_data.get("timestamp")
    return common.make_event(
        CODE, uid, kind, recipient, message_id, reason, when, event_data
    )


PROVIDER = common.Provider(
    code=CODE,
    label="Mailgun",
    proof=common.PROOF_SIGNATURE,
    verify=lambda request, now: verify_mailgun(request.body, request.key, now),
    docs=(
        "https://documentation.mailgun.com/docs/mailgun/user-manual/"
        "tracking-messages/#securing-webhooks",
    ),
    key_label="HTTP webhook signing key",
    setup_steps=(
        _lt("In Mailgun, open Sending > Webhooks of the sending domain."),
        _lt(
            "Add the Webhook URL below for the events Permanent failure, "
            "Temporary failure, Spam complaints, Unsubscribes and "
            "Delivered."
        ),
        _lt(
            "Copy the HTTP webhook signing key shown there into Webhook " "signing key."
        ),
    ),
)
