# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Refusals during the SMTP dialogue, folded in memory and written to the
gateway log once per interval: a dictionary attack or a client hammering a
limit costs a counter increment per attempt, never a write or a log line.

The writing itself (one transaction for all entries) is the caller's
``write(pending)``: this module knows no database.
"""

import collections
import logging
import threading
import time

_logger = logging.getLogger(__name__)

# distinct entries kept between two writes: beyond it, a flood of distinct
# senders, recipients or clients is counted, not kept (memory stays bounded)
MAX_PENDING = 10000
# refusals by the client limits are summed up in the server log at most once
# per this many seconds (the gateway log has each of them)
SUMMARY_INTERVAL = 60.0


class RefusalLog:
    """``note()`` from any thread; a thread of its own calls ``write`` with
    ``{(reason, sender, recipient, client): (count, details)}`` once per
    ``interval`` when something was noted. What could not be written (the
    database away) is kept and added to the next write."""

    def __init__(
        self, write, interval, summarized=(), transient_errors=(), clock=time.monotonic
    ):
        self.write = write
        self.interval = interval
        self.summarized = frozenset(summarized)
        self.transient_errors = tuple(transient_errors)
        self.clock = clock
        self._pending = collections.OrderedDict()
        self._dropped = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        self._summary = collections.Counter()
        self._summary_clients = collections.defaultdict(set)
        self._summary_since = clock()

    def note(self, reason, sender, recipient, client, details):
        key = (reason, sender or "", recipient or "", client or "")
        with self._lock:
            entry = self._pending.get(key)
            if entry is None and len(self._pending) >= MAX_PENDING:
                self._dropped += 1
                return
            self._pending[key] = ((entry[0] if entry else 0) + 1, details)

    def flush(self):
        """Write what was noted since the last flush: the number of entries written."""
        with self._lock:
            pending, self._pending = self._pending, collections.OrderedDict()
            dropped, self._dropped = self._dropped, 0
        if dropped:
            _logger.warning(
                "mailgate: %s refusals not logged: more than %s distinct ones within "
                "%s s",
                dropped,
                MAX_PENDING,
                self.interval,
            )
        written = self._write(pending) if pending else 0
        self._summarize()
        return written

    def _write(self, pending):
        try:
            self.write(pending)
        except self.transient_errors as error:
            # the database is away: everything is kept for the next try
            first = (str(error).strip().splitlines() or [type(error).__name__])[0]
            _logger.warning(
                "mailgate: could not log %s refusals (kept for the next try): %s",
                len(pending),
                first,
            )
            for key, value in pending.items():
                self._keep(key, value)
            return 0
        except Exception:
            # an entry the log cannot take: written one by one, so that it
            # alone is dropped instead of blocking every later refusal
            _logger.exception(
                "mailgate: could not log %s refusals at once, writing them one by one",
                len(pending),
            )
            return self._write_one_by_one(pending)
        for (reason, _sender, _recipient, client), (count, _details) in pending.items():
            if reason in self.summarized:
                self._summary[reason] += count
                clients = self._summary_clients[reason]
                if len(clients) < MAX_PENDING:
                    clients.add(client)
        return len(pending)

    def _write_one_by_one(self, pending):
        written = 0
        for key, value in pending.items():
            try:
                self.write({key: value})
                written += 1
            except self.transient_errors:
                self._keep(key, value)
            except Exception:
                _logger.exception(
                    "mailgate: refusal %r dropped: the gateway log cannot store it",
                    key[:2],
                )
        return written

    def _keep(self, key, value):
        """A refusal that could not be written, added to the next write."""
        count, details = value
        with self._lock:
            entry = self._pending.get(key)
            self._pending[key] = ((entry[0] if entry else 0) + count, details)

    def _summarize(self, final=False):
        now = self.clock()
        if not self._summary or (
            not final and now - self._summary_since < SUMMARY_INTERVAL
        ):
            return
        parts = [
            f"{reason} {count} from {len(self._summary_clients[reason])} clients"
            for reason, count in sorted(self._summary.items())
        ]
        _logger.info(
            "mailgate: refused by limits in the last %.0f s: %s",
            now - self._summary_since,
            ", ".join(parts),
        )
        self._summary.clear()
        self._summary_clients.clear()
        self._summary_since = now

    def start(self):
        def loop():
            while not self._stop.wait(self.interval):
                self.flush()

        self._thread = threading.Thread(target=loop, name="mailgate-log", daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
        self.flush()
        self._summarize(final=True)
