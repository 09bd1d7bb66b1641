# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Delivery feedback webhooks under load: events per second, none lost, none
doubled.

Run through ``scripts/bench --only delivery``. Starts Odoo with ``--workers 2``
on the benchmark's database, makes one Mailgun-fed outgoing server, the
partners and messages the events are about, then posts ``--events`` signed
Mailgun permanent failures from ``--clients`` concurrent clients (a 5xx is
retried, as Mailgun does), and the same events again, newly signed. Each
event bounces one message of one of ``--partners`` partners, so the sum of
their bounce counters is the number of effects: it must equal ``--events``
after both rounds.
"""
# pylint: disable=print-used  # a command-line tool: prints its report

import base64
import http.client
import importlib.util
import json
import os
import secrets
import statistics
import sys
import threading
import time
import urllib.parse

import benchmark_mailgate as base  # the script's folder is on sys.path
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


def load_signing():
    """tests/delivery_feedback_signing.py, by its path: the requests the
    tests sign, signed the same way here (the tests package itself needs
    Odoo)."""
    path = os.path.join(
        os.path.dirname(os.path.abspath(__file__)),
        "..",
        "tests",
        "delivery_feedback_signing.py",
    )
    spec = importlib.util.spec_from_file_location("delivery_feedback_signing", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


signing = load_signing()


def mailgun_body(key, index, message_id, recipient):
    return signing.mailgun_body(
        key,
        {
            "event": "failed",
            "severity": "permanent",
            "reason": "bounce",
            "id": f"bench-event-{index}",
            "timestamp": time.time(),
            "recipient": recipient,
            "message": {"headers": {"message-id": message_id.strip("<>")}},
            "delivery-status": {"code": 550, "description": "no such user"},
        },
    )


def sendgrid_request(private_key, first, batch):
    """A SendGrid Event Webhook body of ``batch`` bounces and its headers."""
    body = json.dumps(
        [
            {
                "email": recipient,
                "event": "bounce",
                "type": "bounce",
                "status": "5.1.1",
                "reason": "550 5.1.1 no such user",
                "smtp-id": message_id,
                "sg_event_id": f"bench-event-{index}",
                "timestamp": int(time.time()),
            }
            for index, (message_id, recipient) in enumerate(batch, first)
        ]
    ).encode()
    timestamp = str(int(time.time()))
    signature = private_key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return body, {
        "Content-Type": "application/json",
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
    }


def webhook_parser(description, events, clients):
    """The options of both delivery benchmarks (and the mailgate's)."""
    parser = base.mailgate_parser(description)
    parser.add_argument("--events", type=int, default=events)
    parser.add_argument("--clients", type=int, default=clients)
    parser.add_argument("--partners", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    return parser


def start_webhook_server(args, port, **options):
    """Odoo with ``--workers``, serving one database named by -d as a
    single-database deployment does: a webhook request has no session, and
    a --db-filter would make Odoo list the server's databases for each one."""
    return base.start_server(
        args, port, ["--workers", str(args.workers)], db_filter=False, **options
    )


def webhook_server(call, provider, key):
    """An outgoing mail server of ``provider`` with ``key``: its id, the
    path (and query) of its webhook, its delivery feedback values."""
    server_id = call(
        "ir.mail_server",
        "create",
        {
            "name": f"Bench {provider}",
            "smtp_host": "smtp.relay.invalid",
            "delivery_feedback_provider": provider,
            "delivery_feedback_key": key,
        },
    )
    values = call(
        "ir.mail_server",
        "read",
        [server_id],
        ["delivery_feedback_url", "delivery_feedback_secret"],
    )[0]
    parsed = urllib.parse.urlsplit(values["delivery_feedback_url"])
    return server_id, f"{parsed.path}?{parsed.query}", values


def bounce_count(call, partner_ids):
    """The bounces Odoo counted on ``partner_ids``."""
    return sum(
        partner["message_bounce"]
        for partner in call("res.partner", "read", partner_ids, ["message_bounce"])
    )


def bounce_address(index, run):
    return f"bounce{index}-{run}@dead.example"


def bounce_partners(call, run, count):
    """``count`` partners whose addresses bounce (created 500 at a time)."""
    partner_ids = []
    for start in range(0, count, 500):
        partner_ids += call(
            "res.partner",
            "create",
            [
                {"name": f"Bench bounce {index}", "email": bounce_address(index, run)}
                for index in range(start, min(start + 500, count))
            ],
        )
    return partner_ids


def sent_mails(call, partner_ids, run, count, tag=None):
    """``count`` mails Odoo sent to ``partner_ids`` in turn (created 1000 at
    a time), as ``(message_id, recipient)``; ``tag`` (default ``run``) makes
    their Message-IDs unique."""
    mails = []
    for start in range(0, count, 1000):
        # each mail on its recipient's own record, as a mailing to
        # partners is (core's bounce handling also counts the bounce on
        # the mail's record: one shared thread would be one hot row)
        values = [
            {
                "model": "res.partner",
                "res_id": partner_ids[index % len(partner_ids)],
                "message_type": "email",
                "body": "bench",
                "message_id": f"<bench-{tag or run}-{index}@odoo.example>",
            }
            for index in range(start, min(start + 1000, count))
        ]
        call("mail.message", "create", values)
        mails += [
            (value["message_id"], bounce_address(index % len(partner_ids), run))
            for index, value in enumerate(values, start)
        ]
    return mails


def machine_cpu():
    """(busy, total) CPU seconds of the whole machine so far (/proc/stat): the
    clients, Odoo's workers and PostgreSQL all count."""
    with open("/proc/stat", encoding="ascii") as stat:
        values = [int(value) for value in stat.readline().split()[1:]]
    ticks = os.sysconf("SC_CLK_TCK")
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / ticks, sum(values) / ticks


def post_all(port, path, make_request, events, clients, batch):
    """Post every event, ``batch`` per request (a 5xx is retried); returns
    (seconds, latencies, status counts, retries)."""
    queue = [
        (first, events[first : first + batch]) for first in range(0, len(events), batch)
    ]
    lock = threading.Lock()
    latencies, statuses, retries = [], {}, [0]

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                if not queue:
                    break
                first, items = queue.pop()
            for _attempt in range(10):
                body, headers = make_request(first, items)
                start = time.perf_counter()
                try:
                    connection.request("POST", path, body, headers)
                    response = connection.getresponse()
                    response.read()
                    status = response.status
                except (OSError, http.client.HTTPException):
                    connection.close()
                    connection = http.client.HTTPConnection(
                        "127.0.0.1", port, timeout=120
                    )
                    status = 599
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    statuses[status] = statuses.get(status, 0) + 1
                    if status >= 500:
                        retries[0] += 1
                if status < 500:
                    break
                time.sleep(0.2)
        connection.close()

    threads = [threading.Thread(target=client) for _index in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, latencies, statuses, retries[0]


def main():
    parser = webhook_parser(__doc__.splitlines()[0], events=10000, clients=8)
    parser.add_argument(
        "--provider",
        choices=("mailgun", "sendgrid"),
        default="mailgun",
        help="mailgun: one event a request; sendgrid: --batch events a request",
    )
    parser.add_argument("--batch", type=int, default=50)
    args, _unknown = parser.parse_known_args()

    port = base.free_port()
    server = start_webhook_server(args, port)
    try:
        base.wait_port(port, server)
        url = f"http://127.0.0.1:{port}"
        _uid, call = base.setup(url, args.db, args.password)
        if args.provider == "mailgun":
            key = secrets.token_hex(16)
            batch = 1

            def make_request(first, items):
                ((message_id, recipient),) = items
                return mailgun_body(key, first, message_id, recipient), {
                    "Content-Type": "application/json"
                }

        else:
            private_key = ec.generate_private_key(ec.SECP256R1())
            key = base64.b64encode(
                private_key.public_key().public_bytes(
                    serialization.Encoding.DER,
                    serialization.PublicFormat.SubjectPublicKeyInfo,
                )
            ).decode()
            batch = args.batch

            def make_request(first, items):
                return sendgrid_request(private_key, first, items)

        server_id, path, _values = webhook_server(call, args.provider, key)
        run = secrets.token_hex(4)
        partner_ids = bounce_partners(call, run, args.partners)
        events = sent_mails(call, partner_ids, run, args.events)
        rounds = []
        for name in ("first delivery", "same events again"):
            busy_before, total_before = machine_cpu()
            seconds, latencies, statuses, retries = post_all(
                port, path, make_request, events, args.clients, batch
            )
            busy_after, total_after = machine_cpu()
            busy = busy_after - busy_before
            latencies.sort()
            rounds.append(
                {
                    "round": name,
                    "events": len(events),
                    "seconds": round(seconds, 2),
                    "events_per_second": round(len(events) / seconds, 1),
                    # what each event cost the machine (all processes), and
                    # how busy its cores were: CPU-bound when near 100 %
                    "machine_cpu_ms_per_event": round(1000 * busy / len(events), 2),
                    "machine_busy_percent": round(
                        100 * busy / (total_after - total_before), 1
                    ),
                    "p50_ms": round(statistics.median(latencies) * 1000, 1),
                    "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 1),
                    "statuses": {str(code): count for code, count in statuses.items()},
                    "retried_after_5xx": retries,
                }
            )
        bounces = bounce_count(call, partner_ids)
        kept = call(
            "mail.delivery.event",
            "search_count",
            [("server_id", "=", server_id), ("state", "=", "applied")],
        )
    finally:
        base.stop_processes(server)
    results = {
        "provider": args.provider,
        "events_per_request": batch,
        "events": args.events,
        "clients": args.clients,
        "workers": args.workers,
        "rounds": rounds,
        "effects": bounces,
        "events_kept": kept,
        "target_events_per_second": 200,
        "cores": os.cpu_count(),
    }
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=2)
    rows = (
        [
            (
                f"{args.provider}, {batch} a request, {entry['round']}: events/s "
                "(target >= 200)",
                f"{entry['events_per_second']}",
            )
            for entry in rounds
        ]
        + [
            (
                f"{args.provider}, {entry['round']}: machine CPU an event, cores busy",
                f"{entry['machine_cpu_ms_per_event']} ms, "
                f"{entry['machine_busy_percent']} %",
            )
            for entry in rounds
        ]
        + [
            (
                f"{args.provider}, {entry['round']}: p50 / p95 a request",
                f"{entry['p50_ms']} / {entry['p95_ms']} ms",
            )
            for entry in rounds
        ]
    )
    rows += [
        ("effects (bounce counters) after both rounds", f"{bounces} of {args.events}"),
        ("events kept", str(kept)),
    ]
    base.print_table(rows)
    if bounces != args.events or kept != args.events:
        sys.exit("events lost or doubled")


if __name__ == "__main__":
    main()
