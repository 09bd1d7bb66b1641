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
"""

import argparse
import json
import smtplib
import socket
import subprocess
import sys
import threading
import time
import xmlrpc.client

CORE_MAILGATE_PY3 = """
import sys, xmlrpc.client
msg = sys.stdin.buffer.read()
models = xmlrpc.client.ServerProxy('http://%s:%s/xmlrpc/2/object' % (sys.argv[1], sys.argv[2]), allow_none=True)
models.execute_kw(sys.argv[3], int(sys.argv[4]), sys.argv[5], 'mail.thread', 'message_process',
                  [False, xmlrpc.client.Binary(msg)], {})
"""

DOMAIN = "bench-gate.example"


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
        "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Hello, this is message {index}.\r\n"
    ).encode()


def setup(url, db, password):
    common = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common")
    uid = common.authenticate(db, "admin", password, {})
    models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)

    def call(model, method, *args, **kwargs):
        return models.execute_kw(db, uid, password, model, method, list(args), kwargs)

    domains = call("mail.alias.domain", "search", [("name", "=", DOMAIN)])
    domain_id = domains[0] if domains else call("mail.alias.domain", "create", {"name": DOMAIN})
    if not call("mail.alias", "search", [("alias_name", "=", "bench"), ("alias_domain_id", "=", domain_id)]):
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--odoo-bin", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--password", default="admin")
    parser.add_argument("--gate-messages", type=int, default=200)
    parser.add_argument("--refusals", type=int, default=3000)
    args, _rest = parser.parse_known_args()

    http_port, gate_port = free_port(), free_port()
    base = [sys.executable, args.odoo_bin]
    server = subprocess.Popen(
        [*base, "-c", args.config, "-d", args.db, "--http-port", str(http_port), "--http-interface", "127.0.0.1"]
        + ["--db-filter", f"^{args.db}$", "--max-cron-threads", "0", "--log-level", "warn"]
    )
    gate = subprocess.Popen(
        [*base, f"--addons-path={args.addons_path}", "mailgate", "-c", args.config, "-d", args.db]
        + ["--listen", f"127.0.0.1:{gate_port}", "--log-level", "warn"]
    )
    try:
        wait_port(http_port, server)
        wait_port(gate_port, gate)
        url = f"http://127.0.0.1:{http_port}"
        uid, call = setup(url, args.db, args.password)
        count = args.gate_messages
        results = {"messages": count}

        # warm both paths (registry caches, first requests)
        models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)
        with smtplib.SMTP("127.0.0.1", gate_port, timeout=120) as client:
            for index in range(10):
                models.execute_kw(
                    args.db, uid, args.password, "mail.thread", "message_process",
                    [False, xmlrpc.client.Binary(message("warm-core", index))], {},
                )  # fmt: skip
                client.sendmail(f"person{index}@customer.example", [f"bench@{DOMAIN}"], message("warm-gate", index))

        # rounds alternate so that machine noise hits every path alike
        timings = {"core_pipe": 0.0, "core_xmlrpc": 0.0, "mailgate": 0.0}
        rounds = 5
        per_round = max(count // rounds, 1)
        with smtplib.SMTP("127.0.0.1", gate_port, timeout=120) as client:
            for round_no in range(rounds):
                start = time.perf_counter()
                for index in range(per_round):
                    subprocess.run(
                        [sys.executable, "-c", CORE_MAILGATE_PY3, "127.0.0.1", str(http_port), args.db, str(uid)]
                        + [args.password],
                        input=message(f"pipe{round_no}", index),
                        check=True,
                    )
                timings["core_pipe"] += time.perf_counter() - start
                start = time.perf_counter()
                for index in range(per_round):
                    models.execute_kw(
                        args.db, uid, args.password, "mail.thread", "message_process",
                        [False, xmlrpc.client.Binary(message(f"rpc{round_no}", index))], {},
                    )  # fmt: skip
                timings["core_xmlrpc"] += time.perf_counter() - start
                start = time.perf_counter()
                for index in range(per_round):
                    refused = client.sendmail(
                        f"person{index}@customer.example", [f"bench@{DOMAIN}"], message(f"gate{round_no}", index)
                    )
                    assert not refused
                timings["mailgate"] += time.perf_counter() - start
        total = per_round * rounds
        for name, seconds in timings.items():
            results[f"{name}_per_second"] = total / seconds
        results["ratio_vs_pipe"] = results["mailgate_per_second"] / results["core_pipe_per_second"]
        results["ratio_vs_xmlrpc"] = results["mailgate_per_second"] / results["core_xmlrpc_per_second"]

        logs_before = call("mail.gateway.log", "search_count", [("reason", "like", "rcpt_")])
        with smtplib.SMTP("127.0.0.1", gate_port, timeout=120) as client:
            client.ehlo("bench.example")
            client.mail("flood@spammer.example")
            start = time.perf_counter()
            for index in range(args.refusals):
                code, _text = client.rcpt(f"nobody{index % 20}@{DOMAIN}")
                assert code == 550, code
            elapsed = time.perf_counter() - start
        results["rcpt_refusals_per_second"] = args.refusals / elapsed
        results["rcpt_refusals"] = args.refusals

        # a dictionary attack comes over several connections: 4 sessions at once
        def attack(session_no, count, codes):
            with smtplib.SMTP("127.0.0.1", gate_port, timeout=120) as client:
                client.ehlo(f"bench{session_no}.example")
                client.mail(f"flood{session_no}@spammer.example")
                codes.extend(client.rcpt(f"nobody{index % 20}@{DOMAIN}")[0] for index in range(count))

        sessions, per_session = 4, args.refusals // 4
        codes = []
        threads = [threading.Thread(target=attack, args=(n, per_session, codes)) for n in range(sessions)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
        assert codes == [550] * (sessions * per_session), sorted(set(codes))
        results["rcpt_refusals_per_second_4_sessions"] = sessions * per_session / elapsed
        time.sleep(2.5)  # the refusal log is written once a second
        results["log_entries_written"] = (
            call("mail.gateway.log", "search_count", [("reason", "like", "rcpt_")]) - logs_before
        )
    finally:
        for process in (gate, server):
            process.terminate()
            process.wait(timeout=60)

    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=2)
    rows = [
        ("core odoo-mailgate.py, one process per message (MTA pipe)", f"{results['core_pipe_per_second']:.1f} msg/s"),
        (
            "core odoo-mailgate.py logic, XML-RPC calls from one process",
            f"{results['core_xmlrpc_per_second']:.1f} msg/s",
        ),
        ("mailgate, one SMTP session", f"{results['mailgate_per_second']:.1f} msg/s"),
        ("ratio mailgate / pipe", f"{results['ratio_vs_pipe']:.2f}"),
        ("ratio mailgate / XML-RPC from one process", f"{results['ratio_vs_xmlrpc']:.2f}"),
        ("RCPT TO refusals per second (one session)", f"{results['rcpt_refusals_per_second']:.0f}"),
        ("RCPT TO refusals per second (4 sessions at once)", f"{results['rcpt_refusals_per_second_4_sessions']:.0f}"),
        (f"gateway log entries for {2 * args.refusals} refusals", str(results["log_entries_written"])),
    ]
    width = max(len(row[0]) for row in rows)
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
