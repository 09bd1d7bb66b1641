# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Check DNS (issue 18) on 10 domains x 5 servers against a loopback DNS server.

Run through ``scripts/bench --only dns``. Starts the addon's loopback DNS
server (tests/dns_server.py) in a child process on 127.0.0.1 and a free
port, serving 10 sending domains: SPF with includes (nested, with ``a`` and
``mx`` terms, and a relay's include), two DKIM selectors each (an RSA-2048
key, and an ed25519 key behind a CNAME), DMARC ``p=quarantine``, MX to the
mailgate's public name, and forward-confirmed PTRs of the servers' sending
addresses. The benchmark's database gets 10 alias domains, 5 outgoing
servers whose FROM filters name all 10 domains (sending addresses entered,
two with the relay's include) and ``mail.dns.nameservers`` pointing at the
loopback server: 50 sending paths. Then, in this process with the
database's registry, ``mail.dns.check.result._run_checks()``:

* **cold**: the shared resolver's cache emptied, first run in the process;
* **warm**: at once again, the cache as the cold run left it;
* then ``--repeat`` times each, cold with the process warm (the cache
  emptied again; PSL, ORM, Python imports warm) and warm: median, min, max;
* a breakdown without profiler, cache cold and warm: the sending paths
  (sender policy, no DNS), the facts (DNS and the checks), storing; and a
  cold run under cProfile (``--profile-out``);
* **silent zone**: then 3 more companies, each with its own alias domain
  (its bounce address, so the envelope SPF is read there), sent by server
  1, whose SPF records include ``_spf.dead.test``, a name the server never
  answers: one cold check, which must stay inside its bound (30 s), turn
  only the lines of those envelopes into "could not be checked" and leave
  every line the cold run stored as it found it.

For each run: wall time, DNS questions the server received and queries the
resolver counted, result lines, and the name+type asked more than once
within its TTL (the server's TTLs are longer than the whole run: any second
question of the cold run, or any question of the warm run, is one).
"""
# pylint: disable=print-used  # a command-line tool: prints its report

import contextlib
import cProfile
import importlib.util
import io
import json
import pstats
import subprocess
import sys
import time

import benchmark_mailgate as base  # the script's folder is on sys.path

TTL = 3600
NEGATIVE_TTL = 900
GATE = "gate.bench.test"
DOMAINS = [f"shop{n:02d}.test" for n in range(1, 11)]
SERVERS = 5
TARGET_COLD_SECONDS = 2.0
#: a zone that never answers, included by the silent-zone case's domains
DEAD_INCLUDE = "_spf.dead.test"
DEAD_DOMAINS = [f"dead{n:02d}.test" for n in range(1, 4)]
#: Check DNS's bound (mail.dns.check.result RUN_TIMEOUT)
RUN_BOUND_SECONDS = 30.0


def server_address(index):
    return f"127.0.1.{index}"


def zone(txt, rsa_record, ed_record):
    """The zone of the 10 domains, their includes, keys and PTRs."""
    records = {
        # the includes the domains' SPF records share
        ("_spf.bench.test", "TXT"): [
            f"v=spf1 ip4:{server_address(2)} include:_spf2.bench.test -all"
        ],
        ("_spf2.bench.test", "TXT"): ["v=spf1 a:out.bench.test mx:bench.test -all"],
        ("out.bench.test", "A"): [server_address(3)],
        ("bench.test", "MX"): ["10 mx1.bench.test.", "20 mx2.bench.test."],
        ("mx1.bench.test", "A"): ["127.0.2.1"],
        ("mx2.bench.test", "A"): ["127.0.2.2"],
        # the relay servers 4 and 5 send through (their sending addresses
        # name its include)
        ("_spf.relay.test", "TXT"): [
            f"v=spf1 ip4:{server_address(4)} ip4:{server_address(5)} ~all"
        ],
        (GATE, "A"): ["127.0.0.1"],
    }
    for index in range(1, SERVERS + 1):
        host = f"smtp{index}.bench.test"
        records[(host, "A")] = [server_address(index)]
        records[(f"{index}.1.0.127.in-addr.arpa", "PTR")] = [f"{host}."]
    for domain in DOMAINS:
        records[(domain, "TXT")] = [
            f"v=spf1 ip4:{server_address(1)} include:_spf.bench.test "
            "include:_spf.relay.test -all",
            "google-site-verification=bench",
        ]
        records[(f"k1._domainkey.{domain}", "TXT")] = [rsa_record]
        records[(f"k2._domainkey.{domain}", "CNAME")] = [
            f"{domain.split('.')[0]}-k2.dkim.relay.test."
        ]
        records[(f"{domain.split('.')[0]}-k2.dkim.relay.test", "TXT")] = [ed_record]
        records[(f"_dmarc.{domain}", "TXT")] = [
            f"v=DMARC1; p=quarantine; rua=mailto:dmarc@{domain}"
        ]
        records[(domain, "MX")] = [f"10 {GATE}."]
    for domain in DEAD_DOMAINS:
        records[(domain, "TXT")] = [
            f"v=spf1 ip4:{server_address(1)} include:{DEAD_INCLUDE} -all"
        ]
        records[(f"_dmarc.{domain}", "TXT")] = ["v=DMARC1; p=reject"]
        records[(domain, "MX")] = [f"10 {GATE}."]
    return {
        f"{name} {rdtype}": [txt(text) for text in texts] if rdtype == "TXT" else texts
        for (name, rdtype), texts in records.items()
    }


# ----------------------------------------------------------------------
# the DNS server, in a child process (its threads do not share this one's GIL)
# ----------------------------------------------------------------------


def load_dns_server(path):
    spec = importlib.util.spec_from_file_location("bench_dns_server", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def serve_dns(path):
    """Child: read the zone (a JSON line), serve it, answer ``counts``/``quit``."""
    dns_server = load_dns_server(path)
    records = json.loads(sys.stdin.readline())
    server = dns_server.DnsTestServer(
        {tuple(key.split(" ")): value for key, value in records.items()},
        host="127.0.0.1",
        ttl=TTL,
        negative_ttl=NEGATIVE_TTL,
        silent={DEAD_INCLUDE},
    ).start()
    try:
        print(server.nameservers, flush=True)
        for line in sys.stdin:
            if line.strip() != "counts":
                break
            with server._lock:  # pylint: disable=protected-access
                counts = [
                    [name, rdtype, count]
                    for (name, rdtype), count in server._counts.items()  # pylint: disable=protected-access
                ]
            print(json.dumps(counts), flush=True)
    finally:
        server.stop()


class DnsChild:
    def __init__(self, dns_server_path, records):
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve-dns", dns_server_path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.process.stdin.write(json.dumps(records) + "\n")
        self.process.stdin.flush()
        self.nameservers = self.process.stdout.readline().strip()
        if not self.nameservers.startswith("127."):
            raise SystemExit(f"the DNS server did not start: {self.nameservers!r}")

    def counts(self):
        """``{(name, type): questions received}`` since the server started."""
        self.process.stdin.write("counts\n")
        self.process.stdin.flush()
        return {
            (name, rdtype): count
            for name, rdtype, count in json.loads(self.process.stdout.readline())
        }

    def stop(self):
        if self.process.poll() is None:
            # the child may be gone already: stopping it is all that is left
            with contextlib.suppress(OSError):
                self.process.stdin.write("quit\n")
                self.process.stdin.close()
        base.stop_processes(self.process)


# ----------------------------------------------------------------------
# the benchmark
# ----------------------------------------------------------------------


def configure(env, nameservers):
    """10 alias domains, 5 servers naming all of them, the loopback DNS."""
    icp = env["ir.config_parameter"].sudo()
    icp.set_param("mail.dns.nameservers", nameservers)
    icp.set_param("mail.gateway.public_host", GATE)
    icp.set_param("mail.default.from", False)
    icp.set_param("mail.default.from_filter", False)
    server_model = env["ir.mail_server"]
    server_model.search([]).active = False
    alias_domains = env["mail.alias.domain"].create(
        [
            {
                "name": domain,
                "default_from": "notifications",
                "dkim_selectors": "k1, k2",
            }
            for domain in DOMAINS
        ]
    )
    env.company.alias_domain_id = alias_domains[0]
    for index in range(1, SERVERS + 1):
        addresses = server_address(index)
        if index > 3:
            addresses += ", include:_spf.relay.test"
        server_model.create(
            {
                "name": f"Bench SMTP {index}",
                "smtp_host": f"smtp{index}.bench.test",
                "smtp_encryption": "starttls",
                "from_filter": ", ".join(DOMAINS),
                "sending_addresses": addresses,
                "sequence": index,
            }
        )


@contextlib.contextmanager
def check_transaction(registry, api, resolver_of, clear):
    """A transaction of its own: its cursor, environment and resolver (its
    cache emptied first when ``clear``)."""
    with registry.cursor() as cr:
        env = api.Environment(cr, api.SUPERUSER_ID, {})
        resolver = resolver_of(env)
        if clear:
            resolver.clear_cache()
        yield cr, env, resolver


def run_once(registry, api, dns, resolver_of, label, clear, profiler=None):
    """One ``_run_checks()`` in its own transaction: time, queries, results."""
    with check_transaction(registry, api, resolver_of, clear) as (_cr, env, resolver):
        results = env["mail.dns.check.result"]
        server_before = dns.counts()
        resolver_before = resolver.queries_sent
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        results._run_checks()
        env.flush_all()
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - start
        server_after = dns.counts()
        stored = results.search([])
        by_check = {}
        for result in stored:
            key = f"{result.check} {result.status}"
            by_check[key] = by_check.get(key, 0) + 1
        spf_subjects = sorted(
            set(stored.filtered(lambda r: r.check == "spf").mapped("subject"))
        )
        paths = len(results._sending_paths())
    asked = {
        key: count - server_before.get(key, 0)
        for key, count in server_after.items()
        if count - server_before.get(key, 0)
    }
    by_type = {}
    for (_name, rdtype), count in asked.items():
        by_type[rdtype] = by_type.get(rdtype, 0) + count
    entry = {
        "run": label,
        "cache_cleared": clear,
        "seconds": round(seconds, 3),
        "dns_questions_received": sum(asked.values()),
        "dns_questions_by_type": dict(sorted(by_type.items())),
        "resolver_queries_sent": resolver.queries_sent - resolver_before,
        "repeated_within_ttl": sorted(
            f"{name} {rdtype} x{count}"
            for (name, rdtype), count in asked.items()
            if count > 1
        ),
        "sending_paths": paths,
        "result_lines": len(stored),
        "spf_domains_checked": spf_subjects,
        "by_check": dict(sorted(by_check.items())),
    }
    return entry, server_after, sorted(f"{name} {rdtype}" for name, rdtype in asked)


def breakdown(registry, api, resolver_of, clear):
    """Where the time of one check goes (no profiler): the sending paths
    (sender policy, no DNS), the facts (DNS and the checks), storing."""
    from odoo.addons.mail_routing_policy.tools import mail_dns

    with check_transaction(registry, api, resolver_of, clear) as (cr, env, resolver):
        results = env["mail.dns.check.result"]
        start = time.perf_counter()
        paths = results._sending_paths()
        paths_done = time.perf_counter()
        values = results._collect(paths, resolver, mail_dns.Deadline.after(30))
        collect_done = time.perf_counter()
        results.search([]).unlink()
        results.create(list(values.values()))
        env.flush_all()
        stored = time.perf_counter()
        cr.rollback()
    return {
        "cache_cleared": clear,
        "sending_paths_seconds": round(paths_done - start, 3),
        "facts_seconds": round(collect_done - paths_done, 3),
        "store_seconds": round(stored - collect_done, 3),
    }


def statuses(registry, api):
    """``{key: status}`` of the stored results."""
    with registry.cursor() as cr:
        env = api.Environment(cr, api.SUPERUSER_ID, {})
        return {
            result.key: result.status
            for result in env["mail.dns.check.result"].search([])
        }


def add_dead_domains(env):
    """The silent-zone case: companies whose alias domain's SPF includes a name
    that is never answered, sent by server 1."""
    aliases = env["mail.alias.domain"].create(
        [{"name": domain, "default_from": "notifications"} for domain in DEAD_DOMAINS]
    )
    env["res.company"].create(
        [
            {"name": f"Silent {alias.name}", "alias_domain_id": alias.id}
            for alias in aliases
        ]
    )
    server = env["ir.mail_server"].search([("name", "=", "Bench SMTP 1")])
    server.from_filter = ", ".join(DOMAINS + DEAD_DOMAINS)


def silent_case(before, after, entry):
    """What the silent zone changed: every line the cold run stored must be as
    it found it, the lines of the silent domains' envelopes could not be
    checked, within the bound."""
    changed = sorted(
        f"{key}: {status} -> {after.get(key)}"
        for key, status in before.items()
        if after.get(key) != status
    )
    new = {key: status for key, status in after.items() if key not in before}
    unknown_dead = sorted(
        domain
        for domain in DEAD_DOMAINS
        if any(
            key.endswith(f"|spf|{domain}") and status == "unknown"
            for key, status in new.items()
        )
    )
    return {
        "seconds": entry["seconds"],
        "bound_seconds": RUN_BOUND_SECONDS,
        "dns_questions_received": entry["dns_questions_received"],
        "sending_paths": entry["sending_paths"],
        "result_lines": entry["result_lines"],
        "lines_of_the_cold_run": len(before),
        "lines_of_the_cold_run_changed": changed,
        "new_lines": len(new),
        "new_lines_unknown": sum(1 for status in new.values() if status == "unknown"),
        "silent_envelopes_unknown": unknown_dead,
        "by_check": entry["by_check"],
        "target_met": entry["seconds"] < RUN_BOUND_SECONDS
        and not changed
        and unknown_dead == sorted(DEAD_DOMAINS),
    }


def spread(entries):
    times = sorted(entry["seconds"] for entry in entries)
    return {
        "median": times[len(times) // 2],
        "min": times[0],
        "max": times[-1],
        "runs": len(times),
    }


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-dns":
        serve_dns(sys.argv[2])
        return
    parser = base.mailgate_parser(__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile-out", help="write a profiled cold run's top here")
    args, _unknown = parser.parse_known_args()

    dns_server, auth = base.load_test_helpers(args.addons_path)
    import odoo
    from odoo import api
    from odoo.modules.registry import Registry

    from odoo.addons.mail_routing_policy.tools import mail_dns

    odoo.tools.config.parse_config(
        ["-c", args.config, "-d", args.db, f"--addons-path={args.addons_path}"]
    )
    records = zone(dns_server.txt, auth.rsa_key(2048)[1], auth.ed25519_key()[1])
    registry = Registry(args.db)
    dns = DnsChild(dns_server.__file__, records)
    try:
        with registry.cursor() as cr:
            configure(api.Environment(cr, api.SUPERUSER_ID, {}), dns.nameservers)

        def resolver_of(env):
            # a check's view of the shared resolver (its failures kept)
            resolver = env["mail.dns.check.result"]._resolver().resolver
            assert resolver is mail_dns.shared_resolver(dns.nameservers)
            return resolver

        def run(label, clear, profiler=None):
            return run_once(registry, api, dns, resolver_of, label, clear, profiler)

        started = time.monotonic()
        cold, _counts, cold_questions = run("cold, first run in the process", True)
        warm, after_warm, _asked = run("warm, right after", False)
        cold_warm_seconds = time.monotonic() - started
        # server and resolver agree on every name+type of cold + warm
        resolver = mail_dns.shared_resolver(dns.nameservers)
        disagree = [
            f"{name} {rdtype}: {count} / {resolver.query_count(name, rdtype)}"
            for (name, rdtype), count in after_warm.items()
            if resolver.query_count(name, rdtype) != count
        ]
        again = {"cold": [], "warm": []}
        for _index in range(args.repeat):
            again["cold"].append(run("cold, cache cleared, process warm", True)[0])
            again["warm"].append(run("warm", False)[0])
        parts = [
            breakdown(registry, api, resolver_of, clear) for clear in (True, False)
        ]
        profiler = cProfile.Profile()
        profiled = run("cold, cache cleared, profiled", True, profiler)[0]
        before = statuses(registry, api)
        with registry.cursor() as cr:
            add_dead_domains(api.Environment(cr, api.SUPERUSER_ID, {}))
        silent_run = run("cold, a silent zone shared by 3 domains", True)[0]
        silent = silent_case(before, statuses(registry, api), silent_run)
    finally:
        dns.stop()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
    if args.profile_out:
        with open(args.profile_out, "w", encoding="utf-8") as handle:
            handle.write(out.getvalue())
    # within one TTL: cold + warm took less than the shortest TTL served
    repeated_cold_to_warm = sorted(
        f"{name} {rdtype} x{count}"
        for (name, rdtype), count in after_warm.items()
        if count > 1
    )
    repeated = (
        repeated_cold_to_warm
        + [
            item
            for entry in again["cold"] + again["warm"]
            for item in entry["repeated_within_ttl"]
        ]
        + [
            f"warm run asked {entry['dns_questions_received']}"
            for entry in again["warm"]
            if entry["dns_questions_received"]
        ]
    )
    results = {
        "domains": DOMAINS,
        "servers": SERVERS,
        "dkim_selectors_per_domain": 2,
        "ttl": TTL,
        "negative_ttl": NEGATIVE_TTL,
        "cold_then_warm_seconds": round(cold_warm_seconds, 2),
        "cold": cold,
        "cold_questions": cold_questions,
        "warm": warm,
        "repeated_within_ttl_cold_then_warm": repeated_cold_to_warm,
        "server_and_resolver_disagree": disagree,
        "cold_process_warm": {**spread(again["cold"]), "entries": again["cold"]},
        "warm_again": {**spread(again["warm"]), "entries": again["warm"]},
        "breakdown": parts,
        "profiled_cold_seconds": profiled["seconds"],
        "target_cold_seconds": TARGET_COLD_SECONDS,
        "silent_zone": silent,
        "target_met": cold["seconds"] < TARGET_COLD_SECONDS
        and not repeated
        and cold_warm_seconds < min(TTL, NEGATIVE_TTL)
        and silent["target_met"],
    }
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=2)
    cold_again, warm_again = results["cold_process_warm"], results["warm_again"]
    rows = [
        (
            "domains x servers: sending paths / result lines",
            f"{len(DOMAINS)} x {SERVERS}: "
            f"{cold['sending_paths']} / {cold['result_lines']}",
        ),
        (
            "cold, first run in the process: seconds "
            f"(target < {TARGET_COLD_SECONDS:g})",
            f"{cold['seconds']}",
        ),
        (
            "cold: DNS queries (server received / resolver sent)",
            f"{cold['dns_questions_received']} / {cold['resolver_queries_sent']}",
        ),
        ("warm, right after: seconds", f"{warm['seconds']}"),
        (
            "warm: DNS queries (server received / resolver sent)",
            f"{warm['dns_questions_received']} / {warm['resolver_queries_sent']}",
        ),
        (
            "name+type asked twice (cold, then warm)",
            ", ".join(repeated_cold_to_warm) or "none",
        ),
        (
            f"cold, process warm: seconds, median (min-max) of {cold_again['runs']}",
            f"{cold_again['median']} ({cold_again['min']}-{cold_again['max']})",
        ),
        (
            f"warm: seconds, median (min-max) of {warm_again['runs']}",
            f"{warm_again['median']} ({warm_again['min']}-{warm_again['max']})",
        ),
    ]
    for part in parts:
        cache = "cold" if part["cache_cleared"] else "warm"
        rows.append(
            (
                f"{cache} cache: sending paths / facts (DNS) / storing",
                f"{part['sending_paths_seconds']} / {part['facts_seconds']} / "
                f"{part['store_seconds']} s",
            )
        )
    rows += [
        (
            f"silent zone ({len(DEAD_DOMAINS)} domains include {DEAD_INCLUDE}): "
            f"seconds (bound {RUN_BOUND_SECONDS:g})",
            f"{silent['seconds']}",
        ),
        (
            "silent zone: lines of the cold run changed (of)",
            f"{len(silent['lines_of_the_cold_run_changed'])} "
            f"({silent['lines_of_the_cold_run']})",
        ),
        (
            "silent zone: new lines / could not be checked",
            f"{silent['new_lines']} / {silent['new_lines_unknown']}",
        ),
        (
            "silent zone: SPF of these envelopes could not be checked",
            ", ".join(silent["silent_envelopes_unknown"]) or "none",
        ),
    ]
    base.print_table(rows)
    if not results["target_met"]:
        sys.exit("target not met (see above)")


if __name__ == "__main__":
    main()
