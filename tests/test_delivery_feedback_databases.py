# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Several databases behind one Odoo: a real ``odoo-bin`` serving two
databases with this module, chosen by host name (``--db-filter '^%d$'``, as
an integrator sets it up), each with its own Mailgun-fed server. Each
database's webhook applies its events in that database only, by its own
scheduled action; a request carried to the other one changes nothing."""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import xmlrpc.client
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import psycopg2
import requests

import odoo
from odoo.tests import BaseCase, get_db_name, tagged
from odoo.tools import config

from .test_delivery_feedback import mailgun_body, mailgun_failure

ODOO_BIN = os.path.join(os.path.dirname(os.path.dirname(odoo.__file__)), "odoo-bin")
EMAIL = "dead@customer.example"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def link_or_copy(source, target):
    """A hard link where it can be (the filestore holds the asset bundles the
    test run built, tens of MB): Odoo never rewrites a filestore file (named
    by its content's hash, written once, removed by unlink)."""
    try:
        os.link(source, target)
    except OSError:  # another file system
        shutil.copy2(source, target)


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDeliveryFeedbackDatabases(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.folder = tempfile.mkdtemp(prefix="mrp-databases-")
        cls.addClassCleanup(subprocess.run, ["rm", "-rf", cls.folder], check=False)
        # an empty configuration file: the test run's own (test tags, its
        # database) must not reach these servers
        cls.rcfile = os.path.join(cls.folder, "odoo.conf")
        open(cls.rcfile, "w", encoding="utf-8").close()
        run = f"{os.getpid()}-{secrets.token_hex(3)}"
        cls.databases = [f"mrp-hosts-a-{run}", f"mrp-hosts-b-{run}"]
        for database in cls.databases:
            cls.addClassCleanup(cls.drop_database, database)
        # the server starts first (it loads Odoo while the databases are
        # made; --db-filter takes databases made later)
        cls.port = free_port()
        cls.server = subprocess.Popen(  # pylint: disable=consider-using-with
            cls.odoo_command(
                "--http-interface",
                "127.0.0.1",
                "--http-port",
                str(cls.port),
                "--db-filter",
                "^%d$",
                "--max-cron-threads",
                "1",
            ),
            stdout=subprocess.DEVNULL,
            stderr=open(  # noqa: SIM115 - closed with the process
                os.path.join(cls.folder, "server.log"), "w", encoding="utf-8"
            ),
        )
        cls.addClassCleanup(cls.stop_server)
        cls.make_databases()
        cls.wait_listening()
        cls.keys = {database: secrets.token_hex(16) for database in cls.databases}
        # both at once: the server loads each database's registry on its
        # first request, in a thread of its own
        with ThreadPoolExecutor(len(cls.databases)) as pool:
            setups = pool.map(cls.set_up_database, cls.keys, cls.keys.values())
            cls.setups = dict(zip(cls.keys, setups, strict=True))

    @classmethod
    def make_databases(cls):
        """Both databases with the module: copies of the database under
        test, as Odoo's database manager duplicates one (``CREATE DATABASE
        … TEMPLATE``, then its filestore), which takes a fraction of a
        second. PostgreSQL copies a database only while nobody else is
        connected to it (it waits 5 s, then refuses): when another process
        is (a server on the developer's database under pytest-odoo), one
        install, copied."""
        source = get_db_name()
        odoo.sql_db.close_db(source)  # this process's idle connections
        try:
            for database in cls.databases:
                cls.copy_database(source, database)
        except psycopg2.errors.ObjectInUse:
            cls.odoo("-d", cls.databases[0], "-i", "mail_routing_policy")
            cls.copy_database(cls.databases[0], cls.databases[1])
        # the administrator's password is this run's, whatever the copied
        # database had (plain text in the column: Odoo hashes it at login)
        password = secrets.token_urlsafe(12)
        cls.admin = {}
        for database in cls.databases:
            with closing(odoo.sql_db.db_connect(database).cursor()) as cr:
                cr._cnx.autocommit = True
                cr.execute(
                    "UPDATE res_users SET password = %s, active = true WHERE id = 2 "
                    "RETURNING login",
                    [password],
                )
                cls.admin[database] = (cr.fetchone()[0], password)
            odoo.sql_db.close_db(database)  # no idle connection left to drop

    @classmethod
    def copy_database(cls, source, database):
        with closing(odoo.sql_db.db_connect("postgres").cursor()) as cr:
            cr._cnx.autocommit = True
            cr.execute(
                f'CREATE DATABASE "{database}" TEMPLATE "{source}"',
                log_exceptions=False,  # in use: the caller installs instead
            )
        filestore = config.filestore(source)
        if os.path.isdir(filestore):
            shutil.copytree(
                filestore,
                os.path.join(cls.folder, "filestore", database),
                copy_function=link_or_copy,
            )

    @classmethod
    def set_up_database(cls, database, key):
        """In ``database``, as its administrator through the server's
        XML-RPC (no Odoo process of its own to load): a relay server fed by
        Mailgun, a customer and a mail to them; what the test needs."""
        url = f"http://127.0.0.1:{cls.port}/xmlrpc/2"
        with xmlrpc.client.ServerProxy(f"{url}/common") as common:
            uid = common.login(database, *cls.admin[database])
        with xmlrpc.client.ServerProxy(f"{url}/object", allow_none=True) as rpc:

            def call(model, method, *args, **kwargs):
                return rpc.execute_kw(
                    database,
                    uid,
                    cls.admin[database][1],
                    model,
                    method,
                    list(args),
                    kwargs,
                )

            server = call(
                "ir.mail_server",
                "create",
                {
                    "name": "Mailgun relay",
                    "smtp_host": "smtp.mailgun.invalid",
                    "delivery_feedback_provider": "mailgun",
                    "delivery_feedback_key": key,
                },
            )
            customer = call("res.partner", "create", {"name": "Dead", "email": EMAIL})
            message = call(
                "res.partner",
                "message_post",
                [customer],
                body="Your quotation",
                partner_ids=[customer],
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                context={"mail_notify_force_send": False},
            )
            (server_values,) = call(
                "ir.mail_server", "read", [server], ["delivery_feedback_url"]
            )
            (message_values,) = call("mail.message", "read", [message], ["message_id"])
        return {
            "url": server_values["delivery_feedback_url"],
            "server": server,
            "customer": customer,
            "message_id": message_values["message_id"],
        }

    @classmethod
    def odoo_command(cls, *args):
        command = [
            sys.executable,
            ODOO_BIN,
            "-c",
            cls.rcfile,
            "--addons-path",
            config["addons_path"],
        ]
        for option in ("db_host", "db_port", "db_user", "db_password"):
            if config.get(option):
                # odoo-bin spells these options with an underscore (--db_host)
                command += [f"--{option}", str(config[option])]
        # the copies' filestores in the test's folder, removed with it
        return command + ["--data-dir", cls.folder, "--log-level", "warn", *args]

    @classmethod
    def odoo(cls, *args):
        done = subprocess.run(
            cls.odoo_command(*args, "--stop-after-init", "--without-demo", "all"),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode:
            raise AssertionError(f"odoo-bin {args} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    @classmethod
    def stop_server(cls):
        cls.server.terminate()
        try:
            cls.server.wait(30)
        except subprocess.TimeoutExpired:
            cls.server.kill()
            cls.server.wait()

    @classmethod
    def drop_database(cls, database):
        with closing(odoo.sql_db.db_connect("postgres").cursor()) as cr:
            cr._cnx.autocommit = True
            odoo.sql_db.close_db(database)
            cr.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    @classmethod
    def wait_listening(cls, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cls.server.poll() is not None:
                raise AssertionError("odoo-bin stopped")
            try:
                socket.create_connection(("127.0.0.1", cls.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.3)
        raise AssertionError("odoo-bin does not listen")

    def post(self, host_database, setup_database):
        """POST a permanent failure signed for ``setup_database``'s server to
        its URL, on the host name of ``host_database``."""
        setup = self.setups[setup_database]
        path = setup["url"].split("/", 3)[3]
        body = mailgun_body(
            self.keys[setup_database],
            mailgun_failure(setup["message_id"], EMAIL),
        )
        return requests.post(
            f"http://127.0.0.1:{self.port}/{path}",
            data=body,
            headers={
                "Host": f"{host_database}.odoo.example",
                "Content-Type": "application/json",
            },
            timeout=60,
        )

    def state(self, database):
        """(bounce counter of the customer, events by state) of a database."""
        with closing(odoo.sql_db.db_connect(database).cursor()) as cr:
            cr.execute(
                "SELECT message_bounce FROM res_partner WHERE id = %s",
                [self.setups[database]["customer"]],
            )
            bounces = cr.fetchone()[0]
            cr.execute("SELECT state, count(*) FROM mail_delivery_event GROUP BY state")
            return bounces, dict(cr.fetchall())

    def wait_applied(self, database, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            bounces, events = self.state(database)
            if events and "pending" not in events:
                return bounces, events
            time.sleep(0.3)
        raise AssertionError(f"{database}: events not applied: {events}")

    def test_each_database_applies_its_own_events(self):
        first, second = self.databases
        self.assertEqual(
            self.setups[first]["server"],
            self.setups[second]["server"],
            "a copied database: the same server id in both, other tokens",
        )
        for database in self.databases:
            response = self.post(database, database)
            self.assertEqual((response.status_code, response.text), (200, "ok\n"))
        for database in self.databases:
            self.assertEqual(self.wait_applied(database), (1, {"applied": 1}), database)
        # the first database's request, carried to the second one's host
        # (a wrong dbfilter, a proxy's mistake): unknown there, nothing done
        response = self.post(second, first)
        self.assertEqual(
            (response.status_code, response.text), (404, "unknown webhook\n")
        )
        self.assertEqual(self.state(second), (1, {"applied": 1}))
        self.assertEqual(self.state(first), (1, {"applied": 1}))
