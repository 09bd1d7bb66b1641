# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools import delivery_feedback

REASON_SELECTION = [
    (delivery_feedback.REFUSAL_TOO_LARGE, "Body too large"),
    (delivery_feedback.REFUSAL_NO_LENGTH, "No Content-Length"),
    (delivery_feedback.REFUSAL_NOT_JSON, "Not JSON"),
    (delivery_feedback.REFUSAL_SHAPE, "Not the provider's shape"),
    (delivery_feedback.REFUSAL_SIGNATURE_MISSING, "No signature"),
    (delivery_feedback.REFUSAL_SIGNATURE, "Wrong signature"),
    (delivery_feedback.REFUSAL_STALE, "Too old"),
    (delivery_feedback.REFUSAL_REPLAY, "Replayed"),
    (delivery_feedback.REFUSAL_NO_KEY, "No signing key set"),
    (delivery_feedback.REFUSAL_UNKNOWN_SERVER, "Unknown server or token"),
    (delivery_feedback.REFUSAL_CREDENTIALS, "Wrong credentials"),
    (delivery_feedback.REFUSAL_CERT_URL, "Certificate not from the provider's host"),
    (delivery_feedback.REFUSAL_CERT_UNAVAILABLE, "Certificate unavailable"),
    (delivery_feedback.REFUSAL_TOPIC, "Another topic"),
]


class MailDeliveryRefusal(models.Model):
    """Refused delivery webhook requests, counted per day, server and
    reason: one row a day, not a line per attempt (a forged request must
    not be able to fill the database or the log)."""

    _name = "mail.delivery.refusal"
    _description = "Refused delivery webhook requests (daily count)"
    _order = "day desc, count desc"
    _log_access = False

    day = fields.Date(required=True, readonly=True, index=True)
    server_id = fields.Many2one("ir.mail_server", readonly=True, ondelete="cascade")
    reason = fields.Selection(REASON_SELECTION, required=True, readonly=True)
    count = fields.Integer(readonly=True)
    last_date = fields.Datetime("Last", readonly=True)

    def init(self):
        # one row per day, server (none: an unknown one) and reason
        self.env.cr.execute(
            """CREATE UNIQUE INDEX IF NOT EXISTS mail_delivery_refusal_day_uniq
               ON mail_delivery_refusal (day, COALESCE(server_id, 0), reason)"""
        )

    @api.model
    def _count(self, server_id, reason):
        now = fields.Datetime.now()
        self.env.cr.execute(
            SQL(
                """INSERT INTO mail_delivery_refusal (day, server_id, reason, count,
                                                      last_date)
                   VALUES (%s, %s, %s, 1, %s)
                   ON CONFLICT (day, COALESCE(server_id, 0), reason)
                   DO UPDATE SET count = mail_delivery_refusal.count + 1,
                                 last_date = EXCLUDED.last_date""",
                now.date(),
                server_id or None,
                reason,
                now,
            )
        )
