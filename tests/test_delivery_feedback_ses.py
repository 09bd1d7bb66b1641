# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Amazon SES notifications through an SNS HTTPS subscription, against Odoo's
real HTTP server: messages shaped as
https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html
and https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html,
signed as https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
describes (SignatureVersion 1 and 2) with a key and a self-signed
certificate made here, put in the certificate cache under an SNS-shaped
URL (no network); other hosts and plain http are refused."""

import base64
import datetime
import http.server
import json
import threading
import uuid
from unittest.mock import patch

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from ..tools.delivery_feedback.providers import ses
from .delivery_feedback_common import (
    DeliveryFeedbackCase,
    ProviderGuarantees,
    oversize_json,
)
from .delivery_feedback_signing import sns_key_and_certificate

TOPIC = "arn:aws:sns:eu-west-1:123456789012:odoo-ses-feedback"
CERT_URL = (
    "https://sns.eu-west-1.amazonaws.com/"
    "SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem"
)
SUBSCRIBE_URL = (
    "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription"
    f"&TopicArn={TOPIC}&Token=2336412f37"
)


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def sign(message, key, version="2"):
    """Sign an SNS message as SNS does: the canonical string of its type."""
    message = dict(message, SignatureVersion=version, SigningCertURL=CERT_URL)
    algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()
    signature = key.sign(ses.canonical_string(message), padding.PKCS1v15(), algorithm)
    message["Signature"] = base64.b64encode(signature).decode()
    return message


def notification(payload, key, version="2", when=None, topic=TOPIC):
    when = when or datetime.datetime.now(datetime.timezone.utc)
    return sign(
        {
            "Type": "Notification",
            "MessageId": str(uuid.uuid4()),
            "TopicArn": topic,
            "Message": json.dumps(payload),
            "Timestamp": iso(when),
            "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe",
        },
        key,
        version,
    )


def ses_mail(message_id):
    return {
        "timestamp": "2024-01-15T10:52:00.000Z",
        "source": "shop@test.example",
        "sourceArn": "arn:aws:ses:eu-west-1:123456789012:identity/test.example",
        "sendingAccountId": "123456789012",
        "messageId": "0102018d0b5a1c2e-ses-own-id-000000",
        "destination": ["dead@customer.example"],
        "headersTruncated": False,
        "headers": [
            {"name": "From", "value": "shop@test.example"},
            {"name": "X-Odoo-Message-ID", "value": message_id},
        ],
        "commonHeaders": {
            "from": ["shop@test.example"],
            "to": ["dead@customer.example"],
            "messageId": "0102018d0b5a1c2e-ses-own-id-000000",
            "subject": "Your quotation",
        },
    }


def ses_bounce(message_id, recipients, feedback_id, bounce_type="Permanent"):
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": "General",
            "bouncedRecipients": [
                {
                    "emailAddress": address,
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
                for address in recipients
            ],
            "timestamp": "2024-01-15T10:52:01.000Z",
            "feedbackId": feedback_id,
            "remoteMtaIp": "192.0.2.1",
            "reportingMTA": "dsn; a1-2.smtp-out.eu-west-1.amazonses.com",
        },
        "mail": ses_mail(message_id),
    }


class LoopbackHandler(http.server.BaseHTTPRequestHandler):
    requests = []

    def do_GET(self):  # noqa: N802 - http.server's name
        LoopbackHandler.requests.append(self.path)
        body = b"<ConfirmSubscriptionResponse/>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDeliveryFeedbackSes(ProviderGuarantees, DeliveryFeedbackCase):
    provider = "ses"
    server_values = {"delivery_feedback_key": TOPIC}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.key, cls.pem = sns_key_and_certificate()
        # the certificate "fetched" once from the SNS host
        patcher = patch.dict(
            ses.CERTIFICATES, {CERT_URL: ses.load_certificate(cls.pem)}
        )
        patcher.start()
        cls.addClassCleanup(patcher.stop)

    def post_sns(self, message, url=None):
        return self.post(
            json.dumps(message).encode(),
            {
                "Content-Type": "text/plain; charset=UTF-8",
                "x-amz-sns-message-type": message.get("Type", ""),
                "x-amz-sns-topic-arn": message.get("TopicArn", ""),
            },
            url,
        )

    def bounce_request(self, message_id, uid):
        message = notification(
            ses_bounce(message_id, [self.customer.email], f"feedback-{uid}"), self.key
        )
        return (
            json.dumps(message).encode(),
            {"Content-Type": "text/plain; charset=UTF-8"},
            self.url(),
        )

    def forged_requests(self):
        payload = ses_bounce(self.message.message_id, [self.customer.email], "f")
        stranger, _pem = sns_key_and_certificate()
        altered = notification(payload, self.key)
        altered["Message"] = altered["Message"].replace("Permanent", "Transient")
        unsigned = notification(payload, self.key)
        del unsigned["Signature"]
        cases = [
            ("bad_signature", notification(payload, stranger)),
            ("bad_signature", altered),
            ("signature_missing", unsigned),
            ("wrong_topic", notification(payload, self.key, topic=TOPIC + "-other")),
            (
                "stale",
                notification(
                    payload,
                    self.key,
                    when=datetime.datetime.now(datetime.timezone.utc)
                    - datetime.timedelta(hours=2),
                ),
            ),
        ]
        for cert_url in (
            CERT_URL.replace("https://", "http://"),
            CERT_URL.replace("amazonaws.com", "amazonaws.com.evil.example"),
            "https://sns.eu-west-1.evil.example/cert.pem",
            CERT_URL.replace(".pem", ".txt"),
            "https://user@sns.eu-west-1.amazonaws.com/x.pem",
        ):
            message = notification(payload, self.key)
            message["SigningCertURL"] = cert_url
            cases.append(("cert_url", message))
        status = {
            "bad_signature": 403,
            "signature_missing": 401,
            "wrong_topic": 403,
            "stale": 406,
            "cert_url": 403,
        }
        return [
            (reason, status[reason], json.dumps(message).encode(), {}, self.url())
            for reason, message in cases
        ] + [("not_json", 400, b"Type=Notification", {}, self.url())]

    def oversize_request(self):
        return oversize_json(), {}, self.url()

    def test_signature_versions_1_and_2(self):
        for version, recipient in (
            ("1", "one@customer.example"),
            ("2", "two@customer.example"),
        ):
            with self.subTest(version=version):
                payload = ses_bounce(
                    self.message.message_id, [recipient], f"feedback-v{version}"
                )
                message = notification(payload, self.key, version)
                self.assertEqual(self.post_sns(message).status_code, 200)
        self.assertEqual(len(self.events()), 2)

    def test_every_documented_notification(self):
        mail = self.message.message_id
        email = self.customer.email
        other = "other@customer.example"
        complaint = {
            "notificationType": "Complaint",
            "complaint": {
                "complainedRecipients": [{"emailAddress": email}],
                "timestamp": "2024-01-15T11:00:00.000Z",
                "feedbackId": "complaint-1",
                "complaintFeedbackType": "abuse",
                "userAgent": "ExampleCorp Feedback Loop (V0.01)",
            },
            "mail": ses_mail(mail),
        }
        delivery = {
            "notificationType": "Delivery",
            "delivery": {
                "timestamp": "2024-01-15T10:52:02.000Z",
                "processingTimeMillis": 546,
                "recipients": [email, other],
                "smtpResponse": "250 ok:  Message 64111812 accepted",
                "reportingMTA": "a8-70.smtp-out.amazonses.com",
                "remoteMtaIp": "127.0.2.0",
            },
            "mail": ses_mail(mail),
        }
        transient = ses_bounce(mail, [email], "transient-1", "Transient")
        permanent = ses_bounce(mail, [email, other], "permanent-1")
        for payload in (transient, complaint, delivery, permanent):
            self.assertEqual(
                self.post_sns(notification(payload, self.key)).status_code, 200
            )
        self.assertEqual(
            sorted(self.events().mapped(lambda event: (event.kind, event.recipient))),
            sorted(
                [
                    ("deferred", email),
                    ("complaint", email),
                    ("delivered", email),
                    ("delivered", other),
                    ("bounce", email),
                    ("bounce", other),
                ]
            ),
        )
        self.assertEqual(set(self.events().mapped("mail_message_id")), {self.message})
        self.assertEqual(self.customer.message_bounce, 1)
        self.assertIn("SES: Permanent/General", self.notification.failure_reason)
        # SNS delivers the same message again: kept once
        message = notification(permanent, self.key)
        self.assertEqual(self.post_sns(message).status_code, 200)
        self.assertEqual(self.post_sns(message).status_code, 200)
        self.assertEqual(self.customer.message_bounce, 1)

    def test_subscription_confirmation_is_shown_then_confirmed(self):
        confirmation = sign(
            {
                "Type": "SubscriptionConfirmation",
                "MessageId": str(uuid.uuid4()),
                "Token": "2336412f37",
                "TopicArn": TOPIC,
                "Message": "You have chosen to subscribe to the topic "
                f"{TOPIC}.\nTo confirm the subscription, visit the SubscribeURL "
                "included in this message.",
                "SubscribeURL": SUBSCRIBE_URL,
                "Timestamp": iso(datetime.datetime.now(datetime.timezone.utc)),
            },
            self.key,
        )
        forged = dict(confirmation, SubscribeURL="https://evil.example/?x=1")
        self.assertEqual(self.post_sns(forged).status_code, 403, "altered: refused")
        self.assertFalse(self.server.delivery_feedback_subscribe_url)
        self.assertEqual(self.post_sns(confirmation).status_code, 200)
        self.assertEqual(self.server.delivery_feedback_subscribe_url, SUBSCRIBE_URL)
        # the button fetches the URL: against a loopback server here (the
        # SNS host check let through for this one address)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), LoopbackHandler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        loopback = f"http://127.0.0.1:{server.server_port}/?Action=ConfirmSubscription"
        self.server.sudo().delivery_feedback_subscribe_url = loopback
        real_check = ses.check_sns_url
        with self.assertRaisesRegex(UserError, "not an https URL"):
            self.server.action_confirm_sns_subscription()
        self.assertEqual(LoopbackHandler.requests, [], "refused before any request")

        def loopback_only(url, suffix=""):
            if not url.startswith(f"http://127.0.0.1:{server.server_port}/"):
                real_check(url, suffix)

        with patch.object(ses, "check_sns_url", loopback_only):
            self.server.action_confirm_sns_subscription()
        self.assertEqual(LoopbackHandler.requests, ["/?Action=ConfirmSubscription"])
        self.assertFalse(self.server.delivery_feedback_subscribe_url)

    def test_sns_urls_and_topic(self):
        for url, good in (
            (CERT_URL, True),
            ("https://sns.cn-north-1.amazonaws.com.cn/x.pem", True),
            ("http://sns.eu-west-1.amazonaws.com/x.pem", False),
            ("https://sns.eu-west-1.amazonaws.com:8443/x.pem", False),
            ("https://sns.eu-west-1.amazonaws.com.evil.example/x.pem", False),
            ("https://evilsns.eu-west-1.amazonaws.com/x.pem", False),
            ("https://s3.amazonaws.com/sns/x.pem", False),
            ("https://sns.eu-west-1.amazonaws.com/x.pem.js", False),
        ):
            with self.subTest(url=url):
                try:
                    ses.check_sns_url(url, ".pem")
                    accepted = True
                except ValueError:
                    accepted = False
                self.assertEqual(accepted, good)
        with self.assertRaisesRegex(ValidationError, "not an SNS topic ARN"):
            self.server.delivery_feedback_key = "my-topic"
            self.server.flush_recordset()

    def test_unreachable_certificate_is_a_retry_not_a_refusal(self):
        message = notification(
            ses_bounce(self.message.message_id, [self.customer.email], "f-503"),
            self.key,
        )
        uncached = CERT_URL.replace(".pem", "-rotated.pem")
        message = sign({k: v for k, v in message.items() if k != "Signature"}, self.key)
        message["SigningCertURL"] = uncached
        with patch.object(ses, "fetch", side_effect=OSError("no route to host")):
            response = self.post_sns(message)
        self.assertEqual(response.status_code, 503, "SNS retries a 5xx")
        self.assertFalse(self.events())
        self.assertEqual(self.refusals(), {"cert_unavailable": 1})

    def test_mail_sent_through_ses_carries_odoo_message_id(self):
        mail, sent = self.send_through_relay()
        self.assertEqual(sent["X-Odoo-Message-ID"].strip(), mail.message_id)
