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
        "_selection_domains",
        required=True,
        default=lambda self: self._default_domain(),
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
    messages = fields.Integer(readonly=True)
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

    def _aggregate(self, model, columns, group_by):
        """The line values of this overview from the rows of ``model`` (the
        DMARC or TLS rows) about its domain in its days: ``columns``
        (``[(line field, SQL aggregate)]``) grouped by ``group_by``, the
        largest first (the first aggregate), at most ``MAX_LINES``."""
        self.ensure_one()
        names = [name for name, _sql in columns]
        Row = self.env[model]
        self.env.cr.execute(
            SQL(
                """SELECT %s FROM %s
                    WHERE %s = %s AND date BETWEEN %s AND %s
                 GROUP BY %s ORDER BY 1 DESC, %s LIMIT %s""",
                SQL(", ").join(SQL(sql) for _name, sql in columns),
                SQL.identifier(Row._table),
                SQL.identifier(Row._row_domain_field),
                self.domain,
                self.date_from,
                self.date_to,
                SQL(group_by),
                SQL(group_by),
                MAX_LINES,
            )
        )
        return [
            {"overview_id": self.id, **dict(zip(names, row, strict=True))}
            for row in self.env.cr.fetchall()
        ]

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
    source_id = fields.Many2one("mail.dmarc.report.source", "Source")
    source_ip = fields.Char("Source address", related="source_id.ip")
    ptr_name = fields.Char(related="source_id.ptr_name")
    source_class = fields.Selection(SOURCE_CLASSES, "Sender")
    messages = fields.Integer()
    messages_passed = fields.Integer("Passed DMARC")
    messages_failed = fields.Integer("Failed DMARC")
    dkim_aligned_pass = fields.Integer("DKIM aligned")
    spf_aligned_pass = fields.Integer("SPF aligned")
    dkim_results = fields.Char("DKIM signatures")
    spf_results = fields.Char("SPF")
    dispositions = fields.Char("Disposition")
    org_names = fields.Char("Reporting organisations")
    flag = fields.Selection(FLAGS)

    @api.model
    def _lines_of(self, overview):
        """The line values of ``overview``: its DMARC rows by source."""
        return overview._aggregate(
            "mail.dmarc.report.record",
            [
                ("messages", "sum(count)"),
                ("source_id", "source_id"),
                ("source_class", "max(source_class)"),
                ("messages_passed", "sum(count_pass)"),
                ("messages_failed", "sum(count_fail)"),
                (
                    "dkim_aligned_pass",
                    "coalesce(sum(count) FILTER (WHERE dkim_aligned = 'pass'), 0)",
                ),
                (
                    "spf_aligned_pass",
                    "coalesce(sum(count) FILTER (WHERE spf_aligned = 'pass'), 0)",
                ),
                ("dkim_results", "left(string_agg(DISTINCT dkim_results, '; '), 255)"),
                ("spf_results", "left(string_agg(DISTINCT spf_results, '; '), 255)"),
                ("dispositions", "string_agg(DISTINCT disposition, ', ')"),
                ("org_names", "left(string_agg(DISTINCT org_name, ', '), 255)"),
                ("flag", "max(flag)"),
            ],
            "source_id",
        )

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
    org_name = fields.Char("Sending organisation")
    family = fields.Selection(FAMILIES, "Failure")
    result_types = fields.Char("Results")
    failed = fields.Integer("Failed sessions")
    successful = fields.Integer("Successful sessions")

    @api.model
    def _lines_of(self, overview):
        """The line values of ``overview``: its TLS rows by organisation and
        failure."""
        return overview._aggregate(
            "mail.dmarc.report.tls",
            [
                ("failed", "sum(failed)"),
                ("successful", "sum(successful)"),
                ("org_name", "org_name"),
                ("family", "family"),
                ("result_types", "left(string_agg(DISTINCT result_type, ', '), 255)"),
            ],
            "org_name, family",
        )
