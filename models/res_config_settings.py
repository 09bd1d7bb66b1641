# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import fields, models

from ..tools.routing_params import KIND_INTEGER, PARAMS


class ResConfigSettings(models.TransientModel):
    """The module's system parameters, editable without developer mode.

    Each field is backed by its system parameter (``config_parameter``), so
    a change made here shows under System Parameters and the other way
    round; values are validated by ``ir.config_parameter``, with one rule
    for both paths. Clearing a text field removes the parameter, so the
    default applies.
    """

    _inherit = "res.config.settings"

    routing_default_from = fields.Char(
        "Default From",
        config_parameter="mail.default.from",
        help="Sender used when a server may not send as the author: a local part "
        "(notifications), combined with each company's alias domain, or a full "
        "address. When set, it wins over the Default From of the alias domains; "
        "empty, theirs applies.",
    )
    routing_default_from_display = fields.Char(
        "Display name of a rewritten From",
        config_parameter="mail.default.from_display",
        help=(
            "Display name of a rewritten From, with {name} (the author) and {company}. "
            "Empty: the author's name."
        ),
    )
    routing_default_from_filter = fields.Char(
        "Senders of the configuration file's SMTP server",
        config_parameter="mail.default.from_filter",
        help="Used only when no outgoing mail server is configured and Odoo sends "
        "through the SMTP server named "
        "in its configuration file: the addresses and domains that server may send for "
        "(same syntax as a "
        "server's FROM filter). Empty: any sender.",
    )
    routing_default_from_policy = fields.Selection(
        [
            ("rewrite", "Rewrite the From and use the first server"),
            ("block", "Do not send (keep in the queue)"),
        ],
        string="When no server matches",
        config_parameter="mail.default.from_policy",
        default=PARAMS["mail.default.from_policy"].default,
        help=(
            "What happens to a mail no outgoing server may send for, neither as its "
            "author nor as the default From."
        ),
    )
    routing_catchall_domain_allowed = fields.Char(
        "Allowed alias domains",
        config_parameter="mail.catchall.domain.allowed",
        help="Recipient domains, not senders: besides your alias domains, the "
        "domains mail may be addressed to and still reach an alias. An alias "
        "answers another domain than its own only when its option 'Local-part "
        "based incoming detection' is ticked: then info@<allowed domain> reaches "
        "the alias info. Mail addressed only to other domains is refused and "
        "logged. Comma-separated domains or *.domain wildcards. Empty: no "
        "filtering.",
    )
    # named as the block shows them: "Loop protection: [7] records in [120]
    # minutes" (an error message names the setting by this label)
    routing_loop_minutes = fields.Integer(
        "Loop protection: minutes",
        config_parameter="mail.gateway.loop.minutes",
        default=PARAMS["mail.gateway.loop.minutes"].default,
        help=(
            "How far back the loop protection counts records, in minutes (at least 1; "
            "default 120)."
        ),
    )
    routing_loop_threshold = fields.Integer(
        "Loop protection: records",
        config_parameter="mail.gateway.loop.threshold",
        default=PARAMS["mail.gateway.loop.threshold"].default,
        help="Records one sender may create through one alias in the loop window; the "
        "next mails are refused "
        "and logged (at least 1; default 20).",
    )
    routing_loop_reply_threshold = fields.Integer(
        "Reply limit per thread",
        config_parameter="mail.gateway.loop.reply_threshold",
        default=PARAMS["mail.gateway.loop.reply_threshold"].default,
        help=(
            "Replies one sender may post into one thread in the loop window. 0: "
            "unlimited (the default)."
        ),
    )
    routing_log_retention_days = fields.Integer(
        "Keep refused mail (days)",
        config_parameter="mail.gateway.log.retention_days",
        default=PARAMS["mail.gateway.log.retention_days"].default,
        help="Days the source of a refused mail is kept in the gateway log, so it can "
        "be processed again "
        "(at least 1; default 30).",
    )
    routing_log_keep_days = fields.Integer(
        "Keep gateway log entries (days)",
        config_parameter="mail.gateway.log.keep_days",
        default=PARAMS["mail.gateway.log.keep_days"].default,
        help="Days a gateway log entry (what was refused, when and why) is kept; its "
        "source goes earlier "
        "(at least 1; default 180).",
    )
    routing_smtp_rate_limit_action = fields.Selection(
        [
            ("defer", "Ask the sending server to try again later (450)"),
            ("accept", "Accept the message and keep it in the gateway log, not routed"),
        ],
        string="Mailgate: sender over the loop threshold",
        config_parameter="mail.gateway.smtp.rate_limit_action",
        default=PARAMS["mail.gateway.smtp.rate_limit_action"].default,
        help=(
            "What the mailgate (odoo-bin mailgate) answers at RCPT TO to a sender over "
            "an alias's loop threshold."
        ),
    )
    routing_auth_protected_domains = fields.Char(
        "Protected domains",
        config_parameter="mail.gateway.auth.protected_domains",
        help="Besides your alias domains and your companies' mail domains: domains "
        "whose mail must prove "
        "its sender (DMARC pass) before Odoo routes it. Comma-separated; subdomains "
        "included.",
    )
    routing_auth_spoof_action = fields.Selection(
        [
            ("quarantine", "Quarantine in the gateway log"),
            ("refuse", "Refuse during the SMTP dialogue (mailgate)"),
        ],
        string="Unproven mail in your name",
        config_parameter="mail.gateway.auth.spoof_action",
        default=PARAMS["mail.gateway.auth.spoof_action"].default,
        help=(
            "Mail from one of your users or protected domains that fails "
            "authentication."
        ),
    )
    routing_auth_ambiguous_from_action = fields.Selection(
        [
            ("quarantine", "Quarantine in the gateway log"),
            ("refuse", "Refuse during the SMTP dialogue (mailgate)"),
            ("accept", "Route it as Odoo does (first address)"),
        ],
        string="Mail without a single author",
        config_parameter="mail.gateway.auth.ambiguous_from_action",
        default=PARAMS["mail.gateway.auth.ambiguous_from_action"].default,
        help=(
            "Mail from other domains whose From has several addresses, none, or "
            "comes twice: DMARC cannot check it (RFC 7489 6.6.1) and receivers may "
            "reject it. Elsewhere than at the mailgate, refused mail is quarantined."
        ),
    )
    routing_auth_unverified_action = fields.Selection(
        [
            ("accept", "Route it as Odoo does"),
            ("quarantine", "Quarantine in the gateway log"),
        ],
        string="Unverified mail in your name",
        config_parameter="mail.gateway.auth.unverified_action",
        default=PARAMS["mail.gateway.auth.unverified_action"].default,
        help=(
            "Mail in your users' or domains' name that no trusted server authenticated "
            "(fetchmail, pipe script)."
        ),
    )
    routing_auth_trusted_authserv_ids = fields.Char(
        "Trusted authentication servers",
        config_parameter="mail.gateway.auth.trusted_authserv_ids",
        help="Names (authserv-id) of the servers whose Authentication-Results headers "
        "Odoo reads on fetched mail, "
        "e.g. your mailbox provider's. The mailgate's own header is always read.",
    )
    routing_auth_trusted_arc_sealers = fields.Char(
        "Trusted ARC sealers",
        config_parameter="mail.gateway.auth.trusted_arc_sealers",
        help="Domains of forwarders (mailing lists, mailbox providers) whose ARC seal "
        "may vouch for a forwarded "
        "message that broke SPF and DKIM.",
    )
    routing_dns_nameservers = fields.Char(
        "DNS servers",
        config_parameter="mail.dns.nameservers",
        help=(
            "host:port, comma-separated, for SPF, DKIM and DMARC lookups. Empty: the "
            "machine's resolver."
        ),
    )
    routing_gateway_public_host = fields.Char(
        "Incoming mail host",
        config_parameter="mail.gateway.public_host",
        help="Where the MX records of your alias domains should point: the "
        "mailgate's public host name, or your mailbox provider's MX hosts when "
        "Odoo fetches mail. Comma-separated; read by Check DNS.",
    )
    routing_catchall_alias = fields.Char(
        related="alias_domain_id.catchall_alias",
        readonly=False,
        string="Catchall alias",
    )
    routing_bounce_alias = fields.Char(
        related="alias_domain_id.bounce_alias", readonly=False, string="Bounce alias"
    )
    routing_alias_default_from = fields.Char(
        related="alias_domain_id.default_from",
        readonly=False,
        string="Default From of the alias domain",
        help="Core's default From of this company's alias domain: used only while "
        "Default From (the Mail routing block) is empty.",
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

    def action_open_mail_sender_check(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "mail_routing_policy.mail_sender_check_action"
        )

    def action_check_dns(self):
        """Check DNS: read what DNS says about every sender and show it."""
        Result = self.env["mail.deliverability.result"]
        Result._run_checks()
        return Result._action_open()

    def action_open_mail_routing_check(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "mail_routing_policy.mail_routing_check_action"
        )
