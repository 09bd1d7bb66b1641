# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The mailgate with a real SMTP client (smtplib) on loopback.

The mailgate runs in this process (aiosmtpd controller thread, Odoo work in
its own worker threads with their own cursors), on the test database: the
data it must see is committed by the test and removed afterwards, as in
test_incoming_concurrency.py. Every assertion reads committed state through a fresh
cursor, so "250" really means "committed".
"""

import ipaddress
import math
import os
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from unittest.mock import patch

import psycopg2

from odoo import SUPERUSER_ID, api, sql_db
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged
from odoo.tools import config, mute_logger

from odoo.addons.mail_routing_policy.cli import mailgate_options, smtp_handler
from odoo.addons.mail_routing_policy.models.mail_thread_incoming import MailThread

from .common import allow_registry_in_threads
from .delivery_feedback_signing import self_signed_certificate
from .dns_server import DnsTestServer

MESSAGE = """From: {sender}
To: {to}
Subject: {subject}
Message-ID: <{subject_id}@gate.test>
Date: Fri, 10 Aug 2012 14:16:26 +0000
Content-Type: text/plain; charset=utf-8

Hello from the mailgate test.
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MailgateCase(TransactionCase):
    """Committed alias domain and alias, cleaned up after each test."""

    THRESHOLD = 2
    DOMAIN = None  # the alias domain's name: each test's own, unless a class names one

    def setUp(self):
        super().setUp()
        allow_registry_in_threads(self)
        self.tag = uuid.uuid4().hex[:8]
        self.domain = self.DOMAIN or f"gate-{self.tag}.example"
        self.alias_address = f"gate{self.tag}@{self.domain}"
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            domain = env["mail.alias.domain"].create(
                {
                    "name": self.domain,
                    "catchall_alias": f"catchall{self.tag}",
                    "bounce_alias": f"bounce{self.tag}",
                }
            )
            self.domain_id = domain.id
            self.catchall, self.bounce = domain.catchall_email, domain.bounce_email
            self.alias_id = (
                env["mail.alias"]
                .create(
                    {
                        "alias_name": f"gate{self.tag}",
                        "alias_domain_id": domain.id,
                        "alias_model_id": env["ir.model"]._get("res.partner").id,
                        "alias_contact": "everyone",
                        "loop_threshold": self.THRESHOLD,
                        "loop_minutes": 60,
                    }
                )
                .id
            )
        self.addCleanup(self._cleanup)
        # the mailgate authenticates every message: its DNS is a loopback
        # server (an empty zone unless a test adds records), never the machine's
        self.dns = DnsTestServer({}, host="127.0.0.53")
        self.dns.start()
        self.addCleanup(self.dns.stop)
        self.set_param("mail.dns.nameservers", self.dns.nameservers)
        self.addCleanup(self.set_param, "mail.dns.nameservers", False)

    def _cleanup(self):
        like = f"%{self.tag}%"
        with self.registry.cursor() as cr:
            cr.execute("DELETE FROM res_partner WHERE name LIKE %s", [like])
            cr.execute(
                "DELETE FROM mail_gateway_event WHERE sender LIKE %s OR scope = %s",
                [like, f"alias:{self.alias_id}"],
            )
            cr.execute("DELETE FROM mail_gateway_loop_guard WHERE key LIKE %s", [like])
            cr.execute(
                "DELETE FROM mail_gateway_log WHERE email_from LIKE %s OR recipients "
                "LIKE %s",
                [like, like],
            )
            cr.execute("DELETE FROM mail_mail WHERE email_to LIKE %s", [like])
            cr.execute(
                "DELETE FROM mail_message WHERE email_from LIKE %s OR subject LIKE %s",
                [like, like],
            )
            cr.execute(
                "DELETE FROM ir_config_parameter WHERE key = "
                "'mail.gateway.smtp.rate_limit_action'"
            )
            cr.execute("DELETE FROM mail_alias WHERE id = %s", [self.alias_id])
            # the first alias domain created is given to every alias without
            # one (core), the report alias among them: none keeps it
            cr.execute(
                "UPDATE mail_alias SET alias_domain_id = NULL, "
                "alias_full_name = alias_name WHERE alias_domain_id = %s",
                [self.domain_id],
            )
            cr.execute("DELETE FROM mail_alias_domain WHERE id = %s", [self.domain_id])
        self.registry.clear_cache()

    def start_gate(self, **values):
        """The mailgate in this process. postscreen's pregreet wait is short
        (0.05 s, not the 0.3 s every connection waits in production): the
        tests of the pregreet test set their own (test_mailgate_limits)."""
        values = {"pregreet_wait": 0.05, "flush_interval": 3600, **values}
        options = smtp_handler.MailgateOptions(
            host="127.0.0.1", port=free_port(), **values
        )
        handler = smtp_handler.GatewayHandler(self.registry, options)
        controller = smtp_handler.MailgateController(handler, options)
        controller.start()
        self.addCleanup(controller.stop)
        return controller

    shared = None  # (options, {port: (process, output)}): the class's gates
    shared_used = 0.0  # when the last test using them ended (monotonic)

    def shared_gates(self, count, *extra, ports=None):
        """``count`` gate processes with options ``extra`` (on ``ports``, else
        free ones) that the tests of the class share, started by the first
        test that asks (at once: each loads Odoo for a few seconds), stopped
        with the class (SIGTERM), which they must survive cleanly. Running
        ones have read the asking test's changes (alias domain, parameters)
        when this returns. A test that stops or kills them itself sets
        ``shared`` to None; the next test asking starts new ones."""
        cls = type(self)
        # in use by this test until it ends (asked again meanwhile, they may
        # have looked since it began)
        used, cls.shared_used = cls.shared_used, math.inf
        self.addCleanup(cls.mark_shared_used)
        if cls.shared is not None:
            options, gates = cls.shared
            self.assertEqual((options, len(gates)), (extra, count), "one set of gates")
            self.signal_changes()
            # they look at the signaling at a RCPT at most once a second (a
            # permanent refusal at once, an acceptance not): read again by then
            time.sleep(min(1.0, max(0.0, used + 1.0 - time.monotonic())))
            return gates
        gates = self.spawn_gates(
            ports or [free_port() for _index in range(count)],
            *extra,
            add_cleanup=cls.addClassCleanup,
        )
        cls.shared = (extra, gates)
        cls.addClassCleanup(cls.stop_shared_gates, gates)  # before the kill
        return gates

    @classmethod
    def mark_shared_used(cls):
        cls.shared_used = time.monotonic()

    @classmethod
    def stop_shared_gates(cls, gates):
        if cls.shared is None or cls.shared[1] is not gates:
            return  # a test stopped them
        cls.shared = None
        for process, _output in gates.values():
            process.terminate()  # all stop at once
        for port, (process, output) in gates.items():
            process.wait(timeout=60)
            log = cls.gate_log(output)
            if process.returncode or "Traceback" in log:
                raise AssertionError(
                    f"the gate on {port} stopped with {process.returncode}:\n"
                    + log[-3000:]
                )

    def signal_changes(self):
        """What an Odoo worker does after a change (this test case replaces
        Odoo's ``signal_changes`` by a simulation): running gates see it at
        their next look at the signaling (at most a second later; at once
        before a permanent refusal)."""
        self.registry.clear_cache()
        type(self.registry).signal_changes(self.registry)

    @staticmethod
    def gate_log(output):
        """What a gate wrote so far (it may go on writing)."""
        output.seek(0)
        log = output.read().decode(errors="replace")
        output.seek(0, 2)
        return log

    def spawn_gate(self, port, *extra):
        """The mailgate as its own process, as scripts/mailgate runs it;
        returns (process, output file) once it accepts connections."""
        return self.spawn_gates([port], *extra)[port]

    def spawn_gates(self, ports, *extra, add_cleanup=None):
        """Mailgate processes on ``ports``, started at once; returns
        ``{port: (process, output file)}`` once each accepts connections.
        Killed, if still running, after the test (``add_cleanup``: after the
        class, for gates its tests share)."""
        add_cleanup = add_cleanup or self.addCleanup
        odoo_bin = os.path.join(
            os.path.dirname(os.path.dirname(sql_db.__file__)), "odoo-bin"
        )
        gates = {}
        for port in ports:
            command = [
                sys.executable,
                odoo_bin,
                f"--addons-path={config['addons_path']}",
                "mailgate",
                "-c",
                config.rcfile,
                "-d",
                self.env.cr.dbname,
                "--listen",
                f"127.0.0.1:{port}",
                *extra,
            ]
            output = tempfile.TemporaryFile()
            add_cleanup(output.close)
            process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
            add_cleanup(
                lambda process=process: process.poll() is None
                and (process.kill(), process.wait())
            )
            gates[port] = (process, output)
        deadline = time.monotonic() + 120
        for port, (process, output) in gates.items():
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        output.seek(0)
                        self.fail(
                            "the mailgate did not start: "
                            + output.read().decode(errors="replace")[-3000:]
                        )
                    time.sleep(0.1)
        return gates

    def message(self, sender, subject, to=None):
        return MESSAGE.format(
            sender=sender,
            to=to or self.alias_address,
            subject=subject,
            subject_id=subject.replace(" ", "-"),
        )

    def query(self, sql, params):
        with self.registry.cursor() as cr:
            cr.execute(sql, params)
            return cr.fetchall()

    def partners(self):
        return self.query(
            "SELECT name FROM res_partner WHERE name LIKE %s ORDER BY id",
            [f"Gate {self.tag}%"],
        )

    def rcpt_logs(self):
        return self.query(
            """SELECT reason, email_from, recipients, client_address, count, details
                   FROM mail_gateway_log
               WHERE recipients LIKE %s AND reason LIKE 'rcpt_%%' ORDER BY id""",
            [f"%{self.tag}%"],
        )

    def set_param(self, key, value):
        with self.registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})["ir.config_parameter"].set_param(
                key, value
            )


# the gate process TestMailgate's tests share logs each dialogue, as
# test_odoo_bin_command reads it
INFO_LOG = ("--log-handler", f"{smtp_handler.__name__}:INFO")


@tagged("post_install", "-at_install", "mail_routing_policy", "mailgate")
class TestMailgate(MailgateCase):
    def test_rcpt_replies_and_log(self):
        controller = self.start_gate()
        sender = f"ann-{self.tag}@customer.example"
        with smtplib.SMTP("127.0.0.1", controller.port, timeout=30) as client:
            client.ehlo("client.example")
            self.assertEqual(client.mail(sender)[0], 250)
            self.assertEqual(client.rcpt(self.alias_address)[0], 250, "alias")
            self.assertEqual(
                client.rcpt(self.alias_address.upper())[0], 250, "case-insensitive"
            )
            self.assertEqual(
                client.rcpt(self.catchall)[0], 250, "catchall: replies to threads"
            )
            self.assertEqual(client.rcpt(self.bounce)[0], 250, "bounce address")
            code, text = client.rcpt(f"nobody{self.tag}@{self.domain}")
            self.assertEqual((code, text[:5]), (550, b"5.1.1"), "unknown local part")
            client.rcpt(f"nobody{self.tag}@{self.domain}")
            code, text = client.rcpt(f"gate{self.tag}@gmail.com")
            self.assertEqual(
                (code, text[:5]),
                (550, b"5.7.1"),
                "alias name at a foreign domain: no relay",
            )
            self.assertIn(b"relay not permitted", text)
            code, text = client.rcpt(f"victim-{self.tag}@elsewhere.example")
            self.assertEqual((code, text[:5]), (550, b"5.7.1"), "never an open relay")
            client.rset()
            client.ehlo("client.example")
            # the sender never counts as a recipient (message_route drops it)
            own = f"gate{self.tag}@{self.domain}"
            client.mail(own)
            self.assertEqual(client.rcpt(own)[0], 550)
        controller.handler.flush_refusals()
        logs = self.rcpt_logs()
        by_recipient = {(row[0], row[2]): row for row in logs}
        unknown = by_recipient[("rcpt_unknown", f"nobody{self.tag}@{self.domain}")]
        self.assertEqual(unknown[1], sender)
        self.assertEqual(unknown[3], "127.0.0.1", "client address logged")
        self.assertEqual(unknown[4], 2, "repeats folded into one entry")
        self.assertIn(
            ("rcpt_relay", f"victim-{self.tag}@elsewhere.example"), by_recipient
        )
        self.assertIn(("rcpt_relay", f"gate{self.tag}@gmail.com"), by_recipient)
        self.assertIn(("rcpt_unknown", own), by_recipient)
        self.assertEqual(len(logs), 4)
        # nothing was received: processing again says why instead of "purged"
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            entry = env["mail.gateway.log"].search(
                [("reason", "=", "rcpt_unknown"), ("email_from", "=", sender)]
            )
            with self.assertRaisesRegex(
                UserError,
                "refusal during the SMTP dialogue: the message never reached Odoo",
            ):
                entry.with_user(env.ref("base.user_admin")).action_process_again()
        # a later refusal of the same kind adds to the same entry
        with smtplib.SMTP("127.0.0.1", controller.port, timeout=30) as client:
            client.ehlo("client.example")
            client.mail(sender)
            client.rcpt(f"nobody{self.tag}@{self.domain}")
        controller.handler.flush_refusals()
        self.assertEqual(
            [
                row[4]
                for row in self.rcpt_logs()
                if row[2] == f"nobody{self.tag}@{self.domain}"
            ],
            [3],
            "one entry",
        )

    @mute_logger("odoo.sql_db")  # the query on the connection it terminates
    def test_rcpt_kept_cursor_sees_changes_and_survives_a_lost_connection(self):
        """RCPT checks reuse one cursor per worker: each check is still a
        transaction of its own (a new alias counts at once), and a connection
        the server closed (restart, idle timeout) is replaced, not answered 451."""
        controller = self.start_gate(workers=1)
        sender = f"dora-{self.tag}@customer.example"
        late = f"late{self.tag}@{self.domain}"
        with smtplib.SMTP("127.0.0.1", controller.port, timeout=30) as client:
            client.ehlo("client.example")
            client.mail(sender)
            self.assertEqual(client.rcpt(late)[0], 550, "no such alias yet")
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                alias = env["mail.alias"].create(
                    {
                        "alias_name": f"late{self.tag}",
                        "alias_domain_id": self.domain_id,
                        "alias_model_id": env["ir.model"]._get("res.partner").id,
                    }
                )
            self.addCleanup(
                self.query,
                "DELETE FROM mail_alias WHERE id = %s RETURNING id",
                [alias.id],
            )
            self.assertEqual(
                client.rcpt(late)[0],
                250,
                "the alias created meanwhile is seen by the next check",
            )
            (kept,) = controller.handler._rcpt_cursors
            self.assertTrue(
                kept._cnx.autocommit, "no BEGIN/ROLLBACK round trips per check"
            )
            with self.assertRaises(
                psycopg2.errors.ReadOnlySqlTransaction, msg="a check can never write"
            ):
                kept.execute(
                    "UPDATE mail_alias SET alias_name = alias_name WHERE id = %s",
                    [alias.id],
                    log_exceptions=False,
                )
            backend = kept._cnx.get_backend_pid()
            self.assertEqual(
                self.query("SELECT pg_terminate_backend(%s)", [backend]), [(True,)]
            )
            code, text = client.rcpt(f"nobody{self.tag}@{self.domain}")
            self.assertEqual(
                (code, text[:5]),
                (550, b"5.1.1"),
                "decided on a new connection, not 451",
            )
            self.assertEqual(client.rcpt(self.alias_address)[0], 250)
            (fresh,) = controller.handler._rcpt_cursors
            self.assertNotEqual(fresh._cnx.get_backend_pid(), backend)
        controller.handler.stop()
        self.assertFalse(
            controller.handler._rcpt_cursors, "stopping closes the kept cursors"
        )
        self.assertTrue(fresh.closed)

    def test_data_committed_before_250(self):
        controller = self.start_gate()
        sender = f"bob-{self.tag}@customer.example"
        committed = []
        original = MailThread.message_process

        def spy(thread, *args, **kwargs):
            result = original(thread, *args, **kwargs)
            committed.append(
                bool(self.partners())
            )  # another connection: not visible yet
            return result

        with (
            patch.object(MailThread, "message_process", spy),
            smtplib.SMTP("127.0.0.1", controller.port, timeout=60) as client,
        ):
            # the alias only as envelope recipient (Bcc): Delivered-To routes it
            refused = client.sendmail(
                sender,
                [self.alias_address],
                self.message(sender, f"Gate {self.tag} one", to="someone@else.example"),
            )
        self.assertEqual(refused, {})
        self.assertEqual(committed, [False], "not committed while message_process runs")
        self.assertEqual(
            self.partners(), [(f"Gate {self.tag} one",)], "committed when 250 arrives"
        )
        raw = self.query(
            "SELECT body FROM mail_message WHERE model = 'res.partner' AND subject = "
            "%s",
            [f"Gate {self.tag} one"],
        )
        self.assertTrue(raw, "message posted on the new record")

    @mute_logger(
        "odoo.addons.mail_routing_policy.cli.smtp_handler"
    )  # the crash it provokes
    def test_data_failure_answers_451_and_writes_nothing(self):
        controller = self.start_gate()
        sender = f"carl-{self.tag}@customer.example"

        def crash(*args, **kwargs):
            raise RuntimeError("crash in the gateway")

        with smtplib.SMTP("127.0.0.1", controller.port, timeout=60) as client:
            client.ehlo("client.example")
            client.mail(sender)
            self.assertEqual(client.rcpt(self.alias_address)[0], 250)
            with patch.object(MailThread, "_message_route_process", crash):
                code, text = client.data(self.message(sender, f"Gate {self.tag} crash"))
            self.assertEqual((code, text[:5]), (451, b"4.3.0"))
            # database unreachable: the sending server keeps the message
            client.mail(sender)
            self.assertEqual(client.rcpt(self.alias_address)[0], 250)
            closed = sql_db.Connection(
                sql_db.ConnectionPool(1),
                self.env.cr.dbname,
                {
                    "host": "127.0.0.1",
                    "port": free_port(),
                    "dbname": self.env.cr.dbname,
                },
            )
            with patch.object(self.registry, "_db", closed):
                code, text = client.data(self.message(sender, f"Gate {self.tag} nodb"))
                self.assertEqual((code, text[:5]), (451, b"4.3.0"))
                client.mail(sender)
                code, text = client.rcpt(self.alias_address)
                self.assertEqual(
                    (code, text[:5]),
                    (451, b"4.3.0"),
                    "RCPT check without database: try later",
                )
            client.rset()
            # back: the retried message is delivered once
            self.assertEqual(
                client.sendmail(
                    sender,
                    [self.alias_address],
                    self.message(sender, f"Gate {self.tag} nodb"),
                ),
                {},
            )
        self.assertEqual(self.partners(), [(f"Gate {self.tag} nodb",)])
        self.assertFalse(
            self.query(
                "SELECT 1 FROM mail_gateway_log WHERE email_from LIKE %s",
                [f"%{self.tag}%"],
            ),
            "a failed delivery is not a refusal: nothing logged",
        )

    def test_rate_limit_defer_then_accept(self):
        controller = self.start_gate()
        sender = f"storm-{self.tag}@loop.example"
        with smtplib.SMTP("127.0.0.1", controller.port, timeout=60) as client:
            for index in range(self.THRESHOLD):
                client.sendmail(
                    sender,
                    [self.alias_address],
                    self.message(sender, f"Gate {self.tag} {index}"),
                )
            client.mail(sender)
            code, text = client.rcpt(self.alias_address)
            self.assertEqual(
                (code, text[:5]), (450, b"4.7.1"), "over the threshold: try later"
            )
            client.rset()
            # other senders are not affected
            other = f"calm-{self.tag}@customer.example"
            client.mail(other)
            self.assertEqual(client.rcpt(self.alias_address)[0], 250)
            client.rset()
            self.set_param("mail.gateway.smtp.rate_limit_action", "accept")
            # today's behaviour: accepted, dropped after DATA and logged
            refused = client.sendmail(
                sender,
                [self.alias_address],
                self.message(sender, f"Gate {self.tag} late"),
            )
            self.assertEqual(refused, {})
        self.assertEqual(
            len(self.partners()),
            self.THRESHOLD,
            "never more records than the threshold",
        )
        self.assertEqual(
            self.query(
                "SELECT reason FROM mail_gateway_log WHERE email_from LIKE %s AND "
                "reason = 'rate_limit'",
                [f"%{sender}%"],
            ),
            [("rate_limit",)],
        )
        controller.handler.flush_refusals()
        deferred = [row for row in self.rcpt_logs() if row[0] == "rcpt_deferred"]
        self.assertEqual(len(deferred), 1)
        self.assertEqual(deferred[0][1], sender)

    def _flood(self, sessions, action="defer"):
        """``sessions`` SMTP sessions of one sender at once, released together
        after EHLO: records created never exceed the threshold, and every
        message is created, logged, or deferred at RCPT (the sender keeps it)."""
        if action != "defer":
            self.set_param("mail.gateway.smtp.rate_limit_action", action)
        controller = self.start_gate(max_sessions=sessions + 2)
        sender = f"flood-{self.tag}@loop.example"
        barrier = threading.Barrier(sessions, timeout=60)
        codes, errors = [], []

        def session(index):
            try:
                with smtplib.SMTP("127.0.0.1", controller.port, timeout=300) as client:
                    client.ehlo("client.example")
                    barrier.wait()
                    client.mail(sender)
                    code, _text = client.rcpt(self.alias_address)
                    if code == 250:
                        code, _text = client.data(
                            self.message(sender, f"Gate {self.tag} flood {index}")
                        )
                    codes.append(code)
            except Exception as exc:
                errors.append(repr(exc))

        threads = [
            threading.Thread(target=session, args=(index,)) for index in range(sessions)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        self.assertFalse(errors)
        created = len(self.partners())
        logged = self.query(
            "SELECT coalesce(sum(count), 0) FROM mail_gateway_log WHERE email_from "
            "LIKE %s AND reason = 'rate_limit'",
            [f"%{sender}%"],
        )[0][0]
        self.assertEqual(
            created, self.THRESHOLD, "never more records than the threshold"
        )
        self.assertEqual(sorted(set(codes)) <= [250, 450], True, codes)
        self.assertEqual(
            created + logged + codes.count(450),
            sessions,
            "every message created, logged or deferred",
        )
        self.assertEqual(
            codes.count(250), created + logged, "250 only for what was committed"
        )
        return codes

    def test_parallel_8_sessions(self):
        self._flood(8)

    def test_parallel_32_sessions(self):
        self._flood(32)

    def test_parallel_32_sessions_accept(self):
        codes = self._flood(32, action="accept")
        self.assertEqual(
            codes, [250] * 32, "accept: every message taken, the excess logged"
        )

    def test_rate_limit_action_validated(self):
        from odoo.exceptions import ValidationError

        with self.assertRaises(ValidationError):
            self.env["ir.config_parameter"].set_param(
                "mail.gateway.smtp.rate_limit_action", "drop"
            )
        self.env["ir.config_parameter"].set_param(
            "mail.gateway.smtp.rate_limit_action", " accept "
        )
        self.assertEqual(
            self.env["ir.config_parameter"].get_param(
                "mail.gateway.smtp.rate_limit_action"
            ),
            "accept",
        )

    def test_limits(self):
        controller = self.start_gate(max_recipients=2, max_size=2000, max_sessions=1)
        sender = f"dora-{self.tag}@customer.example"
        with smtplib.SMTP("127.0.0.1", controller.port, timeout=60) as client:
            client.ehlo("client.example")
            self.assertEqual(
                client.esmtp_features.get("size"), "2000", "SIZE advertised"
            )
            # one session at most: a second client is told to come back
            second = socket.create_connection(
                ("127.0.0.1", controller.port), timeout=10
            )
            self.assertTrue(second.recv(200).startswith(b"421 4.7.0"))
            second.close()
            client.mail(sender)
            self.assertEqual(client.rcpt(self.alias_address)[0], 250)
            self.assertEqual(client.rcpt(self.catchall)[0], 250)
            self.assertEqual(client.rcpt(self.bounce)[0], 452, "recipients per message")
            code, _text = client.data(
                self.message(sender, f"Gate {self.tag} big") + ("x" * 70 + "\n") * 50
            )
            self.assertEqual(code, 552, "message size")
        self.assertFalse(self.partners())

    def test_client_networks(self):
        controller = self.start_gate(
            allow_networks=mailgate_options.parse_networks("10.0.0.0/8, 192.168.0.0/16")
        )
        with self.assertRaises(smtplib.SMTPConnectError) as caught:
            smtplib.SMTP("127.0.0.1", controller.port, timeout=10)
        self.assertEqual(caught.exception.smtp_code, 554)
        controller = self.start_gate(
            allow_networks=mailgate_options.parse_networks("127.0.0.0/8")
        )
        with smtplib.SMTP("127.0.0.1", controller.port, timeout=10) as client:
            self.assertEqual(client.noop()[0], 250)

    def test_starttls(self):
        cert, key = self._test_certificate()
        controller = self.start_gate(tls_cert=cert, tls_key=key)
        sender = f"erin-{self.tag}@customer.example"
        context = ssl.create_default_context(cafile=cert)
        with smtplib.SMTP("127.0.0.1", controller.port, timeout=60) as client:
            client.ehlo("client.example")
            self.assertTrue(client.has_extn("starttls"))
            self.assertEqual(client.starttls(context=context)[0], 220)
            self.assertEqual(client.sock.version()[:3], "TLS")
            client.ehlo("client.example")
            self.assertEqual(
                client.sendmail(
                    sender,
                    [self.alias_address],
                    self.message(sender, f"Gate {self.tag} tls"),
                ),
                {},
            )
        self.assertEqual(self.partners(), [(f"Gate {self.tag} tls",)])

    def test_lmtp(self):
        controller = self.start_gate(lmtp=True)
        sender = f"finn-{self.tag}@customer.example"
        client = smtplib.LMTP("127.0.0.1", controller.port, timeout=60)
        try:
            self.assertEqual(
                client.sendmail(
                    sender,
                    [self.alias_address, self.catchall],
                    self.message(sender, f"Gate {self.tag} lmtp"),
                ),
                {},
            )
        finally:
            client.quit()
        self.assertEqual(
            self.partners(),
            [(f"Gate {self.tag} lmtp",)],
            "one delivery for all recipients",
        )

    def test_odoo_bin_command(self):
        """``odoo-bin --addons-path=... mailgate`` starts the server (the
        command is found in the addon's cli/ folder); SIGTERM stops it."""
        [(port, (process, output))] = self.shared_gates(1, *INFO_LOG).items()
        sender = f"gina-{self.tag}@customer.example"
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
                client.ehlo("client.example")
                client.mail(sender)
                self.assertEqual(client.rcpt(f"nobody{self.tag}@{self.domain}")[0], 550)
                client.rset()
                client.sendmail(
                    sender,
                    [self.alias_address],
                    self.message(sender, f"Gate {self.tag} cli"),
                )
        finally:
            type(self).shared = None  # stopped here, not with the class
            process.terminate()
            process.wait(timeout=60)
        log = self.gate_log(output)
        self.assertEqual(self.partners(), [(f"Gate {self.tag} cli",)], log)
        # the refusal was written when the command stopped (SIGTERM)
        self.assertTrue(
            [row for row in self.rcpt_logs() if row[0] == "rcpt_unknown"], log
        )
        self.assertEqual(process.returncode, 0, log)
        # the dialogue's log line names the database, like an Odoo worker's
        self.assertIn(
            f" INFO {self.env.cr.dbname} {smtp_handler.__name__}: mailgate: RCPT "
            f"nobody{self.tag}@",
            log,
        )

    def test_no_permanent_refusal_from_stale_caches(self):
        """An alias domain added by another Odoo process counts at the very
        next RCPT: a 550 is only answered once the caches are known to be
        current (the mailgate's own look at the signaling is once a second)."""
        [(port, (process, output))] = self.shared_gates(1, *INFO_LOG).items()
        sender = f"hugo-{self.tag}@customer.example"
        new_domain = f"new-{self.tag}.example"
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
            client.ehlo("client.example")
            client.mail(sender)
            code, text = client.rcpt(f"catchall@{new_domain}")
            self.assertEqual(
                (code, text[:5]), (550, b"5.7.1"), "not an alias domain yet"
            )
            # what the web client does: commit, then signal the caches' change
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                domain = env["mail.alias.domain"].create({"name": new_domain})
            self.addCleanup(
                self.query,
                "DELETE FROM mail_alias_domain WHERE id = %s RETURNING id",
                [domain.id],
            )
            # Odoo's own signal_changes (TransactionCase replaces it by a simulation)
            type(self.registry).signal_changes(self.registry)
            self.assertEqual(
                client.rcpt(f"catchall@{new_domain}")[0],
                250,
                "the new domain's catchall",
            )
            code, text = client.rcpt(f"nobody@{new_domain}")
            self.assertEqual(
                (code, text[:5]), (550, b"5.1.1"), "the new domain, but no such alias"
            )
        self.assertIsNone(process.poll(), self.gate_log(output)[-3000:])

    def _test_certificate(self):
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        key = ec.generate_private_key(ec.SECP256R1())
        address = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
        certificate = self_signed_certificate(
            key,
            "127.0.0.1",
            1,
            [
                (x509.SubjectAlternativeName([address]), False),
                (x509.BasicConstraints(ca=True, path_length=None), True),
            ],
        )
        folder = tempfile.mkdtemp(prefix="mail_routing_gate_tls_")
        self.addCleanup(shutil.rmtree, folder, True)
        cert_path, key_path = (
            os.path.join(folder, "cert.pem"),
            os.path.join(folder, "key.pem"),
        )
        with open(cert_path, "wb") as handle:
            handle.write(certificate.public_bytes(serialization.Encoding.PEM))
        with open(key_path, "wb") as handle:
            handle.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        return cert_path, key_path
