# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""End to end with a real MTA: a private Postfix relays a domain to the mailgate.

The Postfix instance is the test's own (config, queue and data directories
in a temporary folder, listening on a loopback port), never the machine's:
/etc/postfix is not read or written. Postfix must be installed (.ci/run
installs it); without its binaries, or without root (Postfix's master runs
as root), the test is skipped and says why.
"""

import contextlib
import os
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

from odoo.tests import tagged
from odoo.tools import config

from .dns_server import txt
from .test_mailgate import MailgateCase, free_port

POSTFIX = shutil.which("postfix") or (
    "/usr/sbin/postfix" if os.path.exists("/usr/sbin/postfix") else None
)
POSTQUEUE = shutil.which("postqueue") or "/usr/sbin/postqueue"
POSTSUPER = shutil.which("postsuper") or "/usr/sbin/postsuper"
MASTER_CF = "/usr/share/postfix/master.cf.dist"
SKIP_REASON = (
    "Postfix is not installed (Debian: apt-get install postfix; .ci/run does it)"
    if not (POSTFIX and os.path.exists(MASTER_CF))
    else "a private Postfix needs root (its master process runs as root)"
    if os.geteuid() != 0
    else ""
)
if SKIP_REASON:
    sys.stderr.write(f"test_mailgate_postfix skipped: {SKIP_REASON}\n")

# Postfix listens and relays from here (the mailgate's --relay-networks);
# an outside client connects to Postfix from another loopback address
POSTFIX_ADDRESS = "127.0.0.1"
OUTSIDE_CLIENT = "127.0.0.2"
GATE_NAME = "gate.test"
GATE_OPTIONS = (
    "--hostname",
    GATE_NAME,
    "--relay-networks",
    f"{POSTFIX_ADDRESS}/32",
    "--db_host",
    "127.0.0.1",
    "--log-level",
    "warn",
)


class PrivatePostfix:
    """A throw-away Postfix relaying ``domain`` to the mailgate on ``gate_port``."""

    def __init__(self, folder, port, domain, gate_port):
        self.folder, self.port = folder, port
        self.conf = os.path.join(folder, "conf")
        for name in ("conf", "queue", "data"):
            os.makedirs(os.path.join(folder, name), exist_ok=True)
        shutil.chown(os.path.join(folder, "data"), user="postfix")
        self.write_config(domain, gate_port)

    def write_config(self, domain, gate_port):
        """main.cf and master.cf."""
        folder, port = self.folder, self.port
        main_cf = {
            "compatibility_level": "3.6",
            "myhostname": "mx.mrp-gate.test",
            "mydomain": "mrp-gate.test",
            "mydestination": "",
            "inet_interfaces": POSTFIX_ADDRESS,
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "queue_directory": os.path.join(folder, "queue"),
            "data_directory": os.path.join(folder, "data"),
            "maillog_file": os.path.join(folder, "maillog"),
            "maillog_file_prefixes": folder,
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "smtp_dns_support_level": "disabled",
            # the lines docs/mailgate.rst documents (tests/test_rooms.py): relay
            # the domain to the mailgate and ask it about each recipient during
            # Postfix's own dialogue
            "relay_domains": domain,
            "transport_maps": f"inline:{{ {domain}=smtp:[127.0.0.1]:{gate_port} }}",
            # the original client's address for the mailgate's SPF check; sent
            # only to a server offering XFORWARD (a mailgate with --relay-networks)
            "smtp_send_xforward_command": "yes",
            "smtp_bind_address": POSTFIX_ADDRESS,
            "smtpd_recipient_restrictions": "reject_unauth_destination, "
            "reject_unverified_recipient, permit",
            "unverified_recipient_reject_code": "550",
            "address_verify_poll_count": "10",
            "address_verify_poll_delay": "1s",
            # retry fast: the test waits for the queue to drain
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "smtp_connect_timeout": "2s",
        }
        with open(os.path.join(self.conf, "main.cf"), "w", encoding="utf-8") as handle:
            handle.writelines(f"{key} = {value}\n" for key, value in main_cf.items())
        with open(MASTER_CF, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
        master = []
        for line in lines:
            fields = line.split()
            if line[:1].isalnum() and len(fields) >= 8:
                if fields[0] == "smtp" and fields[1] == "inet":
                    fields[0] = f"{POSTFIX_ADDRESS}:{port}"
                fields[4] = "n"  # no chroot: it would need copies of /etc files
                line = " ".join(fields)
            master.append(line)
        with open(
            os.path.join(self.conf, "master.cf"), "w", encoding="utf-8"
        ) as handle:
            handle.write("\n".join(master) + "\n")

    def run(self, *args, binary=POSTFIX):
        """The command's exit code and output (as ``stdout`` and ``stderr``).
        Output goes to a file, not a pipe: ``postfix start`` leaves a
        ``postsuper`` running in the background, which would hold a pipe
        open for a second and a half after the command is done."""
        with tempfile.TemporaryFile("w+", encoding="utf-8") as output:
            done = subprocess.run(
                [binary, "-c", self.conf, *args],
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=60,
                check=False,
            )
            output.seek(0)
            text = output.read()
        return subprocess.CompletedProcess(done.args, done.returncode, text, text)

    def start(self):
        result = self.run("start")
        if result.returncode:
            raise RuntimeError(f"postfix start failed: {result.stderr}{self.log()}")

    def stop(self):
        self.run("stop")

    def clear(self):
        """An empty queue and log, for the next test."""
        self.run("-d", "ALL", binary=POSTSUPER)
        with contextlib.suppress(OSError):
            # Postfix appends: the file shrinks, its writer goes on
            open(os.path.join(self.folder, "maillog"), "w").close()  # noqa: SIM115

    def queue(self):
        return self.run("-p", binary=POSTQUEUE).stdout

    def flush(self):
        self.run("-f", binary=POSTQUEUE)

    def log(self):
        try:
            with open(
                os.path.join(self.folder, "maillog"), encoding="utf-8", errors="replace"
            ) as handle:
                return handle.read()[-4000:]
        except OSError:
            return ""


class DatabaseLink:
    """The mailgate's way to PostgreSQL: a loopback TCP forwarder the test can
    cut. Cut, the mailgate's database is down for it (its connections reset,
    new ones refused) while the test's own connections stay up."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.port = free_port()
        self.sockets = set()
        self.lock = threading.Lock()
        self.listener = None

    def open(self):
        listener = socket.create_server(("127.0.0.1", self.port))
        listener.settimeout(0.2)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener):
        while self.listener is listener:
            try:
                client, _address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self.lock:
                self.sockets.update((client, server))
            threading.Thread(
                target=self._pump, args=(client, server), daemon=True
            ).start()
            threading.Thread(
                target=self._pump, args=(server, client), daemon=True
            ).start()

    def _pump(self, source, target):
        try:
            with contextlib.suppress(OSError):
                while data := source.recv(65536):
                    target.sendall(data)
        finally:
            self._close(source, target)

    def _close(self, *sockets):
        for sock in sockets:
            with self.lock:
                self.sockets.discard(sock)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def cut(self):
        """The database goes away: every connection is reset, new ones refused."""
        listener, self.listener = self.listener, None
        listener.close()
        with self.lock:
            sockets = list(self.sockets)
        self._close(*sockets)


@tagged("post_install", "-at_install", "mail_routing_policy", "mailgate")
class TestMailgatePostfix(MailgateCase):
    THRESHOLD = 1000

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if SKIP_REASON:
            return
        # one Postfix for the class (starting or reloading one takes
        # seconds), relaying the class's alias domain, which each test
        # creates and removes again; each test starts with an empty queue
        cls.gate_port = free_port()
        cls.DOMAIN = f"gate-postfix-{uuid.uuid4().hex[:8]}.example"
        folder = tempfile.mkdtemp(prefix="mail_routing_gate_postfix_")
        os.chmod(folder, 0o755)  # Postfix's daemons run as user postfix
        cls.addClassCleanup(shutil.rmtree, folder, True)
        cls.postfix = PrivatePostfix(folder, free_port(), cls.DOMAIN, cls.gate_port)
        cls.postfix.start()
        cls.addClassCleanup(cls.postfix.stop)
        # the mailgate's way to PostgreSQL, which the outage test cuts
        cls.link = DatabaseLink(
            (config["db_host"] or "127.0.0.1", int(config["db_port"] or 5432))
        )
        cls.link.open()
        cls.addClassCleanup(cls.link.cut)

    def setUp(self):
        if SKIP_REASON:
            self.skipTest(SKIP_REASON)
        super().setUp()
        self.postfix.clear()
        self.addCleanup(self.postfix.clear)

    def spawn_gates(self, ports, *extra, add_cleanup=None):
        """postscreen's pregreet wait short (0.05 s, not 0.3 s): Postfix
        opens a connection for most deliveries, and the pregreet test is not
        what these tests are about (test_mailgate_limits tests it)."""
        return super().spawn_gates(
            ports, "--pregreet-wait", "0.05", *extra, add_cleanup=add_cleanup
        )

    def gate(self):
        """(process, output) of the class's one gate (starting one loads Odoo
        for seconds), set up as docs/mailgate.rst deploys it behind Postfix:
        its name in Authentication-Results, Postfix's address as a relay
        network (so it offers XFORWARD), and here its database through the
        class's link; on the port Postfix relays to."""
        [gate] = self.shared_gates(
            1, *GATE_OPTIONS, "--db_port", str(self.link.port), ports=[self.gate_port]
        ).values()
        return gate

    def send(self, subjects, sender, pause=0.0, source_address=None):
        with smtplib.SMTP(
            POSTFIX_ADDRESS,
            self.postfix.port,
            timeout=120,
            source_address=source_address,
        ) as client:
            for subject in subjects:
                client.sendmail(
                    sender, [self.alias_address], self.message(sender, subject)
                )
                time.sleep(pause)

    def flush_queue(self):
        """Postfix tries its deferred mail again; wait until none is left."""
        self.postfix.flush()
        self.wait_for(
            lambda: "Mail queue is empty" in self.postfix.queue(),
            180,
            "the queue to drain",
        )

    def wait_for(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                self.fail(
                    "timed out waiting for "
                    f"{what}\nqueue:\n{self.postfix.queue()}\nlog:\n{self.postfix.log()}"
                )
            time.sleep(0.1)

    def test_restart_loses_nothing(self):
        sender = f"flow-{self.tag}@customer.example"
        gate, _output = self.gate()
        # Postfix asks the mailgate during its own dialogue: refused there,
        # so nothing has to be bounced later
        with smtplib.SMTP("127.0.0.1", self.postfix.port, timeout=120) as client:
            client.ehlo("client.example")
            client.mail(sender)
            code, text = client.rcpt(f"nobody{self.tag}@{self.domain}")
            self.assertEqual(code, 550, (text, self.postfix.log()))
            code, text = client.rcpt(f"someone-{self.tag}@elsewhere.example")
            self.assertEqual(code, 554, "Postfix itself is no open relay either")
        # 10 delivered, then 14 sent 0.1 s apart while the gate is killed
        # after 1 s: the last few wait in Postfix's queue
        subjects = [f"Gate {self.tag} {index:03d}" for index in range(24)]
        self.send(subjects[:10], sender)
        self.wait_for(lambda: len(self.partners()) == 10, 120, "the first 10 messages")

        # mail keeps flowing while the mailgate is killed (no clean shutdown)
        flow = threading.Thread(target=self.send, args=(subjects[10:], sender, 0.1))
        flow.start()
        time.sleep(1)
        gate.kill()
        gate.wait()
        type(self).shared = None  # killed here: the next gate is a new one
        flow.join(timeout=300)
        self.wait_for(
            lambda: "Connection refused" in self.postfix.queue(),
            60,
            "deferred mail in the queue",
        )
        delivered_before = len(self.partners())
        self.assertLess(
            delivered_before, len(subjects), "some mail waits in Postfix's queue"
        )

        self.gate()  # the next one, on the same port
        self.flush_queue()
        names = [name for (name,) in self.partners()]
        self.assertEqual(
            sorted(names),
            subjects,
            "every message in Odoo once: none lost, none duplicated",
        )
        # the mailgate's refusal during the probe is in the gateway log
        self.assertIn(
            ("rcpt_unknown", f"nobody{self.tag}@{self.domain}"),
            [(row[0], row[2]) for row in self.rcpt_logs()],
        )

    def test_database_outage_loses_nothing(self):
        """The mailgate's database goes away while mail flows: Postfix keeps
        the messages (``451`` at ``RCPT TO``), the mailgate stays up and, once
        the database is back, reconnects; after a queue flush every message
        is in Odoo once."""
        link = self.link
        self.addCleanup(lambda: link.listener or link.open())  # for the next test
        gate, output = self.gate()
        seen = len(self.gate_log(output))
        sender = f"outage-{self.tag}@customer.example"
        subjects = [f"Gate {self.tag} {index:03d}" for index in range(15)]
        self.send(subjects[:5], sender)
        self.wait_for(lambda: len(self.partners()) == 5, 120, "the first 5 messages")

        link.cut()
        self.send(subjects[5:], sender)
        self.wait_for(
            lambda: "451 4.3.0" in self.postfix.queue(),
            60,
            "mail deferred with 451 in Postfix's queue",
        )
        self.assertEqual(
            len(self.partners()), 5, "nothing delivered while the database is away"
        )
        self.assertIsNone(gate.poll(), "the mailgate stays up")

        link.open()
        self.flush_queue()
        names = [name for (name,) in self.partners()]
        log = self.gate_log(output)[seen:]  # what the gate wrote in this test
        self.assertEqual(
            sorted(names),
            subjects,
            "every message in Odoo once: none lost, none duplicated\n" + log[-3000:],
        )
        self.assertIsNone(gate.poll(), "the same mailgate process delivered them")
        self.assertIn("mailgate: database unreachable, RCPT", log)
        self.assertNotIn(
            "Traceback", log, "an outage is one line per answer, not a traceback"
        )

    def test_xforward_original_client_reaches_spf(self):
        """Behind Postfix (``smtp_send_xforward_command = yes``, its address in
        ``--relay-networks``), SPF judges the client that connected to
        Postfix, not Postfix: a domain authorising that client passes, one
        authorising only Postfix's address fails."""
        original_domain, relay_domain = (
            f"xf-client-{self.tag}.test",
            f"xf-relay-{self.tag}.test",
        )
        self.dns.update(
            {
                (original_domain, "TXT"): [txt(f"v=spf1 ip4:{OUTSIDE_CLIENT} -all")],
                (relay_domain, "TXT"): [txt(f"v=spf1 ip4:{POSTFIX_ADDRESS} -all")],
            }
        )
        self.gate()
        cases = {
            f"Gate {self.tag} spf pass": ("pass", f"ann-{self.tag}@{original_domain}"),
            f"Gate {self.tag} spf fail": ("fail", f"bob-{self.tag}@{relay_domain}"),
        }
        for subject, (_result, sender) in cases.items():
            self.send([subject], sender, source_address=(OUTSIDE_CLIENT, 0))
        self.wait_for(
            lambda: len(self.partners()) == len(cases), 120, "both messages in Odoo"
        )
        for subject, (result, sender) in cases.items():
            [(details,)] = self.query(
                "SELECT gateway_auth_details FROM mail_message WHERE subject = %s",
                [subject],
            )
            self.assertTrue(
                details.startswith(
                    f"{GATE_NAME}; spf={result} smtp.mailfrom={sender};"
                ),
                f"SPF of {OUTSIDE_CLIENT} (the client Postfix forwarded), not of "
                f"{POSTFIX_ADDRESS}: {details}",
            )
        # the outside client really reached Postfix from its own address
        self.assertIn(f"[{OUTSIDE_CLIENT}]", self.postfix.log())
