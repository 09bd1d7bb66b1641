# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Mail authentication verdicts (tools/mail_auth.py) against the loopback DNS server.

Keys are made here, messages are signed and sealed with dkimpy, the public
keys and the SPF/DMARC records are served by tests/dns_server.py; SPF is
evaluated for client addresses 127.0.0.x. No Odoo model is involved.
"""

import base64
import dataclasses
import email
import email.policy
import functools
import math
import secrets
import socket
import time

import dkim
import nacl.signing
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.tests import BaseCase, tagged

from odoo.addons.mail_routing_policy.tools import mail_auth, mail_dns

from .dns_server import DnsTestServer, txt
from .test_mail_dns import FakeClock

HOST = "127.0.0.1"
GATE = "gate.test"
SIGNED_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id"]


# ----------------------------------------------------------------------
# keys, messages, signatures
# ----------------------------------------------------------------------


def _probable_prime(number, rounds=40):
    """Miller-Rabin."""
    if number % 2 == 0:
        return False
    odd, twos = number - 1, 0
    while odd % 2 == 0:
        odd, twos = odd // 2, twos + 1
    for _ in range(rounds):
        x = pow(secrets.randbelow(number - 3) + 2, odd, number)
        if x in (1, number - 1):
            continue
        for _ in range(twos - 1):
            x = pow(x, 2, number)
            if x == number - 1:
                break
        else:
            return False
    return True


def _prime(bits):
    while True:
        candidate = secrets.randbits(bits) | (3 << (bits - 2)) | 1
        if _probable_prime(candidate):
            return candidate


def _small_rsa_key(bits, exponent=65537):
    # cryptography refuses to generate keys under 1024 bits (it loads them)
    while True:
        p, q = _prime(bits // 2), _prime(bits // 2)
        phi = (p - 1) * (q - 1)
        if p != q and math.gcd(exponent, phi) == 1:
            break
    d = pow(exponent, -1, phi)
    numbers = rsa.RSAPrivateNumbers(
        p,
        q,
        d,
        rsa.rsa_crt_dmp1(d, p),
        rsa.rsa_crt_dmq1(d, q),
        rsa.rsa_crt_iqmp(p, q),
        rsa.RSAPublicNumbers(exponent, p * q),
    )
    return numbers.private_key()


def rsa_key(bits):
    """``(private PEM, DNS key record)`` of a new RSA key of ``bits`` bits."""
    key = _small_rsa_key(bits) if bits < 1024 else rsa.generate_private_key(65537, bits)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}"


def ed25519_key():
    """``(private key as dkimpy takes it, DNS key record)`` of a new ed25519 key."""
    key = nacl.signing.SigningKey.generate()
    public = base64.b64encode(bytes(key.verify_key)).decode()
    return base64.b64encode(bytes(key)), f"v=DKIM1; k=ed25519; p={public}"


def make_message(
    sender="Ann <ann@example.test>",
    body="Hello Bob,\r\nthe quote is attached.\r\n",
    headers=(),
):
    lines = [
        f"From: {sender}",
        "To: desk@gate.test",
        "Subject: Quote",
        "Date: Fri, 10 Aug 2012 14:16:26 +0000",
        "Message-ID: <quote-1@example.test>",
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def sign(message, selector, domain, private_key, algorithm=b"rsa-sha256"):
    """``message`` with a DKIM-Signature of ``domain`` on top."""
    signature = dkim.sign(
        message,
        selector.encode(),
        domain.encode(),
        private_key,
        signature_algorithm=algorithm,
        include_headers=SIGNED_HEADERS,
    )
    return signature + message


def forward(message, sealer, private_key, results):
    """``message`` as a list at ``sealer`` forwards it: its results recorded, a footer
    added, ARC-sealed."""
    received = f"Authentication-Results: {sealer}; {results}\r\n".encode() + message
    modified = received + b"-- \r\nThe list footer\r\n"
    arc_set = dkim.arc_sign(
        modified, b"arc", sealer.encode(), private_key, sealer.encode()
    )
    return b"".join(arc_set) + modified


# ----------------------------------------------------------------------
# the zone
# ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Keys:
    """``(private key, DNS key record)`` pairs."""

    rsa2048: tuple
    rsa1024: tuple
    rsa512: tuple
    ed25519: tuple
    sealer: tuple


@functools.cache
def make_keys():
    """Made once per test run: RSA key generation takes a while."""
    return Keys(
        rsa_key(2048), rsa_key(1024), rsa_key(512), ed25519_key(), rsa_key(2048)
    )


def zone(keys):
    records = {
        # SPF
        ("spf-pass.test", "TXT"): ["v=spf1 ip4:127.0.0.2 -all"],
        ("spf-soft.test", "TXT"): ["v=spf1 ip4:127.0.0.2 ~all"],
        ("spf-neutral.test", "TXT"): ["v=spf1 ?all"],
        ("spf-mx.test", "TXT"): ["v=spf1 mx include:spf-pass.test -all"],
        ("spf-mx.test", "MX"): ["10 mail.spf-mx.test"],
        ("mail.spf-mx.test", "A"): ["127.0.0.6"],
        ("spf-broken.test", "TXT"): ["v=spf1 ip4:127.0.0.2 bogus -all"],
        ("nospf.test", "A"): ["127.0.0.8"],
        ("mx.helo.test", "TXT"): ["v=spf1 a -all"],
        ("mx.helo.test", "A"): ["127.0.0.4"],
        # DKIM keys and DMARC
        ("example.test", "TXT"): ["v=spf1 ip4:127.0.0.2 -all"],
        ("_dmarc.example.test", "TXT"): [
            "v=DMARC1; p=reject; rua=mailto:dmarc@example.test"
        ],
        ("s2048._domainkey.example.test", "TXT"): [keys.rsa2048[1]],
        ("s2048._domainkey.mail.example.test", "TXT"): [keys.rsa2048[1]],
        ("s1024._domainkey.example.test", "TXT"): [keys.rsa1024[1]],
        ("s512._domainkey.example.test", "TXT"): [keys.rsa512[1]],
        ("ed._domainkey.example.test", "TXT"): [keys.ed25519[1]],
        ("wrong._domainkey.example.test", "TXT"): [keys.rsa2048[1]],
        ("garbled._domainkey.example.test", "TXT"): ["v=DKIM1; k=rsa; p=AAAA"],
        ("strict.test", "TXT"): ["v=spf1 ip4:127.0.0.2 -all"],
        ("mail.strict.test", "TXT"): ["v=spf1 ip4:127.0.0.2 -all"],
        ("_dmarc.strict.test", "TXT"): ["v=DMARC1; p=quarantine; adkim=s; aspf=s"],
        ("s2048._domainkey.mail.strict.test", "TXT"): [keys.rsa2048[1]],
        ("_dmarc.spf-pass.test", "TXT"): ["v=DMARC1; p=reject"],
        ("_dmarc.orgonly.test", "TXT"): ["v=DMARC1; p=none; sp=reject"],
        ("_dmarc.pct.test", "TXT"): ["v=DMARC1; p=reject; pct=50"],
        ("_dmarc.testmode.test", "TXT"): ["v=DMARC1; p=reject; t=y"],
        ("_dmarc.badpolicy.test", "TXT"): ["v=DMARC1; p=bogus"],
        ("_dmarc.withrua.test", "TXT"): [
            "v=DMARC1; p=bogus; rua=mailto:dmarc@withrua.test"
        ],
        ("_dmarc.twice.test", "TXT"): ["v=DMARC1; p=reject", "v=DMARC1; p=none"],
        ("_dmarc.other-txt.test", "TXT"): ["google-site-verification=abc"],
        # a list that forwards and seals
        ("lists.test", "TXT"): ["v=spf1 ip4:127.0.0.9 -all"],
        ("arc._domainkey.lists.test", "TXT"): [keys.sealer[1]],
    }
    return {
        (name, rdtype): [txt(text) for text in texts] if rdtype == "TXT" else texts
        for (name, rdtype), texts in records.items()
    }


SILENT = {"slow.test", "slow._domainkey.example.test", "_dmarc.slowdmarc.test"}


class LoopbackDnsCase(BaseCase):
    """A loopback DNS server for the class (tests/dns_server.py) serving
    ``dns_zone(keys)``, the names of ``dns_silent`` never answered, and for
    each test a resolver with short lookup timeouts and an empty cache.
    Shared by the authentication tests and Check DNS's."""

    dns_zone = staticmethod(zone)
    dns_silent = SILENT

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.keys = make_keys()
        cls.server = DnsTestServer(
            cls.dns_zone(cls.keys), host=HOST, silent=cls.dns_silent
        ).start()
        cls.addClassCleanup(cls.server.stop)

    def setUp(self):
        super().setUp()
        # a silent name costs one query timeout; the loopback server answers
        # the others in about a millisecond, so one attempt of 0.25 s is ample
        # (a test that compares a silent name's cost with a bound sets its own)
        self.resolver = mail_dns.MailResolver(
            mail_dns.parse_nameservers(self.server.nameservers),
            query_timeout=0.25,
            attempt_timeout=0.25,
        )


class AuthCase(LoopbackDnsCase):
    """The authentication tests' zone, and helpers."""

    def authenticate(
        self,
        message,
        client_ip="127.0.0.2",
        helo="mx.example.test",
        mail_from="",
        **kwargs,
    ):
        kwargs.setdefault("authserv_id", GATE)
        kwargs.setdefault("pct_sample", 0.0)
        deadline = kwargs.pop("deadline", None) or mail_dns.Deadline.after(10)
        return mail_auth.authenticate(
            message, client_ip, helo, mail_from, self.resolver, deadline, **kwargs
        )

    def signed(
        self,
        key="rsa2048",
        selector="s2048",
        domain="example.test",
        message=None,
        algorithm=b"rsa-sha256",
    ):
        return sign(
            message or make_message(),
            selector,
            domain,
            getattr(self.keys, key)[0],
            algorithm,
        )


# ----------------------------------------------------------------------
# SPF
# ----------------------------------------------------------------------


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestSpf(AuthCase):
    def test_spf_results(self):
        cases = [
            ("bounce@spf-pass.test", "127.0.0.2", "pass", "spf-pass.test"),
            ("bounce@spf-pass.test", "127.0.0.3", "fail", "spf-pass.test"),
            ("<bounce@SPF-Soft.test>", "127.0.0.3", "softfail", "spf-soft.test"),
            ("bounce@spf-neutral.test", "127.0.0.3", "neutral", "spf-neutral.test"),
            ("bounce@spf-mx.test", "127.0.0.6", "pass", "spf-mx.test"),  # mx -> A
            ("bounce@spf-mx.test", "127.0.0.2", "pass", "spf-mx.test"),  # include:
            ("bounce@spf-mx.test", "127.0.0.7", "fail", "spf-mx.test"),
            ("bounce@nospf.test", "127.0.0.2", "none", "nospf.test"),
            ("bounce@nowhere.test", "127.0.0.2", "none", "nowhere.test"),
            ("bounce@spf-broken.test", "127.0.0.2", "permerror", "spf-broken.test"),
            ("bounce@slow.test", "127.0.0.2", "temperror", "slow.test"),
        ]
        for mail_from, client_ip, result, domain in cases:
            with self.subTest(mail_from=mail_from, client_ip=client_ip):
                checked = mail_auth.check_spf(
                    client_ip,
                    "mx.other.test",
                    mail_from,
                    self.resolver,
                    mail_dns.NO_DEADLINE,
                )
                self.assertEqual(checked.result, result)
                self.assertEqual(
                    (checked.identity, checked.domain), ("mailfrom", domain)
                )
                self.assertEqual(checked.sender, mail_from.strip("<>"))

    def test_null_sender_checks_helo(self):
        for mail_from in ("<>", ""):
            with self.subTest(mail_from=mail_from):
                verdict = self.authenticate(
                    make_message(), "127.0.0.4", "mx.helo.test", mail_from
                )
                self.assertEqual(
                    verdict.spf,
                    mail_auth.SpfResult("pass", "helo", "mx.helo.test", "mx.helo.test"),
                )
                self.assertIn(
                    "spf=pass smtp.helo=mx.helo.test;", verdict.header_value()
                )
        refused = self.authenticate(make_message(), "127.0.0.5", "mx.helo.test", "<>")
        self.assertEqual((refused.spf.result, refused.spf.identity), ("fail", "helo"))

    def test_nothing_to_check(self):
        verdict = self.authenticate(make_message(), helo="", mail_from="<>")
        self.assertEqual(verdict.spf, mail_auth.SpfResult())
        self.assertIn("; spf=none;", verdict.header_value())

    def test_invalid_client_address_is_permerror(self):
        checked = mail_auth.check_spf(
            "not-an-ip",
            "mx.test",
            "a@spf-pass.test",
            self.resolver,
            mail_dns.NO_DEADLINE,
        )
        self.assertEqual(checked.result, "permerror")


# ----------------------------------------------------------------------
# DKIM
# ----------------------------------------------------------------------


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDkim(AuthCase):
    def test_rsa_2048_and_ed25519_pass(self):
        message = self.signed(
            key="ed25519",
            selector="ed",
            algorithm=b"ed25519-sha256",
            message=self.signed(),
        )
        results = mail_auth.verify_dkim(
            message, self.resolver, mail_dns.Deadline.after(5)
        )
        self.assertEqual(
            results,
            (
                mail_auth.DkimResult(
                    "pass", "example.test", "ed", "ed25519-sha256", 256
                ),
                mail_auth.DkimResult(
                    "pass", "example.test", "s2048", "rsa-sha256", 2048
                ),
            ),
        )

    def test_rsa_key_sizes(self):
        cases = [
            ("rsa1024", "s1024", "pass", "", 1024),
            ("rsa512", "s512", "policy", "key_too_small", 512),
        ]
        for key, selector, result, reason, bits in cases:
            with self.subTest(key=key):
                (found,) = mail_auth.verify_dkim(
                    self.signed(key, selector), self.resolver, mail_dns.NO_DEADLINE
                )
                self.assertEqual(
                    (found.result, found.reason, found.key_bits), (result, reason, bits)
                )

    def test_altered_body_fails(self):
        message = self.signed().replace(
            b"the quote is attached", b"the price is doubled"
        )
        (found,) = mail_auth.verify_dkim(message, self.resolver, mail_dns.NO_DEADLINE)
        self.assertEqual(
            (found.result, found.reason, found.domain),
            ("fail", "body_hash", "example.test"),
        )

    def test_two_signatures_one_good_one_bad(self):
        # signed with the 1024-bit key, published key is the 2048-bit one
        message = self.signed("rsa1024", "wrong", message=self.signed())
        verdict = self.authenticate(message, mail_from="bounce@nospf.test")
        self.assertEqual(
            [(found.result, found.selector, found.reason) for found in verdict.dkim],
            [("fail", "wrong", "signature"), ("pass", "s2048", "")],
        )
        self.assertEqual(
            (verdict.dmarc.result, verdict.dmarc.aligned), ("pass", ("dkim",))
        )
        self.assertIn(
            "dkim=fail reason=signature header.d=example.test header.s=wrong "
            "header.a=rsa-sha256; "
            "dkim=pass header.d=example.test header.s=s2048 header.a=rsa-sha256;",
            verdict.header_value(),
        )

    def test_key_problems(self):
        cases = [
            ("missing", "permerror", "no_key"),
            ("garbled", "permerror", "key_format"),
            ("slow", "temperror", "dns_timeout"),
        ]
        for selector, result, reason in cases:
            with self.subTest(selector=selector):
                (found,) = mail_auth.verify_dkim(
                    self.signed(selector=selector),
                    self.resolver,
                    mail_dns.Deadline.after(5),
                )
                self.assertEqual((found.result, found.reason), (result, reason))

    def test_rsa_sha1_is_not_a_pass(self):
        (found,) = mail_auth.verify_dkim(
            self.signed(algorithm=b"rsa-sha1"), self.resolver, mail_dns.NO_DEADLINE
        )
        self.assertEqual(
            (found.result, found.reason, found.algorithm),
            ("policy", "weak_algorithm", "rsa-sha1"),
        )

    def test_malformed_signature_is_permerror(self):
        message = (
            b"DKIM-Signature: v=1; a=rsa-sha256; d=example.test; s=s2048\r\n"
            + make_message()
        )
        (found,) = mail_auth.verify_dkim(message, self.resolver, mail_dns.NO_DEADLINE)
        self.assertEqual(
            (found.result, found.reason, found.domain, found.selector),
            ("permerror", "signature_tags", "example.test", "s2048"),
        )

    def test_unsigned_message(self):
        verdict = self.authenticate(make_message(), mail_from="ann@example.test")
        self.assertEqual(verdict.dkim, ())
        self.assertIn("; dkim=none;", verdict.header_value())


# ----------------------------------------------------------------------
# DMARC
# ----------------------------------------------------------------------


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDmarc(AuthCase):
    def test_relaxed_dkim_alignment_with_a_subdomain_signer(self):
        verdict = self.authenticate(
            self.signed(domain="mail.example.test"), mail_from="bounce@nospf.test"
        )
        dmarc = verdict.dmarc
        self.assertEqual(
            (dmarc.result, dmarc.aligned, dmarc.policy), ("pass", ("dkim",), "reject")
        )
        self.assertEqual(
            (dmarc.from_domain, dmarc.org_domain, dmarc.record_domain),
            ("example.test",) * 3,
        )
        self.assertTrue(verdict.dmarc_pass)
        self.assertEqual(verdict.disposition, "none")

    def test_strict_alignment_fails(self):
        message = self.signed(
            domain="mail.strict.test", message=make_message("Ann <ann@strict.test>")
        )
        verdict = self.authenticate(message, mail_from="bounce@mail.strict.test")
        self.assertEqual((verdict.spf.result, verdict.dkim[0].result), ("pass", "pass"))
        self.assertEqual(
            (verdict.dmarc.result, verdict.dmarc.adkim, verdict.dmarc.aspf),
            ("fail", "s", "s"),
        )
        self.assertFalse(verdict.dmarc_pass)
        self.assertEqual(verdict.disposition, "quarantine")
        # the same identities align exactly
        exact = self.authenticate(
            make_message("Ann <ann@strict.test>"), mail_from="bounce@strict.test"
        )
        self.assertEqual((exact.dmarc.result, exact.dmarc.aligned), ("pass", ("spf",)))

    def test_spf_aligned_pass(self):
        verdict = self.authenticate(
            make_message("Ann <ann@spf-pass.test>"), mail_from="bounce@spf-pass.test"
        )
        self.assertEqual(
            (verdict.dmarc.result, verdict.dmarc.aligned), ("pass", ("spf",))
        )
        self.assertEqual(verdict.dkim, ())

    def test_no_record_is_none(self):
        verdict = self.authenticate(
            make_message("a@nospf.test"), mail_from="bounce@spf-pass.test"
        )
        self.assertEqual(
            (verdict.dmarc.result, verdict.dmarc.policy, verdict.dmarc.record_domain),
            ("none", "", ""),
        )
        self.assertFalse(verdict.dmarc_pass)
        self.assertEqual(verdict.disposition, "none")
        self.assertIn("dmarc=none header.from=nospf.test;", verdict.header_value())
        # a _dmarc name with other TXT records has no record either
        other = self.authenticate(make_message("a@other-txt.test"))
        self.assertEqual(other.dmarc.result, "none")

    def test_organisational_record_with_sp(self):
        cases = [
            ("ann@news.orgonly.test", "reject", "news.orgonly.test"),
            ("ann@deep.news.orgonly.test", "reject", "deep.news.orgonly.test"),
            ("ann@orgonly.test", "none", "orgonly.test"),
        ]
        for sender, policy, from_domain in cases:
            with self.subTest(sender=sender):
                dmarc = self.authenticate(make_message(sender)).dmarc
                self.assertEqual(
                    (dmarc.result, dmarc.policy, dmarc.applied_policy),
                    ("fail", policy, policy),
                )
                self.assertEqual(
                    (dmarc.from_domain, dmarc.org_domain), (from_domain, "orgonly.test")
                )
                self.assertEqual(dmarc.record_domain, "orgonly.test")

    def test_reject_policy_fails(self):
        verdict = self.authenticate(
            make_message(), client_ip="127.0.0.3", mail_from="ann@example.test"
        )
        self.assertEqual((verdict.spf.result, verdict.dmarc.result), ("fail", "fail"))
        self.assertEqual(verdict.disposition, "reject")
        self.assertIn(
            "dmarc=fail policy.dmarc=reject header.from=example.test;",
            verdict.header_value(),
        )

    def test_rfc9989_pct_ignored_and_test_mode(self):
        """RFC 9989 §4.7 and Appendix A.6: pct is no tag any more (ignored,
        whatever the sample); t=y applies the next less strict policy."""
        for sample in (0.0, 49.9, 50.0, 99.9):
            with self.subTest(sample=sample):
                verdict = self.authenticate(
                    make_message("a@pct.test"), pct_sample=sample
                )
                self.assertEqual(
                    (verdict.dmarc.policy, verdict.dmarc.applied_policy),
                    ("reject", "reject"),
                )
                self.assertEqual(verdict.disposition, "reject")
        verdict = self.authenticate(make_message("a@testmode.test"))
        self.assertEqual(
            (verdict.dmarc.policy, verdict.dmarc.applied_policy, verdict.dmarc.testing),
            ("reject", "quarantine", True),
        )
        self.assertEqual(verdict.disposition, "quarantine")

    def test_from_header_rules(self):
        body = "\r\nHello\r\n"
        cases = [
            (
                b"To: desk@gate.test\r\n" + body.encode(),
                "permerror",
                "from_missing",
                "",
            ),
            (
                b"From: a@example.test\r\nFrom: b@example.test\r\n" + body.encode(),
                "permerror",
                "from_multiple",
                "",
            ),
            (
                b"From: a@example.test, b@other.test\r\n" + body.encode(),
                "permerror",
                "from_multiple",
                "",
            ),
            (
                b"From: a@example.test, B@EXAMPLE.test\r\n" + body.encode(),
                "fail",
                "",
                "example.test",
            ),
            (b"From: undisclosed\r\n" + body.encode(), "permerror", "from_syntax", ""),
            (b"From: a@\r\n" + body.encode(), "permerror", "from_syntax", ""),
            (
                b"From: a@[127.0.0.1]\r\n" + body.encode(),
                "permerror",
                "from_syntax",
                "",
            ),
            (
                "From: a@bücher.test\r\n".encode() + body.encode(),
                "none",
                "",
                "xn--bcher-kva.test",
            ),
        ]
        for message, result, reason, domain in cases:
            with self.subTest(message=message):
                verdict = self.authenticate(message)
                self.assertEqual(
                    (verdict.dmarc.result, verdict.dmarc.reason), (result, reason)
                )
                self.assertEqual(verdict.dmarc.from_domain, domain)
                self.assertFalse(verdict.dmarc_pass)

    def test_record_rules(self):
        cases = [
            ("badpolicy.test", "permerror", "record_syntax", ""),
            (
                "withrua.test",
                "fail",
                "",
                "none",
            ),  # an invalid p= with rua reads as p=none
            ("twice.test", "none", "multiple_records", ""),
            ("slowdmarc.test", "temperror", "dns_timeout", ""),
        ]
        for domain, result, reason, policy in cases:
            with self.subTest(domain=domain):
                dmarc = self.authenticate(
                    make_message(f"a@{domain}"), deadline=mail_dns.Deadline.after(5)
                ).dmarc
                self.assertEqual(
                    (dmarc.result, dmarc.reason, dmarc.policy), (result, reason, policy)
                )

    def test_parse_dmarc_record(self):
        cases = [
            (
                b"v=DMARC1; p=reject; pct=20",
                {"v": "DMARC1", "p": "reject", "pct": "20"},
            ),
            (b"v=DMARC1;P=Quarantine;", {"v": "DMARC1", "p": "Quarantine"}),
            (b"v=DMARC1; p=none; p=reject", None),  # a tag twice
            (b"v=DMARC1; p=none; P=reject", None),
            (b"p=reject; v=DMARC1", None),  # v= first
            (b"v=dmarc1; p=reject", None),
            (b"v=DMARC1; p", None),
            (b"v=DMARC1; p=r\xc3\xa9ject", None),
        ]
        for record, expected in cases:
            with self.subTest(record=record):
                self.assertEqual(mail_auth.parse_dmarc_record(record), expected)

    def test_aligned_key_timeout_is_temperror(self):
        verdict = self.authenticate(
            self.signed(selector="slow"), mail_from="bounce@nospf.test"
        )
        self.assertEqual(
            (verdict.dkim[0].result, verdict.dmarc.result), ("temperror", "temperror")
        )
        self.assertFalse(verdict.dmarc_pass)
        self.assertEqual(verdict.disposition, "none")


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDomains(BaseCase):
    def test_org_domain(self):
        cases = [
            ("mail.example.com", "example.com"),
            ("Example.COM.", "example.com"),
            ("a.b.example.co.uk", "example.co.uk"),
            ("co.uk", "co.uk"),
            ("news.orgonly.test", "orgonly.test"),
            ("", ""),
        ]
        for domain, expected in cases:
            with self.subTest(domain=domain):
                self.assertEqual(mail_auth.org_domain(domain), expected)

    def test_aligned(self):
        cases = [
            ("mail.example.com", "example.com", False, True),
            ("mail.example.com", "example.com", True, False),
            ("Example.com", "example.com.", True, True),
            ("example.co.uk", "other.co.uk", False, False),
            ("", "example.com", False, False),
        ]
        for domain_a, domain_b, strict, expected in cases:
            with self.subTest(domain_a=domain_a, domain_b=domain_b, strict=strict):
                self.assertIs(mail_auth.aligned(domain_a, domain_b, strict), expected)


# ----------------------------------------------------------------------
# ARC
# ----------------------------------------------------------------------

LIST_RESULTS = (
    "spf=pass smtp.mailfrom=ann@example.test; dkim=pass header.d=example.test; "
    "dmarc=pass header.from=example.test"
)


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestArc(AuthCase):
    def forwarded(self, results=LIST_RESULTS):
        return forward(self.signed(), "lists.test", self.keys.sealer[0], results)

    def receive(self, message, trusted=("lists.test",)):
        return self.authenticate(
            message,
            client_ip="127.0.0.9",
            mail_from="bounce@lists.test",
            trusted_arc_sealers=trusted,
        )

    def test_trusted_sealer_vouches_for_a_modified_forward(self):
        verdict = self.receive(self.forwarded(), trusted=("LISTS.test.", "other.test"))
        self.assertEqual(
            (verdict.dkim[0].result, verdict.dkim[0].reason), ("fail", "body_hash")
        )
        self.assertEqual(
            (verdict.spf.result, verdict.spf.domain), ("pass", "lists.test")
        )
        self.assertEqual(verdict.dmarc.result, "fail")
        self.assertEqual(verdict.arc, mail_auth.ArcResult("pass", ("lists.test",)))
        self.assertEqual(verdict.arc_override, "lists.test")
        self.assertTrue(verdict.dmarc_pass)
        self.assertEqual(verdict.disposition, "none")
        header = verdict.header_value()
        self.assertIn(
            "dmarc=fail reason=trusted_forwarder policy.dmarc=reject "
            "header.from=example.test;",
            header,
        )
        self.assertTrue(header.endswith("; arc=pass header.as-d=lists.test"))
        self.assertEqual(
            mail_auth.read_results([header], [GATE]).arc_override, "lists.test"
        )

    def test_untrusted_sealer_does_not_vouch(self):
        verdict = self.receive(self.forwarded(), trusted=("other.test",))
        self.assertEqual((verdict.arc.result, verdict.arc_override), ("pass", ""))
        self.assertFalse(verdict.dmarc_pass)
        self.assertEqual(verdict.disposition, "reject")
        self.assertNotIn("trusted_forwarder", verdict.header_value())

    def test_trusted_sealer_must_report_an_authenticated_author(self):
        cases = [
            (
                "dmarc=fail header.from=example.test; dkim=fail header.d=example.test",
                "",
            ),
            ("dmarc=pass header.from=other.test", ""),
            ("dkim=pass header.d=mail.example.test", "lists.test"),  # aligned, relaxed
            ("spf=pass smtp.mailfrom=bounce@example.test", "lists.test"),
            ("spf=pass smtp.mailfrom=bounce@other.test", ""),
        ]
        for results, override in cases:
            with self.subTest(results=results):
                verdict = self.receive(self.forwarded(results))
                self.assertEqual(
                    (verdict.arc.result, verdict.arc_override), ("pass", override)
                )

    def test_tampering_after_the_seal_fails_the_chain(self):
        message = self.forwarded().replace(b"The list footer", b"A forged footer")
        verdict = self.receive(message)
        self.assertEqual(
            (verdict.arc.result, verdict.arc.sealers, verdict.arc_override),
            ("fail", ("lists.test",), ""),
        )

    def test_two_hops_list_their_sealers_latest_first(self):
        first = self.forwarded()
        second = forward(
            first,
            "relay.test",
            self.keys.sealer[0],
            "arc=pass; dmarc=pass header.from=example.test",
        )
        self.assertEqual(mail_auth.arc_sealers(second), ("relay.test", "lists.test"))

    def test_unsealed_message(self):
        verdict = self.authenticate(self.signed())
        self.assertEqual(verdict.arc, mail_auth.ArcResult("none", ()))


# ----------------------------------------------------------------------
# time and cache
# ----------------------------------------------------------------------


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestBoundedTime(AuthCase):
    def test_silent_nameserver_gives_temperror_within_the_deadline(self):
        black_hole = socket.socket(
            socket.AF_INET, socket.SOCK_DGRAM
        )  # bound, never read
        self.addCleanup(black_hole.close)
        black_hole.bind((HOST, 0))
        resolver = mail_dns.MailResolver(((HOST, black_hole.getsockname()[1]),))
        message = forward(
            self.signed(), "lists.test", self.keys.sealer[0], LIST_RESULTS
        )
        budget = 0.5
        started = time.monotonic()
        verdict = mail_auth.authenticate(
            message,
            "127.0.0.9",
            "mx.lists.test",
            "bounce@lists.test",
            resolver,
            mail_dns.Deadline.after(budget),
            trusted_arc_sealers=("lists.test",),
        )
        elapsed = time.monotonic() - started
        self.assertLess(elapsed, budget + 2.0)  # a correctness bound, not a benchmark
        self.assertEqual(verdict.spf.result, "temperror")
        self.assertEqual({found.result for found in verdict.dkim}, {"temperror"})
        self.assertEqual(
            (verdict.dmarc.result, verdict.arc.result, verdict.arc_override),
            ("temperror",) * 2 + ("",),
        )
        self.assertFalse(verdict.dmarc_pass)

    def test_second_authentication_sends_no_query(self):
        clock = FakeClock()
        resolver = mail_dns.MailResolver(
            mail_dns.parse_nameservers(self.server.nameservers), clock=clock
        )
        message = self.signed(domain="mail.example.test")

        def authenticate():
            mail_auth.authenticate(
                message,
                "127.0.0.2",
                "mx.example.test",
                "ann@example.test",
                resolver,
                mail_dns.Deadline.after(5),
            )

        self.server.reset_counts()
        authenticate()
        first = self.server.total_queries
        self.assertGreaterEqual(first, 3)  # SPF, the key, _dmarc.example.test
        self.assertEqual(resolver.queries_sent, first)
        authenticate()
        self.assertEqual(self.server.total_queries, first)
        self.assertEqual(self.server.query_count("_dmarc.example.test", "TXT"), 1)
        clock.now += 301  # every TTL of the zone (300 s) is over
        authenticate()
        self.assertEqual(self.server.total_queries, 2 * first)
        self.assertEqual(self.server.query_count("_dmarc.example.test", "TXT"), 2)


# ----------------------------------------------------------------------
# Authentication-Results headers
# ----------------------------------------------------------------------


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestResultsHeaders(AuthCase):
    def test_header_value_round_trip(self):
        verdict = self.authenticate(
            self.signed(
                "rsa512", "s512", message=self.signed(domain="mail.example.test")
            ),
            mail_from="bounce@spf-pass.test",
        )
        header = verdict.header_value()
        self.assertEqual(
            header,
            "gate.test; spf=pass smtp.mailfrom=bounce@spf-pass.test; "
            "dkim=policy reason=key_too_small header.d=example.test header.s=s512 "
            "header.a=rsa-sha256; "
            "dkim=pass header.d=mail.example.test header.s=s2048 header.a=rsa-sha256; "
            "dmarc=pass policy.dmarc=reject header.from=example.test; arc=none",
        )
        read = mail_auth.read_results([header], [GATE])
        self.assertEqual(read.header_value(), header)
        self.assertEqual(
            (read.spf, read.dmarc.result, read.dmarc.policy),
            (verdict.spf, "pass", "reject"),
        )
        self.assertEqual(
            [
                (found.result, found.domain, found.selector, found.reason)
                for found in read.dkim
            ],
            [
                (found.result, found.domain, found.selector, found.reason)
                for found in verdict.dkim
            ],
        )
        self.assertTrue(read.dmarc_pass)
        with self.assertRaises(ValueError):
            verdict.header_value("bad id; dmarc=pass")

    def test_header_leaves_out_unsafe_values(self):
        verdict = self.authenticate(
            make_message(), helo="x; dmarc=pass", mail_from="<>"
        )
        spf_clause = verdict.header_value().split("; ")[1]
        self.assertEqual(
            spf_clause, f"spf={verdict.spf.result}"
        )  # no smtp.helo property
        self.assertEqual(verdict.spf.sender, "x; dmarc=pass")
        verdict = mail_auth.AuthVerdict(
            spf=mail_auth.SpfResult(
                "pass", "mailfrom", "example.test", '"a;dmarc=pass"@example.test'
            ),
            dkim=(
                mail_auth.DkimResult(
                    "fail", "evil.test; dmarc=pass", "s", "rsa-sha256"
                ),
            ),
        )
        header = verdict.header_value(GATE)
        self.assertIn("spf=pass smtp.mailfrom=example.test;", header)
        self.assertIn("dkim=fail header.s=s header.a=rsa-sha256;", header)
        self.assertEqual(header.count("dmarc="), 1)

    def test_read_results_takes_the_topmost_trusted_header(self):
        values = [
            "evil.test; dmarc=pass header.from=bank.test",
            "Gate.Test;\r\n dmarc=fail policy.dmarc=reject header.from=bank.test",
            "gate.test; dmarc=pass "
            "header.from=bank.test",  # lower: a forgery the gate did not strip
        ]
        verdict = mail_auth.read_results(values, ["GATE.test"])
        self.assertEqual(
            (verdict.dmarc.result, verdict.dmarc.from_domain), ("fail", "bank.test")
        )
        self.assertEqual(
            (verdict.disposition, verdict.authserv_id), ("reject", "gate.test")
        )
        self.assertIsNone(mail_auth.read_results(values[:1], ["gate.test"]))
        self.assertIsNone(mail_auth.read_results(values, []))
        # the topmost trusted header is unreadable: no fall back to a lower one
        self.assertIsNone(
            mail_auth.read_results(
                ["gate.test; dmarc=pass (unclosed", values[2]], ["gate.test"]
            )
        )

    def test_read_results_of_a_provider(self):
        value = (
            "mx.provider.test;\r\n       dkim=pass header.i=@example.test header.s=s1 "
            "header.b=AbCd;\r\n"
            "       spf=pass (provider.test: domain of ann@example.test designates "
            "192.0.2.1 as permitted sender)"
            " smtp.mailfrom=ann@example.test;\r\n"
            "       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.test"
        )
        verdict = mail_auth.read_results([value], ["mx.provider.test"])
        self.assertEqual(
            verdict.spf,
            mail_auth.SpfResult("pass", "mailfrom", "example.test", "ann@example.test"),
        )
        self.assertEqual(
            [(found.result, found.selector) for found in verdict.dkim], [("pass", "s1")]
        )
        self.assertEqual(
            (verdict.dmarc.result, verdict.dmarc.from_domain), ("pass", "example.test")
        )
        self.assertTrue(verdict.dmarc_pass)
        self.assertEqual(verdict.arc.result, "none")

    def test_header_authserv_id(self):
        cases = [
            ("gate.test; spf=pass", "gate.test"),
            ("  GATE.test ; none", "gate.test"),
            ("\r\n\tgate.test;\r\n spf=pass", "gate.test"),
            ("(comment (nested)) gate.test 1; none", "gate.test"),
            ('"Gate.Test"; none', "gate.test"),
            ("gate.test.evil.test; none", "gate.test.evil.test"),
            ("(unclosed gate.test; none", ""),
            ("; spf=pass", ""),
        ]
        for value, expected in cases:
            with self.subTest(value=value):
                self.assertEqual(mail_auth.header_authserv_id(value), expected)

    def test_strip_results_removes_only_ours(self):
        kept_head = (
            b"Received: from mx.other.test\r\n"
            b"\tby gate.test; Fri, 10 Aug 2012 14:16:26 +0000\r\n"
            b"Authentication-Results: other.test; dmarc=pass header.from=bank.test\r\n"
            b"Authentication-Results: gate.test.evil.test; dmarc=pass\r\n"
            b"Authentication-Results:  mx.provider.test ;\r\n spf=pass\r\n"
            b"From: a@bank.test\r\n"
        )
        body = b"\r\nAuthentication-Results: gate.test; a body line stays\r\n"
        ours = [
            b"Authentication-Results: gate.test;\r\n\tdmarc=pass "
            b"header.from=bank.test\r\n",
            b"authentication-results: GATE.TEST; spf=pass\r\n",
            b'Authentication-Results: "gate.test"; dkim=pass\r\n',
            b"Authentication-Results: (forged) gate.test; arc=pass\r\n",
            b"AUTHENTICATION-RESULTS : gate.test; dmarc=pass\r\n",
        ]
        message = (
            ours[0] + kept_head.replace(b"From:", b"".join(ours[1:]) + b"From:") + body
        )
        self.assertEqual(
            mail_auth.strip_results(message, "Gate.Test"), kept_head + body
        )
        lf_message = message.replace(b"\r\n", b"\n")
        self.assertEqual(
            mail_auth.strip_results(lf_message, GATE),
            (kept_head + body).replace(b"\r\n", b"\n"),
        )
        other = (
            b"Authentication-Results: other.test; dmarc=pass header.from=bank.test\r\n"
        )
        self.assertEqual(
            mail_auth.strip_results(message, "other.test"), message.replace(other, b"")
        )

    def test_prepend_header(self):
        verdict = self.authenticate(
            self.signed(domain="mail.example.test"), mail_from="bounce@spf-pass.test"
        )
        value = verdict.header_value()
        for linesep in (b"\r\n", b"\n"):
            with self.subTest(linesep=linesep):
                message = self.signed().replace(b"\r\n", linesep)
                prepended = mail_auth.prepend_header(
                    message, "Authentication-Results", value
                )
                self.assertTrue(prepended.endswith(message))
                head = prepended[: len(prepended) - len(message)]
                lines = head.split(linesep)[:-1]
                self.assertGreater(len(lines), 1)
                self.assertTrue(all(len(line) <= 78 for line in lines), lines)
                self.assertTrue(all(line[:1] == b" " for line in lines[1:]))
                self.assertEqual(
                    head.count(b"\n"), head.count(linesep)
                )  # one line ending throughout
                parsed = email.message_from_bytes(
                    prepended, policy=email.policy.compat32
                )
                self.assertEqual(
                    mail_auth.read_results(
                        parsed.get_all("Authentication-Results"), [GATE]
                    ),
                    verdict_read(value),
                )
                # DKIM does not sign Authentication-Results: the signature still
                # verifies
                self.assertEqual(
                    mail_auth.verify_dkim(
                        prepended, self.resolver, mail_dns.NO_DEADLINE
                    )[0].result,
                    "pass",
                )
        with self.assertRaises(ValueError):
            mail_auth.prepend_header(
                make_message(),
                "Authentication-Results",
                "gate.test; none\r\nBcc: x@y.test",
            )
        with self.assertRaises(ValueError):
            mail_auth.prepend_header(make_message(), "Bad Name", "x")


def verdict_read(value):
    return mail_auth.read_results([value], [GATE])


# ----------------------------------------------------------------------
# hostile input
# ----------------------------------------------------------------------

FIELD_NAMES = st.sampled_from(
    [
        "Received",
        "From",
        "Subject",
        "Authentication-Results",
        "authentication-results",
        "DKIM-Signature",
        "ARC-Seal",
    ]
)
FIELD_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
OTHER_IDS = st.sampled_from(
    [
        "other.test",
        "gate.test.evil",
        "gate",
        '"gate.test.x"',
        "(gate.test) other.test",
        "",
    ]
)


def _field(name, value, folds, linesep):
    parts = value.split(" ")
    if folds and len(parts) > 1:
        value = " ".join(parts[:1]) + linesep + "\t" + " ".join(parts[1:])
    return f"{name}: {value}{linesep}".encode()


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestHostileInput(BaseCase):
    @settings(
        max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(
        fields=st.lists(
            st.tuples(FIELD_NAMES, OTHER_IDS, FIELD_TEXT, st.booleans()), max_size=8
        ),
        ours=st.lists(
            st.tuples(
                st.integers(0, 8),
                st.sampled_from(["gate.test", "GATE.Test", '"gate.test"']),
                st.booleans(),
            ),
            max_size=3,
        ),
        linesep=st.sampled_from(["\r\n", "\n"]),
    )
    def test_strip_results_removes_exactly_ours(self, fields, ours, linesep):
        head = [
            _field(name, f"{authserv_id}; {text}", folds, linesep)
            for name, authserv_id, text, folds in fields
        ]
        body = f"{linesep}Authentication-Results: gate.test; body{linesep}".encode()
        original = b"".join(head) + body
        forged = list(head)
        for position, authserv_id, folds in sorted(ours, reverse=True):
            forged.insert(
                min(position, len(forged)),
                _field(
                    "Authentication-Results",
                    f"{authserv_id}; dmarc=pass",
                    folds,
                    linesep,
                ),
            )
        self.assertEqual(
            mail_auth.strip_results(b"".join(forged) + body, GATE), original
        )

    @settings(
        max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(
        fields=st.lists(st.tuples(FIELD_NAMES, FIELD_TEXT), max_size=6),
        body=st.binary(max_size=60),
        mail_from=st.sampled_from(
            ["", "<>", "a@example.test", "a;b@x", "@", "a@" + "x" * 300]
        ),
        helo=st.sampled_from(["", "mx.test", "[127.0.0.1]", "x; dmarc=pass", "a..b"]),
    )
    def test_authenticate_never_raises(self, fields, body, mail_from, helo):
        message = (
            b"".join(f"{name}: {text}\r\n".encode() for name, text in fields)
            + b"\r\n"
            + body
        )
        resolver = mail_dns.MailResolver(
            ((HOST, 9),), query_timeout=0.1
        )  # spent deadline: nothing is sent
        verdict = mail_auth.authenticate(
            message, "127.0.0.2", helo, mail_from, resolver, mail_dns.Deadline.after(0)
        )
        self.assertNotEqual(verdict.dmarc.result, "pass")
        self.assertFalse(verdict.dmarc_pass)
        self.assertEqual(resolver.queries_sent, 0)
        value = verdict.header_value(GATE)
        self.assertNotIn("\n", value)
        self.assertEqual(mail_auth.read_results([value], [GATE]).header_value(), value)

    @settings(max_examples=150, deadline=None)
    @given(values=st.lists(st.text(max_size=80), max_size=4))
    def test_read_results_never_raises(self, values):
        verdict = mail_auth.read_results(
            ["gate.test; " + value for value in values], [GATE]
        )
        if values:
            self.assertTrue(verdict is None or verdict.authserv_id == GATE)
        else:
            self.assertIsNone(verdict)
