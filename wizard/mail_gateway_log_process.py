# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api, fields, models

from ..models.mail_thread_incoming import CONTEXT_BYPASS, CONTEXT_TRUSTED_AUTHSERV_ID


class MailGatewayLogProcess(models.TransientModel):
    """The confirmation of *Process again*: what processing the logged
    message again would do (the explainer's dry run, with the check that
    stopped it bypassed, exactly as processing again will run), before the
    admin says yes. When the dry run ends in a refusal, the dialog says so,
    its button says that the message stays refused, and the fix is offered
    where there is one (an alias, the allowed alias domains)."""

    _name = "mail.gateway.log.process"
    _description = "Process a gateway log entry again"

    log_id = fields.Many2one(
        "mail.gateway.log", required=True, readonly=True, ondelete="cascade"
    )
    preview = fields.Html("What it would do", readonly=True, sanitize=False)
    would_refuse = fields.Boolean(readonly=True)
    refusal_reason = fields.Char(readonly=True)

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        for wizard in records:
            wizard.write(wizard._preview())
        return records

    def _preview(self):
        self.ensure_one()
        log = self.log_id
        raw = log._get_raw_source()
        if not raw:
            return {"preview": False}
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
        refusals = [params for code, params in trace if code == "refused"]
        return {
            "preview": self.env["mail.routing.explanation"]._describe_trace(trace)[0],
            "would_refuse": bool(refusals)
            or any(code == "error" for code, _params in trace),
            "refusal_reason": refusals[-1].get("reason") if refusals else False,
        }

    def action_process_again(self):
        self.ensure_one()
        self.log_id.action_process_again()
        return {"type": "ir.actions.act_window_close"}

    def action_open_aliases(self):
        """The fix of a message no alias matches: the aliases."""
        return self.env["ir.actions.act_window"]._for_xml_id("mail.mail_alias_action")

    def action_open_settings(self):
        """The fix of a recipient domain that is not allowed: Settings."""
        return self.env["ir.actions.act_window"]._for_xml_id(
            "base_setup.action_general_configuration"
        )
