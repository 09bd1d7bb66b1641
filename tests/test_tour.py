"""The admin's path through Settings, in headless Chromium."""

from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestSettingsTour(HttpCase):
    # the tour ends on the (saved, unchanged) settings page, a form view
    allow_end_on_form = True

    def test_settings_tour(self):
        self.env["ir.mail_server"].create(
            {"name": "Tour Server", "smtp_host": "smtp.invalid", "from_filter": "corp.example", "sequence": 1}
        )
        self.start_tour("/odoo/settings", "mail_routing_policy_settings", login="admin")
        ICP = self.env["ir.config_parameter"].sudo()
        self.assertEqual(ICP.get_param("mail.catchall.domain.allowed"), "example.org,*.trusted.example")
        self.assertEqual(ICP.get_param("mail.gateway.loop.threshold"), "7")
