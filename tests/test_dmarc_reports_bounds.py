# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The report room's bounds: a receiver's many reports are not a loop
(a daily cap per sender instead), and the attachment bounds are system
parameters, validated when saved and shown in *More settings*."""

import datetime

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .test_dmarc_reports_ingest import DmarcReportCase

START = datetime.datetime(2026, 11, 2, 10, 0, 0)
# the sender of the samples' report mails
SENDER = "noreply-dmarc-support@google.com"


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDmarcReportBounds(DmarcReportCase):
    def setUp(self):
        super().setUp()
        self.ICP = self.env["ir.config_parameter"].sudo()

    def deliver_many(self, count, first=0):
        return [
            self.deliver(
                self.google(str(3000 + index)),
                f"r{index}.zip",
                message_id=f"<r{index}@google.com>",
            )
            for index in range(first, first + count)
        ]

    def stored(self):
        return self.Report.search_count(
            [("org_name", "=", "google.com"), ("state", "=", "done")]
        )

    def test_many_reports_from_one_sender_are_not_a_loop(self):
        self.ICP.set_param("mail.gateway.loop.threshold", 20)
        with self.mock_datetime_and_now(START):
            self.deliver_many(30)
        self.assertEqual(self.stored(), 30, "one report per domain at once: all kept")
        self.assertEqual(self.alias._get_loop_limits(), (1440, 500))
        self.assertIn("1440", self.alias.loop_effective)
        with self.mock_datetime_and_now(START):
            answer = self.env["mail.thread"]._routing_check_recipient(
                SENDER, self.address
            )
        self.assertEqual(answer["code"], "ok", "the mailgate does not defer it either")

    def test_daily_cap_per_sender(self):
        self.ICP.set_param("mail.dmarc_reports.sender_daily_limit", 3)
        with self.mock_datetime_and_now(START), self.mock_mail_gateway():
            self.deliver_many(4)
            self.assertEqual(self.stored(), 3)
            self.assertEqual(
                self.logs(subject="Report domain: example.com")[:1].reason, "rate_limit"
            )
            answer = self.env["mail.thread"]._routing_check_recipient(
                SENDER, self.address
            )
            self.assertEqual(
                (answer["code"], answer["minutes"], answer["threshold"]),
                ("rate_limited", 1440, 3),
            )
            # the gateway events of the day outlive the global 120-minute window
            self.env["mail.gateway.event"]._gc_events()
        with self.mock_datetime_and_now(START + datetime.timedelta(hours=3)):
            self.env["mail.gateway.event"]._gc_events()
        with self.mock_datetime_and_now(START + datetime.timedelta(hours=23)):
            self.deliver_many(1, first=10)
            self.assertEqual(self.stored(), 3, "still the same day")
        with self.mock_datetime_and_now(START + datetime.timedelta(hours=25)):
            self.deliver_many(1, first=20)
            self.assertEqual(self.stored(), 4, "a new day")

    def test_alias_values_win(self):
        self.alias.loop_threshold = 2
        self.assertEqual(self.alias._get_loop_limits(), (1440, 2))
        other = self._make_alias("not-reports")
        self.assertEqual(other._get_loop_limits(), (120, 20))

    def test_bounds_are_system_parameters(self):
        self.assertEqual(self.Report._limits().max_attachment_bytes, 10 * 1024 * 1024)
        self.ICP.set_param("mail.dmarc_reports.max_attachment_bytes", 2048)
        self.ICP.set_param("mail.dmarc_reports.max_json_bytes", "4096")
        limits = self.Report._limits()
        self.assertEqual(
            (limits.max_attachment_bytes, limits.max_json_bytes), (2048, 4096)
        )
        report = self.Report._receive_attachment("big.xml", b"<" + b"x" * 3000)
        self.assertEqual((report.state, report.reason_code), ("refused", "too_large"))
        self.assertIn("2048", report.reason)

    def test_invalid_bound_refused_naming_it(self):
        for key, value, message in (
            ("mail.dmarc_reports.max_depth", "3", "smallest allowed value is 8"),
            ("mail.dmarc_reports.max_records", "many", "whole number"),
            ("mail.dmarc_reports.sender_daily_limit", "0", "smallest allowed value"),
        ):
            with (
                self.subTest(key=key),
                self.assertRaisesRegex(ValidationError, rf"\({key}\).*{message}"),
            ):
                self.ICP.set_param(key, value)

    def test_more_settings_show_the_bounds(self):
        view = self.env.ref("mail_routing_policy.mail_routing_settings_more_view_form")
        arch = view.get_combined_arch()
        for name in (
            "dmarc_reports_sender_daily_limit",
            "dmarc_reports_max_attachment_bytes",
            "dmarc_reports_max_json_bytes",
        ):
            self.assertIn(f'name="{name}"', arch)
        settings = self.env["res.config.settings"].create(
            {"dmarc_reports_max_records": 5000}
        )
        settings.execute()
        self.assertEqual(self.Report._limits().max_records, 5000)
