# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api, fields, models, tools

from ..tools import address_filter


class MailAliasDomain(models.Model):
    """Incoming room: how DMARC failures of other domains are enforced."""

    _inherit = "mail.alias.domain"

    auth_dmarc_enforcement = fields.Selection(
        [("enforce", "Apply their policy"), ("record", "Record only")],
        string="DMARC of other domains",
        default="enforce",
        required=True,
        help="Mail addressed to this alias domain whose sender's domain fails "
        "DMARC. Apply their policy: the policy the sender's domain publishes in "
        "its DMARC record decides (p=reject: refused, p=quarantine: quarantined "
        "in the gateway log, p=none: delivered). Record only: delivered, the "
        "failure recorded on the message. Mail claiming to come from your own "
        "users or domains always needs proof.",
    )

    @api.model
    @tools.ormcache()
    def _routing_dmarc_record_only(self):
        """A-labels of the alias domains that only record third-party DMARC failures."""
        domains = self.sudo().search([("auth_dmarc_enforcement", "=", "record")])
        names = set()
        for name in domains.mapped("name"):
            try:
                names.add(address_filter.domain_to_ascii(name))
            except ValueError:
                names.add((name or "").lower())
        return frozenset(names)
