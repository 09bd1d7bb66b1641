"""The mailgate's SMTP/LMTP server: the routing policy applied during the dialogue.

Used by the ``mailgate`` command (cli/mailgate.py) and by the tests. The
decisions are the model layer's (``mail.thread._routing_check_recipient`` at
RCPT TO, ``mail.thread.message_process`` at DATA): this module only speaks
SMTP, runs the Odoo work in worker threads (one cursor, one transaction per
message) and answers after the commit.
"""

import asyncio
import collections
import ipaddress
import logging
import re
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import compat32
from functools import partial

import psycopg2
from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP

from odoo import SUPERUSER_ID, api
from odoo.service.model import retrying

_logger = logging.getLogger(__name__)

# replies (protocol text, RFC 3463 enhanced status codes)
REPLY_OK = "250 2.1.5 OK"
REPLY_DELIVERED = "250 2.0.0 OK: delivered to Odoo"
REPLY_RELAY = "550 5.7.1 <{rcpt}>: relay not permitted"
REPLY_UNKNOWN = "550 5.1.1 <{rcpt}>: recipient address rejected: no such alias"
REPLY_DEFERRED = "450 4.7.1 <{rcpt}>: too many messages from this sender, try again later"
REPLY_TOO_MANY_RCPT = "452 4.5.3 Too many recipients"
REPLY_TEMPFAIL = "451 4.3.0 Temporary failure in the mail gateway, try again later"
REPLY_BUSY = "421 4.7.0 Too many connections, try again later"
REPLY_NETWORK = "554 5.7.1 Your address is not allowed to use this server"

RCPT_REPLIES = {"relay_denied": REPLY_RELAY, "unknown_recipient": REPLY_UNKNOWN, "rate_limited": REPLY_DEFERRED}
PERMANENT_REFUSALS = ("relay_denied", "unknown_recipient")
# refusals after DATA that message_route logged in a transaction of its own
ROUTING_LOG_REASONS = ("no_route", "allow_list")


@dataclass
class MailgateOptions:
    host: str = "127.0.0.1"
    port: int = 2525
    lmtp: bool = False
    max_size: int = 25 * 1024 * 1024
    max_recipients: int = 100
    max_sessions: int = 32
    timeout: float = 300.0
    tls_cert: str = ""
    tls_key: str = ""
    allow_networks: list = field(default_factory=list)
    workers: int = 4
    hostname: str = ""
    flush_interval: float = 1.0


def parse_listen(value):
    """``host:port`` (``[v6]:port``) → (host, port)."""
    host, _sep, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"--listen expects HOST:PORT, not {value!r}")
    return host.strip("[]"), int(port)


def parse_networks(value):
    return [ipaddress.ip_network(item.strip(), strict=False) for item in (value or "").split(",") if item.strip()]


def tls_context(cert, key):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


# the database cannot be asked (down, restarting, unreachable): the sender
# retries after a 451, and the log gets one line instead of a traceback each
DATABASE_AWAY = (psycopg2.OperationalError, psycopg2.InterfaceError)


def first_line(error):
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def close_quietly(cr):
    """Close a kept RCPT cursor; a broken connection has nothing left to close."""
    try:
        cr.close()
    except Exception:
        _logger.debug("mailgate: closing a RCPT cursor", exc_info=True)


class GatewayHandler:
    """aiosmtpd handler: RCPT TO and DATA decided by the Odoo models."""

    def __init__(self, registry, options=None):
        self.registry = registry
        self.options = options or MailgateOptions()
        self.executor = ThreadPoolExecutor(
            max_workers=self.options.workers, thread_name_prefix="mailgate", initializer=self._init_worker
        )
        self._refusals = collections.OrderedDict()
        self._refusals_lock = threading.Lock()
        self._stop = threading.Event()
        self._flusher = None
        self._signaled = 0.0
        self._local = threading.local()
        self._rcpt_cursors = set()
        self._rcpt_cursors_lock = threading.Lock()

    # -- worker threads -------------------------------------------------

    def _init_worker(self):
        # what Odoo's own worker threads carry (log records, db-bound helpers)
        threading.current_thread().dbname = self.registry.db_name
        threading.current_thread().uid = SUPERUSER_ID

    def _fresh_registry(self, max_age=0.0):
        """Caches (alias domains, parameters, trusted senders) changed by the
        Odoo server are invalidated as Odoo's own workers do it; a RCPT check
        looks at most once per ``max_age`` seconds (two queries saved per
        recipient under a dictionary attack)."""
        now = time.monotonic()
        if now - self._signaled >= max_age:
            self.registry = self.registry.check_signaling()
            self._signaled = now
        return self.registry

    def _rcpt_cursor(self, registry):
        """This worker thread's cursor for RCPT checks, kept open between
        checks: borrowing a connection from the pool and resetting it cost
        more than the check itself. A new registry (modules changed) or
        connection pool gets a new cursor."""
        state = self._local
        cr = getattr(state, "cursor", None)
        if cr is not None and (cr.closed or state.registry is not registry or state.db is not registry._db):
            self._drop_rcpt_cursor()
            cr = None
        if cr is None:
            cr = registry.cursor()
            # each statement reads the latest committed data (no BEGIN and
            # ROLLBACK round trips per check); read-only, so a check that
            # tried to write would fail loudly instead of committing. The pool
            # resets both when the connection is borrowed again.
            cr.connection.set_session(readonly=True, autocommit=True)
            state.cursor, state.registry, state.db = cr, registry, registry._db
            with self._rcpt_cursors_lock:
                self._rcpt_cursors.add(cr)
        return cr

    def _drop_rcpt_cursor(self):
        cr = getattr(self._local, "cursor", None)
        self._local.cursor = None
        if cr is None:
            return
        with self._rcpt_cursors_lock:
            self._rcpt_cursors.discard(cr)
        close_quietly(cr)

    def check_recipient(self, sender, recipient):
        """mail.thread._routing_check_recipient on the worker's kept,
        read-only cursor; a connection the server closed meanwhile (restart,
        idle timeout) is replaced once.

        A permanent refusal (``550``) is never decided on stale caches: the
        alias domains and parameters come from Odoo's caches, which another
        Odoo process may have invalidated since the last look (at most once a
        second), so before refusing the signaling is read on the same cursor
        and, when anything changed, the check runs again.
        """
        registry = self._fresh_registry(max_age=1.0)
        for attempt in (1, 2):
            try:
                result = self._check_on_kept_cursor(registry, sender, recipient)
                if result["code"] not in PERMANENT_REFUSALS:
                    return result
                cr = self._rcpt_cursor(registry)
                if self._caches_current(registry, cr):
                    return result
                self.registry = registry.check_signaling(cr)
                self._signaled = time.monotonic()
                return self._check_on_kept_cursor(self.registry, sender, recipient)
            except DATABASE_AWAY:
                self._drop_rcpt_cursor()
                if attempt == 2:
                    raise
                _logger.info("mailgate: database connection lost, reconnecting for RCPT checks")
            except Exception:
                self._drop_rcpt_cursor()
                raise
        raise AssertionError("unreachable")

    @staticmethod
    def _caches_current(registry, cr):
        """Whether no Odoo process signaled a change of the models or of the
        ``default`` caches (alias domains, parameters, trusted senders) since
        this registry last looked: the two sequences of Odoo's signaling that
        concern a RCPT check, in one cheap statement (reading all of them, as
        ``check_signaling`` does, cost as much as the check itself)."""
        cr.execute("SELECT r.last_value, d.last_value FROM base_registry_signaling r, base_cache_signaling_default d")
        registry_sequence, default_sequence = cr.fetchone()
        return (
            registry_sequence == registry.registry_sequence and default_sequence == registry.cache_sequences["default"]
        )

    def _check_on_kept_cursor(self, registry, sender, recipient):
        cr = self._rcpt_cursor(registry)
        env = api.Environment(cr, SUPERUSER_ID, {})
        result = env["mail.thread"]._routing_check_recipient(sender, recipient)
        cr.rollback()  # clears the ORM cache: the next check reads afresh
        return result

    def deliver(self, mail_from, rcpt_tos, content):
        """message_process in one transaction, committed before returning.

        Serialization failures are retried as Odoo's RPC layer does
        (``retrying``). Returns True when committed, or when the message was
        refused and logged by the gateway (no route); raises otherwise.
        """
        raw = stamp(mail_from, rcpt_tos, content)
        started = time.time()
        registry = self._fresh_registry()
        try:
            with registry.cursor() as cr:
                # the mailgate answers the sending server: outgoing mail (notifications)
                # is left to the mail queue cron instead of being sent here
                env = api.Environment(cr, SUPERUSER_ID, {"mail_notify_force_send": False})
                retrying(partial(env["mail.thread"].message_process, False, raw), env)
            return True
        except ValueError:
            # no route: message_route logged it in a transaction of its own
            # (refused after DATA: accepted and logged, never bounced)
            if self._routing_logged(raw, started):
                return True
            raise

    def _routing_logged(self, raw, since):
        message_id = (BytesHeaderParser(policy=compat32).parsebytes(raw).get("Message-Id") or "").strip()
        if not message_id:
            return False
        with self.registry.cursor() as cr:
            cr.execute(
                """SELECT 1 FROM mail_gateway_log WHERE message_id = %s AND reason IN %s
                   AND date >= (to_timestamp(%s) at time zone 'UTC') - interval '1 second' LIMIT 1""",
                [message_id, ROUTING_LOG_REASONS, since],
            )
            return bool(cr.fetchone())

    # -- refusal log: folded in memory, written once per interval ---------

    def note_refusal(self, result, sender, recipient, client):
        key = (result["code"], sender or "", recipient, client or "")
        with self._refusals_lock:
            count, _details = self._refusals.get(key, (0, None))
            self._refusals[key] = (count + 1, result)

    def flush_refusals(self):
        """Write the refusals noted since the last flush (one entry per
        reason, sender, recipient and client, with the count)."""
        with self._refusals_lock:
            pending, self._refusals = self._refusals, collections.OrderedDict()
        if not pending:
            return 0
        try:
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                for (reason, sender, recipient, client), (count, details) in pending.items():
                    env["mail.gateway.log"]._log_rcpt_refusal(reason, sender, recipient, client, details, count=count)
        except Exception:
            _logger.exception("mailgate: could not log %s RCPT refusals, keeping them for the next try", len(pending))
            with self._refusals_lock:
                for key, (count, details) in pending.items():
                    old = self._refusals.get(key, (0, details))[0]
                    self._refusals[key] = (old + count, details)
            return 0
        return len(pending)

    def start(self):
        def loop():
            while not self._stop.wait(self.options.flush_interval):
                self.flush_refusals()

        self._flusher = threading.Thread(target=loop, name="mailgate-log", daemon=True)
        self._flusher.start()

    def stop(self):
        self._stop.set()
        if self._flusher:
            self._flusher.join(timeout=10)
        self.flush_refusals()
        self.executor.shutdown(wait=True)
        # the workers are gone: their kept cursors can be closed from here
        with self._rcpt_cursors_lock:
            cursors, self._rcpt_cursors = self._rcpt_cursors, set()
        for cr in cursors:
            close_quietly(cr)

    # -- aiosmtpd hooks ---------------------------------------------------

    async def _run(self, func, *args):
        return await asyncio.get_running_loop().run_in_executor(self.executor, func, *args)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if len(envelope.rcpt_tos) >= self.options.max_recipients:
            return REPLY_TOO_MANY_RCPT
        sender = envelope.mail_from or ""
        try:
            result = await self._run(self.check_recipient, sender, address)
        except DATABASE_AWAY as error:
            _logger.warning("mailgate: database unreachable, RCPT %s answered 451: %s", address, first_line(error))
            return REPLY_TEMPFAIL
        except Exception:
            _logger.exception("mailgate: RCPT check of %s failed", address)
            return REPLY_TEMPFAIL
        if result["code"] == "ok":
            envelope.rcpt_tos.append(address)
            return REPLY_OK
        client = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer or "")
        self.note_refusal(result, sender, address, client)
        _logger.info("mailgate: RCPT %s from %s (client %s) refused: %s", address, sender, client, result["code"])
        return RCPT_REPLIES[result["code"]].format(rcpt=address.replace("\r", "").replace("\n", ""))

    async def handle_DATA(self, server, session, envelope):
        try:
            await self._run(self.deliver, envelope.mail_from or "", list(envelope.rcpt_tos), envelope.original_content)
        except DATABASE_AWAY as error:
            _logger.warning(
                "mailgate: database unreachable, message from %s to %s answered 451: %s",
                envelope.mail_from,
                envelope.rcpt_tos,
                first_line(error),
            )
            status = REPLY_TEMPFAIL
        except Exception:
            _logger.exception("mailgate: delivery from %s to %s failed", envelope.mail_from, envelope.rcpt_tos)
            status = REPLY_TEMPFAIL
        else:
            status = REPLY_DELIVERED
        if self.options.lmtp:
            # LMTP: one reply per accepted recipient (RFC 2033); one delivery for all
            return "\r\n".join([status] * len(envelope.rcpt_tos))
        return status


_RETURN_PATH = re.compile(rb"^return-path:", re.IGNORECASE | re.MULTILINE)


def stamp(mail_from, rcpt_tos, content):
    """Prepend what a final delivery agent adds: Return-Path (RFC 5321
    4.4) unless present, and one Delivered-To per envelope recipient (read by
    message_route, as with Postfix's pipe delivery: Bcc'd aliases route)."""
    header_end = re.search(rb"\r?\n\r?\n", content)
    headers = content[: header_end.start()] if header_end else content
    lines = [] if _RETURN_PATH.search(headers) else [f"Return-Path: <{mail_from}>"]
    lines += [f"Delivered-To: {rcpt}" for rcpt in dict.fromkeys(rcpt_tos)]
    return "".join(line + "\r\n" for line in lines).encode("utf-8", "surrogateescape") + content


def make_server_class(base, options, counter):
    """An SMTP (or LMTP) class refusing clients outside the allowed networks
    and sessions beyond the limit, with a greeting instead of a silent close."""

    class MailgateServer(base):
        async def _handle_client(self):
            peer = self.session.peer
            host = peer[0] if isinstance(peer, tuple) else None
            if options.allow_networks and host:
                try:
                    address = ipaddress.ip_address(host.split("%")[0])
                except ValueError:
                    address = None
                if address is None or not any(address in network for network in options.allow_networks):
                    _logger.warning("mailgate: connection from %s refused (not in --allow-networks)", host)
                    await self.push(REPLY_NETWORK)
                    self.transport.close()
                    return
            with counter["lock"]:
                busy = counter["sessions"] >= options.max_sessions
                if not busy:
                    counter["sessions"] += 1
            if busy:
                await self.push(REPLY_BUSY)
                self.transport.close()
                return
            try:
                await super()._handle_client()
            finally:
                with counter["lock"]:
                    counter["sessions"] -= 1

    return MailgateServer


class MailgateController(Controller):
    """aiosmtpd's threaded controller serving our SMTP/LMTP class."""

    def __init__(self, handler, options):
        self.options = options
        self.sessions = {"sessions": 0, "lock": threading.Lock()}
        super().__init__(handler, hostname=options.host, port=options.port, ready_timeout=10)

    def factory(self):
        options = self.options
        server_class = make_server_class(LMTP if options.lmtp else SMTP, options, self.sessions)
        context = tls_context(options.tls_cert, options.tls_key) if options.tls_cert else None
        return server_class(
            self.handler,
            data_size_limit=options.max_size,
            enable_SMTPUTF8=True,
            hostname=options.hostname or None,
            ident="Odoo mailgate (mail_routing_policy)",
            tls_context=context,
            timeout=options.timeout,
        )

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
