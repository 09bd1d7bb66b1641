# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import fields, models

from ..tools.incoming.auth_policy import RESULT_LABELS


class MailMessage(models.Model):
    """The authentication verdict of a message that came in by mail."""

    _inherit = "mail.message"

    gateway_auth_result = fields.Selection(
        RESULT_LABELS,
        string="Sender authentication",
        readonly=True,
        index="btree_not_null",
        groups="base.group_system",
        help="DMARC verdict of the trusted Authentication-Results header (the "
        "mailgate's, or an authentication "
        "server you trust) when the message came in by mail; Unverified: no trusted "
        "server checked it.",
    )
    gateway_auth_details = fields.Char(
        "Authentication-Results",
        readonly=True,
        groups="base.group_system",
        help="The trusted Authentication-Results header the verdict was read from.",
    )
