# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Delivery feedback webhooks against Odoo's real HTTP server: bodies signed
exactly as Mailgun and SendGrid sign them, with keys made here."""

import base64
import json
import secrets
import time
from unittest.mock import patch

import psycopg2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from odoo import http
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from ..models.mail_delivery_event import MailDeliveryEvent
from ..tools import delivery_feedback
from .common import load_german
from .delivery_feedback_signing import mailgun_body  # noqa: F401 - shared


def mailgun_failure(message_id, recipient, severity="permanent", event="failed"):
    return {
        "event": event,
        "severity": severity,
        "reason": "bounce" if severity == "permanent" else "generic",
        "id": secrets.token_urlsafe(16),
        "timestamp": time.time(),
        "recipient": recipient,
        "message": {"headers": {"message-id": message_id.strip("<>")}},
        "delivery-status": {
            "code": 550 if severity == "permanent" else 421,
            "description": "5.1.1 The email account that you tried to reach "
            "does not exist",
        },
    }


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDeliveryFeedback(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mailgun_key = secrets.token_hex(16)
        cls.sendgrid_private = ec.generate_private_key(ec.SECP256R1())
        sendgrid_public = base64.b64encode(
            cls.sendgrid_private.public_key().public_bytes(
                serialization.Encoding.DER,
                serialization.PublicFormat.SubjectPublicKeyInfo,
            )
        ).decode()
        Server = cls.env["ir.mail_server"]
        cls.mailgun = Server.create(
            {
                "name": "Mailgun relay",
                "smtp_host": "smtp.mailgun.invalid",
                "delivery_feedback_provider": "mailgun",
                "delivery_feedback_key": cls.mailgun_key,
            }
        )
        cls.sendgrid = Server.create(
            {
                "name": "SendGrid relay",
                "smtp_host": "smtp.sendgrid.invalid",
                "delivery_feedback_provider": "sendgrid",
                "delivery_feedback_key": sendgrid_public,
            }
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Dead Address", "email": "dead@customer.example"}
        )
        cls.record = cls.env["res.partner"].create({"name": "Quotation thread"})
        # queued, not sent: the relays of this test do not exist
        cls.message = cls.record.with_context(
            mail_notify_force_send=False
        ).message_post(
            body="Your quotation",
            partner_ids=cls.customer.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        cls.notification = cls.message.notification_ids.filtered(
            lambda notification: notification.res_partner_id == cls.customer
        )

    def path(self, server):
        return server.delivery_feedback_url.split(self.base_url(), 1)[1]

    def post(self, server, body, headers=None):
        return self.url_open(
            self.path(server),
            data=body,
            headers={"Content-Type": "application/json", **(headers or {})},
        )

    def sendgrid_post(self, server, events, timestamp=None, private=None):
        body = json.dumps(events).encode()
        timestamp = str(int(timestamp if timestamp is not None else time.time()))
        signature = (private or self.sendgrid_private).sign(
            timestamp.encode() + body, ec.ECDSA(hashes.SHA256())
        )
        return self.post(
            server,
            body,
            {
                delivery_feedback.SENDGRID_SIGNATURE_HEADER: base64.b64encode(
                    signature
                ).decode(),
                delivery_feedback.SENDGRID_TIMESTAMP_HEADER: timestamp,
            },
        )

    def refusals(self):
        return {
            (refusal.server_id, refusal.reason): refusal.count
            for refusal in self.env["mail.delivery.refusal"].search([])
        }

    def test_server_form_gives_one_url_per_server(self):
        self.assertTrue(self.mailgun.delivery_feedback_token)
        self.assertNotEqual(
            self.mailgun.delivery_feedback_token, self.sendgrid.delivery_feedback_token
        )
        self.assertRegex(
            self.mailgun.delivery_feedback_url,
            rf"/mail_routing_policy/delivery/{self.mailgun.id}/[\w-]{{20,}}"
            rf"\?db={self.env.cr.dbname}$",
        )
        with self.assertRaisesRegex(Exception, "Webhook signing key of SendGrid"):
            self.sendgrid.delivery_feedback_key = "not a key"
            self.sendgrid.flush_recordset()

    def test_mailgun_permanent_failure_is_a_bounce(self):
        response = self.post(
            self.mailgun,
            mailgun_body(
                self.mailgun_key,
                mailgun_failure(self.message.message_id, "Dead@Customer.example"),
            ),
        )
        self.assertEqual((response.status_code, response.text), (200, "ok\n"))
        self.assertEqual(self.notification.notification_status, "bounce")
        self.assertEqual(self.notification.failure_type, "mail_bounce")
        self.assertIn("Mailgun could not deliver", self.notification.failure_reason)
        self.assertIn("5.1.1", self.notification.failure_reason)
        self.assertEqual(self.customer.message_bounce, 1)
        event = self.env["mail.delivery.event"].search([])
        self.assertEqual(
            (event.kind, event.state, event.mail_message_id, event.partner_ids),
            ("bounce", "applied", self.message, self.customer),
        )

    def test_mailgun_temporary_failure_only_noted(self):
        response = self.post(
            self.mailgun,
            mailgun_body(
                self.mailgun_key,
                mailgun_failure(
                    self.message.message_id, self.customer.email, "temporary"
                ),
            ),
        )
        self.assertEqual(response.status_code, 200)
        self.assertNotEqual(self.notification.notification_status, "bounce")
        self.assertIn("Mailgun is retrying", self.notification.failure_reason)
        self.assertEqual(self.customer.message_bounce, 0)

    def test_mailgun_complaint_blacklists_with_a_note(self):
        complaint = mailgun_failure(self.message.message_id, self.customer.email)
        complaint.update(event="complained", severity=None)
        response = self.post(self.mailgun, mailgun_body(self.mailgun_key, complaint))
        self.assertEqual(response.status_code, 200)
        entry = self.env["mail.blacklist"].search(
            [("email", "=", "dead@customer.example")]
        )
        self.assertTrue(entry.active)
        self.assertIn(
            "Reported as spam by its recipient (Mailgun",
            entry.message_ids.mapped("body")[0],
        )
        self.assertIn("Reported as spam", self.notification.failure_reason)

    def test_refused_requests_change_nothing_and_are_counted(self):
        failure = mailgun_failure(self.message.message_id, self.customer.email)
        good = mailgun_body(self.mailgun_key, failure)
        cases = [
            ("stale", mailgun_body(self.mailgun_key, failure, time.time() - 600), 406),
            ("bad_signature", mailgun_body("wrong key", failure), 403),
            ("not_json", b"{not json", 400),
            ("bad_shape", mailgun_body(self.mailgun_key, {"no": "event"}), 400),
            ("signature_missing", json.dumps({"event-data": failure}).encode(), 401),
            ("too_large", b" " * (delivery_feedback.MAX_BODY + 1), 413),
        ]
        with mute_logger("odoo.addons.mail_routing_policy.models.mail_delivery_event"):
            for reason, body, status in cases:
                with self.subTest(reason=reason):
                    response = self.post(self.mailgun, body)
                    self.assertEqual(
                        (response.status_code, response.text), (status, "refused\n")
                    )
            # the signed request is accepted once; sent again it is a replay
            self.assertEqual(self.post(self.mailgun, good).status_code, 200)
            self.assertEqual(self.post(self.mailgun, good).status_code, 406)
        self.assertEqual(self.customer.message_bounce, 1, "applied once")
        # a body of unknown length (chunked) is refused before it is read
        response = self.url_open(
            self.path(self.mailgun),
            data=iter([good]),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 411)
        # an unknown server, a wrong token, another database: all look alike
        url = self.path(self.mailgun)
        for path in (
            url.replace(f"/{self.mailgun.id}/", "/999999/"),
            url.replace(self.mailgun.delivery_feedback_token, "x" * 32),
            url.replace(f"db={self.env.cr.dbname}", "db=other"),
        ):
            response = self.url_open(path, data=good)
            self.assertEqual(
                (response.status_code, response.text), (404, "unknown webhook\n")
            )
        counts = self.refusals()
        for reason, _body, _status in cases:
            self.assertEqual(counts[(self.mailgun, reason)], 1, reason)
        self.assertEqual(counts[(self.mailgun, "replay")], 1)
        self.assertEqual(counts[(self.mailgun, "length_required")], 1)
        self.assertEqual(counts[(self.env["ir.mail_server"], "unknown_server")], 3)
        self.assertEqual(len(self.env["mail.delivery.event"].search([])), 1)

    def test_sendgrid_batch_applies_each_and_keeps_the_unknown(self):
        other = self.record.with_context(mail_notify_force_send=False).message_post(
            body="Second",
            partner_ids=self.customer.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        events = [
            {
                "email": self.customer.email,
                "event": "bounce",
                "type": "bounce",
                "status": "5.1.1",
                "reason": "550 5.1.1 unknown user",
                "smtp-id": self.message.message_id,
                "sg_event_id": "sg-1",
                "timestamp": int(time.time()),
            },
            {
                "email": "someone@elsewhere.example",
                "event": "bounce",
                "type": "bounce",
                "reason": "550 no such user",
                "smtp-id": "<gone@other-database.example>",
                "sg_event_id": "sg-2",
                "timestamp": int(time.time()),
            },
            {"email": self.customer.email, "event": "open", "sg_event_id": "sg-3"},
            {
                "email": self.customer.email,
                "event": "deferred",
                "response": "421 try later",
                "smtp-id": other.message_id,
                "sg_event_id": "sg-4",
                "timestamp": int(time.time()),
            },
        ]
        response = self.sendgrid_post(self.sendgrid, events)
        self.assertEqual(response.status_code, 200)
        Event = self.env["mail.delivery.event"]
        self.assertEqual(
            sorted(Event.search([]).mapped(lambda e: (e.event_uid, e.kind, e.state))),
            [
                ("sg-1", "bounce", "applied"),
                ("sg-2", "bounce", "unknown"),
                ("sg-4", "deferred", "applied"),
            ],
            "the open changes nothing and is not kept",
        )
        unknown = Event.search([("event_uid", "=", "sg-2")])
        self.assertEqual(unknown.payload["reason"], "550 no such user")
        self.assertEqual(self.notification.notification_status, "bounce")
        self.assertEqual(self.customer.message_bounce, 1)
        # the same events again (a retry, newly signed): each applies once
        self.assertEqual(self.sendgrid_post(self.sendgrid, events).status_code, 200)
        self.assertEqual(len(Event.search([])), 3)
        self.assertEqual(self.customer.message_bounce, 1)
        # signed with another key: refused
        stranger = ec.generate_private_key(ec.SECP256R1())
        response = self.sendgrid_post(self.sendgrid, events, private=stranger)
        self.assertEqual(response.status_code, 403)

    def sendgrid_bounces(self, count, prefix):
        return [
            {
                "email": self.customer.email,
                "event": "bounce",
                "type": "bounce",
                "reason": "550 unknown user",
                "smtp-id": self.message.message_id,
                "sg_event_id": f"{prefix}-{index}",
                "timestamp": int(time.time()),
            }
            for index in range(count)
        ]

    def test_a_batch_is_all_or_nothing_and_a_retry_applies_once(self):
        events = self.sendgrid_bounces(2, "sg-retry")
        Event = self.env["mail.delivery.event"]
        original_insert = MailDeliveryEvent._insert_once
        original_bounce = MailDeliveryEvent._apply_bounce
        calls = []

        def insert_failing_once(record, *args):
            calls.append("insert")
            if len(calls) == 2:
                raise RuntimeError("disk full")
            return original_insert(record, *args)

        def bounce_failing_once(record, *args):
            calls.append("bounce")
            if len(calls) == 2:
                # not the event's fault: the whole request is retried
                raise psycopg2.OperationalError("server closed the connection")
            return original_bounce(record, *args)

        for name, failing in (
            ("_insert_once", insert_failing_once),
            ("_apply_bounce", bounce_failing_once),
        ):
            calls.clear()
            with (
                self.subTest(failing=name),
                patch.object(MailDeliveryEvent, name, failing),
                mute_logger("odoo.http"),
            ):
                response = self.sendgrid_post(self.sendgrid, events)
                self.assertEqual(response.status_code, 500)
                self.assertFalse(Event.search([]), "none kept")
                self.assertEqual(self.customer.message_bounce, 0, "none applied")
        # the provider's retry
        self.assertEqual(self.sendgrid_post(self.sendgrid, events).status_code, 200)
        self.assertEqual(Event.search([]).mapped("state"), ["applied"] * 2)
        self.assertEqual(self.customer.message_bounce, 2)

    def test_an_event_whose_effect_fails_is_kept_and_applied_again(self):
        original = MailDeliveryEvent._apply_bounce
        broken = {"sg-fail-0"}

        def failing(record, *args):
            if record.event_uid in broken:
                # what a broken override of the bounce handling would do,
                # after a part of its work
                partner = record.env["res.partner"].browse(self.customer.id)
                partner.message_bounce += 5
                partner.flush_recordset()
                raise ValueError("an override failed")
            return original(record, *args)

        events = self.sendgrid_bounces(2, "sg-fail")
        with (
            patch.object(MailDeliveryEvent, "_apply_bounce", failing),
            mute_logger("odoo.addons.mail_routing_policy.models.mail_delivery_event"),
        ):
            self.assertEqual(self.sendgrid_post(self.sendgrid, events).status_code, 200)
        Event = self.env["mail.delivery.event"]
        failed = Event.search([("state", "=", "failed")])
        self.assertEqual(failed.event_uid, "sg-fail-0")
        self.assertEqual(len(failed), 1)
        self.assertEqual(failed.result, "an override failed")
        self.assertEqual(
            len(Event.search([("state", "=", "applied")])), 1, "the other one applied"
        )
        self.assertEqual(
            self.customer.message_bounce, 1, "the failed one's effects undone"
        )
        # the cause mended (the override fixed): applied again
        failed.action_apply_again()
        self.assertEqual(failed.state, "applied")
        self.assertEqual(self.customer.message_bounce, 2)
        failed.action_apply_again()
        self.assertEqual(self.customer.message_bounce, 2, "applied once")

    def test_delivery_events_tour(self):
        # read every manifest in this thread first (see test_tour.py)
        self.assertTrue(http.root.statics)
        response = self.post(
            self.mailgun,
            mailgun_body(
                self.mailgun_key,
                mailgun_failure(self.message.message_id, self.customer.email),
            ),
        )
        self.assertEqual(response.status_code, 200)
        with (
            patch.object(
                MailDeliveryEvent,
                "_apply_bounce",
                side_effect=ValueError("an override failed"),
                autospec=True,
            ),
            mute_logger("odoo.addons.mail_routing_policy.models.mail_delivery_event"),
        ):
            self.sendgrid_post(self.sendgrid, self.sendgrid_bounces(1, "sg-tour"))
        failed = self.env["mail.delivery.event"].search([("state", "=", "failed")])
        self.assertEqual(failed.event_uid, "sg-tour-0")
        self.start_tour(
            "/odoo/action-mail_routing_policy.mail_delivery_event_action",
            "mail_routing_policy_delivery_events",
            login="admin",
        )
        self.assertEqual(failed.state, "applied")
        self.assertEqual(self.customer.message_bounce, 2)

    def test_events_are_for_administrators_only(self):
        user = new_test_user(self.env, login="clerk", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.env["mail.delivery.event"].with_user(user).search([])
        with self.assertRaises(AccessError):
            self.env["mail.delivery.refusal"].with_user(user).search([])
        with self.assertRaises(AccessError):
            self.env["mail.delivery.event"].with_user(user).browse(
                1
            ).action_apply_again()
        fields = self.env["ir.mail_server"]._fields
        for name in ("delivery_feedback_key", "delivery_feedback_token"):
            self.assertEqual(fields[name].groups, "base.group_system", name)

    def test_events_are_kept_as_long_as_gateway_log_entries(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "mail.gateway.log.keep_days", "10"
        )
        body = mailgun_body(
            self.mailgun_key,
            mailgun_failure(self.message.message_id, self.customer.email),
        )
        self.assertEqual(self.post(self.mailgun, body).status_code, 200)
        event = self.env["mail.delivery.event"].search([])
        self.env.cr.execute(
            "UPDATE mail_delivery_event SET date = now() - interval '11 days' "
            "WHERE id = %s",
            [event.id],
        )
        self.env["mail.gateway.log"]._gc_logs()
        self.assertFalse(
            event.exists(), "older than keep_days: purged by the log's cron"
        )

    # ------------------------------------------------------------------
    # the admin's second walk (issue 30)
    # ------------------------------------------------------------------

    def receive_mailgun(self, event_data):
        """An event as the webhook receives it, without the HTTP round trip."""
        verified = delivery_feedback.verify_mailgun(
            mailgun_body(self.mailgun_key, event_data), self.mailgun_key, time.time()
        )
        self.env["mail.delivery.event"]._receive(self.mailgun, verified)
        return self.env["mail.delivery.event"].search([], limit=1)

    def test_event_form_says_what_was_done_and_shows_its_data(self):
        """Result worded for every state (an unknown message says why nothing
        was applied), the payload shown, the provider's reason not glued to
        Mailgun's own code, a complaint without a bounce's reason, "Reported
        at" (issue 30, 8)."""
        bounce = self.receive_mailgun(
            mailgun_failure(self.message.message_id, self.customer.email)
        )
        self.assertEqual(
            bounce.reason,
            "550 5.1.1 The email account that you tried to reach does not exist",
        )
        self.assertEqual(
            bounce.result_text,
            "Counted as a bounce of dead@customer.example, as a bounce by mail "
            "would be.",
        )
        self.assertIn('"event": "failed"', bounce.payload_text)
        unknown = self.receive_mailgun(
            mailgun_failure("<deleted-long-ago@test.example>", "old@customer.example")
        )
        self.assertEqual(unknown.state, "unknown")
        self.assertIn(
            "Nothing applied: no mail of this database has the Message-ID "
            "<deleted-long-ago@test.example>",
            unknown.result_text,
        )
        complaint = mailgun_failure(self.message.message_id, self.customer.email)
        complaint.update(event="complained", severity=None)
        complaint = self.receive_mailgun(complaint)
        self.assertEqual(complaint.kind, "complaint")
        self.assertFalse(complaint.reason, "a complaint has no delivery attempt")
        self.assertIn("added to the blacklist", complaint.result_text)
        suppressed = mailgun_failure(self.message.message_id, "x@customer.example")
        suppressed["reason"] = "suppress-bounce"
        suppressed = self.receive_mailgun(suppressed)
        self.assertTrue(suppressed.reason.endswith("(Mailgun: suppress-bounce)"))
        german = load_german(self.env)
        Event = german["mail.delivery.event"]
        self.assertEqual(
            Event.fields_get(["event_date"])["event_date"]["string"], "Gemeldet am"
        )
        self.assertTrue(
            Event.browse(unknown.id).result_text.startswith("Nichts angewendet"),
            Event.browse(unknown.id).result_text,
        )
        arch = self.env["mail.delivery.event"].get_view(view_type="form")["arch"]
        self.assertIn('name="payload_text"', arch)
        self.assertIn('name="result_text"', arch)

    def test_server_tab_warns_and_opens_its_own_events(self):
        """No signing key, a webhook URL the provider cannot reach: said on
        the form; the events opened from a server are filtered to it, with a
        filter the admin sees, and say what to check when empty
        (issue 30, 8 and 9)."""
        keyless = self.env["ir.mail_server"].create(
            {
                "name": "Keyless",
                "smtp_host": "smtp.keyless.invalid",
                "delivery_feedback_provider": "mailgun",
            }
        )
        self.assertIn("No webhook signing key", keyless.delivery_feedback_warnings)
        # the test server's base URL: http://127.0.0.1:<port>
        self.assertIn(
            "needs a public HTTPS address", self.mailgun.delivery_feedback_warnings
        )
        self.assertNotIn(
            "No webhook signing key", self.mailgun.delivery_feedback_warnings
        )
        self.env["ir.config_parameter"].sudo().set_param(
            "web.base.url", "https://odoo.firma.example"
        )
        self.mailgun.invalidate_recordset()
        self.assertFalse(self.mailgun.delivery_feedback_warnings)
        for url, public in (
            ("https://odoo.firma.example/x", True),
            ("http://odoo.firma.example/x", False),
            ("https://127.0.0.1:8069/x", False),
            ("https://10.0.0.5/x", False),
            ("https://localhost/x", False),
            ("https://odoo/x", False),
            ("https://203.0.113.5/x", False),
            ("https://8.8.8.8/x", True),
        ):
            with self.subTest(url=url):
                self.assertEqual(delivery_feedback.is_public_https_url(url), public)
        action = self.mailgun.action_open_delivery_events()
        self.assertEqual(
            action["context"], {"search_default_server_id": self.mailgun.id}
        )
        self.assertFalse(action.get("domain"), "no hidden filter")
        self.assertIn("No delivery event from Mailgun relay yet", action["help"])
        search = self.env["mail.delivery.event"].get_view(view_type="search")["arch"]
        self.assertIn('name="server_id"', search)
