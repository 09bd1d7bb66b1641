# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import fields, models

from ..tools import routing_params
from ..tools.outgoing import sender_policy
from ..tools.routing_params import (
    KIND_CHOICE,
    KIND_DEFAULT_FROM,
    KIND_DISPLAY,
    KIND_FILTER,
    RoutingParam,
    settings_field,
)

routing_params.register_params(
    "outgoing",
    RoutingParam("mail.default.from", KIND_DEFAULT_FROM),
    # the name core used up to 14.0, migrated at install
    RoutingParam("mail.force.smtp.from", KIND_DEFAULT_FROM),
    RoutingParam("mail.default.from_filter", KIND_FILTER),
    RoutingParam(
        "mail.default.from_policy",
        KIND_CHOICE,
        default=sender_policy.POLICY_REWRITE,
        choices=sender_policy.POLICIES,
        removed_on_uninstall=True,
    ),
    RoutingParam("mail.default.from_display", KIND_DISPLAY, removed_on_uninstall=True),
)


class ResConfigSettings(models.TransientModel):
    """Outgoing room: the default From, its display name, the FROM filter of
    the configuration file's SMTP server and what happens when no server may send."""

    _inherit = "res.config.settings"

    routing_default_from = settings_field(
        "mail.default.from",
        "Default From",
        "Sender used when a server may not send as the author: a local part "
        "(notifications), combined with each company's alias domain, or a full "
        "address. When set, it wins over the Default From of the alias domains; "
        "empty, theirs applies.",
    )
    routing_default_from_display = settings_field(
        "mail.default.from_display",
        "Display name of a rewritten From",
        "Display name of a rewritten From, with {name} (the author) and {company}. "
        "Empty: the author's name.",
    )
    routing_default_from_filter = settings_field(
        "mail.default.from_filter",
        "Senders of the configuration file's SMTP server",
        "Used only when no outgoing mail server is configured and Odoo sends "
        "through the SMTP server named "
        "in its configuration file: the addresses and domains that server may send for "
        "(same syntax as a "
        "server's FROM filter). Empty: any sender.",
    )
    routing_default_from_policy = settings_field(
        "mail.default.from_policy",
        "When no server matches",
        "What happens to a mail no outgoing server may send for, neither as its "
        "author nor as the default From.",
        selection=[
            ("rewrite", "Rewrite the From and use the first server"),
            ("block", "Do not send (keep in the queue)"),
        ],
    )
    routing_alias_default_from = fields.Char(
        related="alias_domain_id.default_from",
        readonly=False,
        string="Default From of the alias domain",
        help="Core's default From of this company's alias domain: used only while "
        "Default From (the Mail routing block) is empty.",
    )

    def action_open_mail_sender_check(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "mail_routing_policy.mail_sender_check_action"
        )
