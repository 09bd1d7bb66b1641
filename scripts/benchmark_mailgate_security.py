# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The mailgate as a public MX: what authentication and the limits per client cost.

Run through ``scripts/bench --only mailgate-security`` (``--only mailgate``
runs it after scripts/benchmark_mailgate.py); writes
benchmarks/mailgate-security-run.json. One database and one run, everything
on loopback and stopped at the end: an Odoo server (XML-RPC: the set-up and
the counts), real ``odoo-bin mailgate`` processes, and the addon's loopback
DNS server (tests/dns_server.py) serving SPF, DKIM keys (RSA 2048) and DMARC
(``p=reject``) of the benchmark's sender domains, named by the database's
``mail.dns.nameservers``. Clients are 127.0.0.x addresses, none of them in
``--relay-networks`` (127.0.0.1/32, used only for the RCPT check rate), so
every default limit per client applies to them.

1. Authentication's cost per message, DNS cache warm: the same stream of
   DKIM-signed messages (each with its own Message-ID) to two mailgates
   running side by side, alternately one message each: ``with`` is the
   mailgate as shipped; ``without`` is the same command started by a
   launcher in this script that replaces ``authenticate_message`` and
   ``GatewayWork.auth_settings`` (the two calls authentication added to the
   delivery) by a pass-through, i.e. the delivery as it was before
   authentication; nothing in the addon changes for it. The SMTP
   transaction (MAIL FROM to the ``250`` after DATA, the commit included)
   is timed by the client. Also timed in this process, cache warm:
   ``authenticate_message``, the hand-over of its verdict to the model
   layer, and for comparison the reading back of the header it writes
   (authres; what processing again from the log does): the known parts,
   without the database and SMTP noise.
2. DNS queries the DNS server received per name and type: during warm-up,
   then per message after it (0 expected: TTLs of an hour); and for a
   domain whose records have a 2 s TTL, 4 clients at once for 8 s: at most
   one query per name and type per TTL.
3. ``RCPT TO`` checks per second of a legitimate session
   (benchmark_mailgate.rcpt_refusal_rates, from the relay 127.0.0.1).
4. A legitimate sender (127.0.0.200, one SMTP session kept open, as an MTA
   caches its connection) sends DKIM-signed messages at a steady pace:
   unloaded, then while 2,000 idle sessions from 100 addresses (127.0.0.10
   to .109, 20 each, after greeting, EHLO and MAIL FROM) are held open and a
   dictionary attack runs (50 addresses, .110 to .159, 2 sessions each,
   distinct unknown local parts, reconnecting whenever the mailgate closes
   a session; the sessions start their first RCPT spread over 10 s, as
   independent bots would, and the measure starts once all of them run),
   then after the load. The attack's sessions are opened before the idle
   ones; with the default ``--max-sessions`` (10000, stress mode from 8000)
   all of them fit, and any refused is counted. The idle sessions
   and the attack run in a child process of their own (asyncio), so that
   the client measuring the legitimate sender shares no interpreter with
   them. RSS of the mailgate process: idle, with the sessions open, the
   peak during the attack.
5. The short-line attack: 12 clients (.160 to .171, each within every
   limit per client) send messages of 30 MiB of 3-byte lines at once, again
   and again, from a child process, while the legitimate sender goes on:
   its p95 against its unloaded p95 of the same run, and the mailgate's RSS
   idle, at its peak and after (the peak must stay within
   ``--max-data-memory`` of idle, the memory come back).
"""
# pylint: disable=print-used  # a command-line tool: prints its report

import asyncio
import collections
import contextlib
import itertools
import json
import math
import multiprocessing
import os
import platform
import resource
import smtplib
import statistics
import subprocess
import threading
import time

# the script's folder is on sys.path: python puts it there
import benchmark_mailgate as base

GATE_NAME = "gate.bench.example"
ALIAS = f"bench@{base.DOMAIN}"
SENDER_DOMAINS = [f"sender{n}.bench-mail.example" for n in range(10)]
SPF_INCLUDE = "_spf.bench-mail.example"
TTL_DOMAIN = "ttl.bench-mail.example"
SELECTOR = "s2048"
ZONE_TTL = 3600
SHORT_TTL = 2

AUTH_CLIENTS = [f"127.0.0.{n}" for n in range(210, 226)]
TTL_CLIENTS = [f"127.0.0.{n}" for n in range(226, 230)]
LEGIT_CLIENT = "127.0.0.200"
PROBE_CLIENT = "127.0.0.201"
IDLE_CLIENTS = [f"127.0.0.{n}" for n in range(10, 110)]
ATTACK_CLIENTS = [f"127.0.0.{n}" for n in range(110, 160)]
SHORT_LINE_CLIENTS = [f"127.0.0.{n}" for n in range(160, 172)]
# the mailgate's default limits per client, which the paces below respect
CLIENT_MESSAGE_RATE = 120  # a minute
MAX_SESSIONS = 10000  # the mailgate's default (not passed)
# seconds over which the attack's sessions send their first RCPT
ATTACK_RAMP = 10.0

BODY = "".join(
    f"Line {n} of a plain text message: the quote, the delivery date and the terms we "
    "agreed on.\r\n"
    for n in range(24)
)

# ``python -c LAUNCHER_WITHOUT_AUTH odoo-bin --addons-path=... mailgate ...``:
# the mailgate command with the two calls authentication added to a delivery
# made pass-throughs (the message goes on unchanged, no settings are read)
LAUNCHER_WITHOUT_AUTH = """
import os, sys
os.environ["TZ"] = "UTC"
import odoo
from odoo.modules import initialize_sys_path
sys.argv = sys.argv[1:]
odoo.tools.config._parse_config([sys.argv[1]])
initialize_sys_path()
from odoo.addons.mail_routing_policy.cli import gateway_work, mail_authentication
def unauthenticated(content, *args, **kwargs):
    return content, None, ""
mail_authentication.authenticate_message = unauthenticated
gateway_work.GatewayWork.auth_settings = lambda self: None
odoo.cli.main()
"""


# ----------------------------------------------------------------------
# figures
# ----------------------------------------------------------------------


def percentile(values, pct):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(pct / 100 * len(ordered))) - 1]


def summary_ms(seconds):
    return {
        "n": len(seconds),
        "p50": statistics.median(seconds) * 1000,
        "p95": percentile(seconds, 95) * 1000,
        "mean": statistics.fmean(seconds) * 1000,
        "max": max(seconds) * 1000,
    }


def cpu_seconds(pid):
    """User + system CPU time of a process (all its threads)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def raise_open_files(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ----------------------------------------------------------------------
# DNS zone and messages
# ----------------------------------------------------------------------


def sender_zone(txt, key_record):
    """``{(name, type): (ttl, [rdata])}``: SPF through an include (loopback
    clients pass), the DKIM key and DMARC ``p=reject`` of every sender
    domain; the same for TTL_DOMAIN with a TTL of SHORT_TTL seconds."""
    zone = {(SPF_INCLUDE, "TXT"): (ZONE_TTL, [txt("v=spf1 ip4:127.0.0.0/24 -all")])}
    for domain in SENDER_DOMAINS:
        zone[(domain, "TXT")] = (ZONE_TTL, [txt(f"v=spf1 include:{SPF_INCLUDE} -all")])
        zone[(f"{SELECTOR}._domainkey.{domain}", "TXT")] = (ZONE_TTL, [txt(key_record)])
        zone[(f"_dmarc.{domain}", "TXT")] = (ZONE_TTL, [txt("v=DMARC1; p=reject")])
    zone[(TTL_DOMAIN, "TXT")] = (SHORT_TTL, [txt("v=spf1 ip4:127.0.0.0/24 -all")])
    zone[(f"{SELECTOR}._domainkey.{TTL_DOMAIN}", "TXT")] = (
        SHORT_TTL,
        [txt(key_record)],
    )
    zone[(f"_dmarc.{TTL_DOMAIN}", "TXT")] = (SHORT_TTL, [txt("v=DMARC1; p=reject")])
    return zone


def query_counts(dns, names):
    return {f"{name} {rdtype}": dns.query_count(name, rdtype) for name, rdtype in names}


class Senders:
    """DKIM-signed messages of the sender domains (tests/test_mail_auth.py's
    ``sign``)."""

    def __init__(self, auth_helpers, private_key):
        self.sign = auth_helpers.sign
        self.key = private_key

    def message(self, domain, tag, index):
        """``(envelope sender, signed message)``; a Message-ID of its own."""
        raw = (
            f"From: Person {index} <person{index}@{domain}>\r\nTo: {ALIAS}\r\nSubject: "
            f"{tag} {index}\r\n"
            f"Message-ID: <{tag}-{index}-{time.time_ns()}@{domain}>\r\n"
            "Date: Sun, 29 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; "
            "charset=utf-8\r\n\r\n" + BODY
        ).encode()
        return f"bounce{index}@{domain}", self.sign(raw, SELECTOR, domain, self.key)


def connect(port, source):
    client = smtplib.SMTP("127.0.0.1", port, timeout=120, source_address=(source, 0))
    client.ehlo(f"mx.{source}.bench-mail.example")
    return client


def transaction(client, mail_from, raw):
    """``(seconds, codes)`` of MAIL FROM, RCPT TO and DATA (to the reply after
    the dot)."""
    start = time.perf_counter()
    codes = [client.mail(mail_from)[0]]
    if codes[-1] == 250:
        codes.append(client.rcpt(ALIAS)[0])
    if codes[-1] == 250:
        try:
            codes.append(client.data(raw)[0])
        except smtplib.SMTPDataError as error:
            codes.append(error.smtp_code)
    elapsed = time.perf_counter() - start
    if codes != [250, 250, 250]:
        # the mailgate closed the session: the next transaction fails too, and is
        # counted
        with contextlib.suppress(smtplib.SMTPException):
            client.rset()
    return elapsed, tuple(codes)


# ----------------------------------------------------------------------
# 1-2: authentication's cost, DNS queries
# ----------------------------------------------------------------------


def measure_authentication(ports, senders, count, warm):
    """Latencies of the same stream through both mailgates, alternating."""
    sessions = {
        side: [connect(port, source) for source in AUTH_CLIENTS]
        for side, port in ports.items()
    }
    subjects = {}

    def send(side, tag, index):
        domain = SENDER_DOMAINS[index % len(SENDER_DOMAINS)]
        mail_from, raw = senders.message(domain, f"{tag}-{side}", index)
        elapsed, codes = transaction(
            sessions[side][index % len(AUTH_CLIENTS)], mail_from, raw
        )
        assert codes == (250, 250, 250), (side, codes)
        subjects[side] = f"{tag}-{side} {index}"
        return elapsed

    try:
        for index in range(warm):
            for side in ports:
                send(side, "warm", index)
        yield subjects  # warm: the caller snapshots the DNS counts
        latencies = {side: [] for side in ports}
        for index in range(count):
            # alternate which side goes first: noise and order hit both alike
            for side in list(ports)[:: 1 if index % 2 == 0 else -1]:
                latencies[side].append(send(side, "auth", index))
        yield latencies
    finally:
        for clients in sessions.values():
            for client in clients:
                client.quit()


def time_in_process(dns, senders, count):
    """``authenticate_message`` (what the mailgate runs before its
    transaction) in this process, on a resolver of the same DNS server
    warmed first: seconds per call, and queries sent while timing. Also the
    hand-over of the verdict to the model layer (the facts, and the check
    that the message's topmost header is the one written, as
    ``mail.thread._routing_authentication`` does on the mailgate's path),
    and the reading back of that header (authres), which processing again
    from the log pays."""
    from odoo.addons.mail_routing_policy.cli import mail_authentication
    from odoo.addons.mail_routing_policy.tools import mail_auth, mail_dns
    from odoo.addons.mail_routing_policy.tools.incoming import auth_policy

    settings = mail_authentication.AuthSettings(
        nameservers=mail_dns.parse_nameservers(dns.nameservers)
    )
    messages = [
        senders.message(SENDER_DOMAINS[index % len(SENDER_DOMAINS)], "inproc", index)
        for index in range(count)
    ]

    def authenticate(mail_from, raw):
        return mail_authentication.authenticate_message(
            raw,
            AUTH_CLIENTS[0],
            "mx.bench-mail.example",
            mail_from,
            GATE_NAME,
            settings,
        )

    for mail_from, raw in messages[: len(SENDER_DOMAINS)]:
        authenticate(mail_from, raw)  # the cache warm
    before = dns.total_queries
    seconds = []
    for mail_from, raw in messages:
        start = time.perf_counter()
        _stamped, verdict, written = authenticate(mail_from, raw)
        seconds.append(time.perf_counter() - start)
    results = (
        verdict.spf.result,
        [signature.result for signature in verdict.dkim],
        verdict.dmarc.result,
    )
    assert results == ("pass", ["pass"], "pass"), results
    queries = dns.total_queries - before
    header = [verdict.header_value(GATE_NAME)]
    handed, read = [], []
    for _message in messages:
        start = time.perf_counter()
        facts = auth_policy.facts_from_results(verdict, written)
        assert mail_auth.same_header_value(header[0], written)
        handed.append(time.perf_counter() - start)
        start = time.perf_counter()
        read_facts = auth_policy.facts_from_results(
            mail_auth.read_results(header, {GATE_NAME})
        )
        read.append(time.perf_counter() - start)
    assert facts.summary == read_facts.summary == "pass", (
        facts.summary,
        read_facts.summary,
    )
    return seconds, handed, read, queries


def measure_short_ttl(port, senders, dns, seconds):
    """Messages of TTL_DOMAIN (TTL SHORT_TTL) from 4 clients at once for
    ``seconds``: queries per name and type against the bound."""
    names = [
        (TTL_DOMAIN, "TXT"),
        (f"{SELECTOR}._domainkey.{TTL_DOMAIN}", "TXT"),
        (f"_dmarc.{TTL_DOMAIN}", "TXT"),
    ]
    before = query_counts(dns, names)
    sent, failed = [], []

    def client_loop(source, deadline):
        with connect(port, source) as client:
            index = 0
            while time.monotonic() < deadline:
                mail_from, raw = senders.message(TTL_DOMAIN, f"ttl-{source}", index)
                _elapsed, codes = transaction(client, mail_from, raw)
                (sent if codes == (250, 250, 250) else failed).append(codes)
                index += 1

    start = time.monotonic()
    threads = [
        threading.Thread(target=client_loop, args=(source, start + seconds))
        for source in TTL_CLIENTS
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    after = query_counts(dns, names)
    queries = {name: after[name] - before[name] for name in after}
    bound = math.floor(elapsed / SHORT_TTL) + 1
    return {
        "ttl_seconds": SHORT_TTL,
        "seconds": elapsed,
        "clients_at_once": len(TTL_CLIENTS),
        "messages": len(sent),
        "failed": len(failed),
        "queries_by_name": queries,
        "bound_per_name": bound,
        "within_bound": max(queries.values()) <= bound,
    }


# ----------------------------------------------------------------------
# 4: idle sessions and a dictionary attack (child process, asyncio)
# ----------------------------------------------------------------------


async def _reply(reader):
    """The code of one (multi-line) SMTP reply."""
    while True:
        line = await reader.readline()
        if not line.endswith(b"\n"):
            raise ConnectionResetError("closed by the mailgate")
        if line[3:4] != b"-":
            return int(line[:3])


async def _command(reader, writer, line):
    writer.write(line.encode() + b"\r\n")
    await writer.drain()
    return await _reply(reader)


async def open_session(port, source, name):
    """``(reader, writer, 250)`` after the greeting (waited for in full),
    EHLO and MAIL FROM; ``(None, None, code)`` when refused (0: closed)."""
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, local_addr=(source, 0)
    )
    code = 0
    # a refused or closed session: the code says why
    with contextlib.suppress(ConnectionError, OSError):
        code = await _reply(reader)
        if code == 220:
            code = await _command(reader, writer, f"EHLO {name}")
        if code == 250:
            code = await _command(
                reader, writer, f"MAIL FROM:<{name.split('.')[0]}@{name}>"
            )
        if code == 250:
            return reader, writer, code
    writer.close()
    return None, None, code


class Attack:
    """A dictionary attack: RCPT TO of distinct unknown local parts over
    sessions that reconnect whenever the mailgate closes them."""

    def __init__(self, port, domain, local_parts=0):
        self.port, self.domain, self.local_parts = port, domain, local_parts
        self.replies = collections.Counter()
        self.refused = collections.Counter()  # connections not served, by reply code
        self.sessions = 0
        self.guesses = itertools.count()
        self.stop = asyncio.Event()
        self.started = self.stopped = None

    async def open(self, source, number):
        try:
            reader, writer, code = await open_session(
                self.port, source, f"bot{number}.{source}.example"
            )
        except OSError as error:
            reader, writer, code = None, None, type(error).__name__
        if reader is None:
            self.refused[str(code)] += 1
            return None
        self.sessions += 1
        return reader, writer

    async def run(self, source, number, session, delay):
        await asyncio.sleep(delay)
        while not self.stop.is_set():
            if session is None:
                session = await self.open(source, number)
                if session is None:
                    await asyncio.sleep(0.5)
                    continue
            reader, writer = session
            try:
                while not self.stop.is_set():
                    guess = next(self.guesses)
                    if self.local_parts:
                        guess %= self.local_parts
                    code = await _command(
                        reader, writer, f"RCPT TO:<user{guess}@{self.domain}>"
                    )
                    self.replies[str(code)] += 1
                    if code == 421:
                        break
            except (ConnectionError, OSError):
                self.replies["closed"] += 1
            finally:
                writer.close()
                session = None


async def _load(
    conn, port, domain, idle_per_client, attack_per_client, ramp, local_parts
):
    loop = asyncio.get_running_loop()

    async def receive():
        return await loop.run_in_executor(None, conn.recv)

    attack = Attack(port, domain, local_parts)
    slots = [(source, n) for n in range(attack_per_client) for source in ATTACK_CLIENTS]
    first = await asyncio.gather(*(attack.open(source, n) for source, n in slots))
    attack_opened = attack.sessions

    # the idle sessions, 200 handshakes at a time (each waits out the pregreet test)
    gate = asyncio.Semaphore(200)
    start = time.monotonic()

    async def idle(source, n):
        async with gate:
            try:
                return await open_session(port, source, f"idle{n}.{source}.example")
            except OSError as error:
                return None, None, type(error).__name__

    opened = await asyncio.gather(
        *(idle(source, n) for n in range(idle_per_client) for source in IDLE_CLIENTS)
    )
    idle_sessions = [
        (reader, writer) for reader, writer, _code in opened if reader is not None
    ]
    conn.send(
        {
            "attack_sessions_opened": attack_opened,
            "idle_attempted": len(opened),
            "idle_accepted": len(idle_sessions),
            "idle_refused_by_reply": dict(
                collections.Counter(str(code) for r, _w, code in opened if r is None)
            ),
            "idle_open_seconds": time.monotonic() - start,
        }
    )
    assert await receive() == "go"
    attack.started = time.monotonic()
    workers = [
        asyncio.create_task(attack.run(source, n, session, ramp * index / len(slots)))
        for index, ((source, n), session) in enumerate(zip(slots, first, strict=True))
    ]
    assert await receive() == "stop"
    attack.stop.set()
    attack.stopped = time.monotonic()
    await asyncio.wait(workers, timeout=10)
    for worker in workers:
        worker.cancel()
    await asyncio.sleep(0.1)
    rcpts = sum(count for code, count in attack.replies.items() if code != "closed")
    conn.send(
        {
            "attack_seconds": attack.stopped - attack.started,
            "attack_rcpt_replies": dict(attack.replies),
            "attack_rcpt_per_second": rcpts / (attack.stopped - attack.started),
            "attack_sessions_served": attack.sessions,
            "attack_connections_refused_by_reply": dict(attack.refused),
            "idle_still_open": sum(
                1 for reader, _writer in idle_sessions if not reader.at_eof()
            ),
        }
    )
    assert await receive() == "close"
    for _reader, writer in idle_sessions:
        writer.close()
    await asyncio.sleep(0.5)
    conn.send("closed")


def load_child(
    conn, port, domain, idle_per_client, attack_per_client, ramp, local_parts
):
    """The idle sessions and the attack, in a process of their own."""
    raise_open_files(
        len(IDLE_CLIENTS) * idle_per_client
        + len(ATTACK_CLIENTS) * attack_per_client
        + 256
    )
    asyncio.run(
        _load(conn, port, domain, idle_per_client, attack_per_client, ramp, local_parts)
    )


def receive(conn, timeout=600):
    if not conn.poll(timeout):
        raise SystemExit("the load process did not answer")
    return conn.recv()


class RssSampler(threading.Thread):
    """The mailgate's RSS every half second: the peak of a phase."""

    def __init__(self, pid, every=0.5):
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, threading.Event()
        self.every = every

    def run(self):
        while not self.done.wait(self.every):
            self.peak = max(self.peak, base.rss_kib(self.pid))


def legit_latencies(client, senders, interval, domain, tag, count):
    """The legitimate sender's transactions at its steady pace: their
    latencies, and the failures by reply codes."""
    latencies, failures = [], collections.Counter()
    start = time.monotonic()
    for index in range(count):
        delay = start + index * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        mail_from, raw = senders.message(domain, f"legit-{tag}", index)
        elapsed, codes = transaction(client, mail_from, raw)
        if codes == (250, 250, 250):
            latencies.append(elapsed)
        else:
            failures[" ".join(map(str, codes))] += 1
    return latencies, dict(failures)


def short_line_child(conn, port, mib):
    """12 clients sending 3-byte lines until told to stop; the replies."""
    stop, replies, lock = threading.Event(), collections.Counter(), threading.Lock()
    chunk = b"ab\r\n" * (64 * 1024 // 4)

    def client(source):
        while not stop.is_set():
            try:
                with smtplib.SMTP(
                    "127.0.0.1", port, timeout=120, source_address=(source, 0)
                ) as smtp:
                    smtp.ehlo(f"mx.{source}.bench-mail.example")
                    smtp.mail(f"lines@{SENDER_DOMAINS[1]}")
                    smtp.rcpt(ALIAS)
                    if smtp.docmd("DATA")[0] != 354:
                        continue
                    with contextlib.suppress(OSError):
                        for _chunk in range(mib * 16):
                            smtp.sock.sendall(chunk)
                        smtp.sock.sendall(b".\r\n")
                    code = smtp.getreply()[0]
            except (OSError, smtplib.SMTPException) as error:
                code = type(error).__name__
            with lock:
                replies[str(code)] += 1

    threads = [threading.Thread(target=client, args=(s,)) for s in SHORT_LINE_CLIENTS]
    for thread in threads:
        thread.start()
    conn.recv()  # "stop"
    stop.set()
    for thread in threads:
        thread.join(300)
    conn.send(dict(replies))


def measure_short_lines(args, gate, port, senders):
    """The legitimate sender unloaded and during the short-line attack; RSS."""
    domain, interval = SENDER_DOMAINS[0], args.legit_interval
    client = connect(port, LEGIT_CLIENT)
    figures = {"attack_message_mib": args.short_line_mib}
    try:
        unloaded, figures["legit_failures_unloaded"] = legit_latencies(
            client,
            senders,
            interval,
            domain,
            "lines-unloaded",
            args.short_line_messages,
        )
        time.sleep(1)
        figures["rss_idle_kib"] = base.rss_kib(gate.pid)
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(
            target=short_line_child,
            args=(child, port, args.short_line_mib),
            daemon=True,
        )
        sampler = RssSampler(gate.pid, every=0.05)
        sampler.start()
        process.start()
        try:
            time.sleep(2)  # every client sending
            loaded, figures["legit_failures_loaded"] = legit_latencies(
                client,
                senders,
                interval,
                domain,
                "lines-loaded",
                args.short_line_messages,
            )
            parent.send("stop")
            figures["attack_replies"] = receive(parent)
        finally:
            process.join(60)
            if process.is_alive():
                process.kill()
                process.join()
        sampler.done.set()
        sampler.join()
        figures["rss_peak_kib"] = sampler.peak
        deadline = time.monotonic() + 20
        while (
            base.rss_kib(gate.pid) > 1.1 * figures["rss_idle_kib"]
            and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        figures["rss_after_kib"] = base.rss_kib(gate.pid)
    finally:
        client.quit()
    cap_kib = 1024 * 1024  # --max-data-memory's default, MiB
    legit = {"unloaded": summary_ms(unloaded), "loaded": summary_ms(loaded)}
    return {
        "legit_ms": legit,
        "p95_loaded_over_unloaded": legit["loaded"]["p95"] / legit["unloaded"]["p95"],
        "target_p95_ratio": 2.0,
        "max_data_memory_kib": cap_kib,
        "rss_peak_over_idle_kib": figures["rss_peak_kib"] - figures["rss_idle_kib"],
        "rss_peak_within_cap": figures["rss_peak_kib"] - figures["rss_idle_kib"]
        <= cap_kib,
        "rss_after_over_idle": figures["rss_after_kib"] / figures["rss_idle_kib"],
        **figures,
    }


def measure_load(args, gate, port, senders, call):
    """The legitimate sender unloaded, loaded and after; the load's figures; RSS."""
    interval = args.legit_interval
    domain = SENDER_DOMAINS[0]
    figures = {}

    def legit_phase(client, tag, count):
        return legit_latencies(client, senders, interval, domain, tag, count)

    latencies = {}
    client = connect(port, LEGIT_CLIENT)
    try:
        cpu_before, start = cpu_seconds(gate.pid), time.monotonic()
        latencies["unloaded"], figures["legit_failures_unloaded"] = legit_phase(
            client, "unloaded", args.legit_messages
        )
        figures["mailgate_cpu_percent_unloaded"] = (
            100 * (cpu_seconds(gate.pid) - cpu_before) / (time.monotonic() - start)
        )
        figures["rss_idle_kib"] = base.rss_kib(gate.pid)

        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(
            target=load_child,
            args=(
                child,
                port,
                base.DOMAIN,
                args.idle_per_client,
                args.attack_sessions_per_client,
                ATTACK_RAMP,
                args.attack_local_parts,
            ),
            daemon=True,
        )
        process.start()
        try:
            opened = receive(parent)
            figures.update(opened)
            time.sleep(1)
            figures["rss_sessions_open_kib"] = base.rss_kib(gate.pid)
            sessions = opened["idle_accepted"] + opened["attack_sessions_opened"]
            figures["rss_per_open_session_kib"] = (
                figures["rss_sessions_open_kib"] - figures["rss_idle_kib"]
            ) / sessions
            # a sender arriving now: the server is full
            try:
                with smtplib.SMTP(
                    "127.0.0.1", port, timeout=30, source_address=(PROBE_CLIENT, 0)
                ) as probe:
                    figures["new_connection_while_full"] = "220 (served)"
                    probe.noop()
            except smtplib.SMTPConnectError as error:
                figures["new_connection_while_full"] = (
                    f"{error.smtp_code} {error.smtp_error.decode()}"
                )
            logs_before = call("mail.gateway.log", "search_count", [])
            sampler = RssSampler(gate.pid)
            sampler.start()
            parent.send("go")
            time.sleep(ATTACK_RAMP + 1)  # every attack session under way
            cpu_before, start = cpu_seconds(gate.pid), time.monotonic()
            latencies["loaded"], figures["legit_failures_loaded"] = legit_phase(
                client, "loaded", args.legit_messages
            )
            figures["mailgate_cpu_percent_loaded"] = (
                100 * (cpu_seconds(gate.pid) - cpu_before) / (time.monotonic() - start)
            )
            parent.send("stop")
            figures.update(receive(parent))
            sampler.done.set()
            sampler.join()
            figures["rss_peak_loaded_kib"] = max(
                sampler.peak, figures["rss_sessions_open_kib"]
            )
            parent.send("close")
            receive(parent)
        finally:
            process.join(30)
            if process.is_alive():
                process.kill()
                process.join()
        time.sleep(2.5)  # the refusal log is written once a second
        figures["gateway_log_entries_during_attack"] = (
            call("mail.gateway.log", "search_count", []) - logs_before
        )
        figures["rss_after_load_kib"] = base.rss_kib(gate.pid)
        figures["rss_peak_of_the_run_kib"] = base.rss_kib(gate.pid, "VmHWM")
        latencies["after"], figures["legit_failures_after"] = legit_phase(
            client, "after", args.legit_messages // 2
        )
    finally:
        client.quit()
    return latencies, figures


# ----------------------------------------------------------------------
# main
# ----------------------------------------------------------------------


# the measured sizes: option, type, default, help
OPTIONS = (
    ("--auth-messages", int, 300, "measured messages per side"),
    ("--auth-warm", int, 2 * len(AUTH_CLIENTS), None),
    ("--in-process", int, 500, "authenticate_message calls timed"),
    ("--ttl-seconds", float, 8.0, None),
    ("--refusals", int, 3000, None),
    ("--legit-messages", int, 100, "per phase"),
    ("--legit-interval", float, 0.6, "seconds between a sender's messages"),
    ("--idle-per-client", int, 20, None),
    ("--short-line-mib", int, 30, "MiB a short-line message"),
    (
        "--short-line-messages",
        int,
        40,
        "legitimate messages per phase of the short-line attack",
    ),
    ("--attack-sessions-per-client", int, 2, None),
    (
        "--attack-local-parts",
        int,
        0,
        "unknown local parts the attack cycles through (0: every guess a new "
        "one, as a dictionary attack)",
    ),
)


def main():
    parser = base.mailgate_parser(__doc__.splitlines()[0])
    for option, kind, default, help_text in OPTIONS:
        parser.add_argument(option, type=kind, default=default, help=help_text)
    parser.add_argument(
        "--short-lines-only",
        action="store_true",
        help="only the short-line attack (5.), for a quick look",
    )
    args, _rest = parser.parse_known_args()
    if args.legit_interval < 60 / (0.9 * CLIENT_MESSAGE_RATE):
        parser.error(
            "--legit-interval: the sender would exceed the default message rate of its "
            "address"
        )
    raise_open_files(len(IDLE_CLIENTS) * args.idle_per_client + 1024)

    dns_server, auth_helpers = base.load_test_helpers(args.addons_path)
    private_key, key_record = auth_helpers.rsa_key(2048)
    senders = Senders(auth_helpers, private_key)
    zone = sender_zone(dns_server.txt, key_record)
    dns = dns_server.DnsTestServer(zone, host="127.0.0.1").start()
    http_port, with_port, without_port = (
        base.free_port(),
        base.free_port(),
        base.free_port(),
    )
    relay = ("--relay-networks", base.RELAY_NETWORK, "--hostname", GATE_NAME)
    server = base.start_server(args, http_port)
    gate = subprocess.Popen(base.gate_command(args, with_port, *relay))
    without_command = base.gate_command(args, without_port, *relay)
    without_command[1:1] = ["-c", LAUNCHER_WITHOUT_AUTH]
    gate_without = subprocess.Popen(without_command)
    results = {
        "date": time.strftime("%Y-%m-%d"),
        "python": platform.python_version(),
        "cores": os.cpu_count(),
    }
    try:
        base.wait_port(http_port, server)
        base.wait_port(with_port, gate)
        base.wait_port(without_port, gate_without)
        _uid, call = base.setup(f"http://127.0.0.1:{http_port}", args.db, args.password)
        call(
            "ir.config_parameter", "set_param", "mail.dns.nameservers", dns.nameservers
        )
        names = [key for key in zone if not key[0].endswith(TTL_DOMAIN)]

        if not args.short_lines_only:
            # 1-2: authentication's cost, DNS queries per message
            steps = measure_authentication(
                {"with": with_port, "without": without_port},
                senders,
                args.auth_messages,
                args.auth_warm,
            )
            subjects = next(steps)
            warm_queries = query_counts(dns, names)
            warm_total = dns.total_queries
            latencies = next(steps)
            steps.close()
            measured_queries = dns.total_queries - warm_total
            verdicts = {
                side: call(
                    "mail.message",
                    "search_read",
                    [("subject", "=", subject)],
                    ["gateway_auth_result"],
                )
                for side, subject in subjects.items()
            }
            base.stop_processes(gate_without)
            with_ms, without_ms = (
                summary_ms(latencies["with"]),
                summary_ms(latencies["without"]),
            )
            paired = [
                a - b
                for a, b in zip(latencies["with"], latencies["without"], strict=True)
            ]
            in_process, handed_over, results_read, in_process_queries = time_in_process(
                dns, senders, args.in_process
            )
            in_process_ms = summary_ms(in_process)
            results["authentication"] = {
                "messages_per_side": args.auth_messages,
                "message_bytes": len(senders.message(SENDER_DOMAINS[0], "size", 0)[1]),
                "with_ms": with_ms,
                "without_ms": without_ms,
                "added_ms_median": with_ms["p50"] - without_ms["p50"],
                "added_ms_median_of_pairs": statistics.median(paired) * 1000,
                "added_ms_mean": with_ms["mean"] - without_ms["mean"],
                "in_process_authenticate_message_ms": in_process_ms,
                "in_process_verdict_handover_ms": summary_ms(handed_over),
                "in_process_results_read_ms": summary_ms(results_read),
                "in_process_dns_queries": in_process_queries,
                "target_added_ms_median": 5.0,
                "gateway_auth_result_posted": {
                    side: (found[0]["gateway_auth_result"] if found else None)
                    for side, found in verdicts.items()
                },
            }
            results["dns"] = {
                "queries_during_warm_up_by_name": warm_queries,
                "queries_during_warm_up_total": warm_total,
                "messages_authenticated_after_warm_up": args.auth_messages,
                "queries_after_warm_up": measured_queries,
                "short_ttl": measure_short_ttl(
                    with_port, senders, dns, args.ttl_seconds
                ),
            }

            # 3: RCPT checks of a legitimate session (a relay: no tarpit)
            results["rcpt"] = base.rcpt_refusal_rates(with_port, args.refusals)
            results["rcpt"]["target_per_second"] = 500

            # 4: a legitimate sender while idle sessions and an attack run
            before = dns.total_queries
            load_latencies, figures = measure_load(args, gate, with_port, senders, call)
            queries = dns.total_queries - before
            legit = {
                phase: summary_ms(values) for phase, values in load_latencies.items()
            }
            results["load"] = {
                "legit_ms": legit,
                "p95_loaded_over_unloaded": legit["loaded"]["p95"]
                / legit["unloaded"]["p95"],
                "p50_loaded_over_unloaded": legit["loaded"]["p50"]
                / legit["unloaded"]["p50"],
                "target_p95_ratio": 2.0,
                "legit_interval_seconds": args.legit_interval,
                "idle_clients": len(IDLE_CLIENTS),
                "attack_clients": len(ATTACK_CLIENTS),
                "attack_sessions_per_client": args.attack_sessions_per_client,
                "attack_local_parts": args.attack_local_parts or "all distinct",
                "max_sessions": MAX_SESSIONS,
                **{
                    key: value
                    for key, value in figures.items()
                    if not key.startswith("rss_")
                },
                "dns_queries_during_load_phases": queries,
            }
            results["memory"] = {
                key: value for key, value in figures.items() if key.startswith("rss_")
            }
            legit_messages = sum(len(values) for values in load_latencies.values())
            results["dns"]["queries_per_message_after_warm_up"] = (
                measured_queries + queries
            ) / (args.auth_messages + legit_messages)
            results["notes"] = [
                "all clients 127.0.0.x outside --relay-networks (127.0.0.1/32) get the "
                "default limits per client; "
                "the RCPT check rate is measured from 127.0.0.1, a relay exempt from "
                "the limits (no tarpit)",
                "authentication 'without': the same mailgate command started with "
                "authenticate_message and "
                "GatewayWork.auth_settings replaced by pass-throughs (benchmark "
                "launcher; the addon has no switch)",
                "latencies: MAIL FROM to the 250 after DATA (authentication, "
                "message_process and its commit), "
                "timed by the client on a kept session",
                "the attack's sessions are opened before the idle ones; with the "
                "default --max-sessions (10000, "
                "stress mode from 8000) all fit; the legitimate sender keeps the "
                "session it opened before",
            ]

        # 5: the short-line attack
        results["short_lines"] = measure_short_lines(args, gate, with_port, senders)
    finally:
        base.stop_processes(gate, gate_without, server)
        dns.stop()

    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=2)
    lines = results["short_lines"]
    short_rows = [
        (
            "short-line attack: legit p95 loaded / unloaded (target <= 2)",
            f"{lines['p95_loaded_over_unloaded']:.2f}",
        ),
        (
            "short-line attack: RSS idle / peak / after",
            "{rss_idle_kib} / {rss_peak_kib} / {rss_after_kib} KiB".format(**lines),
        ),
    ]
    if args.short_lines_only:
        base.print_table(short_rows)
        return
    auth, load, memory = results["authentication"], results["load"], results["memory"]
    ms = "{p50:.1f} / {p95:.1f} ms".format
    base.print_table(
        [
            ("delivery with authentication, p50 / p95", ms(**auth["with_ms"])),
            ("delivery without authentication, p50 / p95", ms(**auth["without_ms"])),
            (
                "authentication added, median (target <= 5 ms)",
                f"{auth['added_ms_median']:.2f} ms",
            ),
            (
                "authentication added, median of pairs",
                f"{auth['added_ms_median_of_pairs']:.2f} ms",
            ),
            (
                "authenticate_message in process, p50 / p95",
                ms(**auth["in_process_authenticate_message_ms"]),
            ),
            (
                "its verdict handed to the model layer, p50 / p95",
                ms(**auth["in_process_verdict_handover_ms"]),
            ),
            (
                "its header read back (processing again), p50 / p95",
                ms(**auth["in_process_results_read_ms"]),
            ),
            (
                "DNS queries per message after warm-up (target 0)",
                f"{results['dns']['queries_per_message_after_warm_up']:.3f}",
            ),
            (
                "RCPT checks per second, one session (target >= 500)",
                f"{results['rcpt']['rcpt_refusals_per_second']:.0f}",
            ),
            ("legit sender unloaded, p50 / p95", ms(**load["legit_ms"]["unloaded"])),
            ("legit sender loaded, p50 / p95", ms(**load["legit_ms"]["loaded"])),
            (
                "p95 loaded / unloaded (target <= 2)",
                f"{load['p95_loaded_over_unloaded']:.2f}",
            ),
            (
                "idle sessions accepted / attempted",
                f"{load['idle_accepted']} / {load['idle_attempted']}",
            ),
            ("attack RCPT replies per second", f"{load['attack_rcpt_per_second']:.0f}"),
            (
                "mailgate RSS idle / sessions open / peak",
                "{rss_idle_kib} / {rss_sessions_open_kib} / {rss_peak_loaded_kib}"
                " KiB".format(**memory),
            ),
            (
                "mailgate RSS per open session",
                f"{memory['rss_per_open_session_kib']:.1f} KiB",
            ),
        ]
        + short_rows
    )


if __name__ == "__main__":
    main()
