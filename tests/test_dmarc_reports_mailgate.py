# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""A real gzip report delivered over SMTP through the mailgate into the
report alias, twice: stored once, with its rows, committed before 250."""

import smtplib

from odoo import SUPERUSER_ID, api
from odoo.tests import tagged

from odoo.addons.mail_routing_policy.models.mail_dmarc_report import ALIAS_XMLID

from . import dmarc_reports_samples as samples
from .test_mailgate import MailgateCase


@tagged("post_install", "-at_install", "mail_routing_policy", "mailgate")
class TestDmarcReportMailgate(MailgateCase):
    def setUp(self):
        super().setUp()
        # registered after MailgateCase's clean-up: runs before it
        self.addCleanup(self._cleanup_reports)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            alias = env.ref(ALIAS_XMLID)
            # (the test's alias domain when the alias had none: see the clean-up)
            self.saved_alias_domain = (
                alias.alias_domain_id.id
                if alias.alias_domain_id.id != self.domain_id
                else None
            )
            self.alias_report_id = alias.id
            alias.alias_domain_id = self.domain_id
            self.report_address = alias.alias_full_name

    def _cleanup_reports(self):
        with self.registry.cursor() as cr:
            cr.execute(
                "DELETE FROM mail_message WHERE model = 'mail.dmarc.report' AND "
                "res_id IN (SELECT id FROM mail_dmarc_report WHERE report_id LIKE %s)",
                [f"%{self.tag}%"],
            )
            cr.execute(
                "DELETE FROM mail_dmarc_report WHERE report_id LIKE %s",
                [f"%{self.tag}%"],
            )
            cr.execute(
                "DELETE FROM mail_dmarc_report_source WHERE ip IN %s",
                [("192.0.2.77", "2001:db8:77::1")],
            )
            # back to its domain before the test's alias domain goes
            cr.execute(
                "UPDATE mail_alias SET alias_domain_id = %s, alias_full_name = "
                "CASE WHEN %s IS NULL THEN alias_name ELSE "
                "alias_name || '@' || (SELECT name FROM mail_alias_domain "
                "WHERE id = %s) END WHERE id = %s",
                [self.saved_alias_domain] * 3 + [self.alias_report_id],
            )
            # creating the test's alias domain gave it to the aliases without
            # a domain (core), the report alias among them: none keeps it
            cr.execute(
                "UPDATE mail_alias SET alias_domain_id = NULL, "
                "alias_full_name = alias_name WHERE alias_domain_id = %s "
                "AND id != %s",
                [self.domain_id, self.alias_id],
            )

    def test_gzip_report_through_the_mailgate(self):
        report_id = f"ms-{self.tag}"
        xml = samples.microsoft_xml(
            self.domain,
            report_id,
            [
                samples.record_xml("192.0.2.77", 5, self.domain),
                samples.record_xml(
                    "2001:db8:77::1",
                    2,
                    self.domain,
                    dkim="fail",
                    spf="fail",
                    disposition="quarantine",
                ),
            ],
        )
        controller = self.start_gate()
        sender = "dmarcreport@microsoft.com"
        for copy in ("one", "two"):
            raw = samples.report_mail(
                samples.gz(xml),
                f"enterprise.protection.outlook.com!{self.domain}!1!2.xml.gz",
                self.report_address,
                sender=sender,
                subject=f"Report Domain: {self.domain} Submitter: "
                "enterprise.protection.outlook.com",
                mimetype=("application", "gzip"),
                message_id=f"<{copy}-{self.tag}@microsoft.com>",
            )
            with smtplib.SMTP("127.0.0.1", controller.port, timeout=60) as client:
                # as text: smtplib writes its line ends as CRLF
                refused = client.sendmail(
                    sender, [self.report_address], raw.decode("ascii")
                )
            self.assertEqual(refused, {})
        rows = self.query(
            "SELECT r.state, r.copies, r.message_count, count(rec.id) "
            "FROM mail_dmarc_report r LEFT JOIN mail_dmarc_report_record rec "
            "ON rec.report_id = r.id WHERE r.report_id = %s GROUP BY r.id",
            [report_id],
        )
        self.assertEqual(rows, [("done", 2, 7, 2)], "stored once, both copies seen")
        mails = self.query(
            "SELECT count(*) FROM mail_message m JOIN mail_dmarc_report r "
            "ON m.model = 'mail.dmarc.report' AND m.res_id = r.id "
            "WHERE r.report_id = %s AND m.message_type = 'email'",
            [report_id],
        )
        self.assertEqual(mails, [(2,)], "both mails in the report's chatter")
