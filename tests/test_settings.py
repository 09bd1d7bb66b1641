"""Settings block: values round-trip through system parameters, bad values refused."""

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from odoo.addons.mail.tests.common import MailCommon


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestRoutingSettings(MailCommon):
    def settings(self, **values):
        return self.env["res.config.settings"].create(values)

    def test_settings_write_and_read_parameters(self):
        ICP = self.env["ir.config_parameter"].sudo()
        self.settings(
            routing_default_from="robot",
            routing_default_from_display="{name} via {company}",
            routing_default_from_policy="block",
            routing_catchall_domain_allowed="Example.org, .Trusted.example",
            routing_loop_threshold=7,
            routing_loop_minutes=15,
            routing_log_retention_days=10,
        ).execute()
        self.assertEqual(ICP.get_param("mail.default.from"), "robot")
        self.assertEqual(ICP.get_param("mail.default.from_policy"), "block")
        self.assertEqual(ICP.get_param("mail.catchall.domain.allowed"), "example.org,*.trusted.example")
        self.assertEqual(ICP.get_param("mail.gateway.loop.threshold"), "7")
        self.assertEqual(ICP.get_param("mail.gateway.loop.minutes"), "15")
        # edited under System Parameters, shown in Settings
        ICP.set_param("mail.gateway.loop.threshold", "9")
        self.assertEqual(self.settings().routing_loop_threshold, 9)
        self.assertEqual(self.settings().routing_catchall_domain_allowed, "example.org,*.trusted.example")
        # clearing removes the parameter: core defaults apply
        self.settings(routing_default_from=False, routing_catchall_domain_allowed=False).execute()
        self.assertFalse(ICP.search([("key", "in", ("mail.default.from", "mail.catchall.domain.allowed"))]))
        self.assertEqual(
            self.env["ir.mail_server"]._get_default_from_address(), "notifications.test@test.mycompany.com"
        )

    def test_settings_refuse_bad_values_naming_them(self):
        cases = [
            ({"routing_catchall_domain_allowed": "example.org, exa mple.com"}, "exa mple.com"),
            ({"routing_default_from_filter": "foo@"}, "foo@"),
            ({"routing_default_from": "not an address"}, "mail.default.from"),
            ({"routing_default_from_display": "{email}"}, "mail.default.from_display"),
            ({"routing_loop_threshold": -1}, "mail.gateway.loop.threshold"),
        ]
        for values, named in cases:
            with self.subTest(values=values), self.assertRaises(ValidationError) as ctx:
                self.settings(**values).execute()
            self.assertIn(named, str(ctx.exception))

    def test_alias_domain_addresses_editable(self):
        self.settings(routing_catchall_alias="replies", routing_bounce_alias="bounces").execute()
        self.assertEqual(self.env.company.alias_domain_id.catchall_email, "replies@test.mycompany.com")
        self.assertEqual(self.env.company.alias_domain_id.bounce_email, "bounces@test.mycompany.com")

    def test_settings_admin_only(self):
        with self.assertRaises(AccessError):
            self.env["res.config.settings"].with_user(self.user_employee).create({"routing_loop_threshold": 5})
