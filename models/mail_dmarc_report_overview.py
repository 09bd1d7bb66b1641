# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import datetime

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from .mail_dmarc_report_record import FLAGS, SOURCE_CLASSES
from .mail_dmarc_report_tls import FAMILIES

#: days the screen shows when it opens
DEFAULT_DAYS = 7
#: lines per list (the most messages, the most failed sessions first)
MAX_LINES = 500


class MailDmarcReportOverview(models.TransientModel):
    """One domain and day range: who sends as the domain (the DMARC rows,
    one line per source address) and how TLS sessions to it went (the TLS
    rows, one line per sending organisation and failure), on one screen.

    The lines are aggregated by PostgreSQL (one ``GROUP BY`` per list on the
    rows' ``(domain, date)`` index) and stored as transient lines when the
    domain or the days change, so the screen costs the same at 100,000 rows
    as at 100."""

    _name = "mail.dmarc.report.overview"
    _description = "Reports from receivers for one domain"
    _rec_name = "domain"

    domain = fields.Selection(
        "_selection_domains", "Domain", required=True, default=lambda self: self._default_domain()
    )
    date_from = fields.Date(
        "From",
        required=True,
        default=lambda self: fields.Date.context_today(self)
        - datetime.timedelta(days=DEFAULT_DAYS),
    )
    date_to = fields.Date(
        "To", required=True, default=lambda self: fields.Date.context_today(self)
    )
    source_line_ids = fields.One2many(
        "mail.dmarc.report.overview.source", "overview_id", "Sources", readonly=True
    )
    tls_line_ids = fields.One2many(
        "mail.dmarc.report.overview.tls", "overview_id", "TLS sessions", readonly=True
    )
    messages = fields.Integer("Messages", readonly=True)
    messages_failed = fields.Integer("Failed DMARC", readonly=True)
    flagged_sources = fields.Integer("Flagged sources", readonly=True)
    tls_successful = fields.Integer("Successful TLS sessions", readonly=True)
    tls_failed = fields.Integer("Failed TLS sessions", readonly=True)

    @api.constrains("date_from", "date_to")
    def _check_days(self):
        for overview in self:
            if overview.date_from > overview.date_to:
                raise ValidationError(
                    self.env._("The first day (From) is after the last (To).")
                )

    @api.model
    def _report_domains(self):
        """The domains reports are about (DMARC From domains, TLS policy
        domains), the most recent first."""
        self.env.cr.execute(
            """SELECT domain FROM (
                   SELECT header_from AS domain, max(date) AS last
                     FROM mail_dmarc_report_record GROUP BY header_from
                   UNION ALL
                   SELECT policy_domain, max(date)
                     FROM mail_dmarc_report_tls GROUP BY policy_domain
               ) seen
               WHERE domain IS NOT NULL
               GROUP BY domain ORDER BY max(last) DESC NULLS LAST, domain"""
        )
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _selection_domains(self):
        domains = self._report_domains()
        owned = sorted(self.env["mail.dmarc.report"]._owned_domains() - set(domains))
        return [(domain, domain) for domain in domains + owned]

    @api.model
    def _default_domain(self):
        selection = self._selection_domains()
        return selection[0][0] if selection else False

    @api.model_create_multi
    def create(self, vals_list):
        overviews = super().create(vals_list)
        overviews._fill_lines()
        return overviews

    def write(self, vals):
        result = super().write(vals)
        if {"domain", "date_from", "date_to"} & set(vals):
            self._fill_lines()
        return result

    @api.model
    def action_open_overview(self):
        """The menu's screen: the domain with the latest reports, last week."""
        overview = self.create({})
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Domain overview"),
            "res_model": self._name,
            "res_id": overview.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

    def action_refresh(self):
        """The button saves the domain and days (write fills the lines)."""
        return True

    def action_open_check_dns(self):
        self.ensure_one()
        return self.env["mail.dns.check.result"]._action_open(
            [("domain", "=", self.domain)]
        )

    def _fill_lines(self):
        Source = self.env["mail.dmarc.report.overview.source"]
        Tls = self.env["mail.dmarc.report.overview.tls"]
        for overview in self:
            overview.source_line_ids.unlink()
            overview.tls_line_ids.unlink()
            sources = Source.create(Source._lines_of(overview))
            tls = Tls.create(Tls._lines_of(overview))
            overview.write(
                {
                    "messages": sum(sources.mapped("messages")),
                    "messages_failed": sum(sources.mapped("messages_failed")),
                    "flagged_sources": len(sources.filtered("flag")),
                    "tls_successful": sum(tls.mapped("successful")),
                    "tls_failed": sum(tls.mapped("failed")),
                }
            )


class MailDmarcReportOverviewSource(models.TransientModel):
    """One source address sending as the overview's domain in its days."""

    _name = "mail.dmarc.report.overview.source"
    _description = "Source sending as a domain"
    _order = "messages desc, id"

    overview_id = fields.Many2one(
        "mail.dmarc.report.overview", required=True, ondelete="cascade", index=True
    )
    source_id = fields.Many2one("mail.dmarc.report.source", "Source", readonly=True)
    ptr_name = fields.Char(related="source_id.ptr_name")
    source_class = fields.Selection(SOURCE_CLASSES, "Sender", readonly=True)
    messages = fields.Integer(readonly=True)
    messages_passed = fields.Integer("Passed DMARC", readonly=True)
    messages_failed = fields.Integer("Failed DMARC", readonly=True)
    dkim_aligned_pass = fields.Integer("DKIM aligned", readonly=True)
    spf_aligned_pass = fields.Integer("SPF aligned", readonly=True)
    dkim_results = fields.Char("DKIM signatures", readonly=True)
    spf_results = fields.Char("SPF", readonly=True)
    dispositions = fields.Char("Disposition", readonly=True)
    org_names = fields.Char("Reporting organisations", readonly=True)
    flag = fields.Selection(FLAGS, readonly=True)

    @api.model
    def _lines_of(self, overview):
        """The line values of ``overview``: its DMARC rows by source."""
        self.env.cr.execute(
            SQL(
                """SELECT source_id, max(source_class), sum(count),
                          sum(count_pass), sum(count_fail),
                          coalesce(sum(count) FILTER (WHERE dkim_aligned = 'pass'), 0),
                          coalesce(sum(count) FILTER (WHERE spf_aligned = 'pass'), 0),
                          left(string_agg(DISTINCT dkim_results, '; '), 255),
                          left(string_agg(DISTINCT spf_results, '; '), 255),
                          string_agg(DISTINCT disposition, ', '),
                          left(string_agg(DISTINCT org_name, ', '), 255),
                          max(flag)
                     FROM mail_dmarc_report_record
                    WHERE header_from = %(domain)s
                      AND date BETWEEN %(date_from)s AND %(date_to)s
                 GROUP BY source_id
                 ORDER BY sum(count) DESC, source_id
                    LIMIT %(limit)s""",
                domain=overview.domain,
                date_from=overview.date_from,
                date_to=overview.date_to,
                limit=MAX_LINES,
            )
        )
        names = (
            "source_id source_class messages messages_passed messages_failed "
            "dkim_aligned_pass spf_aligned_pass dkim_results spf_results "
            "dispositions org_names flag"
        ).split()
        return [
            {"overview_id": overview.id, **dict(zip(names, row, strict=True))}
            for row in self.env.cr.fetchall()
        ]

    def action_open_rows(self):
        """The report rows this line adds up."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "mail_routing_policy.mail_dmarc_report_record_action"
        )
        overview = self.overview_id
        action["domain"] = [
            ("header_from", "=", overview.domain),
            ("source_id", "=", self.source_id.id),
            ("date", ">=", overview.date_from),
            ("date", "<=", overview.date_to),
        ]
        action["context"] = {}
        return action


class MailDmarcReportOverviewTls(models.TransientModel):
    """TLS sessions to the overview's domain one organisation reported, by
    failure (no failure: the successful sessions)."""

    _name = "mail.dmarc.report.overview.tls"
    _description = "TLS sessions to a domain"
    _order = "failed desc, successful desc, id"

    overview_id = fields.Many2one(
        "mail.dmarc.report.overview", required=True, ondelete="cascade", index=True
    )
    org_name = fields.Char("Sending organisation", readonly=True)
    family = fields.Selection(FAMILIES, "Failure", readonly=True)
    result_types = fields.Char("Results", readonly=True)
    failed = fields.Integer("Failed sessions", readonly=True)
    successful = fields.Integer("Successful sessions", readonly=True)

    @api.model
    def _lines_of(self, overview):
        """The line values of ``overview``: its TLS rows by organisation and
        failure."""
        self.env.cr.execute(
            SQL(
                """SELECT org_name, family,
                          left(string_agg(DISTINCT result_type, ', '), 255),
                          sum(failed), sum(successful)
                     FROM mail_dmarc_report_tls
                    WHERE policy_domain = %(domain)s
                      AND date BETWEEN %(date_from)s AND %(date_to)s
                 GROUP BY org_name, family
                 ORDER BY sum(failed) DESC, org_name
                    LIMIT %(limit)s""",
                domain=overview.domain,
                date_from=overview.date_from,
                date_to=overview.date_to,
                limit=MAX_LINES,
            )
        )
        names = ("org_name", "family", "result_types", "failed", "successful")
        return [
            {"overview_id": overview.id, **dict(zip(names, row, strict=True))}
            for row in self.env.cr.fetchall()
        ]
