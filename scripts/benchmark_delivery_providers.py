# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Delivery feedback, every provider against the floor: what a bounce costs
through each provider's webhook, first and again, as a ratio to a bare route
that only applies the same bounce.

Run through ``scripts/bench --only delivery``. One Odoo (``--workers``) on the
benchmark's database, started by a launcher that adds, in this process only,
the floor: a bare ``auth='none'`` route that reads the recipient and the
Message-ID from a tiny JSON body, finds the message and the partners and
calls core's ``mail.thread._routing_handle_bounce`` as the webhook does for
a permanent failure. Never registered in production: the launcher defines it
before Odoo starts. Then, for the floor and each provider in turn
(interleaved: floor, providers, floor again), ``--events`` permanent failures
of distinct mails posted one a request by ``--clients`` clients, and for the
providers the same events again (Mailgun and SendGrid newly signed, the
others as the provider retries). For each round the machine's CPU (all
processes, ``/proc/stat``) per event and the wall time per event. Targets:
first delivery <= 1.5x the floor, the same event again <= 0.5x.
"""
# pylint: disable=print-used  # a command-line tool: prints its report

import base64
import datetime
import functools
import json
import os
import platform
import secrets
import sys
import time
import uuid

import benchmark_mailgate as base  # the script's folder is on sys.path
from benchmark_delivery import (
    bounce_count,
    bounce_partners,
    machine_cpu,
    post_all,
    sent_mails,
    signing,
    start_webhook_server,
    webhook_parser,
    webhook_server,
)
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

PROVIDERS = ("mailgun", "sendgrid", "postmark", "brevo", "ses", "mailjet")
TOPIC = "arn:aws:sns:eu-west-1:123456789012:odoo-bench"
CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-bench.pem"
FLOOR_PATH = "/mail_routing_policy/bench_floor"

# ``python -c LAUNCHER odoo-bin -c CONF ...``: Odoo with the floor route and
# the SNS certificate of this run in the cache (no network here)
LAUNCHER = """
import json, os, sys
sys.argv = sys.argv[1:]
import odoo
from odoo import SUPERUSER_ID, http
from odoo.http import request
from odoo.modules import initialize_sys_path
odoo.tools.config._parse_config(sys.argv[1:])
initialize_sys_path()
from odoo.addons.mail_routing_policy.tools.delivery_feedback.providers import ses
ses.CERTIFICATES[os.environ["BENCH_CERT_URL"]] = ses.load_certificate(
    os.environ["BENCH_CERT_PEM"].encode()
)

class BenchFloor(http.Controller):
    __module__ = "odoo.addons.mail_routing_policy.controllers.bench_floor"

    @http.route("/mail_routing_policy/bench_floor", type="http", auth="none",
                methods=["POST"], csrf=False, save_session=False, readonly=False)
    def floor(self, **params):
        env = request.env(user=SUPERUSER_ID)
        data = json.loads(request.httprequest.get_data())
        email, message_id = data["email"], data["message_id"]
        message = env["mail.message"].search([("message_id", "=", message_id)], limit=1)
        partners = env["res.partner"].search([("email_normalized", "=", email)])
        env["mail.thread"]._routing_handle_bounce(False, {
            "bounced_email": email, "bounced_partner": partners,
            "bounced_msg_ids": [message_id], "bounced_message": message,
            "body": "no such user", "email_from": "", "to": email,
            "message_id": message_id,
        })
        return request.make_response(
            "ok\\n", headers=[("Content-Type", "text/plain; charset=utf-8")]
        )

odoo.cli.main()
"""


class Requests:
    """Request builders, one per provider: (body, headers) of a permanent
    failure of ``message_id`` for ``email``; ``again`` says the request is
    the event's second delivery."""

    def __init__(self, sns_key):
        self.mailgun_key = secrets.token_hex(16)
        self.sendgrid_private = ec.generate_private_key(ec.SECP256R1())
        self.sns_key = sns_key
        self.sent = {}  # the first request of each event, for a verbatim retry

    def key_of(self, provider):
        if provider == "mailgun":
            return self.mailgun_key
        if provider == "sendgrid":
            return base64.b64encode(
                self.sendgrid_private.public_key().public_bytes(
                    serialization.Encoding.DER,
                    serialization.PublicFormat.SubjectPublicKeyInfo,
                )
            ).decode()
        return TOPIC if provider == "ses" else False

    def build(self, provider, index, message_id, email, again):
        if (provider, index) in self.sent and provider not in ("mailgun", "sendgrid"):
            return self.sent[provider, index]  # the provider's retry, verbatim
        headers = {"Content-Type": "application/json"}
        now = int(time.time())
        if provider == "floor":
            body = {"email": email, "message_id": message_id}
        elif provider == "mailgun":
            body = {
                "signature": signing.mailgun_signature(self.mailgun_key, now),
                "event-data": {
                    "event": "failed",
                    "severity": "permanent",
                    "reason": "bounce",
                    "id": f"bench-{index}",
                    "timestamp": now,
                    "recipient": email,
                    "message": {"headers": {"message-id": message_id.strip("<>")}},
                    "delivery-status": {"code": 550, "description": "no such user"},
                },
            }
        elif provider == "sendgrid":
            raw = json.dumps(
                [
                    {
                        "email": email,
                        "event": "bounce",
                        "type": "bounce",
                        "status": "5.1.1",
                        "reason": "550 5.1.1 no such user",
                        "smtp-id": message_id,
                        "sg_event_id": f"bench-{index}",
                        "timestamp": now,
                    }
                ]
            ).encode()
            signature = self.sendgrid_private.sign(
                str(now).encode() + raw, ec.ECDSA(hashes.SHA256())
            )
            headers.update(
                {
                    "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(
                        signature
                    ).decode(),
                    "X-Twilio-Email-Event-Webhook-Timestamp": str(now),
                }
            )
            return raw, headers
        elif provider == "postmark":
            body = {
                "RecordType": "Bounce",
                "ID": 1000000 + index,
                "Type": "HardBounce",
                "TypeCode": 1,
                "Name": "Hard bounce",
                "MessageID": str(uuid.uuid4()),
                "Metadata": {"odoo-message-id": message_id},
                "Details": "smtp;550 5.1.1 no such user",
                "Email": email,
                "BouncedAt": "2026-12-07T10:00:00.0000000Z",
                "MessageStream": "outbound",
            }
        elif provider == "brevo":
            body = {
                "event": "hard_bounce",
                "email": email,
                "id": 1,
                "message-id": message_id,
                "ts_event": now + index,
                "reason": "550 no such user",
            }
        elif provider == "mailjet":
            body = {
                "event": "bounce",
                "time": now + index,
                "MessageID": 10**15 + index,
                "Message_GUID": str(uuid.uuid4()),
                "email": email,
                "CustomID": message_id,
                "hard_bounce": True,
                "blocked": False,
                "error_related_to": "recipient",
                "error": "user unknown",
            }
        else:  # ses
            notification = {
                "notificationType": "Bounce",
                "bounce": {
                    "bounceType": "Permanent",
                    "bounceSubType": "General",
                    "bouncedRecipients": [{"emailAddress": email, "status": "5.1.1"}],
                    "timestamp": "2026-12-07T10:00:00.000Z",
                    "feedbackId": f"bench-{index}",
                },
                "mail": {
                    "messageId": "ses-own-id",
                    "headers": [{"name": "X-Odoo-Message-ID", "value": message_id}],
                    "commonHeaders": {"messageId": "ses-own-id"},
                },
            }
            body = {
                "Type": "Notification",
                "MessageId": str(uuid.uuid4()),
                "TopicArn": TOPIC,
                "Message": json.dumps(notification),
                "Timestamp": datetime.datetime.now(datetime.timezone.utc).strftime(
                    "%Y-%m-%dT%H:%M:%S.000Z"
                ),
                "SignatureVersion": "2",
                "SigningCertURL": CERT_URL,
            }
            signed = "".join(
                f"{name}\n{body[name]}\n"
                for name in ("Message", "MessageId", "Timestamp", "TopicArn", "Type")
            ).encode()
            body["Signature"] = base64.b64encode(
                self.sns_key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
            ).decode()
            headers["x-amz-sns-message-type"] = "Notification"
        request = (json.dumps(body).encode(), headers)
        self.sent[provider, index] = request
        return request


def build_request(requests_, name, auth, first, items):
    ((message_id, email),) = items
    body, headers = requests_.build(name, first, message_id, email, False)
    return body, {**headers, **auth}


def measure(port, path, make_request, events, clients):
    # the requests are built (signed) before the clock starts: the machine's
    # CPU measured is Odoo's and PostgreSQL's, not the client's signing
    built = {index: make_request(index, [event]) for index, event in enumerate(events)}
    busy_before, _total = machine_cpu()
    seconds, _latencies, statuses, retries = post_all(
        port, path, lambda first, _items: built[first], events, clients, 1
    )
    busy_after, _total = machine_cpu()
    return {
        "events": len(events),
        "seconds": round(seconds, 2),
        "cpu_ms_per_event": round(1000 * (busy_after - busy_before) / len(events), 3),
        "wall_ms_per_event": round(1000 * seconds / len(events), 3),
        "statuses": {str(code): count for code, count in statuses.items()},
        "retried_after_5xx": retries,
    }


def main():
    parser = webhook_parser(__doc__.splitlines()[0], events=1000, clients=4)
    args, _unknown = parser.parse_known_args()
    sns_key, pem = signing.sns_key_and_certificate(days_valid=1)
    pem = pem.decode()
    requests_ = Requests(sns_key)
    port = base.free_port()
    server = start_webhook_server(
        args,
        port,
        launcher=("-c", LAUNCHER),
        env=dict(os.environ, BENCH_CERT_URL=CERT_URL, BENCH_CERT_PEM=pem),
    )
    try:
        base.wait_port(port, server)
        _uid, call = base.setup(f"http://127.0.0.1:{port}", args.db, args.password)
        run = secrets.token_hex(4)
        paths = {"floor": FLOOR_PATH}
        for provider in PROVIDERS:
            _server_id, path, values = webhook_server(
                call, provider, requests_.key_of(provider)
            )
            paths[provider] = (path, values)
        partner_ids = bounce_partners(call, run, args.partners)
        rounds = ("floor", *PROVIDERS, "floor")
        mails = {
            number: sent_mails(call, partner_ids, run, args.events, f"{run}-{number}")
            for number in range(len(rounds))
        }
        results = {"floor": [], "providers": {}}
        for number, name in enumerate(rounds):
            events = mails[number]
            if name == "floor":
                path, auth = FLOOR_PATH, {}
            else:
                path, values = paths[name]
                auth = {}
                if values.get("delivery_feedback_secret") and name in (
                    "postmark",
                    "brevo",
                    "mailjet",
                ):
                    auth = {
                        "Authorization": "Basic "
                        + base64.b64encode(
                            f"odoo:{values['delivery_feedback_secret']}".encode()
                        ).decode()
                    }

            make_request = functools.partial(build_request, requests_, name, auth)

            first = measure(port, path, make_request, events, args.clients)
            if name == "floor":
                results["floor"].append(first)
                print(f"floor: {first}", flush=True)
                continue
            again = measure(port, path, make_request, events, args.clients)
            results["providers"][name] = {"first": first, "again": again}
            print(f"{name}: first {first}, again {again}", flush=True)
        bounces = bounce_count(call, partner_ids)
    finally:
        base.stop_processes(server)
    floor_cpu = sum(entry["cpu_ms_per_event"] for entry in results["floor"]) / 2
    floor_wall = sum(entry["wall_ms_per_event"] for entry in results["floor"]) / 2
    rows = [
        (
            "floor: machine CPU / wall ms an event (mean of 2 runs)",
            f"{floor_cpu:.2f} / {floor_wall:.2f}",
        ),
    ]
    met = True
    for name, entry in results["providers"].items():
        entry["first_ratio_cpu"] = round(
            entry["first"]["cpu_ms_per_event"] / floor_cpu, 2
        )
        entry["again_ratio_cpu"] = round(
            entry["again"]["cpu_ms_per_event"] / floor_cpu, 2
        )
        entry["first_ratio_wall"] = round(
            entry["first"]["wall_ms_per_event"] / floor_wall, 2
        )
        entry["again_ratio_wall"] = round(
            entry["again"]["wall_ms_per_event"] / floor_wall, 2
        )
        entry["targets_met"] = (
            entry["first_ratio_cpu"] <= 1.5 and entry["again_ratio_cpu"] <= 0.5
        )
        met = met and entry["targets_met"]
        first, again = entry["first"], entry["again"]
        rows.append(
            (
                f"{name}: first / again, CPU ms an event (ratio to floor)",
                f"{first['cpu_ms_per_event']:.2f} ({entry['first_ratio_cpu']}) / "
                f"{again['cpu_ms_per_event']:.2f} ({entry['again_ratio_cpu']})",
            )
        )
    expected = args.events * (len(rounds))
    rows.append(("effects (bounce counters)", f"{bounces} of {expected}"))
    output = {
        "date": time.strftime("%Y-%m-%d"),
        "python": platform.python_version(),
        "cores": os.cpu_count(),
        "workers": args.workers,
        "clients": args.clients,
        "events_per_round": args.events,
        "floor_cpu_ms_per_event": round(floor_cpu, 3),
        "floor_wall_ms_per_event": round(floor_wall, 3),
        "floor_runs": results["floor"],
        "providers": results["providers"],
        "targets": {"first": 1.5, "again": 0.5},
        "all_targets_met": met,
        "effects": bounces,
        "effects_expected": expected,
    }
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(output, handle, indent=2)
    base.print_table(rows)
    if bounces != expected:
        sys.exit("events lost or doubled")


if __name__ == "__main__":
    main()
