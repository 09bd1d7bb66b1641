# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Delivery feedback from relay services: signed webhooks, verified and
read into events (pure Python, no ORM).

A relay service (Mailgun, SendGrid) keeps the envelope for itself and reports
what became of each mail by an HTTP POST: a bounce never comes back by mail.
This module checks that a request comes from the provider (its signature,
its age) and turns its body into :class:`DeliveryEvent` values with a kind
code; ``mail.delivery.event`` applies them through Odoo's own bounce handling.

* Mailgun (webhooks of the HTTP API): one event per request, a JSON object
  ``{"signature": {"timestamp", "token", "signature"}, "event-data": {...}}``;
  the signature is the hex HMAC-SHA256 of ``timestamp + token`` with the
  domain's HTTP webhook signing key.
* SendGrid (Event Webhook, signed): a JSON array of events; the headers
  ``X-Twilio-Email-Event-Webhook-Signature`` (base64 ECDSA P-256/SHA-256
  signature, DER) and ``X-Twilio-Email-Event-Webhook-Timestamp``; the signed
  payload is the timestamp followed by the raw body, verified with the
  base64 public key shown in SendGrid's settings.

Every refusal is a :class:`FeedbackError` with a code (``REFUSAL_*``): the
controller answers it with a 4xx and counts it.
"""

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import urllib.parse
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

PROVIDER_MAILGUN = "mailgun"
PROVIDER_SENDGRID = "sendgrid"
PROVIDERS = (PROVIDER_MAILGUN, PROVIDER_SENDGRID)

SENDGRID_SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
SENDGRID_TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"

# a request older than this is refused (a captured request replayed later);
# a timestamp this far in the future too (clocks differ a little)
MAX_AGE = 300
MAX_SKEW = 60
# the largest body accepted: SendGrid batches events, Mailgun sends one
MAX_BODY = 5 * 1024 * 1024
# a SendGrid batch with more events than this is refused
MAX_EVENTS = 10000

# what an event means for Odoo
KIND_BOUNCE = "bounce"  # permanent failure: a bounce, as by mail
KIND_COMPLAINT = "complaint"  # the recipient reported it as spam
KIND_UNSUBSCRIBE = "unsubscribe"  # the provider's unsubscribe link
KIND_DEFERRED = "deferred"  # temporary failure, the provider retries
KIND_DELIVERED = "delivered"
KINDS = (KIND_BOUNCE, KIND_COMPLAINT, KIND_UNSUBSCRIBE, KIND_DEFERRED, KIND_DELIVERED)

# why a request is refused (a 4xx, counted, nothing changed)
REFUSAL_TOO_LARGE = "too_large"
REFUSAL_NO_LENGTH = "length_required"
REFUSAL_NOT_JSON = "not_json"
REFUSAL_SHAPE = "bad_shape"
REFUSAL_SIGNATURE_MISSING = "signature_missing"
REFUSAL_SIGNATURE = "bad_signature"
REFUSAL_STALE = "stale"
REFUSAL_REPLAY = "replay"
REFUSAL_NO_KEY = "no_key"
REFUSAL_UNKNOWN_SERVER = "unknown_server"
REFUSALS = (
    REFUSAL_TOO_LARGE,
    REFUSAL_NO_LENGTH,
    REFUSAL_NOT_JSON,
    REFUSAL_SHAPE,
    REFUSAL_SIGNATURE_MISSING,
    REFUSAL_SIGNATURE,
    REFUSAL_STALE,
    REFUSAL_REPLAY,
    REFUSAL_NO_KEY,
    REFUSAL_UNKNOWN_SERVER,
)


class FeedbackError(ValueError):
    """A request refused: ``code`` is one of ``REFUSALS``."""

    def __init__(self, code, detail=""):
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {detail}" if detail else code)


@dataclass(frozen=True)
class DeliveryEvent:
    """One event of a provider: ``uid`` is the provider's id of the event
    (the same when it delivers the event again), ``message_id`` the
    Message-ID of the mail Odoo sent (``<...>``), ``recipient`` the address
    it concerns, ``reason`` the provider's words."""

    provider: str
    uid: str
    kind: str
    recipient: str
    message_id: str
    reason: str
    timestamp: float
    payload: dict


@dataclass(frozen=True)
class VerifiedRequest:
    """A request whose signature holds: ``replay_key`` identifies it (the
    Mailgun token, the SendGrid signature), so that the same request is
    accepted once; ``events`` are the events Odoo acts on, ``ignored`` how
    many it carried that change nothing (opens, clicks, ...)."""

    replay_key: str
    timestamp: float
    events: tuple
    ignored: int


def is_public_https_url(url):
    """Whether a provider on the internet can call ``url``: HTTPS, and a
    host that is neither this machine, a private or reserved address, nor
    a name without a dot (``localhost``, an intranet name)."""
    parsed = urllib.parse.urlsplit(url or "")
    host = (parsed.hostname or "").rstrip(".").lower()
    if parsed.scheme != "https" or not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." in host and not host.endswith((".localhost", ".local", ".internal"))
    return address.is_global


def check_age(timestamp, now):
    """Refuse a request signed too long ago (or too far ahead)."""
    if timestamp < now - MAX_AGE or timestamp > now + MAX_SKEW:
        raise FeedbackError(REFUSAL_STALE, f"signed at {timestamp:.0f}, now {now:.0f}")


def load_json(body):
    if len(body) > MAX_BODY:
        raise FeedbackError(REFUSAL_TOO_LARGE, f"{len(body)} bytes")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise FeedbackError(REFUSAL_NOT_JSON, str(error)[:200]) from error


def angle_message_id(value):
    """A Message-ID as Odoo stores it: ``<id@host>``."""
    value = (value or "").strip()
    if not value:
        return ""
    return value if value.startswith("<") else f"<{value}>"


def _text(value, limit=1000):
    return value[:limit] if isinstance(value, str) else ""


def _event(provider, uid, kind, recipient, message_id, reason, timestamp, payload):
    """A :class:`DeliveryEvent` from a provider's values, bounded in size; a
    timestamp that is not a number reads as 0 (its payload keeps it)."""
    try:
        timestamp = float(timestamp or 0)
    except (TypeError, ValueError):
        timestamp = 0.0
    return DeliveryEvent(
        provider=provider,
        uid=uid[:200],
        kind=kind,
        recipient=recipient.strip()[:500],
        message_id=angle_message_id(_text(message_id, 500)),
        reason=reason,
        timestamp=timestamp,
        payload=payload,
    )


# -- Mailgun ---------------------------------------------------------------


def verify_mailgun(body, signing_key, now):
    """The events of a Mailgun webhook request, or :class:`FeedbackError`."""
    if not signing_key:
        raise FeedbackError(REFUSAL_NO_KEY)
    data = load_json(body)
    if not isinstance(data, dict):
        raise FeedbackError(REFUSAL_SHAPE, "not an object")
    signature = data.get("signature")
    if not isinstance(signature, dict) or not all(
        isinstance(signature.get(key), str | int)
        for key in ("timestamp", "token", "signature")
    ):
        raise FeedbackError(REFUSAL_SIGNATURE_MISSING)
    timestamp, token = str(signature["timestamp"]), str(signature["token"])
    expected = hmac.new(
        signing_key.encode(), (timestamp + token).encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, str(signature["signature"]).lower()):
        raise FeedbackError(REFUSAL_SIGNATURE)
    try:
        signed_at = float(timestamp)
    except ValueError as error:
        raise FeedbackError(REFUSAL_SHAPE, "timestamp") from error
    check_age(signed_at, now)
    event_data = data.get("event-data")
    if not isinstance(event_data, dict) or not isinstance(event_data.get("event"), str):
        raise FeedbackError(REFUSAL_SHAPE, "event-data")
    event = mailgun_event(event_data)
    return VerifiedRequest(
        replay_key=f"{PROVIDER_MAILGUN}:{token}",
        timestamp=signed_at,
        events=(event,) if event else (),
        ignored=0 if event else 1,
    )


def mailgun_kind(event_data):
    event = event_data.get("event")
    if event == "failed":
        return (
            KIND_BOUNCE if event_data.get("severity") == "permanent" else KIND_DEFERRED
        )
    return {
        "delivered": KIND_DELIVERED,
        "complained": KIND_COMPLAINT,
        "unsubscribed": KIND_UNSUBSCRIBE,
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
        raise FeedbackError(REFUSAL_SHAPE, "id or recipient")
    if not isinstance(headers, dict):
        raise FeedbackError(REFUSAL_SHAPE, "message headers")
    status = event_data.get("delivery-status")
    # the receiving server's answer belongs to a delivery attempt: a
    # complaint or an unsubscription has none of its own
    status = (
        status
        if isinstance(status, dict)
        and kind in (KIND_BOUNCE, KIND_DEFERRED, KIND_DELIVERED)
        else {}
    )
    # Mailgun's own classification of a failure: "bounce" and "generic"
    # repeat what the kind says; the others ("suppress-bounce", "old"...)
    # say why Mailgun gave up, kept apart from the server's words
    code = (
        _text(event_data.get("reason"), 100)
        if kind in (KIND_BOUNCE, KIND_DEFERRED)
        else ""
    )
    reason = " ".join(
        part
        for part in (
            str(status.get("code") or ""),
            _text(status.get("description")) or _text(status.get("message")),
            f"(Mailgun: {code})" if code and code not in ("bounce", "generic") else "",
        )
        if part
    )
    return _event(
        PROVIDER_MAILGUN,
        uid,
        kind,
        recipient,
        headers.get("message-id"),
        reason,
        event_data.get("timestamp"),
        event_data,
    )


# -- SendGrid --------------------------------------------------------------


def load_sendgrid_key(verification_key):
    """The EC public key of SendGrid's Signed Event Webhook setting (base64
    DER, as SendGrid shows it); ``ValueError`` naming what is wrong."""
    text = "".join((verification_key or "").split())
    for marker in ("-----BEGINPUBLICKEY-----", "-----ENDPUBLICKEY-----"):
        text = text.replace(marker, "")
    try:
        key = load_der_public_key(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError) as error:
        raise ValueError("not a base64 DER public key") from error
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("not an elliptic-curve (ECDSA) key")
    return key


def verify_sendgrid(body, headers, verification_key, now):
    """The events of a SendGrid Event Webhook request (signed), or
    :class:`FeedbackError`. ``headers`` maps header names (any case)."""
    if not verification_key:
        raise FeedbackError(REFUSAL_NO_KEY)
    if len(body) > MAX_BODY:
        raise FeedbackError(REFUSAL_TOO_LARGE, f"{len(body)} bytes")
    signature = headers.get(SENDGRID_SIGNATURE_HEADER)
    timestamp = headers.get(SENDGRID_TIMESTAMP_HEADER)
    if not signature or not timestamp:
        raise FeedbackError(REFUSAL_SIGNATURE_MISSING)
    try:
        key = load_sendgrid_key(verification_key)
    except ValueError as error:
        raise FeedbackError(REFUSAL_NO_KEY, str(error)) from error
    try:
        key.verify(
            base64.b64decode(signature, validate=True),
            timestamp.encode() + body,
            ec.ECDSA(hashes.SHA256()),
        )
    except (binascii.Error, ValueError, InvalidSignature) as error:
        raise FeedbackError(REFUSAL_SIGNATURE) from error
    try:
        signed_at = float(timestamp)
    except ValueError as error:
        raise FeedbackError(REFUSAL_SHAPE, "timestamp") from error
    check_age(signed_at, now)
    data = load_json(body)
    if not isinstance(data, list) or len(data) > MAX_EVENTS:
        raise FeedbackError(REFUSAL_SHAPE, "not a list of events")
    events, ignored = [], 0
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("event"), str):
            raise FeedbackError(REFUSAL_SHAPE, "an event is not an object")
        event = sendgrid_event(item)
        if event:
            events.append(event)
        else:
            ignored += 1
    return VerifiedRequest(
        replay_key=f"{PROVIDER_SENDGRID}:"
        + hashlib.sha256(signature.encode()).hexdigest(),
        timestamp=signed_at,
        events=tuple(events),
        ignored=ignored,
    )


# SendGrid's reasons for dropping a mail it will not try to send
_SENDGRID_DROPPED = {
    "bounced address": KIND_BOUNCE,
    "invalid": KIND_BOUNCE,
    "invalid smtpapi header": None,
    "spam reporting address": KIND_COMPLAINT,
    "unsubscribed address": KIND_UNSUBSCRIBE,
}


def sendgrid_kind(item):
    event = item.get("event")
    if event == "bounce":
        # "blocked": the receiving server refused it for now (reputation,
        # content); only a "bounce" is a dead address
        return KIND_DEFERRED if item.get("type") == "blocked" else KIND_BOUNCE
    if event == "dropped":
        return _SENDGRID_DROPPED.get(str(item.get("reason") or "").lower())
    return {
        "delivered": KIND_DELIVERED,
        "deferred": KIND_DEFERRED,
        "spamreport": KIND_COMPLAINT,
        "unsubscribe": KIND_UNSUBSCRIBE,
        "group_unsubscribe": KIND_UNSUBSCRIBE,
    }.get(event)


def sendgrid_event(item):
    """The :class:`DeliveryEvent` of one SendGrid event, or ``None`` for an
    event that changes nothing in Odoo (processed, open, click...)."""
    kind = sendgrid_kind(item)
    if not kind:
        return None
    uid, recipient = item.get("sg_event_id"), item.get("email")
    if not (isinstance(uid, str) and uid and isinstance(recipient, str)):
        raise FeedbackError(REFUSAL_SHAPE, "sg_event_id or email")
    reason = " ".join(
        part
        for part in (_text(item.get("status"), 20), _text(item.get("reason")))
        if part
    ) or _text(item.get("response"))
    return _event(
        PROVIDER_SENDGRID,
        uid,
        kind,
        recipient,
        item.get("smtp-id"),
        reason,
        item.get("timestamp"),
        item,
    )
