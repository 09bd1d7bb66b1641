# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The mailgate's limits per client, as an outside client meets them.

Real SMTP clients (smtplib, raw sockets) against a real mailgate on
loopback, as in test_mailgate.py; each client binds its own source address
(127.0.0.x), so that one test plays several clients on the internet.
Nothing is exempt unless named: loopback is an outside client here.
Limits are small in these tests so that they run fast; timings are only
checked as bounds of what the limits promise (a delay of at least 1 s, a
cut within a deadline), never as speed targets.
"""

import collections
import contextlib
import os
import resource
import select
import smtplib
import socket
import subprocess
import sys
import threading
import time
from unittest.mock import patch

from aiosmtpd.smtp import Session

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import UserError
from odoo.tests import BaseCase, TransactionCase, tagged

from odoo.addons.mail_routing_policy.cli import (
    client_limits,
    data_transfer,
    mailgate,
    mailgate_options,
    refusal_log,
    smtp_handler,
)

from .test_mailgate import MailgateCase, free_port

LIMIT_REASONS = client_limits.LIMIT_REASONS


def read_until_closed(sock, timeout=30):
    """Everything the server sends until it closes the connection."""
    sock.settimeout(timeout)
    chunks = []
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(4096):
            chunks.append(chunk)
    return b"".join(chunks)


def read_until(sock, marker, timeout=30):
    """What the server sends until ``marker`` arrived (or it closed)."""
    sock.settimeout(timeout)
    data = b""
    while marker not in data and (chunk := sock.recv(4096)):
        data += chunk
    return data


def process_rss(pid):
    """A process's resident memory in bytes (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def read_reply(sock, timeout=30):
    """One complete SMTP reply (its last line has a space after the code)."""
    sock.settimeout(timeout)
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk
        lines = data.split(b"\r\n")
        if len(lines) > 1 and any(
            len(line) >= 4 and line[3:4] == b" " for line in lines[:-1]
        ):
            return data


class LimitsCase(MailgateCase):
    THRESHOLD = 1000  # the loop protection stays out of these tests

    def setUp(self):
        super().setUp()
        self._clean_limit_logs()
        self.addCleanup(self._clean_limit_logs)

    def _clean_limit_logs(self):
        # entries of the limits have no sender or recipient to find them by
        self.query(
            "DELETE FROM mail_gateway_log WHERE reason IN %s AND client_address LIKE "
            "'127.%%' RETURNING id",
            [LIMIT_REASONS],
        )

    def start_gate(self, **values):
        """A mailgate with the given options; the pregreet wait is short
        unless a test asks, the refusal log written only when flushed."""
        values = {"pregreet_wait": 0.05, "flush_interval": 3600, **values}
        options = smtp_handler.MailgateOptions(
            host="127.0.0.1", port=free_port(), **values
        )
        controller = smtp_handler.MailgateController(
            smtp_handler.GatewayHandler(self.registry, options), options
        )
        controller.start()
        self.addCleanup(controller.stop)
        return controller

    def client(self, controller, source, timeout=30):
        client = smtplib.SMTP(
            "127.0.0.1", controller.port, source_address=(source, 0), timeout=timeout
        )
        self.addCleanup(client.close)
        return client

    def connect(self, controller, source):
        sock = socket.create_connection(
            ("127.0.0.1", controller.port), timeout=30, source_address=(source, 0)
        )
        self.addCleanup(sock.close)
        return sock

    def limit_logs(self):
        return self.query(
            """SELECT reason, client_address, count, detail_params FROM mail_gateway_log
               WHERE reason IN %s AND client_address LIKE '127.%%' ORDER BY id""",
            [LIMIT_REASONS],
        )

    def deliver(self, controller, source, subject):
        sender = f"deliver-{self.tag}@customer.example"
        with self.client(controller, source) as client:
            return client.sendmail(
                sender,
                [self.alias_address],
                self.message(sender, f"Gate {self.tag} {subject}"),
            )


@tagged("post_install", "-at_install", "mail_routing_policy", "mailgate")
class TestMailgateLimits(LimitsCase):
    def test_idle_client_cannot_lock_out_others(self):
        """60 idle connections of one client: it gets its share, every
        further one 421; another client still delivers."""
        controller = self.start_gate(
            client_sessions=5, client_connection_rate=0, max_sessions=200
        )
        greetings = []
        for _index in range(60):
            sock = self.connect(controller, "127.0.0.2")
            greetings.append(read_reply(sock))
        accepted = [reply for reply in greetings if reply.startswith(b"220")]
        refused = [reply for reply in greetings if reply.startswith(b"421 4.7.0")]
        with self.subTest("the idle client gets 421 beyond its limit"):
            self.assertEqual((len(accepted), len(refused)), (5, 55), greetings[:7])
            self.assertIn(b"from your address", refused[0])
        with self.subTest("another client delivers meanwhile"):
            self.assertEqual(self.deliver(controller, "127.0.0.3", "others"), {})
            self.assertEqual(
                self.partners(),
                [(f"Gate {self.tag} others",)],
                "record created: 250 was committed",
            )
        with self.subTest("the refusals are one folded entry"):
            controller.handler.flush_refusals()
            ((reason, client, count, params),) = self.limit_logs()
            self.assertEqual((reason, client, count), ("client_limit", "127.0.0.2", 55))
            self.assertEqual((params["limit"], params["value"]), ("client_sessions", 5))

    def test_stress_mode_cuts_idle_sessions_of_many_clients(self):
        """Many clients, each within its own limit, fill the server with idle
        sessions (a botnet that waits after the greeting): once the stress
        threshold is reached their idle time is cut from --timeout to
        --stress-timeout, and a new sender is served again soon."""
        controller = self.start_gate(
            max_sessions=12,
            stress_sessions=9,
            stress_timeout=1.0,
            timeout=300,
            client_sessions=3,
        )
        idle = []
        for source in ("127.0.0.2", "127.0.0.4", "127.0.0.5", "127.0.0.6"):
            for _index in range(3):
                sock = self.connect(controller, source)
                self.assertTrue(read_reply(sock).startswith(b"220"), source)
                idle.append(sock)
        refused = self.connect(controller, "127.0.0.3")
        self.assertTrue(
            read_reply(refused).startswith(b"421 4.7.0"), "the server is full"
        )
        started = time.monotonic()
        closed = []
        for sock in idle:
            sock.settimeout(10)
            closed.append(read_reply(sock))
        waited = time.monotonic() - started
        self.assertEqual({reply[:9] for reply in closed}, {b"421 4.4.2"}, closed[:2])
        self.assertLess(waited, 5, "cut at the stress timeout, not at --timeout")
        self.assertEqual(self.deliver(controller, "127.0.0.3", "after stress"), {})
        controller.handler.flush_refusals()
        timeouts = [row for row in self.limit_logs() if row[0] == "timeout"]
        self.assertEqual(sum(row[2] for row in timeouts), 12)
        self.assertEqual(
            {(row[3]["limit"], row[3]["value"]) for row in timeouts},
            {("stress_timeout", 1.0)},
        )

    def test_dictionary_session_tarpit(self):
        """Past the soft error limit each reply waits (1 s in production,
        Postfix's smtpd_error_sleep_time; half a second here); at the hard
        limit the session ends with 421."""
        controller = self.start_gate(
            soft_error_limit=3, hard_error_limit=6, error_delay=0.5
        )
        client = self.client(controller, "127.0.0.2")
        client.ehlo("prober.example")
        client.mail(f"prober-{self.tag}@spam.example")
        timings = []
        for index in range(6):
            started = time.monotonic()
            code, _text = client.rcpt(f"guess{index}-{self.tag}@{self.domain}")
            timings.append(time.monotonic() - started)
            self.assertEqual(code, 550, index)
        for index, seconds in enumerate(timings):
            with self.subTest(reply=index + 1):
                if index < 3:
                    self.assertLess(seconds, 0.5, "not delayed before the soft limit")
                else:
                    self.assertGreaterEqual(
                        seconds, 0.48, "delayed past the soft limit"
                    )
        code, text = client.rcpt(f"guess-last-{self.tag}@{self.domain}")
        self.assertEqual((code, text[:5]), (421, b"4.7.0"), "closed at the hard limit")
        self.assertEqual(
            smtp_handler.MailgateOptions.error_delay, 1.0, "a second in production"
        )
        with self.assertRaises(smtplib.SMTPServerDisconnected):
            client.noop()
        controller.handler.flush_refusals()
        error_limits = [row for row in self.limit_logs() if row[0] == "error_limit"]
        self.assertEqual(
            [(row[1], row[2], row[3]["limit"]) for row in error_limits],
            [("127.0.0.2", 1, "hard_errors")],
        )

    def test_delivery_starts_the_error_count_again(self):
        """Errors count "without delivering mail": a sender with a few
        unknown recipients per message is never slowed down."""
        controller = self.start_gate(soft_error_limit=2, hard_error_limit=3)
        sender = f"list-{self.tag}@customer.example"
        client = self.client(controller, "127.0.0.2")
        client.ehlo("lists.example")
        for index in range(3):
            client.mail(sender)
            self.assertEqual(
                client.rcpt(f"gone{index}-{self.tag}@{self.domain}")[0], 550
            )
            self.assertEqual(client.rcpt(self.alias_address)[0], 250)
            started = time.monotonic()
            code, _text = client.data(
                self.message(sender, f"Gate {self.tag} list {index}")
            )
            self.assertEqual(code, 250, index)
            self.assertLess(
                time.monotonic() - started,
                1.0,
                "no delay: one error per delivered message",
            )
        self.assertEqual(len(self.partners()), 3)

    def test_junk_commands_and_deadlines(self):
        with self.subTest("junk command limit"):
            controller = self.start_gate(junk_command_limit=3)
            client = self.client(controller, "127.0.0.2")
            for _index in range(3):
                self.assertEqual(client.noop()[0], 250)
            code, text = client.noop()
            self.assertEqual((code, text[:5]), (421, b"4.7.0"))
            with self.assertRaises(smtplib.SMTPServerDisconnected):
                client.noop()
        # a deadline of 1 s (300 s in production), keep-alives every 0.15 s
        with self.subTest("NOOP keep-alive: NOOPs do not extend the deadline"):
            controller = self.start_gate(timeout=1)
            client = self.client(controller, "127.0.0.2")
            client.ehlo("idler.example")
            started = time.monotonic()
            replies = []
            with self.assertRaises(smtplib.SMTPServerDisconnected):
                while time.monotonic() - started < 20:
                    replies.append(client.noop())
                    time.sleep(0.15)
            alive = time.monotonic() - started
            self.assertGreaterEqual(alive, 0.95, "not cut before the deadline")
            self.assertLess(alive, 3, "cut at the deadline although NOOPs kept coming")
            self.assertEqual(
                replies[-1][:2],
                (421, b"4.4.2 Timeout exceeded, closing the connection"),
            )
        with self.subTest(
            "EHLO keep-alive: greetings past the second do not extend it either"
        ):
            controller = self.start_gate(timeout=1)
            client = self.client(controller, "127.0.0.4")
            started = time.monotonic()
            with self.assertRaises(smtplib.SMTPServerDisconnected):
                while time.monotonic() - started < 20:
                    code, _text = client.ehlo("idler.example")
                    if code != 250:
                        break
                    time.sleep(0.15)
                client.noop()
            self.assertLess(
                time.monotonic() - started,
                3,
                "cut at the deadline although EHLOs kept coming",
            )
        with self.subTest("the deadline is logged"):
            controller.handler.flush_refusals()
            timeouts = [row for row in self.limit_logs() if row[0] == "timeout"]
            self.assertEqual(
                [(row[2], row[3]["limit"]) for row in timeouts],
                [(1, "command_timeout")],
            )

    def test_data_deadline_and_minimum_rate(self):
        sender = f"slow-{self.tag}@customer.example"
        # a deadline of 1 s (300 s in production)
        controller = self.start_gate(timeout=1, min_data_rate=200)

        def open_data(source):
            client = self.client(controller, source)
            client.ehlo("slow.example")
            client.mail(sender)
            self.assertEqual(client.rcpt(self.alias_address)[0], 250)
            self.assertEqual(client.docmd("DATA")[0], 354)
            return client

        with self.subTest("trickled DATA is cut"):
            client = open_data("127.0.0.2")
            started = time.monotonic()
            # 20 bytes a second until the server speaks
            while (
                time.monotonic() - started < 30
                and not select.select([client.sock], [], [], 0.5)[0]
            ):
                client.sock.sendall(b"X-Trickle")
            code, text = client.getreply()
            cut = time.monotonic() - started
            self.assertEqual((code, text[:5]), (421, b"4.4.2"))
            self.assertLess(cut, 5, "20 bytes a second cannot hold the session")
        with self.subTest("DATA at the minimum rate lasts longer than the timeout"):
            client = open_data("127.0.0.3")
            started = time.monotonic()
            client.sock.sendall(
                self.message(sender, f"Gate {self.tag} steady")
                .replace("\n", "\r\n")
                .encode()
            )
            while time.monotonic() - started < 2:  # twice --timeout, 400 bytes a second
                client.sock.sendall(b"x" * 98 + b"\r\n")
                time.sleep(0.25)
            client.sock.sendall(b".\r\n")
            self.assertEqual(client.getreply()[0], 250)
            self.assertEqual(self.partners(), [(f"Gate {self.tag} steady",)])
        controller.handler.flush_refusals()
        timeouts = [row for row in self.limit_logs() if row[0] == "timeout"]
        self.assertEqual(
            [(row[1], row[3]["limit"], row[3]["value"]) for row in timeouts],
            [("127.0.0.2", "data_rate", 200)],
        )

    def open_data(self, controller, source, sender):
        """A client in DATA (354 received)."""
        client = self.client(controller, source)
        client.ehlo("data.example")
        client.mail(sender)
        self.assertEqual(client.rcpt(self.alias_address)[0], 250)
        self.assertEqual(client.docmd("DATA")[0], 354)
        return client

    def test_data_memory_is_the_bytes_held(self):
        """A message being received costs its bytes (one buffer, not
        aiosmtpd's object per line): over --max-size it is drained and
        answered 552; all sessions together are refused (452, the sender
        retries) before they would pass --max-data-memory; the memory is
        given back and others still deliver."""
        sender = f"lines-{self.tag}@customer.example"
        with self.subTest("over --max-size: drained to its end, 552"):
            controller = self.start_gate(max_size=2000)
            client = self.open_data(controller, "127.0.0.2", sender)
            client.sock.sendall(b"a\r\n" * 2000 + b".\r\n")
            self.assertTrue(read_reply(client.sock).startswith(b"552 5.3.4"))
            self.assertEqual(controller.limits.data_memory, 0, "given back")
            self.assertEqual(self.deliver(controller, "127.0.0.3", "after 552"), {})
        with self.subTest("short lines cost their bytes"):
            controller = self.start_gate(max_size=10**6, max_data_memory=10**6)
            client = self.open_data(controller, "127.0.0.2", sender)
            head = self.message(sender, f"Gate {self.tag} lines").replace("\n", "\r\n")
            client.sock.sendall(head.encode() + b"ab\r\n" * 25000)
            deadline = time.monotonic() + 10
            while (
                controller.limits.data_memory < 100000 and time.monotonic() < deadline
            ):
                time.sleep(0.02)
            held = controller.limits.data_memory
            self.assertGreaterEqual(held, 100000)
            self.assertLess(
                held, 1.3 * (100000 + len(head)), "25,000 lines: no object each"
            )
            client.sock.sendall(b".\r\n")
            self.assertEqual(client.getreply()[0], 250)
            self.assertEqual(controller.limits.data_memory, 0, "given back")
            self.assertIn((f"Gate {self.tag} lines",), self.partners())
        with self.subTest("all sessions together: 452 before the cap"):
            controller = self.start_gate(max_size=100000, max_data_memory=5000)
            client = self.open_data(controller, "127.0.0.4", sender)
            with contextlib.suppress(OSError):
                for _chunk in range(200):
                    client.sock.sendall(b"x" * 70 + b"\r\n")
                    time.sleep(0.002)
            self.assertTrue(read_until_closed(client.sock).startswith(b"452 4.3.1"))
            self.assertEqual(controller.limits.data_memory, 0, "given back")
            self.assertEqual(self.deliver(controller, "127.0.0.3", "after 452"), {})
            controller.handler.flush_refusals()
        limits = [
            row[3]["limit"] for row in self.limit_logs() if row[0] == "client_limit"
        ]
        self.assertEqual(limits, ["data_memory"])

    def test_short_line_attack_memory_capped_and_given_back(self):
        """Twelve clients at once, each within every per-client limit, send
        messages of 3-byte lines to a mailgate process: its RSS never
        passes its idle size by more than --max-data-memory, and comes back
        within 10 % of it once they are gone."""
        port = free_port()
        cap_mib = 24
        process, _output = self.spawn_gate(
            port,
            "--max-size",
            str(6 * 1024 * 1024),
            "--max-data-memory",
            str(cap_mib),
            "--pregreet-wait",
            "0",
            "--hostname",
            "gate.test",
        )

        def rss():
            return process_rss(process.pid)

        sender = f"attack-{self.tag}@customer.example"

        def deliver_once(subject):
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
                return client.sendmail(
                    sender, [self.alias_address], self.message(sender, subject)
                )

        self.assertEqual(deliver_once(f"Gate {self.tag} warm"), {})

        def attacker(index):
            client = smtplib.SMTP(
                "127.0.0.1",
                port,
                timeout=60,
                source_address=(f"127.0.0.{20 + index}", 0),
            )
            client.ehlo("attack.example")
            return client

        def warm(index):  # every worker thread started, with its cursor
            with attacker(index) as client:
                for _round in range(3):
                    client.mail(sender)
                    client.rcpt(self.alias_address)
                    client.rset()

        warmers = [threading.Thread(target=warm, args=(i,)) for i in range(12)]
        for thread in warmers:
            thread.start()
        for thread in warmers:
            thread.join(60)
        time.sleep(0.5)
        idle = rss()
        peak = [idle]
        sampling = threading.Event()

        def sample():
            while not sampling.is_set():
                peak[0] = max(peak[0], rss())
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        replies, errors = [], []
        lines = b"ab\r\n" * (64 * 1024 // 4)

        def attack(index):
            try:
                with attacker(index) as client:
                    client.mail(sender)
                    client.rcpt(self.alias_address)
                    client.docmd("DATA")
                    with contextlib.suppress(OSError):
                        for _chunk in range(8 * 16):  # 8 MiB
                            client.sock.sendall(lines)
                        client.sock.sendall(b".\r\n")
                    replies.append(read_reply(client.sock)[:9])
            except (OSError, smtplib.SMTPException) as error:
                errors.append(error)

        threads = [threading.Thread(target=attack, args=(i,)) for i in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        deadline = time.monotonic() + 15
        while rss() > 1.1 * idle and time.monotonic() < deadline:
            time.sleep(0.1)
        after = rss()
        sampling.set()
        sampler.join()
        self.assertEqual(process.poll(), None, "the mailgate is still up")
        self.assertTrue(
            replies and all(r[:3] in (b"552", b"452") for r in replies),
            (replies, errors),
        )
        self.assertLessEqual(
            peak[0] - idle,
            cap_mib * 1024 * 1024,
            f"RSS {idle} idle, {peak[0]} peak: over --max-data-memory",
        )
        self.assertLessEqual(after, 1.1 * idle, f"RSS {idle} idle, {after} after")
        self.assertEqual(deliver_once(f"Gate {self.tag} after"), {})

    def test_trickling_data_cut_from_its_start(self):
        """1 byte a second from the first byte of DATA: cut soon after
        --data-grace however long --timeout is (Postfix counts
        smtpd_min_data_rate from the start of DATA)."""
        controller = self.start_gate(timeout=300, min_data_rate=500, data_grace=1.5)
        client = self.open_data(
            controller, "127.0.0.2", f"trickle-{self.tag}@customer.example"
        )
        started = time.monotonic()
        while (
            time.monotonic() - started < 30
            and not select.select([client.sock], [], [], 0.25)[0]
        ):
            client.sock.sendall(b"X")
        code, text = client.getreply()
        self.assertEqual((code, text[:5]), (421, b"4.4.2"))
        self.assertLess(time.monotonic() - started, 5, "cut at the grace, not 300 s")

    def test_guessing_is_a_steady_rate_over_all_sessions_and_gates(self):
        """50 parallel sessions of one client, at two mailgates sharing the
        database, guessing names: at most burst + rate x seconds refusals
        are answered; every other recipient is answered 450 without a
        look-up, a real alias too, so the attacker learns nothing more."""
        client_address = "127.0.0.9"
        budget_rate, burst = 60, 5  # a minute, as --client-guess-rate

        def clean():
            self.query(
                "DELETE FROM mail_gateway_guess_budget WHERE client = %s RETURNING id",
                [client_address],
            )

        clean()
        self.addCleanup(clean)
        gates = [
            self.start_gate(client_guess_rate=budget_rate, client_guess_burst=burst)
            for _gate in range(2)
        ]
        barrier = threading.Barrier(50, timeout=60)
        codes, errors = [], []

        def guess(index):
            try:
                with smtplib.SMTP(
                    "127.0.0.1",
                    gates[index % 2].port,
                    timeout=60,
                    source_address=(client_address, 0),
                ) as client:
                    client.ehlo("guess.example")
                    client.mail(f"guess-{self.tag}@customer.example")
                    barrier.wait()
                    for number in range(4):
                        codes.append(
                            client.rcpt(f"guess{index}x{number}@{self.domain}")[0]
                        )
            except (OSError, smtplib.SMTPException, threading.BrokenBarrierError) as e:
                errors.append(e)

        started = time.monotonic()
        threads = [threading.Thread(target=guess, args=(i,)) for i in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        elapsed = time.monotonic() - started
        self.assertFalse(errors)
        answered = sum(1 for code in codes if code >= 500)
        self.assertEqual(len(codes), 200)
        self.assertLessEqual(
            answered,
            burst + budget_rate / 60 * elapsed + 1,
            f"{answered} guesses answered in {elapsed:.1f} s",
        )
        self.assertGreaterEqual(answered, burst, "the burst is answered")
        self.assertEqual(set(codes) - {550, 450}, set(), codes)
        with self.client(gates[0], client_address) as client:
            client.ehlo("guess.example")
            client.mail(f"guess-{self.tag}@customer.example")
            code, text = client.rcpt(self.alias_address)
        self.assertEqual(
            (code, text[:5]), (450, b"4.7.1"), "a real alias is not revealed either"
        )
        for gate in gates:
            gate.handler.flush_refusals()
        guessed = [
            row for row in self.limit_logs() if row[3].get("limit") == "guess_rate"
        ]
        self.assertTrue(guessed, "the limit is logged")

    def test_slow_client_takes_half_of_the_delivery_threads(self):
        """A client whose messages are slow (its own slow DNS) gets half of
        the delivery threads at most: its other messages wait their turn,
        another client's message goes through at once."""
        controller = self.start_gate(workers=4)
        running, peak, started = collections.Counter(), collections.Counter(), {}
        lock = threading.Lock()

        def slow_deliver(mail_from, rcpt_tos, content, client_address=None, helo=None):
            with lock:
                running[client_address] += 1
                peak[client_address] = max(
                    peak[client_address], running[client_address]
                )
                started.setdefault(client_address, time.monotonic())
            time.sleep(0.2 if client_address == "127.0.0.3" else 1.0)
            with lock:
                running[client_address] -= 1
            return True

        def send(source, index):
            sender = f"slow-{index}-{self.tag}@customer.example"
            with self.client(controller, source) as client:
                client.sendmail(
                    sender,
                    [self.alias_address],
                    self.message(sender, f"Gate {self.tag} slow {index}"),
                )

        with patch.object(controller.handler.work, "deliver", slow_deliver):
            # three slow messages: one more than its half of the threads
            threads = [
                threading.Thread(target=send, args=("127.0.0.2", index))
                for index in range(3)
            ]
            for thread in threads:
                thread.start()
            time.sleep(0.5)
            begin = time.monotonic()
            send("127.0.0.3", 99)
            other_took = time.monotonic() - begin
            for thread in threads:
                thread.join(30)
        self.assertEqual(peak["127.0.0.2"], 2, "half of the 4 delivery threads")
        self.assertLess(
            other_took, 0.9, "the other client did not wait behind the slow one"
        )

    def test_pregreet_talker_dropped(self):
        controller = self.start_gate(pregreet_wait=0.5)
        with self.subTest("a client talking before the greeting is dropped"):
            sock = self.connect(controller, "127.0.0.2")
            sock.sendall(b"EHLO impatient.example\r\n")
            received = read_until_closed(sock)
            self.assertTrue(received.startswith(b"220-"), received)
            self.assertIn(b"\r\n554 5.5.1 ", received)
            self.assertNotIn(b"\r\n220 ", received, "never the final greeting")
            self.assertNotIn(b"\r\n250", received, "its command was never answered")
        with self.subTest("a client waiting for the greeting is served"):
            client = self.client(controller, "127.0.0.3")
            self.assertEqual(client.ehlo("patient.example")[0], 250)
        controller.handler.flush_refusals()
        self.assertEqual(
            [(row[0], row[1], row[2]) for row in self.limit_logs()],
            [("pregreet", "127.0.0.2", 1)],
        )

    def test_connection_message_and_recipient_rates(self):
        with self.subTest("connections per minute"):
            controller = self.start_gate(client_connection_rate=4)
            controllers = [controller]
            replies = [
                read_reply(self.connect(controller, "127.0.0.2")) for _index in range(6)
            ]
            self.assertEqual(
                [reply[:3] for reply in replies], [b"220"] * 4 + [b"421"] * 2, replies
            )
            self.assertIn(b"per minute", replies[-1])
            self.assertEqual(
                self.client(controller, "127.0.0.3").noop()[0],
                250,
                "another client goes on",
            )
        with self.subTest("messages per minute"):
            controller = self.start_gate(client_message_rate=2)
            controllers.append(controller)
            sender = f"busy-{self.tag}@customer.example"
            client = self.client(controller, "127.0.0.2")
            for index in range(2):
                self.assertEqual(
                    client.sendmail(
                        sender,
                        [self.alias_address],
                        self.message(sender, f"Gate {self.tag} m{index}"),
                    ),
                    {},
                )
            code, text = client.mail(sender)
            self.assertEqual((code, text[:5]), (421, b"4.7.0"))
            with self.assertRaises(smtplib.SMTPServerDisconnected):
                client.noop()
            self.assertEqual(len(self.partners()), 2)
            self.assertEqual(
                self.deliver(controller, "127.0.0.3", "other sender"),
                {},
                "another client goes on",
            )
        with self.subTest("recipients per minute"):
            controller = self.start_gate(client_recipient_rate=3, hard_error_limit=4)
            controllers.append(controller)
            client = self.client(controller, "127.0.0.2")
            client.ehlo("many.example")
            client.mail(f"many-{self.tag}@customer.example")
            codes = [
                client.rcpt(address)[0]
                for address in (self.alias_address, f"x-{self.tag}@{self.domain}")
            ]
            codes.append(client.rcpt(self.catchall)[0])
            code, text = client.rcpt(self.bounce)
            self.assertEqual(codes, [250, 550, 250], "refused recipients count too")
            self.assertEqual((code, text[:5]), (450, b"4.7.1"))
            self.assertEqual(
                client.noop()[0],
                250,
                "the session goes on: the sender retries that recipient",
            )
            more = [f"more{index}-{self.tag}@{self.domain}" for index in range(3)]
            self.assertEqual(
                [client.rcpt(address)[0] for address in more[:2]],
                [450, 450],
                "still over the rate",
            )
            code, text = client.rcpt(more[2])
            self.assertEqual(
                (code, text[:5]),
                (421, b"4.7.0"),
                "what is tried past a limit counts as an error",
            )
        with self.subTest("each in the gateway log"):
            for controller in controllers:
                controller.handler.flush_refusals()
            rates = self.query(
                """SELECT email_from, recipients, count, detail_params->>'limit',
                       detail_params->>'value'
                   FROM mail_gateway_log WHERE reason = 'client_limit' AND
                       client_address = '127.0.0.2'""",
                [],
            )
            self.assertEqual(
                sorted(rates),
                sorted(
                    [
                        ("<>", "", 2, "connection_rate", "4"),
                        (
                            f"busy-{self.tag}@customer.example",
                            "",
                            1,
                            "message_rate",
                            "2",
                        ),
                        *[
                            (
                                f"many-{self.tag}@customer.example",
                                address,
                                1,
                                "recipient_rate",
                                "3",
                            )
                            for address in [self.bounce, *more[:2]]
                        ],
                    ]
                ),
                "a session limit has no sender or recipient; a rate names them",
            )

    def test_relay_networks_exempt(self):
        small = {
            "client_sessions": 1,
            "client_connection_rate": 2,
            "client_message_rate": 1,
            "client_recipient_rate": 1,
            "soft_error_limit": 1,
            "hard_error_limit": 2,
            "junk_command_limit": 1,
            "pregreet_wait": 0.5,
        }
        controller = self.start_gate(
            relay_networks=mailgate_options.parse_networks("127.0.0.4/32"), **small
        )
        sender = f"relayed-{self.tag}@customer.example"
        with self.subTest("the relay: no limit per client"):
            sessions = [self.client(controller, "127.0.0.4") for _index in range(4)]
            for index, client in enumerate(sessions):
                self.assertEqual(client.noop()[0], 250)
                self.assertEqual(client.noop()[0], 250, "junk commands")
                client.ehlo("relay.example")
                self.assertEqual(client.mail(sender)[0], 250)
                for guess in range(3):
                    self.assertEqual(
                        client.rcpt(f"g{guess}-{self.tag}@{self.domain}")[0],
                        550,
                        "errors",
                    )
                self.assertEqual(client.rcpt(self.alias_address)[0], 250)
                self.assertEqual(
                    client.data(self.message(sender, f"Gate {self.tag} relay {index}"))[
                        0
                    ],
                    250,
                )
            self.assertEqual(len(self.partners()), 4)
            sock = self.connect(controller, "127.0.0.4")
            sock.sendall(b"EHLO eager.relay.example\r\n")
            self.assertIn(
                b"\r\n250 ",
                read_until(sock, b"\r\n250 "),
                "no pregreet test for the relay",
            )
        with self.subTest("another client: limited"):
            first = self.client(controller, "127.0.0.5")
            second = read_reply(self.connect(controller, "127.0.0.5"))
            self.assertTrue(second.startswith(b"421 4.7.0"), second)
            self.assertEqual(first.noop()[0], 250)
            self.assertEqual(first.noop()[0], 421, "junk command limit")
        with self.subTest("allowed networks are no exemption"):
            controller = self.start_gate(
                allow_networks=mailgate_options.parse_networks("127.0.0.0/8"), **small
            )
            self.client(controller, "127.0.0.4")
            refused = read_reply(self.connect(controller, "127.0.0.4"))
            self.assertTrue(refused.startswith(b"421 4.7.0"), refused)
        with self.subTest("a relay may connect outside the allowed networks"):
            controller = self.start_gate(
                allow_networks=mailgate_options.parse_networks("10.0.0.0/8"),
                relay_networks=mailgate_options.parse_networks("127.0.0.4/32"),
            )
            self.assertEqual(self.client(controller, "127.0.0.4").noop()[0], 250)
            self.assertTrue(
                read_reply(self.connect(controller, "127.0.0.5")).startswith(
                    b"554 5.7.1"
                )
            )

    def test_xforward(self):
        controller = self.start_gate(
            relay_networks=mailgate_options.parse_networks("127.0.0.4/32")
        )
        handler = controller.handler
        seen = []
        original = handler.handle_DATA

        async def spy(server, session, envelope):
            seen.append(handler.effective_client(session))
            return await original(server, session, envelope)

        sender = f"forwarded-{self.tag}@customer.example"
        with patch.object(handler, "handle_DATA", spy):
            relay = self.client(controller, "127.0.0.4")
            code, _text = relay.ehlo("relay.example")
            with self.subTest("advertised to the relay"):
                self.assertEqual(code, 250)
                self.assertEqual(
                    relay.esmtp_features.get("xforward"), "NAME ADDR PROTO HELO"
                )
            with self.subTest(
                "accepted from the relay; effective_client is the forwarded client"
            ):
                code, _text = relay.docmd(
                    "XFORWARD", "NAME=mx.sender.example ADDR=203.0.113.7"
                )
                self.assertEqual(code, 250)
                self.assertEqual(
                    relay.docmd("XFORWARD", "PROTO=ESMTP HELO=mx+2Esender.example")[0],
                    250,
                    "xtext",
                )
                relay.mail(sender)
                self.assertEqual(relay.rcpt(f"nobody-{self.tag}@{self.domain}")[0], 550)
                self.assertEqual(relay.rcpt(self.alias_address)[0], 250)
                self.assertEqual(
                    relay.data(self.message(sender, f"Gate {self.tag} xf1"))[0], 250
                )
                # reset at the end of the transaction (Postfix sends it before each
                # MAIL)
                relay.mail(sender)
                relay.rcpt(self.alias_address)
                self.assertEqual(
                    relay.data(self.message(sender, f"Gate {self.tag} xf2"))[0], 250
                )
                self.assertEqual(
                    relay.docmd("XFORWARD", "ADDR=IPV6:2001:db8::7 HELO=[UNAVAILABLE]")[
                        0
                    ],
                    250,
                )
                relay.mail(sender)
                relay.rcpt(self.alias_address)
                self.assertEqual(
                    relay.data(self.message(sender, f"Gate {self.tag} xf3"))[0], 250
                )
                self.assertEqual(
                    seen,
                    [
                        ("203.0.113.7", "mx.sender.example"),
                        ("127.0.0.4", "relay.example"),
                        ("2001:db8::7", None),
                    ],
                )
            with self.subTest("malformed or inside a transaction"):
                self.assertEqual(relay.docmd("XFORWARD", "COLOR=blue")[:1], (501,))
                self.assertEqual(
                    relay.docmd("XFORWARD", "ADDR=not-an-address")[:1], (501,)
                )
                self.assertEqual(relay.docmd("XFORWARD")[:1], (501,))
                relay.mail(sender)
                self.assertEqual(
                    relay.docmd("XFORWARD", "ADDR=198.51.100.1")[:1], (503,)
                )
            with self.subTest("the RCPT refusal names the forwarded client"):
                handler.flush_refusals()
                clients = {row[2]: row[3] for row in self.rcpt_logs()}
                self.assertEqual(
                    clients[f"nobody-{self.tag}@{self.domain}"], "203.0.113.7"
                )
            with self.subTest("refused from another client, not advertised"):
                other = self.client(controller, "127.0.0.5")
                other.ehlo("other.example")
                self.assertNotIn("xforward", other.esmtp_features)
                code, text = other.docmd("XFORWARD", "ADDR=203.0.113.7")
                self.assertEqual((code, text[:5]), (550, b"5.7.0"))
                self.assertNotIn(
                    "XFORWARD", other.help().decode(), "not listed by HELP"
                )
                other.mail(sender)
                other.rcpt(self.alias_address)
                self.assertEqual(
                    other.data(self.message(sender, f"Gate {self.tag} xf4"))[0], 250
                )
                self.assertEqual(seen[-1], ("127.0.0.5", "other.example"))

    def test_limit_refusals_written_folded_once_per_interval(self):
        controller = self.start_gate(
            flush_interval=1.0, client_sessions=1, client_connection_rate=0
        )
        writes = []
        original = controller.handler.refusals.write

        def counting_write(pending):
            # counted once written: the test then reads the entries at once
            count = sum(count for count, _details in pending.values())
            result = original(pending)
            writes.append(count)
            return result

        controller.handler.refusals.write = counting_write
        self.client(controller, "127.0.0.6").ehlo("holder.example")
        replies = [
            read_reply(self.connect(controller, "127.0.0.6")) for _index in range(8)
        ]
        self.assertTrue(
            all(reply.startswith(b"421 4.7.0") for reply in replies), replies
        )
        deadline = time.monotonic() + 30
        while sum(writes) < 8 and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual(sum(writes), 8, "written by the log's own thread")
        self.assertLessEqual(
            len(writes), 2, "one write per interval, not one per attempt"
        )
        ((reason, client, count, params),) = self.limit_logs()
        self.assertEqual(
            (reason, client, count, params["limit"]),
            ("client_limit", "127.0.0.6", 8, "client_sessions"),
        )
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"lang": "en_US"})
            entry = env["mail.gateway.log"].search(
                [("reason", "=", "client_limit"), ("client_address", "=", client)]
            )
            self.assertEqual(
                str(entry.explanation),
                "Refused during the SMTP dialogue: the client reached its limit of 1 "
                "open sessions (421 4.7.0).",
            )

    def test_odoo_bin_options_and_open_file_limit(self):
        port = free_port()
        # the command starts with a low soft limit (inherited) and raises it
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        low = max(1024, len(os.listdir("/proc/self/fd")) + 512)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(low, soft), hard))
        try:
            process, _output = self.spawn_gate(
                port,
                "--client-sessions",
                "1",
                "--pregreet-wait",
                "0",
                "--max-sessions",
                "3000",
            )
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        with open(f"/proc/{process.pid}/limits", encoding="ascii") as handle:
            limits = handle.read()
        soft, hard = next(
            line.split()[3:5]
            for line in limits.splitlines()
            if line.startswith("Max open files")
        )
        self.assertGreaterEqual(
            int(soft), min(3000 + mailgate.FILE_RESERVE, int(hard)), limits
        )
        first = socket.create_connection(
            ("127.0.0.1", port), timeout=30, source_address=("127.0.0.2", 0)
        )
        self.addCleanup(first.close)
        self.assertTrue(
            read_reply(first).startswith(b"220 "), "no pregreet wait: one greeting line"
        )
        second = socket.create_connection(
            ("127.0.0.1", port), timeout=30, source_address=("127.0.0.2", 0)
        )
        self.addCleanup(second.close)
        self.assertTrue(
            read_reply(second).startswith(b"421 4.7.0"), "--client-sessions 1"
        )
        process.terminate()
        process.wait(timeout=60)


@tagged("post_install", "-at_install", "mail_routing_policy", "mailgate")
class TestClientLimitsUnit(BaseCase):
    """cli/client_limits.py and the pure parts of the SMTP side, on a clock of
    our own."""

    def setUp(self):
        super().setUp()
        self.now = 1000.0

    def clock(self):
        return self.now

    def test_client_key(self):
        for host, key in [
            ("192.0.2.1", "192.0.2.1"),
            ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
            ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
            ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
            ("::ffff:192.0.2.1", "192.0.2.1"),
            ("fe80::1%eth0", "fe80::/64"),
        ]:
            with self.subTest(host=host):
                self.assertEqual(client_limits.client_key(host), key)
        networks = mailgate_options.parse_networks("127.0.0.4/32, 2001:db8::/32")
        self.assertTrue(client_limits.in_networks("2001:db8:5::1", networks))
        self.assertTrue(client_limits.in_networks("::ffff:127.0.0.4", networks))
        self.assertFalse(client_limits.in_networks("127.0.0.5", networks))
        self.assertFalse(client_limits.in_networks(None, networks))

    def test_sessions_and_connection_rate(self):
        policy = client_limits.ClientPolicy(
            max_sessions=5, client_sessions=2, connection_rate=3, window=60
        )
        limits = client_limits.ClientLimits(policy, self.clock)
        v6 = ["2001:db8::1", "2001:db8::2"]
        keys = [client_limits.client_key(host) for host in v6]
        self.assertIsNone(limits.open_session(keys[0]))
        self.assertIsNone(limits.open_session(keys[1]))
        self.assertEqual(
            limits.open_session(keys[0]).limit, "client_sessions", "one /64, one client"
        )
        self.assertEqual(
            limits.open_session(keys[0]).limit,
            "connection_rate",
            "refused attempts count",
        )
        limits.close_session(keys[0])
        self.assertEqual(
            limits.open_session(keys[0]).limit, "connection_rate", "within the window"
        )
        self.now += 60
        self.assertIsNone(limits.open_session(keys[0]), "a new window")
        with self.subTest("exempt: the total only"):
            for _index in range(3):
                self.assertIsNone(limits.open_session("relay", exempt=True))
            self.assertEqual(limits.sessions, 5)
            self.assertEqual(limits.open_session("other").limit, "server_sessions")
            self.assertNotIn("relay", limits.clients)
        with self.subTest("idle clients are forgotten"):
            for key in keys:
                limits.close_session(key)
            self.now += 61
            limits.open_session("192.0.2.9")
            self.assertEqual(sorted(limits.clients), ["192.0.2.9"])

    def test_refusal_log_drops_only_what_it_cannot_store(self):
        """One entry the database refuses (a value it cannot store) is
        dropped alone: it never blocks the log of every later refusal. A
        database away keeps everything for the next try."""
        written, away = [], [True]

        class DatabaseAway(Exception):
            pass

        def write(pending):
            if away[0]:
                raise DatabaseAway("gone")
            if any("\x00" in key[1] for key in pending):
                raise ValueError(
                    "A string literal cannot contain NUL (0x00) characters."
                )
            written.extend(pending)

        log = refusal_log.RefusalLog(
            write, 3600, transient_errors=(DatabaseAway,), clock=self.clock
        )
        log.note(
            "unknown_recipient", "good@x.example", "a@ours.example", "192.0.2.1", {}
        )
        log.note(
            "unknown_recipient", "bad\x00@x.example", "b@ours.example", "192.0.2.1", {}
        )
        with self.assertLogs(
            "odoo.addons.mail_routing_policy.cli.refusal_log", "WARNING"
        ):
            self.assertEqual(log.flush(), 0, "database away: kept")
        away[0] = False
        with self.assertLogs(
            "odoo.addons.mail_routing_policy.cli.refusal_log", "ERROR"
        ) as logged:
            self.assertEqual(log.flush(), 1)
        self.assertEqual([key[1] for key in written], ["good@x.example"])
        self.assertTrue(any("dropped" in line for line in logged.output))
        log.note(
            "unknown_recipient", "later@x.example", "c@ours.example", "192.0.2.1", {}
        )
        self.assertEqual(log.flush(), 1, "later refusals are written")

    def test_stress_threshold(self):
        policy = client_limits.ClientPolicy(max_sessions=10, stress_sessions=3)
        limits = client_limits.ClientLimits(policy, self.clock)
        limits.open_session("a")
        limits.open_session("b")
        self.assertFalse(limits.stressed or limits.stress_began())
        limits.open_session("c")
        self.assertTrue(limits.stressed)
        self.assertTrue(limits.stress_began(), "announced once")
        limits.open_session("d")
        self.assertFalse(limits.stress_began())
        limits.close_session("d")
        limits.close_session("c")
        self.assertFalse(limits.stressed)
        limits.open_session("c")
        self.assertTrue(limits.stress_began(), "a new stress period")
        options = smtp_handler.MailgateOptions(max_sessions=2000)
        self.assertEqual(
            smtp_handler.client_policy(options).stress_sessions, 1600, "default: 80 %"
        )
        options = smtp_handler.MailgateOptions(max_sessions=2000, stress_timeout=0)
        self.assertEqual(smtp_handler.client_policy(options).stress_sessions, 0, "off")

    def test_data_rate_over_all_sessions(self):
        """A client's DATA bytes over all its sessions keep to data_rate
        after its burst: the wait is what the excess takes at that rate;
        another client and a relay are not slowed."""
        policy = client_limits.ClientPolicy(data_rate=1000, data_burst=500)
        limits = client_limits.ClientLimits(policy, self.clock)
        self.assertEqual(limits.data_delay("a", 500), 0, "the burst at once")
        self.assertAlmostEqual(limits.data_delay("a", 300), 0.3, msg="then the rate")
        self.assertEqual(limits.data_delay("b", 400), 0, "another client")
        self.assertEqual(limits.data_delay("a", 10**6, exempt=True), 0, "a relay")
        self.now += 0.3
        self.assertAlmostEqual(
            limits.data_delay("a", 100), 0.1, msg="the debt is paid first"
        )
        self.now += 10
        self.assertEqual(limits.data_delay("a", 500), 0, "refilled to its burst")
        deadline = client_limits.DataDeadline(self.now, 300, 100, grace=10)
        deadline.paused(5)
        self.assertEqual(deadline.deadline, self.now + 15, "the server's pause")

    def test_message_and_recipient_rates(self):
        policy = client_limits.ClientPolicy(message_rate=2, recipient_rate=3, window=60)
        limits = client_limits.ClientLimits(policy, self.clock)
        self.assertEqual(
            [limits.count_message("a") for _index in range(2)], [None, None]
        )
        hit = limits.count_message("a")
        self.assertEqual(
            (hit.reason, hit.limit, hit.value), ("client_limit", "message_rate", 2)
        )
        self.assertIsNone(limits.count_message("b"))
        self.assertEqual(
            [bool(limits.count_recipient("a")) for _index in range(4)],
            [False, False, False, True],
        )
        self.assertEqual(
            hit.details(), {"code": "client_limit", "limit": "message_rate", "value": 2}
        )
        self.now += 59.9
        self.assertTrue(limits.count_recipient("a"))
        self.now += 0.1
        self.assertIsNone(limits.count_recipient("a"))
        self.assertIsNone(limits.count_message("a"))
        unlimited = client_limits.ClientLimits(client_limits.ClientPolicy(), self.clock)
        self.assertFalse(
            any(unlimited.count_recipient("a") for _index in range(1000)), "0: no limit"
        )

    def test_error_tally(self):
        tally = client_limits.ErrorTally(soft=2, hard=4)
        self.assertIsNone(tally.note("250"))
        self.assertIsNone(tally.note("450"), "a 4xx is no client error")
        tally.note("550")
        self.assertFalse(tally.delaying)
        tally.note("500")
        self.assertTrue(tally.delaying)
        tally.delivered()
        self.assertFalse(tally.delaying, "a delivered message starts again")
        self.assertEqual(
            [bool(tally.note("550")) for _index in range(4)],
            [False, False, False, True],
        )

    def test_data_deadline(self):
        """Postfix's smtpd_min_data_rate, counted from the start of DATA:
        after the grace the transfer must have kept the rate since it began."""
        deadline = client_limits.DataDeadline(self.now, 300, 100, grace=10)
        self.assertEqual(deadline.deadline, 1010, "the grace, not the idle timeout")
        for _second in range(30):  # 200 bytes a second: twice the minimum
            self.now += 1
            deadline.received(200, self.now)
        self.assertEqual(deadline.deadline, 1000 + 10 + 6000 / 100)
        start = self.now
        while deadline.deadline > self.now:  # then 10 bytes a second
            self.now += 1
            deadline.received(10, self.now)
        self.assertAlmostEqual(
            self.now - start,
            45,
            delta=1,
            msg="40 s earned ahead, 0.1 s earned per second of trickling",
        )
        trickle = client_limits.DataDeadline(self.now, 300, 500, grace=20)
        start = self.now
        while trickle.deadline > self.now:  # 1 byte a second from the start
            self.now += 1
            trickle.received(1, self.now)
        self.assertLessEqual(self.now - start, 21, "cut right after the grace")
        idle = client_limits.DataDeadline(self.now, 15, 0, grace=10)
        idle.received(1, self.now + 5)
        self.assertEqual(
            idle.deadline, self.now + 20, "no rate (a relay): an idle timeout per chunk"
        )
        capped = client_limits.DataDeadline(self.now, 5, 100, grace=60)
        self.assertEqual(
            capped.deadline, self.now + 5, "the grace is at most --timeout"
        )
        stressed = client_limits.DataDeadline(self.now, 300, 100, grace=60)
        stressed.received(100, self.now + 1)
        stressed.stress(self.now + 2, 10)
        self.assertEqual(
            stressed.deadline, self.now + 11, "stress shortens grace and idle time"
        )

    def test_data_transfer(self):
        """The DATA reader (RFC 5321 4.5.2): the end marker across any
        split, one transparency dot removed, what follows the end left to
        the next commands, the limits, and exactly the bytes it holds."""
        stream = b"Subject: x\r\n..dot\r\n\r\nbody.\r\n.\r\nQUIT\r\n"
        expected = b"Subject: x\r\n.dot\r\n\r\nbody.\r\n"
        for size in (1, 2, 3, 5, 7, len(stream)):
            with self.subTest(chunk=size):
                transfer = data_transfer.DataTransfer(1000, 1001)
                taken = 0
                for start in range(0, len(stream), size):
                    taken += transfer.feed(stream[start : start + size])
                    if transfer.done:
                        break
                self.assertEqual(stream[taken:], b"QUIT\r\n")
                self.assertEqual(transfer.message(), expected)
                self.assertLess(transfer.held, 100, "nothing kept")
        empty = data_transfer.DataTransfer()
        self.assertEqual(empty.feed(b".\r\nQUIT\r\n"), 3)
        self.assertEqual((empty.done, empty.message()), (True, b""))
        lines = data_transfer.DataTransfer()
        lines.feed(b"ab\r\n" * 10000)
        self.assertLessEqual(
            lines.held, 1.2 * 40000, "short lines cost their bytes, no object each"
        )
        big = data_transfer.DataTransfer(size_limit=100)
        big.feed(b"ab\r\n" * 100)
        self.assertEqual(big.error, data_transfer.TOO_BIG)
        self.assertLess(big.held, 100, "given back at once")
        self.assertEqual(big.feed(b"more\r\n.\r\n"), 9, "drained to its end")
        long_line = data_transfer.DataTransfer(line_limit=10)
        long_line.feed(b"a" * 20 + b"\r\n.\r\n")
        self.assertEqual(long_line.error, data_transfer.LINE_TOO_LONG)

    def test_xforward_parsing(self):
        self.assertEqual(
            smtp_handler.parse_xforward(
                "name=mx.example ADDR=IPV6:2001:DB8::1 HELO=a+2Bb proto=ESMTP"
            ),
            {
                "NAME": "mx.example",
                "ADDR": "IPV6:2001:DB8::1",
                "HELO": "a+b",
                "PROTO": "ESMTP",
            },
        )
        for bad in (
            "",
            "SOURCE=LOCAL",
            "ADDR",
            "ADDR=300.1.1.1",
            "HELO=a+zz",
            "HELO=a=b",
        ):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                smtp_handler.parse_xforward(bad)
        session = Session(loop=None)
        session.peer, session.host_name = (
            ("::ffff:127.0.0.4", 4025, 0, 0),
            "relay.example",
        )
        session.xforward = {"ADDR": "IPV6:2001:DB8::1", "HELO": "mx.example"}
        self.assertEqual(
            smtp_handler.effective_client(session),
            ("127.0.0.4", "relay.example"),
            "untrusted",
        )
        session.trusted_relay = True
        self.assertEqual(
            smtp_handler.effective_client(session), ("2001:db8::1", "mx.example")
        )
        session.xforward = {"NAME": "[UNAVAILABLE]"}
        self.assertEqual(
            smtp_handler.effective_client(session),
            ("127.0.0.4", "relay.example"),
            "nothing forwarded",
        )

    def test_open_file_limit(self):
        """The command raises the soft limit to fit --max-sessions, or serves
        what fits under the hard limit. One process for the cases (importing
        the command takes a second), the higher hard limit first: a process
        may lower its hard limit, not raise it again."""
        path = mailgate.__file__
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        cases = [((64, 300), "44 300")]
        if hard >= 1256:
            cases.insert(0, ((64, hard), "1000 1256"))
        script = (
            "import importlib.util, resource, sys\n"
            "spec = importlib.util.spec_from_file_location('mailgate_command', "
            f"{path!r})\n"
            "module = importlib.util.module_from_spec(spec)\n"
            "spec.loader.exec_module(module)\n"
            f"for limits in {[limits for limits, _expected in cases]!r}:\n"
            "    resource.setrlimit(resource.RLIMIT_NOFILE, limits)\n"
            "    print(module.raise_open_file_limit(1000), "
            "resource.getrlimit(resource.RLIMIT_NOFILE)[0], flush=True)\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        printed = result.stdout.splitlines()[-len(cases) :]
        self.assertEqual(len(printed), len(cases), result.stderr[-2000:])
        for ((soft, hard_limit), expected), line in zip(cases, printed, strict=True):
            with self.subTest(soft=soft, hard=hard_limit):
                self.assertEqual(line.split(), expected.split(), result.stderr[-2000:])


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestLimitRefusalEntries(TransactionCase):
    """An entry of the limits is a refusal during the SMTP dialogue: nothing
    was received, so it is worded as such and not offered for processing."""

    def test_limit_entry_is_an_smtp_refusal(self):
        Log = self.env["mail.gateway.log"]
        details = {"code": "client_limit", "limit": "client_sessions", "value": 50}
        entry = Log._log_rcpt_refusal(
            "client_limit", "", "", "127.0.0.2", details, count=3
        )
        self.assertTrue(entry.smtp_refusal)
        self.assertEqual(entry.count, 3)
        self.assertTrue(
            entry.display_name.endswith(": 127.0.0.2"),
            "named by its client, not an empty recipient",
        )
        self.assertIn("Refused during the SMTP dialogue", entry.details)
        self.assertIn("50", entry.explanation)
        self.assertNotIn("alias", entry.details, "not worded as an unknown recipient")
        with self.assertRaisesRegex(UserError, "never reached Odoo"):
            entry.action_process_again()

    def test_refusals_written_in_one_batch(self):
        """The refusal log's batch: a refusal seen before adds to its entry
        (of the last day, not yet processed), the others are new entries; an
        alias deleted meanwhile is not linked."""
        Log = self.env["mail.gateway.log"]
        alias = self.env["mail.alias"].create(
            {
                "alias_name": "batch-gone",
                "alias_model_id": self.env["ir.model"]._get("res.partner").id,
            }
        )
        gone_id = alias.id
        alias.unlink()
        unknown = {"code": "unknown_recipient", "why": "unknown"}
        seen = Log._log_rcpt_refusal(
            "unknown_recipient",
            "a@x.example",
            "nobody@ours.example",
            "192.0.2.1",
            unknown,
        )
        old = Log._log_rcpt_refusal(
            "unknown_recipient", "a@x.example", "old@ours.example", "192.0.2.1", unknown
        )
        old.date = fields.Datetime.subtract(fields.Datetime.now(), days=2)
        limit = {"code": "client_limit", "limit": "client_sessions", "value": 50}
        entries = Log._log_rcpt_refusals(
            [
                (
                    "unknown_recipient",
                    "a@x.example",
                    "nobody@ours.example",
                    "192.0.2.1",
                    unknown,
                    4,
                ),
                (
                    "unknown_recipient",
                    "a@x.example",
                    "old@ours.example",
                    "192.0.2.1",
                    unknown,
                    1,
                ),
                ("client_limit", "", "", "192.0.2.9", limit, 7),
                (
                    "rate_limited",
                    "b@x.example",
                    "sales@ours.example",
                    "192.0.2.2",
                    {"alias_id": gone_id},
                    2,
                ),
            ]
        )
        self.assertEqual(len(entries), 4)
        self.assertIn(seen, entries)
        self.assertEqual(seen.count, 5, "added to the entry of the same refusal")
        self.assertNotIn(old, entries, "an entry older than a day is not added to")
        self.assertEqual(old.count, 1)
        by_reason = {entry.reason: entry for entry in entries - seen}
        self.assertEqual(
            set(by_reason), {"rcpt_unknown", "client_limit", "rcpt_deferred"}
        )
        self.assertEqual(by_reason["client_limit"].count, 7)
        self.assertEqual(by_reason["client_limit"].email_from, "<>")
        self.assertFalse(by_reason["rcpt_deferred"].alias_id)
        self.assertEqual(seen.detail_params["recipient"], "nobody@ours.example")
        again = Log._log_rcpt_refusals(
            [("client_limit", "", "", "192.0.2.9", limit, 1)]
        )
        self.assertEqual(again, by_reason["client_limit"])
        self.assertEqual(again.count, 8)
