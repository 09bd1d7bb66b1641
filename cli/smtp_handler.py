# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The mailgate's SMTP/LMTP server: the routing policy applied during the
dialogue, and the limits a public MX needs per client.

Used by the ``mailgate`` command (cli/mailgate.py) and by the tests. This
module only speaks SMTP (aiosmtpd): the Odoo work (RCPT checks, delivery)
is cli/gateway_work.py's, in worker threads; the refusals go to the gateway
log through cli/refusal_log.py, once per interval; the per-client
accounting (sessions, rates, errors, deadlines) is cli/client_limits.py's.
"""

import asyncio
import contextlib
import functools
import ipaddress
import logging
import re
import socket
import ssl
import threading
import time
import weakref
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import BOGUS_LIMIT, MISSING, SMTP, Session, syntax

from ..models.mail_thread_incoming import GatewayRefusal
from ..tools.reason_texts import RCPT_REFUSALS
from . import malloc_release
from .client_limits import (
    CLIENT_LIMIT,
    ERROR_LIMIT,
    LIMIT_REASONS,
    PREGREET,
    TIMEOUT,
    ClientLimits,
    ClientPolicy,
    DataDeadline,
    ErrorTally,
    LimitHit,
    client_key,
    host_address,
    in_networks,
)
from .data_transfer import LINE_TOO_LONG, DataTransfer
from .gateway_work import (  # noqa: F401 (stamp: former home)
    DATABASE_AWAY,
    GUESS_RATE,
    GatewayWork,
    GuessBudget,
    first_line,
    stamp,
)
from .refusal_log import RefusalLog

_logger = logging.getLogger(__name__)

# replies (protocol text, RFC 3463 enhanced status codes)
REPLY_OK = "250 2.1.5 OK"
# what the client is told of an accepted message, routed or quarantined
# alike: nothing about what Odoo did with it
REPLY_ACCEPTED = "250 2.0.0 OK: message accepted"
# RCPT TO refusals: tools/reason_texts.RCPT_REFUSALS (reply, log reason, text)
REPLY_TOO_MANY_RCPT = "452 4.5.3 Too many recipients"
REPLY_TEMPFAIL = "451 4.3.0 Temporary failure in the mail gateway, try again later"
REPLY_BUSY = "421 4.7.0 Too many connections, try again later"
REPLY_NETWORK = "554 5.7.1 Your address is not allowed to use this server"
REPLY_PREGREET = "554 5.5.1 Protocol error: you talked before the greeting"
REPLY_TIMEOUT = "421 4.4.2 Timeout exceeded, closing the connection"
REPLY_DATA_MEMORY = "452 4.3.1 Insufficient system storage, try again later"
REPLY_DATA_TOO_BIG = "552 5.3.4 Message size exceeds fixed limit"
REPLY_LINE_TOO_LONG = "500 5.5.2 Line too long (RFC 5321 4.5.3.1.6)"
# refusals at the end of DATA (tools/incoming/auth_policy.py; RFC 7489 §6.3, RFC 7372)
REPLY_AUTH_REFUSED = (
    "550 5.7.1 Message refused: the sender is not authenticated for its From address"
)
DATA_REFUSALS = {
    "dmarc_reject": "550 5.7.1 Message rejected: it fails the DMARC policy of its "
    "From domain",
    "auth_spoofed": REPLY_AUTH_REFUSED,
}
# a limit's reply, by the limit's code (client_limits.LimitHit.limit)
LIMIT_REPLIES = {
    "server_sessions": REPLY_BUSY,
    "client_sessions": "421 4.7.0 Too many connections from your address, try again "
    "later",
    "connection_rate": "421 4.7.0 Too many connections per minute from your address, "
    "try again later",
    "message_rate": "421 4.7.0 Too many messages per minute from your address, try "
    "again later",
    "recipient_rate": "450 4.7.1 <{rcpt}>: too many recipients per minute from your "
    "address, try again later",
    "guess_rate": "450 4.7.1 <{rcpt}>: too many unknown recipients from your address, "
    "try again later",
    "hard_errors": "421 4.7.0 Too many errors, closing the connection",
}

# commands that do not move a mail forward: they never buy a session time
# and each has a budget per session (aiosmtpd's command_call_limit)
JUNK_COMMANDS = ("NOOP", "RSET", "VRFY", "EXPN", "HELP")
# a client greets once (twice with STARTTLS): more greetings have the same budget
GREETING_COMMANDS = ("HELO", "EHLO", "LHLO")
UNLIMITED = 2**62

# XFORWARD (Postfix's XFORWARD_README): offered to trusted relays only
XFORWARD_ATTRIBUTES = ("NAME", "ADDR", "PROTO", "HELO")
XFORWARD_EHLO = "XFORWARD " + " ".join(XFORWARD_ATTRIBUTES)
XFORWARD_UNAVAILABLE = ("[UNAVAILABLE]", "[TEMPUNAVAIL]")
REPLY_XFORWARD_OK = "250 2.0.0 Ok"
REPLY_XFORWARD_DENIED = "550 5.7.0 Error: insufficient authorization"
REPLY_XFORWARD_IN_MAIL = "503 5.5.1 Error: MAIL transaction in progress"


@dataclass
class MailgateOptions:
    """The mailgate's settings; 0 switches a limit off.

    The per-client defaults are what a public MX for one organisation's
    mail can use without slowing legitimate senders: a sending MTA opens at
    most 20 parallel connections to one destination (Postfix's
    default_destination_concurrency_limit), so ``client_sessions`` = 50
    (Postfix anvil's default smtpd_client_connection_count_limit) leaves
    room; a minute's 60 connections, 120 messages and 300 recipients from
    one address are far above what any sender delivers to one organisation
    (it reuses its connections), and a sender over them only waits (421/450:
    it retries later). Errors: Postfix's smtpd_soft/hard_error_limit (10,
    20) and smtpd_error_sleep_time (1 s); junk commands: its
    smtpd_junk_command_limit (100); DATA: its smtpd_min_data_rate (500
    bytes a second), counted from the start of DATA after ``data_grace``
    seconds, and the idle timeout between two chunks.
    """

    host: str = "127.0.0.1"
    port: int = 2525
    lmtp: bool = False
    max_size: int = 25 * 1024 * 1024
    max_recipients: int = 100
    # an idle session costs about 13 KB and one file descriptor (measured:
    # 2000 and 4000 sessions idle after EHLO and MAIL, RSS of the command;
    # scripts/bench: 12.5 KiB): 10000 sessions are about 125 MB, no CPU while
    # idle; mailgate.py raises the open file limit to fit
    max_sessions: int = 10000
    timeout: float = 300.0
    tls_cert: str = ""
    tls_key: str = ""
    allow_networks: list = field(default_factory=list)
    workers: int = 4
    hostname: str = ""
    flush_interval: float = 1.0
    # trusted MTAs in front (Postfix): exempt from the limits below, may send XFORWARD
    relay_networks: list = field(default_factory=list)
    client_sessions: int = 50
    # deliveries of one client in the worker threads at once (its others
    # wait their turn): a client whose messages are slow (its own slow DNS:
    # up to 5 s each) never occupies every thread; None: half of --workers
    client_deliveries: int | None = None
    client_connection_rate: int = 60
    client_message_rate: int = 120
    client_recipient_rate: int = 300
    # recipient guessing: refused recipients a minute per client, over all
    # its sessions and every mailgate of the database (a token bucket of
    # client_guess_burst tokens in PostgreSQL); 0: off
    client_guess_rate: int = 300
    client_guess_burst: int = 10
    # DATA bytes a second per client over all its sessions (and what it may
    # send at once): a client past it is read more slowly (TCP makes it
    # wait), so that a few fast clients cannot take the event loop, and the
    # CPU, from every other one; 0: off
    client_data_rate: int = 4 * 1024 * 1024
    client_data_burst: int = 4 * 1024 * 1024
    soft_error_limit: int = 10
    hard_error_limit: int = 20
    error_delay: float = 1.0
    junk_command_limit: int = 100
    min_data_rate: int = 500
    # seconds a DATA transfer may take before min_data_rate applies (never
    # more than timeout; under stress never more than stress_timeout)
    data_grace: float = 20.0
    # postscreen's pregreet test, short: every connection waits this long
    pregreet_wait: float = 0.3
    # Postfix's stress mode (smtpd_timeout ${stress?10}): from this many
    # sessions on, a client's idle time is cut to stress_timeout, so that
    # many clients, each within its limits, cannot hold the server for
    # --timeout; None: 80 % of max_sessions, 0: off
    stress_sessions: int | None = None
    stress_timeout: float = 10.0
    # memory of messages being received or delivered, all sessions
    # together: the bytes each DATA transfer holds (data_transfer: one
    # buffer a message, not aiosmtpd's object per line), refused (452) before
    # the sum would pass this
    max_data_memory: int = 1024 * 1024 * 1024


def parse_listen(value):
    """``host:port`` (``[v6]:port``) → (host, port)."""
    host, _sep, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"--listen expects HOST:PORT, not {value!r}")
    return host.strip("[]"), int(port)


def parse_networks(value):
    return [
        ipaddress.ip_network(item.strip(), strict=False)
        for item in (value or "").split(",")
        if item.strip()
    ]


def tls_context(cert, key):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def peer_host(peer):
    """The connected client's address (IPv4-mapped IPv6 as IPv4), or None."""
    address = host_address(peer[0]) if isinstance(peer, tuple) else None
    return str(address) if address is not None else None


# -- XFORWARD -------------------------------------------------------------

_XTEXT_HEX = re.compile(r"\+([0-9A-Fa-f]{2})")
_XTEXT_BAD = re.compile(r"[^\x21-\x7e]|=|\+(?![0-9A-Fa-f]{2})")


def decode_xtext(value):
    """RFC 3461 xtext: printable ASCII but ``+`` and ``=``, ``+XX`` for the rest."""
    if _XTEXT_BAD.search(value):
        raise ValueError(value)
    return _XTEXT_HEX.sub(lambda match: chr(int(match.group(1), 16)), value)


def forwarded_address(value):
    """An XFORWARD ADDR as an address string (``IPV6:`` prefix removed),
    None when the relay did not know it; ValueError when it is no address."""
    if value is None or value.upper() in XFORWARD_UNAVAILABLE:
        return None
    text = value[5:] if value[:5].upper() == "IPV6:" else value
    address = host_address(text)
    if address is None:
        raise ValueError(value)
    return str(address)


def parse_xforward(arg):
    """``NAME=... ADDR=...`` → {attribute: decoded value}; ValueError with
    the reply text when the command is malformed."""
    if not arg:
        raise ValueError("501 5.5.4 Syntax: XFORWARD attribute=value...")
    attributes = {}
    for item in arg.split():
        name, equals, value = item.partition("=")
        name = name.upper()
        if not equals or name not in XFORWARD_ATTRIBUTES:
            raise ValueError(f"501 5.5.4 Bad XFORWARD attribute name: {name}")
        try:
            value = decode_xtext(value)
            if name == "ADDR":
                forwarded_address(value)
        except ValueError as error:
            raise ValueError(
                f"501 5.5.4 Bad XFORWARD attribute value for {name}"
            ) from error
        attributes[name] = value
    return attributes


def effective_client(session):
    """``(address, helo)`` of the client a mail comes from, for the checks
    that judge it (SPF): what a trusted relay forwarded with XFORWARD in this
    transaction, else the connected peer and its HELO/EHLO name. None for
    what is not known (a relay's ``[UNAVAILABLE]``)."""
    forwarded = getattr(session, "xforward", None) or {}
    if getattr(session, "trusted_relay", False) and (
        "ADDR" in forwarded or "HELO" in forwarded
    ):
        helo = forwarded.get("HELO")
        return forwarded_address(
            forwarded.get("ADDR")
        ), None if helo in XFORWARD_UNAVAILABLE else helo
    return peer_host(session.peer), session.host_name


class MailgateSession(Session):
    """aiosmtpd's session, with what the mailgate knows of its client."""

    def __init__(self, loop):
        super().__init__(loop)
        self.trusted_relay = False
        # XFORWARD attributes of the current transaction (reset at its end)
        self.xforward = {}


# -- the aiosmtpd handler -------------------------------------------------


class GatewayHandler:
    """aiosmtpd handler: RCPT TO and DATA decided by the Odoo models (in
    GatewayWork's threads), refusals noted for the gateway log."""

    def __init__(self, registry, options=None):
        self.options = options or MailgateOptions()
        self.work = GatewayWork(
            registry, self.options.workers, authserv_id=self.options.hostname
        )
        # client key -> [Semaphore, users] (event loop thread only)
        self._delivery_slots = {}
        self.refusals = RefusalLog(
            self.work.write_refusals,
            self.options.flush_interval,
            summarized=LIMIT_REASONS,
            transient_errors=DATABASE_AWAY,
        )

    @property
    def registry(self):
        return self.work.registry

    @property
    def _rcpt_cursors(self):
        return self.work.rcpt_cursors

    effective_client = staticmethod(effective_client)

    # -- refusal log: folded in memory, written once per interval ---------

    def note_refusal(self, result, sender, recipient, client):
        self.refusals.note(result["code"], sender, recipient, client, result)

    def flush_refusals(self):
        """Write the refusals noted since the last flush (one entry per
        reason, sender, recipient and client, with the count)."""
        return self.refusals.flush()

    def start(self):
        self.refusals.start()

    def stop(self):
        self.refusals.stop()
        self.work.stop()

    # -- aiosmtpd hooks ---------------------------------------------------

    async def _run(self, func, *args):
        return await asyncio.get_running_loop().run_in_executor(
            self.work.executor, func, *args
        )

    async def _run_delivery(self, func, *args):
        return await asyncio.get_running_loop().run_in_executor(
            self.work.delivery_executor, func, *args
        )

    @contextlib.asynccontextmanager
    async def _delivery_slot(self, server):
        """One of the client's ``client_deliveries`` slots (a trusted relay
        carries many senders: it takes none), waited for in the event loop."""
        limit = self.options.client_deliveries
        if limit is None:
            limit = max(1, self.options.workers // 2)
        if server.trusted or not limit:
            yield
            return
        slot = self._delivery_slots.get(server.client)
        if slot is None:
            slot = self._delivery_slots[server.client] = [asyncio.Semaphore(limit), 0]
        slot[1] += 1
        try:
            async with slot[0]:
                yield
        finally:
            slot[1] -= 1
            if not slot[1]:
                del self._delivery_slots[server.client]

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname  # aiosmtpd leaves it to a hook that exists
        if session.trusted_relay:
            responses.insert(len(responses) - 1, "250-" + XFORWARD_EHLO)
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if len(envelope.rcpt_tos) >= self.options.max_recipients:
            return REPLY_TOO_MANY_RCPT
        sender = envelope.mail_from or ""
        # the client a trusted relay forwarded, else the connected one
        client = effective_client(session)[0] or str(session.peer or "")
        try:
            result = await self._run(
                self.work.check_recipient,
                sender,
                address,
                self._guess_budget(server, session, client),
            )
        except DATABASE_AWAY as error:
            _logger.warning(
                "mailgate: database unreachable, RCPT %s answered 451: %s",
                address,
                first_line(error),
            )
            return REPLY_TEMPFAIL
        except Exception:
            _logger.exception("mailgate: RCPT check of %s failed", address)
            return REPLY_TEMPFAIL
        if result["code"] == "ok":
            envelope.rcpt_tos.append(address)
            return REPLY_OK
        rcpt = address.replace("\r", "").replace("\n", "")
        if result["code"] == GUESS_RATE:
            hit = LimitHit(CLIENT_LIMIT, GUESS_RATE, self.options.client_guess_rate)
            self.note_refusal(hit.details(), sender, address, client)
            server.refused_by_limit()  # no free probes: an error of the session
            return LIMIT_REPLIES[GUESS_RATE].format(rcpt=rcpt)
        self.note_refusal(result, sender, address, client)
        _logger.info(
            "mailgate: RCPT %s from %s (client %s) refused: %s",
            address,
            sender,
            client,
            result["code"],
        )
        return RCPT_REFUSALS[result["code"]].reply.format(rcpt=rcpt)

    def _guess_budget(self, server, session, client):
        """The guessing budget of the RCPT's client: the connected one, or
        the one a trusted relay forwarded (a relay without XFORWARD carries
        many senders: none)."""
        rate = self.options.client_guess_rate
        forwarded = getattr(session, "xforward", None) or {}
        if not rate or (server.trusted and "ADDR" not in forwarded):
            return None
        return GuessBudget(
            client_key(client), rate / 60.0, max(1, self.options.client_guess_burst)
        )

    async def handle_DATA(self, server, session, envelope):
        client_address, helo = effective_client(session)
        try:
            async with self._delivery_slot(server):
                await self._run_delivery(
                    self.work.deliver,
                    envelope.mail_from or "",
                    list(envelope.rcpt_tos),
                    envelope.original_content,
                    client_address,
                    helo,
                )
        except GatewayRefusal as refusal:
            _logger.info(
                "mailgate: message from %s (client %s) refused at the end of DATA: %s",
                envelope.mail_from,
                client_address,
                refusal.reason,
            )
            status = DATA_REFUSALS.get(refusal.reason, REPLY_AUTH_REFUSED)
        except DATABASE_AWAY as error:
            _logger.warning(
                "mailgate: database unreachable, message from %s to %s answered 451: "
                "%s",
                envelope.mail_from,
                envelope.rcpt_tos,
                first_line(error),
            )
            status = REPLY_TEMPFAIL
        except Exception:
            _logger.exception(
                "mailgate: delivery from %s to %s failed",
                envelope.mail_from,
                envelope.rcpt_tos,
            )
            status = REPLY_TEMPFAIL
        else:
            status = REPLY_ACCEPTED
        if self.options.lmtp:
            # LMTP: one reply per accepted recipient (RFC 2033); one delivery for all
            return "\r\n".join([status] * len(envelope.rcpt_tos))
        return status


# -- the server class ------------------------------------------------------


def aiosmtpd_limit(reply, options):
    """The limits aiosmtpd enforces itself, recognised by its closing reply."""
    if reply.startswith("421 4.7.0 ") and reply.endswith(" sent too many times"):
        return LimitHit(ERROR_LIMIT, "junk_commands", options.junk_command_limit)
    if reply.startswith("502 5.5.1 Too many unrecognized commands"):
        return LimitHit(ERROR_LIMIT, "unknown_commands", BOGUS_LIMIT)
    return None


# what no SMTP argument may carry (RFC 5321 4.1.2: printable characters):
# a CR or LF in an envelope address would become a header line of its own
# once the address is written into the message (Return-Path), a NUL stops
# PostgreSQL, and undecodable bytes (aiosmtpd keeps them as surrogates)
# cannot be stored or logged
_UNSAFE_ARGUMENT = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
REPLY_BAD_ARGUMENT = (
    "501 5.5.4 Syntax error: control characters or invalid UTF-8 in the command"
)
# greetings a session may send and still buy time (EHLO, then again after STARTTLS)
GREETINGS_WITH_TIME = 2


def safe_argument(arg):
    return not arg or not _UNSAFE_ARGUMENT.search(arg)


def checked_command(command, junk=False, greeting=False):
    """aiosmtpd's ``command``, refusing an argument with control characters
    or invalid UTF-8 (``501``, an error of the session's tally); a junk
    command, or a greeting past the first two, buys the session no time."""

    @functools.wraps(command)  # keeps aiosmtpd's HELP text
    async def method(self, arg):
        if greeting:
            self._greetings += 1
        if junk or self._greetings > GREETINGS_WITH_TIME:
            self._keep_deadline()
        if not safe_argument(arg):
            await self.push(REPLY_BAD_ARGUMENT)
            return
        await command(self, arg)

    return method


class MailgateServerMixin:
    """The SMTP (or LMTP) session applying the network, session and per-client
    limits; :func:`make_server_class` puts it in front of aiosmtpd's class
    with the limits of one controller."""

    # set per controller by make_server_class
    options = None
    limits = None  # ClientLimits, touched in the event loop's thread only
    allowed = ()  # --allow-networks
    relays = ()  # --relay-networks
    live = None  # the sessions whose deadlines stress mode shortens
    call_limit = None  # aiosmtpd's command_call_limit

    def __init__(self, handler, **kwargs):
        super().__init__(handler, command_call_limit=self.call_limit, **kwargs)
        self.client = None  # the key the limits count (client_limits.client_key)
        self.trusted = False  # a relay of --relay-networks
        self._errors = None  # ErrorTally; None: not counted (a relay)
        self._greeted = False
        self._talked_early = False
        self._reply_open = False  # a multi-line reply is being sent
        self._close_after_reply = False
        self._refused_by_limit = False  # the reply is a limit's refusal
        self._deadline = self._previous_deadline = None
        self._data_deadline = None
        self._greetings = 0
        # the DATA transfer being received (data_received feeds it) and the
        # future its end resolves
        self._transfer = None
        self._transfer_ended = None
        # bytes of the DATA transfer counted in limits.data_memory
        self._data_cost = 0
        self._in_handler = False  # Odoo works for the client: no deadline runs
        # the deadline is stress mode's
        self._stress_cut = self._previous_stress_cut = False

    def _create_session(self):
        return MailgateSession(self.loop)

    def connection_made(self, transport):
        result = super().connection_made(transport)
        if self.client is None:  # again after STARTTLS: same client
            host = peer_host(self.session.peer)
            self.client = client_key(host) if host else str(self.session.peer or "")
            self.trusted = in_networks(host, self.relays)
        self.session.trusted_relay = self.trusted
        return result

    def data_received(self, data):
        if not self._greeted:
            self._talked_early = True
        transfer = self._transfer
        if transfer is None:
            return super().data_received(data)
        cap = self.options.max_data_memory
        if (
            cap
            and not transfer.error
            and self.limits.data_memory + 2 * len(data) + min(cap // 16, 2**20) > cap
        ):
            # refused before the chunk is kept (and copied once while it is
            # read; a little room for the process's own work): the sum never
            # passes the cap
            return self._refuse_data(
                LimitHit(CLIENT_LIMIT, "data_memory", cap), REPLY_DATA_MEMORY
            )
        taken = transfer.feed(data)
        if self._data_deadline is not None:
            self._data_deadline.received(taken, self.loop.time())
        self._count_data(transfer.held)
        self._keep_data_rate(taken)
        if not transfer.done:
            return None
        self._transfer = None
        if not self._transfer_ended.done():
            self._transfer_ended.set_result(None)
        if taken < len(data):  # the client's next commands (pipelining)
            return super().data_received(data[taken:])
        return None

    def _keep_data_rate(self, size):
        """Past --client-data-rate the connection is not read for a while
        (asyncio's flow control: the client's TCP window fills up and it
        waits); its DATA deadline waits too."""
        wait = self.limits.data_delay(self.client, size, exempt=self.trusted)
        if wait <= 0 or self.transport is None:
            return
        self.transport.pause_reading()
        if self._data_deadline is not None:
            self._data_deadline.paused(wait)
        self.loop.call_later(wait, self._resume_reading)

    def _resume_reading(self):
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def refused_by_limit(self):
        """The reply being sent refuses by a limit: an error of the tally."""
        self._refused_by_limit = True

    def _count_data(self, held):
        self.limits.data_memory += held - self._data_cost
        self._data_cost = held
        if self.limits.data_memory >= malloc_release.LARGE:
            self.limits.data_memory_high = True

    def _refuse_data(self, hit, reply):
        """End a DATA transfer that would pass the memory cap: the reply,
        then the connection closed (what was read is freed)."""
        self._note(hit)
        self._data_deadline = None
        self._transfer.discard()
        self._transfer = None
        self._writer.write(reply.encode() + b"\r\n")
        self._close()

    def _release_data(self):
        self._count_data(0)
        if self.limits.data_memory_high and not self.limits.data_memory:
            # the messages are gone: glibc returns the pages they left free
            self.limits.data_memory_high = False
            malloc_release.release_soon(self.loop)

    def _note(self, hit, sender="", recipient=""):
        # folded per reason, sender, recipient and client: a session
        # limit has neither sender nor recipient, a rate names them
        self.event_handler.note_refusal(hit.details(), sender, recipient, self.client)

    def _close(self):
        if self.transport is not None:
            self.transport.close()
        if self._handler_coroutine is not None:
            self._handler_coroutine.cancel()

    async def _handle_client(self):
        host = peer_host(self.session.peer)
        if (
            self.allowed
            and host
            and not (self.trusted or in_networks(host, self.allowed))
        ):
            _logger.warning(
                "mailgate: connection from %s refused (not in --allow-networks)",
                host,
            )
            await self.push(REPLY_NETWORK)
            self.transport.close()
            return
        hit = self.limits.open_session(self.client, exempt=self.trusted)
        if hit:
            self._note(hit)
            await self.push(LIMIT_REPLIES[hit.limit])
            self.transport.close()
            return
        self.live.add(self)
        if self.limits.stress_began():
            _logger.warning(
                "mailgate: %s sessions open: under stress, idle clients get %g s",
                self.limits.sessions,
                self.options.stress_timeout,
            )
            for session in list(self.live):
                session._cut_for_stress()
        try:
            if self.trusted:
                # Postfix in front reuses a session for many messages
                # (RSET between them); read by aiosmtpd at session start
                self._enforce_call_limit = False
            else:
                self._errors = ErrorTally(
                    self.options.soft_error_limit, self.options.hard_error_limit
                )
                if self.options.pregreet_wait > 0 and not await self._greet_patiently():
                    return
            self._greeted = True
            await super()._handle_client()  # sends the (final) greeting
        finally:
            self.live.discard(self)
            self.limits.close_session(self.client, exempt=self.trusted)
            # a client gone during the pregreet wait (aiosmtpd keeps a
            # half-closed connection open): its descriptor is freed now
            if self.transport is not None:
                self.transport.close()

    async def _greet_patiently(self):
        """postscreen's pregreet test: the first line of a multi-line
        greeting, a short wait, and a client that talked meanwhile (a bot
        that does not wait for the server) is dropped."""
        await self.push(f"220-{self.hostname} {self.__ident__}")
        await asyncio.sleep(self.options.pregreet_wait)
        if self._talked_early:
            self._note(LimitHit(PREGREET, "pregreet_wait", self.options.pregreet_wait))
            self._errors = None
            await self.push(REPLY_PREGREET)
            self.transport.close()
            return False
        return True

    async def push(self, status):
        text = status if isinstance(status, str) else status.decode("utf-8", "replace")
        tally = self._errors
        if tally is not None and not self._reply_open and tally.delaying:
            # the tarpit: past the soft error limit every reply waits
            await asyncio.sleep(self.options.error_delay)
        self._reply_open = text.rsplit("\r\n", 1)[-1][3:4] == "-"
        await super().push(status)
        if self._reply_open:
            return
        hit = aiosmtpd_limit(text, self.options)
        if hit:
            self._note(hit)  # aiosmtpd closes the session itself
            return
        if self._close_after_reply:
            self._close()
            return
        refused, self._refused_by_limit = self._refused_by_limit, False
        hit = tally.note(text[:3], refused) if tally is not None else None
        if hit:
            self._note(hit)
            self._errors = None
            await super().push(LIMIT_REPLIES[hit.limit])
            self._close()

    async def _call_handler_hook(self, command, *args):
        if command == "MAIL" and not self.trusted:
            hit = self.limits.count_message(self.client)
            if hit:
                self._note(hit, sender=args[0])
                self._close_after_reply = True
                return LIMIT_REPLIES[hit.limit]
        elif command == "RCPT" and not self.trusted:
            hit = self.limits.count_recipient(self.client)
            if hit:
                self._note(hit, sender=self.envelope.mail_from, recipient=args[0])
                # ignoring the limit is an error of the client: no free probes
                self._refused_by_limit = True
                return LIMIT_REPLIES[hit.limit].format(
                    rcpt=str(args[0]).replace("\r", "").replace("\n", "")
                )
        if command not in ("RCPT", "DATA"):
            return await super()._call_handler_hook(command, *args)
        # the Odoo work: the client waits for us, its deadline waits too
        self._data_deadline = None
        self._timeout_handle.cancel()
        self._in_handler = True
        try:
            status = await super()._call_handler_hook(command, *args)
        finally:
            self._in_handler = False
            if self.transport is not None:
                self._reset_timeout()
        if (
            command == "DATA"
            and self._errors is not None
            and str(status).startswith("250")
        ):
            self._errors.delivered()
        return status

    # -- deadlines: per command, and for the DATA transfer -------------

    def _reset_timeout(self, duration=None):
        duration = duration or self._timeout_duration
        stress_cut = (
            not self.trusted
            and self.limits.stressed
            and self.options.stress_timeout < duration
        )
        if stress_cut:
            duration = self.options.stress_timeout
        self._previous_deadline, self._previous_stress_cut = (
            self._deadline,
            self._stress_cut,
        )
        self._deadline, self._stress_cut = self.loop.time() + duration, stress_cut
        return super()._reset_timeout(duration)

    def _cut_for_stress(self):
        """Stress mode began: an idle session's deadline comes within
        ``stress_timeout``, a DATA transfer's grace and idle time too (one
        waiting for Odoo keeps its answer)."""
        if self.trusted or self.transport is None or self._in_handler:
            return
        if self._data_deadline is not None:
            # _timeout_cb follows the DATA deadline when it comes
            self._data_deadline.stress(self.loop.time(), self.options.stress_timeout)
            if self._timeout_handle is not None:
                self._timeout_handle.cancel()
            self._timeout_handle = self.loop.call_at(
                self._data_deadline.deadline, self._timeout_cb
            )
            return
        deadline = self.loop.time() + self.options.stress_timeout
        if (
            self._deadline is None
            or self._deadline <= deadline
            or self._timeout_handle is None
        ):
            return
        self._deadline, self._stress_cut = deadline, True
        self._timeout_handle.cancel()
        self._timeout_handle = self.loop.call_at(deadline, self._timeout_cb)

    def _keep_deadline(self):
        """A junk command buys no time: the deadline stays the previous
        command's (aiosmtpd reset it before calling the command), so
        NOOPs cannot keep a session forever."""
        if self.trusted or self._previous_deadline is None:
            return
        self._deadline, self._stress_cut = (
            self._previous_deadline,
            self._previous_stress_cut,
        )
        self._timeout_handle.cancel()
        self._timeout_handle = self.loop.call_at(self._deadline, self._timeout_cb)

    def _timeout_cb(self):
        if self.transport is None:
            return
        data = self._data_deadline
        deadline = data.deadline if data is not None else self._deadline
        if deadline is not None and deadline > self.loop.time():
            # the DATA deadline moved on with the data received
            self._timeout_handle = self.loop.call_at(deadline, self._timeout_cb)
            return
        if data is not None and data.min_rate:
            self._note(LimitHit(TIMEOUT, "data_rate", data.min_rate))
        elif self._stress_cut:
            self._note(LimitHit(TIMEOUT, "stress_timeout", self.options.stress_timeout))
        else:
            self._note(LimitHit(TIMEOUT, "command_timeout", self._timeout_duration))
        self._writer.write(REPLY_TIMEOUT.encode() + b"\r\n")
        super()._timeout_cb()

    @syntax("DATA <CR><LF> message <CR><LF> . <CR><LF>")
    async def smtp_DATA(self, arg):
        """DATA read from the raw bytes (data_received feeds a
        ``DataTransfer``: one buffer a message, C-speed per chunk) instead
        of aiosmtpd's object per line; its minimum rate counts from the
        start of the transfer."""
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        self._data_deadline = self._new_data_deadline()
        # the deadline may come before --timeout (aiosmtpd's timer): its own timer
        if self._timeout_handle is not None:
            self._timeout_handle.cancel()
        self._timeout_handle = self.loop.call_at(
            self._data_deadline.deadline, self._timeout_cb
        )
        transfer = DataTransfer(self.data_size_limit or 0, self.line_length_limit)
        self._transfer, self._transfer_ended = transfer, self.loop.create_future()
        try:
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            await self._transfer_ended  # cancelled when the client goes
            self._data_deadline = None
            if transfer.error:
                self._set_post_data_state()
                self._release_data()  # given back before the client hears
                await self.push(
                    REPLY_LINE_TOO_LONG
                    if transfer.error == LINE_TOO_LONG
                    else REPLY_DATA_TOO_BIG
                )
                return
            self.envelope.original_content = self.envelope.content = transfer.message()
            self._count_data(len(self.envelope.original_content))
            status = await self._call_handler_hook("DATA")
            self._set_post_data_state()  # a new envelope: the message is let go
            self._release_data()
            await self.push("250 OK" if status is MISSING else status)
        finally:
            transfer.discard()
            if self.envelope is not None and self.envelope.original_content:
                self.envelope.original_content = self.envelope.content = None
            self._transfer = self._data_deadline = None
            self._release_data()

    def _new_data_deadline(self):
        """Relays: only the idle timeout per chunk; others must keep
        --min-data-rate from the start, after a grace (shorter under stress)."""
        grace, idle = self.options.data_grace, self._timeout_duration
        if not self.trusted and self.limits.stressed:
            grace = min(grace, self.options.stress_timeout)
            idle = min(idle, self.options.stress_timeout)
        min_rate = 0 if self.trusted else self.options.min_data_rate
        return DataDeadline(self.loop.time(), idle, min_rate, grace=grace)

    # -- XFORWARD ---------------------------------------------------------

    async def smtp_XFORWARD(self, arg):
        """Postfix's XFORWARD from a trusted relay: the original client's
        address and HELO name for this transaction (effective_client)."""
        if not self.trusted:
            await self.push(REPLY_XFORWARD_DENIED)
            return
        if not safe_argument(arg):
            await self.push(REPLY_BAD_ARGUMENT)
            return
        if self.envelope.mail_from:
            await self.push(REPLY_XFORWARD_IN_MAIL)
            return
        try:
            attributes = parse_xforward(arg)
        except ValueError as error:
            await self.push(str(error))
            return
        self.session.xforward.update(attributes)
        await self.push(REPLY_XFORWARD_OK)

    def _set_post_data_state(self):
        # the end of a transaction (DATA, RSET, HELO/EHLO) ends its XFORWARD
        result = super()._set_post_data_state()
        if isinstance(self.session, MailgateSession):
            self.session.xforward = {}
        return result


def make_server_class(base, options, limits):
    """An SMTP (or LMTP) class applying the network, session and per-client
    limits; built once per controller, instantiated per connection."""
    call_limit = None
    if options.junk_command_limit:
        call_limit = dict.fromkeys(
            JUNK_COMMANDS + GREETING_COMMANDS, options.junk_command_limit
        ) | {"*": UNLIMITED}

    attributes = {
        "options": options,
        "limits": limits,
        "allowed": tuple(options.allow_networks),
        "relays": tuple(options.relay_networks),
        "live": weakref.WeakSet(),
        "call_limit": call_limit,
    }
    for name in JUNK_COMMANDS:
        attributes[f"smtp_{name}"] = checked_command(
            getattr(base, f"smtp_{name}"), junk=True
        )
    for name in ("MAIL", "RCPT"):
        attributes[f"smtp_{name}"] = checked_command(getattr(base, f"smtp_{name}"))
    for name in GREETING_COMMANDS:  # LHLO is LMTP's only
        if hasattr(base, f"smtp_{name}"):
            attributes[f"smtp_{name}"] = checked_command(
                getattr(base, f"smtp_{name}"), greeting=True
            )
    return type("MailgateServer", (MailgateServerMixin, base), attributes)


def stress_threshold(options):
    if options.stress_sessions is not None:
        return options.stress_sessions
    return int(options.max_sessions * 0.8) if options.stress_timeout else 0


def client_policy(options):
    return ClientPolicy(
        max_sessions=options.max_sessions,
        stress_sessions=stress_threshold(options),
        client_sessions=options.client_sessions,
        connection_rate=options.client_connection_rate,
        message_rate=options.client_message_rate,
        recipient_rate=options.client_recipient_rate,
        data_rate=options.client_data_rate,
        data_burst=options.client_data_burst,
    )


class MailgateController(Controller):
    """aiosmtpd's threaded controller serving our SMTP/LMTP class."""

    def __init__(self, handler, options):
        self.options = options
        malloc_release.configure()
        # touched only in the event loop's thread
        self.limits = ClientLimits(client_policy(options), clock=time.monotonic)
        self.server_class = make_server_class(
            LMTP if options.lmtp else SMTP, options, self.limits
        )
        self.server_kwargs = {
            "data_size_limit": options.max_size,
            "enable_SMTPUTF8": True,
            # aiosmtpd would look the name up (DNS) for every connection
            "hostname": options.hostname or socket.getfqdn(),
            "ident": "Odoo mailgate (mail_routing_policy)",
            "tls_context": tls_context(options.tls_cert, options.tls_key)
            if options.tls_cert
            else None,
            "timeout": options.timeout,
        }
        super().__init__(
            handler, hostname=options.host, port=options.port, ready_timeout=10
        )

    def factory(self):
        return self.server_class(self.handler, **self.server_kwargs)

    def _run(self, ready_event):
        # the SMTP dialogue's log lines name the database, as an Odoo worker's do
        threading.current_thread().dbname = self.handler.registry.db_name
        return super()._run(ready_event)

    def start(self):
        self.handler.start()
        return super().start()

    def stop(self, no_assert=False):
        try:
            return super().stop(no_assert=no_assert)
        finally:
            self.handler.stop()
