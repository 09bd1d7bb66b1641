# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The mailgate's Odoo side: the RCPT checks on kept cursors, the delivery
of a message in one transaction, and the gateway log's refusal entries.

Everything here runs in the worker threads (or the refusal log's thread),
never in the SMTP event loop: cli/smtp_handler.py hands the work over and
answers after it returns. The decisions are the model layer's
(``mail.thread._routing_check_recipient`` at RCPT TO,
``mail.thread.message_process`` at DATA).
"""

import logging
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from functools import partial

import psycopg2

from odoo import SUPERUSER_ID, api
from odoo.service.model import retrying

from ..models.mail_thread_incoming import (
    CONTEXT_AUTH_FACTS,
    CONTEXT_CLIENT,
    CONTEXT_SMTP,
    CONTEXT_TRUSTED_AUTHSERV_ID,
)
from ..tools import mail_auth
from ..tools.incoming import auth_policy
from . import mail_authentication

_logger = logging.getLogger(__name__)

PERMANENT_REFUSALS = ("relay_denied", "unknown_recipient")
# the RCPT check's answer when the client's guessing budget is spent
GUESS_RATE = "guess_rate"


@dataclass(frozen=True)
class GuessBudget:
    """A client's recipient-guessing bucket (mail.gateway.guess.budget):
    ``burst`` tokens, refilled at ``rate`` a second."""

    client: str
    rate: float
    burst: int


# refusals after DATA that message_route logged in a transaction of its own
ROUTING_LOG_REASONS = ("no_route", "allow_list")

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


_RETURN_PATH = re.compile(rb"^return-path:", re.IGNORECASE | re.MULTILINE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def stamp(mail_from, rcpt_tos, content):
    """Prepend what a final delivery agent adds: Return-Path (RFC 5321
    4.4) unless present, and one Delivered-To per envelope recipient (read by
    message_route, as with Postfix's pipe delivery: Bcc'd aliases route)."""
    header_end = re.search(rb"\r?\n\r?\n", content)
    headers = content[: header_end.start()] if header_end else content
    # the SMTP side refuses control characters in addresses (501); never
    # write one into a header all the same (a CR would start a header line)
    mail_from, rcpt_tos = (
        _CONTROL.sub("", mail_from or ""),
        [_CONTROL.sub("", rcpt) for rcpt in rcpt_tos],
    )
    lines = [] if _RETURN_PATH.search(headers) else [f"Return-Path: <{mail_from}>"]
    lines += [f"Delivered-To: {rcpt}" for rcpt in dict.fromkeys(rcpt_tos)]
    return (
        "".join(line + "\r\n" for line in lines).encode("utf-8", "surrogateescape")
        + content
    )


class GatewayWork:
    """The Odoo work of one mailgate: ``workers`` threads, each with a kept
    read-only cursor for RCPT checks; a delivery gets a cursor of its own."""

    def __init__(self, registry, workers, authserv_id=""):
        self.registry = registry
        # the name of the mailgate's own Authentication-Results (RFC 8601)
        self.authserv_id = (authserv_id or socket.getfqdn()).lower()
        if not mail_auth.valid_authserv_id(self.authserv_id):
            raise ValueError(
                f"{self.authserv_id!r} is not a host name: the mailgate's name "
                "(--hostname) also names its "
                "Authentication-Results header"
            )
        self.executor = ThreadPoolExecutor(
            max_workers=workers,
            thread_name_prefix="mailgate",
            initializer=self._init_worker,
        )
        # deliveries apart from RCPT checks: a client's slow deliveries (up
        # to 5 s of DNS each) never make other clients' RCPT TO wait
        self.delivery_executor = ThreadPoolExecutor(
            max_workers=workers,
            thread_name_prefix="mailgate-data",
            initializer=self._init_worker,
        )
        self._signaled = 0.0
        self._local = threading.local()
        # the kept read-only cursors of the RCPT checks, and every kept cursor
        self.rcpt_cursors = set()
        self.kept_cursors = set()
        self._rcpt_cursors_lock = threading.Lock()

    def _init_worker(self):
        # what Odoo's own worker threads carry (log records, db-bound helpers)
        threading.current_thread().dbname = self.registry.db_name
        threading.current_thread().uid = SUPERUSER_ID

    def _fresh_registry(self, max_age=0.0):
        """Caches (alias domains, parameters, allowed senders) changed by the
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
        return self._kept_cursor(registry, "cursor", readonly=True)

    def _kept_cursor(self, registry, name, readonly):
        """A cursor of this worker thread kept between calls, autocommit:
        each statement reads the latest committed data (no BEGIN and
        ROLLBACK round trips per check). ``readonly``: a check that tried to
        write fails loudly instead of committing. The pool resets both when
        the connection is borrowed again."""
        state = self._local
        kept = getattr(state, "kept", None)
        if kept is None:
            kept = state.kept = {}
        cr, cr_registry, cr_db = kept.get(name, (None, None, None))
        if cr is not None and (
            cr.closed or cr_registry is not registry or cr_db is not registry._db
        ):
            self._drop_kept_cursor(name)
            cr = None
        if cr is None:
            cr = registry.cursor()
            cr.connection.set_session(readonly=readonly, autocommit=True)
            kept[name] = (cr, registry, registry._db)
            with self._rcpt_cursors_lock:
                self.kept_cursors.add(cr)
                if readonly:
                    self.rcpt_cursors.add(cr)
        return cr

    def _drop_rcpt_cursor(self):
        for name in list(getattr(self._local, "kept", None) or ()):
            self._drop_kept_cursor(name)

    def _drop_kept_cursor(self, name):
        cr = self._local.kept.pop(name, (None,))[0]
        if cr is None:
            return
        with self._rcpt_cursors_lock:
            self.rcpt_cursors.discard(cr)
            self.kept_cursors.discard(cr)
        close_quietly(cr)

    def check_recipient(self, sender, recipient, budget=None):
        """mail.thread._routing_check_recipient on the worker's kept,
        read-only cursor; a connection the server closed meanwhile (restart,
        idle timeout) is replaced once.

        With a ``GuessBudget``: a client whose bucket is empty gets
        ``guess_rate`` without the recipient being looked up, and a refused
        recipient spends a token (``guess_rate`` when a concurrent session
        spent the last one first: the refusal is not revealed).

        A permanent refusal (``550``) is never decided on stale caches: the
        alias domains and parameters come from Odoo's caches, which another
        Odoo process may have invalidated since the last look (at most once a
        second), so before refusing the signaling is read on the same cursor
        and, when anything changed, the check runs again.
        """
        registry = self._fresh_registry(max_age=1.0)
        for attempt in (1, 2):
            try:
                if budget is not None and not self._budget(
                    registry, "_guess_budget_left", budget
                ):
                    return {"code": GUESS_RATE}
                result = self._check_on_current_caches(registry, sender, recipient)
                if (
                    budget is not None
                    and result["code"] != "ok"
                    and not self._budget(registry, "_guess_budget_spend", budget)
                ):
                    return {"code": GUESS_RATE}
                return result
            except DATABASE_AWAY:
                self._drop_rcpt_cursor()
                if attempt == 2:
                    raise
                _logger.info(
                    "mailgate: database connection lost, reconnecting for RCPT checks"
                )
            except Exception:
                self._drop_rcpt_cursor()
                raise
        raise AssertionError("unreachable")

    @staticmethod
    def _caches_current(registry, cr):
        """Whether no Odoo process signaled a change of the models or of the
        ``default`` caches (alias domains, parameters, allowed senders) since
        this registry last looked: the two sequences of Odoo's signaling that
        concern a RCPT check, in one cheap statement (reading all of them, as
        ``check_signaling`` does, cost as much as the check itself)."""
        cr.execute(
            "SELECT r.last_value, d.last_value FROM base_registry_signaling r, "
            "base_cache_signaling_default d"
        )
        registry_sequence, default_sequence = cr.fetchone()
        return (
            registry_sequence == registry.registry_sequence
            and default_sequence == registry.cache_sequences["default"]
        )

    def _check_on_current_caches(self, registry, sender, recipient):
        """The check; a permanent refusal is checked again when the caches
        it was decided on are stale (see ``check_recipient``)."""
        result = self._check_on_kept_cursor(registry, sender, recipient)
        if result["code"] not in PERMANENT_REFUSALS:
            return result
        cr = self._rcpt_cursor(registry)
        if self._caches_current(registry, cr):
            return result
        self.registry = registry.check_signaling(cr)
        self._signaled = time.monotonic()
        return self._check_on_kept_cursor(self.registry, sender, recipient)

    def _budget(self, registry, method, budget):
        """A guessing-budget statement on this thread's kept autocommit
        cursor for writes (the RCPT cursor is read-only)."""
        cr = self._kept_cursor(registry, "budget", readonly=False)
        env = api.Environment(cr, SUPERUSER_ID, {})
        return getattr(env["mail.gateway.guess.budget"], method)(
            budget.client, budget.rate, budget.burst
        )

    def _check_on_kept_cursor(self, registry, sender, recipient):
        cr = self._rcpt_cursor(registry)
        env = api.Environment(cr, SUPERUSER_ID, {})
        result = env["mail.thread"]._routing_check_recipient(sender, recipient)
        cr.rollback()  # clears the ORM cache: the next check reads afresh
        return result

    def auth_settings(self):
        """The authentication's configuration, read on the worker's kept
        read-only cursor (no transaction of its own)."""
        registry = self._fresh_registry(max_age=1.0)
        cr = self._rcpt_cursor(registry)
        try:
            get_param = api.Environment(cr, SUPERUSER_ID, {})[
                "ir.config_parameter"
            ].get_param
            return mail_authentication.AuthSettings.from_params(get_param)
        finally:
            cr.rollback()

    def deliver(self, mail_from, rcpt_tos, content, client_address=None, helo=None):
        """Authenticate the message, then message_process in one
        transaction, committed before returning.

        The authentication (DNS, bounded in time) runs before the
        transaction opens; its header is the only Authentication-Results the
        model layer trusts on this path. Serialization failures are retried
        as Odoo's RPC layer does (``retrying``). Returns True when committed,
        or when the message was refused and logged by the gateway (no
        route); raises ``GatewayRefusal`` for a refusal at the end of DATA
        (logged), and anything else when it failed.
        """
        content, verdict, header = mail_authentication.authenticate_message(
            content,
            client_address,
            helo,
            mail_from,
            self.authserv_id,
            self.auth_settings(),
        )
        raw = stamp(mail_from, rcpt_tos, content)
        started = time.time()
        registry = self._fresh_registry()
        try:
            with registry.cursor() as cr:
                # the mailgate answers the sending server: outgoing mail (notifications)
                # is left to the mail queue cron instead of being sent here
                context = {
                    "mail_notify_force_send": False,
                    CONTEXT_SMTP: True,
                    CONTEXT_TRUSTED_AUTHSERV_ID: self.authserv_id,
                    CONTEXT_AUTH_FACTS: (
                        header,
                        auth_policy.facts_from_results(verdict, header),
                    ),
                    CONTEXT_CLIENT: client_address or False,
                }
                env = api.Environment(cr, SUPERUSER_ID, context)
                retrying(partial(env["mail.thread"].message_process, False, raw), env)
            return True
        except ValueError:
            # no route: message_route logged it in a transaction of its own
            # (refused after DATA: accepted and logged, never bounced)
            if self._routing_logged(raw, started):
                return True
            raise

    def _routing_logged(self, raw, since):
        message_id = (
            BytesHeaderParser(policy=compat32).parsebytes(raw).get("Message-Id") or ""
        ).strip()
        if not message_id:
            return False
        with self.registry.cursor() as cr:
            cr.execute(
                """SELECT 1 FROM mail_gateway_log WHERE message_id = %s AND reason IN %s
                   AND date >= (to_timestamp(%s) at time zone 'UTC') - interval
                       '1 second' LIMIT 1""",
                [message_id, ROUTING_LOG_REASONS, since],
            )
            return bool(cr.fetchone())

    def write_refusals(self, pending):
        """The refusal log's entries in one transaction (refusal_log.RefusalLog).

        Another mailgate on the database (a second MX host) may add to the
        same entry at the same moment: the serialization failure is retried
        as Odoo's RPC layer does, instead of failing the whole batch (which a
        mailgate's last write, when it stops, would lose)."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            retrying(partial(self._write_refusals, env, pending), env)

    @staticmethod
    def _write_refusals(env, pending):
        env["mail.gateway.log"]._log_rcpt_refusals(
            [
                (reason, sender, recipient, client, details, count)
                for (reason, sender, recipient, client), (
                    count,
                    details,
                ) in pending.items()
            ]
        )

    def stop(self):
        self.delivery_executor.shutdown(wait=True)
        self.executor.shutdown(wait=True)
        # the workers are gone: their kept cursors can be closed from here
        with self._rcpt_cursors_lock:
            cursors, self.kept_cursors, self.rcpt_cursors = (
                self.kept_cursors,
                set(),
                set(),
            )
        for cr in cursors:
            close_quietly(cr)
