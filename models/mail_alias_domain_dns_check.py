# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools import deliverability


class MailAliasDomain(models.Model):
    """Check DNS room: the DKIM selectors Check DNS reads for an alias domain."""

    _inherit = "mail.alias.domain"

    dkim_selectors = fields.Char(
        "DKIM selectors",
        groups="base.group_system",
        help="The selectors mail of this domain is signed with, comma-separated "
        "(e.g. mailo for Mailgun, s1, s2 for SendGrid): Check DNS reads the key "
        "published at <selector>._domainkey.<domain>.",
    )

    @api.constrains("dkim_selectors")
    def _check_dkim_selectors(self):
        for domain in self.sudo():
            self._validate_dkim_selectors(domain.name, domain.dkim_selectors)

    @api.model
    def _validate_dkim_selectors(self, owner, value):
        """Raise a ``ValidationError`` naming ``owner`` (an alias domain or an
        outgoing server) when ``value`` is not a list of DKIM selectors."""
        try:
            deliverability.parse_dkim_selectors(value)
        except deliverability.ConfigValueError as error:
            raise ValidationError(
                self.env._(
                    "DKIM selectors of %(domain)s: '%(item)s' is not a selector "
                    "(letters, digits, '-' and '_', parts separated by dots, "
                    "without ._domainkey).",
                    domain=owner,
                    item=error.item,
                )
            ) from error
