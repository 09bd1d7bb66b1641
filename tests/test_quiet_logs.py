# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Quiet, correct logs under load (issue 12, section 2).

A serialization failure or lock timeout that Odoo retries by design is not
an error: ``odoo.sql_db``'s ``bad query`` record for it is downgraded to
DEBUG by the module's filter; real SQL errors stay at ERROR.
"""

import logging

import psycopg2

from odoo.tests import TransactionCase, tagged

from . import test_incoming_concurrency


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestQuietSqlLog(TransactionCase):
    def _lock_not_available(self):
        """Raise a real LOCK_NOT_AVAILABLE: another transaction holds the row."""
        with self.registry.cursor() as holder, self.registry.cursor() as waiter:
            holder.execute(
                "SELECT id FROM res_company WHERE id = %s FOR UPDATE",
                [self.env.company.id],
            )
            with self.assertRaises(psycopg2.errors.LockNotAvailable):
                waiter.execute(
                    "SELECT id FROM res_company WHERE id = %s FOR UPDATE NOWAIT",
                    [self.env.company.id],
                )
            holder.rollback()

    def test_retried_conflict_is_not_an_error(self):
        with self.assertNoLogs("odoo.sql_db", "INFO"):
            self._lock_not_available()

    def test_retried_conflict_kept_at_debug(self):
        with self.assertLogs("odoo.sql_db", "DEBUG") as logs:
            self._lock_not_available()
        bad = [
            record for record in logs.records if str(record.msg).startswith("bad query")
        ]
        self.assertEqual(len(bad), 1)
        self.assertEqual(bad[0].levelno, logging.DEBUG)
        self.assertIn("could not obtain lock", bad[0].getMessage())

    def test_real_sql_error_still_logged_at_error(self):
        with (
            self.assertLogs("odoo.sql_db", "ERROR") as logs,
            self.assertRaises(psycopg2.errors.SyntaxError),
        ):
            with self.env.cr.savepoint():
                self.env.cr.execute("SELEC 1")
        self.assertEqual(logs.records[0].levelno, logging.ERROR)
        self.assertIn("bad query", logs.records[0].getMessage())


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestQuietParallelDelivery(test_incoming_concurrency.TestLoopConcurrency):
    """Eight deliveries of one sender at once, each retried by Odoo's
    ``retrying`` as an RPC call is: conflicts happen (Odoo logs its retries
    at INFO), the threshold holds, and not one ERROR record is emitted."""

    # only the test below, not the inherited ones
    test_two_workers = test_four_workers = test_eight_workers = None

    def test_parallel_delivery_logs_no_error(self):
        collect = _Collect()
        root = logging.getLogger()
        retry_logger = logging.getLogger("odoo.service.model")
        old_level = retry_logger.level
        retry_logger.setLevel(logging.INFO)
        root.addHandler(collect)
        try:
            created, logged, notices = self._storm(8)
        finally:
            root.removeHandler(collect)
            retry_logger.setLevel(old_level)
        self.assertEqual(
            created, test_incoming_concurrency.THRESHOLD, "the threshold held"
        )
        self.assertEqual(created + logged, 8, "every message routed or logged")
        self.assertEqual(notices, 1)
        retries = [
            r
            for r in collect.records
            if r.name == "odoo.service.model" and "try again" in r.getMessage()
        ]
        self.assertTrue(
            retries,
            "the deliveries did conflict and were retried (else this test proves "
            "nothing)",
        )
        errors = [
            f"{r.name}: {r.getMessage()[:300]}"
            for r in collect.records
            if r.levelno >= logging.ERROR
        ]
        self.assertEqual(errors, [], "no ERROR record for conflicts Odoo retries")
