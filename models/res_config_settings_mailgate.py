# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import models

from ..tools import routing_params
from ..tools.routing_params import KIND_CHOICE, RoutingParam, settings_field

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

    routing_smtp_rate_limit_action = settings_field(
        "mail.gateway.smtp.rate_limit_action",
        "Mailgate: sender over the loop threshold",
        "What the mailgate (odoo-bin mailgate) answers at RCPT TO to a sender over "
        "an alias's loop threshold.",
        selection=[
            ("defer", "Ask the sending server to try again later (450)"),
            ("accept", "Accept the message and keep it in the gateway log, not routed"),
        ],
    )
