# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError

from ..tools import address_filter


class MailGatewayAllowed(models.Model):
    """Allowed senders may also be a domain or a ``*.domain`` wildcard."""

    _name = "mail.gateway.allowed"
    _inherit = ["mail.gateway.allowed", "mail.routing.cache.mixin"]

    email = fields.Char(
        help="An address (robot@example.com), a domain (example.com) or every "
        "subdomain (*.example.com)."
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("email"):
                vals["email"] = self._normalize_trusted(vals["email"])
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("email"):
            vals = dict(vals, email=self._normalize_trusted(vals["email"]))
        return super().write(vals)

    @api.model
    def _normalize_trusted(self, value):
        # core accepts a formatted address ('"Alice" <alice@example.com>')
        if "<" in value:
            value = tools.email_normalize(value) or value
        try:
            entries = address_filter.parse_filter(value)
        except address_filter.AddressFilterError as exc:
            raise ValidationError(
                self.env._(
                    "Mail Gateway Allowed: invalid entry '%(entry)s': %(reason)s.",
                    entry=exc.entry,
                    reason=exc.describe(self.env),
                )
            ) from exc
        if len(entries) != 1:
            raise ValidationError(
                self.env._(
                    "Mail Gateway Allowed: give exactly one address or domain, not "
                    "'%s'.",
                    value,
                )
            )
        return address_filter.format_entry(entries[0])

    @api.model
    def _is_trusted(self, sender):
        """True when ``sender`` (normalised) is an allowed address or in an allowed
        domain."""
        if not sender:
            return False
        return bool(address_filter.match_address(self._trusted_entries(), sender))

    @api.model
    @tools.ormcache()
    def _trusted_entries(self):
        """Parsed entries of every allowed sender; checked for each incoming
        mail, so cached in the registry and cleared when the list changes."""
        # values written before this module was installed may be invalid:
        # the stored-filter parser skips (and logs) those entries
        parse = self.env["ir.mail_server"]._parse_from_filter
        return tuple(
            entry
            for value in self.sudo().search([]).mapped("email")
            for entry in parse(value)
        )
