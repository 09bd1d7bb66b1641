# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Gateway log storage (issue 12, section 1): a mail storm cannot bloat the
database, nothing a person wrote is lost, sources live in the filestore,
retention applies to sources and then to entries."""

import threading
import uuid
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged

from odoo.addons.mail_routing_policy.models.mail_gateway_log import (
    FOLD_SAMPLE_SIZE,
    MailGatewayLog,
)

from .common import (
    GatewayCase,
    allow_registry_in_threads,
    delete_committed_logs,
    raw_message,
)

_original_store = MailGatewayLog._store_source


def _store_without_waiting(log, raw):
    """Fail instead of waiting when the attachment insert needs a lock
    (the hang of the former implementation would block the test forever)."""
    log.env.cr.execute("SET LOCAL lock_timeout = '3s'")
    return _original_store(log, raw)


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestGatewayLogStorage(GatewayCase):
    def sources(self, log):
        return self.env["ir.attachment"].search(
            [("res_model", "=", "mail.gateway.log"), ("res_id", "=", log.id)]
        )

    def test_source_in_filestore_not_in_row(self):
        self.auto_reply("S1")
        log = self.logs(subject="S1")
        source = self.sources(log)
        self.assertEqual(len(source), 1)
        self.assertTrue(source.store_fname, "stored in the filestore")
        self.assertFalse(source.db_datas)
        self.assertIn(b"Subject: S1", source.raw)
        self.assertEqual(log._get_raw_source(), source.raw)
        self.assertTrue(log.raw_hash)
        self.env.cr.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = "
            "'mail_gateway_log'"
            " AND data_type IN ('bytea', 'text') AND column_name LIKE 'raw%%'"
        )
        self.assertFalse(
            self.env.cr.fetchall(), "no raw message column in the log table"
        )

    def test_rate_limited_storm_folds_with_bounded_sample(self):
        self.ICP.set_param("mail.gateway.loop.threshold", 2)
        total = FOLD_SAMPLE_SIZE + 5
        for index in range(total):
            self.process(
                "storm@loop.example",
                "info@test.mycompany.com",
                subject=f"Storm {index}",
            )
        logs = self.env["mail.gateway.log"].search(
            [("email_from", "like", "storm@loop.example")]
        )
        self.assertEqual(len(logs), 1, "one entry for the whole series")
        self.assertEqual(logs.reason, "rate_limit")
        self.assertEqual(logs.count, total - 2)
        self.assertEqual(logs.source_count, FOLD_SAMPLE_SIZE)
        self.assertEqual(len(self.sources(logs)), FOLD_SAMPLE_SIZE)
        self.assertEqual(logs.sources_dropped, total - 2 - FOLD_SAMPLE_SIZE)
        self.assertIn(
            f"the sources of {total - 2 - FOLD_SAMPLE_SIZE} of them were not kept",
            logs.fold_note,
        )
        self.assertIn(
            b"Subject: Storm 2",
            logs._get_raw_source(),
            "the first refused message is kept",
        )

    def test_automatic_repeats_fold(self):
        for index in range(3):
            self.auto_reply(f"Away {index}", sender="robot@customer.example")
        log = self.env["mail.gateway.log"].search(
            [("email_from", "like", "robot@customer.example")]
        )
        self.assertEqual(len(log), 1)
        self.assertEqual((log.count, log.source_count, log.sources_dropped), (3, 3, 0))
        self.assertFalse(log.fold_note, "nothing dropped: no note")

    def test_human_refusals_never_folded(self):
        self._make_alias("staff", alias_contact="partners")
        for index in range(FOLD_SAMPLE_SIZE + 2):
            self.process(
                "person@customer.example",
                "staff@test.mycompany.com",
                subject=f"Human {index}",
            )
        logs = self.env["mail.gateway.log"].search(
            [("email_from", "like", "person@customer.example")]
        )
        self.assertEqual(set(logs.mapped("reason")), {"alias_refused"})
        self.assertEqual(
            len(logs), FOLD_SAMPLE_SIZE + 2, "one entry per message of a person"
        )
        for log in logs:
            self.assertEqual(len(self.sources(log)), 1, "its whole source is kept")

    def test_no_route_logged_in_own_transaction_without_waiting(self):
        """The test transaction renamed the company (MailCommon): it holds
        that row FOR UPDATE, as a delivery transaction may. The no-route
        entry and its source are written in their own transaction meanwhile."""
        raw = self.raw(
            "lost@customer.example",
            "nobody@unknown-domain.example",
            subject="NoRoute",
            msg_id=f"<noroute-{uuid.uuid4().hex}@x>",
        )
        with (
            patch.object(MailGatewayLog, "_store_source", _store_without_waiting),
            self.assertRaises(ValueError),
        ):
            self.env["mail.thread"].sudo().message_process(None, raw)
        with self.registry.cursor() as cr:
            cr.execute(
                """SELECT l.id, count(a.id) FROM mail_gateway_log l
                   LEFT JOIN ir_attachment a ON a.res_model = 'mail.gateway.log' AND
                       a.res_id = l.id
                   WHERE l.subject = 'NoRoute' AND l.reason = 'no_route' GROUP BY
                       l.id"""
            )
            rows = cr.fetchall()
            delete_committed_logs(cr, [row[0] for row in rows])
        self.assertEqual(
            [count for _id, count in rows], [1], "logged with its source, committed"
        )

    def test_retention_purges_sources_then_entries(self):
        self.auto_reply("R1")
        log = self.logs(subject="R1")
        self.ICP.set_param("mail.gateway.log.retention_days", 10)
        self.ICP.set_param("mail.gateway.log.keep_days", 100)
        self.backdate_log(log, 11)
        log._gc_logs()
        self.assertTrue(log.exists())
        self.assertFalse(self.sources(log))
        self.assertIsNone(log._get_raw_source())
        self.backdate_log(log, 101)
        log._gc_logs()
        self.assertFalse(log.exists(), "older than keep_days: the entry goes too")

    def test_keep_days_validated(self):
        with self.assertRaises(ValidationError):
            self.ICP.set_param("mail.gateway.log.keep_days", "0")
        with self.assertRaises(ValidationError):
            self.ICP.set_param("mail.gateway.log.keep_days", "half a year")


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestNoRouteParallel(TransactionCase):
    """Parallel deliveries whose transactions hold the company row
    FOR UPDATE (as a delivery that renamed it does) while their no-route
    entries are written in separate transactions: none of them waits."""

    WORKERS = 4

    def setUp(self):
        super().setUp()
        allow_registry_in_threads(self)
        self.tag = uuid.uuid4().hex[:8]
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT id FROM mail_gateway_log WHERE subject LIKE %s",
                [f"Lost {self.tag}%"],
            )
            ids = [row[0] for row in cr.fetchall()]
            delete_committed_logs(cr, ids)

    def _deliver(self, index, results):
        raw = raw_message(
            f"lost-{self.tag}@customer.example",
            f"nobody-{self.tag}@unknown-domain.example",
            subject=f"Lost {self.tag} {index}",
            msg_id=f"<lost-{self.tag}-{index}@test.example>",
        )
        try:
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                cr.execute(
                    "SELECT id FROM res_company WHERE id = %s FOR UPDATE",
                    [env.company.id],
                )
                try:
                    env["mail.thread"].message_process(None, raw)
                    results.append("routed?")
                except ValueError:
                    results.append("no route")
                cr.rollback()
        except Exception as exc:
            results.append(repr(exc))

    def test_parallel_no_route_logs_do_not_wait(self):
        results = []
        threads = [
            threading.Thread(target=self._deliver, args=(i, results))
            for i in range(self.WORKERS)
        ]
        with patch.object(MailGatewayLog, "_store_source", _store_without_waiting):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
        self.assertEqual(results, ["no route"] * self.WORKERS)
        with self.registry.cursor() as cr:
            cr.execute(
                """SELECT count(DISTINCT l.id), count(a.id) FROM mail_gateway_log l
                   JOIN ir_attachment a ON a.res_model = 'mail.gateway.log' AND a.res_id
                       = l.id
                   WHERE l.subject LIKE %s AND l.reason = 'no_route'""",
                [f"Lost {self.tag}%"],
            )
            self.assertEqual(
                cr.fetchone(),
                (self.WORKERS, self.WORKERS),
                "every entry written with its source",
            )
