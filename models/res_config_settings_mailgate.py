# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import fields, models

from ..tools import routing_params
from ..tools.routing_params import KIND_CHOICE, RoutingParam

routing_params.register_params(
    "mailgate",
    # the mailgate's answer at RCPT TO to a sender over the loop threshold:
    # defer (450 4.7.1) or accept and handle it after DATA as fetchmail does
    RoutingParam(
        "mail.gateway.smtp.rate_limit_action",
        KIND_CHOICE,
        default="defer",
        choices=("defer", "accept"),
    ),
)


class ResConfigSettings(models.TransientModel):
    """Mailgate room: its answer at RCPT TO to a sender over the loop threshold."""

    _inherit = "res.config.settings"

    routing_smtp_rate_limit_action = fields.Selection(
        [
            ("defer", "Ask the sending server to try again later (450)"),
            ("accept", "Accept the message and keep it in the gateway log, not routed"),
        ],
        string="Mailgate: sender over the loop threshold",
        config_parameter="mail.gateway.smtp.rate_limit_action",
        default=routing_params.default("mail.gateway.smtp.rate_limit_action"),
        help=(
            "What the mailgate (odoo-bin mailgate) answers at RCPT TO to a sender over "
            "an alias's loop threshold."
        ),
    )
