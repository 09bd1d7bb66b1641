# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

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
# pylint: disable=print-used,invalid-commit  # a command-line tool: prints its report, commits its fixtures

import argparse
import base64
import json
import logging
import os
import platform
import random
import statistics
import sys
import time
from email import message_from_bytes
from email import policy as email_policy

from lxml import etree

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import config
from odoo.tools.safe_eval import safe_eval

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
    return (
        text
        + "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        + f"Hello, this is message {index}.\r\n"
    ).encode()


class IncomingRun:
    """Feeds one database the same stream of messages, batch by batch, so
    that core and module batches can alternate (machine noise hits both)."""

    WARMUP = 30  # first messages warm the caches, not measured

    def __init__(self, registry, run):
        self.registry, self.run = registry, run
        self.index, self.first_ids, self.durations, self.queries = 0, [], [], []
        with registry.cursor() as cr:
            setup_alias(env_of(cr))

    def feed(self, count):
        with self.registry.cursor() as cr:
            Thread = env_of(cr)["mail.thread"]
            for _step in range(count):
                index = self.index
                kind = (
                    ("new", "reply", "automatic")[index % 3]
                    if self.first_ids
                    else "new"
                )
                reply_to = (
                    self.first_ids[(index // 3) % len(self.first_ids)]
                    if kind == "reply"
                    else None
                )
                raw = raw_message(index, kind, self.run, reply_to)
                before = cr.sql_log_count
                start = time.perf_counter()
                Thread.message_process(None, raw)
                cr.commit()  # one transaction per message, as fetchmail does
                elapsed = time.perf_counter() - start
                if kind == "new":
                    self.first_ids.append(
                        f"<bench-{self.run}-{index}@customer.example>"
                    )
                if index >= self.WARMUP:
                    self.durations.append(elapsed)
                    self.queries.append(cr.sql_log_count - before)
                self.index += 1

    def result(self):
        return {
            "messages": len(self.durations),
            "per_second": len(self.durations) / sum(self.durations),
            "median_ms": statistics.median(self.durations) * 1000,
            "queries_per_message": statistics.mean(self.queries),
        }


def bench_incoming(registries, messages, rounds=10):
    """Messages per second through message_process, and SQL queries per message."""
    runs = {name: IncomingRun(registry, name) for name, registry in registries.items()}
    for run in runs.values():
        run.feed(IncomingRun.WARMUP)
    for _round in range(rounds):
        for run in runs.values():
            run.feed(max(messages // rounds, 1))
    return {name: run.result() for name, run in runs.items()}


def grow_history(cr, size, done, with_events):
    """Past records (and gateway events) of many senders inside the window."""
    cr.execute(
        """INSERT INTO res_partner (name, complete_name, email, email_normalized,
                                    active, type, create_date, write_date)
           SELECT 'Past ' || i, 'Past ' || i, s, s, true, 'contact', d, d
             FROM (SELECT i,
                          'person' || (i %% %(pool)s) || '@senders' || (i %% 50)
                              || '.example' AS s,
                          (now() at time zone 'UTC')
                              - make_interval(mins => i %% 100) AS d
                     FROM generate_series(%(start)s, %(stop)s) AS i) AS g""",
        {"pool": SENDER_POOL, "start": done + 1, "stop": size},
    )
    cr.execute("ANALYZE res_partner")
    if with_events:
        cr.execute(
            """INSERT INTO mail_gateway_event (sender, scope, kind, event_date)
               SELECT 'person' || (i %% %(pool)s) || '@senders' || (i %% 50)
                          || '.example',
                      'alias:' || (i %% 40), 'create',
                      (now() at time zone 'UTC') - make_interval(mins => i %% 100)
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
            message = message_from_bytes(
                raw_message(index, "new", f"loop{size}", sender=sender),
                policy=email_policy.SMTP,
            )
            message_dict = {
                "email_from": sender,
                "to": f"bench@{ALIAS_DOMAIN}",
                "message_id": message["Message-ID"],
            }
            routes = [("res.partner", False, {}, SUPERUSER_ID, alias)]
            # timed inside a delivery transaction, as message_process calls it
            # (the alias and the transaction clock are already loaded there)
            if index % 50 == 0:
                cr.commit()
                alias.read(
                    ["alias_name"]
                    + (
                        ["loop_minutes", "loop_threshold"]
                        if "loop_minutes" in alias
                        else []
                    )
                )
                cr.now()
            start = time.perf_counter()
            blocked = Thread._detect_loop_sender(message, message_dict, routes)
            env.flush_all()
            timings.append((time.perf_counter() - start) * 1000)
            assert not blocked, "the benchmark threshold must never be reached"
        cr.commit()
        return {
            "median_ms": statistics.median(timings),
            "p95_ms": sorted(timings)[int(len(timings) * 0.95)],
        }


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
                    "from_filter": server_filter(
                        index, SERVER_SHAPES[index % len(SERVER_SHAPES)]
                    ),
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


STORM_SENDER = "autoresponder@looping.example"


def storm_message(index, image_b64):
    """About 50 KB: a unique text part and the same signature image."""
    text = "".join(
        f"Line {line} of looping message {index}: lorem ipsum dolor sit amet.\r\n"
        for line in range(150)
    )
    return (
        f"From: Loop <{STORM_SENDER}>\r\nTo: bench@{ALIAS_DOMAIN}\r\nSubject: Re: loop "
        f"{index}\r\n"
        f"Message-ID: <storm-{index}@looping.example>\r\nDate: Sun, 22 Nov 2026 "
        "10:00:00 +0000\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=b\r\n\r\n"
        f"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
        "--b\r\nContent-Type: image/png; "
        "name=signature.png\r\nContent-Transfer-Encoding: base64\r\n"
        f"Content-ID: <signature>\r\n\r\n{image_b64}\r\n--b--\r\n"
    ).encode()


def disk_usage(path):
    total = 0
    for folder, _dirs, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(folder, name)) for name in files)
    return total


def database_bytes(cr):
    cr.execute("SELECT pg_database_size(current_database())")
    return cr.fetchone()[0] + disk_usage(config.filestore(cr.dbname))


def bench_storm(registry, messages):
    """Refused messages of one looping sender to one alias (threshold 20):
    growth of the database plus its filestore, and the time it takes."""
    image = (
        base64.encodebytes(random.Random(12).randbytes(30000))
        .decode()
        .replace("\n", "\r\n")
    )
    with registry.cursor() as cr:
        env = env_of(cr)
        setup_alias(env)
        env["ir.config_parameter"].set_param("mail.gateway.loop.threshold", 20)
        env["ir.config_parameter"].set_param("mail.gateway.loop.minutes", 120)
        cr.commit()
        before = database_bytes(cr)
        size = len(storm_message(0, image))
        Thread = env["mail.thread"]
        start = time.perf_counter()
        checkpoints = []
        for index in range(messages):
            Thread.message_process(None, storm_message(index, image))
            cr.commit()
            if (index + 1) % 10000 == 0 and index + 1 < messages:
                # the growth curve: linear in the count, not in the size
                seconds = time.perf_counter() - start
                grown = (database_bytes(cr) - before) / 2**20
                checkpoints.append(
                    {"messages": index + 1, "seconds": seconds, "growth_mb": grown}
                )
                print(
                    f"storm: {index + 1:,} messages, {seconds:.0f} s, grew "
                    f"{grown:.1f} MB",
                    file=sys.stderr,
                )
        elapsed = time.perf_counter() - start
        cr.execute("CHECKPOINT")
        growth = database_bytes(cr) - before
        cr.execute(
            "SELECT count(*), coalesce(sum(count), 0), coalesce(sum(source_count), 0) "
            "FROM mail_gateway_log"
            " WHERE email_from LIKE %s",
            [f"%{STORM_SENDER}%"],
        )
        entries, folded, sources = cr.fetchone()
    return {
        "messages": messages,
        "message_kb": size / 1024,
        "seconds": elapsed,
        "per_second": messages / elapsed,
        "growth_mb": growth / 2**20,
        "growth_mb_per_100000": growth / 2**20 * 100000 / messages,
        "log_entries": entries,
        "logged_messages": folded,
        "sources_kept": sources,
        "checkpoints": checkpoints,
    }


def bench_log_list(registry, entries, runs=10):
    """The gateway log list's first page (list view fields, default filter,
    limit 80, id desc) with ``entries`` rows generated by SQL."""
    with registry.cursor() as cr:
        env = env_of(cr)
        cr.execute("SELECT count(*) FROM mail_gateway_log")
        missing = entries - cr.fetchone()[0]
        if missing > 0:
            cr.execute(
                """INSERT INTO mail_gateway_log
                          (date, first_date, reason, details, email_from,
                           recipients, subject, message_id, count, source_count,
                           sources_dropped, state, bounced, raw_hash, create_uid,
                           create_date, write_uid, write_date)
                   SELECT d, d,
                          (ARRAY['rate_limit', 'auto_reply', 'no_route',
                                 'allow_list', 'self_loop'])[1 + i %% 5],
                          'generated', 'sender' || (i %% 5000) || '@senders.example',
                          'info@bench.example',
                          'Subject ' || i, '<gen-' || i || '@bench.example>', 1, 0, 0,
                          CASE WHEN i %% 10 = 0 THEN 'done' ELSE 'logged' END,
                          false, md5(i::text), 1, d, 1, d
                     FROM (SELECT i,
                                  (now() at time zone 'UTC')
                                      - make_interval(secs => i) AS d
                             FROM generate_series(1, %s) AS i) AS g""",
                [missing],
            )
            cr.execute("ANALYZE mail_gateway_log")
            cr.commit()
        action = env.ref("mail_routing_policy.mail_gateway_log_action")
        view = env.ref("mail_routing_policy.mail_gateway_log_view_list")
        names = [node.get("name") for node in etree.fromstring(view.arch).iter("field")]
        spec = {
            name: ({"fields": {"display_name": {}}} if name == "alias_id" else {})
            for name in names
        }
        context = safe_eval(action.context or "{}")
        domain = (
            [("state", "!=", "done")] if context.get("search_default_to_review") else []
        )
        group_by = context.get("group_by")
        Log = env["mail.gateway.log"]
        timings = []
        for _run in range(runs + 1):
            env.invalidate_all()
            start = time.perf_counter()
            if group_by:
                Log.web_read_group(domain, fields=[], groupby=[group_by], limit=80)
            else:
                Log.web_search_read(
                    domain, spec, offset=0, limit=80, order="id desc", count_limit=10001
                )
            timings.append((time.perf_counter() - start) * 1000)
        cr.rollback()
    return {
        "entries": entries,
        "median_ms": statistics.median(timings[1:]),
        "max_ms": max(timings[1:]),
    }


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
    parser.add_argument(
        "--only",
        choices=["compare", "storm"],
        help="run only the core comparison or the storm",
    )
    parser.add_argument("--storm-messages", type=int, default=100000)
    parser.add_argument("--log-entries", type=int, default=1000000)
    args = parser.parse_args()
    config.parse_config(["-c", args.config, "--log-level=warn"])
    # both sides log a warning for every fallback sender: keep the table readable
    logging.getLogger("odoo.addons").setLevel(logging.ERROR)
    registries = {"core": Registry(args.core_db), "module": Registry(args.module_db)}
    assert (
        "mail.gateway.event" not in registries["core"]
    ), "the core database must not have the module"
    assert (
        "mail.gateway.event" in registries["module"]
    ), "the module database must have the module"
    results = {
        "odoo": odoo.release.version,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "date": time.strftime("%Y-%m-%d"),
    }
    rows = []

    if args.only != "storm":
        print("incoming throughput ...", file=sys.stderr)
        incoming = bench_incoming(registries, args.messages)
        results["incoming"] = incoming
        rows.append(
            (
                f"incoming messages/s ({args.messages} mixed)",
                f"{incoming['core']['per_second']:.1f}",
                f"{incoming['module']['per_second']:.1f}",
                "{:.2f}".format(
                    ratio(
                        incoming["module"]["per_second"], incoming["core"]["per_second"]
                    )
                ),
            )
        )
        rows.append(
            (
                "SQL queries per incoming message",
                f"{incoming['core']['queries_per_message']:.1f}",
                f"{incoming['module']['queries_per_message']:.1f}",
                "{:+.1f}".format(
                    incoming["module"]["queries_per_message"]
                    - incoming["core"]["queries_per_message"]
                ),
            )
        )

        results["loop_check"] = []
        done = 0
        for size in [int(value) for value in args.sizes.split(",")]:
            print(f"loop check at {size} past records ...", file=sys.stderr)
            core = bench_loop_check(
                registries["core"], size, done, False, args.loop_calls
            )
            module = bench_loop_check(
                registries["module"], size, done, True, args.loop_calls
            )
            done = size
            results["loop_check"].append(
                {"history": size, "core": core, "module": module}
            )
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
            results["server_selection"].append(
                {"servers": servers, "core": core, "module": module}
            )
            rows.append(
                (
                    f"_find_mail_server calls/s, {servers} servers",
                    f"{core['per_second']:.0f}",
                    f"{module['per_second']:.0f}",
                    f"{ratio(module['per_second'], core['per_second']):.2f}",
                )
            )

    if args.only != "compare":
        print(
            f"storm: {args.storm_messages} refused messages from one sender ...",
            file=sys.stderr,
        )
        storm = bench_storm(registries["module"], args.storm_messages)
        results["storm"] = storm
        rows.append(
            (
                f"storm: {storm['messages']:,} messages of {storm['message_kb']:.0f} "
                "KB, growth MB",
                "",
                f"{storm['growth_mb']:.1f}",
                "",
            )
        )
        rows.append(("storm: refused messages/s", "", f"{storm['per_second']:.1f}", ""))
        print(f"gateway log list at {args.log_entries} entries ...", file=sys.stderr)
        log_list = bench_log_list(registries["module"], args.log_entries)
        results["log_list"] = log_list
        rows.append(
            (
                f"gateway log list first page ms, {args.log_entries:,} entries",
                "",
                f"{log_list['median_ms']:.1f}",
                "",
            )
        )

    results["table"] = [
        dict(zip(("measure", "core", "module", "module/core"), row, strict=True))
        for row in rows
    ]
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=2)
    widths = [
        max(
            len(row[col])
            for row in [("Measure", "core", "module", "module/core"), *rows]
        )
        for col in range(4)
    ]
    line = "+" + "+".join("-" * (width + 2) for width in widths) + "+"
    print(line)
    for index, row in enumerate([("Measure", "core", "module", "module/core"), *rows]):
        print(
            "| "
            + " | ".join(
                cell.ljust(width) for cell, width in zip(row, widths, strict=True)
            )
            + " |"
        )
        print(line.replace("-", "=") if index == 0 else line)
    print(f"written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
