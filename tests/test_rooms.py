# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The layout by capability (docs/rooms.rst): heavy libraries load where they
are used, and the README stays a module page that links the docs."""

import json
import os
import re
import subprocess
import sys

import odoo
from odoo.tests import BaseCase, tagged

import odoo.addons

ADDON_DIR = os.path.dirname(os.path.dirname(__file__))
HEAVY = ("dkim", "spf", "authres")
# the peers the tests compare the module with (requirements-test.txt): never
# loaded by the module
TEST_ONLY = ("checkdmarc", "parsedmarc")

# run in a fresh interpreter: import the whole addon as an Odoo worker does,
# then use mail_auth once; print which heavy libraries were loaded when
CHILD = """
import importlib, json, sys
import odoo.addons
odoo.addons.__path__[:] = sys.argv[1].split(":")
heavy = sys.argv[2].split(",")
importlib.import_module("odoo.addons.mail_routing_policy")
loaded = {"after_import": sorted(m for m in heavy if m in sys.modules)}
from odoo.addons.mail_routing_policy.tools import mail_auth
mail_auth.parse_dmarc_record(b"v=DMARC1; p=none")
mail_auth.header_authserv_id("mx.example.com; spf=pass")
mail_auth._spf_query_class()
loaded["after_use"] = sorted(m for m in heavy if m in sys.modules)
from odoo.addons.mail_routing_policy.tools import dmarc_reports
dmarc_reports.parse_aggregate(
    b"<feedback><report_metadata><org_name>o</org_name><report_id>1</report_id>"
    b"<date_range><begin>0</begin><end>1</end></date_range></report_metadata>"
    b"<policy_published><domain>example.com</domain></policy_published></feedback>"
)
test_only = sys.argv[3].split(",")
loaded["test_only"] = sorted(m for m in test_only if m in sys.modules)
print(json.dumps(loaded))
"""


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestRooms(BaseCase):
    def test_heavy_libraries_load_where_used(self):
        """A worker that loads the module (to send mail) does not load dkimpy,
        pyspf or authres; the first authentication does. The peers the tests
        compare with (checkdmarc, parsedmarc) are never loaded, not even to
        read a report."""
        odoo_root = os.path.dirname(os.path.dirname(odoo.__file__))
        env = dict(os.environ, PYTHONPATH=odoo_root)
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                CHILD,
                ":".join(odoo.addons.__path__),
                ",".join(HEAVY),
                ",".join(TEST_ONLY),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        loaded = json.loads(result.stdout.strip().splitlines()[-1])
        self.assertEqual(loaded["after_import"], [], "loaded with the module")
        self.assertEqual(loaded["after_use"], sorted(HEAVY), "loaded when used")
        self.assertEqual(loaded["test_only"], [], "test-only peers never loaded")

    def test_readme_is_a_module_page_linking_the_docs(self):
        with open(os.path.join(ADDON_DIR, "README.rst"), encoding="utf-8") as file:
            readme = file.read()
        self.assertLessEqual(len(readme.splitlines()), 350)
        links = set(re.findall(r"<(docs/[\w.]+\.rst)>`_", readme))
        for name in ("mailgate", "benchmarks", "development", "rooms"):
            self.assertIn(f"docs/{name}.rst", links)
        for link in sorted(links):
            with self.subTest(link=link):
                self.assertTrue(os.path.isfile(os.path.join(ADDON_DIR, link)))

    def test_mailgate_docs_show_what_the_postfix_test_runs(self):
        """docs/mailgate.rst documents the Postfix lines that
        tests/test_mailgate_postfix.py runs in front of the mailgate."""
        with open(
            os.path.join(ADDON_DIR, "docs", "mailgate.rst"), encoding="utf-8"
        ) as file:
            text = file.read()
        for line in (
            "relay_domains = example.com",
            "transport_maps = inline:{ example.com=smtp:[127.0.0.1]:2525 }",
            "reject_unverified_recipient",
            "unverified_recipient_reject_code = 550",
            "smtp_send_xforward_command = yes",
            "--relay-networks",
        ):
            with self.subTest(line=line):
                self.assertIn(line, text)
