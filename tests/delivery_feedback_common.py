# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""What the provider tests share: a customer, a mail to them, HTTP posts to
a server's webhook URL through Odoo's real HTTP server, and the guarantees
every provider keeps (``ProviderGuarantees``: refusals change nothing and
are counted, duplicates are applied once, unknown messages are kept, a
database error keeps nothing, bodies are bounded)."""

import email
import email.policy
import socket
from unittest.mock import patch

import psycopg2
from aiosmtpd.controller import Controller

from odoo import modules
from odoo.tests import HttpCase
from odoo.tools import mute_logger

from ..models.mail_delivery_event import MailDeliveryEvent
from ..tools import delivery_feedback


class RecordingHandler:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            email.message_from_bytes(
                envelope.original_content, policy=email.policy.SMTP
            )
        )
        return "250 OK"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DeliveryFeedbackCase(HttpCase):
    """A server of ``provider`` and a queued mail to a customer."""

    provider = None
    server_values = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = cls.env["ir.mail_server"].create(
            {
                "name": f"{cls.provider} relay",
                "smtp_host": "127.0.0.1",
                "smtp_port": 25,
                "smtp_encryption": "none",
                "delivery_feedback_provider": cls.provider,
                **cls.server_values,
            }
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Dead Address", "email": "dead@customer.example"}
        )
        cls.record = cls.env["res.partner"].create({"name": "Quotation thread"})
        cls.message = cls.post_message()
        cls.notification = cls.message.notification_ids.filtered(
            lambda notification: notification.res_partner_id == cls.customer
        )

    @classmethod
    def post_message(cls, body="Your quotation"):
        # queued, not sent: the relay does not exist
        return cls.record.with_context(mail_notify_force_send=False).message_post(
            body=body,
            partner_ids=cls.customer.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )

    def url(self, server=None):
        return (server or self.server).delivery_feedback_url

    def post(self, body, headers=None, url=None):
        return self.url_open(
            url or self.url(),
            data=body,
            headers={"Content-Type": "application/json", **(headers or {})},
        )

    def refusals(self):
        return {
            refusal.reason: refusal.count
            for refusal in self.env["mail.delivery.refusal"].search(
                [("server_id", "=", self.server.id)]
            )
        }

    def events(self):
        return self.env["mail.delivery.event"].search(
            [("server_id", "=", self.server.id)]
        )

    def send_through_relay(self):
        """Send a mail through this server to a real SMTP server on
        loopback; the message as the relay received it."""
        handler = RecordingHandler()
        controller = Controller(handler, hostname="127.0.0.1", port=free_port())
        controller.start()
        self.addCleanup(controller.stop)
        self.server.smtp_port = controller.port
        mail = self.env["mail.mail"].create(
            {
                "subject": "Invoice",
                "body_html": "<p>Your invoice</p>",
                "email_from": "shop@test.example",
                "email_to": self.customer.email,
                "mail_server_id": self.server.id,
            }
        )
        with patch.object(modules.module, "current_test", False):
            mail.send(raise_exception=True)
        self.assertEqual(len(handler.messages), 1)
        return mail, handler.messages[0]


class ProviderGuarantees:
    """The tests every provider passes; a provider's test class defines
    ``bounce_request(message_id, recipient, uid)`` -> (body, headers, url),
    ``forged_requests()`` -> [(reason code, status, body, headers, url)] and
    ``oversize_request()`` -> (body, headers, url) of a body just over the
    limit, authenticated."""

    # Odoo's runner takes only the methods a test class defines itself
    # (odoo.tests.loader): these are inherited by every provider's class
    allow_inherited_tests_method = True

    def assert_refused(self, response, status):
        self.assertEqual((response.status_code, response.text), (status, "refused\n"))

    def test_guarantee_first_delivery_applies_a_bounce(self):
        response = self.post(*self.bounce_request(self.message.message_id, "uid-1"))
        self.assertEqual((response.status_code, response.text), (200, "ok\n"))
        self.assertEqual(self.notification.notification_status, "bounce")
        self.assertEqual(self.customer.message_bounce, 1)
        event = self.events()
        self.assertEqual(
            (event.kind, event.state, event.mail_message_id, event.partner_ids),
            ("bounce", "applied", self.message, self.customer),
        )

    # what a captured request sent again verbatim gets: Mailgun's token and
    # SendGrid's signature are accepted once (406); the others' events are
    # kept once by their ids (200, nothing done)
    verbatim_replay_status = 200

    def test_guarantee_duplicate_and_replay_apply_once(self):
        first = self.bounce_request(self.message.message_id, "uid-2")
        self.assertEqual(self.post(*first).status_code, 200)
        for _attempt in range(2):
            # the provider's retry (newly signed where the provider signs)
            response = self.post(*self.bounce_request(self.message.message_id, "uid-2"))
            self.assertEqual(response.status_code, 200)
        # a captured request sent again
        self.assertEqual(self.post(*first).status_code, self.verbatim_replay_status)
        self.assertEqual(len(self.events()), 1)
        self.assertEqual(self.customer.message_bounce, 1)

    def test_guarantee_unknown_message_is_kept(self):
        response = self.post(
            *self.bounce_request("<gone@other-database.example>", "uid-3")
        )
        self.assertEqual(response.status_code, 200)
        event = self.events()
        self.assertEqual(event.state, "unknown")
        self.assertEqual(event.message_id, "<gone@other-database.example>")
        self.assertTrue(event.payload)
        self.assertEqual(self.customer.message_bounce, 0)

    def test_guarantee_forged_requests_change_nothing_and_are_counted(self):
        cases = self.forged_requests()
        with mute_logger("odoo.addons.mail_routing_policy.models.mail_delivery_event"):
            for reason, status, body, headers, url in cases:
                with self.subTest(reason=reason):
                    self.assert_refused(self.post(body, headers, url), status)
            body, headers, url = self.oversize_request()
            self.assert_refused(self.post(body, headers, url), 413)
            # a body of unknown length (chunked) is refused before it is read
            body, headers, url = self.bounce_request(self.message.message_id, "uid-4")
            self.assert_refused(self.post(iter([body]), headers, url), 411)
        self.assertFalse(self.events())
        self.assertEqual(self.customer.message_bounce, 0)
        self.assertNotEqual(self.notification.notification_status, "bounce")
        counts = self.refusals()
        expected = {}
        for reason, *_rest in cases:
            expected[reason] = expected.get(reason, 0) + 1
        expected["too_large"] = expected.get("too_large", 0) + 1
        expected["length_required"] = 1
        self.assertEqual(counts, expected)
        # a wrong token in the URL: like an unknown server
        response = self.post(
            body, headers, url.replace(self.server.delivery_feedback_token, "x" * 32)
        )
        self.assertEqual(response.status_code, 404)

    def test_guarantee_database_error_keeps_nothing_then_retry_applies(self):
        request = self.bounce_request(self.message.message_id, "uid-5")
        original = MailDeliveryEvent._apply_bounce

        def failing(record, *args):
            original(record, *args)
            raise psycopg2.OperationalError("server closed the connection")

        with (
            patch.object(MailDeliveryEvent, "_apply_bounce", failing),
            mute_logger("odoo.http"),
        ):
            self.assertEqual(self.post(*request).status_code, 500)
        self.assertFalse(self.events(), "none kept")
        self.assertEqual(self.customer.message_bounce, 0, "none applied")
        self.assertEqual(self.post(*request).status_code, 200)
        self.assertEqual(self.customer.message_bounce, 1)


def oversize_json(prefix=b'{"padding": "'):
    """A JSON body one byte over the limit."""
    size = delivery_feedback.MAX_BODY + 1
    return prefix + b"x" * (size - len(prefix) - 2) + b'"}'
