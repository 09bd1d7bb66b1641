# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The domain overview: one domain and day range, its sources (DMARC rows
by source address) and its TLS sessions (by organisation and failure) on
one screen; administrators only."""

import datetime

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from odoo.addons.mail.tests.common import mail_new_test_user

from . import dmarc_reports_samples as samples
from .test_dmarc_reports_ingest import OWN_IP, UNKNOWN_IP, DmarcReportCase

# the samples' reports are about this day
REPORT_DAY = datetime.date(2025, 12, 6)


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDmarcReportOverview(DmarcReportCase):
    def deliver_tls(self, report_id="tls-1"):
        data = samples.tls_report(
            self.domain,
            report_id,
            failures=[
                ("certificate-expired", 3, "209.85.220.41"),
                ("certificate-host-mismatch", 1, "209.85.220.41"),
                ("starttls-not-supported", 2, "209.85.220.42"),
            ],
        )
        return self.deliver(
            data,
            f"company-x!{report_id}.json",
            sender="tlsrpt@company-x.example",
            mimetype=("application", "tlsrpt+json"),
        )

    def overview(self, **values):
        return self.env["mail.dmarc.report.overview"].create(
            {
                "domain": self.domain,
                "date_from": REPORT_DAY - datetime.timedelta(days=1),
                "date_to": REPORT_DAY,
                **values,
            }
        )

    def test_sources_and_tls_sessions_on_one_screen(self):
        self.deliver(self.google(), "google.zip")
        self.deliver(self.google("1002"), "google-2.zip", message_id="<2@google.com>")
        self.deliver_tls()
        overview = self.overview()
        self.assertEqual(
            [
                (
                    line.source_id.ip,
                    line.source_class,
                    line.messages,
                    line.messages_failed,
                    line.dkim_aligned_pass,
                    line.spf_aligned_pass,
                    line.dispositions,
                    line.org_names,
                    line.flag or "",
                )
                for line in overview.source_line_ids
            ],
            [
                (OWN_IP, "own", 20, 0, 20, 20, "none", "google.com", ""),
                (
                    UNKNOWN_IP,
                    "unknown",
                    8,
                    0,
                    0,
                    8,
                    "none",
                    "google.com",
                    "unknown_passes",
                ),
                (
                    "2001:db8:25::9",
                    "own",
                    4,
                    4,
                    0,
                    0,
                    "none",
                    "google.com",
                    "own_fails",
                ),
            ],
            "one line per source, the most messages first, two reports added up",
        )
        self.assertEqual(
            sorted(
                (line.org_name, line.family or "", line.failed, line.successful)
                for line in overview.tls_line_ids
            ),
            [
                ("Company-X", "", 0, 120),
                ("Company-X", "certificate", 4, 0),
                ("Company-X", "starttls", 2, 0),
            ],
        )
        certificate = overview.tls_line_ids.filtered(
            lambda line: line.family == "certificate"
        )
        self.assertEqual(
            certificate.result_types,
            "certificate-expired, certificate-host-mismatch",
        )
        self.assertEqual(
            (
                overview.messages,
                overview.messages_failed,
                overview.flagged_sources,
                overview.tls_successful,
                overview.tls_failed,
            ),
            (32, 4, 2, 120, 6),
        )
        rows = self.env["mail.dmarc.report.record"].search(
            overview.source_line_ids[0].action_open_rows()["domain"]
        )
        self.assertEqual(rows.mapped("source_ip"), [OWN_IP, OWN_IP])

    def test_other_days_and_domains_change_the_lines(self):
        self.deliver(self.google(), "google.zip")
        self.deliver_tls()
        overview = self.overview()
        self.assertEqual(len(overview.source_line_ids), 3)
        overview.write(
            {
                "date_from": REPORT_DAY + datetime.timedelta(days=1),
                "date_to": REPORT_DAY + datetime.timedelta(days=2),
            }
        )
        self.assertFalse(overview.source_line_ids)
        self.assertFalse(overview.tls_line_ids)
        self.assertEqual(overview.messages, 0)
        overview.write({"date_from": REPORT_DAY})
        self.assertEqual(len(overview.source_line_ids), 3)
        self.assertEqual(len(overview.tls_line_ids), 3)
        with self.assertRaisesRegex(ValidationError, "after"):
            overview.write({"date_to": REPORT_DAY - datetime.timedelta(days=1)})

    def test_opens_on_the_latest_domain(self):
        self.deliver(self.google(), "google.zip")
        action = self.env["mail.dmarc.report.overview"].action_open_overview()
        overview = self.env["mail.dmarc.report.overview"].browse(action["res_id"])
        self.assertEqual(overview.domain, self.domain)
        selection = dict(self.env["mail.dmarc.report.overview"]._selection_domains())
        self.assertIn(self.domain, selection)

    def test_only_administrators(self):
        self.deliver(self.google(), "google.zip")
        employee = mail_new_test_user(
            self.env, login="dmarc-overview-employee", groups="base.group_user"
        )
        Overview = self.env["mail.dmarc.report.overview"]
        with self.assertRaises(AccessError):
            Overview.with_user(employee).create({"domain": self.domain})
        with self.assertRaises(AccessError):
            Overview.with_user(employee).action_open_overview()
        overview = Overview.with_user(self.user_admin).create({"domain": self.domain})
        self.assertTrue(overview.date_from)
        action = self.env.ref("mail_routing_policy.mail_dmarc_report_overview_action")
        self.assertEqual(action.groups_id, self.env.ref("base.group_system"))
