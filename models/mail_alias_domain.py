from odoo import api, models, tools

from ..tools import address_filter


class MailAliasDomain(models.Model):
    """Cached facts about alias domains for the per-message routing rules."""

    _inherit = "mail.alias.domain"

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

    @api.model_create_multi
    def create(self, vals_list):
        domains = super().create(vals_list)
        self.env.registry.clear_cache()
        return domains

    def write(self, vals):
        result = super().write(vals)
        self.env.registry.clear_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result
