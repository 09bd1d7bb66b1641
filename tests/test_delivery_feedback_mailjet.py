# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Mailjet's event API against Odoo's real HTTP server, with the payloads of
https://dev.mailjet.com/email/guides/webhooks/ (one event a request, or
grouped), authenticated by the Basic credentials of the URL; Odoo's
Message-ID travels as X-MJ-CustomID."""

import json
import time
import urllib.parse

from odoo.tests import tagged

from .delivery_feedback_common import (
    DeliveryFeedbackCase,
    ProviderGuarantees,
    oversize_json,
)


def mailjet_event(event, custom_id, email, when=None, **extra):
    return {
        "event": event,
        "time": when or int(time.time()),
        "MessageID": 13792286917004336,
        "Message_GUID": "1ab23cd4-e567-8901-2345-6789f0gh1i2j",
        "email": email,
        "mj_campaign_id": 0,
        "mj_contact_id": 0,
        "customcampaign": "",
        "CustomID": custom_id,
        "Payload": "",
        **extra,
    }


def mailjet_bounce(custom_id, email, hard=True, when=None):
    return mailjet_event(
        "bounce",
        custom_id,
        email,
        when,
        blocked=False,
        hard_bounce=hard,
        error_related_to="recipient",
        error="user unknown" if hard else "mailbox inactive",
    )


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDeliveryFeedbackMailjet(ProviderGuarantees, DeliveryFeedbackCase):
    provider = "mailjet"

    def bounce_request(self, message_id, uid):
        body = mailjet_bounce(
            message_id, self.customer.email, when=1700000000 + abs(hash(uid)) % 10**6
        )
        return json.dumps(body).encode(), {}, self.url()

    def forged_requests(self):
        body, _headers, url = self.bounce_request(self.message.message_id, "forged")
        parsed = urllib.parse.urlsplit(url)
        bare = parsed._replace(netloc=parsed.netloc.split("@", 1)[1]).geturl()
        return [
            ("signature_missing", 401, body, {}, bare),
            (
                "bad_credentials",
                401,
                body,
                {},
                url.replace(self.server.delivery_feedback_secret, "guess"),
            ),
            ("not_json", 400, b"event=bounce", {}, url),
            ("bad_shape", 400, b"[]", {}, url),
        ]

    def oversize_request(self):
        return oversize_json(), {}, self.url()

    def test_grouped_events(self):
        mail = self.message.message_id
        email = self.customer.email
        other = "someone@elsewhere.example"
        group = [
            mailjet_event("sent", mail, email, 1, smtp_reply="250 2.0.0 OK"),
            mailjet_bounce(mail, email, hard=False, when=2),
            mailjet_event("spam", mail, email, 3, source="JMRPP"),
            mailjet_event("unsub", mail, other, 4, mj_list_id=1),
            mailjet_event(
                "blocked", "<gone@other.example>", other, 5, error="preblocked"
            ),
            mailjet_bounce(mail, email, when=6),
            mailjet_event("open", mail, email, 7),
        ]
        response = self.post(json.dumps(group).encode())
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            sorted(self.events().mapped(lambda event: (event.kind, event.state))),
            sorted(
                [
                    ("delivered", "recorded"),
                    ("deferred", "applied"),
                    ("complaint", "applied"),
                    ("unsubscribe", "applied"),
                    ("bounce", "unknown"),
                    ("bounce", "applied"),
                ]
            ),
        )
        self.assertEqual(self.customer.message_bounce, 1)
        self.assertIn("Mailjet could not deliver", self.notification.failure_reason)
        self.assertIn("user unknown", self.notification.failure_reason)
        self.assertEqual(self.post(json.dumps(group).encode()).status_code, 200)
        self.assertEqual(len(self.events()), 6, "grouped again: kept once")

    def test_mail_sent_through_mailjet_carries_its_custom_id(self):
        mail, sent = self.send_through_relay()
        custom_id = sent["X-MJ-CustomID"].strip()
        self.assertEqual(custom_id, mail.message_id)
        body = mailjet_bounce(custom_id, self.customer.email)
        self.assertEqual(self.post(json.dumps(body).encode()).status_code, 200)
        self.assertEqual(self.events().mail_message_id, mail.mail_message_id)
