import base64

from odoo import api, fields, models
from odoo.exceptions import UserError


class _DryRunRollback(Exception):
    """Raised to undo everything a dry run did inside its savepoint."""


class MailRoutingCheck(models.TransientModel):
    """Answers "what would happen to this incoming mail, and why?".

    Runs the real ``message_process`` with a dry-run flag inside a savepoint
    that is always rolled back: no record created, no mail sent, no log
    written, no counter changed.
    """

    _name = "mail.routing.check"
    _description = "Test incoming routing"

    raw_message = fields.Text("Raw message", help="Paste the full source of the message (headers and body).")
    eml_file = fields.Binary("Or upload an .eml file")
    eml_filename = fields.Char()
    model = fields.Char("Fallback model", help="Model used when no alias matches, as for an incoming mail server.")
    trace = fields.Text("Decision trace", readonly=True)
    decision = fields.Char(readonly=True)

    def _get_source(self):
        self.ensure_one()
        if self.eml_file:
            return base64.b64decode(self.eml_file)
        if self.raw_message:
            return self.raw_message.encode()
        raise UserError(self.env._("Paste a raw message or upload an .eml file."))

    @api.model
    def _explain_incoming(self, source, model=False):
        """Return ``(decision, trace)`` for a raw message, changing nothing."""
        trace = []
        try:
            with self.env.cr.savepoint():
                try:
                    result = (
                        self.env["mail.thread"]
                        .with_context(mail_routing_dry_run=True, mail_routing_trace=trace)
                        .message_process(model or False, source)
                    )
                    if result is False and not any(step == "decision" for step, _d in trace):
                        trace.append(("decision", "ignored: duplicate Message-ID (already processed)"))
                except ValueError as exc:
                    trace.append(("error", str(exc)))
                raise _DryRunRollback()
        except _DryRunRollback:
            pass
        finally:
            self.env.invalidate_all()
        decisions = [detail for step, detail in trace if step == "decision"]
        outcome = decisions[-1] if decisions else (trace[-1][1] if trace else "")
        return outcome, trace

    def action_explain(self):
        self.ensure_one()
        decision, trace = self._explain_incoming(self._get_source(), self.model)
        self.write({"decision": decision, "trace": "\n".join(f"{step}: {detail}" for step, detail in trace)})
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }
