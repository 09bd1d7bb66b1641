# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The gateway client's view: refused mail over real XML-RPC never faults."""

import xmlrpc.client

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import raw_message

READ_RECEIPT = (
    "Content-Type: multipart/report; report-type=disposition-notification; "
    'boundary="b"\n\n'
    "--b\nContent-Type: text/plain\n\nYour message was read.\n"
    "--b\nContent-Type: message/disposition-notification\n\n"
    "Final-Recipient: rfc822; carl@customer.example\nDisposition: "
    "manual-action/MDN-sent-manually; displayed\n"
    "--b--\n"
)


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestGatewayOverXmlRpc(HttpCase):
    """``message_process`` as Odoo's mail gateway script calls it
    (``/xmlrpc/2/object``): every refusal answers a value that marshals, so
    the script exits 0 and the MTA neither bounces nor retries."""

    def setUp(self):
        super().setUp()
        self.ICP = self.env["ir.config_parameter"].sudo()
        alias_domain = self.env["mail.alias.domain"].create({"name": "rpc.example"})
        self.alias = self.env["mail.alias"].create(
            {
                "alias_name": "info",
                "alias_model_id": self.env["ir.model"]._get("res.partner").id,
                "alias_contact": "everyone",
                "alias_domain_id": alias_domain.id,
            }
        )
        self.ICP.set_param("mail.gateway.loop.threshold", 2)
        self.ICP.set_param("mail.catchall.domain.allowed", "rpc.example")
        self.counter = 0

    def deliver(self, email_from, to, extra="", body=None):
        self.counter += 1
        raw = raw_message(
            email_from,
            to,
            subject=f"RPC {self.counter}",
            extra=extra,
            msg_id=f"<rpc-{self.counter}@sender.example>",
        )
        if body:
            raw = raw.replace(
                "Content-Type: text/plain; charset=utf-8\n\nPlease call me as soon as "
                "possible.\n",
                body,
            )
        uid = self.env.ref("base.user_admin").id
        return self.xmlrpc_object.execute_kw(
            self.env.cr.dbname,
            uid,
            "admin",
            "mail.thread",
            "message_process",
            [False, raw],
        )

    @mute_logger(
        "odoo.addons.mail.models.mail_thread",
        "odoo.addons.mail_routing_policy.models.mail_gateway_log",
    )
    def test_every_refusal_marshals(self):
        to = "info@rpc.example"
        self.assertIsInstance(
            self.deliver("ann@customer.example", to), int, "routed: the new record's id"
        )
        self.deliver("ann@customer.example", to)
        cases = {
            "rate_limit": lambda: self.deliver("ann@customer.example", to),
            "auto_reply": lambda: self.deliver(
                "bob@customer.example", to, extra="X-Autoreply: yes\n"
            ),
            "self_loop": lambda: self.deliver("notifications@rpc.example", to),
            "read_receipt": lambda: self.deliver(
                "carl@customer.example", to, body=READ_RECEIPT
            ),
        }
        for reason, deliver in cases.items():
            with self.subTest(reason=reason):
                self.assertIs(deliver(), False)
                self.assertTrue(
                    self.env["mail.gateway.log"].search([("reason", "=", reason)])
                )
        # allow-list: the foreign recipient is dropped, the mail still reaches our alias
        result = self.deliver("dan@customer.example", f"commercial@gmail.com, {to}")
        self.assertIsInstance(result, int)
        # no route at all keeps core's behaviour: a fault (the mailgate refuses it at
        # RCPT)
        with (
            self.assertRaises(xmlrpc.client.Fault),
            mute_logger("odoo.http", "odoo.addons.mail_routing_policy"),
        ):
            self.deliver("dan@customer.example", "commercial@gmail.com")

    @mute_logger("odoo.addons.mail_routing_policy.models.mail_gateway_log")
    def test_pipe_path_reads_only_trusted_results(self):
        """Core's pipe script and fetchmail have no SMTP client to check: an
        internal user's From is routed as core does (unverified), quarantined
        once the admin tightens it, and routed again on the topmost result of
        an authentication server the admin trusts."""
        admin_email = self.env.ref("base.user_admin").email_normalized
        to = "info@rpc.example"
        self.assertIsInstance(self.deliver(admin_email, to), int, "unverified: as core")
        self.ICP.set_param("mail.gateway.auth.unverified_action", "quarantine")
        self.assertIs(self.deliver(admin_email, to), False)
        log = self.env["mail.gateway.log"].search([("reason", "=", "auth_unverified")])
        self.assertEqual(log.auth_result, "unverified")
        domain = admin_email.rpartition("@")[2]
        trusted = (
            f"Authentication-Results: mx.provider.test; dkim=pass header.d={domain}; "
            f"dmarc=pass header.from={domain}\n"
        )
        self.assertIs(
            self.deliver(admin_email, to, extra=trusted),
            False,
            "not trusted yet: still unverified",
        )
        self.ICP.set_param("mail.gateway.auth.trusted_authserv_ids", "MX.Provider.test")
        self.assertIsInstance(self.deliver(admin_email, to, extra=trusted), int)
        forged = trusted.replace("dmarc=pass", "dmarc=fail")
        self.assertIs(
            self.deliver(admin_email, to, extra=forged + trusted),
            False,
            "the topmost trusted header counts",
        )
