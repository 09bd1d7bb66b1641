# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""``odoo-bin --addons-path=... mailgate -c odoo.conf -d DB --listen 127.0.0.1:2525``

Odoo 18 imports the addons that have a ``cli/`` folder when a command is
given (odoo/cli/command.py): this class registers itself as ``mailgate``.
aiosmtpd is imported only when the command runs.
"""

import argparse
import logging
import resource
import signal
import threading

from odoo.cli import Command
from odoo.tools import config

_logger = logging.getLogger(__name__)

# descriptors besides the sessions: the database connections (workers,
# deliveries, the refusal log), log files, the listening socket, DNS
FILE_RESERVE = 256


def raise_open_file_limit(max_sessions):
    """Raise the soft RLIMIT_NOFILE to what ``max_sessions`` sessions need
    (one descriptor each), up to the hard limit. Returns the sessions that
    fit: a session over the limit would fail in accept(), which asyncio
    retries in a loop, instead of being answered 421."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = max_sessions + FILE_RESERVE
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return max_sessions
    wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ValueError, OSError) as error:
        _logger.warning(
            "mailgate: could not raise the open file limit from %s to %s: %s",
            soft,
            wanted,
            error,
        )
        wanted = soft
    if wanted < needed:
        fitting = max(wanted - FILE_RESERVE, 1)
        _logger.warning(
            "mailgate: the open file limit (%s, hard limit %s) fits %s sessions, not "
            "--max-sessions %s: "
            "serving %s (raise the hard limit, e.g. LimitNOFILE= in the systemd unit)",
            wanted,
            hard,
            fitting,
            max_sessions,
            fitting,
        )
        return fitting
    return max_sessions


class Mailgate(Command):
    """SMTP/LMTP mailgate applying mail_routing_policy during the SMTP dialogue"""

    name = "mailgate"

    def _parser(self):
        # imported here: raise_open_file_limit is also loaded on its own
        from . import mailgate_options

        parser = argparse.ArgumentParser(
            prog="odoo-bin mailgate",
            description="SMTP (or LMTP) server handing incoming mail to Odoo's mail "
            "gateway; recipients the "
            "gateway would not route are refused at RCPT TO. Other options are "
            "odoo-bin's (-c, -d, --db_host...).",
        )
        groups = {
            "mailgate": parser.add_argument_group("mailgate"),
            "limits": parser.add_argument_group(
                "limits per client",
                "A client is an IPv4 address or an IPv6 /64; 0 switches a limit off. "
                "Clients of --relay-networks "
                "are exempt from these limits.",
            ),
        }
        groups["mailgate"].add_argument(
            "--listen",
            default=f"{mailgate_options.DEFAULT_HOST}:{mailgate_options.DEFAULT_PORT}",
            help="HOST:PORT to listen on (%(default)s)",
        )
        for option in mailgate_options.OPTIONS:
            option.add_to(groups[option.group])
        return parser

    def run(self, cmdargs):
        parser = self._parser()
        opts, odoo_args = parser.parse_known_args(cmdargs)
        config.parse_config(odoo_args, setup_logging=True)
        # aiosmtpd logs every command at INFO
        logging.getLogger("mail.log").setLevel(
            max(logging.WARNING, logging.getLogger().level)
        )
        dbname = (config["db_name"] or "").split(",")[0]
        if not dbname:
            parser.error(
                "a database is needed: -d DB (or db_name in the configuration file)"
            )
        if bool(opts.tls_cert) != bool(opts.tls_key):
            parser.error("--tls-cert and --tls-key go together")

        from odoo.modules.registry import Registry

        from . import mailgate_options, smtp_handler

        host, port = smtp_handler.parse_listen(opts.listen)
        max_sessions = (
            raise_open_file_limit(opts.max_sessions) if opts.max_sessions else 0
        )
        values = {
            option.name: option.value(opts) for option in mailgate_options.OPTIONS
        }
        values["max_sessions"] = max_sessions
        options = smtp_handler.MailgateOptions(host=host, port=port, **values)
        threading.current_thread().dbname = dbname
        registry = Registry(dbname)
        if "mail.gateway.event" not in registry:
            parser.error(f"mail_routing_policy is not installed in database {dbname}")
        try:
            handler = smtp_handler.GatewayHandler(registry, options)
        except ValueError as error:
            parser.error(str(error))
        controller = smtp_handler.MailgateController(handler, options)
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_args: stop.set())
        controller.start()
        _logger.warning(
            "mailgate: %s on %s:%s for database %s (STARTTLS %s)",
            "LMTP" if options.lmtp else "SMTP",
            host,
            controller.port,
            dbname,
            "on" if options.tls_cert else "off",
        )
        try:
            while not stop.wait(1):
                pass
        finally:
            _logger.warning("mailgate: stopping")
            controller.stop()
