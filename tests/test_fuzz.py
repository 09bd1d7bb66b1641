# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Bad input: generated and mutated raw messages through the explainer and
through real processing. Nothing may crash unhandled, and every message
must end routed or logged with a reason."""

import email
import email.policy
import os
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import GatewayCase

LOCAL = st.sampled_from(
    ["info", "commercial", "ann", "INFO", "noreply", "mailer-daemon", "x" * 70, ""]
)
DOMAIN = st.sampled_from(
    [
        "test.mycompany.com",
        "Test.MyCompany.COM",
        "gmail.com",
        "bücher.example",
        "xn--bcher-kva.example",
        "exa mple.com",
        "",
        "[127.0.0.1]",
    ]
)
ADDRESS = st.builds(
    lambda local, domain: f"{local}@{domain}" if domain else local, LOCAL, DOMAIN
)
DISPLAY = st.sampled_from(
    [
        "",
        "Ann",
        '"Doe, Ann"',
        "=?utf-8?b?w4RubmU=?=",
        "=?broken?q?==?=",
        "Zoë ✉",
        '"unterminated',
    ]
)
MAILBOX = st.builds(
    lambda name, address: f"{name} <{address}>" if name else address, DISPLAY, ADDRESS
)
HEADER_NAMES = st.sampled_from(
    [
        "Auto-Submitted",
        "Precedence",
        "X-Autoreply",
        "List-Id",
        "Delivered-To",
        "Resent-To",
        "References",
        "In-Reply-To",
        "Return-Path",
        "Cc",
        "Content-Type",
        "X-Odoo-Objects",
    ]
)
HEADER_VALUES = st.one_of(
    st.sampled_from(
        [
            "auto-replied",
            "auto-generated",
            "bulk",
            "<>",
            "no",
            "<a@b>" * 300,
            "text/plain; charset=unknown-8bit",
        ]
    ),
    MAILBOX,
    st.text(max_size=80).map(lambda text: text.replace("\r", " ").replace("\n", " ")),
)


@st.composite
def raw_messages(draw):
    headers = []
    if draw(st.booleans()):
        headers.append(("From", draw(MAILBOX)))
    recipients = draw(st.lists(MAILBOX, min_size=0, max_size=5))
    if draw(st.integers(0, 20)) == 0:
        recipients = [f"user{i}@many.example" for i in range(1000)] + recipients
    headers.append(("To", ", ".join(recipients)))
    headers.append(
        ("Subject", draw(st.text(max_size=40)).replace("\r", " ").replace("\n", " "))
    )
    headers.append(("Message-ID", f"<fuzz-{uuid.uuid4().hex}@test.example>"))
    for _index in range(draw(st.integers(0, 6))):
        headers.append((draw(HEADER_NAMES), draw(HEADER_VALUES)))
    body = draw(st.text(max_size=200))
    text = "".join(f"{name}: {value}\n" for name, value in headers) + "\n" + body
    raw = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        # byte-level mutation: flip, cut or inject raw bytes
        position = draw(st.integers(0, max(len(raw) - 1, 0)))
        raw = (
            raw[:position]
            + draw(st.binary(max_size=8))
            + raw[position + draw(st.integers(0, 5)) :]
        )
    return raw


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestRoutingFuzz(GatewayCase):
    @settings(
        max_examples=int(os.environ.get("MRP_FUZZ_EXPLAIN_EXAMPLES", 1500)),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(raw=raw_messages())
    def test_explainer_never_crashes(self, raw):
        # odoo.sql_db: "bad query" of a NUL-laden value (psycopg2's ValueError, handled)
        with mute_logger(
            "odoo.addons.mail.models.mail_thread",
            "odoo.addons.mail_routing_policy.models.mail_thread",
            "odoo.sql_db",
        ):
            decision, trace = self.env["mail.routing.check"]._explain_incoming(raw)
        self.assertTrue(trace, "the explainer always says something")
        self.assertIsInstance(decision, str)

    def _committed_log_ids(self):
        # (id, count): a repeat of automatic mail folds into an existing entry
        with self.env.registry.cursor() as cr:
            cr.execute("SELECT id, count FROM mail_gateway_log")
            return set(cr.fetchall())

    def _logged_messages(self):
        self.env.flush_all()
        self.env.cr.execute("SELECT coalesce(sum(count), 0) FROM mail_gateway_log")
        return self.env.cr.fetchone()[0]

    @settings(
        max_examples=int(os.environ.get("MRP_FUZZ_PROCESS_EXAMPLES", 400)),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(raw=raw_messages())
    def test_processing_routes_or_logs(self, raw):
        Thread = self.env["mail.thread"].sudo()
        try:
            parsed = Thread.message_parse(
                email.message_from_bytes(raw, policy=email.policy.SMTP)
            )
        except Exception:
            parsed = {}
        logs_before = self._logged_messages()
        committed_before = self._committed_log_ids()
        # odoo.sql_db: "bad query" of a NUL-laden value (psycopg2's ValueError, handled)
        with mute_logger(
            "odoo.addons.mail.models.mail_thread",
            "odoo.addons.mail_routing_policy.models.mail_thread",
            "odoo.sql_db",
        ):
            try:
                with self.env.cr.savepoint():
                    result = Thread.message_process(None, raw)
            except ValueError:
                # no route: the delivery fails (fetchmail keeps the message),
                # the log entry is committed in its own transaction
                new_logs = self._committed_log_ids() - committed_before
                with self.env.registry.cursor() as cr:
                    ids = [log_id for log_id, _count in new_logs]
                    cr.execute(
                        "DELETE FROM ir_attachment WHERE res_model = "
                        "'mail.gateway.log' AND res_id = ANY(%s)",
                        [ids],
                    )
                    cr.execute("DELETE FROM mail_gateway_log WHERE id = ANY(%s)", [ids])
                self.assertTrue(new_logs, "a message without route was not logged")
                return
        if result:
            return
        logged = self._logged_messages() > logs_before
        self.assertTrue(
            logged or parsed.get("is_bounce"), "message neither routed nor logged"
        )
