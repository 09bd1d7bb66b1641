# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Bad input: generated and mutated raw messages through the explainer and
through real processing. Nothing may crash unhandled, and every message
must end routed or logged with a reason.

Two hypothesis profiles: ``short``, the default, keeps a test run short
(each run draws new examples, so runs add up); ``deep``
(``MRP_FUZZ_PROFILE=deep``, run by ``scripts/fuzz``) draws many more, for a
maintainer before a release. ``MRP_FUZZ_EXPLAIN_EXAMPLES`` and
``MRP_FUZZ_PROCESS_EXAMPLES`` set the counts by hand. A test plants a crash
in the router for one kind of input and checks that the short profile finds
it."""

import email
import email.policy
import os
import uuid
from unittest.mock import patch

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import GatewayCase, delete_committed_logs

# Hypothesis keeps caches in .hypothesis/ of the current folder: never in the
# addon's, which Odoo reads (odoo-bin run from the checkout)
if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    set_hypothesis_home_dir(
        os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
            "mail_routing_policy",
            "hypothesis",
        )
    )

# examples of the explainer's test; processing a message costs about
# twice as much, its test draws a quarter as many
settings.register_profile(
    "mail_routing_policy-short",
    max_examples=60,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    print_blob=True,
)
settings.register_profile(
    "mail_routing_policy-deep",
    settings.get_profile("mail_routing_policy-short"),
    max_examples=8000,
)
PROFILE = settings.get_profile(
    f"mail_routing_policy-{os.environ.get('MRP_FUZZ_PROFILE', 'short')}"
)
EXPLAIN = settings(
    PROFILE,
    max_examples=int(os.environ.get("MRP_FUZZ_EXPLAIN_EXAMPLES", PROFILE.max_examples)),
)
PROCESS = settings(
    PROFILE,
    max_examples=int(
        os.environ.get("MRP_FUZZ_PROCESS_EXAMPLES", PROFILE.max_examples // 4)
    ),
)

# the values a message's parts are drawn from, several to a line
# fmt: off
LOCAL = st.sampled_from(
    ["info", "commercial", "ann", "INFO", "noreply", "mailer-daemon", "x" * 70, ""]
)
DOMAIN = st.sampled_from([
    "test.mycompany.com", "Test.MyCompany.COM", "gmail.com", "bücher.example",
    "xn--bcher-kva.example", "exa mple.com", "", "[127.0.0.1]",
])
ADDRESS = st.builds(
    lambda local, domain: f"{local}@{domain}" if domain else local, LOCAL, DOMAIN
)
DISPLAY = st.sampled_from([
    "", "Ann", '"Doe, Ann"', "=?utf-8?b?w4RubmU=?=", "=?broken?q?==?=", "Zoë ✉",
    '"unterminated',
])
MAILBOX = st.builds(
    lambda name, address: f"{name} <{address}>" if name else address, DISPLAY, ADDRESS
)
HEADER_NAMES = st.sampled_from([
    "Auto-Submitted", "Precedence", "X-Autoreply", "List-Id", "Delivered-To",
    "Resent-To", "References", "In-Reply-To", "Return-Path", "Cc", "Content-Type",
    "X-Odoo-Objects",
])
# fmt: on
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
    # a long recipient list now and then (hypothesis draws the bound 0 in
    # about one example of ten): 200 addresses are far more than a real mail
    # carries and cost the router 70 ms; 1,000 cost 330 ms for nothing more
    if draw(st.integers(0, 20)) == 0:
        recipients = [f"user{i}@many.example" for i in range(200)] + recipients
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


class PlantedCrash(Exception):
    """The crash test_short_profile_finds_a_planted_crash puts in the router."""


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestRoutingFuzz(GatewayCase):
    @EXPLAIN
    @given(raw=raw_messages())
    def test_explainer_never_crashes(self, raw):
        self._explain(raw)

    def test_short_profile_finds_a_planted_crash(self):
        """A router that crashes on one kind of input (a recipient on a
        punycode domain, in about a quarter of the generated messages) fails
        the explainer's fuzz test with its settings, within its examples. The
        crash is planted in the first rule of the pipeline, which every
        message reaches (a later one is not reached by mail the
        authentication rule already refused)."""
        Thread = type(self.env["mail.thread"])
        first_rule = Thread._routing_rule_authentication
        seen = []

        def crashing_rule(thread, message, message_dict, facts):
            seen.append(1)
            if "xn--bcher-kva.example" in str(message.get("To", "")).lower():
                raise PlantedCrash(str(message.get("To")))
            return first_rule(thread, message, message_dict, facts)

        # the same strategy and settings as test_explainer_never_crashes;
        # without shrinking (finding is the point, and shrinking takes longer)
        fuzz = settings(
            EXPLAIN,
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
            report_multiple_bugs=False,
        )(given(raw=raw_messages())(self._explain))
        with (
            patch.object(Thread, "_routing_rule_authentication", crashing_rule),
            self.assertRaises(PlantedCrash) as caught,
        ):
            fuzz()
        self.assertIn("xn--bcher-kva.example", str(caught.exception).lower())
        self.assertTrue(seen, "the router ran its rules on the messages")

    def _explain(self, raw):
        # odoo.sql_db: "bad query" of a NUL-laden value (psycopg2's ValueError, handled)
        with mute_logger(
            "odoo.addons.mail.models.mail_thread",
            "odoo.addons.mail_routing_policy.models.mail_thread_incoming",
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

    @PROCESS
    @given(raw=raw_messages())
    def test_processing_routes_or_logs(self, raw):
        Thread = self.env["mail.thread"].sudo()
        try:
            # odoo.sql_db: the parent lookup by a NUL-laden References (the
            # "bad query" of psycopg2's ValueError, handled here)
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
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
            "odoo.addons.mail_routing_policy.models.mail_thread_incoming",
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
                    delete_committed_logs(cr, ids)
                self.assertTrue(new_logs, "a message without route was not logged")
                return
        if result:
            return
        logged = self._logged_messages() > logs_before
        self.assertTrue(
            logged or parsed.get("is_bounce"), "message neither routed nor logged"
        )
