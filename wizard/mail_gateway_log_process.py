# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api, fields, models

from ..models.mail_thread import CONTEXT_BYPASS, CONTEXT_TRUSTED_AUTHSERV_ID


class MailGatewayLogProcess(models.TransientModel):
    """The confirmation of *Process again*: what processing the logged
    message again would do (the explainer's dry run, with the check that
    stopped it bypassed, exactly as processing again will run), before the
    admin says yes."""

    _name = "mail.gateway.log.process"
    _description = "Process a gateway log entry again"

    log_id = fields.Many2one(
        "mail.gateway.log", required=True, readonly=True, ondelete="cascade"
    )
    preview = fields.Html("What it would do", readonly=True, sanitize=False)

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        for wizard in records:
            wizard.preview = wizard._preview()
        return records

    def _preview(self):
        self.ensure_one()
        log = self.log_id
        raw = log._get_raw_source()
        if not raw:
            return False
        context = {CONTEXT_BYPASS: log.reason}
        if log.auth_details:
            context[CONTEXT_TRUSTED_AUTHSERV_ID] = log.auth_details.split(";", 1)[
                0
            ].strip()
        # the dry run runs as processing again will (superuser: the bypass is
        # honoured on such an environment only); only a system user gets here
        _verdict, trace = (
            self.env["mail.routing.check"]
            .sudo()
            .with_context(**context)
            ._explain_incoming(raw, log.model or False)
        )
        return self.env["mail.routing.explanation"]._describe_trace(trace)[0]

    def action_process_again(self):
        self.ensure_one()
        self.log_id.action_process_again()
        return {"type": "ir.actions.act_window_close"}
