# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

# Run with "odoo-bin shell" on a database where the addon is installed:
# ruff: noqa: F821  (env is a global of "odoo-bin shell")
# uninstalls it and checks that nothing of it is left behind.
# pylint: disable=print-used  # a command-line tool: prints its report
import sys

from odoo.addons.mail_routing_policy.tools import routing_params

MODULE_PARAMS = routing_params.keys_removed_on_uninstall()
if not MODULE_PARAMS:
    print("UNINSTALL CHECK FAILED: no room registered a parameter to remove")
    sys.exit(1)
ICP = env["ir.config_parameter"].sudo()
ICP.set_param("mail.default.from_policy", "block")
ICP.set_param("mail.default.from_display", "{name} via {company}")
env.cr.commit()
module = env["ir.module.module"].search([("name", "=", "mail_routing_policy")])
module.button_immediate_uninstall()
env.cr.commit()
env.invalidate_all()
problems = []
if module.state != "uninstalled":
    problems.append(f"module state is {module.state}")
left = env["ir.config_parameter"].sudo().search([("key", "in", MODULE_PARAMS)])
if left:
    problems.append(f"system parameters left: {left.mapped('key')}")
if env["ir.model"].search([("model", "=", "mail.sender.check")]):
    problems.append("model mail.sender.check left")
views = env["ir.ui.view"].search([("arch_fs", "like", "mail_routing_policy/")])
if views:
    problems.append(f"views left: {views.mapped('name')}")
for view in env["ir.ui.view"].search([("model", "=", "ir.mail_server")]):
    try:
        view._check_xml()
    except Exception as exc:
        problems.append(f"view {view.name} broken: {exc}")
if problems:
    print("UNINSTALL CHECK FAILED: " + "; ".join(problems))
    sys.exit(1)
print("uninstall check: ok")
