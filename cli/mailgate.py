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
        parser = argparse.ArgumentParser(
            prog="odoo-bin mailgate",
            description="SMTP (or LMTP) server handing incoming mail to Odoo's mail "
            "gateway; recipients the "
            "gateway would not route are refused at RCPT TO. Other options are "
            "odoo-bin's (-c, -d, --db_host...).",
        )
        group = parser.add_argument_group("mailgate")
        group.add_argument(
            "--listen",
            default="127.0.0.1:2525",
            help="HOST:PORT to listen on (127.0.0.1:2525)",
        )
        group.add_argument(
            "--lmtp",
            action="store_true",
            help="speak LMTP (for a local MTA) instead of SMTP",
        )
        group.add_argument(
            "--max-size",
            type=int,
            default=25 * 1024 * 1024,
            help="message size limit in bytes",
        )
        group.add_argument(
            "--max-recipients",
            type=int,
            default=100,
            help="recipients per message (100)",
        )
        group.add_argument(
            "--max-sessions",
            type=int,
            default=10000,
            help="concurrent SMTP sessions of all clients (10000)",
        )
        group.add_argument(
            "--timeout",
            type=float,
            default=300,
            help="deadline of each command, and of each part of DATA, in seconds "
            "(300); NOOP, RSET, VRFY, "
            "EXPN and HELP do not extend it",
        )
        group.add_argument(
            "--workers", type=int, default=4, help="threads running Odoo work (4)"
        )
        group.add_argument(
            "--tls-cert", default="", help="certificate (PEM) offered with STARTTLS"
        )
        group.add_argument(
            "--tls-key", default="", help="private key (PEM) of --tls-cert"
        )
        group.add_argument(
            "--allow-networks",
            default="",
            help="comma-separated client networks allowed to connect (default: any)",
        )
        group.add_argument(
            "--hostname",
            default="",
            help=(
                "name in the greeting and of the mailgate's Authentication-Results "
                "header (default: the machine's FQDN)"
            ),
        )
        limits = parser.add_argument_group(
            "limits per client",
            "A client is an IPv4 address or an IPv6 /64; 0 switches a limit off. "
            "Clients of --relay-networks "
            "are exempt from these limits.",
        )
        limits.add_argument(
            "--relay-networks",
            default="",
            help="comma-separated networks of trusted MTAs in front (Postfix): exempt "
            "from the limits per client, "
            "offered XFORWARD, always allowed to connect (default: none, not even "
            "loopback)",
        )
        limits.add_argument(
            "--client-sessions",
            type=int,
            default=50,
            help="concurrent sessions per client (50)",
        )
        limits.add_argument(
            "--client-deliveries",
            type=int,
            default=None,
            help=(
                "messages of one client handed to Odoo at once; its others wait "
                "(default: half of --workers)"
            ),
        )
        limits.add_argument(
            "--client-connection-rate",
            type=int,
            default=60,
            help="new connections per client per minute (60)",
        )
        limits.add_argument(
            "--client-message-rate",
            type=int,
            default=120,
            help="messages (MAIL FROM) per client per minute (120)",
        )
        limits.add_argument(
            "--client-recipient-rate",
            type=int,
            default=300,
            help=(
                "recipients (RCPT TO, refused ones included) per client per minute "
                "(300)"
            ),
        )
        limits.add_argument(
            "--client-guess-rate",
            type=int,
            default=300,
            help="refused recipients per client per minute, over all its sessions "
            "and every mailgate of the database; past them every recipient is "
            "answered 450 unlooked (300; 0: off)",
        )
        limits.add_argument(
            "--client-guess-burst",
            type=int,
            default=10,
            help="refused recipients a client may have at once before "
            "--client-guess-rate applies (10)",
        )
        limits.add_argument(
            "--client-data-rate",
            type=float,
            default=4,
            help="MiB of DATA a second per client over all its sessions; past it "
            "its connections are read more slowly (4; 0: off)",
        )
        limits.add_argument(
            "--client-data-burst",
            type=float,
            default=4,
            help="MiB of DATA a client may send at full speed before "
            "--client-data-rate applies (4)",
        )
        limits.add_argument(
            "--soft-error-limit",
            type=int,
            default=10,
            help="errors in a session before each reply waits 1 s (10)",
        )
        limits.add_argument(
            "--hard-error-limit",
            type=int,
            default=20,
            help="errors in a session before it is closed (20)",
        )
        limits.add_argument(
            "--junk-command-limit",
            type=int,
            default=100,
            help="NOOP, RSET, VRFY, EXPN or HELP commands, each, per session (100)",
        )
        limits.add_argument(
            "--min-data-rate",
            type=int,
            default=500,
            help="bytes per second a DATA transfer must keep up from its start, "
            "after --data-grace (500)",
        )
        limits.add_argument(
            "--data-grace",
            type=float,
            default=20.0,
            help="seconds a DATA transfer may take before --min-data-rate applies "
            "(20; at most --timeout, under stress at most --stress-timeout)",
        )
        limits.add_argument(
            "--max-data-memory",
            type=int,
            default=1024,
            help=(
                "MiB of memory for messages being received, all sessions together; "
                "over it 452 (1024)"
            ),
        )
        limits.add_argument(
            "--stress-sessions",
            type=int,
            default=None,
            help="open sessions from which the mailgate is under stress and idle "
            "clients get --stress-timeout "
            "(default: 80 %% of --max-sessions; 0: never)",
        )
        limits.add_argument(
            "--stress-timeout",
            type=float,
            default=10.0,
            help=(
                "seconds a client may stay idle while the mailgate is under stress "
                "(10, Postfix's value)"
            ),
        )
        limits.add_argument(
            "--pregreet-wait",
            type=float,
            default=0.3,
            help="seconds between the greeting's first and last line; a client talking "
            "meanwhile is dropped "
            "(0.3; 0: off)",
        )
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

        from . import smtp_handler

        host, port = smtp_handler.parse_listen(opts.listen)
        max_sessions = (
            raise_open_file_limit(opts.max_sessions) if opts.max_sessions else 0
        )
        options = smtp_handler.MailgateOptions(
            host=host,
            port=port,
            lmtp=opts.lmtp,
            max_size=opts.max_size,
            max_recipients=opts.max_recipients,
            max_sessions=max_sessions,
            timeout=opts.timeout,
            tls_cert=opts.tls_cert,
            tls_key=opts.tls_key,
            allow_networks=smtp_handler.parse_networks(opts.allow_networks),
            workers=opts.workers,
            hostname=opts.hostname,
            relay_networks=smtp_handler.parse_networks(opts.relay_networks),
            client_sessions=opts.client_sessions,
            client_deliveries=opts.client_deliveries,
            client_connection_rate=opts.client_connection_rate,
            client_message_rate=opts.client_message_rate,
            client_recipient_rate=opts.client_recipient_rate,
            client_guess_rate=opts.client_guess_rate,
            client_guess_burst=opts.client_guess_burst,
            client_data_rate=int(opts.client_data_rate * 1024 * 1024),
            client_data_burst=int(opts.client_data_burst * 1024 * 1024),
            soft_error_limit=opts.soft_error_limit,
            hard_error_limit=opts.hard_error_limit,
            junk_command_limit=opts.junk_command_limit,
            min_data_rate=opts.min_data_rate,
            data_grace=opts.data_grace,
            pregreet_wait=opts.pregreet_wait,
            stress_sessions=opts.stress_sessions,
            stress_timeout=opts.stress_timeout,
            max_data_memory=opts.max_data_memory * 1024 * 1024,
        )
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
