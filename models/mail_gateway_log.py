import base64
import email
import email.policy
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

REASONS = [
    ("allow_list", "Recipient domain not allowed"),
    ("auto_reply", "Auto-reply"),
    ("read_receipt", "Read receipt"),
    ("self_loop", "Sent by one of our own addresses"),
    ("forwarding_loop", "Forwarding loop"),
    ("loop_reply", "Reply to a loop notice"),
    ("rate_limit", "Too many records from this sender"),
    ("reply_limit", "Too many replies from this sender"),
    ("write_to_catchall", "Written to the catchall address"),
    ("alias_refused", "Refused by the alias contact policy"),
    ("no_route", "No route"),
    ("unparseable", "Message could not be parsed"),
]


class MailGatewayLog(models.Model):
    """Every incoming message the gateway dropped, blocked or bounced.

    Nothing is lost: the raw message is kept (for the retention period) and
    can be processed again, bypassing the check that stopped it.
    """

    _name = "mail.gateway.log"
    _description = "Mail gateway log"
    _order = "id desc"
    _rec_name = "subject"

    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now, index=True)
    reason = fields.Selection(REASONS, required=True, readonly=True, index=True)
    details = fields.Text(readonly=True)
    email_from = fields.Char("Sender", readonly=True, index=True)
    recipients = fields.Char(readonly=True)
    subject = fields.Char(readonly=True)
    message_id = fields.Char("Message-ID", readonly=True, index=True)
    alias_id = fields.Many2one("mail.alias", readonly=True, ondelete="set null")
    model = fields.Char("Target model", readonly=True)
    bounced = fields.Boolean("Answer sent", readonly=True, help="A bounce or notice was sent to the sender.")
    # stored in the row, not as ir.attachment: a log written in its own
    # transaction (failed delivery) must not wait on company rows locked by it
    # kept in the row, not as an ir.attachment: a no-route entry is written in
    # its own transaction while the delivery's transaction is still open, and
    # an attachment insert can wait forever on that transaction's row locks
    raw_message = fields.Binary("Raw message (.eml)", attachment=False, readonly=True)
    raw_filename = fields.Char(compute="_compute_raw_filename")
    count = fields.Integer("Occurrences", default=1, readonly=True)
    state = fields.Selection(
        [("logged", "Logged"), ("done", "Processed again"), ("failed", "Processing again failed")],
        default="logged",
        required=True,
        readonly=True,
    )
    result = fields.Text("Result of processing again", readonly=True)

    @api.depends("message_id")
    def _compute_raw_filename(self):
        for log in self:
            log.raw_filename = f"message-{log.id}.eml"

    @api.model
    def _log_refusal(self, message, message_dict, reason, details="", alias=None, model=None, bounced=False):
        """Record a refused message. Repeated deliveries of one message (a
        fetchmail retry after a failure) update the same entry."""

        def text(value, size=2000):
            # PostgreSQL text cannot hold NUL; a hostile header must not stop the log
            return str(value or "").replace("\x00", "\ufffd")[:size]

        values = {
            "reason": reason,
            "details": text(details, 4000),
            "email_from": text(message_dict.get("email_from") or message_dict.get("from"), 500),
            "recipients": text(message_dict.get("recipients") or message_dict.get("to")),
            "subject": text(message_dict.get("subject"), 500),
            "message_id": text(message_dict.get("message_id"), 500),
            "alias_id": alias.id if alias else False,
            "model": model or (alias.sudo().alias_model_id.model if alias else False),
            "bounced": bounced,
        }
        raw_message = base64.b64encode(self._raw_source(message))
        # the same message again, not merely the same Message-ID: a broken or
        # reused Message-ID (Odoo reads "<f(oo@x>" as "<f") must not hide
        # another message's source
        existing = (
            self.sudo()
            .search([("message_id", "=", values["message_id"]), ("reason", "=", reason), ("state", "=", "logged")])
            .filtered(lambda log: log.raw_message == raw_message)[:1]
            if values["message_id"]
            else self.browse()
        )
        if existing:
            existing.write({"count": existing.count + 1, "date": fields.Datetime.now(), "details": values["details"]})
            return existing
        values["raw_message"] = raw_message
        _logger.info(
            "Gateway refused mail from %s (Message-Id %s): %s %s",
            values["email_from"],
            values["message_id"],
            reason,
            details,
        )
        return self.sudo().create(values)

    @api.model
    def _raw_source(self, message):
        """The message as received when known, else re-serialised (never fails)."""
        raw = self.env.context.get("mail_routing_raw")
        if raw:
            return raw
        for policy in (email.policy.SMTP, email.policy.compat32):
            try:
                return message.as_bytes(policy=policy)
            except Exception:
                continue
        return str(message).encode("utf-8", "replace")

    def action_process_again(self):
        """Process the logged message again, bypassing the check that stopped it."""
        # processing runs as superuser (as the gateway does): only those who
        # may change the log may trigger it
        self.check_access("write")
        for log in self:
            if not log.raw_message:
                raise UserError(
                    self.env._("The raw message of log %s was purged: it cannot be processed again.", log.id)
                )
            raw = base64.b64decode(log.raw_message)
            bypass = {"mail_routing_bypass": log.reason}
            try:
                with self.env.cr.savepoint():
                    thread_id = (
                        self.env["mail.thread"].sudo().with_context(**bypass).message_process(log.model or False, raw)
                    )
            except Exception as exc:
                log.write({"state": "failed", "result": str(exc)})
                continue
            log.write(
                {
                    "state": "done",
                    "result": self.env._("Processed again: thread %s", thread_id)
                    if thread_id
                    else self.env._("Processed again: no record created (see the server log)"),
                }
            )
        return True

    @api.model
    def _gc_logs(self):
        """Cron: purge the raw messages older than the retention
        period. The entries themselves stay, so that what was refused, when
        and why remains visible; an administrator may delete them."""
        days = int(self.env["ir.config_parameter"].sudo().get_param("mail.gateway.log.retention_days", 30) or 30)
        limit = fields.Datetime.subtract(fields.Datetime.now(), days=days)
        self.sudo().search([("date", "<", limit), ("raw_message", "!=", False)]).write({"raw_message": False})
