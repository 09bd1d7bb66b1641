"""``odoo-bin --addons-path=... mailgate -c odoo.conf -d DB --listen 127.0.0.1:2525``

Odoo 18 imports the addons that have a ``cli/`` folder when a command is
given (odoo/cli/command.py): this class registers itself as ``mailgate``.
aiosmtpd is imported only when the command runs.
"""

import argparse
import logging
import signal
import threading

from odoo.cli import Command
from odoo.tools import config

_logger = logging.getLogger(__name__)


class Mailgate(Command):
    """SMTP/LMTP mailgate applying mail_routing_policy during the SMTP dialogue"""

    name = "mailgate"

    def _parser(self):
        parser = argparse.ArgumentParser(
            prog="odoo-bin mailgate",
            description="SMTP (or LMTP) server handing incoming mail to Odoo's mail gateway; recipients the "
            "gateway would not route are refused at RCPT TO. Other options are odoo-bin's (-c, -d, --db_host...).",
        )
        group = parser.add_argument_group("mailgate")
        group.add_argument("--listen", default="127.0.0.1:2525", help="HOST:PORT to listen on (127.0.0.1:2525)")
        group.add_argument("--lmtp", action="store_true", help="speak LMTP (for a local MTA) instead of SMTP")
        group.add_argument("--max-size", type=int, default=25 * 1024 * 1024, help="message size limit in bytes")
        group.add_argument("--max-recipients", type=int, default=100, help="recipients per message (100)")
        group.add_argument("--max-sessions", type=int, default=32, help="concurrent SMTP sessions (32)")
        group.add_argument("--timeout", type=float, default=300, help="idle timeout of a session in seconds (300)")
        group.add_argument("--workers", type=int, default=4, help="threads running Odoo work (4)")
        group.add_argument("--tls-cert", default="", help="certificate (PEM) offered with STARTTLS")
        group.add_argument("--tls-key", default="", help="private key (PEM) of --tls-cert")
        group.add_argument(
            "--allow-networks", default="", help="comma-separated client networks allowed to connect (default: any)"
        )
        group.add_argument("--hostname", default="", help="name in the greeting (default: the machine's FQDN)")
        return parser

    def run(self, cmdargs):
        parser = self._parser()
        opts, odoo_args = parser.parse_known_args(cmdargs)
        config.parse_config(odoo_args, setup_logging=True)
        # aiosmtpd logs every command at INFO
        logging.getLogger("mail.log").setLevel(max(logging.WARNING, logging.getLogger().level))
        dbname = (config["db_name"] or "").split(",")[0]
        if not dbname:
            parser.error("a database is needed: -d DB (or db_name in the configuration file)")
        if bool(opts.tls_cert) != bool(opts.tls_key):
            parser.error("--tls-cert and --tls-key go together")

        from odoo.modules.registry import Registry

        from . import smtp_handler

        host, port = smtp_handler.parse_listen(opts.listen)
        options = smtp_handler.MailgateOptions(
            host=host,
            port=port,
            lmtp=opts.lmtp,
            max_size=opts.max_size,
            max_recipients=opts.max_recipients,
            max_sessions=opts.max_sessions,
            timeout=opts.timeout,
            tls_cert=opts.tls_cert,
            tls_key=opts.tls_key,
            allow_networks=smtp_handler.parse_networks(opts.allow_networks),
            workers=opts.workers,
            hostname=opts.hostname,
        )
        threading.current_thread().dbname = dbname
        registry = Registry(dbname)
        if "mail.gateway.event" not in registry:
            parser.error(f"mail_routing_policy is not installed in database {dbname}")
        controller = smtp_handler.MailgateController(smtp_handler.GatewayHandler(registry, options), options)
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
