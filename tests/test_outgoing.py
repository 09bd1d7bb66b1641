# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Outgoing server selection, sender rewriting and the Check sender explainer."""

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import BaseCase, tagged
from odoo.tools import mute_logger

from odoo.addons.base.models.ir_mail_server import MailDeliveryException
from odoo.addons.mail.tests.common import MailCommon
from odoo.addons.mail_routing_policy.tools import address_filter
from odoo.addons.mail_routing_policy.tools.outgoing import sender_policy

from .common import person_mail


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestOutgoingRouting(MailCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ICP = cls.env["ir.config_parameter"].sudo()
        cls.env["ir.mail_server"].search([]).unlink()
        base = {"smtp_host": "smtp.invalid", "smtp_encryption": "none"}
        cls.srv_exact, cls.srv_domain, cls.srv_wide, cls.srv_narrow, cls.srv_notif = (
            cls.env["ir.mail_server"].create(
                [
                    {
                        "name": "Exact",
                        "from_filter": "ceo@corp.example",
                        "sequence": 30,
                        **base,
                    },
                    {
                        "name": "Domain",
                        "from_filter": "corp.example",
                        "sequence": 20,
                        **base,
                    },
                    {
                        "name": "Wide wildcard",
                        "from_filter": "*.corp.example",
                        "sequence": 1,
                        **base,
                    },
                    {
                        "name": "Narrow wildcard",
                        "from_filter": "*.eu.corp.example",
                        "sequence": 50,
                        **base,
                    },
                    {
                        "name": "Notifications",
                        "from_filter": "test.mycompany.com",
                        "sequence": 40,
                        **base,
                    },
                ]
            )
        )

    def find(self, email_from):
        server, smtp_from = self.env["ir.mail_server"]._find_mail_server(email_from)
        return server, smtp_from

    # ------------------------------------------------------------------
    # grammar on the model
    # ------------------------------------------------------------------

    def test_from_filter_normalised_and_validated(self):
        server = self.env["ir.mail_server"].create(
            {
                "name": "N",
                "smtp_host": "h",
                "from_filter": " Bücher.Example , .Sub.Example.COM",
            }
        )
        self.assertEqual(server.from_filter, "xn--bcher-kva.example,*.sub.example.com")
        for bad in (
            "foo@",
            "@bar",
            "exa mple.com",
            "*.com",
            "ok.com,x\r\nBcc: evil@x.com",
        ):
            with self.subTest(bad=bad), self.assertRaises(ValidationError) as ctx:
                server.write({"from_filter": bad})
            self.assertIn("invalid entry", str(ctx.exception))
        with self.assertRaises(ValidationError) as ctx:
            server.write({"from_filter": "good.com, @bar"})
        self.assertIn("'@bar'", str(ctx.exception))
        with self.assertRaises(ValidationError):
            self.ICP.set_param("mail.default.from_filter", "foo@")
        self.ICP.set_param("mail.default.from_filter", " Example.COM ")
        self.assertEqual(self.ICP.get_param("mail.default.from_filter"), "example.com")

    # ------------------------------------------------------------------
    # tiers
    # ------------------------------------------------------------------

    def test_tier_exact_address_beats_domain_and_sequence(self):
        server, smtp_from = self.find('"CEO" <CEO@Corp.Example>')
        self.assertEqual(server, self.srv_exact)
        self.assertEqual(smtp_from, '"CEO" <CEO@Corp.Example>', "sender kept as is")

    def test_tier_domain_beats_wildcard(self):
        self.assertEqual(self.find("ann@corp.example")[0], self.srv_domain)

    def test_tier_wildcard_most_specific_first(self):
        self.assertEqual(self.find("ann@mail.eu.corp.example")[0], self.srv_narrow)
        self.assertEqual(self.find("ann@us.corp.example")[0], self.srv_wide)
        decision = self.env["ir.mail_server"]._sender_decision(
            "ann@mail.eu.corp.example"
        )
        self.assertEqual(decision.tier, 3)
        self.assertEqual(
            decision.candidate_ids,
            tuple((self.srv_narrow | self.srv_wide).ids),
            "failover order",
        )

    def test_tier_tie_break_sequence_then_id(self):
        twin = self.srv_domain.copy({"name": "Domain twin", "sequence": 20})
        early = self.srv_domain.copy({"name": "Domain early", "sequence": 5})
        decision = self.env["ir.mail_server"]._sender_decision("ann@corp.example")
        self.assertEqual(
            decision.candidate_ids, (early.id, self.srv_domain.id, twin.id)
        )

    def test_tier_default_from(self):
        server, smtp_from = self.find('"Ann" <ann@gmail.com>')
        self.assertEqual(server, self.srv_notif)
        self.assertEqual(smtp_from, "notifications.test@test.mycompany.com")
        decision = self.env["ir.mail_server"]._sender_decision("ann@gmail.com")
        self.assertEqual(decision.tier, 4)
        self.assertTrue(decision.rewritten)

    def test_tier_unfiltered_server(self):
        self.srv_notif.from_filter = "other.example"
        free = self.env["ir.mail_server"].create(
            {"name": "Free", "smtp_host": "h", "sequence": 99}
        )
        server, smtp_from = self.find("ann@gmail.com")
        self.assertEqual(server, free)
        self.assertEqual(smtp_from, "notifications.test@test.mycompany.com")

    def test_no_match_policy_rewrite_and_block(self):
        self.srv_notif.from_filter = "other.example"
        with self.assertLogs(
            "odoo.addons.mail_routing_policy.models.ir_mail_server_outgoing", "WARNING"
        ):
            server, smtp_from = self.find("ann@gmail.com")
        self.assertEqual(server, self.srv_wide, "first server by sequence")
        self.assertEqual(smtp_from, "notifications.test@test.mycompany.com")
        self.ICP.set_param("mail.default.from_policy", "block")
        with self.assertRaises(MailDeliveryException) as ctx:
            self.find("ann@gmail.com")
        self.assertIn("ann@gmail.com", str(ctx.exception))
        with self.assertRaises(ValidationError):
            self.ICP.set_param("mail.default.from_policy", "drop")

    def test_block_policy_keeps_mail_queued_with_reason(self):
        self.srv_notif.from_filter = "other.example"
        self.ICP.set_param("mail.default.from_policy", "block")
        mail = self.env["mail.mail"].create(
            {
                "email_from": "ann@gmail.com",
                "email_to": "bob@example.org",
                "subject": "S",
                "body_html": "<p>x</p>",
            }
        )
        with (
            self.mock_mail_gateway(),
            mute_logger("odoo.addons.mail_routing_policy.models.mail_mail_outgoing"),
        ):
            mail.send()
        self.assertEqual(mail.state, "exception")
        self.assertIn("ann@gmail.com", mail.failure_reason)
        self.assertIn("Do not send", mail.failure_reason)
        self.assertFalse(self.emails, "nothing went on the wire")
        # the admin fixes the configuration and retries: the mail leaves once
        self.srv_notif.from_filter = "test.mycompany.com"
        mail.mark_outgoing()
        with self.mock_mail_gateway():
            mail.send()
        self.assertEqual(mail.state, "sent")
        self.assertEqual(len(self.emails), 1)
        self.assertEqual(mail.sent_mail_server_id, self.srv_notif)

    def test_no_servers_uses_cli_filter(self):
        self.env["ir.mail_server"].search([]).unlink()
        self.ICP.set_param("mail.default.from_filter", "*.mycompany.com")
        self.assertEqual(
            self.find("ann@test.mycompany.com"), (None, "ann@test.mycompany.com")
        )
        self.assertEqual(
            self.find("ann@gmail.com"), (None, "notifications.test@test.mycompany.com")
        )

    def test_archived_server_never_used(self):
        self.srv_exact.active = False
        self.assertEqual(self.find("ceo@corp.example")[0], self.srv_domain)

    # ------------------------------------------------------------------
    # mail.default.from
    # ------------------------------------------------------------------

    def test_default_from_param_local_part_full_address_unset(self):
        Server = self.env["ir.mail_server"]
        self.assertEqual(
            Server._get_default_from_address(), "notifications.test@test.mycompany.com"
        )
        self.ICP.set_param("mail.default.from", "robot")
        self.assertEqual(Server._get_default_from_address(), "robot@test.mycompany.com")
        self.srv_notif.from_filter = "robot@test.mycompany.com"
        self.assertEqual(
            self.find("ann@gmail.com"), (self.srv_notif, "robot@test.mycompany.com")
        )
        self.ICP.set_param("mail.default.from", "News@Corp.Example")
        self.assertEqual(
            self.find("ann@gmail.com"), (self.srv_domain, "news@corp.example")
        )
        with self.assertRaises(ValidationError):
            self.ICP.set_param("mail.default.from", "two words")

    def test_default_from_local_part_uses_catchall_domain_without_alias_domain(self):
        self.env.company.alias_domain_id = False
        self.ICP.set_param("mail.catchall.domain", "legacy.example")
        self.ICP.set_param("mail.default.from", "robot")
        self.assertEqual(
            self.env["ir.mail_server"]._get_default_from_address(),
            "robot@legacy.example",
        )

    def test_legacy_force_smtp_from(self):
        self.ICP.set_param("mail.force.smtp.from", "old@corp.example")
        with self.assertLogs(
            "odoo.addons.mail_routing_policy.models.ir_mail_server_outgoing", "WARNING"
        ) as logs:
            server, smtp_from = self.find("ann@gmail.com")
        self.assertIn("mail.force.smtp.from", logs.output[0])
        self.assertEqual((server, smtp_from), (self.srv_domain, "old@corp.example"))
        from odoo.addons.mail_routing_policy.hooks import post_init_hook

        post_init_hook(self.env)
        self.assertEqual(self.ICP.get_param("mail.default.from"), "old@corp.example")
        self.assertFalse(self.ICP.get_param("mail.force.smtp.from"))

    # ------------------------------------------------------------------
    # what goes on the wire
    # ------------------------------------------------------------------

    def _new_mail(self, email_from, **values):
        return person_mail(self.env, email_from, **values)

    def _send_mail(self, email_from, **values):
        mail = self._new_mail(email_from, **values)
        with self.mock_mail_gateway():
            mail.send()
        self.assertEqual(len(self.emails), 1)
        return mail, self.emails[0]

    def test_rewritten_from_keeps_display_name_and_bounce_envelope(self):
        _mail, sent = self._send_mail('"Ann Author" <ann@gmail.com>')
        self.assertEqual(
            sent["msg_from"], "Ann Author <notifications.test@test.mycompany.com>"
        )
        self.assertIn(
            'From: "Ann Author" <notifications.test@test.mycompany.com>',
            sent["message"],
        )
        self.assertEqual(
            sent["smtp_from"],
            "bounce.test@test.mycompany.com",
            "bounces come back to Odoo",
        )
        self.assertEqual(sent["from_filter"], "test.mycompany.com")

    def test_display_format(self):
        self.ICP.set_param("mail.default.from_display", "{name} via {company}")
        _mail, sent = self._send_mail('"Ann Author" <ann@gmail.com>')
        self.assertEqual(
            sent["msg_from"],
            "Ann Author via YourTestCompany <notifications.test@test.mycompany.com>",
        )
        self.assertIn(
            'From: "Ann Author via YourTestCompany" '
            "<notifications.test@test.mycompany.com>",
            sent["message"],
        )
        with self.assertRaises(ValidationError):
            self.ICP.set_param("mail.default.from_display", "{name} <{email}>")

    def test_author_allowed_not_rewritten_and_envelope_server_allows(self):
        # the bounce address is not allowed by the Domain server: the envelope
        # must be one the server accepts, not the refused bounce address
        _mail, sent = self._send_mail('"Ann" <ann@corp.example>')
        self.assertEqual(sent["msg_from"], "Ann <ann@corp.example>")
        self.assertEqual(sent["smtp_from"], "ann@corp.example")

    def test_pinned_server_mismatch_is_rewritten(self):
        _mail, sent = self._send_mail(
            '"Ann" <ann@gmail.com>', mail_server_id=self.srv_notif.id
        )
        self.assertEqual(
            sent["msg_from"], "Ann <notifications.test@test.mycompany.com>"
        )
        self.assertIn(
            'From: "Ann" <notifications.test@test.mycompany.com>', sent["message"]
        )
        self.assertEqual(sent["smtp_from"], "bounce.test@test.mycompany.com")

    def test_pinned_server_matching_keeps_author(self):
        _mail, sent = self._send_mail(
            '"Ann" <ann@corp.example>', mail_server_id=self.srv_domain.id
        )
        self.assertEqual(sent["msg_from"], "Ann <ann@corp.example>")

    def test_multi_company_alias_domains(self):
        other_domain = self.env["mail.alias.domain"].create(
            {
                "name": "corp.example",
                "bounce_alias": "bounces",
                "catchall_alias": "replies",
                "default_from": "robot",
            }
        )
        company_2 = self.env["res.company"].create(
            {"name": "Corp", "alias_domain_id": other_domain.id}
        )
        partner = self.env["res.partner"].create(
            {"name": "Rec", "email": "rec@example.org", "company_id": company_2.id}
        )
        self.srv_exact.from_filter = "robot@corp.example"
        (self.srv_domain | self.srv_wide | self.srv_narrow).active = False
        mail = self.env["mail.mail"].create(
            {
                "email_from": '"Ann" <ann@gmail.com>',
                "email_to": "bob@example.org",
                "body_html": "<p>x</p>",
                "model": "res.partner",
                "res_id": partner.id,
                "record_alias_domain_id": other_domain.id,
            }
        )
        self.assertEqual(mail.record_alias_domain_id, other_domain)
        with self.mock_mail_gateway():
            mail.send()
        self.assertEqual(self.emails[0]["msg_from"], "Ann <robot@corp.example>")
        self.assertEqual(self.emails[0]["smtp_from"], "robot@corp.example")
        self.assertEqual(mail.sent_mail_server_id, self.srv_exact)
        decision = self.env["ir.mail_server"]._explain_sending(
            "ann@gmail.com", company=company_2
        )
        self.assertEqual(decision["server"], self.srv_exact)
        self.assertEqual(decision["header_from"], "ann <robot@corp.example>")
        decision = self.env["ir.mail_server"]._explain_sending(
            "ann@gmail.com", company=self.env.company
        )
        self.assertEqual(decision["server"], self.srv_notif)

    def test_gateway_bounce_is_auto_replied(self):
        with self.mock_mail_gateway():
            self.format_and_process(
                "From: {email_from}\nTo: {to}\nSubject: {subject}\nMessage-ID: "
                "<x@y>\n\nbody",
                "someone@example.org",
                "catchall.test@test.mycompany.com",
                target_model="res.partner",
            )
        self.assertEqual(len(self.emails), 1)
        self.assertIn("Auto-Submitted: auto-replied", self.emails[0]["message"])
        self.assertIn("X-Auto-Response-Suppress: All", self.emails[0]["message"])

    def test_ordinary_mail_has_no_loop_headers(self):
        _mail, sent = self._send_mail("ann@corp.example")
        self.assertNotIn("Auto-Submitted", sent["message"])
        self.assertNotIn("X-Auto-Response-Suppress", sent["message"])

    def test_system_notices_are_auto_generated(self):
        _mail, sent = self._send_mail(
            "ann@corp.example", message_type="user_notification"
        )
        self.assertIn("Auto-Submitted: auto-generated", sent["message"])
        self.emails.clear()
        _mail, sent = self._send_mail(
            "ann@corp.example", author_id=self.env.ref("base.partner_root").id
        )
        self.assertIn("Auto-Submitted: auto-generated", sent["message"])
        # a value set by the caller (the gateway's auto-replied answers) wins
        self.emails.clear()
        _mail, sent = self._send_mail(
            "ann@corp.example",
            message_type="auto_comment",
            headers=repr({"Auto-Submitted": "auto-replied"}),
        )
        self.assertIn("Auto-Submitted: auto-replied", sent["message"])
        self.assertNotIn("auto-generated", sent["message"])

    # ------------------------------------------------------------------
    # explainer
    # ------------------------------------------------------------------

    def test_explainer_matches_real_sending(self):
        decision = self.env["ir.mail_server"]._explain_sending('"Ann" <ann@gmail.com>')
        _mail, sent = self._send_mail('"Ann" <ann@gmail.com>')
        self.assertEqual(decision["server"], self.srv_notif)
        self.assertEqual(decision["header_from"], sent["msg_from"])
        self.assertEqual(decision["envelope_from"], sent["smtp_from"])
        self.assertIn("test.mycompany.com", decision["rule"])
        self.assertEqual(decision["tier"], 4)
        self.assertTrue(decision["dmarc_aligned"])

    def test_explainer_warnings(self):
        Server = self.env["ir.mail_server"]
        self.srv_notif.from_filter = "other.example"
        pinned = Server._explain_sending("ann@gmail.com", pinned_server=self.srv_domain)
        self.assertTrue(
            any("may refuse" in w for w in pinned["warnings"]), pinned["warnings"]
        )
        self.env.company.alias_domain_id = False
        no_default = Server._explain_sending("ann@gmail.com")
        self.assertTrue(any("No default From" in w for w in no_default["warnings"]))
        self.assertTrue(any("spoofed" in w for w in no_default["warnings"]))
        self.assertFalse(no_default["dmarc_aligned"])

    def test_check_sender_wizard_and_access(self):
        wizard = self.env["mail.sender.check"].create(
            {"email_from": "ann@mail.eu.corp.example"}
        )
        self.assertEqual(wizard.mail_server_id, self.srv_narrow)
        self.assertEqual(wizard.failover_server_ids, self.srv_wide)
        self.assertEqual(
            wizard.tier,
            "A server is set up for a wildcard covering the sender's domain (rule 3 "
            "of 7).",
        )
        self.assertTrue(
            wizard.summary.startswith("For a mail whose server Odoo chooses: "),
            wizard.summary,
        )
        pinned = self.env["mail.sender.check"].create(
            {
                "email_from": "ann@mail.eu.corp.example",
                "pinned_server_id": self.srv_wide.id,
            }
        )
        self.assertTrue(
            pinned.summary.startswith(
                f"For a mail pinned to server '{self.srv_wide.name}'"
            ),
            pinned.summary,
        )
        self.assertIn("names its server", pinned.tier)
        self.assertIn("*.eu.corp.example", wizard.rule)
        self.assertEqual(wizard.header_from, "ann@mail.eu.corp.example")
        with self.assertRaises(AccessError):
            self.env["mail.sender.check"].with_user(self.user_employee).create(
                {"email_from": "a@b.example"}
            )
        portal = self._create_portal_user()
        with self.assertRaises(AccessError):
            self.env["mail.sender.check"].with_user(portal).create(
                {"email_from": "a@b.example"}
            )
        action = self.srv_domain.action_open_sender_check()
        self.assertEqual(action["res_model"], "mail.sender.check")

    # ------------------------------------------------------------------
    # one result per cell: pinned or not x author allowed x default allowed
    # ------------------------------------------------------------------

    def _sent_and_explained(self, email_from, pinned=None):
        """Real sending and the explainer for one mail: both results."""
        decision = self.env["ir.mail_server"]._explain_sending(
            email_from, pinned_server=pinned
        )
        mail = self._new_mail(
            email_from, subject="Cell", mail_server_id=pinned.id if pinned else False
        )
        with (
            self.mock_mail_gateway(),
            mute_logger(
                "odoo.addons.mail_routing_policy.models.mail_mail_outgoing",
                "odoo.addons.mail_routing_policy.models.ir_mail_server_outgoing",
            ),
        ):
            mail.send()
        sent = self.emails[-1] if self.emails and mail.state == "sent" else None
        self.emails.clear()
        return mail, sent, decision

    def test_every_cell_of_the_sender_table(self):
        """README "What From is sent": each cell, real sending == explainer."""
        Server = self.env["ir.mail_server"]
        base = {"smtp_host": "smtp.invalid", "smtp_encryption": "none", "sequence": 90}
        both, only_author, only_default, neither = Server.create(
            [
                {
                    "name": "P both",
                    "from_filter": "corp.example, test.mycompany.com",
                    **base,
                },
                {"name": "P author", "from_filter": "corp.example", **base},
                {"name": "P default", "from_filter": "test.mycompany.com", **base},
                {"name": "P neither", "from_filter": "other.example", **base},
            ]
        )
        ok, no = '"Ann" <ann@corp.example>', '"Ann" <ann@gmail.com>'
        rewritten = '"Ann" <notifications.test@test.mycompany.com>'
        bounce = "bounce.test@test.mycompany.com"
        cells = [
            # (pinned, author, expected server, header From, envelope)
            (both, ok, both, '"Ann" <ann@corp.example>', bounce),
            (
                only_author,
                ok,
                only_author,
                '"Ann" <ann@corp.example>',
                "ann@corp.example",
            ),
            (only_default, no, only_default, rewritten, bounce),
            (neither, no, neither, rewritten, "bounce.test@other.example"),
            (None, ok, self.srv_domain, '"Ann" <ann@corp.example>', "ann@corp.example"),
            (None, no, self.srv_notif, rewritten, bounce),
        ]
        for pinned, author, server, header_from, envelope in cells:
            with self.subTest(pinned=pinned and pinned.name, author=author):
                mail, sent, decision = self._sent_and_explained(author, pinned)
                self.assertEqual(mail.state, "sent")
                self.assertEqual(
                    mail.sent_mail_server_id or mail.mail_server_id, server
                )
                self.assertIn(f"From: {header_from}", sent["message"])
                self.assertEqual(sent["smtp_from"], envelope)
                self.assertIn(
                    f"Return-Path: <{envelope}>", sent["message"], "header = envelope"
                )
                self.assertEqual(decision["server"], server)
                self.assertEqual(
                    decision["header_from"].replace('"', ""),
                    header_from.replace('"', ""),
                )
                self.assertEqual(decision["envelope_from"], envelope)
                self.assertEqual(decision["rewritten"], header_from == rewritten)
        # not pinned, author allowed, default From refused by every server
        self.srv_notif.active = False
        (both | only_default).active = False
        mail, sent, decision = self._sent_and_explained(ok)
        self.assertIn('From: "Ann" <ann@corp.example>', sent["message"])
        # not pinned, neither allowed: no-match policy (rewrite: first server)
        mail, sent, decision = self._sent_and_explained(no)
        self.assertEqual(mail.sent_mail_server_id, self.srv_wide)
        self.assertIn(f"From: {rewritten}", sent["message"])
        self.assertTrue(any("may refuse" in w for w in decision["warnings"]))
        # block policy: pinned or not, a server accepting neither does not send
        self.ICP.set_param("mail.default.from_policy", "block")
        for pinned in (neither, None):
            with self.subTest(block=pinned and pinned.name):
                mail, sent, decision = self._sent_and_explained(no, pinned)
                self.assertEqual(mail.state, "exception")
                self.assertIsNone(sent)
                self.assertIn("Do not send", mail.failure_reason)
                self.assertTrue(decision["blocked"])
        # block policy does not touch a pinned server that accepts the author
        mail, sent, decision = self._sent_and_explained(ok, only_author)
        self.assertEqual(mail.state, "sent")

    def test_envelope_sender_never_another_persons_address(self):
        """A FROM filter listing Ann's address: Bob's bounces must not reach Ann."""
        self.env["ir.mail_server"].search([]).active = False
        relay = self.env["ir.mail_server"].create(
            {
                "name": "Relay",
                "smtp_host": "smtp.invalid",
                "from_filter": "*.example.org, ann@gmail.com",
            }
        )
        for author in ("bob@gmail.com", "someone@mail.example.com"):
            with self.subTest(author=author):
                mail, sent, decision = self._sent_and_explained(author)
                self.assertEqual(mail.sent_mail_server_id, relay)
                self.assertNotEqual(sent["smtp_from"], "ann@gmail.com")
                self.assertEqual(sent["smtp_from"], "bounce.test@test.mycompany.com")
                self.assertEqual(decision["envelope_from"], sent["smtp_from"])
                self.assertTrue(
                    any("may refuse it" in w for w in decision["warnings"]),
                    decision["warnings"],
                )
        mail, sent, decision = self._sent_and_explained("ann@gmail.com")
        self.assertEqual(
            sent["smtp_from"], "ann@gmail.com", "Ann's own mail may use her address"
        )

    def test_check_sender_pinned_answers_every_input(self):
        wizard = self.env["mail.sender.check"].create(
            {"email_from": "not-an-address", "pinned_server_id": self.srv_domain.id}
        )
        self.assertTrue(wizard.invalid)
        self.assertIn("not an email address", wizard.summary)
        self.assertFalse(wizard.header_from)
        # pinned to a corp.example relay, Bob of gmail.com: one consistent answer
        self.srv_notif.from_filter = "other.example"
        wizard.email_from = "bob@gmail.com"
        self.assertFalse(wizard.invalid)
        self.assertTrue(wizard.rewritten)
        self.assertEqual(
            wizard.header_from.replace('"', ""),
            "bob <notifications.test@test.mycompany.com>",
        )
        self.assertIn("rewritten", wizard.summary)
        # the FROM filters alone never tick it: DNS was not read
        self.assertEqual(wizard.dmarc_state, "not_read")
        self.assertIn("DNS records were not read", wizard.dmarc)
        # a relay without FROM filter declares nothing: alignment is unknown, never
        # claimed
        free = self.env["ir.mail_server"].create({"name": "Free", "smtp_host": "h"})
        wizard.pinned_server_id = free
        self.assertEqual(wizard.header_from, "bob@gmail.com")
        self.assertEqual(wizard.dmarc_state, "not_read")
        self.assertIn("Unknown for gmail.com", wizard.dmarc)


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestSenderDecisionTable(BaseCase):
    """tools/sender_policy.decide_sender, pure: every tier and rule as data."""

    def facts(self, server_id, from_filter):
        return sender_policy.ServerFacts(
            server_id,
            f"S{server_id}",
            from_filter,
            address_filter.parse_filter(from_filter) if from_filter else (),
        )

    def test_tiers(self):
        exact, domain, wide, notif, free = (
            self.facts(1, "ceo@corp.example"),
            self.facts(2, "corp.example"),
            self.facts(3, "*.corp.example"),
            self.facts(4, "notif.example"),
            self.facts(5, ""),
        )
        default = "notifications@notif.example"
        cases = [
            # (servers, email_from, policy) -> (tier, rule, server id, smtp_from, from
            # code)
            (
                [exact, domain],
                "ceo@corp.example",
                "rewrite",
                (1, "match", 1, "ceo@corp.example", "author"),
            ),
            (
                [exact, domain],
                "ann@corp.example",
                "rewrite",
                (2, "match", 2, "ann@corp.example", "author"),
            ),
            (
                [wide, domain],
                "ann@eu.corp.example",
                "rewrite",
                (3, "match", 3, "ann@eu.corp.example", "author"),
            ),
            (
                [domain, notif],
                '"Ann" <ann@gmail.com>',
                "rewrite",
                (4, "match", 4, default, "default"),
            ),
            (
                [domain, free],
                "ann@gmail.com",
                "rewrite",
                (5, "unfiltered", 5, default, "default"),
            ),
            (
                [domain],
                "ann@gmail.com",
                "rewrite",
                (6, "fallback", 2, default, "default_refused"),
            ),
            (
                [domain],
                "ann@gmail.com",
                "block",
                (6, "none_allowed", None, False, "blocked"),
            ),
            (
                [],
                "ann@gmail.com",
                "rewrite",
                (7, "config_file", None, "ann@gmail.com", "author"),
            ),
        ]
        for servers, email_from, policy, expected in cases:
            with self.subTest(
                email_from=email_from,
                servers=[server.id for server in servers],
                policy=policy,
            ):
                sender = email_from.rpartition("<")[2].rstrip(">")
                decision = sender_policy.decide_sender(
                    servers, email_from, sender, default, policy
                )
                found = (
                    decision.tier,
                    decision.rule,
                    decision.server.id if decision.server else None,
                    decision.smtp_from,
                    decision.from_code,
                )
                self.assertEqual(found, expected)
                self.assertEqual(decision.blocked, policy == "block")
        with self.subTest("failover candidates of the winning tier"):
            decision = sender_policy.decide_sender(
                [domain, notif, self.facts(6, "corp.example")],
                "a@corp.example",
                "a@corp.example",
                default,
                "rewrite",
            )
            self.assertEqual(decision.candidate_ids, (2, 6))
        with self.subTest("warnings are codes"):
            decision = sender_policy.decide_sender(
                [domain], "ann@gmail.com", "ann@gmail.com", "", "rewrite"
            )
            self.assertEqual(
                decision.warnings, (("no_default_from", ""), ("author_kept", "S2"))
            )

    def test_pinned(self):
        pinned = self.facts(9, "corp.example")
        decision = sender_policy.decide_sender(
            [], "ann@corp.example", "ann@corp.example", "", "rewrite", pinned=pinned
        )
        self.assertEqual(
            (decision.tier, decision.rule, decision.rewritten),
            ("pinned", "pinned_match", False),
        )
        decision = sender_policy.decide_sender(
            [],
            "ann@gmail.com",
            "ann@gmail.com",
            "n@corp.example",
            "rewrite",
            pinned=pinned,
        )
        self.assertEqual(
            (decision.rule, decision.smtp_from, decision.rewritten),
            ("pinned", "n@corp.example", True),
        )
