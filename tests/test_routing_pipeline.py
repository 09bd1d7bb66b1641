# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The router as a pipeline of rules (mail.thread._routing_rules), the
explicit outcome of routing (RoutingOutcome) that Process again and the
mailgate read, and the bulk upsert of the mailgate's refusals."""

import smtplib
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.mail_routing_policy.models.mail_gateway_log import (
    SmtpEntry,
    fold_smtp_refusals,
)
from odoo.addons.mail_routing_policy.models.mail_thread_incoming import (
    CONTEXT_OUTCOME,
    MailThread,
    RoutingOutcome,
    RoutingRefusal,
)

from .common import GatewayCase
from .test_mailgate import MailgateCase

AUTO_REPLY = "X-Autoreply: yes\n"
OWN = "catchall.test@test.mycompany.com"


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestRoutingPipeline(GatewayCase):
    def route(self, email_from, subject, outcome=None, bypass=None, **kwargs):
        context = {CONTEXT_OUTCOME: outcome or RoutingOutcome()}
        if bypass:
            context["mail_routing_bypass"] = bypass
        self.env["mail.thread"].sudo().with_context(**context).message_process(
            None, self.raw(email_from, "info@test.mycompany.com", subject, **kwargs)
        )
        return context[CONTEXT_OUTCOME]

    def test_rules_in_order(self):
        Thread = self.env["mail.thread"]
        rules = Thread._routing_rules()
        self.assertEqual(
            [rule for rule, _bounces in rules],
            [
                "_routing_rule_authentication",
                "_routing_rule_automatic",
                "_routing_rule_forwarding_loop",
                "_routing_rule_self_loop",
                "_routing_rule_auto_reply",
            ],
        )
        self.assertEqual(
            [rule for rule, bounces in rules if bounces],
            ["_routing_rule_authentication", "_routing_rule_automatic"],
        )
        for rule, _bounces in rules:
            self.assertTrue(callable(getattr(Thread, rule)), rule)

    def test_first_refusal_stops_the_pipeline(self):
        """An auto-reply from one of our own addresses: the self-loop rule
        refuses it and the auto-reply rule is never asked; Process again
        bypasses the self-loop rule, and the next rule refuses it."""
        asked = []
        original = MailThread._routing_rule_auto_reply

        def spy(thread, *args):
            asked.append(1)
            return original(thread, *args)

        with patch.object(MailThread, "_routing_rule_auto_reply", spy):
            outcome = self.route(OWN, "Pipe 1", extra=AUTO_REPLY)
            self.assertEqual(outcome.refusal[0], "self_loop")
            self.assertFalse(asked, "the rules after a refusal are not asked")
            outcome = self.route(OWN, "Pipe 1", extra=AUTO_REPLY, bypass="self_loop")
            self.assertEqual(outcome.refusal[0], "auto_reply")
            self.assertEqual(asked, [1])
        self.assertEqual(
            self.logs(subject="Pipe 1").mapped("reason"), ["auto_reply", "self_loop"]
        )

    def test_a_rule_added_by_inheritance(self):
        """The list is the extension point: a rule added to it refuses with
        its own reason, logged as every other."""

        def rules(thread):
            return [*original(thread), ("_test_rule_subject", False)]

        def subject_rule(thread, message, message_dict, facts):
            if "forbidden" in (message_dict.get("subject") or ""):
                return RoutingRefusal("no_route", {"recipients": "x"})
            return None

        original = MailThread._routing_rules
        with (
            patch.object(MailThread, "_routing_rules", rules),
            patch.object(MailThread, "_test_rule_subject", subject_rule, create=True),
        ):
            outcome = self.route("ann@customer.example", "a forbidden word")
            self.assertEqual(outcome.refusal[0], "no_route")
            self.assertTrue(outcome.log_id)
            outcome = self.route("ann@customer.example", "Pipe allowed")
        self.assertIsNone(outcome.refusal)
        self.assertEqual(len(outcome.created), 1)

    def test_outcome_names_what_was_done(self):
        outcome = self.route("ann@customer.example", "Pipe new")
        partner = self.env["res.partner"].search([("name", "=", "Pipe new")])
        self.assertEqual(outcome.created, [("res.partner", partner.id)])
        self.assertEqual(outcome.posted, [])
        self.assertIsNone(outcome.refusal)
        # a refusal: its reason, its data and its entry
        outcome = self.route("ann@customer.example", "Pipe auto", extra=AUTO_REPLY)
        log = self.logs(subject="Pipe auto")
        self.assertEqual(outcome.refusal[0], "auto_reply")
        self.assertEqual(outcome.log_id, log.id)
        self.assertFalse(outcome.logged_apart)
        self.assertFalse(outcome.created)

    def test_process_again_reads_the_outcome(self):
        log = self.env["mail.gateway.log"].create(
            {"reason": "auto_reply", "subject": "Pipe outcome"}
        )
        partner = self.env["res.partner"].create({"name": "Pipe target"})
        other = self.env["mail.gateway.log"].create(
            {"reason": "self_loop", "subject": "Pipe other"}
        )
        cases = [
            (RoutingOutcome(created=[("res.partner", partner.id)]), "done", "created"),
            (RoutingOutcome(posted=[("res.partner", partner.id)]), "done", "posted on"),
            (
                RoutingOutcome(refusal=("self_loop", {}), log_id=other.id),
                "refused",
                "Refused again",
            ),
            (RoutingOutcome(), "done", "no record was created"),
        ]
        for outcome, state, words in cases:
            with self.subTest(state=state, words=words):
                values = log._process_again_outcome(False, outcome)
                self.assertEqual(values["state"], state)
                self.assertIn(words, values["result"])
        values = log._process_again_outcome(
            False, RoutingOutcome(posted=[("res.partner", partner.id)])
        )
        self.assertEqual(values["result_record"], f"res.partner,{partner.id}")
        values = log._process_again_outcome(
            False, RoutingOutcome(refusal=("self_loop", {}), log_id=other.id)
        )
        self.assertEqual(values["result_log_id"], other.id)
        values = log._process_again_failure(
            ValueError("No possible route found for incoming message"),
            RoutingOutcome(refusal=("no_route", {"recipients": "x@y.example"})),
        )
        self.assertEqual(values["state"], "refused")
        self.assertIn("x@y.example", values["result"])

    def test_process_again_links_the_new_refusal(self):
        """Refused again by the next rule: the entry links the entry of that
        refusal, the one the outcome names."""
        self.route(OWN, "Pipe again", extra=AUTO_REPLY)
        log = self.logs(subject="Pipe again")
        self.assertEqual(log.reason, "self_loop")
        log.action_process_again()
        self.assertEqual(log.state, "refused")
        self.assertEqual(log.result_log_id.reason, "auto_reply")
        self.assertEqual(log.result_log_id.subject, "Pipe again")

    def test_rpc_context_is_no_outcome(self):
        """An RPC caller's context cannot hold a RoutingOutcome: a value
        under its key is ignored."""
        self.env["mail.thread"].sudo().with_context(
            **{CONTEXT_OUTCOME: {"created": []}}
        ).message_process(
            None,
            self.raw("ann@customer.example", "info@test.mycompany.com", "Pipe rpc"),
        )
        self.assertTrue(self.env["res.partner"].search([("name", "=", "Pipe rpc")]))


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestSmtpEntries(GatewayCase):
    def test_fold(self):
        folded = fold_smtp_refusals(
            [
                ("unknown_recipient", "a@x", "b@y", "1.2.3.4", {"why": "no_alias"}, 2),
                ("unknown_recipient", "a@x", "b@y", "1.2.3.4", {"why": "latest"}, 3),
                ("client_limit", "", "", "1.2.3.4", {"limit": "x"}, 1),
                ("timeout", None, "b\x00@y", "1.2.3.4", None, 1),
            ]
        )
        self.assertEqual(
            folded[("rcpt_unknown", "a@x", "b@y", "1.2.3.4")], (5, {"why": "latest"})
        )
        self.assertEqual(folded[("client_limit", "<>", "", "1.2.3.4")][0], 1)
        self.assertIn(("timeout", "<>", "b\ufffd@y", "1.2.3.4"), folded)

    def test_upsert(self):
        """One entry a key within a day: added to while open, a new one once
        processed, older than a day, or for another key; a deleted alias is
        not linked."""
        Log = self.env["mail.gateway.log"].sudo()
        key = ("rcpt_unknown", "up@x.example", "to@y.example", "10.0.0.1")
        row = SmtpEntry(2, "first", {"recipient": "to@y.example"}, self.alias_info.id)
        first = Log._upsert_smtp_entries({key: row})
        self.assertEqual(len(first), 1)
        self.assertEqual(
            (first.count, first.details, first.alias_id), (2, "first", self.alias_info)
        )
        again = Log._upsert_smtp_entries(
            {
                key: SmtpEntry(3, "second", {"recipient": "to@y.example"}),
                key[:3] + ("10.0.0.2",): SmtpEntry(1, "other client", {}),
            }
        )
        self.assertEqual(len(again), 2)
        self.assertIn(first, again)
        self.assertEqual((first.count, first.details), (5, "second"))
        first.state = "done"
        third = Log._upsert_smtp_entries({key: SmtpEntry(1, "third", {})})
        self.assertNotEqual(third, first)
        self.env.cr.execute(
            "UPDATE mail_gateway_log SET date = now() - interval '2 days' WHERE id = "
            "%s",
            [third.id],
        )
        alias = self._make_alias("gone")
        alias_id = alias.id
        alias.unlink()
        fourth = Log._upsert_smtp_entries({key: SmtpEntry(1, "fourth", {}, alias_id)})
        self.assertNotIn(fourth, third | first)
        self.assertFalse(fourth.alias_id)
        self.assertEqual(Log._upsert_smtp_entries({}), Log.browse())


@tagged("post_install", "-at_install", "mail_routing_policy", "mailgate")
class TestMailgateOutcome(MailgateCase):
    @mute_logger("odoo.addons.mail_routing_policy.cli.smtp_handler")
    def test_no_route_read_from_the_outcome(self):
        """A message core cannot route after RCPT TO accepted it is accepted
        (250) because its refusal was logged, as the routing's outcome says;
        the same message again within the second, whose refusal is not
        logged, fails (451): no log row of the first is taken for it."""
        controller = self.start_gate()
        sender = f"dan-{self.tag}@customer.example"
        raw = self.message(sender, f"Gate {self.tag} nowhere")

        def no_recipient(thread, message_dict, sender):
            message_dict["to"] = message_dict["recipients"] = ""
            return []

        with (
            patch.object(MailThread, "_routing_apply_allow_list", no_recipient),
            smtplib.SMTP("127.0.0.1", controller.port, timeout=60) as client,
        ):
            self.assertEqual(client.sendmail(sender, [self.alias_address], raw), {})
            with patch.object(MailThread, "_routing_log_unrouted", lambda *a: None):
                client.mail(sender)
                self.assertEqual(client.rcpt(self.alias_address)[0], 250)
                code, text = client.data(raw)
            self.assertEqual((code, text[:5]), (451, b"4.3.0"))
        self.assertEqual(
            self.query(
                "SELECT reason, count FROM mail_gateway_log WHERE email_from LIKE %s",
                [f"%{self.tag}%"],
            ),
            [("no_route", 1)],
        )
        self.assertFalse(self.partners())
