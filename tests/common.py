# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import os
import time

from odoo.modules.registry import DummyRLock, Registry
from odoo.tools.translate import TranslationImporter

from odoo.addons.mail.tests.common import MailCommon

RAW = """Return-Path: {return_path}
From: {email_from}
To: {to}
Cc: {cc}
Subject: {subject}
Message-ID: {msg_id}
Date: Fri, 10 Aug 2012 14:16:26 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
{extra}
Please call me as soon as possible.
"""


I18N_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "i18n")


def load_german(env):
    """German active and this module's de.po loaded, as for an administrator
    who reads Odoo in German; returns a German environment."""
    env["res.lang"]._activate_lang("de_DE")
    importer = TranslationImporter(env.cr, verbose=False)
    importer.load_file(os.path.join(I18N_DIR, "de.po"), "de_DE")
    importer.save(overwrite=True)
    return env(context={**env.context, "lang": "de_DE"})


def allow_registry_in_threads(case):
    """Let threads started by ``case`` open environments for the rest of the
    test (until its cleanups ran: register this first, in ``setUp``).

    ``odoo-bin --test-enable`` runs the post-install tests inside
    ``ThreadedServer.run``, which holds the class-wide ``Registry._lock``
    (an ``RLock`` owned by the main thread) around ``preload_registries``;
    a thread that builds an ``api.Environment`` on a new cursor goes through
    ``Registry(dbname)`` -> ``Registry.__new__`` -> ``with cls._lock`` and
    waits for ever while the main thread joins it. Odoo's own threaded tests
    (``HttpCase``, through ``Registry.enter_test_mode``) swap that lock for a
    ``DummyRLock`` while they run: the same here, restored afterwards. The
    registry is loaded before any test runs, so its threads only look it up.
    Under pytest-odoo nobody holds the lock and this changes nothing."""
    saved = Registry._lock
    Registry._lock = DummyRLock()

    def restore():
        Registry._lock = saved

    case.addCleanup(restore)


def delete_committed_logs(cr, log_ids):
    """Delete gateway log entries a test committed (the gateway logs in its
    own transaction) and their stored sources, so that the database stays as
    the test found it."""
    log_ids = list(log_ids)
    cr.execute(
        "DELETE FROM ir_attachment WHERE res_model = 'mail.gateway.log' AND "
        "res_id = ANY(%s)",
        [log_ids],
    )
    cr.execute("DELETE FROM mail_gateway_log WHERE id = ANY(%s)", [log_ids])


def person_mail(env, email_from, subject="Hello", **values):
    """A ``mail.mail`` to bob@example.org written by a person (the
    administrator's partner: the system user's mails are auto-generated)."""
    return env["mail.mail"].create(
        {
            "email_from": email_from,
            "email_to": "bob@example.org",
            "subject": subject,
            "body_html": "<p>Hello</p>",
            "author_id": env.ref("base.partner_admin").id,
            **values,
        }
    )


def raw_message(
    email_from, to, subject="Frogs", cc="", extra="", return_path=None, msg_id=None
):
    """A plain-text message in RFC 5322 form; Return-Path defaults to the sender."""
    return RAW.format(
        email_from=email_from,
        to=to,
        cc=cc,
        subject=subject,
        extra=extra,
        return_path=return_path if return_path is not None else f"<{email_from}>",
        msg_id=msg_id or f"<{time.time():.7f}-{subject.replace(' ', '')}@test.example>",
    )


class GatewayCase(MailCommon):
    """Real raw messages through ``message_process`` into ``res.partner`` aliases."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ICP = cls.env["ir.config_parameter"].sudo()
        cls.partner_model = cls.env["ir.model"]._get("res.partner")
        cls.alias_commercial = cls._make_alias("commercial", alias_incoming_local=True)
        cls.alias_info = cls._make_alias("info")

    @classmethod
    def _make_alias(cls, name, **values):
        return cls.env["mail.alias"].create(
            {
                "alias_name": name,
                "alias_model_id": cls.partner_model.id,
                "alias_contact": "everyone",
                "alias_domain_id": cls.mail_alias_domain.id,
                **values,
            }
        )

    def raw(self, email_from, to, subject="Frogs", **kwargs):
        return raw_message(email_from, to, subject=subject, **kwargs)

    def process(self, email_from, to, subject="Frogs", model=None, **kwargs):
        """Process a raw message; return the partners named after the subject."""
        self.env["mail.thread"].sudo().message_process(
            model, self.raw(email_from, to, subject=subject, **kwargs)
        )
        return self.env["res.partner"].search([("name", "=", subject)])

    def auto_reply(self, subject, sender="ann@customer.example"):
        """An auto-reply (``X-Autoreply``) to the info alias: refused and
        logged; returns the partners named after the subject (none)."""
        return self.process(
            sender,
            "info@test.mycompany.com",
            subject=subject,
            extra="X-Autoreply: yes\n",
        )

    def backdate_log(self, log, days):
        """Make the gateway log entry ``log`` ``days`` days old (what the
        purge reads)."""
        self.env.cr.execute(
            "UPDATE mail_gateway_log SET date = now() - make_interval(days => %s) "
            "WHERE id = %s",
            [days, log.id],
        )
        log.invalidate_recordset()

    def logs(self, **domain):
        return self.env["mail.gateway.log"].search(
            [(k, "=", v) for k, v in domain.items()]
        )
