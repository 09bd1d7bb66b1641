# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Reports received as mail through the report alias (``message_process``,
as fetchmail delivers): stored once, foreign domains ignored, hostile
attachments refused with their reason, the mail kept in the chatter."""

import gzip

from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.mail.tests.common import mail_new_test_user

from . import dmarc_reports_samples as samples
from .common import GatewayCase

OWN_IP = "198.51.100.25"
UNKNOWN_IP = "203.0.113.66"


class DmarcReportCase(GatewayCase):
    """The report alias on the test alias domain, an outgoing server with
    sending addresses; no tests of its own."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # a report alias of the test's own (created, not written): core
        # bounces a failing message_new from a second cursor that writes the
        # alias, which would wait for ever on a row this transaction wrote
        cls.alias = cls.env["mail.alias"].create(
            {
                "alias_name": "dmarc-reports-test",
                "alias_domain_id": cls.mail_alias_domain.id,
                "alias_model_id": cls.env["ir.model"]._get("mail.dmarc.report").id,
                "alias_contact": "everyone",
            }
        )
        cls.domain = cls.mail_alias_domain.name
        cls.address = cls.alias.alias_full_name
        cls.server = cls.env["ir.mail_server"].create(
            {
                "name": "Relay",
                "smtp_host": "smtp.relay.example",
                "from_filter": cls.domain,
                "sending_addresses": f"{OWN_IP}, 2001:db8:25::/48",
            }
        )
        cls.Report = cls.env["mail.dmarc.report"]

    def deliver(self, attachment, filename, **kwargs):
        raw = samples.report_mail(attachment, filename, self.address, **kwargs)
        return self.env["mail.thread"].sudo().message_process(False, raw)

    def google(self, report_id="1001", domain=None, ips=(OWN_IP, UNKNOWN_IP)):
        domain = domain or self.domain
        records = [
            samples.record_xml(ips[0], 10, domain),
            samples.record_xml(
                ips[1], 4, domain, dkim="fail", spf="pass", spf_domain=domain
            ),
            samples.overridden_record("2001:db8:25::9", 2, domain, "forwarded"),
        ]
        return samples.zipped(samples.google_xml(domain, report_id, records))


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDmarcReportIngest(DmarcReportCase):
    def test_report_stored_with_rows_and_sources(self):
        thread_id = self.deliver(self.google(), "google.com!x!1!2.zip")
        report = self.Report.browse(thread_id)
        self.assertEqual(
            (report.state, report.kind, report.org_name, report.report_id),
            ("done", "dmarc", "google.com", "1001"),
        )
        self.assertEqual(report.policy_domain, self.domain)
        self.assertEqual(report.message_count, 16)
        rows = report.record_ids.sorted("count")
        self.assertEqual(
            [
                (row.source_ip, row.source_class, row.dmarc_pass, row.flag or "")
                for row in rows
            ],
            [
                ("2001:db8:25::9", "own", False, "own_fails"),
                (UNKNOWN_IP, "unknown", True, "unknown_passes"),
                (OWN_IP, "own", True, ""),
            ],
        )
        self.assertEqual(rows[0].reasons, "forwarded")
        self.assertEqual(rows.source_id.server_id, self.server)
        self.assertEqual(
            report.message_ids.attachment_ids.mapped("name"), ["google.com!x!1!2.zip"]
        )

    def test_same_report_twice_stored_once(self):
        first = self.deliver(self.google(), "a.zip", message_id="<one@google.com>")
        second = self.deliver(self.google(), "a.zip", message_id="<two@google.com>")
        self.assertEqual(first, second)
        report = self.Report.browse(first)
        self.assertEqual(report.copies, 2)
        self.assertEqual(len(report.record_ids), 3, "rows not stored twice")
        self.assertEqual(self.Report.search_count([("report_id", "=", "1001")]), 1)
        self.assertEqual(
            len(report.message_ids.filtered(lambda m: m.message_type == "email")),
            2,
            "both mails kept in the chatter",
        )

    def test_foreign_domain_ignored(self):
        thread_id = self.deliver(
            self.google("2002", domain="stranger.example"), "b.zip"
        )
        report = self.Report.browse(thread_id)
        self.assertEqual(
            (report.state, report.reason_code), ("ignored", "foreign_domain")
        )
        self.assertIn("stranger.example", report.reason)
        self.assertFalse(report.record_ids)

    def test_organisational_domain_accepted(self):
        # the alias domain's parent holds the DMARC record: its reports count
        parent = self.domain.split(".", 1)[1]
        thread_id = self.deliver(self.google("2003", domain=parent), "c.zip")
        self.assertEqual(self.Report.browse(thread_id).state, "done")

    def test_hostile_attachments_refused_and_kept(self):
        bomb = gzip.compress(b"<feedback>" + b"<x/>" * (2 * 1024 * 1024), 9)
        deep = b"<feedback>" + b"<a>" * 100 + b"</a>" * 100 + b"</feedback>"
        xxe = (
            b'<?xml version="1.0"?><!DOCTYPE feedback [<!ENTITY x SYSTEM '
            b'"file:///etc/passwd">]><feedback>&x;</feedback>'
        )
        cases = [
            (bomb, "bomb.xml.gz", "ratio"),
            (deep, "deep.xml", "xml_depth"),
            (xxe, "xxe.xml", "xml_dtd"),
            (b"not a report", "junk.zip", "not_a_report"),
        ]
        for data, filename, code in cases:
            with self.subTest(code=code):
                report = self.Report.browse(
                    self.deliver(data, filename, message_id=f"<{code}@x.example>")
                )
                self.assertEqual((report.state, report.reason_code), ("refused", code))
                self.assertTrue(report.reason)
                self.assertEqual(
                    report.message_ids.attachment_ids.mapped("name"),
                    [filename],
                    "the mail and its attachment are kept",
                )

    def test_oversized_attachment_refused(self):
        report = self.Report._receive_attachment(
            "huge.xml", b"<" + b"x" * (50 * 1024 * 1024)
        )
        self.assertEqual((report.state, report.reason_code), ("refused", "too_large"))
        self.assertIn("52428801", report.reason)

    def test_tls_report(self):
        data = samples.gz(
            samples.tls_report(
                self.domain,
                "tls-1",
                failures=[
                    ("certificate-expired", 3, "209.85.220.41"),
                    ("sts-policy-fetch-error", 2, "209.85.220.42"),
                ],
            )
        )
        report = self.Report.browse(
            self.deliver(
                data,
                "company-x!shop!1!2.json.gz",
                sender="tlsrpt@company-x.example",
                mimetype=("application", "tlsrpt+gzip"),
            )
        )
        self.assertEqual((report.state, report.kind), ("done", "tls"))
        rows = report.tls_ids
        self.assertEqual(sum(rows.mapped("successful")), 120)
        self.assertEqual(
            sorted((row.family, row.failed) for row in rows if row.failed),
            [("certificate", 3), ("mta_sts", 2)],
        )
        groups = self.env["mail.dmarc.report.tls"].read_group(
            [("report_id", "=", report.id), ("failed", ">", 0)],
            ["failed:sum"],
            ["family", "org_name"],
            lazy=False,
        )
        self.assertEqual(
            sorted((g["family"], g["org_name"], g["failed"]) for g in groups),
            [("certificate", "Company-X", 3), ("mta_sts", "Company-X", 2)],
        )

    def test_mail_without_report(self):
        raw = self.raw("someone@else.example", self.address, subject="Hello")
        report = self.Report.browse(
            self.env["mail.thread"].sudo().message_process(False, raw)
        )
        self.assertEqual(
            (report.state, report.reason_code), ("refused", "no_attachment")
        )

    def test_only_administrators(self):
        self.deliver(self.google(), "a.zip")
        employee = mail_new_test_user(
            self.env, login="dmarc-employee", groups="base.group_user"
        )
        for model in (
            "mail.dmarc.report",
            "mail.dmarc.report.record",
            "mail.dmarc.report.source",
            "mail.dmarc.report.tls",
        ):
            with self.subTest(model=model):
                with self.assertRaises(AccessError):
                    self.env[model].with_user(employee).search([])
                self.assertTrue(
                    self.env[model].with_user(self.user_admin).search([])
                    or model == "mail.dmarc.report.tls"
                )
