# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api, fields, models
from odoo.tools import SQL


class MailDmarcReportRow(models.AbstractModel):
    """What a row of a report holds whatever its kind (DMARC record, TLS
    result): its report, the organisation that sent it and the report's
    first day, stored and indexed so that the views filter on this table."""

    _name = "mail.dmarc.report.row"
    _description = "Row of a report from a receiver"
    _order = "date desc, id desc"
    #: the column naming the domain a row is about (the domain overview
    #: reads one domain's rows in a day range: indexed with the date)
    _row_domain_field = None

    report_id = fields.Many2one(
        "mail.dmarc.report", required=True, ondelete="cascade", index=True
    )
    org_name = fields.Char("Reporting organisation", readonly=True, index=True)
    date = fields.Date(readonly=True, index=True)

    def init(self):
        if self._row_domain_field:
            self.env.cr.execute(
                SQL(
                    "CREATE INDEX IF NOT EXISTS %s ON %s (%s, date)",
                    SQL.identifier(f"{self._table}_{self._row_domain_field}_date_idx"),
                    SQL.identifier(self._table),
                    SQL.identifier(self._row_domain_field),
                )
            )

    @api.model
    def _row_values(self, report):
        """The values every row of ``report`` shares."""
        return {
            "report_id": report.id,
            "org_name": report.org_name,
            "date": report.date_begin.date() if report.date_begin else False,
        }
