# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""SendGrid's Event Webhook, signed (ECDSA P-256 / SHA-256).

Documentation: https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
and https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event

A JSON array of events; the headers ``X-Twilio-Email-Event-Webhook-Signature``
(base64 DER ECDSA signature) and ``X-Twilio-Email-Event-Webhook-Timestamp``;
the signed payload is the timestamp followed by the raw body, verified with
the base64 public key shown in SendGrid's settings. ``smtp-id`` is the mail's
Message-ID.
"""

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from odoo.tools.translate import LazyTranslate

from .. import common

_lt = LazyTranslate(__name__)

CODE = "sendgrid"
SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"


def load_sendgrid_key(verification_key):
    """The EC public key of SendGrid's Signed Event Webhook setting (base64
    DER, as SendGrid shows it); ``ValueError`` naming what is wrong."""
    text_key = "".join((verification_key or "").split())
    for marker in ("-----BEGINPUBLICKEY-----", "-----ENDPUBLICKEY-----"):
        text_key = text_key.replace(marker, "")
    try:
        key = load_der_public_key(base64.b64decode(text_key, validate=True))
    except (binascii.Error, ValueError) as error:
        raise ValueError("not a base64 DER public key") from error
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("not an elliptic-curve (ECDSA) key")
    return key


def verify_sendgrid(body, headers, verification_key, now):
    """The events of a SendGrid Event Webhook request (signed), or
    :class:`FeedbackError`. ``headers`` maps header names (any case)."""
    if not verification_key:
        raise common.FeedbackError(common.REFUSAL_NO_KEY)
    if len(body) > common.MAX_BODY:
        raise common.FeedbackError(common.REFUSAL_TOO_LARGE, f"{len(body)} bytes")
    signature = headers.get(SIGNATURE_HEADER)
    timestamp = headers.get(TIMESTAMP_HEADER)
    if not signature or not timestamp:
        raise common.FeedbackError(common.REFUSAL_SIGNATURE_MISSING)
    try:
        key = load_sendgrid_key(verification_key)
    except ValueError as error:
        raise common.FeedbackError(common.REFUSAL_NO_KEY, str(error)) from error
    try:
        key.verify(
            base64.b64decode(signature, validate=True),
            timestamp.encode() + body,
            ec.ECDSA(hashes.SHA256()),
        )
    except (binascii.Error, ValueError, InvalidSignature) as error:
        raise common.FeedbackError(common.REFUSAL_SIGNATURE) from error
    try:
        signed_at = float(timestamp)
    except ValueError as error:
        raise common.FeedbackError(common.REFUSAL_SHAPE, "timestamp") from error
    common.check_age(signed_at, now)
    data = common.load_json(body)
    if not isinstance(data, list) or len(data) > common.MAX_EVENTS:
        raise common.FeedbackError(common.REFUSAL_SHAPE, "not a list of events")
    if not all(
        isinstance(item, dict) and isinstance(item.get("event"), str) for item in data
    ):
        raise common.FeedbackError(common.REFUSAL_SHAPE, "an event is not an object")
    return common.collect(
        CODE,
        data,
        sendgrid_event,
        replay_key=f"{CODE}:" + hashlib.sha256(signature.encode()).hexdigest(),
        timestamp=signed_at,
    )


# SendGrid's reasons for dropping a mail it will not try to send
_DROPPED = {
    "bounced address": common.KIND_BOUNCE,
    "invalid": common.KIND_BOUNCE,
    "invalid smtpapi header": None,
    "spam reporting address": common.KIND_COMPLAINT,
    "unsubscribed address": common.KIND_UNSUBSCRIBE,
}


def sendgrid_kind(item):
    event = item.get("event")
    if event == "bounce":
        # "blocked": the receiving server refused it for now (reputation,
        # content); only a "bounce" is a dead address
        return common.failure_kind(item.get("type") != "blocked")
    if event == "dropped":
        return _DROPPED.get(str(item.get("reason") or "").lower())
    return {
        "delivered": common.KIND_DELIVERED,
        "deferred": common.KIND_DEFERRED,
        "spamreport": common.KIND_COMPLAINT,
        "unsubscribe": common.KIND_UNSUBSCRIBE,
        "group_unsubscribe": common.KIND_UNSUBSCRIBE,
    }.get(event)


def sendgrid_event(item):
    """The :class:`DeliveryEvent` of one SendGrid event, or ``None`` for an
    event that changes nothing in Odoo (processed, open, click...)."""
    kind = sendgrid_kind(item)
    if not kind:
        return None
    uid, recipient = item.get("sg_event_id"), item.get("email")
    if not (isinstance(uid, str) and uid and isinstance(recipient, str)):
        raise common.FeedbackError(common.REFUSAL_SHAPE, "sg_event_id or email")
    reason = common.words(
        common.text(item.get("status"), 20), common.text(item.get("reason"))
    ) or common.text(item.get("response"))
    message_id = item.get("smtp-id")
    return common.make_event(
        CODE, uid, kind, recipient, message_id, reason, item.get("timestamp"), item
    )


PROVIDER = common.Provider(
    code=CODE,
    label="SendGrid",
    proof=common.PROOF_SIGNATURE,
    verify=lambda request, now: verify_sendgrid(
        request.body, request.headers, request.key, now
    ),
    docs=(
        "https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/"
        "getting-started-event-webhook-security-features",
    ),
    key_label="Verification key of the Signed Event Webhook",
    check_key=load_sendgrid_key,
    setup_steps=(
        _lt("In SendGrid, open Settings > Mail Settings > Event Webhook."),
        _lt(
            "Set the Webhook URL below as Post URL, tick Bounced, Dropped, "
            "Deferred, Delivered, Spam reports and Unsubscribes, and "
            "enable Signed Event Webhook."
        ),
        _lt("Copy its verification key (base64) into Webhook signing key."),
    ),
)
