# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Brevo (Sendinblue) transactional webhooks against Odoo's real HTTP
server, with the payloads of https://developers.brevo.com/docs/transactional-webhooks
(one event a request, or a list when batched), authenticated by the Basic
credentials of the URL or the bearer token Brevo can send."""

import json
import time
import urllib.parse

from odoo.tests import tagged

from .delivery_feedback_common import (
    DeliveryFeedbackCase,
    ProviderGuarantees,
    oversize_json,
)


def brevo_event(event, message_id, email, ts_event=None, **extra):
    ts_event = ts_event or int(time.time())
    return {
        "event": event,
        "email": email,
        "id": 26224,
        "date": "2024-01-15 10:52:00",
        "ts": ts_event,
        "message-id": message_id,
        "ts_event": ts_event,
        "subject": "Your invoice",
        "tag": "",
        "sending_ip": "185.41.28.109",
        "ts_epoch": ts_event * 1000,
        "tags": [],
        **extra,
    }


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDeliveryFeedbackBrevo(ProviderGuarantees, DeliveryFeedbackCase):
    provider = "brevo"

    def bounce_request(self, message_id, uid):
        body = brevo_event(
            "hard_bounce",
            message_id,
            self.customer.email,
            ts_event=1700000000 + abs(hash(uid)) % 10**6,
            reason="550 5.1.1 user unknown",
        )
        return json.dumps(body).encode(), {}, self.url()

    def bare_url(self):
        parsed = urllib.parse.urlsplit(self.url())
        return parsed._replace(netloc=parsed.netloc.split("@", 1)[1]).geturl()

    def forged_requests(self):
        body, _headers, url = self.bounce_request(self.message.message_id, "forged")
        return [
            ("signature_missing", 401, body, {}, self.bare_url()),
            (
                "bad_credentials",
                401,
                body,
                {},
                url.replace(self.server.delivery_feedback_secret, "guess"),
            ),
            (
                "bad_credentials",
                401,
                body,
                {"Authorization": "Bearer guess"},
                self.bare_url(),
            ),
            ("not_json", 400, b"<xml/>", {}, url),
            ("bad_shape", 400, json.dumps({"no": "event"}).encode(), {}, url),
        ]

    def oversize_request(self):
        return oversize_json(), {}, self.url()

    def test_bearer_token_is_accepted(self):
        body, _headers, _url = self.bounce_request(self.message.message_id, "bearer")
        response = self.post(
            body,
            {"Authorization": f"Bearer {self.server.delivery_feedback_secret}"},
            self.bare_url(),
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.customer.message_bounce, 1)

    def test_every_documented_event_in_one_batch(self):
        mail = self.message.message_id
        email = self.customer.email
        second = self.post_message("Second")
        other = "someone@elsewhere.example"
        batch = [
            brevo_event("soft_bounce", mail, email, 1, reason="mailbox full"),
            brevo_event("deferred", mail, email, 2),
            brevo_event("delivered", mail, email, 3),
            brevo_event("spam", mail, email, 4),
            brevo_event("unsubscribed", mail, other, 5),
            brevo_event("hard_bounce", mail, email, 6, reason="550 unknown"),
            brevo_event("invalid_email", second.message_id, other, 7),
            brevo_event("blocked", "<gone@other.example>", other, 8),
            brevo_event("opened", mail, email, 9),
            brevo_event("request", mail, email, 10),
        ]
        response = self.post(json.dumps(batch).encode(), url=self.url())
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            sorted(self.events().mapped(lambda event: (event.kind, event.state))),
            sorted(
                [
                    ("deferred", "applied"),
                    ("deferred", "applied"),
                    ("delivered", "recorded"),
                    ("complaint", "applied"),
                    ("unsubscribe", "applied"),
                    ("bounce", "applied"),
                    ("bounce", "applied"),
                    ("bounce", "unknown"),
                ]
            ),
            "opened and request change nothing and are not kept",
        )
        self.assertEqual(self.customer.message_bounce, 1)
        self.assertEqual(self.notification.notification_status, "bounce")
        # the batch again (Brevo retries): nothing new
        self.assertEqual(
            self.post(json.dumps(batch).encode(), url=self.url()).status_code, 200
        )
        self.assertEqual(len(self.events()), 8)
        self.assertEqual(self.customer.message_bounce, 1)

    def test_mail_sent_through_brevo_is_found_by_its_custom_header(self):
        mail, sent = self.send_through_relay()
        custom = sent["X-Mailin-custom"].strip()
        self.assertEqual(custom, f"odoo-message-id:{mail.message_id}")
        # Brevo returns the header as is, and its own message-id
        body = brevo_event(
            "hard_bounce",
            "<202401151052.12345678901@smtp-relay.mailin.fr>",
            self.customer.email,
            **{"X-Mailin-custom": custom},
        )
        self.assertEqual(self.post(json.dumps(body).encode()).status_code, 200)
        self.assertEqual(self.events().mail_message_id, mail.mail_message_id)
