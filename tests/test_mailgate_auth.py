# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The mailgate authenticates every message (SPF, DKIM, DMARC, ARC) against a
loopback authoritative DNS server, writes its Authentication-Results header
and applies the policy: a real SMTP client from 127.0.0.2 plays the outside
world."""

import smtplib
import time
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.tests import tagged

from ..cli import mail_authentication
from .dns_server import txt
from .test_mail_auth import forward, make_keys, sign
from .test_mailgate import MailgateCase

CLIENT = ("127.0.0.2", 0)
GATE_NAME = "gate.test"


def message(sender, to, subject, extra_headers=(), body="Hello from outside.\r\n"):
    lines = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        "Date: Fri, 10 Aug 2012 14:16:26 +0000",
        f"Message-ID: <{subject.replace(' ', '-')}@outside.test>",
        *extra_headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


@tagged("post_install", "-at_install", "mail_routing_policy", "mailgate")
class TestMailgateAuthentication(MailgateCase):
    def setUp(self):
        super().setUp()
        keys = make_keys()
        self.signing_key = keys.rsa2048[0]
        self.sealer_key = keys.sealer[0]
        records = {
            # a third party that signs: DKIM aligned, SPF does not cover 127.0.0.2
            ("signer.test", "TXT"): ["v=spf1 -all"],
            ("_dmarc.signer.test", "TXT"): ["v=DMARC1; p=reject"],
            ("s1._domainkey.signer.test", "TXT"): [keys.rsa2048[1]],
            # our own (alias) domain: only 127.0.0.9 sends for it
            (self.domain, "TXT"): ["v=spf1 ip4:127.0.0.9 -all"],
            (f"_dmarc.{self.domain}", "TXT"): ["v=DMARC1; p=none"],
            ("reject.test", "TXT"): ["v=spf1 -all"],
            ("_dmarc.reject.test", "TXT"): ["v=DMARC1; p=reject"],
            ("nonepolicy.test", "TXT"): ["v=spf1 -all"],
            ("_dmarc.nonepolicy.test", "TXT"): ["v=DMARC1; p=none"],
            ("boss.test", "TXT"): ["v=spf1 -all"],
            ("_dmarc.boss.test", "TXT"): ["v=DMARC1; p=none"],
            # a list that forwards and seals from 127.0.0.2
            ("lists.test", "TXT"): ["v=spf1 ip4:127.0.0.2 -all"],
            ("arc._domainkey.lists.test", "TXT"): [keys.sealer[1]],
        }
        # MailgateCase's loopback DNS server, with the records of these tests
        self.dns.update(
            {key: [txt(text) for text in texts] for key, texts in records.items()}
        )
        self.dns.silent.update({"slow.test", "_dmarc.slow.test"})
        self.addCleanup(self.set_param, "mail.gateway.auth.spoof_action", False)
        self.addCleanup(self.set_param, "mail.gateway.auth.trusted_arc_sealers", False)

    def send(self, controller, mail_from, raw, to=None):
        """``(code, text)`` of the end of DATA."""
        with smtplib.SMTP(
            "127.0.0.1", controller.port, timeout=60, source_address=CLIENT
        ) as client:
            client.ehlo("client.outside.test")
            client.mail(mail_from)
            code, text = client.rcpt(to or self.alias_address)
            self.assertEqual(code, 250, text)
            return client.data(raw)

    def logs(self, subject):
        return self.query(
            "SELECT reason, auth_result, auth_details, client_address FROM "
            "mail_gateway_log WHERE subject = %s ORDER BY id",
            [subject],
        )

    def posted(self, subject):
        return self.query(
            "SELECT gateway_auth_result, gateway_auth_details FROM mail_message WHERE "
            "subject = %s",
            [subject],
        )

    def test_aligned_dkim_pass_routed_with_verdict(self):
        gate = self.start_gate(hostname=GATE_NAME)
        subject = f"Gate {self.tag} signed"
        raw = sign(
            message("Ann <ann@signer.test>", self.alias_address, subject),
            "s1",
            "signer.test",
            self.signing_key,
        )
        self.assertEqual(self.send(gate, "ann@signer.test", raw)[0], 250)
        self.assertEqual(self.partners(), [(subject,)])
        [(result, details)] = self.posted(subject)
        self.assertEqual(result, "pass")
        self.assertTrue(details.startswith(f"{GATE_NAME}; spf=fail"), details)
        self.assertIn("dkim=pass header.d=signer.test", details)

    def test_own_domain_spoof_quarantined_or_refused(self):
        gate = self.start_gate(hostname=GATE_NAME)
        subject = f"Gate {self.tag} spoof"
        raw = message(f"CEO <ceo@{self.domain}>", self.alias_address, subject)
        self.assertEqual(
            self.send(gate, f"ceo@{self.domain}", raw)[0],
            250,
            "accepted: no backscatter",
        )
        self.assertEqual(self.partners(), [])
        [(reason, result, details, client)] = self.logs(subject)
        self.assertEqual((reason, result), ("auth_spoofed", "fail"))
        self.assertIn("spf=fail", details)
        self.assertEqual(client, CLIENT[0], "the entry names the SMTP client")
        # the admin's setting: refuse at the end of DATA
        self.set_param("mail.gateway.auth.spoof_action", "refuse")
        subject = f"Gate {self.tag} spoof refused"
        code, text = self.send(
            gate,
            f"ceo@{self.domain}",
            message(f"ceo@{self.domain}", self.alias_address, subject),
        )
        self.assertEqual((code, text[:5]), (550, b"5.7.1"))
        self.assertEqual(self.partners(), [])
        self.assertEqual(
            [row[0] for row in self.logs(subject)],
            ["auth_spoofed"],
            "logged, processable again",
        )

    def test_internal_user_at_third_party_domain_quarantined(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            user = env["res.users"].create(
                {
                    "name": f"Boss {self.tag}",
                    "login": f"boss-{self.tag}",
                    "email": f"boss-{self.tag}@boss.test",
                }
            )
            user_id, partner_id = user.id, user.partner_id.id
        # cleanups run last first: the user goes before its partner
        self.addCleanup(
            self.query_write, "DELETE FROM res_partner WHERE id = %s", [partner_id]
        )
        self.addCleanup(
            self.query_write, "DELETE FROM res_users WHERE id = %s", [user_id]
        )
        gate = self.start_gate(hostname=GATE_NAME)
        subject = f"Gate {self.tag} boss"
        raw = message(
            f"The Boss <boss-{self.tag}@boss.test>", self.alias_address, subject
        )
        self.assertEqual(self.send(gate, "attacker@attacker.invalid", raw)[0], 250)
        self.assertEqual(self.partners(), [])
        self.assertEqual(self.logs(subject)[0][:2], ("auth_spoofed", "fail"))

    def query_write(self, sql, params):
        with self.registry.cursor() as cr:
            cr.execute(sql, params)

    def test_third_party_policies(self):
        gate = self.start_gate(hostname=GATE_NAME)
        subject = f"Gate {self.tag} reject"
        code, text = self.send(
            gate, "x@reject.test", message("x@reject.test", self.alias_address, subject)
        )
        self.assertEqual(
            (code, text[:5]),
            (550, b"5.7.1"),
            "p=reject: refused in the SMTP transaction",
        )
        self.assertEqual(
            self.logs(subject)[0],
            ("dmarc_reject", "fail", self.logs(subject)[0][2], CLIENT[0]),
        )
        subject = f"Gate {self.tag} none"
        self.assertEqual(
            self.send(
                gate,
                "x@nonepolicy.test",
                message("x@nonepolicy.test", self.alias_address, subject),
            )[0],
            250,
        )
        self.assertEqual(self.partners(), [(subject,)])
        self.assertEqual(
            self.posted(subject)[0][0],
            "fail",
            "p=none: delivered, the verdict recorded",
        )

    def test_forged_results_of_our_name_removed(self):
        gate = self.start_gate(hostname=GATE_NAME)
        subject = f"Gate {self.tag} forged"
        forged = [
            f"Authentication-Results: {GATE_NAME.upper()}; dmarc=pass "
            f"header.from={self.domain}"
        ]
        raw = message(
            f"ceo@{self.domain}", self.alias_address, subject, extra_headers=forged
        )
        self.assertEqual(self.send(gate, f"ceo@{self.domain}", raw)[0], 250)
        self.assertEqual(self.partners(), [], "the forged pass did not help")
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            log = env["mail.gateway.log"].search([("subject", "=", subject)])
            source, reason = log._get_raw_source(), log.reason
        self.assertEqual(reason, "auth_spoofed")
        self.assertEqual(
            source.lower().count(b"authentication-results: gate.test"),
            1,
            "only the mailgate's own",
        )
        self.assertNotIn(b"dmarc=pass", source)

    def raw_session(self, gate, lines):
        """Send raw command lines (bytes, CRLF added) and return the replies' codes."""
        import socket

        with socket.create_connection(
            ("127.0.0.1", gate.port), timeout=30, source_address=CLIENT
        ) as sock:
            reader = sock.makefile("rb")

            def reply():
                while True:
                    line = reader.readline()
                    if not line or line[3:4] != b"-":
                        return line[:3]

            codes = [reply()]
            for line in lines:
                sock.sendall(line + b"\r\n")
                codes.append(reply())
            return codes

    def test_control_characters_in_the_envelope_refused(self):
        """A CR in the envelope sender would become a header of its own once
        written into the message (Return-Path): an outsider's forged
        Authentication-Results above the mailgate's. Control characters, NUL
        and undecodable bytes are refused in every argument (501)."""
        gate = self.start_gate(hostname=GATE_NAME)
        forged = (
            f'"x\rAuthentication-Results:{GATE_NAME};\tdmarc=pass'
            f'\theader.from={self.domain}\rX-J:"@evil.example'
        )
        for mail_from in (
            forged.encode(),
            b"nul\x00@evil.example",
            b"\xff\xfe@evil.example",
        ):
            with self.subTest(mail_from=mail_from):
                codes = self.raw_session(
                    gate,
                    [b"EHLO client.outside.test", b"MAIL FROM:<" + mail_from + b">"],
                )
                self.assertEqual(codes, [b"220", b"250", b"501"])
        codes = self.raw_session(
            gate,
            [
                b"EHLO client.outside.test",
                b"MAIL FROM:<a@outside.test>",
                b"RCPT TO:<x\x00@" + self.domain.encode() + b">",
            ],
        )
        self.assertEqual(codes[-1], b"501")
        self.assertEqual(self.raw_session(gate, [b"EHLO bad\x01name"])[-1], b"501")

    def test_leading_continuation_line_cannot_blank_the_verdict(self):
        """A message whose first line starts with whitespace glues itself to
        the mailgate's header on top: the mailgate's own verdict still
        decides, so a spoof stays a spoof (not "unverified", which the
        default lets through)."""
        gate = self.start_gate(hostname=GATE_NAME)
        subject = f"Gate {self.tag} glued"
        raw = b" (((\r\n" + message(
            f"CEO <ceo@{self.domain}>", self.alias_address, subject
        )
        self.assertEqual(self.send(gate, f"ceo@{self.domain}", raw)[0], 250)
        self.assertEqual(self.partners(), [])
        self.assertEqual(self.logs(subject)[0][:2], ("auth_spoofed", "fail"))

    def test_dns_timeout_is_bounded_temperror(self):
        gate = self.start_gate(hostname=GATE_NAME)
        subject = f"Gate {self.tag} slow"
        started = time.monotonic()
        # the budget cut to 0.75 s (5 s in production): the same bound, sooner
        with patch.object(mail_authentication, "TIME_BUDGET", 0.75):
            code = self.send(
                gate, "x@slow.test", message("x@slow.test", self.alias_address, subject)
            )[0]
        self.assertEqual(code, 250)
        # a correctness bound (the budget plus slack), not a speed target
        self.assertLess(time.monotonic() - started, 0.75 + 5)
        self.assertEqual(
            self.posted(subject)[0][0],
            "temperror",
            "a timeout is never a pass, nor a refusal",
        )

    def test_arc_sealed_forward_from_trusted_sealer(self):
        gate = self.start_gate(hostname=GATE_NAME)
        original = sign(
            message(
                "Ann <ann@signer.test>", self.alias_address, f"Gate {self.tag} list"
            ),
            "s1",
            "signer.test",
            self.signing_key,
        )
        raw = forward(
            original,
            "lists.test",
            self.sealer_key,
            "dkim=pass header.d=signer.test; dmarc=pass header.from=signer.test",
        )
        code, _text = self.send(gate, "list-bounces@lists.test", raw)
        self.assertEqual(
            code,
            550,
            "the list broke the signature: p=reject applies without a trusted sealer",
        )
        self.set_param("mail.gateway.auth.trusted_arc_sealers", "lists.test")
        self.assertEqual(self.send(gate, "list-bounces@lists.test", raw)[0], 250)
        self.assertEqual(self.partners(), [(f"Gate {self.tag} list",)])
        [(result, details)] = self.posted(f"Gate {self.tag} list")
        self.assertEqual(result, "pass")
        self.assertIn("arc=pass", details)

    def test_one_query_per_name_and_type_within_ttl(self):
        gate = self.start_gate(hostname=GATE_NAME)
        for n in range(3):
            # three senders: the alias's loop threshold is 2 per sender
            subject, sender = f"Gate {self.tag} cached {n}", f"ann{n}@signer.test"
            raw = sign(
                message(sender, self.alias_address, subject),
                "s1",
                "signer.test",
                self.signing_key,
            )
            self.assertEqual(self.send(gate, sender, raw)[0], 250)
        self.assertEqual(self.dns.query_count("s1._domainkey.signer.test", "TXT"), 1)
        self.assertEqual(self.dns.query_count("_dmarc.signer.test", "TXT"), 1)

    def test_hostname_must_name_the_results_header(self):
        with self.assertRaisesRegex(ValueError, "not a host name"):
            self.start_gate(hostname="gate test;dmarc=pass")
