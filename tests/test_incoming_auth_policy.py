# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The authentication policy's decision table (tools/incoming/auth_policy.py), pure."""

import dataclasses
import email

from odoo.tests import BaseCase, tagged

from odoo.addons.mail_routing_policy.tools import mail_auth
from odoo.addons.mail_routing_policy.tools.incoming import auth_policy, author_address
from odoo.addons.mail_routing_policy.tools.incoming.auth_policy import AuthFacts, decide

PASS = AuthFacts(result="pass", policy="reject", from_domain="company.example")
FAIL_REJECT = AuthFacts(result="fail", policy="reject", from_domain="other.example")
FAIL_QUARANTINE = AuthFacts(
    result="fail", policy="quarantine", from_domain="other.example"
)
FAIL_NONE = AuthFacts(result="fail", policy="none", from_domain="other.example")
NO_RECORD = AuthFacts(result="none", from_domain="other.example")
TEMPERROR = AuthFacts(result="temperror", from_domain="other.example")
UNVERIFIED = AuthFacts()
VOUCHED = AuthFacts(
    result="fail", policy="reject", from_domain="company.example", arc_vouched=True
)


@tagged("post_install", "-at_install")
class TestAuthPolicy(BaseCase):
    def test_decision_table(self):
        internal, domain = (
            auth_policy.PROTECTED_INTERNAL_USER,
            auth_policy.PROTECTED_DOMAIN,
        )
        cases = [
            # (facts, protected, smtp, options, action, reason)
            (PASS, internal, True, {}, "accept", ""),
            (VOUCHED, internal, True, {}, "accept", ""),
            (NO_RECORD, internal, True, {}, "quarantine", "auth_spoofed"),
            (FAIL_NONE, domain, True, {}, "quarantine", "auth_spoofed"),
            (TEMPERROR, internal, True, {}, "quarantine", "auth_spoofed"),
            (
                FAIL_NONE,
                internal,
                True,
                {"spoof_action": "refuse"},
                "refuse",
                "auth_spoofed",
            ),
            # a fetched message cannot be refused any more
            (
                FAIL_NONE,
                internal,
                False,
                {"spoof_action": "refuse"},
                "quarantine",
                "auth_spoofed",
            ),
            (UNVERIFIED, internal, False, {}, "accept", ""),
            (
                UNVERIFIED,
                internal,
                False,
                {"unverified_action": "quarantine"},
                "quarantine",
                "auth_unverified",
            ),
            # "record only" never relaxes the protection of your own users
            (
                NO_RECORD,
                internal,
                True,
                {"enforce": False},
                "quarantine",
                "auth_spoofed",
            ),
            # third parties: their own policy
            (FAIL_REJECT, "", True, {}, "refuse", "dmarc_reject"),
            (FAIL_REJECT, "", False, {}, "quarantine", "dmarc_reject"),
            (FAIL_QUARANTINE, "", True, {}, "quarantine", "dmarc_quarantine"),
            (FAIL_NONE, "", True, {}, "accept", ""),
            (NO_RECORD, "", True, {}, "accept", ""),
            (TEMPERROR, "", True, {}, "accept", ""),
            (UNVERIFIED, "", False, {"unverified_action": "quarantine"}, "accept", ""),
            (FAIL_REJECT, "", True, {"enforce": False}, "accept", ""),
            (
                AuthFacts(result="fail", policy="reject", arc_vouched=True),
                "",
                True,
                {},
                "accept",
                "",
            ),
        ]
        for facts, protected, smtp, options, action, reason in cases:
            with self.subTest(
                facts=facts, protected=protected, smtp=smtp, options=options
            ):
                decision = decide(facts, protected, smtp=smtp, **options)
                self.assertEqual((decision.action, decision.reason), (action, reason))
                self.assertEqual(decision.protected, protected)

    def test_no_single_author(self):
        """RFC 7489 6.6.1: no single author address is a decision of its own
        for third-party mail; a protected From is judged as before."""
        several = author_address.SEVERAL_ADDRESSES
        passed = AuthFacts(result="pass", from_domain="other.example")
        for action, smtp, expected in (
            ("quarantine", True, "quarantine"),
            ("refuse", True, "refuse"),
            ("refuse", False, "quarantine"),
            ("accept", True, "accept"),
        ):
            with self.subTest(action=action, smtp=smtp):
                decision = decide(
                    passed, "", smtp=smtp, from_problem=several, ambiguous_action=action
                )
                self.assertEqual(decision.action, expected)
                if expected != "accept":
                    self.assertEqual(decision.reason, "ambiguous_from")
        protected = decide(
            AuthFacts(result="fail"),
            "internal_user",
            smtp=True,
            from_problem=several,
            ambiguous_action="accept",
        )
        self.assertEqual(protected.reason, "auth_spoofed")
        self.assertEqual(
            [
                author_address.from_problem(fields)
                for fields in (
                    [],
                    ["a@x.example", "b@y.example"],
                    ["a@x.example, b@y.example"],
                    ["a@x.example, A@X.example."],
                    ["Undisclosed recipients:;"],
                    ['"Ann" <a@x.example>'],
                )
            ],
            [
                "no_from",
                "several_from_fields",
                "several_addresses",
                "",
                "no_address",
                "",
            ],
        )

    def test_raw_from_with_undecodable_charset_kept_as_written(self):
        """An encoded word whose charset name is not ASCII (CharsetError) or
        unknown (LookupError) leaves the From as written instead of failing
        the routing: found by the routing fuzzer."""
        for charset in ("\u00e9", "no-such-charset"):
            with self.subTest(charset=charset):
                field = f"=?{charset}?q?Ann?= <a@x.example>"
                message = email.message_from_string(f"From: {field}\n\nbody\n")
                self.assertEqual(author_address.raw_from_values(message), [field])

    def test_pct_sampling(self):
        """RFC 7489 §6.6.4: outside the sample the next milder policy applies."""
        for policy, pct, bucket, applied in [
            ("reject", 100, 99, "reject"),
            ("reject", 0, 0, "quarantine"),
            ("reject", 50, 49, "reject"),
            ("reject", 50, 50, "quarantine"),
            ("quarantine", 50, 50, "none"),
            ("quarantine", 100, 0, "quarantine"),
            ("none", 100, 0, "none"),
            ("", 100, 0, "none"),
        ]:
            with self.subTest(policy=policy, pct=pct, bucket=bucket):
                self.assertEqual(
                    auth_policy.applied_policy(policy, pct, bucket), applied
                )
        facts = AuthFacts(
            result="fail", policy="reject", pct=0, from_domain="other.example"
        )
        self.assertEqual(decide(facts, "", smtp=True).reason, "dmarc_quarantine")

    def test_sample_bucket_is_stable(self):
        bucket = auth_policy.sample_bucket("<a@b>")
        self.assertEqual(bucket, auth_policy.sample_bucket(" <a@b> "))
        self.assertTrue(0 <= bucket < 100)
        buckets = {auth_policy.sample_bucket(f"<{n}@example>") for n in range(500)}
        self.assertGreater(len(buckets), 90, "the buckets spread over 0..99")

    def test_summary(self):
        self.assertEqual(VOUCHED.summary, "pass")
        self.assertEqual(UNVERIFIED.summary, "unverified")
        self.assertFalse(UNVERIFIED.verified)
        self.assertEqual(AuthFacts(result="bogus").summary, "permerror")
        self.assertEqual(
            PASS.message_values(),
            {"gateway_auth_result": "pass", "gateway_auth_details": False},
        )

    def test_domain_helpers(self):
        self.assertTrue(
            auth_policy.domain_in("mail.company.example", ["company.example"])
        )
        self.assertTrue(auth_policy.domain_in("Company.Example.", ["company.example"]))
        self.assertFalse(
            auth_policy.domain_in("evilcompany.example", ["company.example"])
        )
        self.assertFalse(auth_policy.domain_in("", ["company.example"]))
        self.assertEqual(
            auth_policy.split_list(" A.example, b.example.  a.example ,"),
            ("a.example", "b.example"),
        )

    def test_handed_over_facts_equal_the_header_read_back(self):
        """The mailgate hands its verdict to the model layer instead of the
        model layer parsing the header it has just written: both give the
        same facts."""
        gate = "gate.test"
        dmarc = mail_auth.DmarcResult
        verdicts = [
            mail_auth.AuthVerdict(
                spf=mail_auth.SpfResult(
                    "pass", "mailfrom", "example.test", "ann@example.test"
                ),
                dkim=(
                    mail_auth.DkimResult(
                        "pass", "example.test", "s1", "rsa-sha256", 2048
                    ),
                ),
                dmarc=dmarc(
                    "pass",
                    "example.test",
                    "example.test",
                    "example.test",
                    "reject",
                    100,
                    "reject",
                ),
            ),
            mail_auth.AuthVerdict(
                spf=mail_auth.SpfResult(
                    "fail", "mailfrom", "attacker.invalid", "x@attacker.invalid"
                ),
                dmarc=dmarc(
                    "fail",
                    "bank.test",
                    "bank.test",
                    "bank.test",
                    "reject",
                    10,
                    "quarantine",
                ),
            ),
            mail_auth.AuthVerdict(
                spf=mail_auth.SpfResult(
                    "none", "helo", "mx.example.test", "mx.example.test"
                ),
                dmarc=dmarc("none", "nodmarc.test", "nodmarc.test"),
            ),
            mail_auth.AuthVerdict(
                dmarc=dmarc(
                    "fail",
                    "list.test",
                    "list.test",
                    "list.test",
                    "reject",
                    100,
                    "reject",
                ),
                arc=mail_auth.ArcResult("pass", ("forwarder.test",)),
                arc_override="forwarder.test",
            ),
            mail_auth.AuthVerdict(
                dmarc=dmarc("temperror", "slow.test", "slow.test", reason="dns_timeout")
            ),
        ]
        for verdict in verdicts:
            verdict = dataclasses.replace(verdict, authserv_id=gate)
            header = verdict.header_value(gate)
            with self.subTest(header=header):
                handed = auth_policy.facts_from_results(verdict, header)
                read = auth_policy.facts_from_results(
                    mail_auth.read_results([header], [gate])
                )
                self.assertEqual(handed, read)
                self.assertEqual(handed.header, header)
        self.assertTrue(
            mail_auth.same_header_value(
                "gate.test;\r\n spf=pass", " gate.test; spf=pass"
            )
        )
        self.assertFalse(
            mail_auth.same_header_value("gate.test; spf=pass", "gate.test; spf=fail")
        )
