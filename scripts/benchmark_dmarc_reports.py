# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Reports from receivers at volume (``scripts/bench --only dmarc-reports``).

On a database with the module: ``--reports`` DMARC aggregate reports of
``--records`` rows each (gzip, Google's shape, sources drawn from a pool of
addresses, a fifth of them IPv6) delivered through ``message_process`` into
the report alias, one transaction each as fetchmail does; the baseline is
the same number of mails with the same attachments into a ``res.partner``
alias (core's handling of a new-record mail), interleaved in batches so
that machine noise hits both. Then *Who sends as your domain* as the web
client opens it on all the rows: the first level of its default grouping
(From domain), the second (sources of one domain, 80 groups), and the
ungrouped first page with its count; and the domain overview of every day
the rows cover; median of ``--repeat`` runs. Results
in ``--out`` (JSON).
"""

# pylint: disable=print-used  # a command-line tool: prints its report

import argparse
import json
import os
import statistics
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--records", type=int, default=100)
    parser.add_argument("--baseline", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", required=True)
    args, _unknown = parser.parse_known_args()

    sys.path.insert(0, os.path.dirname(__file__))
    import benchmark_mailgate as base

    base.load_test_helpers(args.addons_path)
    import odoo
    from odoo import api
    from odoo.modules.registry import Registry

    from odoo.addons.mail_routing_policy.tests import dmarc_reports_samples as samples

    odoo.tools.config.parse_config(
        ["-c", args.config, "-d", args.db, f"--addons-path={args.addons_path}"]
    )
    registry = Registry(args.db)
    domain = "bench-dmarc.test"
    with registry.cursor() as cr:
        env = api.Environment(cr, api.SUPERUSER_ID, {})
        alias_domain = env["mail.alias.domain"].create({"name": domain})
        alias = env.ref("mail_routing_policy.mail_alias_dmarc_reports")
        alias.alias_domain_id = alias_domain
        env["ir.mail_server"].create(
            {
                "name": "Bench relay",
                "smtp_host": "smtp.bench.test",
                "from_filter": domain,
                "sending_addresses": "198.51.100.0/24",
            }
        )
        env["mail.alias"].create(
            {
                "alias_name": "partners",
                "alias_domain_id": alias_domain.id,
                "alias_model_id": env["ir.model"]._get("res.partner").id,
                "alias_contact": "everyone",
            }
        )
        report_address = alias.alias_full_name
    pool = [f"198.51.100.{n % 250 + 1}" for n in range(40)]
    pool += [f"203.0.{n // 250}.{n % 250 + 1}" for n in range(2000)]
    pool += [f"2001:db8:{n:x}::25" for n in range(500)]

    def report_mail(index, to):
        records = []
        for row in range(args.records):
            ip = pool[(index * args.records + row * 7) % len(pool)]
            passed = row % 5 != 0
            records.append(
                samples.record_xml(
                    ip,
                    1 + row % 9,
                    domain,
                    dkim="pass" if passed else "fail",
                    spf="pass" if passed else "fail",
                    reasons=[("forwarded", "")] if row % 17 == 0 else (),
                )
            )
        data = samples.gz(samples.google_xml(domain, f"bench-{index}", records))
        return samples.report_mail(
            data,
            f"google.com!{domain}!{index}.xml.gz",
            to,
            sender=f"noreply-dmarc-{index % 100}@reporter{index % 100}.test",
            subject=f"Report domain: {domain} id {index}",
            mimetype=("application", "gzip"),
            message_id=f"<bench-{index}-{to.split('@')[0]}@reporter.test>",
        )

    def deliver(raw):
        started = time.perf_counter()
        with registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            env["mail.thread"].message_process(False, raw)
        return time.perf_counter() - started

    report_times, baseline_times = [], []
    every = max(args.reports // max(args.baseline, 1), 1)
    for index in range(args.reports):
        report_times.append(deliver(report_mail(index, report_address)))
        if index % every == 0 and len(baseline_times) < args.baseline:
            baseline_times.append(deliver(report_mail(index, f"partners@{domain}")))
        if (index + 1) % 100 == 0:
            print(f"{index + 1} reports", flush=True)

    with registry.cursor() as cr:
        env = api.Environment(cr, api.SUPERUSER_ID, {})
        rows = env["mail.dmarc.report.record"].search_count([])
        stored = env["mail.dmarc.report"].search_count([("state", "=", "done")])
        sources = env["mail.dmarc.report.source"].search_count([])

    fields = ["count:sum", "count_pass:sum", "count_fail:sum"]

    def view_times(call):
        times = []
        for _run in range(args.repeat):
            with registry.cursor() as cr:
                env = api.Environment(cr, api.SUPERUSER_ID, {})
                env.registry.clear_cache()
                started = time.perf_counter()
                call(env["mail.dmarc.report.record"])
                times.append(time.perf_counter() - started)
        return statistics.median(times), max(times)

    first_level = view_times(
        lambda Record: Record.web_read_group(
            [], fields, ["header_from"], limit=80, lazy=True
        )
    )
    second_level = view_times(
        lambda Record: Record.web_read_group(
            [("header_from", "=", domain)], fields, ["source_id"], limit=80, lazy=True
        )
    )
    specification = {
        name: {}
        for name in (
            "date",
            "source_id",
            "source_class",
            "count",
            "count_pass",
            "count_fail",
            "dkim_aligned",
            "spf_aligned",
            "disposition",
            "reasons",
            "org_name",
            "flag",
        )
    }
    first_page = view_times(
        lambda Record: Record.web_search_read(
            [], specification, limit=80, count_limit=10001
        )
    )
    # the domain overview (sources and TLS sessions of one domain, every
    # day the rows cover): built by two GROUP BY queries when it opens
    with registry.cursor() as cr:
        cr.execute("SELECT min(date), max(date) FROM mail_dmarc_report_record")
        first_day, last_day = cr.fetchone()

    def open_overview(Record):
        overview = Record.env["mail.dmarc.report.overview"].create(
            {"domain": domain, "date_from": first_day, "date_to": last_day}
        )
        overview.web_read(
            {"source_line_ids": {"fields": {"messages": {}}}, "messages": {}}
        )

    overview = view_times(open_overview)
    report_median = statistics.median(report_times)
    baseline_median = statistics.median(baseline_times)
    result = {
        "reports": args.reports,
        "records_per_report": args.records,
        "rows_stored": rows,
        "reports_stored": stored,
        "sources": sources,
        "report_ingest_s_median": round(report_median, 4),
        "reports_per_s": round(1 / report_median, 2),
        "rows_per_s": round(args.records / report_median, 1),
        "baseline_partner_mail_s_median": round(baseline_median, 4),
        "ratio_report_to_partner_mail": round(report_median / baseline_median, 2),
        "view_first_level_s": [round(value, 4) for value in first_level],
        "view_second_level_s": [round(value, 4) for value in second_level],
        "view_first_page_s": [round(value, 4) for value in first_page],
        "domain_overview_s": [round(value, 4) for value in overview],
        "view_target_s": 1.0,
    }
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(result, out, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
