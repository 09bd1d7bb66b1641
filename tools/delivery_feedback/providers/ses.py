# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Amazon SES notifications through an Amazon SNS HTTPS subscription.

Documentation: SNS message signatures
https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
(the canonical string per message type, SignatureVersion 1 = SHA1withRSA and
2 = SHA256withRSA, the certificate at ``SigningCertURL``), the HTTPS
endpoint's messages
https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html
and https://docs.aws.amazon.com/sns/latest/dg/SendMessageToHttp.prepare.html
(``SubscriptionConfirmation``, ``SubscribeURL``), and SES's notification
contents https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html
(``notificationType`` Bounce / Complaint / Delivery, ``bounceType``
Permanent / Transient / Undetermined, ``mail.headers``).

SNS signs every message with a key whose certificate it publishes on
``https://sns.<region>.amazonaws.com/...pem``: a request proves it comes from
SNS, and the pinned ``TopicArn`` (the server's key) that it is this
database's topic. The certificate is fetched from that host pattern only
(HTTPS, a path ending in ``.pem``) and kept in memory. SNS retries a
message with the same ``MessageId``: events are kept once by their ids.
SES writes its own Message-ID on the mail; Odoo sends the mail's own as
``X-Odoo-Message-ID``, found in ``mail.headers`` (SES's "Include original
headers"), else ``mail.commonHeaders.messageId``.
"""

import base64
import binascii
import datetime
import json
import re
import threading
import urllib.parse
import urllib.request

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from odoo.tools.translate import LazyTranslate

from .. import common

_lt = LazyTranslate(__name__)

CODE = "ses"
ODOO_HEADER = "X-Odoo-Message-ID"
# SNS retries a message for up to an hour with its first Timestamp and
# signature (its delivery policy); older ones are refused
MAX_AGE = 3600
MAX_CERTIFICATE = 16 * 1024
CERTIFICATE_TIMEOUT = 5
HOST_PATTERN = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
TOPIC_PATTERN = re.compile(
    r"^arn:aws(-cn|-us-gov)?:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$"
)

# the fields signed, in this order, per message type (both confirmations
# sign the same ones)
_CONFIRMATION_FIELDS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)
SIGNED_FIELDS = {
    "Notification": (
        "Message",
        "MessageId",
        "Subject",
        "Timestamp",
        "TopicArn",
        "Type",
    ),
    "SubscriptionConfirmation": _CONFIRMATION_FIELDS,
    "UnsubscribeConfirmation": _CONFIRMATION_FIELDS,
}
HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}

# certificate URL -> public key; filled by fetch_certificate (tests put
# their own certificate here under an SNS-shaped URL)
CERTIFICATES = {}
MAX_CACHED = 32
_CERTIFICATES_LOCK = threading.Lock()


def check_sns_url(url, suffix=""):
    """``ValueError`` unless ``url`` is HTTPS on an SNS host
    (``sns.<region>.amazonaws.com``, or its ``.com.cn`` twin), and its path
    ends with ``suffix``."""
    parsed = urllib.parse.urlsplit(url or "")
    if parsed.scheme != "https" or parsed.port not in (None, 443):
        raise ValueError("not an https URL")
    if parsed.username or parsed.password:
        raise ValueError("credentials in the URL")
    if not HOST_PATTERN.match(parsed.hostname or ""):
        raise ValueError(f"not an Amazon SNS host: {parsed.hostname}")
    if suffix and not parsed.path.endswith(suffix):
        raise ValueError(f"the path does not end with {suffix}")


def check_topic_arn(value):
    if not TOPIC_PATTERN.match((value or "").strip()):
        raise ValueError("not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)")


def fetch(url, limit=MAX_CERTIFICATE, check=None):
    """GET ``url`` (checked by ``check``, by default :func:`check_sns_url`),
    at most ``limit`` bytes."""
    (check or check_sns_url)(url)
    with urllib.request.urlopen(  # noqa: S310 - an https SNS URL, checked above
        url, timeout=CERTIFICATE_TIMEOUT
    ) as response:
        data = response.read(limit + 1)
    if len(data) > limit:
        raise ValueError("answer too large")
    return data


def load_certificate(pem):
    """The RSA public key of a PEM certificate; ``ValueError`` otherwise."""
    key = x509.load_pem_x509_certificate(pem).public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA key")
    return key


def fetch_certificate(url):
    """The RSA public key of the certificate at ``url``, from the cache or
    fetched once from an SNS host; :class:`FeedbackError` otherwise."""
    try:
        check_sns_url(url, ".pem")
    except ValueError as error:
        raise common.FeedbackError(common.REFUSAL_CERT_URL, str(error)) from error
    key = CERTIFICATES.get(url)
    if key is not None:
        return key
    with _CERTIFICATES_LOCK:
        key = CERTIFICATES.get(url)
        if key is None:
            try:
                key = load_certificate(fetch(url))
            except (OSError, ValueError) as error:
                raise common.FeedbackError(
                    common.REFUSAL_CERT_UNAVAILABLE, str(error)[:200]
                ) from error
            if len(CERTIFICATES) >= MAX_CACHED:
                CERTIFICATES.clear()  # SNS rotates its certificates rarely
            CERTIFICATES[url] = key
    return key


def canonical_string(message):
    """The bytes SNS signs: ``name\\nvalue\\n`` for each signed field present
    (``Subject`` only when the notification has one)."""
    fields = SIGNED_FIELDS.get(message.get("Type"))
    if not fields:
        raise common.FeedbackError(common.REFUSAL_SHAPE, "Type")
    parts = []
    for name in fields:
        value = message.get(name)
        if value is None and name == "Subject":
            continue
        if not isinstance(value, str):
            raise common.FeedbackError(common.REFUSAL_SHAPE, name)
        parts.append(f"{name}\n{value}\n")
    return "".join(parts).encode()


def verify_signature(message):
    version = HASHES.get(str(message.get("SignatureVersion")))
    signature = message.get("Signature")
    if not version or not isinstance(signature, str):
        raise common.FeedbackError(common.REFUSAL_SIGNATURE_MISSING)
    signed = canonical_string(message)
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError) as error:
        raise common.FeedbackError(common.REFUSAL_SIGNATURE, "not base64") from error
    key = fetch_certificate(
        message.get("SigningCertURL") or message.get("SigningCertUrl")
    )
    try:
        key.verify(raw, signed, padding.PKCS1v15(), version())
    except InvalidSignature as error:
        raise common.FeedbackError(common.REFUSAL_SIGNATURE) from error


def _timestamp(value):
    """SNS's ``2012-04-26T20:45:04.751Z`` as epoch seconds."""
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except (AttributeError, ValueError) as error:
        raise common.FeedbackError(common.REFUSAL_SHAPE, "Timestamp") from error


def _message_id(mail):
    """The Message-ID Odoo gave the mail (SES puts its own on it)."""
    headers = mail.get("headers")
    if isinstance(headers, list):
        for header in headers:
            if (
                isinstance(header, dict)
                and str(header.get("name", "")).lower() == ODOO_HEADER.lower()
            ):
                return header.get("value")
    common = mail.get("commonHeaders")
    if isinstance(common, dict) and common.get("messageId"):
        return common["messageId"]
    return None


def _bounce_rows(notification, sns_message_id):
    bounce = notification.get("bounce") or {}
    kind = common.failure_kind(bounce.get("bounceType") == "Permanent")
    ses_type = common.words(
        common.text(bounce.get("bounceType"), 30),
        common.text(bounce.get("bounceSubType"), 50),
        separator="/",
    )
    rows = []
    for recipient in bounce.get("bouncedRecipients") or ():
        if not isinstance(recipient, dict):
            raise common.FeedbackError(common.REFUSAL_SHAPE, "bouncedRecipients")
        reason = common.words(
            common.text(recipient.get("status"), 20),
            common.text(recipient.get("diagnosticCode")),
            f"(SES: {ses_type})",
        )
        rows.append(
            (
                bounce.get("feedbackId"),
                kind,
                recipient.get("emailAddress"),
                reason,
                bounce,
            )
        )
    return rows


def _complaint_rows(notification, sns_message_id):
    complaint = notification.get("complaint") or {}
    rows = []
    for recipient in complaint.get("complainedRecipients") or ():
        if not isinstance(recipient, dict):
            raise common.FeedbackError(common.REFUSAL_SHAPE, "complainedRecipients")
        address = recipient.get("emailAddress")
        rows.append(
            (complaint.get("feedbackId"), common.KIND_COMPLAINT, address, "", complaint)
        )
    return rows


def _delivery_rows(notification, sns_message_id):
    delivery = notification.get("delivery") or {}
    # one delivery notification has no feedback id: the SNS message's id is it
    response = common.text(delivery.get("smtpResponse"))
    return [
        (sns_message_id, common.KIND_DELIVERED, address, response, delivery)
        for address in delivery.get("recipients") or ()
    ]


# notification type -> its rows (uid, kind, recipient, reason, detail); any
# other type (Send, Open, Click, Reject, Rendering Failure...) changes nothing
ROWS_BY_TYPE = {
    "Bounce": _bounce_rows,
    "Complaint": _complaint_rows,
    "Delivery": _delivery_rows,
}


def ses_events(notification, sns_message_id):
    """The events of one SES notification (one per recipient), and how many
    recipients' events change nothing."""
    kind_name = notification.get("notificationType") or notification.get("eventType")
    mail = notification.get("mail")
    if not isinstance(kind_name, str) or not isinstance(mail, dict):
        raise common.FeedbackError(common.REFUSAL_SHAPE, "notificationType or mail")
    message_id = _message_id(mail)
    if kind_name not in ROWS_BY_TYPE:
        return [], 1
    events = []
    for uid, kind, address, reason, detail in ROWS_BY_TYPE[kind_name](
        notification, sns_message_id
    ):
        if not (isinstance(uid, str) and uid and isinstance(address, str)):
            raise common.FeedbackError(common.REFUSAL_SHAPE, "feedbackId or recipient")
        when = detail.get("timestamp")
        events.append(
            common.make_event(
                CODE,
                f"{uid}:{address.lower()}",
                kind,
                address,
                message_id,
                reason,
                _timestamp(when) if isinstance(when, str) else 0,
                notification,
            )
        )
    return events, 0


def verify_ses(request, now):
    topic = (request.key or "").strip()
    if not topic:
        raise common.FeedbackError(common.REFUSAL_NO_KEY)
    message = common.load_json(request.body)
    if not isinstance(message, dict):
        raise common.FeedbackError(common.REFUSAL_SHAPE, "not an object")
    header_type = request.headers.get("x-amz-sns-message-type")
    if header_type and header_type != message.get("Type"):
        raise common.FeedbackError(common.REFUSAL_SHAPE, "x-amz-sns-message-type")
    # the topic first: a message of another topic never makes Odoo fetch
    # a certificate
    if message.get("TopicArn") != topic:
        raise common.FeedbackError(common.REFUSAL_TOPIC)
    verify_signature(message)
    signed_at = _timestamp(message.get("Timestamp"))
    common.check_age(signed_at, now, MAX_AGE)
    kind = message["Type"]
    if kind == "SubscriptionConfirmation":
        try:
            check_sns_url(message.get("SubscribeURL"))
        except ValueError as error:
            raise common.FeedbackError(
                common.REFUSAL_SHAPE, f"SubscribeURL: {error}"
            ) from error
        return common.VerifiedRequest(
            replay_key="",
            timestamp=signed_at,
            events=(),
            ignored=0,
            subscribe_url=message["SubscribeURL"],
        )
    if kind == "UnsubscribeConfirmation":
        return common.VerifiedRequest(
            replay_key="", timestamp=signed_at, events=(), ignored=1
        )
    try:
        notification = json.loads(message["Message"])
    except ValueError as error:
        raise common.FeedbackError(
            common.REFUSAL_SHAPE, "Message is not JSON"
        ) from error
    if not isinstance(notification, dict):
        raise common.FeedbackError(common.REFUSAL_SHAPE, "Message")
    events, ignored = ses_events(notification, message.get("MessageId"))
    return common.VerifiedRequest(
        replay_key="", timestamp=signed_at, events=tuple(events), ignored=ignored
    )


PROVIDER = common.Provider(
    code=CODE,
    label="Amazon SES (SNS)",
    proof=common.PROOF_SIGNATURE,
    verify=verify_ses,
    docs=(
        "https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html",
        "https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html",
    ),
    key_label="SNS topic ARN",
    outgoing_headers=lambda message_id: {ODOO_HEADER: message_id},
    check_key=check_topic_arn,
    setup_steps=(
        _lt(
            "In Amazon SNS, create a topic and an HTTPS subscription to the "
            "Webhook URL below; paste the topic's ARN into Webhook signing "
            "key first."
        ),
        _lt(
            "In Amazon SES, send the identity's Bounce, Complaint and "
            "Delivery notifications to this topic, with Include original "
            "headers ticked."
        ),
        _lt(
            "SNS then sends a subscription confirmation: it appears here; "
            "click Confirm subscription."
        ),
    ),
)
