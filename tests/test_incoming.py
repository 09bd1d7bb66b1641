# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Incoming rules: allow-list, automatic mail, self-loop, rate limit, log, explainer."""

import base64
import datetime
import email
import email.policy

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import GatewayCase, load_german

ROUTING_LOGGER = "odoo.addons.mail.models.mail_thread"


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestIncomingRouting(GatewayCase):
    def _committed_logs(self, message_id):
        """Logs written in their own transaction (the delivery itself failed)."""
        with self.env.registry.cursor() as cr:
            cr.execute(
                "SELECT reason FROM mail_gateway_log WHERE message_id = %s",
                [message_id],
            )
            reasons = [row[0] for row in cr.fetchall()]
            cr.execute(
                """DELETE FROM ir_attachment WHERE res_model = 'mail.gateway.log'
                   AND res_id IN (SELECT id FROM mail_gateway_log WHERE message_id =
                       %s)""",
                [message_id],
            )
            cr.execute(
                "DELETE FROM mail_gateway_log WHERE message_id = %s", [message_id]
            )
        return reasons

    # ------------------------------------------------------------------
    # allow-list
    # ------------------------------------------------------------------

    def test_allow_list_validated_and_normalised(self):
        self.ICP.set_param(
            "mail.catchall.domain.allowed",
            " Example.ORG, .Trusted.example ,bücher.example",
        )
        self.assertEqual(
            self.ICP.get_param("mail.catchall.domain.allowed"),
            "example.org,*.trusted.example,xn--bcher-kva.example",
        )
        with self.assertRaises(ValidationError) as ctx:
            self.ICP.set_param(
                "mail.catchall.domain.allowed", "example.org, exa mple.com"
            )
        self.assertIn("exa mple.com", str(ctx.exception))

    def test_allow_list_refuses_other_domains_for_local_part_aliases(self):
        self.ICP.set_param(
            "mail.catchall.domain.allowed", "example.org,*.trusted.example"
        )
        msg_id = "<allow-list-1@test.example>"
        with self.assertRaises(ValueError), mute_logger(ROUTING_LOGGER):
            self.process(
                "ann@customer.example",
                "commercial@gmail.com",
                subject="Gmail lead",
                msg_id=msg_id,
            )
        self.assertEqual(self._committed_logs(msg_id), ["allow_list"])
        self.assertEqual(
            len(
                self.process(
                    "ann@customer.example", "commercial@example.org", subject="Org lead"
                )
            ),
            1,
        )
        self.assertEqual(
            len(
                self.process(
                    "ann@customer.example",
                    "commercial@mx.trusted.example",
                    subject="Wild",
                )
            ),
            1,
        )
        # alias domain is implicitly allowed, whatever the case
        self.assertEqual(
            len(
                self.process(
                    "ann@customer.example",
                    "COMMERCIAL@Test.MyCompany.COM",
                    subject="Case",
                )
            ),
            1,
        )

    def test_allow_list_applies_to_cc_and_delivered_to(self):
        self.ICP.set_param("mail.catchall.domain.allowed", "example.org")
        with self.assertRaises(ValueError), mute_logger(ROUTING_LOGGER):
            self.process(
                "ann@customer.example",
                "bob@customer.example",
                cc="commercial@gmail.com",
                subject="Cc lead",
                extra="Delivered-To: commercial@gmail.com\n",
                msg_id="<allow-cc@test.example>",
            )
        self.assertEqual(
            self._committed_logs("<allow-cc@test.example>"), ["allow_list"]
        )
        partners = self.process(
            "ann@customer.example",
            "bob@customer.example",
            cc="commercial@example.org",
            subject="Cc ok",
        )
        self.assertEqual(len(partners), 1)

    def test_allow_list_idn(self):
        self.ICP.set_param("mail.catchall.domain.allowed", "xn--bcher-kva.example")
        self.assertEqual(
            len(
                self.process(
                    "ann@customer.example", "commercial@bücher.example", subject="IDN"
                )
            ),
            1,
        )

    def test_without_allow_list_core_local_part_matching_kept(self):
        self.assertEqual(
            len(
                self.process(
                    "ann@customer.example", "commercial@gmail.com", subject="Core"
                )
            ),
            1,
        )

    def test_sender_is_never_a_recipient(self):
        with self.assertRaises(ValueError), mute_logger(ROUTING_LOGGER):
            self.process(
                "commercial@gmail.com",
                "commercial@gmail.com",
                cc="bob@elsewhere.example",
                subject="Self",
                msg_id="<self-rcpt@test.example>",
            )
        self.assertEqual(self._committed_logs("<self-rcpt@test.example>"), ["no_route"])

    # ------------------------------------------------------------------
    # automatic mail
    # ------------------------------------------------------------------

    def test_auto_reply_never_creates_a_record(self):
        for header in (
            "Auto-Submitted: Auto-Replied; owner=x",
            "X-Autoreply: yes",
            "Precedence: auto_reply",
        ):
            with self.subTest(header=header), self.mock_mail_gateway():
                subject = f"Out of office {header[:8]}"
                # one sender each: repeats of one sender's auto-replies fold into one
                # entry
                partners = self.process(
                    f"ann.{header[:4].lower()}@customer.example",
                    "info@test.mycompany.com",
                    subject=subject,
                    extra=header + "\n",
                )
                self.assertFalse(partners)
                log = self.logs(subject=subject)
                self.assertEqual(log.reason, "auto_reply")
                # stopped before routing, the entry still says where it was going
                self.assertEqual(
                    (log.alias_id, log.model), (self.alias_info, "res.partner")
                )
                self.assertFalse(self.emails, "never answered")

    def test_deeply_nested_message_is_logged_unparseable(self):
        """Python's parser recurses into nested parts: a message nested
        thousands of levels deep is logged as unreadable (headers kept),
        not failed again at every retry."""
        nested = "".join(
            f'Content-Type: multipart/mixed; boundary="b{level}"\n\n--b{level}\n'
            for level in range(3000)
        )
        raw = (
            "From: ann@customer.example\nTo: info@test.mycompany.com\nSubject: Nested\n"
            "Message-Id: <nested@customer.example>\nMIME-Version: 1.0\n"
            + nested
            + "Content-Type: text/plain\n\nx\n"
        )
        with mute_logger("odoo.addons.mail_routing_policy.models.mail_gateway_log"):
            self.assertIs(
                self.env["mail.thread"].sudo().message_process(False, raw), False
            )
        log = self.logs(subject="Nested")
        self.assertEqual(log.reason, "unparseable")
        self.assertIn("RecursionError", log.detail_params["error"])

    def test_auto_submitted_no_is_human(self):
        partners = self.process(
            "ann@customer.example",
            "info@test.mycompany.com",
            subject="Human",
            extra="Auto-Submitted: no\n",
        )
        self.assertEqual(len(partners), 1)

    def test_auto_reply_to_thread_posted_without_email(self):
        partner = self.process(
            "ann@customer.example", "info@test.mycompany.com", subject="Thread"
        )
        follower = self.env["res.partner"].create(
            {"name": "Follower", "email": "follower@example.org"}
        )
        partner.message_subscribe(follower.ids)
        first = partner.message_ids[0]
        with self.mock_mail_gateway():
            self.process(
                "ann@customer.example",
                "info@test.mycompany.com",
                subject="Re: Thread auto",
                extra=(
                    f"In-Reply-To: {first.message_id}\n"
                    "Auto-Submitted: auto-replied\n"
                ),
            )
        self.assertIn("Re: Thread auto", partner.message_ids.mapped("subject"))
        self.assertFalse(self.emails, "followers are not emailed about an auto-reply")
        with self.mock_mail_gateway():
            self.process(
                "ann@customer.example",
                "info@test.mycompany.com",
                subject="Re: Thread human",
                extra=f"In-Reply-To: {first.message_id}\n",
            )
        self.assertTrue(self.emails, "a human reply still notifies followers")

    def test_automated_mail_creates_record_but_is_never_answered(self):
        partners = self.process(
            "news@customer.example",
            "info@test.mycompany.com",
            subject="Bulk",
            extra="Precedence: bulk\n",
        )
        self.assertEqual(len(partners), 1)
        with self.mock_mail_gateway():
            self.process(
                "noreply@customer.example",
                "catchall.test@test.mycompany.com",
                subject="To catchall",
                model="res.partner",
            )
        self.assertFalse(self.emails, "no bounce to a no-reply sender")
        log = self.logs(subject="To catchall")
        self.assertEqual(log.reason, "write_to_catchall")
        self.assertFalse(log.bounced)
        with self.mock_mail_gateway():
            self.process(
                "ann@customer.example",
                "catchall.test@test.mycompany.com",
                subject="Human catchall",
            )
        self.assertEqual(
            len(self.emails), 1, "a human writing to catchall is still told"
        )
        self.assertTrue(self.logs(subject="Human catchall").bounced)

    def test_read_receipt_never_creates_record_nor_bounce(self):
        partner = self.env["res.partner"].create(
            {"name": "Reader", "email": "ann@customer.example"}
        )
        report = (
            "Content-Type: multipart/report; report-type=disposition-notification; "
            'boundary="b"\n\n'
            "--b\nContent-Type: text/plain\n\nYour message was read.\n"
            "--b\nContent-Type: message/disposition-notification\n\n"
            "Final-Recipient: rfc822; ann@customer.example\nDisposition: "
            "manual-action/MDN-sent-manually; displayed\n"
            "--b--\n"
        )
        raw = self.raw(
            "ann@customer.example", "info@test.mycompany.com", subject="Read: x"
        )
        raw = raw.replace(
            "Content-Type: text/plain; charset=utf-8\n\nPlease call me as soon as "
            "possible.\n",
            report,
        )
        self.env["mail.thread"].sudo().message_process(None, raw)
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Read: x")]))
        self.assertEqual(self.logs(subject="Read: x").reason, "read_receipt")
        self.assertEqual(partner.message_bounce, 0, "a read receipt is not a bounce")

    # ------------------------------------------------------------------
    # self-loop and forwarding loop
    # ------------------------------------------------------------------

    def test_self_loop_dropped_and_logged_never_bounced(self):
        for own in (
            "catchall.test@test.mycompany.com",
            "bounce.test@test.mycompany.com",
            "notifications.test@test.mycompany.com",
        ):
            with self.subTest(own=own), self.mock_mail_gateway():
                subject = f"Loop {own[:8]}"
                self.assertFalse(
                    self.process(own, "info@test.mycompany.com", subject=subject)
                )
                self.assertEqual(self.logs(subject=subject).reason, "self_loop")
                self.assertFalse(self.emails)
        self.ICP.set_param("mail.default.from", "robot@elsewhere.example")
        self.assertFalse(
            self.process(
                "robot@elsewhere.example",
                "info@test.mycompany.com",
                subject="Param loop",
            )
        )

    def test_forwarding_loop(self):
        extra = (
            "Delivered-To: info@test.mycompany.com\nDelivered-To: "
            "INFO@test.mycompany.com\n"
        )
        self.assertFalse(
            self.process(
                "ann@customer.example",
                "info@test.mycompany.com",
                subject="Fwd",
                extra=extra,
            )
        )
        self.assertEqual(self.logs(subject="Fwd").reason, "forwarding_loop")

    # ------------------------------------------------------------------
    # rate limit
    # ------------------------------------------------------------------

    def test_rate_limit_one_notice_per_window_and_expiry(self):
        self.ICP.set_param("mail.gateway.loop.threshold", 3)
        self.ICP.set_param("mail.gateway.loop.minutes", 30)
        start = datetime.datetime(2026, 11, 2, 10, 0, 0)
        senders = ["Spam@Loop.example", "spam@loop.example", "SPAM@LOOP.EXAMPLE"]
        with self.mock_datetime_and_now(start):
            for index in range(3):
                self.assertEqual(
                    len(
                        self.process(
                            senders[index],
                            "info@test.mycompany.com",
                            subject=f"R{index}",
                        )
                    ),
                    1,
                )
            with self.mock_mail_gateway():
                self.assertFalse(
                    self.process(
                        "spam@loop.example", "info@test.mycompany.com", subject="R3"
                    )
                )
                self.assertFalse(
                    self.process(
                        "spam@loop.example", "info@test.mycompany.com", subject="R4"
                    )
                )
            self.assertEqual(len(self.emails), 1, "one notice per window")
            self.assertIn("Auto-Submitted: auto-replied", self.emails[0]["message"])
            self.assertEqual(self.emails[0]["smtp_to_list"], ["spam@loop.example"])
            self.assertEqual(self.logs(subject="R3").reason, "rate_limit")
            self.assertTrue(self.logs(subject="R3").bounced)
            self.assertFalse(self.logs(subject="R4").bounced)
            # another alias has its own counter
            self.assertEqual(
                len(
                    self.process(
                        "spam@loop.example",
                        "commercial@test.mycompany.com",
                        subject="R5",
                    )
                ),
                1,
            )
        with self.mock_datetime_and_now(start + datetime.timedelta(minutes=31)):
            self.assertEqual(
                len(
                    self.process(
                        "spam@loop.example", "info@test.mycompany.com", subject="R6"
                    )
                ),
                1,
            )

    def test_rate_limit_per_alias_override_and_trusted_domain(self):
        self.ICP.set_param("mail.gateway.loop.threshold", 50)
        self.alias_info.loop_threshold = 1
        self.assertEqual(
            len(
                self.process(
                    "bot@robots.example", "info@test.mycompany.com", subject="A1"
                )
            ),
            1,
        )
        self.assertFalse(
            self.process("bot@robots.example", "info@test.mycompany.com", subject="A2")
        )
        self.assertIn("1 record per", self.alias_info.loop_effective)
        self.env["mail.gateway.allowed"].create({"email": ".Robots.example"})
        self.assertEqual(
            self.env["mail.gateway.allowed"].search([]).mapped("email"),
            ["*.robots.example"],
        )
        self.assertFalse(
            self.process("bot@robots.example", "info@test.mycompany.com", subject="A3")
        )
        self.env["mail.gateway.allowed"].create({"email": "robots.example"})
        self.assertEqual(
            len(
                self.process(
                    "bot@robots.example", "info@test.mycompany.com", subject="A4"
                )
            ),
            1,
        )
        with self.assertRaises(ValidationError):
            self.env["mail.gateway.allowed"].create({"email": "foo@"})
        # a formatted address, as core's own tests create it, is kept as its address
        trusted = self.env["mail.gateway.allowed"].create(
            {"email": '"Alice" <Alice@Example.com>'}
        )
        self.assertEqual(trusted.email, "alice@example.com")

    def test_replies_not_limited_unless_reply_threshold(self):
        self.ICP.set_param("mail.gateway.loop.threshold", 1)
        partner = self.process(
            "ann@customer.example", "info@test.mycompany.com", subject="Base"
        )
        ref = partner.message_ids[0].message_id
        for index in range(3):
            self.process(
                "ann@customer.example",
                "info@test.mycompany.com",
                subject=f"Re {index}",
                extra=f"In-Reply-To: {ref}\n",
            )
        self.assertEqual(
            len(
                partner.message_ids.filtered(
                    lambda m: m.subject and m.subject.startswith("Re ")
                )
            ),
            3,
        )
        self.ICP.set_param("mail.gateway.loop.reply_threshold", 1)
        self.process(
            "ann@customer.example",
            "info@test.mycompany.com",
            subject="Re 3",
            extra=f"In-Reply-To: {ref}\n",
        )
        self.process(
            "ann@customer.example",
            "info@test.mycompany.com",
            subject="Re 4",
            extra=f"In-Reply-To: {ref}\n",
        )
        self.assertIn("Re 3", partner.message_ids.mapped("subject"))
        self.assertNotIn("Re 4", partner.message_ids.mapped("subject"))
        self.assertEqual(self.logs(subject="Re 4").reason, "reply_limit")

    def test_loop_params_validated(self):
        for key, bad in (
            ("mail.gateway.loop.threshold", "abc"),
            ("mail.gateway.loop.minutes", "0"),
        ):
            with self.subTest(key=key), self.assertRaises(ValidationError) as ctx:
                self.ICP.set_param(key, bad)
            self.assertIn(key, str(ctx.exception))

    # ------------------------------------------------------------------
    # log and Process again
    # ------------------------------------------------------------------

    def test_process_again(self):
        self.ICP.set_param("mail.gateway.loop.threshold", 1)
        self.process("spam@loop.example", "info@test.mycompany.com", subject="P1")
        self.assertFalse(
            self.process("spam@loop.example", "info@test.mycompany.com", subject="P2")
        )
        log = self.logs(subject="P2")
        self.assertEqual(log.reason, "rate_limit")
        self.assertTrue(log.raw_message)
        log.action_process_again()
        self.assertEqual(log.state, "done")
        self.assertEqual(len(self.env["res.partner"].search([("name", "=", "P2")])), 1)
        auto = self.auto_reply("P3")
        self.assertFalse(auto)
        self.logs(subject="P3").action_process_again()
        self.assertEqual(len(self.env["res.partner"].search([("name", "=", "P3")])), 1)

    def test_log_counts_repeats_of_one_message_only(self):
        auto = "X-Autoreply: yes\n"
        raw = self.raw(
            "ann@customer.example",
            "info@test.mycompany.com",
            subject="D1",
            extra=auto,
            msg_id="<d1@x>",
        )
        Thread = self.env["mail.thread"].sudo()
        Thread.message_process(None, raw)
        Thread.message_process(None, raw)
        log = self.logs(message_id="<d1@x>")
        self.assertEqual(len(log), 1, "a redelivery adds to the entry")
        self.assertEqual(log.count, 2)
        # Odoo reads both broken Message-IDs as "<f": two messages, two
        # entries (two senders: repeats of one sender's auto-replies fold)
        for subject in ("D2", "D3"):
            Thread.message_process(
                None,
                self.raw(
                    f"{subject.lower()}@customer.example",
                    "info@test.mycompany.com",
                    subject=subject,
                    extra=auto,
                    msg_id=f"<f({subject}@x>",
                ),
            )
        logs = self.logs(message_id="<f")
        self.assertEqual(sorted(logs.mapped("subject")), ["D2", "D3"])
        self.assertEqual(logs.mapped("count"), [1, 1])

    def test_raw_message_kept_then_purged(self):
        self.auto_reply("G1")
        log = self.logs(subject="G1")
        self.assertIn(b"Subject: G1", base64.b64decode(log.raw_message))
        self.ICP.set_param("mail.gateway.log.retention_days", 10)
        log._gc_logs()
        self.assertTrue(log.raw_message, "younger than the retention period: kept")
        self.backdate_log(log, 11)
        log._gc_logs()
        self.assertTrue(log.exists(), "the entry stays, only the raw message goes")
        self.assertFalse(log.raw_message)
        with self.assertRaisesRegex(UserError, "was purged"):
            log.action_process_again()

    def test_cached_alias_domains_follow_changes(self):
        Thread = self.env["mail.thread"]
        self.assertNotIn("catchall@other.example", Thread._get_own_addresses())
        domain = self.env["mail.alias.domain"].create({"name": "other.example"})
        self.assertIn("catchall@other.example", Thread._get_own_addresses())
        domain.catchall_alias = "replies"
        self.assertIn("replies@other.example", Thread._get_own_addresses())
        self.assertNotIn("catchall@other.example", Thread._get_own_addresses())
        domain.unlink()
        self.assertNotIn("replies@other.example", Thread._get_own_addresses())

    def test_alias_lookup_equals_core_domain(self):
        """The mailgate's SQL alias lookup finds exactly what core's
        message_route domain finds, for every kind of recipient list."""
        other = self.env["mail.alias.domain"].create({"name": "other.example"})
        self._make_alias("commercial", alias_domain_id=other.id)
        self._make_alias("support", alias_domain_id=other.id, alias_incoming_local=True)
        self._make_alias("orphan", alias_domain_id=False, alias_incoming_local=True)
        local_alias = self._make_alias("pending", alias_domain_id=other.id)
        # unflushed: the lookup must see this transaction's own changes too
        local_alias.alias_incoming_local = True
        Alias = self.env["mail.alias"].sudo()
        domain_name = self.mail_alias_domain.name
        cases = [
            ([f"commercial@{domain_name}"], ["commercial"]),
            (["commercial@other.example"], ["commercial"]),
            (["commercial@gmail.com"], ["commercial"]),
            (["support@gmail.com"], ["support"]),
            (["info@gmail.com"], ["info"]),
            (["orphan@gmail.com"], ["orphan"]),
            (["pending@gmail.com"], ["pending"]),
            ([f"info@{domain_name}", "support@other.example"], ["info", "support"]),
            ([f"INFO@{domain_name.upper()}"], ["INFO"]),
            ([], ["commercial", "support"]),
            ([f"info@{domain_name}"], []),
            ([], []),
            (["nobody@other.example"], ["nobody"]),
        ]
        for addresses, local_parts in cases:
            with self.subTest(addresses=addresses, local_parts=local_parts):
                core = Alias.search(
                    [
                        "|",
                        ("alias_full_name", "in", addresses),
                        "&",
                        ("alias_name", "in", local_parts),
                        ("alias_incoming_local", "=", True),
                    ]
                )
                self.assertEqual(
                    Alias._routing_alias_ids(addresses, local_parts), sorted(core.ids)
                )
        found = Alias._routing_alias_ids(
            ["commercial@gmail.com", f"info@{domain_name}"], ["commercial"]
        )
        self.assertEqual(
            sorted(Alias.browse(found).mapped("alias_full_name")),
            [f"commercial@{domain_name}", f"info@{domain_name}"],
            "a local part reaches only the alias that accepts any domain",
        )

    def test_log_and_explainers_are_admin_only(self):
        self.auto_reply("L")
        portal = self._create_portal_user()
        for user in (self.user_employee, portal):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    self.env["mail.gateway.log"].with_user(user).search([])
                with self.assertRaises(AccessError):
                    self.env["mail.routing.check"].with_user(user).create(
                        {"raw_message": "x"}
                    )
                with self.assertRaises(AccessError):
                    self.env["mail.gateway.log.process"].with_user(user).create(
                        {"log_id": self.logs(subject="L").id}
                    )
                with self.assertRaises(AccessError):
                    self.logs(subject="L").with_user(
                        user
                    ).action_confirm_process_again()
                with self.assertRaises(AccessError):
                    self.env["mail.gateway.event"].with_user(user).search([])
                with self.assertRaises(AccessError):
                    self.env["mail.gateway.loop.guard"].with_user(user).search([])
                with self.assertRaises(AccessError):
                    self.env["mail.gateway.allowed"].with_user(user).create(
                        {"email": "x@y.example"}
                    )
                with self.assertRaises(AccessError):
                    self.env["mail.sender.check"].with_user(user).create(
                        {"email_from": "a@b.example"}
                    )
                with self.assertRaises(AccessError):
                    self.logs(subject="L").with_user(user).action_process_again()
                with self.assertRaises(AccessError):
                    self.env["ir.config_parameter"].with_user(user).set_param(
                        "mail.gateway.loop.threshold", 1
                    )
                with self.assertRaises(AccessError):
                    self.alias_info.with_user(user).write({"loop_threshold": 1000})

    # ------------------------------------------------------------------
    # explainer
    # ------------------------------------------------------------------

    def _db_state(self):
        return {
            model: self.env[model].sudo().search_count([])
            for model in (
                "res.partner",
                "mail.gateway.log",
                "mail.gateway.event",
                "mail.mail",
                "mail.message",
            )
        }

    def test_explainer_leaves_database_untouched(self):
        self.ICP.set_param("mail.gateway.loop.threshold", 1)
        self.ICP.set_param("mail.catchall.domain.allowed", "example.org")
        self.process("spam@loop.example", "info@test.mycompany.com", subject="E0")
        Check = self.env["mail.routing.check"]
        cases = [
            (
                self.raw(
                    "ann@customer.example", "info@test.mycompany.com", subject="E1"
                ),
                "Would create a new Contact through alias info@test.mycompany.com.",
            ),
            (
                self.raw("spam@loop.example", "info@test.mycompany.com", subject="E2"),
                "Would be refused: 1 record from this sender in the last 120 minutes "
                "through alias "
                "info@test.mycompany.com (limit 1)",
            ),
            (
                self.raw("ann@customer.example", "commercial@gmail.com", subject="E3"),
                "Would be refused: the recipient's domain gmail.com is not an allowed "
                "alias domain.",
            ),
            (
                self.raw(
                    "ann@customer.example",
                    "info@test.mycompany.com",
                    subject="E4",
                    extra="X-Autoreply: 1\n",
                ),
                "Would be refused: it is an automatic reply (X-Autoreply: 1)",
            ),
            (
                self.raw(
                    "catchall.test@test.mycompany.com",
                    "info@test.mycompany.com",
                    subject="E5",
                ),
                "Would be refused: the sender catchall.test@test.mycompany.com is one "
                "of this database's own",
            ),
        ]
        before = self._db_state()
        with self.mock_mail_gateway():
            for raw, expected in cases:
                with self.subTest(expected=expected):
                    decision, trace = Check._explain_incoming(raw)
                    self.assertTrue(decision.startswith(expected), decision)
                    self.assertIn(
                        ("sender", {"address": raw.split("From: ")[1].split("\n")[0]}),
                        trace,
                    )
        self.assertEqual(self._db_state(), before)
        self.assertFalse(self.emails)
        decision, trace = Check._explain_incoming(cases[2][0])
        self.assertIn(
            ("recipient_removed", {"address": "commercial@gmail.com", "why": "domain"}),
            trace,
        )
        wizard = Check.create({"raw_message": cases[1][0]})
        wizard.action_explain()
        self.assertIn("Would be refused: 1 record from this sender", wizard.verdict)
        self.assertIn(
            f'href="/odoo/mail.alias/{self.alias_info.id}"',
            wizard.verdict,
            "links the alias",
        )
        self.assertIn("<li>Sender: spam@loop.example.</li>", wizard.steps)
        self.assertIn("Loop protection: 1 record from", wizard.steps)
        self.assertNotIn(
            "rate_limit", wizard.steps + wizard.verdict, "no developer codes"
        )
        self.assertEqual(self._db_state(), before)

    def test_explainer_refuses_what_is_not_an_email(self):
        Check = self.env["mail.routing.check"]
        for text in (
            "garbage, not a message at all",
            "From: a@b.example\x00\nSubject: x\n\nbody",
            "   ",
        ):
            with self.subTest(text=text):
                wizard = Check.create({"raw_message": text})
                wizard.action_explain()
                self.assertIn("This is not an email message", wizard.verdict)
                self.assertNotIn("Message-ID", wizard.verdict)
        both = Check.create(
            {
                "raw_message": self.raw(
                    "ann@customer.example", "info@test.mycompany.com"
                ),
                "eml_file": base64.b64encode(b"From: x@y.example\n\nbody"),
            }
        )
        with self.assertRaisesRegex(UserError, "not both"):
            both.action_explain()

    def test_explainer_fallback_model_is_a_choice_of_models(self):
        """An admin picks the fallback model from the models that take mail,
        not a technical name typed by hand."""
        Check = self.env["mail.routing.check"]
        domain = Check._fields["fallback_model_id"].domain
        self.assertIn(
            "res.partner", self.env["ir.model"].search(domain).mapped("model")
        )
        self.assertNotIn(
            "res.users.log", self.env["ir.model"].search(domain).mapped("model")
        )
        raw = self.raw(
            "ann@customer.example", "nobody@test.mycompany.com", subject="Fallback"
        )
        without = Check.create({"raw_message": raw})
        without.action_explain()
        self.assertIn("Would be refused", without.verdict)
        partner = self.env["ir.model"]._get("res.partner")
        wizard = Check.create({"raw_message": raw, "fallback_model_id": partner.id})
        wizard.action_explain()
        self.assertIn("the fallback model", wizard.verdict)

    def test_log_details_in_the_readers_language_and_process_again_links(self):
        self.ICP.set_param("mail.gateway.loop.threshold", 1)
        self.process("spam@loop.example", "info@test.mycompany.com", subject="Q1")
        self.process("spam@loop.example", "info@test.mycompany.com", subject="Q2")
        log = self.logs(subject="Q2")
        self.assertIn(
            "1 record from this sender in the last 120 minutes through alias",
            log.explanation,
        )
        self.assertIn(f'href="/odoo/mail.alias/{self.alias_info.id}"', log.explanation)
        log.action_process_again()
        partner = self.env["res.partner"].search([("name", "=", "Q2")])
        self.assertEqual(log.state, "done")
        self.assertEqual(log.result_record, partner, "links the created record")
        # refused again for another reason: the entry says so and links the new entry
        self.ICP.set_param("mail.catchall.domain.allowed", "example.org")
        self.process(
            "ann@customer.example",
            "info@test.mycompany.com",
            subject="Q3",
            extra="X-Autoreply: 1\n",
        )
        auto = self.logs(subject="Q3")
        self.assertEqual(auto.reason, "auto_reply")
        self.env["mail.gateway.allowed"].create({"email": "loop.example"})
        self.alias_info.alias_contact = "followers"
        auto.action_process_again()
        self.assertEqual(auto.state, "refused")
        self.assertTrue(auto.result_log_id)
        self.assertEqual(auto.result_log_id.reason, "alias_refused")
        self.assertIn("Refused again", auto.result)
        self.assertEqual(auto.status, "refused_again")
        # the record named with the reader's quotation marks
        self.assertIn("Processed again: created Contact “Q2”", log.result)

    # ------------------------------------------------------------------
    # the admin's second walk (issue 30)
    # ------------------------------------------------------------------

    def test_explainer_names_the_alias_of_another_domain(self):
        """firma.example allowed, the alias on mail.firma.example: the
        explainer says why kontakt@firma.example found no alias and which
        option of the alias would match it (issue 30, 1)."""
        other = self.env["mail.alias.domain"].create({"name": "mail.firma.example"})
        alias = self._make_alias("kontakt", alias_domain_id=other.id)
        self.ICP.set_param("mail.catchall.domain.allowed", "firma.example")
        raw = self.raw("ann@customer.example", "kontakt@firma.example", subject="KD")
        Check = self.env["mail.routing.check"]
        verdict, _trace = Check._explain_incoming(raw)
        self.assertIn(
            "Would be refused: no alias, catchall address or existing thread "
            "matches its recipients (kontakt@firma.example); alias "
            "kontakt@mail.firma.example has this name on another domain: it "
            "matches mail to other domains only when its option “Local-part based "
            "incoming detection” is ticked.",
            verdict,
        )
        german = load_german(self.env)
        option = german["mail.alias"]._fields["alias_incoming_local"]
        verdict_de, _trace = german["mail.routing.check"]._explain_incoming(raw)
        self.assertIn(
            "Alias kontakt@mail.firma.example trägt diesen Namen in einer anderen "
            f"Domain: Er nimmt E-Mails an andere Domains nur an, wenn seine Option "
            f"„{option._description_string(german)}“ angehakt ist",
            verdict_de,
        )
        # the option ticked: it routes
        alias.alias_incoming_local = True
        verdict, _trace = Check._explain_incoming(raw)
        self.assertIn("create a new Contact through alias kontakt@", verdict)
        # the help says what the list is: recipient domains, not senders
        help_text = (
            self.env["res.config.settings"]
            ._fields["routing_catchall_domain_allowed"]
            .help
        )
        self.assertIn("Recipient domains, not senders", help_text)
        self.assertIn("Local-part based incoming detection", help_text)

    def _log_no_route(self, email_from, to, subject):
        """A no-route entry, as the gateway logs it (in a transaction of its
        own there: here in the test's)."""
        raw = self.raw(email_from, to, subject=subject).encode()
        message = email.message_from_bytes(raw, policy=email.policy.SMTP)
        Thread = self.env["mail.thread"].sudo().with_context(mail_routing_raw=raw)
        message_dict = Thread.message_parse(message)
        Thread._routing_refuse(message, message_dict, "no_route", {"recipients": to})
        return self.logs(subject=subject)

    def test_process_again_when_the_preview_refuses(self):
        """An entry that would be refused again: the dialog says so, its
        button says the mail stays refused and the fix is offered; processing
        it again words core's no-route error in the reader's language
        (issue 30, 6)."""
        log = self._log_no_route("ann@customer.example", "nobody@firma.example", "N1")
        log_de = self._log_no_route(
            "bob@customer.example", "nobody@firma.example", "N2"
        )
        self.assertEqual((log | log_de).mapped("reason"), ["no_route"] * 2)
        self.assertFalse(log.model)
        action = log.action_confirm_process_again()
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        self.assertTrue(wizard.would_refuse)
        self.assertEqual(wizard.refusal_reason, "no_route")
        self.assertIn("Would be refused: no alias", wizard.preview)
        arch = wizard.get_view()["arch"]
        self.assertIn('string="Process again: stays refused"', arch)
        self.assertIn('name="action_open_aliases"', arch)
        self.assertEqual(wizard.action_open_aliases()["res_model"], "mail.alias")
        count = self.env["mail.gateway.log"].search_count([])
        wizard.action_process_again()
        self.assertEqual(log.state, "refused")
        self.assertEqual(log.status, "refused_again")
        self.assertEqual(
            log.result,
            "Refused again: no alias, catchall address or existing thread matches "
            "its recipients (nobody@firma.example).",
        )
        self.assertEqual(
            self.env["mail.gateway.log"].search_count([]), count, "no entry added"
        )
        german = load_german(self.env)
        german["mail.gateway.log"].browse(log_de.id).action_process_again()
        self.assertTrue(
            log_de.result.startswith("Erneut abgewiesen, denn kein Alias"),
            log_de.result,
        )
        self.assertNotIn("No possible route", log_de.result)
        # core's English-only errors, in the reader's words
        Explanation = german["mail.routing.explanation"]
        self.assertNotIn(
            "No possible route",
            Explanation._routing_error_text(
                ValueError("No possible route found for incoming message from x")
            ),
        )
        self.assertIn(
            "nimmt keine eingehenden E-Mails an",
            Explanation._routing_error_text(
                ValueError(
                    "Undeliverable mail with Message-Id <a@b>, model res.partner "
                    "does not accept incoming emails"
                )
            ),
        )
