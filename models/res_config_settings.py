# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import models

from ..tools import routing_params
from ..tools.routing_params import (
    KIND_INTEGER,
    KIND_NAMESERVERS,
    PARAMS,
    RoutingParam,
    settings_field,
)

# read by every room that asks DNS (authentication of incoming mail, the
# mailgate, Check DNS)
routing_params.register_params(
    "core", RoutingParam("mail.dns.nameservers", KIND_NAMESERVERS)
)


class ResConfigSettings(models.TransientModel):
    """The module's system parameters, editable without developer mode.

    Each room's fields are in its own file (res_config_settings_<room>.py),
    beside the parameters it registers; here what they share.

    Each field is backed by its system parameter (``config_parameter``), so
    a change made here shows under System Parameters and the other way
    round; values are validated by ``ir.config_parameter``, with one rule
    for both paths. Clearing a text field removes the parameter, so the
    default applies.
    """

    _inherit = "res.config.settings"

    routing_dns_nameservers = settings_field(
        "mail.dns.nameservers",
        "DNS servers",
        "host:port, comma-separated, for SPF, DKIM and DMARC lookups. Empty: the "
        "machine's resolver.",
    )

    def set_values(self):
        # One rule for Settings and RPC: a number below its minimum is refused
        # (core would store 0 as "no parameter" and show the default again).
        ICP = self.env["ir.config_parameter"]
        for name, field in self._fields.items():
            key = getattr(field, "config_parameter", None)
            param = PARAMS.get(key)
            if param and param.kind == KIND_INTEGER and self[name] < param.minimum:
                ICP._normalize_routing_param(key, str(self[name]))
        return super().set_values()
