# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What every provider of delivery feedback shares (pure Python, no ORM):
the common event, refusal codes, the :class:`Provider` description each
provider file fills in, and small helpers (body, age, credentials).

A relay service keeps the envelope for itself and reports what became of
each mail by an HTTP POST: a bounce never comes back by mail. A provider
file (``providers/<name>.py``) checks that a request comes from the provider
(its signature, or the shared secret it was given) and turns its body into
:class:`DeliveryEvent` values with a kind code; ``mail.delivery.event``
applies them through Odoo's own bounce handling.

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
from collections.abc import Callable
from dataclasses import dataclass, field

# a request older than this is refused (a captured request replayed later);
# a timestamp this far in the future too (clocks differ a little)
MAX_AGE = 300
MAX_SKEW = 60
# the largest body accepted: SendGrid batches events, Mailgun sends one
MAX_BODY = 5 * 1024 * 1024
# a batch (SendGrid, Mailjet, Brevo) with more events than this is refused
MAX_EVENTS = 10000
# the user name of the HTTP Basic credentials Odoo generates for a server
BASIC_USER = "odoo"

# what a provider can prove about a request (the README's table)
PROOF_SIGNATURE = "signature"  # signed with a key only the provider holds
PROOF_SECRET = "secret"  # a shared secret Odoo generated, sent back by it

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
REFUSAL_CREDENTIALS = "bad_credentials"
REFUSAL_CERT_URL = "cert_url"
REFUSAL_CERT_UNAVAILABLE = "cert_unavailable"
REFUSAL_TOPIC = "wrong_topic"
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
    REFUSAL_CREDENTIALS,
    REFUSAL_CERT_URL,
    REFUSAL_CERT_UNAVAILABLE,
    REFUSAL_TOPIC,
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
    # Amazon SNS: the URL that confirms a subscription (shown to the admin)
    subscribe_url: str = ""


@dataclass(frozen=True)
class WebhookRequest:
    """What a provider file sees of a request: the raw body (its length
    already checked against ``MAX_BODY``), the headers (any case), the
    server's key (pasted by the admin: signing key, public key, topic) and
    the secret Odoo generated for the server (Basic password, token)."""

    body: bytes
    headers: object
    key: str
    secret: str


@dataclass(frozen=True)
class Provider:
    """One provider of the registry (``providers/<code>.py``).

    ``verify(request, now)`` returns a :class:`VerifiedRequest` or raises
    :class:`FeedbackError`; ``outgoing_headers(message_id)`` the headers Odoo
    adds to a mail sent through a server of this provider so that its events
    find the mail (the provider reports its own ids); ``check_key(key)``
    raises ``ValueError`` naming what is wrong with a key the admin typed.
    ``proof`` says what a request can prove (``PROOF_*``); ``key_label`` is
    what the admin pastes in the key field (empty: no key, Odoo's generated
    secret is the proof); ``basic_auth``: the URL carries Basic credentials;
    ``setup_steps``: the steps the server form shows, as ``_lt`` texts.
    """

    code: str
    label: str
    proof: str
    verify: Callable
    docs: tuple
    key_label: str = ""
    basic_auth: bool = False
    outgoing_headers: Callable = field(default=lambda message_id: {})
    check_key: Callable = field(default=lambda key: None)
    setup_steps: tuple = ()


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


def check_age(timestamp, now, max_age=MAX_AGE):
    """Refuse a request signed too long ago (or too far ahead)."""
    if timestamp < now - max_age or timestamp > now + MAX_SKEW:
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


def text(value, limit=1000):
    return value[:limit] if isinstance(value, str) else ""


def make_event(provider, uid, kind, recipient, message_id, reason, timestamp, payload):
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
        message_id=angle_message_id(text(message_id, 500)),
        reason=reason,
        timestamp=timestamp,
        payload=payload,
    )


def failure_kind(permanent):
    """A failed delivery: a bounce when the provider says it is permanent,
    else deferred (the provider tries again)."""
    return KIND_BOUNCE if permanent else KIND_DEFERRED


def words(*parts, separator=" "):
    """A provider's words about an event: its non-empty parts, joined."""
    return separator.join(part for part in parts if part)


def event_uid(*parts):
    """An id for an event whose provider gives none (Postmark's deliveries,
    Brevo, Mailjet): the same fields always give the same id, so that a
    retried event is kept once."""
    return hashlib.sha256(
        "\x1f".join(str(part) for part in parts).encode()
    ).hexdigest()[:40]


def check_basic(headers, secret):
    """Refuse a request without Odoo's Basic credentials for the server
    (user ``odoo``, the generated password), compared in constant time."""
    if not secret:
        raise FeedbackError(REFUSAL_NO_KEY)
    authorization = headers.get("Authorization") or ""
    scheme, _space, value = authorization.partition(" ")
    if scheme.lower() != "basic" or not value:
        raise FeedbackError(REFUSAL_SIGNATURE_MISSING, "no Basic credentials")
    try:
        given = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as error:
        raise FeedbackError(REFUSAL_CREDENTIALS, "not base64") from error
    if not hmac.compare_digest(given, f"{BASIC_USER}:{secret}".encode()):
        raise FeedbackError(REFUSAL_CREDENTIALS)


def json_events(body, kind_key=""):
    """A JSON body of one event (an object) or a batch (a list of
    objects), as a list; ``FeedbackError`` for anything else, or for an
    event whose ``kind_key`` (when given) is not a string."""
    data = load_json(body)
    items = data if isinstance(data, list) else [data]
    if not items or len(items) > MAX_EVENTS:
        raise FeedbackError(REFUSAL_SHAPE, "no events, or too many")
    if not all(isinstance(item, dict) for item in items):
        raise FeedbackError(REFUSAL_SHAPE, "an event is not an object")
    if kind_key and not all(isinstance(item.get(kind_key), str) for item in items):
        raise FeedbackError(REFUSAL_SHAPE, kind_key)
    return items


def batch_events(body):
    """The events of a batch whose items name their event in ``event``
    (Brevo, Mailjet)."""
    return json_events(body, kind_key="event")


def secret_provider(
    code, to_event, read_items=batch_events, check=check_basic, **fields
):
    """The :class:`Provider` of a service that signs nothing (Brevo,
    Mailjet, Postmark): a request proves only that its sender knows the URL
    and the secret Odoo generated for the server, which ``check(headers,
    secret)`` compares; ``read_items(body)`` gives the events of the body,
    each turned into a :class:`DeliveryEvent` by ``to_event``. ``fields``:
    the rest of the :class:`Provider` (label, docs, headers, steps)."""

    def verify(request, now):
        check(request.headers, request.secret)
        return collect(code, read_items(request.body), to_event, timestamp=now)

    return Provider(
        code=code, proof=PROOF_SECRET, verify=verify, basic_auth=True, **fields
    )


def collect(provider, items, to_event, replay_key="", timestamp=0.0):
    """A :class:`VerifiedRequest` of the events ``to_event`` makes of
    ``items`` (``None``: an event that changes nothing in Odoo)."""
    events, ignored = [], 0
    for item in items:
        event = to_event(item)
        if event:
            events.append(event)
        else:
            ignored += 1
    return VerifiedRequest(
        replay_key=replay_key,
        timestamp=timestamp,
        events=tuple(events),
        ignored=ignored,
    )
