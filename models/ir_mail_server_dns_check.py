# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools import deliverability


class IrMailServer(models.Model):
    """Check DNS room: what an outgoing server tells Check DNS (where its mail
    leaves from, its DKIM selectors) and the DNS facts found for it."""

    _inherit = "ir.mail_server"

    sending_addresses = fields.Char(
        groups="base.group_system",
        help="Where mail sent through this server leaves for the internet, as SPF "
        "sees it: addresses or ranges (203.0.113.5, 198.51.100.0/24) and the "
        "include the relay documents (include:mailgun.org), comma-separated. "
        "Empty: the addresses the SMTP host resolves to, which is right for your "
        "own mail server; for a relay service enter its range or include.",
    )
    dkim_selectors = fields.Char(
        "DKIM selectors",
        groups="base.group_system",
        help="The selectors this server signs mail with, comma-separated, for the "
        "From domains it sends for that are not alias domains (an alias domain's "
        "selectors are entered on the alias domain): Check DNS reads the key "
        "published at <selector>._domainkey.<domain>.",
    )
    deliverability_result_ids = fields.One2many(
        "mail.deliverability.result",
        "server_id",
        string="DNS check",
        groups="base.group_system",
    )
    deliverability_issue_count = fields.Integer(
        "DNS issues",
        compute="_compute_deliverability_issue_count",
        groups="base.group_system",
    )

    @api.constrains("sending_addresses")
    def _check_sending_addresses(self):
        for server in self.sudo():
            try:
                deliverability.parse_sending_addresses(server.sending_addresses)
            except deliverability.ConfigValueError as error:
                raise ValidationError(
                    self.env._(
                        "Sending addresses of %(server)s: '%(item)s' is neither an "
                        "IP address, a range (198.51.100.0/24) nor "
                        "include:domain.",
                        server=server.name,
                        item=error.item,
                    )
                ) from error

    @api.constrains("dkim_selectors")
    def _check_dkim_selectors(self):
        AliasDomain = self.env["mail.alias.domain"]
        for server in self.sudo():
            AliasDomain._validate_dkim_selectors(server.name, server.dkim_selectors)

    @api.depends("deliverability_result_ids.status")
    def _compute_deliverability_issue_count(self):
        for server in self:
            server.deliverability_issue_count = len(
                server.deliverability_result_ids.filtered(
                    lambda result: result.status != deliverability.PASS
                )
            )

    def action_open_deliverability_results(self):
        """This server's DNS facts (Check DNS for it when none were stored yet)."""
        self.ensure_one()
        Result = self.env["mail.deliverability.result"]
        if not Result.search_count([("server_id", "=", self.id)]):
            Result._run_checks()
        return Result._action_open([("server_id", "=", self.id)])
