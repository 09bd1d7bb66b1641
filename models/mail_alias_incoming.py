# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools import routing_params


class MailAlias(models.Model):
    _inherit = "mail.alias"

    loop_minutes = fields.Integer(
        "Loop window (minutes)",
        help=(
            "Loop window for this alias. Empty: the global value from Settings (Mail "
            "routing, Loop protection)."
        ),
    )
    loop_threshold = fields.Integer(
        "Loop threshold",
        help=(
            "Loop threshold for this alias. Empty: the global value from Settings "
            "(Mail routing, Loop protection)."
        ),
    )
    loop_effective = fields.Char(
        "Effective loop limit", compute="_compute_loop_effective"
    )
    allow_list_warning = fields.Char(compute="_compute_allow_list_warning")

    _sql_constraints = [
        (
            "loop_minutes_positive",
            "CHECK(loop_minutes IS NULL OR loop_minutes >= 0)",
            "Loop window must be >= 0.",
        ),
        (
            "loop_threshold_positive",
            "CHECK(loop_threshold IS NULL OR loop_threshold >= 0)",
            "Loop threshold must be >= 0.",
        ),
    ]

    @api.depends("loop_minutes", "loop_threshold")
    def _compute_loop_effective(self):
        for alias in self:
            minutes, threshold = alias._get_loop_limits()
            if threshold == 1:
                alias.loop_effective = self.env._(
                    "1 record per %(minutes)s minutes per sender", minutes=minutes
                )
            else:
                alias.loop_effective = self.env._(
                    "%(threshold)s records per %(minutes)s minutes per sender",
                    threshold=threshold,
                    minutes=minutes,
                )

    @api.depends("alias_domain_id", "alias_incoming_local")
    def _compute_allow_list_warning(self):
        policy = self.env["mail.thread"]._get_recipient_policy()
        for alias in self:
            warning = False
            if policy["entries"] and alias.alias_incoming_local:
                warning = self.env._(
                    "Mail to %(name)s@<other domain> reaches this alias only for the "
                    "alias domains and the allowed "
                    "domains %(allowed)s.",
                    name=alias.alias_name or "",
                    allowed=policy["raw"],
                )
            alias.allow_list_warning = warning

    @api.model
    def _routing_alias_ids(self, addresses, local_parts):
        """Ids (ascending) of the aliases core's ``message_route`` finds for
        these recipients: full address in ``addresses``, or local part in
        ``local_parts`` for an alias with ``alias_incoming_local``.

        Core's domain ``['|', ('alias_full_name', 'in', addresses), '&',
        ('alias_name', 'in', local_parts), ('alias_incoming_local', '=', True)]``
        in one SQL statement: the mailgate asks it for every ``RCPT TO``, where
        parsing the domain cost more than the query (equivalence is tested).
        """
        if not addresses and not local_parts:
            return []
        self.flush_model(["alias_full_name", "alias_name", "alias_incoming_local"])
        self.env.cr.execute(
            SQL(
                """SELECT id FROM mail_alias
                    WHERE alias_full_name = ANY(%s::varchar[]) OR (alias_name =
                        ANY(%s::varchar[]) AND alias_incoming_local)
                 ORDER BY id""",
                list(addresses),
                list(local_parts),
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def _get_loop_limits(self):
        """(minutes, threshold) in force for this alias: its own values, else
        its model's (``_routing_loop_limits``), else the global ones."""
        if self:
            self.ensure_one()
            model = self.alias_model_id.model
            minutes, threshold = self.env["mail.thread"]._routing_model_loop_limits(
                model
            )
            return self.loop_minutes or minutes, self.loop_threshold or threshold
        get_param = self.env["ir.config_parameter"].sudo().get_param
        return (
            routing_params.read(get_param, "mail.gateway.loop.minutes"),
            routing_params.read(get_param, "mail.gateway.loop.threshold"),
        )
