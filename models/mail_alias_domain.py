# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api, models, tools

from ..tools import address_filter


class MailAliasDomain(models.Model):
    """Cached facts about alias domains for the per-message routing rules
    (outgoing and incoming rooms)."""

    _name = "mail.alias.domain"
    _inherit = ["mail.alias.domain", "mail.routing.cache.mixin"]

    @api.model
    @tools.ormcache()
    def _routing_domain_facts(self):
        """Tuple of ``(id, name, ascii_name, catchall, bounce, default_from)``
        for every alias domain, ordered as core orders them.

        Read for every incoming and outgoing mail: cached in the registry and
        cleared whenever an alias domain changes, so routing costs no query.
        """
        facts = []
        for domain in self.sudo().search([]):
            try:
                ascii_name = address_filter.domain_to_ascii(domain.name)
            except ValueError:
                ascii_name = (domain.name or "").lower()
            facts.append(
                (
                    domain.id,
                    domain.name,
                    ascii_name,
                    domain.catchall_email,
                    domain.bounce_email,
                    domain.default_from_email,
                )
            )
        return tuple(facts)
