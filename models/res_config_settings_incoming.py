# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import fields, models

from ..tools import routing_params
from ..tools.incoming import auth_policy
from ..tools.routing_params import (
    KIND_CHOICE,
    KIND_DOMAINS,
    KIND_FILTER,
    KIND_INTEGER,
    RoutingParam,
    settings_field,
)

# the answers the authentication settings share
_QUARANTINE = ("quarantine", "Quarantine in the gateway log")
_REFUSE = ("refuse", "Refuse during the SMTP dialogue (mailgate)")

routing_params.register_params(
    "incoming",
    RoutingParam("mail.catchall.domain.allowed", KIND_FILTER),
    RoutingParam("mail.gateway.loop.minutes", KIND_INTEGER, default=120, minimum=1),
    RoutingParam("mail.gateway.loop.threshold", KIND_INTEGER, default=20, minimum=1),
    # 0: replies are not limited
    RoutingParam(
        "mail.gateway.loop.reply_threshold",
        KIND_INTEGER,
        default=0,
        minimum=0,
        removed_on_uninstall=True,
    ),
    RoutingParam(
        "mail.gateway.log.retention_days",
        KIND_INTEGER,
        default=30,
        minimum=1,
        removed_on_uninstall=True,
    ),
    RoutingParam(
        "mail.gateway.log.keep_days",
        KIND_INTEGER,
        default=180,
        minimum=1,
        removed_on_uninstall=True,
    ),
    RoutingParam(
        "mail.gateway.auth.spoof_action",
        KIND_CHOICE,
        default="quarantine",
        choices=auth_policy.SPOOF_ACTIONS,
    ),
    RoutingParam(
        "mail.gateway.auth.ambiguous_from_action",
        KIND_CHOICE,
        default="quarantine",
        choices=auth_policy.AMBIGUOUS_FROM_ACTIONS,
    ),
    RoutingParam(
        "mail.gateway.auth.unverified_action",
        KIND_CHOICE,
        default="accept",
        choices=auth_policy.UNVERIFIED_ACTIONS,
    ),
    RoutingParam("mail.gateway.auth.protected_domains", KIND_DOMAINS),
    # authserv-ids are host names
    RoutingParam("mail.gateway.auth.trusted_authserv_ids", KIND_DOMAINS),
    RoutingParam("mail.gateway.auth.trusted_arc_sealers", KIND_DOMAINS),
)


class ResConfigSettings(models.TransientModel):
    """Incoming room: the allow-list, loop protection, the gateway log's
    retention and the authentication policy."""

    _inherit = "res.config.settings"

    routing_catchall_domain_allowed = settings_field(
        "mail.catchall.domain.allowed",
        "Allowed alias domains",
        "Recipient domains, not senders: besides your alias domains, the "
        "domains mail may be addressed to and still reach an alias. An alias "
        "answers another domain than its own only when its option 'Local-part "
        "based incoming detection' is ticked: then info@<allowed domain> reaches "
        "the alias info. Mail addressed only to other domains is refused and "
        "logged. Comma-separated domains or *.domain wildcards. Empty: no "
        "filtering.",
    )
    # the label says "Loop protection: minutes": an error message names the
    # setting by its label
    routing_loop_minutes = settings_field(
        "mail.gateway.loop.minutes",
        "Loop protection: minutes",
        "How far back the loop protection counts records, in minutes (at least 1; "
        "default 120).",
    )
    routing_loop_threshold = settings_field(
        "mail.gateway.loop.threshold",
        "Loop protection: records",
        "Records one sender may create through one alias in the loop window; the "
        "next mails are refused "
        "and logged (at least 1; default 20).",
    )
    routing_loop_reply_threshold = settings_field(
        "mail.gateway.loop.reply_threshold",
        "Reply limit per thread",
        "Replies one sender may post into one thread in the loop window. 0: "
        "unlimited (the default).",
    )
    routing_log_retention_days = settings_field(
        "mail.gateway.log.retention_days",
        "Keep refused mail (days)",
        "Days the source of a refused mail is kept in the gateway log, so it can "
        "be processed again "
        "(at least 1; default 30).",
    )
    routing_log_keep_days = settings_field(
        "mail.gateway.log.keep_days",
        "Keep gateway log entries (days)",
        "Days a gateway log entry (what was refused, when and why) is kept; its "
        "source goes earlier "
        "(at least 1; default 180).",
    )
    routing_auth_protected_domains = settings_field(
        "mail.gateway.auth.protected_domains",
        "Protected domains",
        "Besides your alias domains and your companies' mail domains: domains "
        "whose mail must prove "
        "its sender (DMARC pass) before Odoo routes it. Comma-separated; subdomains "
        "included.",
    )
    routing_auth_spoof_action = settings_field(
        "mail.gateway.auth.spoof_action",
        "Unproven mail in your name",
        "Mail from one of your users or protected domains that fails "
        "authentication.",
        selection=[_QUARANTINE, _REFUSE],
    )
    routing_auth_ambiguous_from_action = settings_field(
        "mail.gateway.auth.ambiguous_from_action",
        "Mail without a single author",
        "Mail from other domains whose From has several addresses, none, or "
        "comes twice: DMARC cannot check it (RFC 7489 6.6.1) and receivers may "
        "reject it. Elsewhere than at the mailgate, refused mail is quarantined.",
        selection=[
            _QUARANTINE,
            _REFUSE,
            ("accept", "Route it as Odoo does (first address)"),
        ],
    )
    routing_auth_unverified_action = settings_field(
        "mail.gateway.auth.unverified_action",
        "Unverified mail in your name",
        "Mail in your users' or domains' name that no trusted server authenticated "
        "(fetchmail, pipe script).",
        selection=[("accept", "Route it as Odoo does"), _QUARANTINE],
    )
    routing_auth_trusted_authserv_ids = settings_field(
        "mail.gateway.auth.trusted_authserv_ids",
        "Trusted authentication servers",
        "Names (authserv-id) of the servers whose Authentication-Results headers "
        "Odoo reads on fetched mail, "
        "e.g. your mailbox provider's. The mailgate's own header is always read.",
    )
    routing_auth_trusted_arc_sealers = settings_field(
        "mail.gateway.auth.trusted_arc_sealers",
        "Trusted ARC sealers",
        "Domains of forwarders (mailing lists, mailbox providers) whose ARC seal "
        "may vouch for a forwarded "
        "message that broke SPF and DKIM.",
    )
    routing_catchall_alias = fields.Char(
        related="alias_domain_id.catchall_alias",
        readonly=False,
        string="Catchall alias",
    )
    routing_bounce_alias = fields.Char(
        related="alias_domain_id.bounce_alias", readonly=False, string="Bounce alias"
    )

    def action_open_mail_routing_check(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "mail_routing_policy.mail_routing_check_action"
        )
