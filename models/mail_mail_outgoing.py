# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import logging

from odoo import _, fields, models, tools

from odoo.addons.base.models.ir_mail_server import MailDeliveryException

from ..tools import auto_mail

_logger = logging.getLogger(__name__)


class MailMail(models.Model):
    _inherit = "mail.mail"

    sent_mail_server_id = fields.Many2one(
        "ir.mail_server",
        string="Sent Through",
        readonly=True,
        copy=False,
        help="Outgoing server that actually sent this mail (after failover, if any).",
    )

    def _prepare_outgoing_list(
        self, mail_server=False, recipients_follower_status=None
    ):
        emails = super()._prepare_outgoing_list(
            mail_server=mail_server,
            recipients_follower_status=recipients_follower_status,
        )
        root = self.env.ref("base.partner_root", raise_if_not_found=False)
        for email in emails:
            headers = email.setdefault("headers", {})
            value = auto_mail.outgoing_auto_submitted(
                headers, self.message_type, bool(root) and self.author_id == root
            )
            if value:
                headers["Auto-Submitted"] = value
        return emails

    def _get_sender_decision(self):
        """Server decision for this mail (pinned or not), as real sending makes it."""
        self.ensure_one()
        IrMailServer = (
            self.env["ir.mail_server"]
            .sudo()
            ._with_alias_domain(self.sudo().record_alias_domain_id)
        )
        emails_from = tools.mail.email_split_and_format(self.email_from)
        return IrMailServer._sender_decision(
            emails_from[0] if emails_from else self.email_from,
            pinned_server=self.sudo().mail_server_id or None,
        )

    def _block_unroutable(self, raise_exception=False):
        """Keep in exception the mails the ``block`` no-match policy refuses.

        They stay in the queue with the reason so that an admin can fix the
        configuration and retry; nothing is sent for them. Returns them.
        """
        if self.env["ir.mail_server"]._get_from_policy() != "block":
            return self.browse()
        blocked = self.browse()
        for mail in self.filtered(lambda m: m.state == "outgoing"):
            decision = mail._get_sender_decision()
            if not decision.blocked:
                continue
            reason = self.env["mail.routing.explanation"]._sender_block_text(decision)
            if raise_exception:
                raise MailDeliveryException(_("Mail Delivery Failed"), reason)
            _logger.warning("mail.mail %s not sent: %s", mail.id, reason)
            mail.write(
                {
                    "state": "exception",
                    "failure_reason": reason,
                    "failure_type": "mail_from_invalid",
                }
            )
            mail._postprocess_sent_message(
                success_pids=[], failure_reason=reason, failure_type="mail_from_invalid"
            )
            blocked |= mail
        return blocked

    def send(self, auto_commit=False, raise_exception=False, post_send_callback=None):
        blocked = self._block_unroutable(raise_exception=raise_exception)
        return super(MailMail, self - blocked).send(
            auto_commit=auto_commit,
            raise_exception=raise_exception,
            post_send_callback=post_send_callback,
        )

    def _send(
        self,
        auto_commit=False,
        raise_exception=False,
        smtp_session=None,
        alias_domain_id=False,
        mail_server=False,
        post_send_callback=None,
    ):
        result = super()._send(
            auto_commit=auto_commit,
            raise_exception=raise_exception,
            smtp_session=smtp_session,
            alias_domain_id=alias_domain_id,
            mail_server=mail_server,
            post_send_callback=post_send_callback,
        )
        server_id = getattr(smtp_session, "mail_server_id", False) or (
            mail_server and mail_server.id
        )
        if server_id:
            sent = self.exists().filtered(lambda mail: mail.state == "sent")
            if sent:
                sent.sudo().write({"sent_mail_server_id": server_id})
        return result
