# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api, fields, models

from ..tools.dmarc_reports import sources
from ..tools.dmarc_reports.texts import FLAG_TEXTS
from ..tools.reason_texts import word

SOURCE_CLASSES = [
    (sources.OWN, "Odoo's outgoing server"),
    (sources.RELAY, "Relay Odoo sends through"),
    (sources.UNKNOWN, "Unknown"),
]
FLAGS = [
    (sources.FLAG_UNKNOWN_PASSES, "Unknown source passes DMARC"),
    (sources.FLAG_OWN_FAILS, "Own server fails DMARC"),
]


class MailDmarcReportRecord(models.Model):
    """One row of a DMARC aggregate report: messages from one source address
    with one From domain and one set of results.

    Everything the *Who sends as your domain* view groups and filters by is
    a stored, indexed column of this table (date, From domain, source,
    class, flag, pass/fail counts), so that it is read with ``read_group``
    on one table at 100,000 rows."""

    _name = "mail.dmarc.report.record"
    _inherit = ["mail.dmarc.report.row"]
    _row_domain_field = "header_from"
    _description = "Row of a DMARC aggregate report"
    _rec_name = "source_ip"

    header_from = fields.Char("From domain", readonly=True, index=True)
    envelope_from = fields.Char("Envelope domain", readonly=True)
    envelope_to = fields.Char("Recipient domain", readonly=True)
    source_ip = fields.Char("Source address", readonly=True)
    source_id = fields.Many2one(
        "mail.dmarc.report.source", "Source", readonly=True, index=True
    )
    source_class = fields.Selection(
        string="Sender",
        related="source_id.classification",
        store=True,
        index=True,
    )
    server_id = fields.Many2one(
        "ir.mail_server",
        "Outgoing server",
        related="source_id.server_id",
        store=True,
        index="btree_not_null",
    )
    count = fields.Integer("Messages", readonly=True, aggregator="sum")
    count_pass = fields.Integer("Passed DMARC", readonly=True, aggregator="sum")
    count_fail = fields.Integer("Failed DMARC", readonly=True, aggregator="sum")
    dmarc_pass = fields.Boolean("DMARC passed", readonly=True)
    dkim_aligned = fields.Char("DKIM (aligned)", readonly=True)
    spf_aligned = fields.Char("SPF (aligned)", readonly=True)
    disposition = fields.Char(readonly=True, index=True)
    reasons = fields.Char("Receiver's reasons", readonly=True)
    dkim_results = fields.Char("DKIM signatures", readonly=True)
    spf_results = fields.Char("SPF", readonly=True)
    flag = fields.Selection(
        FLAGS, compute="_compute_flag", store=True, index=True, readonly=True
    )
    flag_text = fields.Char("Why flagged", compute="_compute_flag_text")

    @api.depends("source_class", "dmarc_pass")
    def _compute_flag(self):
        for record in self:
            record.flag = (
                sources.flag(record.source_class or sources.UNKNOWN, record.dmarc_pass)
                or False
            )

    def _compute_flag_text(self):
        for record in self:
            record.flag_text = (
                word(FLAG_TEXTS[record.flag], env=self.env) if record.flag else False
            )

    def action_open_check_dns(self):
        """Check DNS's results (and records to publish) for this From domain."""
        self.ensure_one()
        return self.env["mail.dns.check.result"]._action_open(
            [("domain", "=", self.header_from)]
        )

    @api.model
    def _values(self, report, record, source):
        def results(items, extra):
            return "; ".join(
                f"{item.domain}{extra(item)}={item.result}" for item in items
            )[:255]

        passed = record.dmarc_pass
        return {
            **self._row_values(report),
            "header_from": record.header_from,
            "envelope_from": record.envelope_from,
            "envelope_to": record.envelope_to,
            "source_ip": record.source_ip,
            "source_id": source,
            "count": record.count,
            "count_pass": record.count if passed else 0,
            "count_fail": 0 if passed else record.count,
            "dmarc_pass": passed,
            "dkim_aligned": record.dkim,
            "spf_aligned": record.spf,
            "disposition": record.disposition,
            "reasons": ", ".join(
                f"{kind} ({comment})" if comment else kind
                for kind, comment in record.reasons
            )[:255],
            "dkim_results": results(
                record.dkim_results,
                lambda item: f" ({item.selector})" if item.selector else "",
            ),
            "spf_results": results(
                record.spf_results,
                lambda item: f" ({item.scope})" if item.scope else "",
            ),
        }

    @api.model
    def _create_from(self, report, parsed):
        """The rows of ``parsed`` (a DMARC aggregate report) on ``report``."""
        ips = [record.source_ip for record in parsed.records]
        source_ids = self.env["mail.dmarc.report.source"]._ensure(ips)
        return self.sudo().create(
            [
                self._values(report, record, source_ids[record.source_ip])
                for record in parsed.records
            ]
        )
