# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Two mailgate processes on one database, as when a second MX host is added.

Each gate is its own ``odoo-bin mailgate`` process (MailgateCase.spawn_gate)
on its own loopback port; a sender floods one alias through both at once.
The loop counter is serialised in PostgreSQL, not in a process: records
created never exceed the alias's threshold, and every message is created,
logged or deferred (``450`` at ``RCPT TO``, the sender keeps it), never
lost, never answered ``451``/``5xx`` because the two gates met in the
database.

Session ``i`` comes from 127.0.0.(10 + i) at both gates: within one gate
every client has one session and a few messages, far below the per-client
limits, while both gates note refusals of the same client, sender and
recipient for the gateway log.

The tests share the two gate processes, as a deployment's gates live
through many configuration changes: each test's alias domain and
rate-limit action reach running gates through Odoo's cache signaling. The
gates stop (SIGTERM) with the class, and must exit cleanly then.
"""

import smtplib
import threading
import time

from odoo.tests import tagged

from .test_mailgate import MailgateCase

GATES = 2
SESSIONS_PER_GATE = 6
MESSAGES_PER_SESSION = 2


@tagged("post_install", "-at_install", "mail_routing_policy", "mailgate")
class TestMailgateTwoGates(MailgateCase):
    THRESHOLD = 3

    def _flood_two_gates(self, action="defer"):
        """The flood; returns ``{port: [codes]}`` once every check passed."""
        self.set_param("mail.gateway.smtp.rate_limit_action", action)
        # gates started now read the action; running ones are signaled it
        gates = self.shared_gates(GATES, "--hostname", "gate.test")
        sender = f"flood-{self.tag}@loop.example"
        barrier = threading.Barrier(GATES * SESSIONS_PER_GATE, timeout=180)
        codes = {port: [] for port in gates}
        unexpected, errors = [], []

        def session(gate, port, index):
            client_address = (f"127.0.0.{10 + index}", 0)
            try:
                with smtplib.SMTP(
                    "127.0.0.1", port, timeout=300, source_address=client_address
                ) as client:
                    client.ehlo("client.example")
                    barrier.wait()
                    for number in range(MESSAGES_PER_SESSION):
                        subject = f"Gate {self.tag} flood {gate}-{index}-{number}"
                        client.mail(sender)
                        code, text = client.rcpt(self.alias_address)
                        if code == 250:
                            code, text = client.data(self.message(sender, subject))
                        else:
                            client.rset()
                        codes[port].append(code)
                        if code not in (250, 450):
                            unexpected.append((port, code, text))
            except Exception as exc:
                errors.append(repr(exc))

        threads = [
            threading.Thread(target=session, args=(gate, port, index))
            for gate, port in enumerate(gates)
            for index in range(SESSIONS_PER_GATE)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        self.assertFalse(errors)
        self.assertFalse(
            unexpected,
            "only 250 or 450: no 451/5xx when the gates meet in the database",
        )
        total = GATES * SESSIONS_PER_GATE * MESSAGES_PER_SESSION
        flat = [code for port_codes in codes.values() for code in port_codes]
        self.assertEqual(len(flat), total, "every message answered")
        self.assertEqual(
            {port: len(port_codes) for port, port_codes in codes.items()},
            dict.fromkeys(gates, SESSIONS_PER_GATE * MESSAGES_PER_SESSION),
            "both gates served their sessions",
        )

        created = len(self.partners())
        logged = self.query(
            "SELECT coalesce(sum(count), 0) FROM mail_gateway_log WHERE email_from = "
            "%s AND reason = 'rate_limit'",
            [sender],
        )[0][0]
        self.assertLessEqual(
            created, self.THRESHOLD, "never more records than the threshold"
        )
        self.assertEqual(
            created, self.THRESHOLD, "the threshold's records were created"
        )
        self.assertEqual(
            flat.count(250),
            created + logged,
            "250 only for what was committed (created or logged)",
        )
        self.assertEqual(
            created + logged + flat.count(450),
            total,
            "every message created, logged or deferred",
        )
        events = self.query(
            "SELECT count(*) FROM mail_gateway_event WHERE sender = %s AND scope = %s "
            "AND kind = 'create'",
            [sender, f"alias:{self.alias_id}"],
        )[0][0]
        self.assertEqual(
            events, created, "one loop event per record, whichever gate delivered it"
        )

        # the deferrals reach the gateway log too (each gate writes its own
        # once a second): none lost although both gates fold the same keys
        def deferred_logged():
            return self.query(
                """SELECT coalesce(sum(count), 0) FROM mail_gateway_log
                   WHERE email_from = %s AND reason = 'rcpt_deferred'""",
                [sender],
            )[0][0]

        deadline = time.monotonic() + 60
        while deferred_logged() < flat.count(450) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(
            deferred_logged(), flat.count(450), "every 450 in the gateway log"
        )

        for port, (process, output) in gates.items():
            log = self.gate_log(output)
            self.assertIsNone(process.poll(), f"the gate on {port} stays up")
            self.assertNotIn("Traceback", log, log[-3000:])
            self.assertNotIn("answered 451", log, log[-3000:])
        return codes

    def test_flood_split_across_two_gates_defer(self):
        codes = self._flood_two_gates()
        flat = [code for port_codes in codes.values() for code in port_codes]
        self.assertIn(
            450, flat, "once the threshold is committed, both gates defer at RCPT"
        )

    def test_flood_split_across_two_gates_accept(self):
        codes = self._flood_two_gates(action="accept")
        self.assertEqual(
            codes,
            dict.fromkeys(codes, [250] * SESSIONS_PER_GATE * MESSAGES_PER_SESSION),
            "accept: every message taken by both gates, the excess logged",
        )
