# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The mailgate vs. core's odoo-mailgate.py, same database, same messages.

Run through ``scripts/bench --only mailgate``. Starts an Odoo server (HTTP,
XML-RPC) and the mailgate (``odoo-bin mailgate``) on loopback against one
database, then delivers the same stream of new-record messages:

* **core**: core's ``addons/mail/static/scripts/odoo-mailgate.py`` is
  Python 2 only; its logic is ported here line for line (``xmlrpc.client``,
  ``execute_kw(db, uid, password, 'mail.thread', 'message_process',
  [False, Binary(msg)], {})``). Measured twice: as an MTA pipe runs it (one
  Python process per message) and as calls from one process (no process
  start: the best case for core).
* **mailgate**: the same messages over one SMTP session (smtplib), each
  answered 250 only after its transaction committed.

Then RCPT TO refusals per second over one session (unknown local parts,
folded in memory: the gateway log gets one entry per distinct refusal).

The client is 127.0.0.1 and the mailgate runs with ``--relay-networks
127.0.0.1/32``: the client is a trusted relay (as Postfix in front would be),
exempt from the limits per client. Without it, the benchmark would measure
the limits, not the mailgate: 120 messages a minute per client, 300
recipients, and a session sending 550s tarpitted (1 s per reply) after 10
errors and closed at 20. scripts/benchmark_mailgate_security.py measures the
mailgate with those limits, as a public MX.

Every delivery is authenticated (SPF, DKIM, DMARC, ARC) against a loopback
DNS server (tests/dns_server.py) that the database's
``mail.dns.nameservers`` names: SPF ``pass`` and DMARC ``p=none`` for the
benchmark's senders, unsigned, answered from the mailgate's warm cache.
"""
# pylint: disable=print-used  # a command-line tool: prints its report

import argparse
import importlib
import json
import os
import smtplib
import socket
import subprocess
import sys
import threading
import time
import types
import xmlrpc.client

CORE_MAILGATE_PY3 = """
import sys, xmlrpc.client
msg = sys.stdin.buffer.read()
url = 'http://%s:%s/xmlrpc/2/object' % (sys.argv[1], sys.argv[2])
models = xmlrpc.client.ServerProxy(url, allow_none=True)
models.execute_kw(sys.argv[3], int(sys.argv[4]), sys.argv[5], 'mail.thread',
                  'message_process', [False, xmlrpc.client.Binary(msg)], {})
"""

DOMAIN = "bench-gate.example"
# the benchmark's SMTP client: a trusted relay of the mailgate (see above)
RELAY_NETWORK = "127.0.0.1/32"
CUSTOMER_DOMAINS = ["customer.example"] + [f"customer{n}.example" for n in range(20)]


def load_test_helpers(addons_path):
    """``(dns_server, test_mail_auth)``: the addon's loopback DNS server and
    DKIM helpers (tests/), from the addons path the mailgate runs. The tests
    package's ``__init__`` is not run: it imports every test module (browser
    tours, Postfix, hypothesis), the benchmark needs only these two."""
    import odoo
    from odoo.modules import initialize_sys_path

    odoo.tools.config._parse_config([f"--addons-path={addons_path}"])
    initialize_sys_path()
    addon = importlib.import_module("odoo.addons.mail_routing_policy")
    name = "odoo.addons.mail_routing_policy.tests"
    if name not in sys.modules:
        package = types.ModuleType(name)
        package.__path__ = [os.path.join(os.path.dirname(addon.__file__), "tests")]
        sys.modules[name] = package
    # odoo.tests logs an error with a stack when imported outside a test run
    test_enable, odoo.tools.config["test_enable"] = (
        odoo.tools.config["test_enable"],
        True,
    )
    try:
        return importlib.import_module(f"{name}.dns_server"), importlib.import_module(
            f"{name}.test_mail_auth"
        )
    finally:
        odoo.tools.config["test_enable"] = test_enable


def customer_zone(txt):
    """SPF (loopback clients pass) and DMARC ``p=none`` of the senders of
    :func:`message`."""
    zone = {}
    for domain in CUSTOMER_DOMAINS:
        zone[(domain, "TXT")] = [txt("v=spf1 ip4:127.0.0.0/8 -all")]
        zone[(f"_dmarc.{domain}", "TXT")] = [txt("v=DMARC1; p=none")]
    return zone


def gate_command(args, port, *extra):
    """``odoo-bin mailgate`` on 127.0.0.1:``port`` for the benchmark's database."""
    command = [
        sys.executable,
        args.odoo_bin,
        f"--addons-path={args.addons_path}",
        "mailgate",
        "-c",
        args.config,
    ]
    return command + [
        "-d",
        args.db,
        "--listen",
        f"127.0.0.1:{port}",
        "--log-level",
        "warn",
        *extra,
    ]


def start_server(args, http_port, extra=(), db_filter=True, launcher=(), env=None):
    """The Odoo server (XML-RPC for the set-up), no cron; ``extra``: more
    odoo-bin options (e.g. ``--workers``). Without ``db_filter``, ``-d``
    alone names the one database served (Odoo then lists no databases for a
    request without a session). ``launcher``: Python options before odoo-bin
    (``-c CODE`` that runs odoo-bin after preparing Odoo); ``env``: the
    server's environment (default: this one's)."""
    return subprocess.Popen(
        [
            sys.executable,
            *launcher,
            args.odoo_bin,
            "-c",
            args.config,
            "-d",
            args.db,
            "--http-port",
            str(http_port),
        ]
        + [
            "--http-interface",
            "127.0.0.1",
            "--max-cron-threads",
            "0",
        ]
        + (["--db-filter", f"^{args.db}$"] if db_filter else [])
        + ["--log-level", "warn"]
        + list(extra),
        env=env,
    )


def stop_processes(*processes):
    for process in processes:
        if process is not None and process.poll() is None:
            process.terminate()
    for process in processes:
        if process is not None:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def rss_kib(pid, field="VmRSS"):
    """A memory figure of a process in KiB (``VmRSS``, ``VmHWM``: its peak)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise ValueError(field)


def rcpt_refusal_rates(port, refusals, sessions=4, source="127.0.0.1"):
    """``RCPT TO`` refusals (unknown local parts) per second: ``refusals`` in
    one session, then as many over ``sessions`` sessions at once. From
    ``source``, which the mailgate must treat as a relay (--relay-networks):
    a client under the limits per client is tarpitted after 10 refusals."""
    results = {}
    with smtplib.SMTP(
        "127.0.0.1", port, timeout=120, source_address=(source, 0)
    ) as client:
        client.ehlo("bench.example")
        client.mail("flood@spammer.example")
        start = time.perf_counter()
        for index in range(refusals):
            code, _text = client.rcpt(f"nobody{index % 20}@{DOMAIN}")
            assert code == 550, code
        results["rcpt_refusals_per_second"] = refusals / (time.perf_counter() - start)

    # a dictionary attack comes over several connections: sessions at once
    def attack(session_no, count, codes):
        with smtplib.SMTP(
            "127.0.0.1", port, timeout=120, source_address=(source, 0)
        ) as client:
            client.ehlo(f"bench{session_no}.example")
            client.mail(f"flood{session_no}@spammer.example")
            codes.extend(
                client.rcpt(f"nobody{index % 20}@{DOMAIN}")[0] for index in range(count)
            )

    per_session = refusals // sessions
    codes = []
    threads = [
        threading.Thread(target=attack, args=(n, per_session, codes))
        for n in range(sessions)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    assert codes == [550] * (sessions * per_session), sorted(set(codes))
    results[f"rcpt_refusals_per_second_{sessions}_sessions"] = (
        sessions * per_session / elapsed
    )
    return results


def print_table(rows):
    width = max(len(row[0]) for row in rows)
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port, process, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"process exited: {process.args}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"nothing listens on {port}")


def message(run, index):
    return (
        f"From: Person {index} <person{index}@customer{index % 20}.example>\r\n"
        f"To: bench@{DOMAIN}\r\nSubject: {run} {index}\r\n"
        f"Message-ID: <gate-bench-{run}-{index}-{time.time_ns()}@customer.example>\r\n"
        "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; "
        "charset=utf-8\r\n\r\n"
        f"Hello, this is message {index}.\r\n"
    ).encode()


def setup(url, db, password):
    common = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common")
    uid = common.authenticate(db, "admin", password, {})
    models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)

    def call(model, method, *args, **kwargs):
        return models.execute_kw(db, uid, password, model, method, list(args), kwargs)

    domains = call("mail.alias.domain", "search", [("name", "=", DOMAIN)])
    domain_id = (
        domains[0] if domains else call("mail.alias.domain", "create", {"name": DOMAIN})
    )
    if not call(
        "mail.alias",
        "search",
        [("alias_name", "=", "bench"), ("alias_domain_id", "=", domain_id)],
    ):
        model_id = call("ir.model", "search", [("model", "=", "res.partner")])[0]
        call(
            "mail.alias",
            "create",
            {
                "alias_name": "bench",
                "alias_domain_id": domain_id,
                "alias_model_id": model_id,
                "alias_contact": "everyone",
            },
        )
    call("ir.config_parameter", "set_param", "mail.gateway.loop.threshold", "1000000")
    return uid, call


def mailgate_parser(description):
    """The options every mailgate benchmark takes (scripts/bench passes them)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--odoo-bin", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--password", default="admin")
    return parser


def main():
    parser = mailgate_parser(__doc__.splitlines()[0])
    parser.add_argument("--gate-messages", type=int, default=200)
    parser.add_argument("--refusals", type=int, default=3000)
    args, _rest = parser.parse_known_args()

    dns_server, _auth_helpers = load_test_helpers(args.addons_path)
    dns = dns_server.DnsTestServer(
        customer_zone(dns_server.txt), host="127.0.0.1", ttl=3600
    ).start()
    http_port, gate_port = free_port(), free_port()
    server = start_server(args, http_port)
    gate = subprocess.Popen(
        gate_command(args, gate_port, "--relay-networks", RELAY_NETWORK)
    )
    try:
        wait_port(http_port, server)
        wait_port(gate_port, gate)
        url = f"http://127.0.0.1:{http_port}"
        uid, call = setup(url, args.db, args.password)
        call(
            "ir.config_parameter", "set_param", "mail.dns.nameservers", dns.nameservers
        )
        count = args.gate_messages
        results = {
            "messages": count,
            "notes": (
                f"client 127.0.0.1, mailgate --relay-networks {RELAY_NETWORK}: a "
                "trusted relay, exempt from the "
                "limits per client (message and recipient rates, error tarpit), so "
                "that the refusals measure "
                "the RCPT check; every mailgate delivery authenticated (SPF pass, "
                "DMARC p=none, unsigned) "
                "against a loopback DNS server, warm cache"
            ),
        }

        # warm both paths (registry caches, first requests, the DNS cache)
        models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)

        def core_process(raw):
            """Core's way: ``message_process`` by XML-RPC."""
            models.execute_kw(
                args.db,
                uid,
                args.password,
                "mail.thread",
                "message_process",
                [False, xmlrpc.client.Binary(raw)],
                {},
            )

        with smtplib.SMTP("127.0.0.1", gate_port, timeout=120) as client:
            for index in range(20):
                core_process(message("warm-core", index))
                client.sendmail(
                    f"person{index}@customer.example",
                    [f"bench@{DOMAIN}"],
                    message("warm-gate", index),
                )
        dns_warm = dns.total_queries

        # rounds alternate so that machine noise hits every path alike
        timings = {"core_pipe": 0.0, "core_xmlrpc": 0.0, "mailgate": 0.0}
        rounds = 5
        per_round = max(count // rounds, 1)
        with smtplib.SMTP("127.0.0.1", gate_port, timeout=120) as client:
            for round_no in range(rounds):
                start = time.perf_counter()
                for index in range(per_round):
                    subprocess.run(
                        [
                            sys.executable,
                            "-c",
                            CORE_MAILGATE_PY3,
                            "127.0.0.1",
                            str(http_port),
                            args.db,
                            str(uid),
                        ]
                        + [args.password],
                        input=message(f"pipe{round_no}", index),
                        check=True,
                    )
                timings["core_pipe"] += time.perf_counter() - start
                start = time.perf_counter()
                for index in range(per_round):
                    core_process(message(f"rpc{round_no}", index))
                timings["core_xmlrpc"] += time.perf_counter() - start
                start = time.perf_counter()
                for index in range(per_round):
                    refused = client.sendmail(
                        f"person{index}@customer.example",
                        [f"bench@{DOMAIN}"],
                        message(f"gate{round_no}", index),
                    )
                    assert not refused
                timings["mailgate"] += time.perf_counter() - start
        total = per_round * rounds
        for name, seconds in timings.items():
            results[f"{name}_per_second"] = total / seconds
        results["ratio_vs_pipe"] = (
            results["mailgate_per_second"] / results["core_pipe_per_second"]
        )
        results["ratio_vs_xmlrpc"] = (
            results["mailgate_per_second"] / results["core_xmlrpc_per_second"]
        )
        results["dns_queries_after_warm_up"] = dns.total_queries - dns_warm

        logs_before = call(
            "mail.gateway.log", "search_count", [("reason", "like", "rcpt_")]
        )
        results.update(rcpt_refusal_rates(gate_port, args.refusals))
        results["rcpt_refusals"] = args.refusals
        time.sleep(2.5)  # the refusal log is written once a second
        results["log_entries_written"] = (
            call("mail.gateway.log", "search_count", [("reason", "like", "rcpt_")])
            - logs_before
        )
    finally:
        stop_processes(gate, server)
        dns.stop()

    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=2)
    rows = [
        (
            "core odoo-mailgate.py, one process per message (MTA pipe)",
            f"{results['core_pipe_per_second']:.1f} msg/s",
        ),
        (
            "core odoo-mailgate.py logic, XML-RPC calls from one process",
            f"{results['core_xmlrpc_per_second']:.1f} msg/s",
        ),
        ("mailgate, one SMTP session", f"{results['mailgate_per_second']:.1f} msg/s"),
        ("ratio mailgate / pipe", f"{results['ratio_vs_pipe']:.2f}"),
        (
            "ratio mailgate / XML-RPC from one process",
            f"{results['ratio_vs_xmlrpc']:.2f}",
        ),
        (
            "RCPT TO refusals per second (one session)",
            f"{results['rcpt_refusals_per_second']:.0f}",
        ),
        (
            "RCPT TO refusals per second (4 sessions at once)",
            f"{results['rcpt_refusals_per_second_4_sessions']:.0f}",
        ),
        (
            f"gateway log entries for {2 * args.refusals} refusals",
            str(results["log_entries_written"]),
        ),
    ]
    print_table(rows)


if __name__ == "__main__":
    main()
