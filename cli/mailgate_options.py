# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The mailgate's options, one row each: the command line's flag, help and
bounds, the ``MailgateOptions`` field and its default, and the
``ClientPolicy`` field it sets. ``cli/mailgate.py`` builds its parser from
these rows, ``smtp_handler.MailgateOptions`` takes its defaults from them
and ``smtp_handler.client_policy`` its per-client limits.

No aiosmtpd here: the parser is built before the command imports it.
"""

import argparse
import ipaddress
from dataclasses import dataclass

MIB = 1024 * 1024
# --listen
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 2525


def parse_networks(value):
    """``10.0.0.0/8, 192.168.0.0/16`` → a list of ``ipaddress`` networks."""
    return [
        ipaddress.ip_network(item.strip(), strict=False)
        for item in (value or "").split(",")
        if item.strip()
    ]


@dataclass(frozen=True)
class MailgateOption:
    """One option. ``default`` is the ``MailgateOptions`` field's (in its
    unit: bytes, seconds); ``scale`` turns the command line's unit into the
    field's (MiB → bytes); ``minimum`` bounds the command line's value;
    ``help`` may name the command line's default as ``%(default)s``;
    ``policy``: the ``ClientPolicy`` field the value sets."""

    name: str
    default: object
    help: str
    kind: type = int
    group: str = "mailgate"
    minimum: float | None = 0
    scale: int = 1
    policy: str = ""

    @property
    def flag(self):
        return "--" + self.name.replace("_", "-")

    @property
    def cli_default(self):
        if self.kind is bool or self.default is None:
            return self.default
        if self.kind is list:
            return ""
        if self.scale != 1:
            return self.kind(self.default / self.scale)
        return self.default

    def parse(self, text):
        """The command line's ``text`` as the option's kind, within its bounds
        (argparse's ``type``: its ValueError names the option)."""
        try:
            value = self.kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{self.flag} expects a number, not {text!r}"
            ) from None
        if self.minimum is not None and value < self.minimum:
            raise argparse.ArgumentTypeError(
                f"{self.flag} must be at least {self.minimum:g}, not {text}"
            )
        return value

    def value(self, parsed):
        """The ``MailgateOptions`` value of the parsed command line's."""
        value = getattr(parsed, self.name)
        if self.kind is list:
            return parse_networks(value)
        if value is not None and self.scale != 1:
            return int(value * self.scale)
        return value

    def add_to(self, group):
        kwargs = {"default": self.cli_default, "help": self.help}
        if self.kind is bool:
            kwargs["action"] = "store_true"
        elif self.kind is not str and self.kind is not list:
            kwargs["type"] = self.parse
        group.add_argument(self.flag, **kwargs)


# the per-client defaults are what a public MX for one organisation's mail
# can use without slowing legitimate senders: see smtp_handler.MailgateOptions
OPTIONS = (
    MailgateOption("lmtp", False, "speak LMTP (for a local MTA) instead of SMTP", bool),
    MailgateOption("max_size", 25 * MIB, "message size limit in bytes (%(default)s)"),
    MailgateOption(
        "max_recipients", 100, "recipients per message (%(default)s)", minimum=1
    ),
    MailgateOption(
        "max_sessions",
        10000,
        "concurrent SMTP sessions of all clients (%(default)s)",
        policy="max_sessions",
    ),
    MailgateOption(
        "timeout",
        300.0,
        "deadline of each command, and of each part of DATA, in seconds "
        "(%(default)g); NOOP, RSET, VRFY, EXPN and HELP do not extend it",
        float,
    ),
    MailgateOption("workers", 4, "threads running Odoo work (%(default)s)", minimum=1),
    MailgateOption("tls_cert", "", "certificate (PEM) offered with STARTTLS", str),
    MailgateOption("tls_key", "", "private key (PEM) of --tls-cert", str),
    MailgateOption(
        "allow_networks",
        [],
        "comma-separated client networks allowed to connect (default: any)",
        list,
    ),
    MailgateOption(
        "hostname",
        "",
        "name in the greeting and of the mailgate's Authentication-Results "
        "header (default: the machine's FQDN)",
        str,
    ),
    MailgateOption(
        "relay_networks",
        [],
        "comma-separated networks of trusted MTAs in front (Postfix): exempt "
        "from the limits per client, offered XFORWARD, always allowed to "
        "connect (default: none, not even loopback)",
        list,
        group="limits",
    ),
    MailgateOption(
        "client_sessions",
        50,
        "concurrent sessions per client (%(default)s)",
        group="limits",
        policy="client_sessions",
    ),
    MailgateOption(
        "client_deliveries",
        None,
        "messages of one client handed to Odoo at once; its others wait "
        "(default: half of --workers)",
        group="limits",
    ),
    MailgateOption(
        "client_connection_rate",
        60,
        "new connections per client per minute (%(default)s)",
        group="limits",
        policy="connection_rate",
    ),
    MailgateOption(
        "client_message_rate",
        120,
        "messages (MAIL FROM) per client per minute (%(default)s)",
        group="limits",
        policy="message_rate",
    ),
    MailgateOption(
        "client_recipient_rate",
        300,
        "recipients (RCPT TO, refused ones included) per client per minute "
        "(%(default)s)",
        group="limits",
        policy="recipient_rate",
    ),
    MailgateOption(
        "client_guess_rate",
        300,
        "refused recipients per client per minute, over all its sessions and "
        "every mailgate of the database; past them every recipient is "
        "answered 450 unlooked (%(default)s; 0: off)",
        group="limits",
    ),
    MailgateOption(
        "client_guess_burst",
        10,
        "refused recipients a client may have at once before "
        "--client-guess-rate applies (%(default)s)",
        group="limits",
    ),
    MailgateOption(
        "client_data_rate",
        4 * MIB,
        "MiB of DATA a second per client over all its sessions; past it its "
        "connections are read more slowly (%(default)g; 0: off)",
        float,
        group="limits",
        scale=MIB,
        policy="data_rate",
    ),
    MailgateOption(
        "client_data_burst",
        4 * MIB,
        "MiB of DATA a client may send at full speed before "
        "--client-data-rate applies (%(default)g)",
        float,
        group="limits",
        scale=MIB,
        policy="data_burst",
    ),
    MailgateOption(
        "soft_error_limit",
        10,
        "errors in a session before each reply waits 1 s (%(default)s)",
        group="limits",
    ),
    MailgateOption(
        "hard_error_limit",
        20,
        "errors in a session before it is closed (%(default)s)",
        group="limits",
    ),
    MailgateOption(
        "junk_command_limit",
        100,
        "NOOP, RSET, VRFY, EXPN or HELP commands, each, per session (%(default)s)",
        group="limits",
    ),
    MailgateOption(
        "min_data_rate",
        500,
        "bytes per second a DATA transfer must keep up from its start, after "
        "--data-grace (%(default)s)",
        group="limits",
    ),
    MailgateOption(
        "data_grace",
        20.0,
        "seconds a DATA transfer may take before --min-data-rate applies "
        "(%(default)g; at most --timeout, under stress at most --stress-timeout)",
        float,
        group="limits",
    ),
    MailgateOption(
        "max_data_memory",
        1024 * MIB,
        "MiB of memory for messages being received, all sessions together; "
        "over it 452 (%(default)s)",
        group="limits",
        scale=MIB,
    ),
    MailgateOption(
        "stress_sessions",
        None,
        "open sessions from which the mailgate is under stress and idle "
        "clients get --stress-timeout (default: 80 %% of --max-sessions; 0: "
        "never)",
        group="limits",
    ),
    MailgateOption(
        "stress_timeout",
        10.0,
        "seconds a client may stay idle while the mailgate is under stress "
        "(%(default)g, Postfix's value)",
        float,
        group="limits",
    ),
    MailgateOption(
        "pregreet_wait",
        0.3,
        "seconds between the greeting's first and last line; a client talking "
        "meanwhile is dropped (%(default)g; 0: off)",
        float,
        group="limits",
    ),
)
OPTIONS_BY_NAME = {option.name: option for option in OPTIONS}


def default(name):
    """The ``MailgateOptions`` default of option ``name``."""
    return OPTIONS_BY_NAME[name].default
