# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Delivery feedback with Email Marketing installed: a database that has
``mass_mailing`` (scripts/test makes one and runs this class there)."""

import datetime
import secrets

from odoo import fields
from odoo.tests import HttpCase, tagged

from .test_delivery_feedback import mailgun_body, mailgun_failure


@tagged("post_install", "-at_install", "mail_routing_policy_mass_mailing")
class TestDeliveryFeedbackMassMailing(HttpCase):
    def setUp(self):
        super().setUp()
        # per test, not per class: both runners then count these tests alike
        if "mailing.trace" not in self.env:
            self.skipTest(
                "needs Email Marketing (mass_mailing): scripts/test runs this class "
                "in a database that has it"
            )
        self.key = secrets.token_hex(16)
        self.server = self.env["ir.mail_server"].create(
            {
                "name": "Mailgun relay",
                "smtp_host": "smtp.mailgun.invalid",
                "delivery_feedback_provider": "mailgun",
                "delivery_feedback_key": self.key,
            }
        )
        self.partner = self.env["res.partner"].create(
            {"name": "Often Bouncing", "email": "often@dead.example"}
        )
        self.mailing = self.env["mailing.mailing"].create(
            {
                "subject": "Newsletter",
                "body_html": "<p>News</p>",
                "mailing_model_id": self.env["ir.model"]._get_id("res.partner"),
            }
        )

    def trace(self, index, status="sent"):
        return self.env["mailing.trace"].create(
            {
                "mass_mailing_id": self.mailing.id,
                "model": "res.partner",
                "res_id": self.partner.id,
                "email": self.partner.email,
                "message_id": f"<news-{index}-{secrets.token_hex(4)}@odoo.example>",
                "trace_status": status,
            }
        )

    def bounce(self, trace):
        path = self.server.delivery_feedback_url.split(self.base_url(), 1)[1]
        body = mailgun_body(
            self.key, mailgun_failure(trace.message_id, self.partner.email)
        )
        response = self.url_open(
            path, data=body, headers={"Content-Type": "application/json"}
        )
        self.assertEqual(response.status_code, 200)

    def test_bounce_marks_the_trace_and_the_fifth_blacklists(self):
        # four earlier bounces, spread over more than a week (Email
        # Marketing's rule: 5 bounces within 13 weeks, at least a week apart)
        earlier = self.env["mailing.trace"]
        for index in range(4):
            earlier |= self.trace(index, status="bounce")
        # written now, then dated back (a flush later must not date them again)
        self.env.flush_all()
        for weeks, trace in enumerate(earlier, 1):
            self.env.cr.execute(
                "UPDATE mailing_trace SET write_date = %s WHERE id = %s",
                [fields.Datetime.now() - datetime.timedelta(weeks=weeks), trace.id],
            )
        earlier.invalidate_recordset(["write_date"])
        self.partner.message_bounce = 3
        first = self.trace(10)
        self.bounce(first)
        self.assertEqual(first.trace_status, "bounce")
        self.assertEqual(first.failure_type, "mail_bounce")
        self.assertIn("Mailgun could not deliver", first.failure_reason)
        self.assertEqual(self.partner.message_bounce, 4)
        self.assertFalse(
            self.env["mail.blacklist"].search([("email", "=", self.partner.email)]),
            "four bounces: not yet",
        )
        self.bounce(self.trace(11))
        self.assertEqual(self.partner.message_bounce, 5)
        self.assertTrue(
            self.env["mail.blacklist"].search([("email", "=", self.partner.email)]),
            "the fifth bounce over more than a week blacklists",
        )

    def test_unsubscribe_from_a_list_mailing_opts_out(self):
        mailing_list = self.env["mailing.list"].create({"name": "Newsletter list"})
        contact = self.env["mailing.contact"].create(
            {
                "name": "Reader",
                "email": "reader@customer.example",
                "list_ids": [(4, mailing_list.id)],
            }
        )
        mailing = self.env["mailing.mailing"].create(
            {
                "subject": "List news",
                "body_html": "<p>News</p>",
                "mailing_model_id": self.env["ir.model"]._get_id("mailing.list"),
                "contact_list_ids": [(6, 0, mailing_list.ids)],
            }
        )
        trace = self.env["mailing.trace"].create(
            {
                "mass_mailing_id": mailing.id,
                "model": "mailing.contact",
                "res_id": contact.id,
                "email": contact.email,
                "message_id": "<list-news-1@odoo.example>",
                "trace_status": "sent",
            }
        )
        event = mailgun_failure(trace.message_id, contact.email)
        event.update(event="unsubscribed", severity=None)
        path = self.server.delivery_feedback_url.split(self.base_url(), 1)[1]
        response = self.url_open(
            path,
            data=mailgun_body(self.key, event),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200)
        subscription = contact.subscription_ids.filtered(
            lambda sub: sub.list_id == mailing_list
        )
        self.assertTrue(subscription.opt_out)
        self.assertFalse(
            self.env["mail.blacklist"].search([("email", "=", contact.email)]),
            "a list unsubscribe opts out of the list, as Odoo's own link does",
        )
