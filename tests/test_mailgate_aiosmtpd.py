# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The aiosmtpd members the mailgate overrides or relies on although they are
private (cli/smtp_handler.py says why for each): pinned to aiosmtpd 1.4.6.
A new aiosmtpd changes their source, and these tests fail, so that each
override is read again against the new code before the pin moves."""

import hashlib
import inspect
import pathlib
import re

import aiosmtpd
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from odoo.tests import BaseCase, tagged

from odoo.addons.mail_routing_policy.cli import smtp_handler

ADDON = pathlib.Path(__file__).resolve().parent.parent
PINNED_VERSION = "1.4.6"
# sha256 of each member's source in aiosmtpd 1.4.6
OVERRIDDEN = {
    "_handle_client": (
        "0e4d096403af6c74c87b2fe722c213884e2140a9388e95feb05aec2f39e05556"
    ),
    "_call_handler_hook": (
        "6ff23a6634ea03076444ef30df9fd65b01c4d52e9fda0bd3d99339aacc488d74"
    ),
    "_reset_timeout": (
        "fef19b94d28dff319ca0ca9ecc1884e8f419d9f016d1d25380b01d5e85ff3c78"
    ),
    "_timeout_cb": "10a7351f9bec281831442cd03ddb4f403d0d3f18b939976ea4f83b9ff557c10d",
    # public, but replaced whole: its checks are aiosmtpd's, copied
    "smtp_DATA": "3a33f30d3fd6d02f39c7d78a08288bffea9170525b62e2161568041ae7e018df",
}
CALLED = {
    "_set_post_data_state": (
        "1dc8a8abca2a81644a605b8ebf427fc7472eeadf5149dd3cf2591fa86b2256e9"
    ),
    # sets the private attributes below
    "__init__": "8a9ca80f23ad9bf273e58e284170e9f919dc6269b280ca0624ac0603a8ad3604",
}
# private attributes of aiosmtpd's SMTP the mailgate reads or sets
ATTRIBUTES = {
    "_enforce_call_limit",
    "_handler_coroutine",
    "_timeout_duration",
    "_timeout_handle",
    "_writer",
}


def source_hash(member):
    return hashlib.sha256(inspect.getsource(member).encode()).hexdigest()


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestAiosmtpdPins(BaseCase):
    def test_version(self):
        self.assertEqual(aiosmtpd.__version__, PINNED_VERSION)
        lock = (ADDON / "requirements.lock").read_text()
        self.assertIn(f"aiosmtpd=={PINNED_VERSION}\n", lock)

    def test_overridden_members_unchanged(self):
        for name, digest in {**OVERRIDDEN, **CALLED}.items():
            with self.subTest(member=name):
                self.assertEqual(source_hash(getattr(SMTP, name)), digest)

    def test_no_other_private_override(self):
        """Every private aiosmtpd method the mailgate overrides is pinned
        here: a new override must be added (and explained)."""
        for cls, base in (
            (smtp_handler.MailgateServerMixin, SMTP),
            (smtp_handler.MailgateController, Controller),
        ):
            overridden = {
                name
                for name, value in vars(cls).items()
                if name.startswith("_")
                and not name.startswith("__")
                and callable(value)
                and hasattr(base, name)
            }
            with self.subTest(cls=cls.__name__):
                self.assertLessEqual(overridden, set(OVERRIDDEN))
        self.assertIn("smtp_DATA", vars(smtp_handler.MailgateServerMixin))

    def test_private_attributes_pinned(self):
        """The private attributes of aiosmtpd the mailgate uses are the
        pinned ones, and aiosmtpd still sets them."""
        ours = inspect.getsource(smtp_handler)
        theirs = inspect.getsource(SMTP)
        used = (
            {
                name
                for name in re.findall(r"self\.(_[a-z][a-z_]+)", ours)
                if re.search(rf"self\.{name}\b", theirs)
            }
            - set(OVERRIDDEN)
            - set(CALLED)
        )
        self.assertEqual(used, ATTRIBUTES)
        for name in ATTRIBUTES:
            with self.subTest(attribute=name):
                self.assertRegex(theirs, rf"self\.{name}(: [^=]+)? = ")
