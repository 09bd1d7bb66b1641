# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api, fields, models
from odoo.tools import SQL

# a bucket left alone this long is full again for any rate worth setting
STALE_SECONDS = 3600


def _tokens_now(rate, burst):
    """The bucket's tokens now: refilled at ``rate`` a second since its
    stamp, never above ``burst``."""
    return SQL(
        "LEAST(%s, b.tokens + (EXTRACT(EPOCH FROM clock_timestamp()) - b.stamp) * %s)",
        float(burst),
        float(rate),
    )


class MailGatewayGuessBudget(models.Model):
    """Recipient guessing, per client, across its sessions and across every
    mailgate of the database: a token bucket (``burst`` tokens, refilled at
    ``rate`` a second) that each refused recipient spends. An empty bucket
    answers every recipient ``450`` without looking it up, so that a
    dictionary attack learns at most ``burst + rate x seconds`` answers
    however many sessions or mailgates it uses. One row per client, updated
    under its row lock (plain SQL: the mailgate's worker threads call it on
    autocommit cursors)."""

    _name = "mail.gateway.guess.budget"
    _description = "Mail gateway recipient guessing budget"
    _log_access = False

    client = fields.Char(required=True, readonly=True)
    tokens = fields.Float(required=True, readonly=True)
    # seconds since the epoch of the last spend (clock_timestamp(): the
    # database's clock, the same for every mailgate)
    stamp = fields.Float(required=True, readonly=True)

    _sql_constraints = [("client_unique", "UNIQUE(client)", "One budget a client.")]

    @api.model
    def _guess_budget_left(self, client, rate, burst):
        """Whether ``client`` may have a recipient looked up now (a read:
        no row is a full bucket)."""
        self.env.cr.execute(
            SQL(
                "SELECT %s FROM mail_gateway_guess_budget b WHERE b.client = %s",
                _tokens_now(rate, burst),
                client,
            )
        )
        row = self.env.cr.fetchone()
        return row is None or row[0] >= 1

    @api.model
    def _guess_budget_spend(self, client, rate, burst):
        """Spend one token for a refused recipient: False when none was
        left (concurrent sessions wait on the row lock, so the bucket never
        pays more than it holds)."""
        self.env.cr.execute(
            SQL(
                """INSERT INTO mail_gateway_guess_budget AS b (client, tokens, stamp)
                   VALUES (%s, %s - 1, EXTRACT(EPOCH FROM clock_timestamp()))
                   ON CONFLICT (client) DO UPDATE
                   SET tokens = %s - 1, stamp = EXTRACT(EPOCH FROM clock_timestamp())
                   WHERE %s >= 1
                   RETURNING b.tokens""",
                client,
                float(burst),
                _tokens_now(rate, burst),
                _tokens_now(rate, burst),
            )
        )
        return bool(self.env.cr.fetchone())

    @api.autovacuum
    def _gc_guess_budgets(self):
        self.env.cr.execute(
            "DELETE FROM mail_gateway_guess_budget WHERE stamp < "
            "EXTRACT(EPOCH FROM clock_timestamp()) - %s",
            [STALE_SECONDS],
        )
