# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Per-client accounting of the mailgate: what Postfix's anvil, error
counters and per-request deadlines do for a public MX, as plain data.

No asyncio, no Odoo: the SMTP server (cli/smtp_handler.py) asks these
objects, always from its event loop thread (so nothing here locks), and
turns their answers into replies; the tests drive them with their own clock.

A client is an IPv4 address or an IPv6 /64: one host (or one customer of a
provider) owns a whole /64, so counting single IPv6 addresses would give it
2**64 fresh budgets.
"""

import ipaddress
from dataclasses import dataclass

IPV6_CLIENT_PREFIX = 64

# reason codes of the gateway log for refusals by a limit
# sessions, connection, message or recipient rate of one client, or the server full
CLIENT_LIMIT = "client_limit"
ERROR_LIMIT = "error_limit"  # too many errors, junk or unknown commands in one session
PREGREET = "pregreet"  # the client talked before the greeting
TIMEOUT = "timeout"  # a command or the DATA transfer missed its deadline
LIMIT_REASONS = (CLIENT_LIMIT, ERROR_LIMIT, PREGREET, TIMEOUT)


def host_address(host):
    """An ``ipaddress`` address for a peer's host string (zone and IPv4
    mapping removed), or None for what is no IP address (a Unix socket)."""
    try:
        address = ipaddress.ip_address(str(host or "").split("%")[0])
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def client_key(host):
    """The unit a limit counts: the IPv4 address, or the IPv6 /64 network."""
    address = host_address(host)
    if address is None:
        return str(host or "")
    if address.version == 6:
        return str(
            ipaddress.ip_network(f"{address}/{IPV6_CLIENT_PREFIX}", strict=False)
        )
    return str(address)


def in_networks(host, networks):
    address = host_address(host)
    return address is not None and any(address in network for network in networks)


@dataclass(frozen=True)
class LimitHit:
    """A refusal decided by a limit: the gateway log's reason code, which
    limit (a code, also the key of its SMTP reply) and the limit's value."""

    reason: str
    limit: str
    value: float

    def details(self, **extra):
        return {"code": self.reason, "limit": self.limit, "value": self.value, **extra}


@dataclass
class ClientPolicy:
    """Limits per client (0: no limit; the policy's own defaults are no
    limits: the mailgate's values and their defaults are its options',
    cli/mailgate_options.OPTIONS, read by ``smtp_handler.client_policy``).
    Rates count attempts, refused ones included, in fixed windows of
    ``window`` seconds (as anvil does): a client hammering a limit stays over
    it until its window ends."""

    max_sessions: int = 0
    # sessions from which the server is under stress (Postfix's stress
    # mode): idle sessions get a short timeout; 0: never
    stress_sessions: int = 0
    client_sessions: int = 0
    connection_rate: int = 0
    message_rate: int = 0
    recipient_rate: int = 0
    # DATA bytes a second per client over all its sessions, and what it may
    # send at once; past them its connections are read more slowly (a token
    # bucket; 0: no limit)
    data_rate: int = 0
    data_burst: int = 0
    window: float = 60.0


class RateWindow:
    """Events counted in a fixed window that starts at the first event."""

    __slots__ = ("count", "start")

    def __init__(self):
        self.start, self.count = None, 0

    def add(self, now, window):
        if self.start is None or now - self.start >= window:
            self.start, self.count = now, 0
        self.count += 1
        return self.count

    def expired(self, now, window):
        return self.start is None or now - self.start >= window


class ClientRecord:
    __slots__ = (
        "connections",
        "data_stamp",
        "data_tokens",
        "messages",
        "recipients",
        "sessions",
    )

    def __init__(self):
        self.sessions = 0
        self.data_tokens, self.data_stamp = None, 0.0
        self.connections, self.messages, self.recipients = (
            RateWindow(),
            RateWindow(),
            RateWindow(),
        )

    def idle(self, now, window):
        return not self.sessions and all(
            rate.expired(now, window)
            for rate in (self.connections, self.messages, self.recipients)
        )


class ClientLimits:
    """Sessions and rates of every client, and the server's total sessions.

    ``exempt`` clients (trusted relays) count in the total only: Postfix in
    front carries many senders on one address."""

    def __init__(self, policy, clock):
        self.policy = policy
        self.clock = clock
        self.sessions = 0
        self.clients = {}
        self._swept = clock()
        self._stress_announced = False
        # memory of the DATA transfers in progress (smtp_handler), and
        # whether it was large since it was last given back
        self.data_memory = 0
        self.data_memory_high = False

    @property
    def stressed(self):
        """As many sessions as the stress threshold: many clients (a botnet
        holding idle sessions) could fill the server, none of them over its
        own limit."""
        return (
            bool(self.policy.stress_sessions)
            and self.sessions >= self.policy.stress_sessions
        )

    def stress_began(self):
        """True once when the server comes under stress (until it is no
        longer): the moment to shorten the deadlines of idle sessions."""
        if not self.stressed:
            self._stress_announced = False
            return False
        if self._stress_announced:
            return False
        self._stress_announced = True
        return True

    def _record(self, key, now):
        record = self.clients.get(key)
        if record is None:
            self._sweep(now)
            record = self.clients[key] = ClientRecord()
        return record

    def _sweep(self, now):
        # forget clients without sessions whose windows are over: memory
        # stays proportional to the clients of the last window
        if now - self._swept < self.policy.window:
            return
        self._swept = now
        for key in [
            key
            for key, record in self.clients.items()
            if record.idle(now, self.policy.window)
        ]:
            del self.clients[key]

    def open_session(self, key, exempt=False):
        """A new connection: None when it may go on (then close_session()
        must follow), else the limit it hit."""
        policy, now = self.policy, self.clock()
        if policy.max_sessions and self.sessions >= policy.max_sessions:
            return LimitHit(CLIENT_LIMIT, "server_sessions", policy.max_sessions)
        if not exempt:
            record = self._record(key, now)
            connections = record.connections.add(now, policy.window)
            if policy.connection_rate and connections > policy.connection_rate:
                return LimitHit(CLIENT_LIMIT, "connection_rate", policy.connection_rate)
            if policy.client_sessions and record.sessions >= policy.client_sessions:
                return LimitHit(CLIENT_LIMIT, "client_sessions", policy.client_sessions)
            record.sessions += 1
        self.sessions += 1
        return None

    def close_session(self, key, exempt=False):
        self.sessions -= 1
        if not self.stressed:
            self._stress_announced = False
        record = None if exempt else self.clients.get(key)
        if record is not None:
            record.sessions -= 1

    def _rate(self, key, name, limit):
        now = self.clock()
        count = getattr(self._record(key, now), name).add(now, self.policy.window)
        if limit and count > limit:
            return LimitHit(CLIENT_LIMIT, f"{name[:-1]}_rate", limit)
        return None

    def count_message(self, key):
        """A ``MAIL FROM``: None, or the message rate it exceeds."""
        return self._rate(key, "messages", self.policy.message_rate)

    def count_recipient(self, key):
        """A ``RCPT TO``: None, or the recipient rate it exceeds."""
        return self._rate(key, "recipients", self.policy.recipient_rate)

    def data_delay(self, key, size, exempt=False):
        """``size`` DATA bytes just read from ``key``: the seconds its
        connection must wait before it is read again (0: none), so that
        the client keeps to ``data_rate`` over all its sessions. One client
        sending fast cannot take the event loop from the others."""
        rate, burst = self.policy.data_rate, self.policy.data_burst or 0
        if exempt or not rate:
            return 0.0
        now = self.clock()
        record = self._record(key, now)
        tokens = burst if record.data_tokens is None else record.data_tokens
        tokens = min(burst, tokens + (now - record.data_stamp) * rate) - size
        record.data_tokens, record.data_stamp = tokens, now
        return -tokens / rate if tokens < 0 else 0.0


class ErrorTally:
    """Errors of one session (Postfix's soft and hard error limits): past
    ``soft`` every reply is delayed, at ``hard`` the session ends. A
    delivered message starts the count again ("errors without delivering
    mail")."""

    __slots__ = ("errors", "hard", "soft")

    def __init__(self, soft, hard):
        self.soft, self.hard, self.errors = soft, hard, 0

    @staticmethod
    def is_error(reply_code, refused_by_limit=False):
        # the client's mistakes are permanent refusals (unknown command,
        # syntax, sequence, unknown recipient) and what it tries past a
        # limit; any other 4xx is the server's state (database away, loop
        # deferral), not the client's fault
        return reply_code[:1] == "5" or refused_by_limit

    @property
    def delaying(self):
        return bool(self.soft) and self.errors >= self.soft

    def note(self, reply_code, refused_by_limit=False):
        """Count a reply; a LimitHit when the session must end now."""
        if not self.is_error(reply_code, refused_by_limit):
            return None
        self.errors += 1
        if self.hard and self.errors >= self.hard:
            return LimitHit(ERROR_LIMIT, "hard_errors", self.hard)
        return None

    def delivered(self):
        self.errors = 0


class DataDeadline:
    """The deadline of a DATA transfer (Postfix's smtpd_min_data_rate,
    counted from the start of DATA): after ``grace`` seconds the transfer
    must have kept ``min_rate`` bytes a second since it started, and no
    chunk may come more than ``idle`` seconds after the previous one. A
    client sending at least ``min_rate`` keeps going however large its
    message; one trickling below it is cut soon after ``grace``.
    ``min_rate`` 0 (a trusted relay): only the idle time counts."""

    __slots__ = ("deadline", "grace", "idle", "min_rate", "received_bytes", "start")

    def __init__(self, now, idle, min_rate, grace=None):
        self.start, self.idle, self.min_rate = now, idle, min_rate
        self.grace = idle if grace is None else min(grace, idle)
        self.received_bytes = 0
        self.deadline = now + (self.grace if min_rate else idle)

    def received(self, size, now):
        self.received_bytes += size
        self._update(now)

    def paused(self, seconds):
        """The server stopped reading for ``seconds`` (the client's data
        rate): they are not the client's."""
        self.start += seconds
        self.deadline += seconds

    def stress(self, now, stress_timeout):
        """The server came under stress: grace and idle time shortened."""
        self.grace = min(self.grace, stress_timeout)
        self.idle = min(self.idle, stress_timeout)
        self._update(now)
        self.deadline = min(self.deadline, now + self.idle)

    def _update(self, now):
        deadline = now + self.idle
        if self.min_rate:
            deadline = min(
                deadline,
                self.start + self.grace + self.received_bytes / self.min_rate,
            )
        self.deadline = deadline
