# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The reason tables (tools/<room>/*_reasons.py) and the mailgate's options
(cli/mailgate_options.py): complete, consistent with what the code
produces, and the gateway log's stored values unchanged."""

import ast
import contextlib
import io
import pathlib
import re

from odoo.tests import BaseCase, TransactionCase, tagged

from odoo.addons.mail_routing_policy.cli import (
    client_limits,
    mailgate,
    mailgate_options,
    smtp_handler,
)
from odoo.addons.mail_routing_policy.tools import reason_texts
from odoo.addons.mail_routing_policy.tools.incoming import (
    auth_policy,
    auth_reasons,
    routing_reasons,
)
from odoo.addons.mail_routing_policy.tools.mailgate import smtp_reasons

ADDON = pathlib.Path(__file__).resolve().parent.parent

# the values mail.gateway.log.reason stored before the tables: never changed
STORED_REASONS = [
    "allow_list",
    "auto_reply",
    "read_receipt",
    "self_loop",
    "forwarding_loop",
    "loop_reply",
    "rate_limit",
    "reply_limit",
    "write_to_catchall",
    "alias_refused",
    "no_route",
    "unparseable",
    "auth_spoofed",
    "auth_unverified",
    "dmarc_reject",
    "dmarc_quarantine",
    "ambiguous_from",
    "rcpt_relay",
    "rcpt_unknown",
    "rcpt_deferred",
    "client_limit",
    "error_limit",
    "pregreet",
    "timeout",
]
# a value for every name a reason text shows
SAMPLE_PARAMS = {
    "domains": ["example.org"],
    "evidence": "Auto-Submitted: auto-replied",
    "sender": "ann@example.com",
    "address": "sales@example.com",
    "recipients": "nobody@example.com",
    "contact": "partners",
    "error": "HeaderParseError: bad",
    "count": 4,
    "minutes": 60,
    "threshold": 3,
    "model": "res.partner",
    "result": "fail",
    "from_domain": "example.com",
    "from_problem": "no_from",
    "limit": "client_sessions",
    "value": 50,
}


def produced_limits():
    """The limit codes the mailgate's code hands to ``LimitHit``: string
    constants in its calls, and the rates named by ``ClientLimits``."""
    codes = set()
    for path in (ADDON / "cli").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", "") == "LimitHit"
                and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant)
            ):
                codes.add(node.args[1].value)
    # ClientLimits names its rates f"{name[:-1]}_rate" (connections, messages...)
    return codes | {"connection_rate", "message_rate", "recipient_rate"}


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestReasonTables(BaseCase):
    def test_stored_values_unchanged(self):
        """The families together give the selection the log always stored,
        in the same order, each with its label."""
        selection = reason_texts.log_reason_selection()
        self.assertEqual([code for code, _label in selection], STORED_REASONS)
        for code, label in selection:
            with self.subTest(code=code):
                self.assertTrue(label)

    def test_families_in_their_files(self):
        """Each family registers its own reasons: the authentication's are
        auth_policy's, the mailgate's session reasons client_limits'."""
        families = reason_texts.log_reason_families()
        self.assertEqual(
            list(families), ["routing", "authentication", "smtp_rcpt", "smtp_session"]
        )
        self.assertEqual(tuple(families["authentication"]), auth_policy.REASONS)
        self.assertEqual(smtp_reasons.SMTP_SESSION_REASONS, client_limits.LIMIT_REASONS)
        self.assertEqual(
            set(families["smtp_rcpt"]), set(smtp_reasons.RCPT_REFUSALS_BY_REASON)
        )
        with self.assertRaises(ValueError):
            reason_texts.register_log_reasons(
                "another", 99, [reason_texts.ReasonText("no_route")]
            )

    def test_every_reason_has_words(self):
        """A template, or the name of a composer the explanation model has."""
        for family in reason_texts.log_reason_families().values():
            for code, entry in family.items():
                with self.subTest(code=code):
                    self.assertTrue(entry.text or entry.compose)
        for code in auth_policy.REASONS:
            with self.subTest(code=code):
                self.assertIn(code, auth_reasons.AUTH_TEXTS)
        self.assertEqual(
            set(routing_reasons.LOOP_COUNT_TEXTS),
            {
                (scope, n)
                for scope in ("reply", "alias", "model")
                for n in ("one", "many")
            },
        )

    def test_every_limit_has_reply_and_words(self):
        """Every limit the mailgate's code produces has an SMTP reply and a
        text, and the text names the reply's codes."""
        limits = smtp_reasons.SMTP_LIMITS
        self.assertLessEqual(produced_limits(), set(limits))
        self.assertEqual(set(smtp_handler.LIMIT_REPLIES), set(limits))
        for code, entry in limits.items():
            with self.subTest(limit=code):
                self.assertRegex(entry.reply, r"^[245]\d\d [245]\.\d\.\d ")
                self.assertIn(entry.reply[:9], entry.text._translate("en_US"))

    def test_every_rcpt_refusal_has_reply_and_words(self):
        for code, refusal in smtp_reasons.RCPT_REFUSALS.items():
            with self.subTest(code=code):
                self.assertIn("{rcpt}", refusal.reply)
                self.assertIn(refusal.reply[:9], refusal.text._translate("en_US"))
                self.assertTrue(refusal.label.endswith("(SMTP)"))

    def test_data_refusals(self):
        """Every authentication reason the mailgate may refuse at the end of
        DATA has its 550 reply."""
        self.assertEqual(set(auth_reasons.DATA_REFUSALS), set(auth_policy.REASONS))
        for reply in auth_reasons.DATA_REFUSALS.values():
            self.assertTrue(reply.startswith("550 5.7.1 "))
        self.assertIn("DMARC", auth_reasons.DATA_REFUSALS["dmarc_reject"])

    def test_aiosmtpd_limits_recognised(self):
        """aiosmtpd's own closing replies, as the table words them."""
        options = smtp_handler.MailgateOptions()
        hit = smtp_handler.aiosmtpd_limit("421 4.7.0 NOOP sent too many times", options)
        self.assertEqual(hit.limit, "junk_commands")
        hit = smtp_handler.aiosmtpd_limit(
            "502 5.5.1 Too many unrecognized commands, goodbye.", options
        )
        self.assertEqual(hit.limit, "unknown_commands")
        self.assertIsNone(smtp_handler.aiosmtpd_limit("421 4.7.0 Bye", options))


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestReasonWords(TransactionCase):
    def test_every_reason_worded(self):
        """Every reason of every family is worded with its values filled:
        no code, no placeholder left, in text and in HTML."""
        Explanation = self.env["mail.routing.explanation"].with_context(lang="en_US")
        for code, _label in reason_texts.log_reason_selection():
            for html in (False, True):
                with self.subTest(code=code, html=html):
                    text = str(Explanation._refusal_text(code, SAMPLE_PARAMS, html))
                    self.assertNotEqual(text, code)
                    self.assertNotRegex(text, r"%\(|%s|\?$")

    def test_every_limit_worded(self):
        Explanation = self.env["mail.routing.explanation"].with_context(lang="en_US")
        for limit in smtp_reasons.SMTP_LIMITS:
            with self.subTest(limit=limit):
                text = Explanation._smtp_limit_text(
                    "client_limit", {"limit": limit, "value": 2.5}
                )
                self.assertIn("2.5", text)
                self.assertNotIn("%", text)
        self.assertEqual(
            Explanation._smtp_limit_text("pregreet", {"value": 0.3}),
            Explanation._smtp_limit_text(
                "pregreet", {"limit": "pregreet_wait", "value": 0.3}
            ),
        )

    def test_loop_counts_worded(self):
        Explanation = self.env["mail.routing.explanation"].with_context(lang="en_US")
        partner = self.env["res.partner"].create({"name": "Loop target"})
        for kind, extra in (
            ("reply", {"model": "res.partner", "res_id": partner.id}),
            ("create", {"model": "res.partner"}),
        ):
            for count, word in ((1, "1 re"), (5, "5 re")):
                with self.subTest(kind=kind, count=count):
                    text = Explanation._limit_text(
                        "rate_limit",
                        dict(extra, kind=kind, count=count, minutes=60, threshold=3),
                    )
                    self.assertTrue(text.startswith(word), text)
                    self.assertIn("(limit 3)", text)


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestMailgateOptions(BaseCase):
    def test_one_source(self):
        """The parser's defaults, ``MailgateOptions``' and ``ClientPolicy``'s
        values all come from the options' rows."""
        parser = mailgate.Mailgate()._parser()
        parsed, _rest = parser.parse_known_args([])
        defaults = smtp_handler.MailgateOptions()
        for option in mailgate_options.OPTIONS:
            with self.subTest(option=option.name):
                self.assertEqual(option.value(parsed), getattr(defaults, option.name))
                self.assertEqual(parser.get_default(option.name), option.cli_default)
        policy = smtp_handler.client_policy(defaults)
        for option in mailgate_options.OPTIONS:
            if option.policy:
                with self.subTest(policy=option.policy):
                    self.assertEqual(
                        getattr(policy, option.policy), getattr(defaults, option.name)
                    )
        self.assertEqual(policy.stress_sessions, int(defaults.max_sessions * 0.8))

    def test_help_names_defaults(self):
        help_text = re.sub(r"\s+", " ", mailgate.Mailgate()._parser().format_help())
        self.assertIn("concurrent sessions per client (50)", help_text)
        self.assertIn("MiB of DATA a client may send at full speed", help_text)
        self.assertIn("(4; 0: off)", help_text)
        self.assertIn("over it 452 (1024)", help_text)
        self.assertIn("80 % of --max-sessions", help_text)

    def test_units_and_bounds(self):
        parser = mailgate.Mailgate()._parser()
        parsed, rest = parser.parse_known_args(
            ["--client-data-rate", "0.5", "--max-data-memory", "8", "-d", "db"]
        )
        self.assertEqual(rest, ["-d", "db"])
        values = {o.name: o.value(parsed) for o in mailgate_options.OPTIONS}
        self.assertEqual(values["client_data_rate"], 512 * 1024)
        self.assertEqual(values["max_data_memory"], 8 * 1024 * 1024)
        for args in (
            ["--workers", "0"],
            ["--client-sessions", "-1"],
            ["--timeout", "x"],
        ):
            with (
                self.subTest(args=args),
                self.assertRaises(SystemExit),
                contextlib.redirect_stderr(io.StringIO()) as stderr,
            ):
                parser.parse_known_args(args)
            self.assertIn(args[0], stderr.getvalue())
