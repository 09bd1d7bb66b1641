# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import logging

from .tools import routing_params, sql_log_filter

_logger = logging.getLogger(__name__)


def post_load():
    """When Odoo loads the module (once per process): serialization conflicts
    on the loop guard are retried by Odoo, so odoo.sql_db does not log them
    as errors (tools/sql_log_filter.py). Not at import time of a model file."""
    sql_log_filter.install()


def post_init_hook(env):
    """Migrate the Odoo <= 14 key mail.force.smtp.from into mail.default.from."""
    ICP = env["ir.config_parameter"].sudo()
    legacy = ICP.get_param("mail.force.smtp.from")
    if legacy:
        if not ICP.get_param("mail.default.from"):
            ICP.set_param("mail.default.from", legacy)
            _logger.info(
                "Migrated mail.force.smtp.from=%s into mail.default.from", legacy
            )
        ICP.set_param("mail.force.smtp.from", False)


def uninstall_hook(env):
    """System parameters that exist only because of this module go (each room
    marks them removed_on_uninstall); core's documented keys
    (mail.default.from, ...) stay."""
    keys = routing_params.keys_removed_on_uninstall()
    env["ir.config_parameter"].sudo().search([("key", "in", keys)]).unlink()
