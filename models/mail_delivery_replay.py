# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import datetime

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools import delivery_feedback


class MailDeliveryReplay(models.Model):
    """The requests of delivery webhooks already accepted (Mailgun's token,
    SendGrid's signature), so that a captured request sent again is refused.
    Kept a little longer than a request may be old."""

    _name = "mail.delivery.replay"
    _description = "Delivery webhook request seen"
    _log_access = False

    key = fields.Char(required=True, readonly=True)
    date = fields.Datetime(required=True, readonly=True, index=True)

    _sql_constraints = [("key_unique", "UNIQUE(key)", "A request is accepted once.")]

    @api.model
    def _claim(self, key):
        """True the first time ``key`` is seen; a concurrent request with the
        same key waits on the unique index and gets False."""
        self.env.cr.execute(
            SQL(
                """INSERT INTO mail_delivery_replay (key, date) VALUES (%s, %s)
                   ON CONFLICT (key) DO NOTHING RETURNING id""",
                key,
                fields.Datetime.now(),
            )
        )
        return bool(self.env.cr.fetchone())

    @api.model
    def _gc_replay_keys(self):
        before = fields.Datetime.now() - datetime.timedelta(
            seconds=2 * (delivery_feedback.MAX_AGE + delivery_feedback.MAX_SKEW)
        )
        self.env.cr.execute(
            "DELETE FROM mail_delivery_replay WHERE date < %s", [before]
        )
