# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Mailgun and SendGrid, moved into the provider registry, pass the same
guarantees as the providers added beside them (their own behaviour is tested
in test_delivery_feedback.py); and the registry itself."""

import base64
import json
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from odoo.tests import tagged

from ..tools import delivery_feedback
from .delivery_feedback_common import (
    DeliveryFeedbackCase,
    ProviderGuarantees,
    oversize_json,
)
from .test_delivery_feedback import mailgun_body, mailgun_failure

MAILGUN_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDeliveryFeedbackMailgunGuarantees(ProviderGuarantees, DeliveryFeedbackCase):
    provider = "mailgun"
    server_values = {"delivery_feedback_key": MAILGUN_KEY}
    verbatim_replay_status = 406

    def bounce_request(self, message_id, uid):
        event = mailgun_failure(message_id, self.customer.email)
        event["id"] = uid
        return mailgun_body(MAILGUN_KEY, event), {}, self.url()

    def forged_requests(self):
        event = mailgun_failure(self.message.message_id, self.customer.email)
        return [
            ("bad_signature", 403, mailgun_body("other-key", event), {}, self.url()),
            (
                "stale",
                406,
                mailgun_body(MAILGUN_KEY, event, time.time() - 600),
                {},
                self.url(),
            ),
            (
                "stale",
                406,
                mailgun_body(MAILGUN_KEY, event, time.time() + 600),
                {},
                self.url(),
            ),
            (
                "signature_missing",
                401,
                json.dumps({"event-data": event}).encode(),
                {},
                self.url(),
            ),
        ]

    def oversize_request(self):
        return oversize_json(), {}, self.url()


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDeliveryFeedbackSendgridGuarantees(ProviderGuarantees, DeliveryFeedbackCase):
    provider = "sendgrid"
    verbatim_replay_status = 406
    private = ec.generate_private_key(ec.SECP256R1())
    server_values = {
        "delivery_feedback_key": base64.b64encode(
            private.public_key().public_bytes(
                serialization.Encoding.DER,
                serialization.PublicFormat.SubjectPublicKeyInfo,
            )
        ).decode()
    }

    def signed(self, events, private=None, timestamp=None):
        body = json.dumps(events).encode()
        timestamp = str(int(timestamp or time.time()))
        signature = (private or self.private).sign(
            timestamp.encode() + body, ec.ECDSA(hashes.SHA256())
        )
        return (
            body,
            {
                delivery_feedback.SENDGRID_SIGNATURE_HEADER: base64.b64encode(
                    signature
                ).decode(),
                delivery_feedback.SENDGRID_TIMESTAMP_HEADER: timestamp,
            },
            self.url(),
        )

    def bounce_events(self, message_id, uid):
        return [
            {
                "email": self.customer.email,
                "event": "bounce",
                "type": "bounce",
                "status": "5.1.1",
                "reason": "550 5.1.1 unknown user",
                "smtp-id": message_id,
                "sg_event_id": uid,
                "timestamp": int(time.time()),
            }
        ]

    def bounce_request(self, message_id, uid):
        # SendGrid signs each delivery anew (ECDSA: a new signature each time)
        return self.signed(self.bounce_events(message_id, uid))

    def forged_requests(self):
        events = self.bounce_events(self.message.message_id, "forged")
        stranger = ec.generate_private_key(ec.SECP256R1())
        body, headers, url = self.signed(events)
        return [
            ("bad_signature", 403, *self.signed(events, private=stranger)),
            ("bad_signature", 403, body + b" ", headers, url),
            ("stale", 406, *self.signed(events, timestamp=time.time() - 600)),
            ("signature_missing", 401, body, {}, url),
        ]

    def oversize_request(self):
        body = oversize_json()
        return (
            body,
            {
                delivery_feedback.SENDGRID_SIGNATURE_HEADER: "x",
                delivery_feedback.SENDGRID_TIMESTAMP_HEADER: str(int(time.time())),
            },
            self.url(),
        )


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDeliveryFeedbackRegistry(DeliveryFeedbackCase):
    provider = "mailgun"

    def test_every_provider_is_in_its_own_file_and_on_the_form(self):
        self.assertEqual(
            set(delivery_feedback.PROVIDERS),
            {"mailgun", "sendgrid", "postmark", "brevo", "ses", "mailjet"},
        )
        selection = dict(
            self.env["ir.mail_server"]
            ._fields["delivery_feedback_provider"]
            ._description_selection(self.env)
        )
        for code, provider in delivery_feedback.REGISTRY.items():
            with self.subTest(provider=code):
                self.assertIn(code, selection)
                self.assertTrue(
                    provider.docs and provider.docs[0].startswith("https://")
                )
                self.assertIn(provider.proof, ("signature", "secret"))
                # a provider that signs nothing is authenticated by Basic
                # credentials Odoo generates; a signing one needs its key
                self.assertEqual(provider.basic_auth, provider.proof == "secret")
                self.assertEqual(
                    bool(provider.key_label), provider.proof == "signature"
                )
                steps = self.server._delivery_feedback_steps(code)
                self.assertEqual(len(steps), 3)
                self.assertTrue(
                    all(str(step) for step in steps), "set-up steps for the form"
                )
