import ast

from odoo import api, models

GATEWAY_REPLY_HEADERS = {
    # RFC 3834: an automatic reply to a message; Microsoft clients honour
    # X-Auto-Response-Suppress and do not answer it with their own auto-reply.
    "Auto-Submitted": "auto-replied",
    "X-Auto-Response-Suppress": "All",
}


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    @api.model
    def _routing_create_bounce_email(self, email_from, body_html, message, **mail_values):
        """Mark the gateway's own bounce and notice replies as automatic."""
        headers = mail_values.pop("headers", None) or {}
        if isinstance(headers, str):
            headers = ast.literal_eval(headers)
        headers = dict(headers)
        for name, value in GATEWAY_REPLY_HEADERS.items():
            headers.setdefault(name, value)
        return super()._routing_create_bounce_email(
            email_from, body_html, message, headers=repr(headers), **mail_values
        )
