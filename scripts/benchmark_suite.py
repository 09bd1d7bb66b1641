# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The module's whole suite under Odoo's runner, read from its log.

Run by ``scripts/bench --only suite``, which runs the README's command
(``scripts/env odoo-bin -d NEWDB -i mail_routing_policy --test-tags
/mail_routing_policy --stop-after-init``, info log) and hands this script the
log and the wall time. Also usable on any such log (``--log FILE``, no
``--out``) to list the slowest tests while developing.

A test's time is from its "Starting Class.test ..." line to the next one's
(or to the runner's summary line): it includes its ``setUp``, and the last
test of a class carries the next class's ``setUpClass``.
"""
# pylint: disable=print-used  # a command-line tool: prints its report

import argparse
import collections
import datetime
import json
import os
import platform
import re
import sys

LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \d+ \w+ \S+ (\S+): (.*)$")
START = re.compile(r"^Starting (\w+)\.(\w+) \.\.\.")
# core's own steps in the same run: a measure of the machine's speed that the
# module does not change (its install, with its dependencies; the asset
# bundles Odoo's runner builds before any browser test)
LOADED = re.compile(r"^Modules loaded\.")
BUNDLES = re.compile(r"^(?:JS|CSS) Assets bundles generated in ([\d.]+) seconds")
SUMMARY = re.compile(
    r"(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database"
)


def stamp(text):
    return datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S,%f")


def read_log(path):
    """(tests as (class, method, seconds), summary, seconds from first test to
    end, {core step: seconds})."""
    starts, summary, end = [], None, None
    first, core = None, {"install": None, "asset_bundles": 0.0}
    with open(path, errors="replace") as log:
        for line in log:
            match = LINE.match(line)
            if not match:
                continue
            when, _logger, message = match.groups()
            first = first or stamp(when)
            started = START.match(message)
            bundles = BUNDLES.match(message)
            if LOADED.match(message) and core["install"] is None:
                core["install"] = round((stamp(when) - first).total_seconds(), 1)
            elif bundles:
                core["asset_bundles"] += float(bundles.group(1))
            elif started:
                starts.append((stamp(when), *started.groups()))
            elif SUMMARY.search(message):
                summary, end = message.strip(), stamp(when)
    tests = []
    for index, (when, klass, method) in enumerate(starts):
        following = starts[index + 1][0] if index + 1 < len(starts) else end
        seconds = (following - when).total_seconds() if following else 0.0
        tests.append((klass, method, seconds))
    span = (end - starts[0][0]).total_seconds() if starts and end else None
    core["asset_bundles"] = round(core["asset_bundles"], 1)
    return tests, summary, span, core


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--log", required=True, help="odoo-bin's log (info level)")
    parser.add_argument("--wall-seconds", type=float, help="the command's wall time")
    parser.add_argument("--command", default="", help="the command that was run")
    parser.add_argument("--exit-code", type=int)
    parser.add_argument("--target-seconds", type=float, default=240.0)
    parser.add_argument("--out", help="JSON file to write")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()

    tests, summary, span, core = read_log(args.log)
    counts = SUMMARY.search(summary or "")
    by_class = collections.Counter()
    for klass, _method, seconds in tests:
        by_class[klass] += seconds
    slowest = sorted(tests, key=lambda test: -test[2])[: args.top]
    result = {
        "date": datetime.date.today().isoformat(),
        "command": args.command,
        "exit_code": args.exit_code,
        "summary": summary,
        "tests": int(counts.group(3)) if counts else None,
        "failed": int(counts.group(1)) if counts else None,
        "errors": int(counts.group(2)) if counts else None,
        "tests_started": len(tests),
        "wall_seconds": args.wall_seconds,
        "tests_seconds": round(span, 1) if span is not None else None,
        "core_steps_seconds": core,
        "target_wall_seconds": args.target_seconds,
        "target_met": (
            args.wall_seconds is not None
            and args.wall_seconds <= args.target_seconds
            and bool(counts)
            and counts.group(1) == counts.group(2) == "0"
        ),
        "fuzz_profile": os.environ.get("MRP_FUZZ_PROFILE", "short"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "slowest_tests": [
            {"test": f"{klass}.{method}", "seconds": round(seconds, 2)}
            for klass, method, seconds in slowest
        ],
        "slowest_classes": [
            {"class": klass, "seconds": round(seconds, 2)}
            for klass, seconds in by_class.most_common(args.top)
        ],
    }
    print(
        f"{result['summary'] or 'no summary line'}; wall {args.wall_seconds} s, "
        f"tests {result['tests_seconds']} s (target {args.target_seconds:.0f} s); "
        f"core's install {core['install']} s, asset bundles {core['asset_bundles']} s"
    )
    for entry in result["slowest_tests"]:
        print(f"{entry['seconds']:8.2f} s  {entry['test']}")
    if args.out:
        with open(args.out, "w") as out:
            json.dump(result, out, indent=2)
            out.write("\n")
        print(f"written {args.out}")
    return 0 if counts and counts.group(1) == counts.group(2) == "0" else 1


if __name__ == "__main__":
    sys.exit(main())
