# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api, fields, models
from odoo.tools import format_datetime

from ..models.mail_dns_check_result import STATUSES

# the DMARC box: ticked only on DNS's word, never on the FROM filters'
DMARC_STATES = [
    ("aligned", "Yes (DNS read)"),
    ("not_aligned", "No (DNS read)"),
    ("unknown", "Could not be checked"),
    ("not_read", "Not checked: DNS not read yet"),
]


class MailSenderCheck(models.TransientModel):
    """Check DNS room: Check sender's DMARC line as DNS reads it, and its
    Check DNS button."""

    _inherit = "mail.sender.check"

    dmarc_state = fields.Selection(
        DMARC_STATES,
        "DMARC aligned",
        compute="_compute_decision",
        help="Read from DNS (Check DNS): aligned only when DNS says so. The FROM "
        "filters alone never make it aligned.",
    )
    dns_status = fields.Selection(STATUSES, "DNS verdict", compute="_compute_decision")

    def _compute_decision(self):
        result = super()._compute_decision()
        for wizard in self:
            shown = wizard.email_from and not wizard.invalid
            # the FROM filters' statement is no DNS answer
            wizard.update(
                {"dmarc_state": "not_read" if shown else False, "dns_status": False}
            )
            if shown and not wizard.blocked:
                wizard._read_dns_verdict()
        return result

    def _read_dns_verdict(self):
        """The DMARC line from what DNS said (the stored facts of this server,
        From and envelope: Check DNS), instead of the FROM filters alone."""
        verdict = self.env["mail.dns.check.result"]._receiver_verdict(
            self.mail_server_id, self.header_from, self.envelope_from
        )
        if verdict is None:
            return
        fact, words, date = verdict
        self.update(
            {
                "dmarc": self.env._(
                    "%(verdict)s (DNS read %(date)s.)",
                    verdict=words,
                    date=format_datetime(self.env, date),
                ),
                "dmarc_state": self._dmarc_state(fact),
                "dns_status": fact.status,
            }
        )

    @api.model
    def _dmarc_state(self, fact):
        """The DMARC box from Gmail's verdict: aligned only on a pass; unknown
        when DNS could not tell or no DKIM selector is entered (a signature
        could still align)."""
        if fact.status == "pass":
            return "aligned"
        if fact.status == "unknown" or fact.data.get("dkim_unchecked"):
            return "unknown"
        return "not_aligned"

    def action_check_dns(self):
        """Read DNS now for the server, From and envelope shown (bounded in
        time), and show the answer."""
        self.ensure_one()
        if self.email_from and not self.invalid and not self.blocked:
            self.env["mail.dns.check.result"]._check_path(
                self.mail_server_id, self.header_from, self.envelope_from
            )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Check sender"),
        }
