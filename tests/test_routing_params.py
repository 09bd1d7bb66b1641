# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The parameter registry (tools/routing_params.py): each room registers its
own parameters; what one room declares another cannot silently replace."""

from odoo.tests import BaseCase, tagged

from odoo.addons.mail_routing_policy.tools import routing_params
from odoo.addons.mail_routing_policy.tools.routing_params import (
    KIND_CHOICE,
    KIND_DOMAINS,
    KIND_INTEGER,
    RoutingParam,
)


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestRoutingParamsRegistry(BaseCase):
    def _forget(self, *keys):
        for key in keys:
            self.addCleanup(routing_params.PARAMS.pop, key, None)

    def test_register_read_and_conflicts(self):
        self._forget("test.rooms.count", "test.rooms.mode")
        registered = routing_params.register_params(
            "test_room",
            RoutingParam("test.rooms.count", KIND_INTEGER, default=3, minimum=1),
            RoutingParam(
                "test.rooms.mode",
                KIND_CHOICE,
                default="a",
                choices=("a", "b"),
                removed_on_uninstall=True,
            ),
        )
        self.assertEqual([param.room for param in registered], ["test_room"] * 2)
        self.assertEqual(
            [param.key for param in routing_params.params_of("test_room")],
            ["test.rooms.count", "test.rooms.mode"],
        )
        self.assertEqual(routing_params.default("test.rooms.count"), 3)
        self.assertIn("test.rooms.mode", routing_params.keys_removed_on_uninstall())
        stored = {"test.rooms.count": "0", "test.rooms.mode": "b"}
        self.assertEqual(routing_params.read(stored.get, "test.rooms.count"), 3)
        self.assertEqual(routing_params.read(stored.get, "test.rooms.mode"), "b")
        # the same declaration again (a module imported twice): nothing changes
        routing_params.register_params(
            "test_room",
            RoutingParam("test.rooms.count", KIND_INTEGER, default=3, minimum=1),
        )
        with self.assertRaisesRegex(
            ValueError,
            "test.rooms.count is registered twice: by room 'test_room' and by "
            "room 'other_room'",
        ):
            routing_params.register_params(
                "other_room",
                RoutingParam("test.rooms.count", KIND_INTEGER, default=3, minimum=1),
            )
        self.assertEqual(routing_params.PARAMS["test.rooms.count"].room, "test_room")

    def test_bad_declarations_are_refused(self):
        self._forget("test.rooms.bad")
        cases = [
            ("test_room", RoutingParam("test.rooms.bad", "colour"), "unknown kind"),
            (
                "test_room",
                RoutingParam("test.rooms.bad", KIND_INTEGER, default=1),
                "needs a minimum",
            ),
            (
                "test_room",
                RoutingParam("test.rooms.bad", KIND_CHOICE, default="c", choices="ab"),
                "not a choice",
            ),
            ("no room", RoutingParam("test.rooms.bad", KIND_INTEGER), "not a name"),
        ]
        for room, param, message in cases:
            with self.subTest(message=message):
                with self.assertRaisesRegex(ValueError, message):
                    routing_params.register_params(room, param)
                self.assertNotIn("test.rooms.bad", routing_params.PARAMS)

    def test_each_room_registers_its_own(self):
        """The rooms' Settings files registered their parameters; none is
        left without a room, and uninstall removes the module's own keys."""
        rooms = {
            "core": {"mail.dns.nameservers"},
            "outgoing": {"mail.default.from", "mail.default.from_policy"},
            "incoming": {"mail.gateway.loop.minutes", "mail.gateway.auth.spoof_action"},
            "mailgate": {"mail.gateway.smtp.rate_limit_action"},
            "dns_check": {"mail.gateway.public_host"},
            "dmarc_reports": {
                "mail.dmarc_reports.max_records",
                "mail.dmarc_reports.sender_daily_limit",
            },
        }
        for room, keys in rooms.items():
            with self.subTest(room=room):
                self.assertLessEqual(
                    keys, {param.key for param in routing_params.params_of(room)}
                )
        self.assertFalse([p.key for p in routing_params.PARAMS.values() if not p.room])
        self.assertEqual(
            set(routing_params.keys_removed_on_uninstall()),
            {
                "mail.default.from_policy",
                "mail.default.from_display",
                "mail.gateway.loop.reply_threshold",
                "mail.gateway.log.retention_days",
                "mail.gateway.log.keep_days",
            }
            | {param.key for param in routing_params.params_of("dmarc_reports")},
        )

    def test_settings_field_is_backed_by_its_parameter(self):
        """A room's Settings field is built from its registered parameter:
        backed by it, with its default; a choice field whose values are not
        the parameter's choices is refused, naming the key."""
        self._forget("test.rooms.count", "test.rooms.mode", "test.rooms.hosts")
        routing_params.register_params(
            "test_room",
            RoutingParam("test.rooms.count", KIND_INTEGER, default=3, minimum=1),
            RoutingParam("test.rooms.mode", KIND_CHOICE, default="a", choices="ab"),
            RoutingParam("test.rooms.hosts", KIND_DOMAINS),
        )
        settings_field = routing_params.settings_field
        cases = [
            (settings_field("test.rooms.count", "Count", "How many."), "integer", 3),
            (
                settings_field(
                    "test.rooms.mode",
                    "Mode",
                    "Which.",
                    selection=[("b", "B"), ("a", "A")],
                ),
                "selection",
                "a",
            ),
            (settings_field("test.rooms.hosts", "Hosts", "Where."), "char", None),
        ]
        for field, field_type, default in cases:
            with self.subTest(field_type=field_type):
                self.assertEqual(field.type, field_type)
                self.assertEqual(field.args.get("default"), default)
                self.assertTrue(
                    field.args["config_parameter"].startswith("test.rooms.")
                )
        with self.assertRaisesRegex(
            ValueError, r"^test.rooms.mode: the Settings choices"
        ):
            settings_field("test.rooms.mode", "Mode", "Which.", selection=[("a", "A")])
