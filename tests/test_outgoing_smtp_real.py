# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""End-to-end sending through real SMTP servers on loopback (aiosmtpd).

No mock of smtplib here: Odoo connects, authenticates and sends over TCP to
servers started by the test, and one port that refuses connections.
"""

import email
import email.policy
import socket
from unittest.mock import patch

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from odoo import modules
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import MailCommon

from .common import person_mail


class RecordingHandler:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(
            {
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "message": email.message_from_bytes(
                    envelope.original_content, policy=email.policy.SMTP
                ),
            }
        )
        return "250 OK"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"odoo" and auth_data.password == b"secret"
    # handled=False: let aiosmtpd answer 535 itself
    return AuthResult(success=ok, handled=False)


def _free_port():
    """A loopback port nobody listens on (so connecting to it is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_closed_port = _free_port


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestRealSmtp(MailCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.handler = RecordingHandler()
        cls.controller = Controller(
            cls.handler,
            hostname="127.0.0.1",
            port=_free_port(),
            authenticator=_authenticator,
            auth_require_tls=False,
        )
        cls.controller.start()
        cls.addClassCleanup(cls.controller.stop)
        cls.port = cls.controller.port
        cls.env["ir.mail_server"].search([]).unlink()
        base = {
            "smtp_host": "127.0.0.1",
            "smtp_encryption": "none",
            "from_filter": "test.mycompany.com",
        }
        cls.srv_down, cls.srv_bad_auth, cls.srv_up = cls.env["ir.mail_server"].create(
            [
                {"name": "Down", "smtp_port": _closed_port(), "sequence": 1, **base},
                {
                    "name": "Bad password",
                    "smtp_port": cls.port,
                    "smtp_user": "odoo",
                    "smtp_pass": "wrong",
                    "sequence": 2,
                    **base,
                },
                {
                    "name": "Up",
                    "smtp_port": cls.port,
                    "smtp_user": "odoo",
                    "smtp_pass": "secret",
                    "sequence": 3,
                    **base,
                },
            ]
        )

    def setUp(self):
        super().setUp()
        self.handler.envelopes.clear()

    def _mail(self, email_from='"Ann Author" <ann@gmail.com>'):
        return person_mail(self.env, email_from, subject="Real SMTP")

    def _send(self, mail):
        # leave test mode so that Odoo really opens SMTP connections
        with patch.object(modules.module, "current_test", False):
            mail.send()

    def test_failover_then_real_delivery(self):
        mail = self._mail()
        self._send(mail)
        self.assertEqual(mail.state, "sent", mail.failure_reason)
        self.assertEqual(
            mail.sent_mail_server_id,
            self.srv_up,
            "down and bad-auth servers were skipped",
        )
        self.assertEqual(len(self.handler.envelopes), 1, "sent exactly once")
        received = self.handler.envelopes[0]
        self.assertEqual(received["mail_from"], "bounce.test@test.mycompany.com")
        self.assertEqual(received["rcpt_tos"], ["bob@example.org"])
        self.assertEqual(
            received["message"]["From"],
            "Ann Author <notifications.test@test.mycompany.com>",
        )
        self.assertNotIn("Auto-Submitted", received["message"])

    def test_connect_decides_once(self):
        """connect() takes the server and its failover candidates from one
        decision."""
        IrMailServer = self.env.registry["ir.mail_server"]
        original = IrMailServer._sender_decision
        calls = []

        def counting(model, *args, **kwargs):
            calls.append(args[:1])
            return original(model, *args, **kwargs)

        with (
            patch.object(IrMailServer, "_sender_decision", counting),
            patch.object(modules.module, "current_test", False),
        ):
            connection = self.env["ir.mail_server"].connect(smtp_from="ann@gmail.com")
        connection.quit()
        self.assertEqual(
            connection.mail_server_id,
            self.srv_up.id,
            "down and bad-auth servers were skipped",
        )
        self.assertEqual(len(calls), 1, calls)

    def test_server_timing_out_is_skipped(self):
        # a server that accepts the TCP connection and never says hello
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        self.addCleanup(silent.close)
        srv_silent = self.env["ir.mail_server"].create(
            {
                "name": "Silent",
                "smtp_host": "127.0.0.1",
                "smtp_port": silent.getsockname()[1],
                "smtp_encryption": "none",
                "from_filter": "test.mycompany.com",
                "sequence": 0,
            }
        )
        mail = self._mail()
        # core waits SMTP_TIMEOUT (60 s) for the greeting: shorten the wait only
        with patch("odoo.addons.base.models.ir_mail_server.SMTP_TIMEOUT", 1):
            self._send(mail)
        self.assertEqual(mail.state, "sent", mail.failure_reason)
        self.assertNotEqual(mail.sent_mail_server_id, srv_silent)
        self.assertEqual(mail.sent_mail_server_id, self.srv_up)
        self.assertEqual(len(self.handler.envelopes), 1, "sent exactly once")

    def test_all_candidates_fail_keeps_mail_with_reasons(self):
        self.srv_up.smtp_pass = "also-wrong"
        mail = self._mail()
        self._send(mail)
        self.assertEqual(mail.state, "exception")
        for server in (self.srv_down, self.srv_bad_auth, self.srv_up):
            self.assertIn(server.name, mail.failure_reason)
        self.assertFalse(self.handler.envelopes, "nothing sent")
        # fixed configuration: a retry delivers it once
        self.srv_up.smtp_pass = "secret"
        mail.mark_outgoing()
        self._send(mail)
        self.assertEqual(mail.state, "sent")
        self.assertEqual(len(self.handler.envelopes), 1)

    @mute_logger("odoo.addons.mail.models.mail_mail")  # the refusal it provokes
    def test_sender_refused_is_not_retried_elsewhere(self):
        """A server that accepted the connection but refuses the message does
        not trigger failover (it might have been delivered): kept in exception."""
        self.srv_down.active = False
        self.srv_bad_auth.active = False

        async def refuse(handler, server, session, envelope, address, mail_options):
            return "553 sender refused"

        with patch.object(RecordingHandler, "handle_MAIL", refuse, create=True):
            mail = self._mail()
            self._send(mail)
        self.assertEqual(mail.state, "exception")
        self.assertIn("553", mail.failure_reason)
        self.assertFalse(self.handler.envelopes)
