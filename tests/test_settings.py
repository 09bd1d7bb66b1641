# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Settings block: values round-trip through system parameters, bad values refused."""

import os

from lxml import etree

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, tagged

from odoo.addons.mail.tests.common import MailCommon

from ..tools import routing_params
from .common import load_german


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
            routing_smtp_rate_limit_action="accept",
        ).execute()
        self.assertEqual(ICP.get_param("mail.gateway.smtp.rate_limit_action"), "accept")
        self.assertEqual(ICP.get_param("mail.default.from"), "robot")
        self.assertEqual(ICP.get_param("mail.default.from_policy"), "block")
        self.assertEqual(
            ICP.get_param("mail.catchall.domain.allowed"),
            "example.org,*.trusted.example",
        )
        self.assertEqual(ICP.get_param("mail.gateway.loop.threshold"), "7")
        self.assertEqual(ICP.get_param("mail.gateway.loop.minutes"), "15")
        # edited under System Parameters, shown in Settings
        ICP.set_param("mail.gateway.loop.threshold", "9")
        self.assertEqual(self.settings().routing_loop_threshold, 9)
        self.assertEqual(
            self.settings().routing_catchall_domain_allowed,
            "example.org,*.trusted.example",
        )
        # clearing removes the parameter: core defaults apply
        self.settings(
            routing_default_from=False, routing_catchall_domain_allowed=False
        ).execute()
        self.assertFalse(
            ICP.search(
                [("key", "in", ("mail.default.from", "mail.catchall.domain.allowed"))]
            )
        )
        self.assertEqual(
            self.env["ir.mail_server"]._get_default_from_address(),
            "notifications.test@test.mycompany.com",
        )

    def test_settings_refuse_bad_values_naming_them(self):
        cases = [
            (
                {"routing_catchall_domain_allowed": "example.org, exa mple.com"},
                "exa mple.com",
            ),
            ({"routing_default_from_filter": "foo@"}, "foo@"),
            ({"routing_default_from": "not an address"}, "mail.default.from"),
            ({"routing_default_from_display": "{email}"}, "mail.default.from_display"),
            ({"routing_loop_threshold": -1}, "mail.gateway.loop.threshold"),
        ]
        for values, named in cases:
            with self.subTest(values=values), self.assertRaises(ValidationError) as ctx:
                self.settings(**values).execute()
            self.assertIn(named, str(ctx.exception))

    def test_zero_is_refused_the_same_way_in_settings_and_rpc(self):
        """0 used to delete the parameter silently and show the default again."""
        ICP = self.env["ir.config_parameter"].sudo()
        ICP.set_param("mail.gateway.loop.threshold", 7)
        for field, key in (
            ("routing_loop_threshold", "mail.gateway.loop.threshold"),
            ("routing_loop_minutes", "mail.gateway.loop.minutes"),
            ("routing_log_retention_days", "mail.gateway.log.retention_days"),
        ):
            with self.subTest(field=field):
                with self.assertRaises(ValidationError) as ui:
                    self.settings(**{field: 0}).execute()
                with self.assertRaises(ValidationError) as rpc:
                    ICP.set_param(key, "0")
                label = self.env["res.config.settings"]._fields[field].string
                # the field as the admin sees it, the parameter in brackets, one prefix
                self.assertTrue(
                    str(ui.exception).startswith(f"{label} ({key}): invalid value '0'"),
                    ui.exception,
                )
                self.assertEqual(str(ui.exception), str(rpc.exception))
        self.assertEqual(
            ICP.get_param("mail.gateway.loop.threshold"), "7", "nothing was deleted"
        )
        # 0 replies per thread means unlimited: accepted
        self.settings(routing_loop_reply_threshold=0).execute()

    def test_german_grammar_errors_are_translated(self):
        german = load_german(self.env)
        with self.assertRaises(ValidationError) as ctx:
            german["ir.config_parameter"].sudo().set_param(
                "mail.catchall.domain.allowed", "exa mple.com"
            )
        message = str(ctx.exception)
        self.assertIn(
            "Zugelassene Alias-Domains (mail.catchall.domain.allowed)", message
        )
        self.assertIn("eine Domain darf keine Leerzeichen enthalten", message)
        self.assertNotIn("cannot contain", message)

    def test_alias_domain_addresses_editable(self):
        self.settings(
            routing_catchall_alias="replies", routing_bounce_alias="bounces"
        ).execute()
        self.assertEqual(
            self.env.company.alias_domain_id.catchall_email,
            "replies@test.mycompany.com",
        )
        self.assertEqual(
            self.env.company.alias_domain_id.bounce_email, "bounces@test.mycompany.com"
        )

    def test_settings_admin_only(self):
        with self.assertRaises(AccessError):
            self.env["res.config.settings"].with_user(self.user_employee).create(
                {"routing_loop_threshold": 5}
            )

    def test_block_is_compact_and_every_setting_reachable(self):
        """The block in Settings is as short as core's Emails block (a few
        settings, one line of help each); the rarely changed ones are in
        More settings, so every parameter of the module is reachable."""
        Settings = self.env["res.config.settings"]
        main = etree.fromstring(
            Settings.get_views([(False, "form")])["views"]["form"]["arch"]
        )
        (block,) = main.xpath("//block[@id='mail_routing']")
        settings = block.xpath(".//setting")
        self.assertLessEqual(len(settings), 6)
        for setting in settings:
            with self.subTest(setting=setting.get("id")):
                self.assertLessEqual(
                    len(setting.get("help") or ""), 100, "one line of help"
                )
        more_view = self.env.ref(
            "mail_routing_policy.mail_routing_settings_more_view_form"
        )
        more = etree.fromstring(
            Settings.get_views([(more_view.id, "form")])["views"]["form"]["arch"]
        )
        shown = {
            node.get("name") for node in block.xpath(".//field") + more.xpath("//field")
        }
        ours = {name for name in Settings._fields if name.startswith("routing_")}
        self.assertEqual(ours - shown, set(), "a setting of the module shown nowhere")
        # Outgoing servers only when core's "Use Custom Email Servers" is ticked
        (button,) = block.xpath(".//button[@string='Outgoing servers']")
        self.assertIn("external_email_server_default", button.get("invisible"))
        # More settings saves like the settings page
        wizard = Settings.create({"routing_dns_nameservers": "127.0.0.53:53"})
        wizard.execute()
        self.assertEqual(
            self.env["ir.config_parameter"].sudo().get_param("mail.dns.nameservers"),
            "127.0.0.53:53",
        )

    @staticmethod
    def _param_rows(path, underline):
        """``{key: row text}`` of the table under *System parameters* in
        ``path`` (none when it has no such section)."""
        with open(path, encoding="utf-8") as file:
            text = file.read()
        heading = "System parameters\n" + underline * len("System parameters")
        if heading not in text:
            return {}
        table = text.split(heading, 1)[1].split("\n\n", 3)[1]
        rows = {}
        for line in table.splitlines():
            if line.startswith("``"):
                key = line.split("``")[1]
                rows[key] = line
            elif line.startswith(" ") and rows:
                rows[key] += " " + line.strip()
        return rows

    def test_one_parameter_table_for_models_settings_and_readme(self):
        """tools/routing_params.PARAMS, as the rooms registered it: validation,
        Settings' defaults, the values the models read and the parameter
        tables (README's; a room's own in docs/<room>.rst) agree."""
        ICP = self.env["ir.config_parameter"].sudo()
        fields_by_key = {
            field.config_parameter: field
            for field in self.env["res.config.settings"]._fields.values()
            if getattr(field, "config_parameter", None)
        }
        root = os.path.dirname(os.path.dirname(__file__))
        rows = self._param_rows(os.path.join(root, "README.rst"), "~")
        for room in {param.room for param in routing_params.PARAMS.values()}:
            path = os.path.join(root, "docs", f"{room}.rst")
            if os.path.exists(path):
                rows.update(self._param_rows(path, "-"))
        for key, param in routing_params.PARAMS.items():
            with self.subTest(key=key):
                self.assertIn(key, rows, "every parameter has its table row")
                if param.default is not None:
                    self.assertRegex(
                        rows[key],
                        rf"\((``)?{param.default}(``)?[,:)]",
                        "the README's default",
                    )
                if key in fields_by_key and param.default is not None:
                    self.assertEqual(
                        fields_by_key[key].default(self.env["res.config.settings"]),
                        param.default,
                    )
                if param.minimum is not None:
                    with self.assertRaisesRegex(
                        ValidationError,
                        f"the smallest allowed value is {param.minimum}",
                    ):
                        ICP.set_param(key, str(param.minimum - 1))
                if param.choices:
                    with self.assertRaisesRegex(
                        ValidationError, "use one of: " + ", ".join(param.choices)
                    ):
                        ICP.set_param(key, "nonsense")
                # unset (or broken by SQL): the models read the default
                ICP.search([("key", "=", key)]).unlink()
                self.assertEqual(routing_params.read(ICP.get_param, key), param.default)
        self.env.cr.execute(
            "INSERT INTO ir_config_parameter (key, value) VALUES "
            "('mail.gateway.loop.minutes', '-5')"
        )
        self.env.registry.clear_cache()
        self.assertEqual(
            self.env["mail.alias"]._get_loop_limits()[0],
            120,
            "a value SQL wrote below the minimum",
        )

    def test_more_settings_dialog_shows_the_company_alias_domain(self):
        """The dialog reads the company's alias domain (its fields are shown),
        and saving it writes them."""
        self.assertTrue(self.env.company.alias_domain_id)
        view = "mail_routing_policy.mail_routing_settings_more_view_form"
        with Form(self.env["res.config.settings"], view=view) as form:
            self.assertEqual(form.alias_domain_id, self.env.company.alias_domain_id)
            form.routing_bounce_alias = "returns"
        self.assertEqual(self.env.company.alias_domain_id.bounce_alias, "returns")

    # ------------------------------------------------------------------
    # the admin's second walk (issue 30)
    # ------------------------------------------------------------------

    def test_separator_mistakes_name_the_fix(self):
        """A semicolon, spaces between domains or a leading @ are answered
        with the fix, not with a grammar lesson (issue 30, 10)."""
        ICP = self.env["ir.config_parameter"].sudo()
        german = load_german(self.env)
        cases = [
            (
                "mail.catchall.domain.allowed",
                "firma.example; firma.de",
                "separate entries with commas: firma.example, firma.de",
                "trennen Sie Einträge durch Kommas: firma.example, firma.de",
            ),
            (
                "mail.catchall.domain.allowed",
                "firma.example;firma.de",
                "separate entries with commas: firma.example, firma.de",
                "trennen Sie Einträge durch Kommas: firma.example, firma.de",
            ),
            (
                "mail.catchall.domain.allowed",
                "@firma.example",
                "write the domain without '@': firma.example",
                "schreiben Sie die Domain ohne „@“: firma.example",
            ),
            (
                "mail.gateway.auth.protected_domains",
                "firma.example; firma.de",
                "separate entries with commas: firma.example, firma.de",
                "trennen Sie Einträge durch Kommas: firma.example, firma.de",
            ),
            (
                "mail.gateway.auth.protected_domains",
                "@firma.example",
                "write the domain without '@': firma.example",
                "schreiben Sie die Domain ohne „@“: firma.example",
            ),
        ]
        for key, value, english, german_text in cases:
            with self.subTest(key=key, value=value):
                with self.assertRaises(ValidationError) as ctx:
                    ICP.set_param(key, value)
                self.assertIn(english, str(ctx.exception))
                with self.assertRaises(ValidationError) as ctx:
                    german["ir.config_parameter"].sudo().set_param(key, value)
                self.assertIn(german_text, str(ctx.exception))
        # one mistyped domain is still one: its own error
        with self.assertRaises(ValidationError) as ctx:
            ICP.set_param("mail.catchall.domain.allowed", "exa mple.com")
        self.assertIn("cannot contain spaces", str(ctx.exception))

    def test_loop_errors_name_what_the_screen_shows(self):
        """The block shows "Loop protection: [7] records in [120] minutes":
        an error names those words, not labels shown nowhere (issue 30, 14)."""
        german = load_german(self.env)
        for key, english, german_label in (
            (
                "mail.gateway.loop.threshold",
                "Loop protection: records",
                "Schleifenschutz: Datensätze",
            ),
            (
                "mail.gateway.loop.minutes",
                "Loop protection: minutes",
                "Schleifenschutz: Minuten",
            ),
        ):
            with self.subTest(key=key):
                with self.assertRaises(ValidationError) as ctx:
                    self.env["ir.config_parameter"].sudo().set_param(key, "0")
                self.assertTrue(
                    str(ctx.exception).startswith(f"{english} ({key})"), ctx.exception
                )
                with self.assertRaises(ValidationError) as ctx:
                    german["ir.config_parameter"].sudo().set_param(key, "0")
                self.assertTrue(
                    str(ctx.exception).startswith(f"{german_label} ({key})"),
                    ctx.exception,
                )

    def test_from_filter_help_on_the_server_form_is_the_modules(self):
        """A language loaded before the module keeps core's translation of
        the FROM filter's help (Odoo does not overwrite a field's existing
        translation): the server form carries the module's help itself,
        wildcards included (issue 30, 14)."""
        german = load_german(self.env)
        field = self.env["ir.model.fields"]._get("ir.mail_server", "from_filter")
        # what a German database installed before this module holds
        field.with_context(lang="de_DE").help = "Kerns eigener Hilfetext"
        for env, wildcard in (
            (self.env, "*.example.com for any subdomain of example.com"),
            (german, "*.example.com für jede Subdomain von example.com"),
        ):
            with self.subTest(lang=env.lang):
                arch = env["ir.mail_server"].get_view(view_type="form")["arch"]
                (node,) = etree.fromstring(arch).xpath("//field[@name='from_filter']")
                self.assertIn(wildcard, node.get("help"))

    def test_two_default_froms_one_winner(self):
        """The block's Default From and the alias domain's: the block's wins
        while it is set (the override Odoo's documentation describes), the
        alias domain's applies once it is cleared; Check sender, both
        screens and the README say the same (issue 30, 2)."""
        alias_domain = self.env.company.alias_domain_id
        alias_domain.default_from = "notifications"
        self.env["ir.mail_server"].create(
            {
                "name": "Relay",
                "smtp_host": "relay.invalid",
                "from_filter": alias_domain.name,
            }
        )
        check = self.env["mail.sender.check"].create({"email_from": "ann@gmail.com"})
        self.settings(routing_default_from="odoo").execute()
        check.invalidate_recordset()
        self.assertIn(f"odoo@{alias_domain.name}", check.header_from)
        self.settings(routing_default_from=False).execute()
        check.invalidate_recordset()
        self.assertIn(f"notifications@{alias_domain.name}", check.header_from)
        # the screens say which one is used
        arch = self.env["res.config.settings"].get_view(view_type="form")["arch"]
        self.assertIn("Used instead of the alias domain's", arch)
        more = self.env.ref("mail_routing_policy.mail_routing_settings_more_view_form")
        more_arch = self.env["res.config.settings"].get_view(more.id)["arch"]
        self.assertIn("that one wins for every company", more_arch)
        with open(
            os.path.join(os.path.dirname(os.path.dirname(__file__)), "README.rst"),
            encoding="utf-8",
        ) as file:
            readme = " ".join(file.read().split())
        self.assertIn("when it is set it wins over *Default From of the alias", readme)

    def test_check_sender_words_author_and_template(self):
        """Check sender speaks of the author in one word and of templates and
        apps, not of code (issue 30, 11)."""
        alias_domain = self.env.company.alias_domain_id
        server = self.env["ir.mail_server"].create(
            {
                "name": "Relay",
                "smtp_host": "relay.invalid",
                "from_filter": alias_domain.name,
            }
        )
        german = load_german(self.env)
        check = german["mail.sender.check"].create({"email_from": "ann@gmail.com"})
        self.assertIn("statt der Adresse des Autors", check.summary)
        self.assertIn("im Namen des Autors", check.summary)
        self.assertNotIn("Verfasser", check.summary)
        pinned = german["mail.sender.check"].create(
            {"email_from": "ann@gmail.com", "pinned_server_id": server.id}
        )
        self.assertIn("Vorlage oder die App", pinned.summary)
        self.assertNotIn("Code", pinned.summary)
        english = self.env["mail.sender.check"].create({"email_from": "ann@gmail.com"})
        self.assertIn("instead of the author's address", english.summary)

    def test_alias_domain_dmarc_choice_fits_the_quick_create_dialog(self):
        """Radio buttons, short labels and a help that says whose policy
        (issue 30, 15)."""
        arch = self.env["mail.alias.domain"].get_view(view_type="form")["arch"]
        (node,) = etree.fromstring(arch).xpath(
            "//field[@name='auth_dmarc_enforcement']"
        )
        self.assertEqual(node.get("widget"), "radio")
        field = self.env["mail.alias.domain"]._fields["auth_dmarc_enforcement"]
        self.assertIn("the policy the sender's domain publishes", field.help)

    def test_each_room_adds_its_settings_to_the_shell_alone(self):
        """The rooms' Settings views (views/res_config_settings_<room>_views.xml)
        anchor on the shell, so each applies without the other rooms' views;
        the one exception is Check DNS's button, which stands beside the
        outgoing room's Check sender."""
        View = self.env["ir.ui.view"]
        shell = self.env.ref("mail_routing_policy.res_config_settings_view_form")
        (block,) = etree.fromstring(shell.arch).xpath("//block[@id='mail_routing']")
        main = etree.Element("form")
        main.append(block)
        more_shell = self.env.ref(
            "mail_routing_policy.mail_routing_settings_more_view_form"
        )
        more = etree.fromstring(more_shell.arch)
        self.assertEqual(len(more.xpath("/form/group")), 1, "one top-level group")
        self.assertFalse(block.xpath(".//setting"), "the shell names no room")
        rooms = {
            "outgoing": {"routing_default_from", "routing_default_from_display"},
            "incoming": {"routing_loop_threshold", "routing_auth_spoof_action"},
            "mailgate": {"routing_smtp_rate_limit_action"},
            "dns_check": {"routing_gateway_public_host"},
        }
        for room, some_fields in rooms.items():
            shown = set()
            for prefix, source in (
                ("res_config_settings", main),
                ("mail_routing_settings_more", more),
            ):
                view = self.env.ref(
                    f"mail_routing_policy.{prefix}_{room}_view_form",
                    raise_if_not_found=False,
                )
                if not view or (room, prefix) == ("dns_check", "res_config_settings"):
                    continue
                with self.subTest(room=room, view=prefix):
                    arch = View.apply_inheritance_specs(
                        etree.fromstring(etree.tostring(source)),
                        etree.fromstring(view.arch),
                    )
                    shown |= {node.get("name") for node in arch.xpath("//field")}
            self.assertLessEqual(some_fields, shown, room)
        # the exception: beside Check sender, once the outgoing room is there
        outgoing = View.apply_inheritance_specs(
            main,
            etree.fromstring(
                self.env.ref(
                    "mail_routing_policy.res_config_settings_outgoing_view_form"
                ).arch
            ),
        )
        dns_check = View.apply_inheritance_specs(
            outgoing,
            etree.fromstring(
                self.env.ref(
                    "mail_routing_policy.res_config_settings_dns_check_view_form"
                ).arch
            ),
        )
        self.assertEqual(
            [button.get("name") for button in dns_check.xpath("//button")][-2:],
            ["action_open_mail_sender_check", "action_check_dns"],
        )
