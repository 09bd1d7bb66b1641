# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Postmark webhooks against Odoo's real HTTP server, with the payloads of
https://postmarkapp.com/developer/webhooks/webhooks-overview (bounce, spam
complaint, subscription change, delivery) and the Basic credentials Odoo
generated, sent as Postmark sends the credentials of the URL."""

import json
import urllib.parse

from odoo.tests import tagged

from .delivery_feedback_common import (
    DeliveryFeedbackCase,
    ProviderGuarantees,
    oversize_json,
)


def bounce(message_id, email, bounce_id=4323372036, bounce_type="HardBounce"):
    return {
        "RecordType": "Bounce",
        "MessageStream": "outbound",
        "ID": bounce_id,
        "Type": bounce_type,
        "TypeCode": 1 if bounce_type == "HardBounce" else 4096,
        "Name": "Hard bounce" if bounce_type == "HardBounce" else "Soft bounce",
        "Tag": "Invitation",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Metadata": {"odoo-message-id": message_id},
        "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: "
        "unknown user, mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach "
        "does not exist.",
        "Email": email,
        "From": "sender@example.com",
        "BouncedAt": "2019-11-05T16:33:54.9070259Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Test subject",
        "Content": "Return-Path:....",
    }


def spam_complaint(message_id, email, complaint_id=42):
    values = bounce(message_id, email, complaint_id, "SpamComplaint")
    values.update(RecordType="SpamComplaint", TypeCode=512, Name="Spam complaint")
    return values


def delivery(message_id, email):
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": "00000000-0000-0000-0000-000000000000",
        "Recipient": email,
        "Tag": "welcome-email",
        "DeliveredAt": "2019-11-05T16:33:54Z",
        "Details": "Test delivery webhook details",
        "Metadata": {"odoo-message-id": message_id},
    }


def subscription_change(message_id, email, suppress=True, reason="ManualSuppression"):
    return {
        "RecordType": "SubscriptionChange",
        "MessageID": "00000000-0000-0000-0000-000000000000",
        "ServerID": 23,
        "MessageStream": "outbound",
        "ChangedAt": "2020-02-01T10:53:34.416071Z",
        "Recipient": email,
        "Origin": "Recipient",
        "SuppressSending": suppress,
        "SuppressionReason": reason if suppress else None,
        "Tag": "my-tag",
        "Metadata": {"odoo-message-id": message_id},
    }


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDeliveryFeedbackPostmark(ProviderGuarantees, DeliveryFeedbackCase):
    provider = "postmark"

    def bounce_request(self, message_id, uid):
        body = bounce(message_id, self.customer.email, bounce_id=abs(hash(uid)) % 10**9)
        return json.dumps(body).encode(), {}, self.url()

    def without_credentials(self):
        parsed = urllib.parse.urlsplit(self.url())
        return parsed._replace(netloc=parsed.netloc.split("@", 1)[1]).geturl()

    def forged_requests(self):
        body, _headers, url = self.bounce_request(self.message.message_id, "forged")
        wrong = url.replace(self.server.delivery_feedback_secret, "guessed-password")
        return [
            ("signature_missing", 401, body, {}, self.without_credentials()),
            ("bad_credentials", 401, body, {}, wrong),
            (
                "bad_credentials",
                401,
                body,
                {"Authorization": "Basic !!"},
                self.without_credentials(),
            ),
            ("not_json", 400, b"{not json", {}, url),
            ("bad_shape", 400, json.dumps([1]).encode(), {}, url),
        ]

    def oversize_request(self):
        return oversize_json(), {}, self.url()

    def test_url_carries_generated_credentials(self):
        parsed = urllib.parse.urlsplit(self.url())
        self.assertEqual(parsed.username, "odoo")
        self.assertEqual(parsed.password, self.server.delivery_feedback_secret)
        self.assertGreaterEqual(len(parsed.password), 30)
        other = self.server.copy({"name": "Second Postmark"})
        self.assertNotEqual(
            other.delivery_feedback_secret, self.server.delivery_feedback_secret
        )
        old = self.url()
        self.server.action_renew_delivery_feedback_secret()
        self.assertNotEqual(self.url(), old)
        # the old credentials are refused now
        body, _headers, _url = self.bounce_request(self.message.message_id, "old")
        self.assertEqual(self.post(body, url=old).status_code, 401)
        self.assertIn("Postmark", self.server.delivery_feedback_setup)

    def test_every_documented_event(self):
        mail = self.message.message_id
        email = self.customer.email
        cases = [
            (bounce(mail, email, 1, "SoftBounce"), "deferred", "applied"),
            (spam_complaint(mail, email, 2), "complaint", "applied"),
            (subscription_change(mail, email), "unsubscribe", "applied"),
            (delivery(mail, email), "delivered", "recorded"),
            (bounce(mail, email, 3, "HardBounce"), "bounce", "applied"),
        ]
        for payload, kind, state in cases:
            with self.subTest(kind=kind):
                response = self.post(json.dumps(payload).encode(), url=self.url())
                self.assertEqual(response.status_code, 200)
                event = self.events()[:1]
                self.assertEqual((event.kind, event.state), (kind, state))
                self.assertEqual(event.mail_message_id, self.message)
        # changes nothing: a reactivation, a suppression Postmark reports by
        # its own bounce event, an auto-responder
        for payload in (
            subscription_change(mail, email, suppress=False),
            subscription_change(mail, email, reason="HardBounce"),
            bounce(mail, email, 9, "AutoResponder"),
        ):
            self.assertEqual(
                self.post(json.dumps(payload).encode(), url=self.url()).status_code,
                200,
            )
        self.assertEqual(len(self.events()), len(cases))
        self.assertEqual(self.customer.message_bounce, 1)
        self.assertTrue(
            self.env["mail.blacklist"].search([("email", "=", email)]),
            "a spam complaint blacklists",
        )
        self.assertIn("Postmark could not deliver", self.notification.failure_reason)

    def test_mail_sent_through_postmark_carries_its_message_id(self):
        mail, sent = self.send_through_relay()
        header = sent["X-PM-Metadata-odoo-message-id"].strip()
        self.assertEqual(header, mail.message_id)
        # Postmark returns the metadata in every event: it finds the mail
        response = self.post(
            json.dumps(bounce(header, self.customer.email)).encode(), url=self.url()
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.events().mail_message_id, mail.mail_message_id)
