# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Translations: the committed template matches the code, German is
complete, and German reaches the user (field labels and code messages).
Exporting the module's terms reads the addon's folder the way Odoo's
exporter walks it: only the addon is there, and the export from Settings
finishes."""

import base64
import fnmatch
import io
import json
import os
import re
import shutil
import subprocess

import polib

from odoo.exceptions import ValidationError
from odoo.modules.module import get_module_path
from odoo.tests import HttpCase, TransactionCase, tagged
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


# what a harness leaves when it keeps its state in the addon's folder
HARNESS_NAMES = {".venv", "venv", "node_modules", ".pgdata", "pgdata", ".tox", ".nox"}
HARNESS_FILES = {"pyvenv.cfg", "PG_VERSION", "postmaster.pid"}


def walk_like_the_exporter(path):
    """Yield (folder, its real path, files) as Odoo's TranslationModuleReader
    walks an addons folder (``os.walk(path, followlinks=True)``), stopping
    with an AssertionError at the first folder walked twice (a link back
    into the tree: the exporter would loop until the disk ends)."""
    seen = {}
    for root, dirs, files in os.walk(path, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:
            raise AssertionError(
                f"{root} is {seen[real]} again: a link loops back into the addon, "
                "Odoo's translation export would never end"
            )
        seen[real] = root
        dirs.sort()
        yield root, real, files


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestAddonFolder(TransactionCase):
    def test_exporter_walk_visits_only_the_addon(self):
        """The addon's folder holds the addon only: walked as Odoo's
        translation exporter walks it, it ends, never leaves the folder, and
        every file is the addon's. In a git checkout that is every file git
        tracks (or would: a new file not yet added, not an ignored one;
        Python's bytecode in ``__pycache__`` beside a module, which the
        exporter skips, and the checkout's ``.git`` are no harness state).
        Elsewhere (an installed wheel) no virtualenv, node tools or database
        cluster is in it."""
        path = get_module_path("mail_routing_policy")
        real_path = os.path.realpath(path)
        git = shutil.which("git")
        top = (
            subprocess.run(
                [git, "-C", real_path, "rev-parse", "--show-toplevel"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
            if git
            else ""
        )
        in_checkout = bool(top) and os.path.realpath(top) == real_path
        known = set()
        if in_checkout:
            listed = subprocess.run(
                [git, "-C", real_path, "ls-files", "-z", "--cached", "--others"]
                + ["--exclude-standard"],
                capture_output=True,
                check=True,
            ).stdout.decode()
            known = {name for name in listed.split("\0") if name}
            self.assertIn("__manifest__.py", known)
        visited = 0
        for root, real, files in walk_like_the_exporter(path):
            self.assertTrue(
                real == real_path or real.startswith(real_path + os.sep),
                f"{root} leads out of the addon, to {real}",
            )
            relative = os.path.relpath(real, real_path)
            parts = [] if relative == "." else relative.split(os.sep)
            if parts[:1] == [".git"]:
                continue
            self.assertFalse(
                HARNESS_NAMES & set(parts), f"harness state in the addon: {root}"
            )
            for name in files:
                visited += 1
                relative_file = os.path.join(*parts, name)
                if parts and parts[-1] == "__pycache__" and name.endswith(".pyc"):
                    continue
                if name == ".git" and not parts:
                    continue  # a worktree's link to its repository
                if in_checkout:
                    self.assertIn(
                        relative_file,
                        known,
                        f"{relative_file} is in the addon's folder but not the "
                        "addon's: Odoo's exporter reads it (.gitignore does not "
                        "hide it from Odoo)",
                    )
                else:
                    self.assertNotIn(name, HARNESS_FILES, os.path.join(root, name))
        self.assertGreater(visited, 50)
        # the exporter's patterns find the module's Python code
        python = [
            name
            for _root, _real, files in walk_like_the_exporter(path)
            for name in fnmatch.filter(files, "*.py")
        ]
        self.assertIn("__manifest__.py", python)


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestTranslationExport(HttpCase):
    def test_export_from_settings_gives_the_template(self):
        """Settings > Translations > Export, as the dialog does it: a new
        language's .pot for this module, through the server, back within a
        minute (the walk of a folder that links back into itself never
        ends), with the committed template's terms."""
        self.assertTrue(self.env.ref("base.action_wizard_lang_export"))
        module = self.env.ref("base.module_mail_routing_policy")
        self.authenticate("admin", "admin")

        def call(method, args):
            response = self.url_open(
                f"/web/dataset/call_kw/base.language.export/{method}",
                data=json.dumps(
                    {
                        "jsonrpc": "2.0",
                        "method": "call",
                        "id": 1,
                        "params": {
                            "model": "base.language.export",
                            "method": method,
                            "args": args,
                            "kwargs": {},
                        },
                    }
                ),
                headers={"Content-Type": "application/json"},
                timeout=60,
            )
            response.raise_for_status()
            body = response.json()
            self.assertNotIn("error", body)
            return body["result"]

        wizard_id = call(
            "create",
            [
                {
                    "lang": "__new__",
                    "format": "po",
                    "export_type": "module",
                    "modules": [[6, 0, module.ids]],
                }
            ],
        )
        if isinstance(wizard_id, list):
            wizard_id = wizard_id[0]
        action = call("act_getfile", [[wizard_id]])
        self.assertEqual(action["res_id"], wizard_id)
        [exported] = call("read", [[wizard_id], ["name", "data", "state"]])
        self.assertEqual(exported["state"], "get")
        self.assertEqual(exported["name"], "mail_routing_policy.pot")
        template = polib.pofile(base64.b64decode(exported["data"]).decode())
        committed = polib.pofile(os.path.join(I18N_DIR, "mail_routing_policy.pot"))
        self.assertEqual(
            {entry.msgid for entry in template}, {entry.msgid for entry in committed}
        )
