from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    """The module's system parameters, editable without developer mode.

    Each field is backed by its system parameter (``config_parameter``), so
    a change made here shows under System Parameters and the other way
    round; values are validated by ``ir.config_parameter``. Clearing a field
    removes the parameter, so core defaults apply.
    """

    _inherit = "res.config.settings"

    routing_default_from = fields.Char(
        "Default From",
        config_parameter="mail.default.from",
        help="Sender used when a server may not send as the author: a local part (notifications), "
        "combined with the company's alias domain, or a full address.",
    )
    routing_default_from_display = fields.Char(
        "From display name",
        config_parameter="mail.default.from_display",
        help="Display name of a rewritten From, with {name} (the author) and {company}. Empty: the author's name.",
    )
    routing_default_from_filter = fields.Char(
        "Default FROM filter",
        config_parameter="mail.default.from_filter",
        help="FROM filter of the SMTP server given to odoo-bin, used when no outgoing server is configured.",
    )
    routing_default_from_policy = fields.Selection(
        [("rewrite", "Rewrite the From and use the first server"), ("block", "Do not send (keep in the queue)")],
        string="When no server matches",
        config_parameter="mail.default.from_policy",
        default="rewrite",
    )
    routing_catchall_domain_allowed = fields.Char(
        "Allowed alias domains",
        config_parameter="mail.catchall.domain.allowed",
        help="Mail addressed to other domains never reaches an alias matched on its local part. "
        "Comma-separated domains or *.domain wildcards; alias domains are always allowed.",
    )
    routing_loop_minutes = fields.Integer(
        "Loop window (minutes)", config_parameter="mail.gateway.loop.minutes", default=120
    )
    routing_loop_threshold = fields.Integer(
        "Loop threshold", config_parameter="mail.gateway.loop.threshold", default=20
    )
    routing_loop_reply_threshold = fields.Integer(
        "Reply limit per thread",
        config_parameter="mail.gateway.loop.reply_threshold",
        help="Optional: replies one sender may post into one thread per window (0: unlimited).",
    )
    routing_log_retention_days = fields.Integer(
        "Keep refused mail (days)", config_parameter="mail.gateway.log.retention_days", default=30
    )
    routing_log_keep_days = fields.Integer(
        "Keep gateway log entries (days)",
        config_parameter="mail.gateway.log.keep_days",
        default=180,
        help="Days a gateway log entry (what was refused, when and why) is kept; its source goes earlier "
        "(at least 1; default 180).",
    )
    routing_catchall_alias = fields.Char(
        related="alias_domain_id.catchall_alias", readonly=False, string="Catchall alias"
    )
    routing_bounce_alias = fields.Char(related="alias_domain_id.bounce_alias", readonly=False, string="Bounce alias")
    routing_alias_default_from = fields.Char(
        related="alias_domain_id.default_from", readonly=False, string="Alias domain Default From"
    )

    def action_open_mail_sender_check(self):
        return self.env["ir.actions.act_window"]._for_xml_id("mail_routing_policy.mail_sender_check_action")

    def action_open_mail_routing_check(self):
        return self.env["ir.actions.act_window"]._for_xml_id("mail_routing_policy.mail_routing_check_action")
