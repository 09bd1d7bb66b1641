# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The admin's path through Settings, in headless Chromium."""

from odoo import http
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import RAW


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestSettingsTour(HttpCase):
    # the tour ends on the (saved, unchanged) settings page, a form view
    allow_end_on_form = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Read every addon's manifest here, in one thread: the server threads
        # would otherwise parse them at once on the browser's first static
        # requests, and Python 3.11's ast keeps its recursion depth in state
        # the threads share (a CI run failed with "SystemError: AST
        # constructor recursion depth mismatch"; see CPython gh-106905).
        assert http.root.statics

    def test_settings_tour(self):
        self.env["ir.mail_server"].create(
            {
                "name": "Tour Server",
                "smtp_host": "smtp.invalid",
                "from_filter": "corp.example",
                "sequence": 1,
            }
        )
        self.start_tour("/odoo/settings", "mail_routing_policy_settings", login="admin")
        ICP = self.env["ir.config_parameter"].sudo()
        self.assertEqual(
            ICP.get_param("mail.catchall.domain.allowed"),
            "example.org,*.trusted.example",
        )
        self.assertEqual(ICP.get_param("mail.gateway.loop.threshold"), "7")
        self.assertEqual(ICP.get_param("mail.dns.nameservers"), "127.0.0.53:53")

    def test_process_again_tour(self):
        ICP = self.env["ir.config_parameter"].sudo()
        ICP.set_param("mail.gateway.loop.threshold", 1)
        alias_domain = self.env["mail.alias.domain"].create({"name": "tour.example"})
        self.env["mail.alias"].create(
            {
                "alias_name": "tour",
                "alias_model_id": self.env["ir.model"]._get("res.partner").id,
                "alias_contact": "everyone",
                "alias_domain_id": alias_domain.id,
            }
        )
        raw = RAW.format(
            email_from="loop@sender.example",
            to="tour@tour.example",
            cc="",
            extra="",
            return_path="<loop@sender.example>",
            subject="{subject}",
            msg_id="<{msg_id}@sender.example>",
        )
        Thread = self.env["mail.thread"].sudo()
        Thread.message_process(
            False, raw.format(subject="Tour accepted", msg_id="tour-1")
        )
        Thread.message_process(
            False, raw.format(subject="Tour refused", msg_id="tour-2")
        )
        log = self.env["mail.gateway.log"].search([("subject", "=", "Tour refused")])
        self.assertEqual(log.reason, "rate_limit")
        # a second one that no alias matches: it would be refused again (the
        # gateway logs it in a transaction of its own: in an HttpCase, on the
        # test's cursor)
        # (not assertRaises: it would roll back what the block wrote)
        raised = False
        with mute_logger("odoo.addons.mail.models.mail_thread"):
            try:
                Thread.message_process(
                    False,
                    raw.replace("tour@tour.example", "nobody@tour.example").format(
                        subject="Tour gone", msg_id="tour-3"
                    ),
                )
            except ValueError:
                raised = True
        self.assertTrue(raised, "no route: core's error, as fetchmail gets it")
        gone_log = self.env["mail.gateway.log"].search([("subject", "=", "Tour gone")])
        self.assertEqual(gone_log.reason, "no_route")
        self.start_tour(
            "/odoo/action-mail_routing_policy.mail_gateway_log_action",
            "mail_routing_policy_process_again",
            login="admin",
        )
        self.assertEqual(log.state, "done", log.result)
        self.assertEqual(
            log.result_record,
            self.env["res.partner"].search([("name", "=", "Tour refused")]),
        )
        self.assertEqual(gone_log.state, "refused", gone_log.result)

    def test_gateway_allowed_button_and_alias_overrides(self):
        """The Settings button opens a list titled as the button; alias
        overrides show empty instead of 0."""
        action = self.env.ref("mail_routing_policy.mail_gateway_allowed_action")
        self.assertEqual(action.name, "Mail Gateway Allowed")
        arch = self.env["res.config.settings"].get_view(view_type="form")["arch"]
        self.assertIn(f'name="{action.id}"', arch)
        alias_arch = self.env["mail.alias"].get_view(
            self.env.ref("mail.mail_alias_view_form").id
        )["arch"]
        self.assertRegex(
            alias_arch, r'name="loop_threshold"[^>]*widget="mail_routing_integer_empty"'
        )
