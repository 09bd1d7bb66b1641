# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Loop protection under parallel delivery, with real committed transactions.

Each worker thread opens its own database connection and processes its own
message from the same sender, as several Odoo workers or fetchmail runs do.
Serialization failures are retried with Odoo's own ``retrying`` (as RPC and
HTTP requests are); the threshold must hold exactly and no message may
vanish: each one either created a record or is in the gateway log.
"""

import contextlib
import random
import threading
import uuid
from functools import partial
from types import SimpleNamespace
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.service import model as service_model
from odoo.service.model import retrying
from odoo.tests import TransactionCase, tagged

from odoo.addons.mail_routing_policy.models.mail_gateway_event import MailGatewayEvent

from .common import allow_registry_in_threads, raw_message

THRESHOLD = 3


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestLoopConcurrency(TransactionCase):
    def setUp(self):
        super().setUp()
        allow_registry_in_threads(self)
        self.tag = uuid.uuid4().hex[:8]
        self.sender = f"storm-{self.tag}@loop.example"
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.alias_id = (
                env["mail.alias"]
                .create(
                    {
                        "alias_name": f"conc{self.tag}",
                        "alias_model_id": env["ir.model"]._get("res.partner").id,
                        "alias_contact": "everyone",
                        "alias_incoming_local": True,
                        "loop_threshold": THRESHOLD,
                        "loop_minutes": 60,
                    }
                )
                .id
            )
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            cr.execute(
                "DELETE FROM res_partner WHERE name LIKE %s", [f"Conc {self.tag}%"]
            )
            cr.execute(
                "DELETE FROM mail_gateway_event WHERE sender = %s", [self.sender]
            )
            cr.execute(
                "DELETE FROM mail_gateway_loop_guard WHERE key LIKE %s",
                [f"{self.sender}|%"],
            )
            cr.execute(
                "DELETE FROM mail_gateway_log WHERE email_from LIKE %s",
                [f"%{self.sender}%"],
            )
            cr.execute(
                "DELETE FROM mail_mail WHERE email_to LIKE %s", [f"%{self.sender}%"]
            )
            cr.execute(
                "DELETE FROM mail_message WHERE email_from LIKE %s",
                [f"%{self.sender}%"],
            )
            cr.execute("DELETE FROM mail_alias WHERE id = %s", [self.alias_id])

    def _deliver(self, index, errors):
        raw = raw_message(
            self.sender,
            f"conc{self.tag}@customer-mx.example",
            subject=f"Conc {self.tag} {index}",
            msg_id=f"<conc-{self.tag}-{index}@test.example>",
        )
        try:
            # like fetchmail, a message whose delivery failed is tried again
            for _attempt in range(3):
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    try:
                        retrying(
                            partial(env["mail.thread"].message_process, None, raw), env
                        )
                    except Exception:
                        cr.rollback()
                        continue
                    # a real worker commits its own transaction
                    cr.commit()  # pylint: disable=invalid-commit
                    return
            errors.append(f"message {index} failed three times")
        except Exception as exc:
            errors.append(repr(exc))

    def _storm(self, workers):
        """Deliver ``workers`` messages at once. A barrier holds every worker
        just before it takes the counter lock, after its snapshot was taken:
        the worst interleaving, every time."""
        errors = []
        barrier = threading.Barrier(workers, timeout=10)
        waited = threading.local()
        original_lock = MailGatewayEvent._lock_and_count

        def synchronised_lock(model, *args, **kwargs):
            if not getattr(waited, "done", False):
                waited.done = True
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.wait()
            return original_lock(model, *args, **kwargs)

        threads = [
            threading.Thread(target=self._deliver, args=(index, errors))
            for index in range(workers)
        ]
        # Odoo's retry waits up to 2**try seconds after a serialisation
        # failure (random.uniform); a tenth of that keeps the retries and
        # their order, not the seconds
        backoff = SimpleNamespace(
            uniform=lambda low, high: random.uniform(low, high) / 10
        )
        with (
            patch.object(MailGatewayEvent, "_lock_and_count", synchronised_lock),
            patch.object(service_model, "random", backoff),
        ):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=300)
        self.assertFalse(errors)
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM res_partner WHERE name LIKE %s",
                [f"Conc {self.tag}%"],
            )
            created = cr.fetchone()[0]
            cr.execute(
                # rate-limited repeats fold into one entry: its count is the number of
                # messages
                "SELECT coalesce(sum(count), 0) FROM mail_gateway_log WHERE "
                "email_from LIKE %s AND reason = 'rate_limit'",
                [f"%{self.sender}%"],
            )
            logged = cr.fetchone()[0]
            cr.execute(
                "SELECT count(*) FROM mail_gateway_event WHERE sender = %s AND kind = "
                "'notice'",
                [self.sender],
            )
            notices = cr.fetchone()[0]
        return created, logged, notices

    def _check(self, workers):
        created, logged, notices = self._storm(workers)
        self.assertEqual(created, THRESHOLD, "never more records than the threshold")
        self.assertEqual(created + logged, workers, "every message routed or logged")
        self.assertEqual(notices, 1, "one notice for the window")

    def test_two_workers(self):
        created, logged, _notices = self._storm(2)
        self.assertEqual((created, logged), (2, 0))

    def test_four_workers(self):
        self._check(4)

    def test_eight_workers(self):
        self._check(8)
