# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api, models


class MailRoutingCacheMixin(models.AbstractModel):
    """Clears the registry caches when a record the routing rules cache
    (alias domains, allowed senders) is created, changed or deleted."""

    _name = "mail.routing.cache.mixin"
    _description = "Mail routing: cached configuration"

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self.env.registry.clear_cache()
        return records

    def write(self, vals):
        result = super().write(vals)
        self.env.registry.clear_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result
