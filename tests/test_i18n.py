# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Translations: the committed template matches the code, German is
complete, and German reaches the user (field labels and code messages)."""

import io
import os
import re

import polib

from odoo.exceptions import ValidationError
from odoo.modules.module import get_module_path
from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import trans_export

from .common import I18N_DIR, load_german

PLACEHOLDER_RE = re.compile(r"%(?:\([a-z_]+\))?[srd]|\{[a-z_]+\}")


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestTranslations(TransactionCase):
    def test_template_is_up_to_date(self):
        buffer = io.BytesIO()
        trans_export(False, ["mail_routing_policy"], buffer, "po", self.env.cr)
        exported = {entry.msgid for entry in polib.pofile(buffer.getvalue().decode())}
        committed = {
            entry.msgid
            for entry in polib.pofile(os.path.join(I18N_DIR, "mail_routing_policy.pot"))
        }
        self.assertEqual(
            exported - committed,
            set(),
            "terms missing from the .pot: run scripts/i18n-update",
        )
        self.assertEqual(
            committed - exported,
            set(),
            "stale terms in the .pot: run scripts/i18n-update",
        )

    def test_german_is_complete_and_keeps_placeholders(self):
        template = polib.pofile(os.path.join(I18N_DIR, "mail_routing_policy.pot"))
        german = {
            entry.msgid: entry.msgstr
            for entry in polib.pofile(os.path.join(I18N_DIR, "de.po"))
        }
        for entry in template:
            with self.subTest(msgid=entry.msgid):
                self.assertTrue(german.get(entry.msgid), "untranslated")
                self.assertEqual(
                    sorted(PLACEHOLDER_RE.findall(entry.msgid)),
                    sorted(PLACEHOLDER_RE.findall(german[entry.msgid])),
                )

    def test_german_reaches_the_user(self):
        german = load_german(self.env)
        label = german["res.config.settings"].fields_get(
            ["routing_catchall_domain_allowed"]
        )
        self.assertEqual(
            label["routing_catchall_domain_allowed"]["string"],
            "Zugelassene Alias-Domains",
        )
        with self.assertRaisesRegex(
            ValidationError, "E-Mail-Gateway erlaubt: ungültiger Eintrag „foo@“"
        ):
            german["mail.gateway.allowed"].create({"email": "foo@"})
        # one list, one name: the button says what core's menu says
        core_german = {
            entry.msgid: entry.msgstr
            for entry in polib.pofile(
                os.path.join(get_module_path("mail"), "i18n", "de.po")
            )
        }
        action = german.ref("mail_routing_policy.mail_gateway_allowed_action")
        self.assertEqual(action.name, core_german["Mail Gateway Allowed"])
        arch = german["res.config.settings"].get_view(view_type="form")["arch"]
        self.assertIn(f'string="{core_german["Mail Gateway Allowed"]}"', arch)
        # a refusal at RCPT TO, logged by the mailgate in English, reads in German
        entry = (
            self.env["mail.gateway.log"]
            .with_context(lang="en_US")
            ._log_rcpt_refusal(
                "relay_denied",
                "spam@bad.example",
                "commercial@gmail.com",
                "203.0.113.7",
                {"domain": "gmail.com"},
            )
        )
        self.assertIn(
            "relaying is not permitted",
            entry.details,
            "the stored text, for search and export",
        )
        german_entry = german["mail.gateway.log"].browse(entry.id)
        self.assertIn(
            "Bei RCPT TO abgelehnt (550 5.7.1): gmail.com ist weder eine Alias-Domain",
            german_entry.explanation,
        )
        self.assertEqual(
            german_entry.display_name,
            "Weiterleitung nicht erlaubt (SMTP): commercial@gmail.com",
        )
        self.assertTrue(german_entry.smtp_refusal)
        # a limit's entry: named by its client, its number in the reader's way
        limit = self.env["mail.gateway.log"]._log_rcpt_refusal(
            "pregreet",
            "",
            "",
            "203.0.113.8",
            {"code": "pregreet", "limit": "pregreet", "value": 2.5},
        )
        german_limit = german["mail.gateway.log"].browse(limit.id)
        self.assertIn("(2,5 s)", german_limit.explanation)
        self.assertIn("(2.5 s)", limit.with_context(lang="en_US").explanation)
        self.assertTrue(
            german_limit.display_name.endswith(": 203.0.113.8"),
            german_limit.display_name,
        )
        self.assertEqual(entry.first_date, entry.date, "first seen: the first refusal")
