# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api, fields, models

from ..hooks import post_load


class MailGatewayEvent(models.Model):
    """One record created (or reply posted) through the mail gateway.

    The loop protection counts these rows instead of searching business
    tables with ``ilike``: one indexed range scan on (sender, scope, date)
    stays flat whatever the size of the history.
    """

    _name = "mail.gateway.event"
    _description = "Mail gateway event (loop protection counter)"
    _order = "id desc"
    _log_access = False

    sender = fields.Char(required=True, readonly=True, help="Normalised sender address")
    scope = fields.Char(
        required=True,
        readonly=True,
        help="What is limited: alias:<id>, model:<name> or thread:<model>,<id>",
    )
    kind = fields.Selection(
        [
            ("create", "Record created"),
            ("reply", "Reply posted"),
            ("notice", "Loop notice sent"),
        ],
        required=True,
        readonly=True,
    )
    event_date = fields.Datetime(required=True, readonly=True)

    def _register_hook(self):
        # the manifest's post_load, again when the registry loads: Odoo
        # skips post_load when the addon was imported before its loader ran,
        # which every odoo-bin subcommand (server, shell, mailgate) does for
        # an addon with a cli/ folder, and pytest-odoo too (idempotent)
        post_load()
        return super()._register_hook()

    def init(self):
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS mail_gateway_event_sender_scope_date_idx
               ON mail_gateway_event (sender, scope, kind, event_date)"""
        )
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS mail_gateway_event_date_idx ON
                   mail_gateway_event (event_date)"""
        )

    @api.model
    def _lock_and_count(self, sender, scope, kind, since, lock=True):
        """Count ``kind`` events of a sender and scope since ``since``, after
        serialising on that sender and scope across workers (``lock``).

        Upserting the guard row takes its row lock until the transaction
        ends. Odoo runs in REPEATABLE READ: when another transaction touched
        the same row after our snapshot was taken, PostgreSQL raises a
        serialization failure and Odoo retries the whole delivery with a
        fresh snapshot, so the count always sees every committed event.
        One statement: the guard upsert runs even though the count does not
        read it (PostgreSQL always executes data-modifying CTEs).
        """
        count_sql = """SELECT count(*) FROM mail_gateway_event
                       WHERE sender = %(sender)s AND scope = %(scope)s AND kind =
                           %(kind)s
                         AND event_date > %(since)s"""
        if lock:
            count_sql = f"""WITH guard AS (
                                INSERT INTO mail_gateway_loop_guard (key, touched)
                                VALUES (%(key)s, now() at time zone 'UTC')
                                ON CONFLICT (key) DO UPDATE SET touched =
                                    EXCLUDED.touched
                            ) {count_sql}"""
        self.env.cr.execute(
            count_sql,
            {
                "sender": sender,
                "scope": scope,
                "kind": kind,
                "since": since,
                "key": f"{sender}|{scope}",
            },
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _count(self, sender, scope, kind, since):
        return self._lock_and_count(sender, scope, kind, since, lock=False)

    @api.model
    def _record(self, sender, scope, kind):
        """Insert one event (plain SQL: it is written for every delivery)."""
        self.env.cr.execute(
            """INSERT INTO mail_gateway_event (sender, scope, kind, event_date)
               VALUES (%s, %s, %s, %s)""",
            [sender, scope, kind, self.env.cr.now()],
        )

    @api.model
    def _gc_events(self):
        """Cron: drop events older than the longest loop window in use."""
        # each alias's window is its own, else its model's (the report
        # alias's day), else the global one
        Alias = self.env["mail.alias"].sudo()
        windows = [Alias._get_loop_limits()[0]]
        windows += [alias._get_loop_limits()[0] for alias in Alias.search([])]
        self.env.cr.execute(
            "DELETE FROM mail_gateway_event WHERE event_date < %s - "
            "make_interval(mins => %s)",
            [self.env.cr.now(), max(windows) + 1],
        )
        self.env.cr.execute(
            "DELETE FROM mail_gateway_loop_guard WHERE touched < %s - "
            "make_interval(mins => %s)",
            [self.env.cr.now(), max(windows) + 1],
        )


class MailGatewayLoopGuard(models.Model):
    """One row per (sender, scope): the lock that serialises loop counting."""

    _name = "mail.gateway.loop.guard"
    _description = "Mail gateway loop counter lock"
    _log_access = False

    key = fields.Char(required=True, readonly=True)
    touched = fields.Datetime(readonly=True)

    _sql_constraints = [
        ("key_uniq", "unique(key)", "One guard row per sender and scope.")
    ]
