# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Certificates and TLS servers for the TLS tests of Check DNS (the outgoing
server's TLS line, the inbound MX, MTA-STS and TLS reporting lines): a test
authority issuing certificates with ``cryptography``, an aiosmtpd server
that accepts everything, a free loopback port."""

import datetime
import ipaddress
import os
import socket
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _build(subject, key, issuer, issuer_key, ca, sans=(), days=1):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), True)
    )
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(folder, name, cert, key):
    paths = (os.path.join(folder, f"{name}.pem"), os.path.join(folder, f"{name}.key"))
    with open(paths[0], "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths[1], "wb") as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return paths


class CertificateAuthority:
    """A certificate authority of its own: ``pem`` is what a client trusts
    (``cadata``); :meth:`issue` writes a certificate and its key to
    ``folder``."""

    def __init__(self, folder):
        self.folder = folder
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
        self.cert = _build("Test CA", self.key, self.name, self.key, True)
        self.pem = self.cert.public_bytes(serialization.Encoding.PEM).decode()

    def issue(self, file_name, names, ips=(), days=1, self_signed=False):
        """``(cert path, key path)`` of a certificate for DNS ``names`` and
        ``ips``, valid ``days`` more days, signed by this authority or by
        itself."""
        key = ec.generate_private_key(ec.SECP256R1())
        sans = [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
        sans += [x509.DNSName(name) for name in names]
        if self_signed:
            own = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
            cert = _build(names[0], key, own, key, False, sans, days)
        else:
            cert = _build(names[0], key, self.name, self.key, False, sans, days)
        return _write(self.folder, file_name, cert, key)


def certificates(folder, ip="127.0.0.1", names=("smtp.tls.test",)):
    """A test authority and two certificates for ``ip`` and ``names``: one it
    signed, one self-signed; returns ``(ca_pem, signed, self_signed)``, each
    certificate a ``(cert path, key path)`` in ``folder``."""
    authority = CertificateAuthority(folder)
    return (
        authority.pem,
        authority.issue("signed", names, [ip]),
        authority.issue("self", names, [ip], self_signed=True),
    )


def server_context(paths):
    """A server-side TLS context for ``(cert path, key path)``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*paths)
    return context


class QuietHandler:
    """An aiosmtpd handler that accepts every message and keeps none."""

    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


def free_port(host):
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
