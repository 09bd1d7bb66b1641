# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api, fields, models

# what the wizard shows while no address, or no valid one, is typed
_NO_DECISION = dict.fromkeys(
    ["summary", "tier", "rule", "header_from", "envelope_from", "reply_to", "dmarc"],
    False,
)
_NO_DECISION.update(
    mail_server_id=False,
    failover_server_ids=False,
    rewritten=False,
    blocked=False,
    invalid=False,
    warnings=False,
)


class MailSenderCheck(models.TransientModel):
    """Answers "which server and which From would this address get?" without
    sending."""

    _name = "mail.sender.check"
    _description = "Check outgoing sender"

    email_from = fields.Char(
        "From address", required=True, help="Author address, e.g. ann@example.com"
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    pinned_server_id = fields.Many2one(
        "ir.mail_server",
        string="Pinned server",
        help="Simulate a mail pinned to this server (e.g. by a template).",
    )
    summary = fields.Text("Verdict", compute="_compute_decision")
    mail_server_id = fields.Many2one(
        "ir.mail_server", string="Server used", compute="_compute_decision"
    )
    failover_server_ids = fields.Many2many(
        "ir.mail_server", string="Failover servers", compute="_compute_decision"
    )
    tier = fields.Char("Rule", compute="_compute_decision")
    rule = fields.Char("In detail", compute="_compute_decision")
    header_from = fields.Char(compute="_compute_decision")
    envelope_from = fields.Char(
        "Envelope sender (Return-Path)", compute="_compute_decision"
    )
    reply_to = fields.Char("Reply-To", compute="_compute_decision")
    rewritten = fields.Boolean("From rewritten", compute="_compute_decision")
    dmarc = fields.Char("DMARC alignment", compute="_compute_decision")
    blocked = fields.Boolean(compute="_compute_decision")
    invalid = fields.Boolean(compute="_compute_decision")
    warnings = fields.Text(compute="_compute_decision")

    @api.depends("email_from", "company_id", "pinned_server_id")
    def _compute_decision(self):
        empty = dict(_NO_DECISION)
        for wizard in self:
            if not wizard.email_from:
                wizard.update(empty)
                continue
            decision = self.env["ir.mail_server"]._explain_sending(
                wizard.email_from,
                company=wizard.company_id,
                pinned_server=wizard.pinned_server_id,
            )
            if decision["invalid"]:
                wizard.update(
                    dict(empty, invalid=True, summary=decision["warnings"][0])
                )
                continue
            warnings = list(decision["warnings"])
            if decision["blocked"]:
                warnings.insert(0, decision["reason"])
            wizard.update(
                {
                    "summary": wizard._summarize_case() + wizard._summarize(decision),
                    "mail_server_id": decision["server"].id,
                    "failover_server_ids": [
                        (6, 0, (decision["candidates"] - decision["server"]).ids)
                    ],
                    "tier": self.env["mail.routing.explanation"]._sender_tier_text(
                        decision["tier"]
                    ),
                    # a clause in a sentence elsewhere; a sentence here
                    "rule": decision["rule"][:1].upper() + decision["rule"][1:],
                    "header_from": decision["header_from"],
                    "envelope_from": decision["envelope_from"],
                    "reply_to": decision["reply_to"],
                    "rewritten": decision["rewritten"],
                    "dmarc": decision["dmarc"],
                    "blocked": decision["blocked"],
                    "invalid": False,
                    "warnings": "\n".join(warnings) or False,
                }
            )

    def _summarize_case(self):
        """Which question the answer is for: a mail pinned to a server (as
        when opened from a server's form) is answered differently from one
        whose server Odoo chooses."""
        self.ensure_one()
        if self.pinned_server_id:
            return self.env._(
                "For a mail pinned to server '%s' (by its template or by the app "
                "that sends it; clear Pinned server to ask for any mail): ",
                self.pinned_server_id.name,
            )
        return self.env._("For a mail whose server Odoo chooses: ")

    def _summarize(self, decision):
        """The verdict in one sentence, read from the decision of real sending."""
        _ = self.env._
        if decision["blocked"]:
            return _(
                "The mail would not be sent: it stays in the queue, for the reason "
                "below."
            )
        server = decision["server"].name or _(
            "the SMTP settings of the Odoo configuration file"
        )
        if not decision["rewritten"]:
            return _(
                "The mail would be sent through %(server)s with its From unchanged: "
                "%(header)s.",
                server=server,
                header=decision["header_from"],
            )
        why = (
            _("no server is set up for the author's address")
            if decision["tier"] == 5
            else _("this server may not send in the author's name")
        )
        return _(
            "The mail would be sent through %(server)s with its From rewritten to "
            "%(header)s instead of the author's address, because %(why)s.",
            server=server,
            why=why,
            header=decision["header_from"],
        )
