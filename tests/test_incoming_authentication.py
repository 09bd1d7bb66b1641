# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Who may speak for whom: the authentication policy on every path into
message_process (here fetchmail's / XML-RPC's: no SMTP transaction, the
Authentication-Results of servers the admin trusts)."""

import dataclasses

from odoo.exceptions import AccessError
from odoo.tests import tagged, users
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.addons.mail_routing_policy.models.mail_thread_incoming import (
    CONTEXT_AUTH_FACTS,
    CONTEXT_BYPASS,
    CONTEXT_SMTP,
    CONTEXT_TRUSTED_AUTHSERV_ID,
    GatewayRefusal,
)
from odoo.addons.mail_routing_policy.tools.incoming.auth_policy import AuthFacts

from .common import GatewayCase, delete_committed_logs, load_german

TRUSTED = "mx.provider.test"


def results(
    dmarc, policy="none", header_from="thirdparty.example", authserv_id=TRUSTED
):
    return (
        f"Authentication-Results: {authserv_id}; spf=fail "
        "smtp.mailfrom=attacker.invalid;\n"
        f" dkim=none; dmarc={dmarc} policy.dmarc={policy} header.from={header_from}\n"
    )


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestAuthentication(GatewayCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ICP.set_param("mail.gateway.auth.trusted_authserv_ids", TRUSTED)
        # an internal user whose address is at a third-party domain
        cls.boss = mail_new_test_user(
            cls.env,
            login="boss",
            name="The Boss",
            email="boss@thirdparty.example",
            groups="base.group_user",
        )
        cls.alias_partners = cls._make_alias("partnersonly", alias_contact="partners")

    def deliver(self, email_from, to, subject, extra="", **kwargs):
        return self.process(email_from, to, subject=subject, extra=extra, **kwargs)

    # ------------------------------------------------------------------
    # internal users and protected domains need proof
    # ------------------------------------------------------------------

    def test_internal_user_impersonation_quarantined(self):
        record = self.deliver(
            "The Boss <boss@thirdparty.example>",
            self.alias_partners.display_name,
            "Forged boss",
            extra=results("fail", "none"),
        )
        self.assertFalse(record, "nothing routed")
        log = self.logs(subject="Forged boss")
        self.assertEqual(log.reason, "auth_spoofed")
        self.assertEqual(log.auth_result, "fail")
        self.assertTrue(log.auth_details.startswith(TRUSTED))
        self.assertTrue(log._get_raw_source(), "the source is kept")
        self.assertIn("one of your users", log.explanation)
        self.assertTrue(log.explanation.startswith("Quarantined:"), log.explanation)
        self.assertEqual(
            (log.alias_id, log.model),
            (self.alias_partners, "res.partner"),
            "where it was going",
        )
        # its badge is not a refusal's, its target model is named as users know it
        self.assertEqual(log.status, "quarantined")
        self.assertEqual(log.model_label, "Contact")
        # a false positive: the admin sees what processing again would do,
        # then processes it again, as the user
        action = log.action_confirm_process_again()
        confirm = self.env[action["res_model"]].browse(action["res_id"])
        self.assertIn("create a new Contact", confirm.preview)
        confirm.action_process_again()
        self.assertIn("Processed again: created Contact", log.result)
        record = self.env["res.partner"].search([("name", "=", "Forged boss")])
        self.assertEqual(log.state, "done")
        self.assertEqual(record.create_uid, self.boss)

    def test_internal_user_with_dmarc_pass_routed_as_core(self):
        record = self.deliver(
            "The Boss <boss@thirdparty.example>",
            self.alias_partners.display_name,
            "Real boss",
            extra=results("pass", "reject"),
        )
        self.assertEqual(record.create_uid, self.boss)
        message = record.message_ids.filtered(lambda m: m.message_type == "email")
        self.assertEqual(message.gateway_auth_result, "pass")
        self.assertTrue(message.gateway_auth_details.startswith(TRUSTED))
        self.assertFalse(self.logs(subject="Real boss"))

    def test_protected_domain_needs_proof_whatever_its_policy(self):
        # the alias domain itself: p=none or no record does not help
        for subject, header in [
            ("Own domain none", results("none", header_from="test.mycompany.com")),
            (
                "Own domain p=none",
                results("fail", "none", header_from="test.mycompany.com"),
            ),
        ]:
            with self.subTest(subject=subject):
                self.assertFalse(
                    self.deliver(
                        "ceo@test.mycompany.com",
                        "commercial@test.mycompany.com",
                        subject,
                        header,
                    )
                )
                self.assertEqual(self.logs(subject=subject).reason, "auth_spoofed")
        # a domain the admin adds, subdomains included
        self.ICP.set_param(
            "mail.gateway.auth.protected_domains", "Partner-Bank.example"
        )
        self.assertEqual(
            self.ICP.get_param("mail.gateway.auth.protected_domains"),
            "partner-bank.example",
        )
        self.assertFalse(
            self.deliver(
                "alerts@mail.partner-bank.example",
                "commercial@test.mycompany.com",
                "Bank alert",
                results("none", header_from="mail.partner-bank.example"),
            )
        )
        self.assertEqual(self.logs(subject="Bank alert").reason, "auth_spoofed")

    def test_untrusted_and_lower_results_are_never_read(self):
        """A forged header of another authserv-id, or one below the trusted
        server's own, changes nothing."""
        forged = results("pass", "reject", authserv_id="mx.attacker.invalid")
        self.ICP.set_param("mail.gateway.auth.unverified_action", "quarantine")
        self.assertFalse(
            self.deliver(
                "boss@thirdparty.example",
                "commercial@test.mycompany.com",
                "Forged AR",
                forged,
            )
        )
        log = self.logs(subject="Forged AR")
        self.assertEqual(
            (log.reason, log.auth_result), ("auth_unverified", "unverified")
        )
        # the topmost trusted header counts, not a pass written below it
        stacked = results("fail", "none") + results("pass", "none")
        self.assertFalse(
            self.deliver(
                "boss@thirdparty.example",
                "commercial@test.mycompany.com",
                "Stacked",
                stacked,
            )
        )
        self.assertEqual(self.logs(subject="Stacked").auth_result, "fail")

    def test_caller_context_cannot_weaken_the_policy(self):
        """The context keys the mailgate and *Process again* set are read on
        a superuser environment only: a user calling message_process (over
        RPC the context is the caller's to write) gains nothing with them."""
        forged = results("pass", "reject", authserv_id="mx.attacker.invalid")
        written = (
            "gate.test; spf=pass; dkim=pass; dmarc=pass "
            "header.from=thirdparty.example; arc=none"
        )
        raw = self.raw(
            "The Boss <boss@thirdparty.example>",
            self.alias_partners.display_name,
            subject="Context forged",
            extra=f"Authentication-Results: {written}\n" + forged,
        )
        context = {
            CONTEXT_BYPASS: "auth_spoofed",
            CONTEXT_TRUSTED_AUTHSERV_ID: "mx.attacker.invalid",
            CONTEXT_AUTH_FACTS: (
                written,
                AuthFacts(result="pass", authserv_id="gate.test", header=written),
            ),
        }
        admin = self.env.ref("base.user_admin")
        self.ICP.set_param("mail.gateway.auth.unverified_action", "quarantine")
        thread = self.env["mail.thread"].with_user(admin).with_context(**context)
        self.assertFalse(thread.env.su)
        with mute_logger("odoo.addons.mail_routing_policy.models.mail_gateway_log"):
            self.assertFalse(thread.message_process(False, raw))
        log = self.logs(subject="Context forged")
        self.assertEqual(
            (log.reason, log.auth_result), ("auth_unverified", "unverified")
        )
        self.assertFalse(
            self.env["res.partner"].search([("name", "=", "Context forged")])
        )

    def test_mailgate_verdict_decides_on_its_path(self):
        """On the mailgate's path the model layer takes the verdict the
        mailgate computed for this message, whatever header sits on top (a
        header smuggled above the mailgate's must not replace it)."""
        written = (
            "gate.test; spf=pass; dkim=none; dmarc=pass "
            "header.from=thirdparty.example; arc=none"
        )
        facts = AuthFacts(
            result="pass",
            from_domain="thirdparty.example",
            authserv_id="gate.test",
            header=written,
        )
        thread = (
            self.env["mail.thread"]
            .sudo()
            .with_context(
                **{
                    CONTEXT_AUTH_FACTS: (written, facts),
                    CONTEXT_TRUSTED_AUTHSERV_ID: "gate.test",
                }
            )
        )
        record = thread.message_process(
            False,
            self.raw(
                "The Boss <boss@thirdparty.example>",
                self.alias_partners.display_name,
                subject="Handed over",
                extra=f"Authentication-Results: {written}\n",
            ),
        )
        self.assertTrue(record)
        message = self.env["mail.message"].search(
            [("subject", "=", "Handed over"), ("message_type", "=", "email")]
        )
        self.assertEqual(
            (message.gateway_auth_result, message.gateway_auth_details),
            ("pass", written),
        )
        failed = dataclasses.replace(
            facts, result="fail", header=written.replace("dmarc=pass", "dmarc=fail")
        )
        thread = thread.with_context(**{CONTEXT_AUTH_FACTS: (failed.header, failed)})
        smuggled = results(
            "pass", "reject", header_from="thirdparty.example", authserv_id="gate.test"
        )
        with mute_logger(
            "odoo.addons.mail_routing_policy.models.mail_gateway_log",
            "odoo.addons.mail_routing_policy.models.mail_thread_incoming",
        ):
            self.assertFalse(
                thread.message_process(
                    False,
                    self.raw(
                        "The Boss <boss@thirdparty.example>",
                        self.alias_partners.display_name,
                        subject="Smuggled pass",
                        extra=smuggled + f"Authentication-Results: {failed.header}\n",
                    ),
                )
            )
        log = self.logs(subject="Smuggled pass")
        self.assertEqual((log.reason, log.auth_result), ("auth_spoofed", "fail"))

    def test_unverified_path_keeps_core_behaviour_unless_tightened(self):
        record = self.deliver(
            "The Boss <boss@thirdparty.example>",
            "commercial@test.mycompany.com",
            "Fetched boss",
        )
        self.assertEqual(
            record.create_uid, self.boss, "as core: fetchmail without a trusted result"
        )
        message = record.message_ids.filtered(lambda m: m.message_type == "email")
        self.assertEqual(message.gateway_auth_result, "unverified")
        self.ICP.set_param("mail.gateway.auth.unverified_action", "quarantine")
        self.assertFalse(
            self.deliver(
                "The Boss <boss@thirdparty.example>",
                "commercial@test.mycompany.com",
                "Fetched again",
            )
        )
        self.assertEqual(self.logs(subject="Fetched again").reason, "auth_unverified")
        # an outsider is not affected by the tightening
        self.assertTrue(
            self.deliver(
                "ann@customer.example", "commercial@test.mycompany.com", "Outsider"
            )
        )

    # ------------------------------------------------------------------
    # third-party domains: their own DMARC policy
    # ------------------------------------------------------------------

    def test_third_party_policies(self):
        cases = [
            ("Reject policy", "fail", "reject", "dmarc_reject"),
            ("Quarantine policy", "fail", "quarantine", "dmarc_quarantine"),
            ("None policy", "fail", "none", None),
            ("No record", "none", "none", None),
        ]
        for subject, dmarc, policy, reason in cases:
            with self.subTest(subject=subject):
                record = self.deliver(
                    "ann@thirdparty.example",
                    "commercial@test.mycompany.com",
                    subject,
                    results(dmarc, policy),
                )
                if reason:
                    self.assertFalse(record)
                    self.assertEqual(self.logs(subject=subject).reason, reason)
                else:
                    self.assertEqual(len(record), 1)
                    message = record.message_ids.filtered(
                        lambda m: m.message_type == "email"
                    )
                    self.assertEqual(message.gateway_auth_result, dmarc)

    def test_no_single_author_quarantined_unless_accepted(self):
        """RFC 7489 6.6.1 (kept by RFC 9989): a From with several addresses,
        several From fields or no address gives DMARC no author domain (a
        permerror) and receivers may reject it: quarantined by default,
        routed as core (the first address is the author) when the admin
        accepts it, and a user's address in any of them needs proof."""
        to = "commercial@test.mycompany.com"
        cases = [
            ("Two authors", "ann@thirdparty.example, bob@other.example", ""),
            ("Two From fields", "ann@thirdparty.example", "From: bob@other.example\n"),
            ("No author address", "Undisclosed senders:;", ""),
        ]
        problems = {
            "Two authors": "several_addresses",
            "Two From fields": "several_from_fields",
            "No author address": "no_address",
        }
        for subject, email_from, extra in cases:
            with self.subTest(subject=subject):
                self.assertFalse(self.deliver(email_from, to, subject, extra))
                log = self.logs(subject=subject)
                self.assertEqual(log.reason, "ambiguous_from")
                self.assertEqual(log.detail_params["from_problem"], problems[subject])
                self.assertTrue(log.explanation.startswith("Quarantined:"))
                self.assertIn("no single author", log.explanation)
        self.ICP.set_param("mail.gateway.auth.ambiguous_from_action", "accept")
        record = self.deliver(
            "ann@thirdparty.example, bob@other.example", to, "Accepted two authors"
        )
        self.assertEqual(len(record), 1, "routed as core")
        self.assertFalse(
            self.deliver(
                "ann@thirdparty.example, The Boss <boss@thirdparty.example>",
                to,
                "Boss second",
                results("fail", "none"),
            ),
            "a user's address anywhere in From needs proof",
        )
        self.assertEqual(self.logs(subject="Boss second").reason, "auth_spoofed")
        self.ICP.set_param("mail.gateway.auth.ambiguous_from_action", "refuse")
        thread = (
            self.env["mail.thread"]
            .sudo()
            .with_context(
                **{CONTEXT_SMTP: True, CONTEXT_TRUSTED_AUTHSERV_ID: "gate.test"}
            )
        )
        with (
            self.assertRaises(GatewayRefusal) as refused,
            mute_logger("odoo.addons.mail_routing_policy.models.mail_gateway_log"),
        ):
            thread.message_process(
                False,
                self.raw(
                    "ann@thirdparty.example, bob@other.example",
                    to,
                    subject="Refused two authors",
                    msg_id="<two-authors@thirdparty.example>",
                ),
            )
        self.assertEqual(refused.exception.reason, "ambiguous_from")
        with self.env.registry.cursor() as cr:
            cr.execute(
                "DELETE FROM mail_gateway_log WHERE message_id = %s RETURNING reason",
                ["<two-authors@thirdparty.example>"],
            )
            self.assertEqual(cr.fetchall(), [("ambiguous_from",)])

    def test_author_stored_as_readers_must_see_it(self):
        """The root dot of a domain names the same domain (RFC 1034 3.1):
        the author is found; a display name that looks like another
        address is followed by the real one, as mail clients show it."""
        to = "commercial@test.mycompany.com"
        known = self.env["res.partner"].create(
            {"name": "Known Ann", "email": "ann@thirdparty.example"}
        )
        forms = [
            ('"Ann" <ann@thirdparty.example.>', '"Ann" <ann@thirdparty.example>'),
            ("ann@thirdparty.example. (Ann)", '"Ann" <ann@thirdparty.example>'),
            ("<@relay.example:ann@thirdparty.example>", "ann@thirdparty.example"),
            (
                '"boss@thirdparty.example" <x@evil.example>',
                '"boss@thirdparty.example [x@evil.example]" <x@evil.example>',
            ),
        ]
        for index, (email_from, stored) in enumerate(forms):
            with self.subTest(email_from=email_from):
                subject = f"Author form {index}"
                record = self.deliver(email_from, to, subject)
                self.assertEqual(
                    len(record), 1, self.logs(subject=subject).mapped("explanation")
                )
                message = record.message_ids.filtered(
                    lambda m: m.message_type == "email"
                )
                self.assertEqual(message.email_from, stored)
                if "ann@" in stored:
                    self.assertEqual(
                        message.author_id.email_normalized,
                        known.email_normalized,
                        "the author is found",
                    )
                else:
                    self.assertNotEqual(
                        message.author_id, self.boss.partner_id, "never the user"
                    )

    def test_alias_domain_record_only(self):
        self.mail_alias_domain.auth_dmarc_enforcement = "record"
        record = self.deliver(
            "ann@thirdparty.example",
            "commercial@test.mycompany.com",
            "Recorded",
            results("fail", "reject"),
        )
        self.assertEqual(len(record), 1)
        self.assertEqual(
            record.message_ids.filtered(
                lambda m: m.message_type == "email"
            ).gateway_auth_result,
            "fail",
        )
        # your own users stay protected
        self.assertFalse(
            self.deliver(
                "boss@thirdparty.example",
                "commercial@test.mycompany.com",
                "Still boss",
                results("fail"),
            )
        )

    # ------------------------------------------------------------------
    # the mailgate's path: still in the SMTP transaction
    # ------------------------------------------------------------------

    def test_smtp_path_refuses_and_logs_in_its_own_transaction(self):
        raw = self.raw(
            "ann@thirdparty.example",
            "commercial@test.mycompany.com",
            subject="Refused at DATA",
            extra=results("fail", "reject", authserv_id="gate.test"),
            msg_id="<refused-at-data@thirdparty.example>",
        )
        thread = (
            self.env["mail.thread"]
            .sudo()
            .with_context(
                **{CONTEXT_SMTP: True, CONTEXT_TRUSTED_AUTHSERV_ID: "gate.test"}
            )
        )
        with (
            self.assertRaises(GatewayRefusal) as ctx,
            mute_logger("odoo.addons.mail_routing_policy.models.mail_gateway_log"),
        ):
            thread.message_process(False, raw)
        self.assertEqual(ctx.exception.reason, "dmarc_reject")
        with self.env.registry.cursor() as cr:
            cr.execute(
                "SELECT id, reason, auth_result, detail_params FROM mail_gateway_log "
                "WHERE message_id = %s",
                ["<refused-at-data@thirdparty.example>"],
            )
            rows = cr.fetchall()
            delete_committed_logs(cr, [row[0] for row in rows])
        self.assertEqual([row[1:3] for row in rows], [("dmarc_reject", "fail")])
        self.assertTrue(rows[0][3]["smtp"])
        # without the mailgate's context the same header is nobody's
        self.assertTrue(
            self.deliver(
                "ann@thirdparty.example",
                "commercial@test.mycompany.com",
                "Not via the gate",
                results("fail", "reject", authserv_id="gate.test"),
            )
        )

    # ------------------------------------------------------------------
    # explainer, security
    # ------------------------------------------------------------------

    def test_explainer_shows_the_verdict(self):
        check = self.env["mail.routing.check"].create(
            {
                "raw_message": self.raw(
                    "boss@thirdparty.example",
                    "commercial@test.mycompany.com",
                    "Ex",
                    extra=results("fail"),
                )
            }
        )
        check.action_explain()
        self.assertIn("DMARC", check.steps)
        self.assertIn(TRUSTED, check.steps)
        self.assertIn("one of your users", check.verdict)
        self.assertIn("Would be quarantined", check.verdict)
        self.assertFalse(self.logs(subject="Ex"), "a dry run logs nothing")

    def test_explainer_names_the_setting_that_lets_unverified_mail_through(self):
        """An internal user's From that no trusted server checked needs proof,
        yet is routed: the explainer says which setting lets it through,
        with the setting's and its value's labels as the screen shows them
        (issue 30, 7)."""
        raw = self.raw("boss@thirdparty.example", "commercial@test.mycompany.com", "Un")
        check = self.env["mail.routing.check"].create({"raw_message": raw})
        check.action_explain()
        self.assertIn("Would create a new Contact", check.verdict)
        for words in (
            "it needs proof",
            "It is routed all the same: “Unverified mail in your name” is set to "
            "“Route it as Odoo does”",
            "“Quarantine in the gateway log”",
        ):
            self.assertIn(words, check.steps)
        german = load_german(self.env)
        check_de = german["mail.routing.check"].create({"raw_message": raw})
        check_de.action_explain()
        self.assertIn("„Ungeprüfte E-Mails in Ihrem Namen“ steht auf", check_de.steps)
        self.assertIn("„Normal zustellen (wie in Odoo üblich)“", check_de.steps)
        # quarantined instead: no such sentence, the verdict says it
        self.ICP.set_param("mail.gateway.auth.unverified_action", "quarantine")
        check.action_explain()
        self.assertIn("Would be quarantined", check.verdict)
        self.assertNotIn("routed all the same", check.steps)

    @users("employee")
    def test_verdict_fields_are_admin_only(self):
        with self.assertRaises(AccessError):
            self.env["mail.message"].search([("gateway_auth_result", "=", "fail")])
        with self.assertRaises(AccessError):
            self.env["mail.gateway.log"].search([("auth_result", "=", "fail")])
