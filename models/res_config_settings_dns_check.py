# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import models

from ..tools import routing_params
from ..tools.routing_params import KIND_DOMAINS, RoutingParam, settings_field

routing_params.register_params(
    # where the MX of the alias domains should point: the mailgate's public
    # host name, or the mailbox provider's for fetchmail
    "dns_check",
    RoutingParam("mail.gateway.public_host", KIND_DOMAINS),
)


class ResConfigSettings(models.TransientModel):
    """Check DNS room: where the MX should point, and the Check DNS button."""

    _inherit = "res.config.settings"

    routing_gateway_public_host = settings_field(
        "mail.gateway.public_host",
        "Incoming mail host",
        "Where the MX records of your alias domains should point: the "
        "mailgate's public host name, or your mailbox provider's MX hosts when "
        "Odoo fetches mail. Comma-separated; read by Check DNS.",
    )

    def action_check_dns(self):
        """Check DNS: read what DNS says about every sender and show it."""
        Result = self.env["mail.dns.check.result"]
        Result._run_checks()
        return Result._action_open()
