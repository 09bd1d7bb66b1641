# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The loop closed: Check DNS proposes the report alias as rua=, and the
daily check says first where receivers disagree with its prediction; the
view's grouping reads stored columns."""

from odoo import fields
from odoo.tests import tagged

from odoo.addons.mail_routing_policy.models.mail_dmarc_report import ALIAS_XMLID
from odoo.addons.mail_routing_policy.tools.dns_check import checks as dlv

from . import dmarc_reports_samples as samples
from .test_dmarc_reports_ingest import OWN_IP, DmarcReportCase


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDmarcReportCheck(DmarcReportCase):
    def test_dmarc_proposal_names_the_alias(self):
        self.assertEqual(
            dlv.dmarc_proposal("shop.example", "dmarc-reports@shop.example"),
            '_dmarc.shop.example. TXT "v=DMARC1; p=none; '
            'rua=mailto:dmarc-reports@shop.example"',
        )
        # another organisational domain takes them only when it says so
        self.assertEqual(
            dlv.dmarc_proposal("shop.example", "dmarc-reports@odoo.reports.example"),
            '_dmarc.shop.example. TXT "v=DMARC1; p=none; '
            'rua=mailto:dmarc-reports@odoo.reports.example"\n'
            'shop.example._report._dmarc.odoo.reports.example. TXT "v=DMARC1"',
        )
        self.assertIn(
            "rua=mailto:dmarc@shop.example", dlv.dmarc_proposal("shop.example")
        )
        alias = self.env.ref(ALIAS_XMLID)
        domain = alias.alias_domain_id or self.env.company.alias_domain_id
        self.assertTrue(domain, "MailCommon's company has an alias domain")
        self.assertEqual(self.Report._report_address(), f"dmarc-reports@{domain.name}")
        alias.alias_name = False  # an inactive alias
        self.assertEqual(self.Report._report_address(), "")

    def _alignment(self, status):
        return (
            self.env["mail.dns.check.result"]
            .sudo()
            .create(
                {
                    "key": f"{self.server.id}|{self.domain}|alignment|x",
                    "domain": self.domain,
                    "check": dlv.CHECK_ALIGNMENT,
                    "subject": self.domain,
                    "server_id": self.server.id,
                    "status": status,
                    "code": "aligned",
                }
            )
        )

    def test_receivers_disagree_first_line(self):
        self.deliver(self.google("3001"), "d.zip")
        # today's rows: the sample's dates are old
        self.env["mail.dmarc.report.record"].sudo().search([]).write(
            {"date": fields.Date.today()}
        )
        Result = self.env["mail.dns.check.result"]
        self._alignment(dlv.PASS)
        lines = Result._receiver_differences()
        self.assertEqual(len(lines), 1)
        text = lines[0](self.env)
        self.assertIn("should pass DMARC", text)
        self.assertIn("google.com reported 2 of 12 messages failing", text)
        with self.mock_mail_gateway():
            Result._notify_broken(Result.browse(), lines)
        notice = self.env["mail.message"].search([], order="id desc", limit=1)
        self.assertTrue(notice.body.startswith(f"<p>{text}"), notice.body)

    def test_prediction_matches_nothing_said(self):
        self.deliver(self.google("3002", ips=(OWN_IP, "203.0.113.9")), "e.zip")
        self.env["mail.dmarc.report.record"].sudo().search(
            [("source_ip", "=", "2001:db8:25::9")]
        ).unlink()
        self.env["mail.dmarc.report.record"].sudo().search([]).write(
            {"date": fields.Date.today()}
        )
        self._alignment(dlv.PASS)
        self.assertEqual(self.env["mail.dns.check.result"]._receiver_differences(), [])

    def test_who_sends_grouping(self):
        self.deliver(self.google("3003"), "f.zip")
        self.deliver(
            samples.gz(
                samples.yahoo_xml(
                    self.domain,
                    "y-1",
                    [samples.record_xml("203.0.113.66", 6, self.domain)],
                )
            ),
            "y.xml.gz",
            sender="dmarchelp@yahooinc.com",
            mimetype=("application", "gzip"),
        )
        groups = self.env["mail.dmarc.report.record"].read_group(
            [("header_from", "=", self.domain)],
            ["count:sum", "count_fail:sum"],
            ["source_id", "source_class", "flag"],
            lazy=False,
        )
        found = sorted(
            (
                g["source_id"][1],
                g["source_class"],
                g["flag"],
                g["count"],
                g["count_fail"],
            )
            for g in groups
        )
        self.assertEqual(
            found,
            [
                ("198.51.100.25", "own", False, 10, 0),
                ("2001:db8:25::9", "own", "own_fails", 2, 2),
                ("203.0.113.66", "unknown", "unknown_passes", 10, 0),
            ],
        )
