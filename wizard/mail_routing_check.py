# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import base64
import contextlib

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools import raw_message


class _DryRunRollback(Exception):
    """Raised to undo everything a dry run did inside its savepoint."""


class MailRoutingCheck(models.TransientModel):
    """Answers "what would happen to this incoming mail, and why?".

    Runs the real ``message_process`` with a dry-run flag inside a savepoint
    that is always rolled back: no record created, no mail sent, no log
    written, no counter changed. The verdict and steps are worded by
    ``mail.routing.explanation``, as in the gateway log.
    """

    _name = "mail.routing.check"
    _description = "Test incoming routing"

    raw_message = fields.Text(
        "Raw message", help="Paste the full source of the message (headers and body)."
    )
    eml_file = fields.Binary("Or upload an .eml file")
    eml_filename = fields.Char()
    fallback_model_id = fields.Many2one(
        "ir.model",
        "Fallback model",
        domain=[("is_mail_thread", "=", True)],
        ondelete="cascade",
        help="What a mail no alias matches creates, as an incoming mail server's "
        "'Create a new record' does. "
        "Empty: such a mail is refused.",
    )
    # PostgreSQL cannot store NUL: pasted text that had some is kept
    # without it, and this says it was there (so: not an email message)
    had_nul = fields.Boolean(readonly=True)
    verdict = fields.Html(readonly=True, sanitize=False)
    steps = fields.Html("How it was decided", readonly=True, sanitize=False)

    @api.model
    def _strip_nul(self, vals):
        if "\x00" in (vals.get("raw_message") or ""):
            vals = dict(
                vals,
                raw_message=vals["raw_message"].replace("\x00", "\ufffd"),
                had_nul=True,
            )
        elif "raw_message" in vals:
            vals = dict(vals, had_nul=False)
        return vals

    @api.model_create_multi
    def create(self, vals_list):
        return super().create([self._strip_nul(vals) for vals in vals_list])

    def write(self, vals):
        return super().write(self._strip_nul(vals))

    def _get_source(self):
        self.ensure_one()
        if self.eml_file and self.raw_message:
            raise UserError(
                self.env._(
                    "Give either an .eml file or pasted text, not both: clear one of "
                    "them."
                )
            )
        if self.eml_file:
            return base64.b64decode(self.eml_file)
        if self.raw_message:
            return (
                self.raw_message.replace("\ufffd", "\x00").encode()
                if self.had_nul
                else self.raw_message.encode()
            )
        raise UserError(self.env._("Paste a raw message or upload an .eml file."))

    @api.model
    def _not_email_text(self, reason):
        _ = self.env._
        return {
            raw_message.NOT_EMAIL_EMPTY: _(
                "This is not an email message: it is empty."
            ),
            raw_message.NOT_EMAIL_NUL: _(
                "This is not an email message: it contains NUL characters, which a "
                "mail never does."
            ),
            raw_message.NOT_EMAIL_NO_HEADERS: _(
                "This is not an email message: it does not start with mail headers "
                "such as From:, To: or Subject:."
            ),
        }[reason]

    @api.model
    def _explain_incoming(self, source, model=False):
        """Return ``(verdict, trace)`` for a raw message, changing nothing:
        the verdict in plain words and the ``(code, params)`` steps."""
        if isinstance(source, str):
            source = source.encode()
        reason = raw_message.not_email_reason(source)
        if reason:
            text = self._not_email_text(reason)
            return text, [("error", {"text": text})]
        trace = []
        try:
            # the savepoint is rolled back by the exception, which ends the dry run
            with contextlib.suppress(_DryRunRollback), self.env.cr.savepoint():
                try:
                    result = (
                        self.env["mail.thread"]
                        .with_context(
                            mail_routing_dry_run=True, mail_routing_trace=trace
                        )
                        .message_process(model or False, source)
                    )
                    if result is False and not any(
                        code in ("refused", "deliver") for code, _p in trace
                    ):
                        trace.append(("duplicate", {}))
                except ValueError as exc:
                    if not any(code == "refused" for code, _p in trace):
                        text = self.env["mail.routing.explanation"]._routing_error_text(
                            exc
                        )
                        trace.append(("error", {"text": text}))
                raise _DryRunRollback()
        finally:
            self.env.invalidate_all()
        return self.env["mail.routing.explanation"]._verdict_text(trace), trace

    def action_explain(self):
        self.ensure_one()
        verdict, trace = self._explain_incoming(
            self._get_source(), self.fallback_model_id.model or False
        )
        html_verdict, steps = self.env["mail.routing.explanation"]._describe_trace(
            trace
        )
        self.write(
            {"verdict": html_verdict, "steps": steps if len(trace) > 1 else False}
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Test incoming routing"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }
