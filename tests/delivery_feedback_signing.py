# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Requests signed as the providers sign them, shared by the delivery
feedback tests and the benchmarks (``scripts/benchmark_delivery*.py`` load
this file by its path): standard library and ``cryptography`` only."""

import datetime
import hashlib
import hmac
import json
import secrets
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def mailgun_signature(key, timestamp, token=None):
    """Mailgun's ``signature`` object: HMAC-SHA256 of timestamp and token
    with the webhook signing key."""
    timestamp, token = str(int(timestamp)), token or secrets.token_hex(25)
    digest = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256)
    return {"timestamp": timestamp, "token": token, "signature": digest.hexdigest()}


def mailgun_body(key, event_data, timestamp=None, token=None):
    """A Mailgun webhook body of ``event_data``, signed with ``key``."""
    timestamp = timestamp if timestamp is not None else time.time()
    return json.dumps(
        {
            "signature": mailgun_signature(key, timestamp, token),
            "event-data": event_data,
        }
    ).encode()


def self_signed_certificate(key, common_name, days_valid, extensions=()):
    """A certificate of ``key`` signed by itself for ``common_name``, valid
    from yesterday for ``days_valid`` days; ``extensions``: ``(extension,
    critical)`` pairs (the mailgate's TLS tests use it too)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days_valid))
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical)
    return builder.sign(key, hashes.SHA256())


def sns_key_and_certificate(days_valid=30):
    """An RSA key and its self-signed certificate (PEM bytes), standing for
    the one SNS publishes at ``SigningCertURL``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = self_signed_certificate(key, "sns.amazonaws.com", days_valid)
    return key, certificate.public_bytes(serialization.Encoding.PEM)
