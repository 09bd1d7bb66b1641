from odoo import _, api, fields, models

from ..models.ir_mail_server import TIER_LABELS


class MailSenderCheck(models.TransientModel):
    """Answers "which server and which From would this address get?", sending nothing."""

    _name = "mail.sender.check"
    _description = "Check outgoing sender"

    email_from = fields.Char("From address", required=True, help="Author address, e.g. ann@example.com")
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    pinned_server_id = fields.Many2one(
        "ir.mail_server", string="Pinned server", help="Simulate a mail pinned to this server (e.g. by a template)."
    )
    mail_server_id = fields.Many2one("ir.mail_server", string="Server used", compute="_compute_decision")
    failover_server_ids = fields.Many2many("ir.mail_server", string="Failover servers", compute="_compute_decision")
    tier = fields.Char("Rule tier", compute="_compute_decision")
    rule = fields.Char("Matched rule", compute="_compute_decision")
    header_from = fields.Char("Header From", compute="_compute_decision")
    envelope_from = fields.Char("Envelope sender (Return-Path)", compute="_compute_decision")
    reply_to = fields.Char("Reply-To", compute="_compute_decision")
    dmarc_aligned = fields.Boolean("DMARC aligned", compute="_compute_decision")
    dmarc = fields.Char("DMARC alignment", compute="_compute_decision")
    blocked = fields.Boolean(compute="_compute_decision")
    warnings = fields.Text(compute="_compute_decision")

    @api.depends("email_from", "company_id", "pinned_server_id")
    def _compute_decision(self):
        for wizard in self:
            if not wizard.email_from:
                wizard.update(
                    dict.fromkeys(
                        ["tier", "rule", "header_from", "envelope_from", "reply_to", "dmarc", "warnings"], False
                    )
                    | {"mail_server_id": False, "failover_server_ids": False, "dmarc_aligned": False, "blocked": False}
                )
                continue
            decision = self.env["ir.mail_server"]._explain_sending(
                wizard.email_from, company=wizard.company_id, pinned_server=wizard.pinned_server_id
            )
            tier = decision["tier"]
            warnings = list(decision["warnings"])
            if decision["blocked"]:
                warnings.insert(0, decision["reason"])
            wizard.update(
                {
                    "mail_server_id": decision["server"].id,
                    "failover_server_ids": [(6, 0, (decision["candidates"] - decision["server"]).ids)],
                    "tier": f"{tier}. {TIER_LABELS[tier]}" if tier else _("pinned"),
                    "rule": decision["rule"],
                    "header_from": decision["header_from"],
                    "envelope_from": decision["envelope_from"],
                    "reply_to": decision["reply_to"],
                    "dmarc_aligned": decision["dmarc_aligned"],
                    "dmarc": decision["dmarc"],
                    "blocked": decision["blocked"],
                    "warnings": "\n".join(warnings) or False,
                }
            )
