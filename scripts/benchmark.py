"""Core ``mail`` vs. ``mail_routing_policy``, measured side by side.

Run through ``scripts/bench``, which creates the two databases. Each figure
is measured on both databases in the same process, with the same inputs and
the same database size, and reported as a ratio module / core.

1. incoming throughput through ``message_process`` (new records, replies,
   automatic mails; one commit per message as fetchmail does), with the
   SQL queries per message;
2. loop check cost as the history grows: core's ``_detect_loop_sender``
   (``ilike`` on the target model) vs. the module's (indexed gateway events);
3. outgoing server selection: ``_find_mail_server`` over 5/50/500 servers.
"""

import argparse
import json
import platform
import statistics
import sys
import time
from email import message_from_bytes
from email import policy as email_policy

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import config

ALIAS_DOMAIN = "bench.example"
SENDER_POOL = 5000


def env_of(cr):
    return api.Environment(cr, SUPERUSER_ID, {})


def setup_alias(env):
    domain = env["mail.alias.domain"].search([("name", "=", ALIAS_DOMAIN)], limit=1)
    if not domain:
        domain = env["mail.alias.domain"].create({"name": ALIAS_DOMAIN})
    env.company.alias_domain_id = domain
    alias = env["mail.alias"].search([("alias_name", "=", "bench")], limit=1)
    if not alias:
        alias = env["mail.alias"].create(
            {
                "alias_name": "bench",
                "alias_model_id": env["ir.model"]._get_id("res.partner"),
                "alias_domain_id": domain.id,
            }
        )
    return alias


def raw_message(index, kind, run, reply_to=None, sender=None):
    """A raw incoming message of ``kind`` new | reply | automatic."""
    sender = sender or f"person{index}@customer{index % 20}.example"
    headers = [("To", f"bench@{ALIAS_DOMAIN}"), ("Subject", f"{kind} {index}")]
    if kind == "automatic":
        sender = f"noreply@system{index}.example"
        headers += [("Auto-Submitted", "auto-generated"), ("Precedence", "bulk")]
    if kind == "reply":
        headers += [("In-Reply-To", reply_to), ("References", reply_to)]
    headers = [
        ("From", f"Person {index} <{sender}>"),
        ("Message-ID", f"<bench-{run}-{index}@customer.example>"),
        ("Date", "Sun, 22 Nov 2026 10:00:00 +0000"),
        *headers,
    ]
    text = "".join(f"{name}: {value}\r\n" for name, value in headers)
    return (text + f"Content-Type: text/plain; charset=utf-8\r\n\r\nHello, this is message {index}.\r\n").encode()


def bench_incoming(registry, messages, run):
    """Messages per second through message_process, and SQL queries per message."""
    with registry.cursor() as cr:
        env = env_of(cr)
        setup_alias(env)
        cr.commit()
        Thread = env["mail.thread"]
        first_ids, durations, queries = [], [], []
        total = messages + 30  # the first 30 warm the caches, not measured
        for index in range(total):
            kind = ("new", "reply", "automatic")[index % 3]
            if kind == "reply" and not first_ids:
                kind = "new"
            reply_to = first_ids[(index // 3) % len(first_ids)] if kind == "reply" else None
            raw = raw_message(index, kind, run, reply_to)
            before = cr.sql_log_count
            start = time.perf_counter()
            Thread.message_process(None, raw)
            cr.commit()
            elapsed = time.perf_counter() - start
            if kind == "new":
                first_ids.append(f"<bench-{run}-{index}@customer.example>")
            if index >= 30:
                durations.append(elapsed)
                queries.append(cr.sql_log_count - before)
        return {
            "messages": messages,
            "per_second": messages / sum(durations),
            "queries_per_message": statistics.mean(queries),
        }


def grow_history(cr, size, done, with_events):
    """Past records (and gateway events) of many senders inside the window."""
    cr.execute(
        """INSERT INTO res_partner (name, complete_name, email, email_normalized, active, type,
                                    create_date, write_date)
           SELECT 'Past ' || i, 'Past ' || i, s, s, true, 'contact', d, d
           FROM (SELECT i, 'person' || (i %% %(pool)s) || '@senders' || (i %% 50) || '.example' AS s,
                        (now() at time zone 'UTC') - make_interval(mins => i %% 100) AS d
                 FROM generate_series(%(start)s, %(stop)s) AS i) AS g""",
        {"pool": SENDER_POOL, "start": done + 1, "stop": size},
    )
    cr.execute("ANALYZE res_partner")
    if with_events:
        cr.execute(
            """INSERT INTO mail_gateway_event (sender, scope, kind, event_date)
               SELECT 'person' || (i %% %(pool)s) || '@senders' || (i %% 50) || '.example',
                      'alias:' || (i %% 40), 'create', (now() at time zone 'UTC') - make_interval(mins => i %% 100)
               FROM generate_series(%(start)s, %(stop)s) AS i""",
            {"pool": SENDER_POOL, "start": done + 1, "stop": size},
        )
        cr.execute("ANALYZE mail_gateway_event")
    cr.commit()


def bench_loop_check(registry, size, done, with_events, calls):
    """Milliseconds per _detect_loop_sender call on a new-record route."""
    with registry.cursor() as cr:
        env = env_of(cr)
        grow_history(cr, size, done, with_events)
        env["ir.config_parameter"].set_param("mail.gateway.loop.threshold", 10**9)
        alias = setup_alias(env)
        cr.commit()
        Thread = env["mail.thread"]
        timings = []
        for index in range(calls):
            sender = f"person{(index * 7) % SENDER_POOL}@senders{index % 50}.example"
            raw = raw_message(index, "new", f"loop{size}", sender=sender)
            message = message_from_bytes(raw, policy=email_policy.SMTP)
            message_dict = {"email_from": sender, "to": f"bench@{ALIAS_DOMAIN}", "message_id": message["Message-ID"]}
            routes = [("res.partner", False, {}, SUPERUSER_ID, alias)]
            start = time.perf_counter()
            blocked = Thread._detect_loop_sender(message, message_dict, routes)
            env.flush_all()
            timings.append((time.perf_counter() - start) * 1000)
            assert not blocked, "the benchmark threshold must never be reached"
            cr.commit()
        return {"median_ms": statistics.median(timings), "p95_ms": sorted(timings)[int(len(timings) * 0.95)]}


SERVER_SHAPES = ("address", "domain", "wildcard", "list")


def server_filter(index, shape):
    if shape == "address":
        return f"user{index}@d{index}.example"
    if shape == "domain":
        return f"d{index}.example"
    if shape == "wildcard":
        return f"*.w{index}.example"
    return f"d{index}.example,l{index}.example"


def bench_server_selection(registry, servers, calls):
    """Calls per second of _find_mail_server with a mix of senders."""
    with registry.cursor() as cr:
        env = env_of(cr)
        Server = env["ir.mail_server"]
        Server.search([]).unlink()
        Server.create(
            [
                {
                    "name": f"server {index}",
                    "smtp_host": "localhost",
                    "sequence": index,
                    "from_filter": server_filter(index, SERVER_SHAPES[index % len(SERVER_SHAPES)]),
                }
                for index in range(servers)
            ]
        )
        env.flush_all()
        senders = []
        for index in range(200):
            target = (index * 13) % servers
            senders += [
                f"user{target}@d{target}.example",  # address or domain tier
                f"sales@mail.w{target}.example",  # wildcard (core: no match)
                f"someone@unknown{index}.example",  # no match: fallback
            ]
        start = time.perf_counter()
        for index in range(calls):
            Server._find_mail_server(senders[index % len(senders)])
        elapsed = time.perf_counter() - start
        cr.rollback()
        return {"servers": servers, "calls": calls, "per_second": calls / elapsed}


def ratio(module, core):
    return module / core if core else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--core-db", required=True)
    parser.add_argument("--module-db", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--loop-calls", type=int, default=200)
    parser.add_argument("--calls", type=int, default=10000)
    parser.add_argument("--servers", default="5,50,500")
    args = parser.parse_args()
    config.parse_config(["-c", args.config, "--log-level=warn"])
    registries = {"core": Registry(args.core_db), "module": Registry(args.module_db)}
    assert "mail.gateway.event" not in registries["core"], "the core database must not have the module"
    assert "mail.gateway.event" in registries["module"], "the module database must have the module"
    results = {
        "odoo": odoo.release.version,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "date": time.strftime("%Y-%m-%d"),
    }
    rows = []

    print("incoming throughput ...", file=sys.stderr)
    incoming = {name: bench_incoming(reg, args.messages, name) for name, reg in registries.items()}
    results["incoming"] = incoming
    rows.append(
        (
            f"incoming messages/s ({args.messages} mixed)",
            f"{incoming['core']['per_second']:.1f}",
            f"{incoming['module']['per_second']:.1f}",
            f"{ratio(incoming['module']['per_second'], incoming['core']['per_second']):.2f}",
        )
    )
    rows.append(
        (
            "SQL queries per incoming message",
            f"{incoming['core']['queries_per_message']:.1f}",
            f"{incoming['module']['queries_per_message']:.1f}",
            f"+{incoming['module']['queries_per_message'] - incoming['core']['queries_per_message']:.1f}",
        )
    )

    results["loop_check"] = []
    done = 0
    for size in [int(value) for value in args.sizes.split(",")]:
        print(f"loop check at {size} past records ...", file=sys.stderr)
        core = bench_loop_check(registries["core"], size, done, False, args.loop_calls)
        module = bench_loop_check(registries["module"], size, done, True, args.loop_calls)
        done = size
        results["loop_check"].append({"history": size, "core": core, "module": module})
        rows.append(
            (
                f"loop check ms/message, {size:,} past records",
                f"{core['median_ms']:.2f}",
                f"{module['median_ms']:.2f}",
                f"{ratio(module['median_ms'], core['median_ms']):.2f}",
            )
        )

    results["server_selection"] = []
    for servers in [int(value) for value in args.servers.split(",")]:
        print(f"server selection over {servers} servers ...", file=sys.stderr)
        core = bench_server_selection(registries["core"], servers, args.calls)
        module = bench_server_selection(registries["module"], servers, args.calls)
        results["server_selection"].append({"servers": servers, "core": core, "module": module})
        rows.append(
            (
                f"_find_mail_server calls/s, {servers} servers",
                f"{core['per_second']:.0f}",
                f"{module['per_second']:.0f}",
                f"{ratio(module['per_second'], core['per_second']):.2f}",
            )
        )

    results["table"] = [dict(zip(("measure", "core", "module", "module/core"), row, strict=True)) for row in rows]
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=2)
    widths = [max(len(row[col]) for row in [("Measure", "core", "module", "module/core"), *rows]) for col in range(4)]
    line = "+" + "+".join("-" * (width + 2) for width in widths) + "+"
    print(line)
    for index, row in enumerate([("Measure", "core", "module", "module/core"), *rows]):
        print("| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |")
        print(line.replace("-", "=") if index == 0 else line)
    print(f"written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
