# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The addon's one DNS layer (pure Python, no ORM).

Lookups for mail authentication (SPF, DKIM, DMARC, ARC) and, later, the
deliverability checks go through :class:`MailResolver`:

* the nameservers of the system parameter ``mail.dns.nameservers``
  (:func:`parse_nameservers`), or the machine's resolver when it is empty;
* a thread-safe cache that honours TTLs: a positive answer is kept for the
  smallest TTL of its CNAME chain and records, NXDOMAIN/NODATA for the
  negative TTL of RFC 2308 (the smaller of the SOA's TTL and its MINIMUM),
  both capped; a negative answer without an SOA is not cached (RFC 2308 §5);
  concurrent lookups of one name and type wait for the one query in flight;
* a :class:`Deadline`, the time budget of one message that every lookup
  respects: once it is spent, a lookup not in the cache answers ``timeout``
  at once;
* results as data (:class:`DnsResult`): a timeout or a server failure is a
  status of its own (``timeout``/``servfail``: a temporary error for the
  callers), never "no record" and never a hang;
* a count of the queries really sent (UDP and TCP retries included), per
  name and type;
* :class:`RunResolver`, the view of one piece of work that asks many names
  (one Check DNS): a timeout or a server failure is remembered until the
  work ends (a zone that does not answer costs its lookup time once, not
  once a sending path), and a lookup refused because the deadline was spent
  says so (``asked`` false): nothing was sent for that name.

dnspython does the wire work: ``Resolver.resolve`` follows CNAMEs within
an answer, retries over TCP when an answer is truncated, tries each
nameserver in turn and gives up after the lifetime we pass. Its own cache is
not used: it caches a negative answer without an SOA for 300 s, knows no
cap and cannot tell a cache hit from a query once the budget is spent.

Limits found in the libraries:

* dnspython: the per-attempt timeout (``Resolver.timeout``) and the total
  lifetime are separate; a nameserver that times out is retried until the
  lifetime ends, one that answers SERVFAIL/REFUSED is dropped for that
  lookup. It sleeps its retry back-off before checking the lifetime, so a
  lookup of a silent server may end one back-off late (0.1-0.4 s with the
  defaults here, never more than 2 s). It sends no EDNS by default
  (512-byte UDP answers), so EDNS0 with a 1232-byte payload is switched on
  here (a 2048-bit DKIM key record is about 410 bytes of answer data).
* dkimpy calls ``dnsfunc(name, timeout=5)`` with a ``bytes`` name ending in
  a dot and expects the first TXT record's strings joined, or ``None``. It
  turns :class:`dkim.DnsTimeoutError` into a failed verification (``False``)
  like a bad signature, so :class:`DkimTxtLookup` keeps every result it
  fetched: the caller tells a temporary DNS error from a failure with it.
  ``arc_verify`` ignores its own ``timeout`` argument (always 5 s); the
  deadline bounds it here.
"""

import collections
import dataclasses
import ipaddress
import math
import threading
import time

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.nameserver
import dns.rcode
import dns.rdatatype
import dns.resolver

#: the answer holds records
OK = "ok"
#: the name does not exist
NXDOMAIN = "nxdomain"
#: the name exists, without records of that type
NODATA = "nodata"
#: no answer within the lookup's time (or the deadline was spent)
TIMEOUT = "timeout"
#: the nameservers failed (SERVFAIL, REFUSED, malformed answers, none configured)
SERVFAIL = "servfail"
#: not a valid DNS name (empty or over-long label): nothing was sent
BAD_NAME = "bad_name"
#: statuses of a temporary failure: "temperror" for the callers, never "no record"
TEMPORARY_STATUSES = frozenset({TIMEOUT, SERVFAIL})

DEFAULT_PORT = 53
#: seconds one lookup may take in all (retries and nameservers included)
DEFAULT_QUERY_TIMEOUT = 3.0
#: seconds one attempt at one nameserver may take
DEFAULT_ATTEMPT_TIMEOUT = 1.0
#: caps of the cache, in seconds
DEFAULT_MAX_TTL = 3600
DEFAULT_MAX_NEGATIVE_TTL = 900
DEFAULT_CACHE_SIZE = 20000
#: EDNS0 payload: fits unfragmented in any path (DNS flag day 2020)
EDNS_PAYLOAD = 1232


class NameserverError(ValueError):
    """An item of ``mail.dns.nameservers`` is invalid.

    ``item`` is the offending item as written; ``code`` says what is wrong
    (``address``: not an IP address, ``port``: not a port 1-65535). The
    message names the item; the model layer words it for people.
    """

    def __init__(self, item, code):
        self.item = item
        self.code = code
        super().__init__(f"invalid DNS nameserver {item!r} ({code})")


def parse_nameservers(value):
    """Parse ``mail.dns.nameservers``: ``host:port, host, [v6]:port, v6, …``.

    Hosts are IP addresses (a resolver needs no resolver); the port defaults
    to 53; an IPv6 address with a port is bracketed. Returns a tuple of
    ``(address, port)``, duplicates dropped, in the order given; an empty
    value gives ``()``, which stands for the machine's resolver. Raises
    :class:`NameserverError` (a ``ValueError``) naming the bad item.
    """
    servers = []
    for raw_item in (value or "").split(","):
        item = raw_item.strip()
        if not item:
            continue
        host, port = _split_host_port(item)
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            raise NameserverError(item, "address") from None
        if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
            raise NameserverError(item, "address")
        server = (str(address), port)
        if server not in servers:
            servers.append(server)
    return tuple(servers)


def _split_host_port(item):
    if item.startswith("["):
        host, bracket, rest = item[1:].partition("]")
        if not bracket:
            raise NameserverError(item, "address")
        if not rest:
            return host, DEFAULT_PORT
        if not rest.startswith(":"):
            raise NameserverError(item, "port")
        return host, _port(item, rest[1:])
    if item.count(":") > 1:
        # a bare IPv6 address: its port, if any, needs brackets
        return item, DEFAULT_PORT
    host, colon, port = item.partition(":")
    return host, _port(item, port) if colon else DEFAULT_PORT


def _port(item, text):
    if not text.isascii() or not text.isdigit() or not 0 < int(text) < 65536:
        raise NameserverError(item, "port")
    return int(text)


@dataclasses.dataclass(frozen=True)
class Deadline:
    """The time budget of one piece of work (e.g. one message), on the monotonic clock.

    ``Deadline.after(5)`` is spent five seconds from now; every lookup given
    it stops waiting then. ``Deadline.after(math.inf)`` never expires.
    """

    expires_at: float

    @classmethod
    def after(cls, seconds):
        return cls(time.monotonic() + seconds)

    def remaining(self):
        """Seconds left, never negative."""
        return max(0.0, self.expires_at - time.monotonic())

    @property
    def expired(self):
        return self.remaining() <= 0.0


NO_DEADLINE = Deadline(math.inf)


@dataclasses.dataclass(frozen=True)
class DnsResult:
    """The outcome of one lookup.

    ``name`` is the name asked for (lower case, no final dot), ``rdtype`` its
    type (``"TXT"``). ``records``: for TXT each record's strings joined, as
    ``bytes``; for other types each record's presentation text (``"10
    mx.example.com."`` for MX, ``"192.0.2.1"`` for A), in the answer's order
    (servers may shuffle it). ``ttl``: seconds the answer is cached for (0:
    not cached). ``strings``: for TXT, each record's character-strings as
    published (``records`` joins them, as SPF and DKIM read them).
    ``asked``: false for a ``timeout`` answered without a query, because the
    deadline was spent before the question could be sent.
    """

    name: str
    rdtype: str
    status: str
    records: tuple = ()
    ttl: int = 0
    strings: tuple = ()
    asked: bool = True

    @property
    def temporary(self):
        """A timeout or a server failure: the answer is unknown, try later."""
        return self.status in TEMPORARY_STATUSES

    @property
    def found(self):
        return self.status == OK and bool(self.records)


class _CountingNameserver(dns.nameserver.Do53Nameserver):
    """A UDP/TCP nameserver that counts the queries sent through it."""

    def __init__(self, address, port, counter):
        super().__init__(address, port)
        self._counter = counter

    def query(self, request, *args, **kwargs):  # pylint: disable=arguments-differ
        question = request.question[0]
        self._counter.add(
            question.name.to_text(omit_final_dot=True).lower(),
            dns.rdatatype.to_text(question.rdtype),
        )
        return super().query(request, *args, **kwargs)


class _QueryCounter:
    def __init__(self):
        self._lock = threading.Lock()
        self._counts = collections.Counter()

    def add(self, name, rdtype):
        with self._lock:
            self._counts[(name, rdtype)] += 1

    def get(self, name, rdtype):
        with self._lock:
            return self._counts[(name, rdtype)]

    def total(self):
        with self._lock:
            return sum(self._counts.values())


class _InFlight:
    """A lookup being sent by one thread; the others wait for its result."""

    __slots__ = ("done", "result")

    def __init__(self):
        self.done = threading.Event()
        self.result = None


class MailResolver:
    """Cached, deadline-bound DNS lookups on dnspython (see the module docstring).

    ``nameservers``: ``(address, port)`` pairs as :func:`parse_nameservers`
    returns them; empty: the machine's resolver (``/etc/resolv.conf``).
    ``query_timeout``: seconds one lookup may take in all; ``attempt_timeout``:
    seconds per attempt at one nameserver. ``clock``: the cache's clock
    (monotonic seconds; tests pass a fake one).
    Thread-safe: one instance serves all threads of a process
    (:func:`shared_resolver`).
    """

    def __init__(
        self,
        nameservers=(),
        *,
        query_timeout=DEFAULT_QUERY_TIMEOUT,
        attempt_timeout=DEFAULT_ATTEMPT_TIMEOUT,
        max_ttl=DEFAULT_MAX_TTL,
        max_negative_ttl=DEFAULT_MAX_NEGATIVE_TTL,
        cache_size=DEFAULT_CACHE_SIZE,
        clock=time.monotonic,
    ):
        self.nameservers = tuple(nameservers)
        self.query_timeout = query_timeout
        self.max_ttl = max_ttl
        self.max_negative_ttl = max_negative_ttl
        self.cache_size = cache_size
        self._clock = clock
        self._counter = _QueryCounter()
        self._lock = threading.Lock()
        self._cache = (
            collections.OrderedDict()
        )  # (name, rdtype) -> (expires_at, DnsResult)
        self._in_flight = {}
        self._resolver = self._make_resolver(attempt_timeout)

    def _make_resolver(self, attempt_timeout):
        servers = self.nameservers
        resolver = dns.resolver.Resolver(configure=False)
        if not servers:
            try:
                system = dns.resolver.Resolver(configure=True)
            except (dns.resolver.NoResolverConfiguration, OSError):
                system = None  # no nameserver: every lookup answers servfail
            if system is not None:
                servers = tuple(
                    (ns, system.nameserver_ports.get(ns, system.port))
                    for ns in system.nameservers
                    if isinstance(ns, str)
                )
        resolver.nameservers = [
            _CountingNameserver(address, port, self._counter)
            for address, port in servers
        ]
        resolver.timeout = attempt_timeout
        resolver.lifetime = self.query_timeout
        resolver.use_edns(0, 0, EDNS_PAYLOAD)
        resolver.cache = None
        return resolver

    # ------------------------------------------------------------------
    # counters
    # ------------------------------------------------------------------

    @property
    def queries_sent(self):
        """Queries sent to nameservers since this resolver was made (TCP retries
        included)."""
        return self._counter.total()

    def query_count(self, name, rdtype):
        """Queries sent for one name and type."""
        return self._counter.get(_key_name(name), rdtype.upper())

    def clear_cache(self):
        with self._lock:
            self._cache.clear()

    # ------------------------------------------------------------------
    # lookups
    # ------------------------------------------------------------------

    def resolve(self, name, rdtype, deadline=NO_DEADLINE):
        """Look ``name`` up (``str``, or ``bytes`` as dkimpy passes it); return a
        :class:`DnsResult`.

        A cached answer is returned even when the deadline is spent (it costs
        no time); otherwise a spent deadline answers ``timeout`` at once.
        """
        rdtype = rdtype.upper()
        try:
            if isinstance(name, bytes):
                name = name.decode("utf-8")
            qname = dns.name.from_text(name)
            key_name = qname.to_text(omit_final_dot=True).lower()
        except (dns.exception.DNSException, UnicodeError, ValueError):
            return DnsResult(_key_name(name), rdtype, BAD_NAME)
        key = (key_name, rdtype)
        while True:
            with self._lock:
                cached = self._cache_get(key)
                if cached is not None:
                    return cached
                if deadline.expired:
                    return DnsResult(key_name, rdtype, TIMEOUT, asked=False)
                pending = self._in_flight.get(key)
                owner = pending is None
                if owner:
                    pending = self._in_flight[key] = _InFlight()
            if owner:
                break
            # another thread is asking the same question: wait for its answer
            if not pending.done.wait(min(self.query_timeout, deadline.remaining())):
                return DnsResult(key_name, rdtype, TIMEOUT)
            if not pending.result.temporary or deadline.expired:
                return pending.result
            # its budget ran out, ours may not have: ask ourselves
        result = None
        try:
            result = self._query(qname, key_name, rdtype, deadline)
        finally:
            with self._lock:
                if result is not None and result.ttl > 0:
                    self._cache_put(key, result)
                del self._in_flight[key]
            pending.result = result or DnsResult(key_name, rdtype, SERVFAIL)
            pending.done.set()
        return result

    def _query(self, qname, key_name, rdtype, deadline):
        # a lifetime spent meanwhile: dnspython raises LifetimeTimeout before sending
        lifetime = min(self.query_timeout, deadline.remaining())
        try:
            answer = self._resolver.resolve(
                qname, rdtype, raise_on_no_answer=False, lifetime=lifetime, search=False
            )
        except dns.resolver.LifetimeTimeout as exc:
            # spent before anything was sent (dnspython checks the lifetime
            # first), or no answer to what was sent
            return DnsResult(
                key_name, rdtype, TIMEOUT, asked=bool(exc.kwargs.get("errors"))
            )
        except dns.resolver.NXDOMAIN as exc:
            responses = exc.responses()
            ttl = self._negative_ttl(responses[qname]) if qname in responses else 0
            return DnsResult(key_name, rdtype, NXDOMAIN, ttl=ttl)
        except dns.exception.Timeout:
            return DnsResult(key_name, rdtype, TIMEOUT)
        except dns.exception.DNSException:
            # NoNameservers (SERVFAIL, REFUSED, broken answers), YXDOMAIN, ...
            return DnsResult(key_name, rdtype, SERVFAIL)
        if answer.rrset is None:
            return DnsResult(
                key_name, rdtype, NODATA, ttl=self._negative_ttl(answer.response)
            )
        strings = ()
        if answer.rrset.rdtype == dns.rdatatype.TXT:
            strings = tuple(tuple(rdata.strings) for rdata in answer.rrset)
            records = tuple(b"".join(parts) for parts in strings)
        else:
            records = tuple(rdata.to_text() for rdata in answer.rrset)
        ttl = min(answer.chaining_result.minimum_ttl, self.max_ttl)
        return DnsResult(key_name, rdtype, OK, records, max(0, ttl), strings)

    def _negative_ttl(self, response):
        # RFC 2308 §5: no SOA in the authority section, no negative caching
        # (dnspython would use 300 s)
        if not any(rrset.rdtype == dns.rdatatype.SOA for rrset in response.authority):
            return 0
        try:
            ttl = response.resolve_chaining().minimum_ttl
        except dns.exception.DNSException:
            return 0
        return max(0, min(ttl, self.max_negative_ttl))

    def _cache_get(self, key):
        entry = self._cache.get(key)
        if entry is None:
            return None
        expires_at, result = entry
        if self._clock() >= expires_at:
            del self._cache[key]
            return None
        self._cache.move_to_end(key)
        return result

    def _cache_put(self, key, result):
        self._cache[key] = (self._clock() + result.ttl, result)
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def dkim_dnsfunc(self, deadline):
        """A ``dnsfunc`` for dkimpy bound to this resolver and ``deadline``."""
        return DkimTxtLookup(self, deadline)


class RunResolver:
    """A :class:`MailResolver` as one piece of work that asks many names sees it
    (one Check DNS run): the shared cache below it, and the temporary failures
    (timeouts and server failures of questions really sent) kept until the
    work ends, so that a zone that does not answer costs its lookup time once.
    Negative answers are cached below by their SOA minimum (RFC 2308); a
    failure has no TTL, so it is kept for the run only (RFC 2308 §7.1 allows
    up to five minutes). Thread-safe like the resolver."""

    def __init__(self, resolver):
        self.resolver = resolver
        self._lock = threading.Lock()
        self._failures = {}

    def resolve(self, name, rdtype, deadline=NO_DEADLINE):
        key = (_key_name(name), rdtype.upper())
        with self._lock:
            failed = self._failures.get(key)
        if failed is not None:
            return failed
        result = self.resolver.resolve(name, rdtype, deadline)
        if result.temporary and result.asked:
            with self._lock:
                self._failures.setdefault(key, result)
        return result

    @property
    def failures(self):
        """``{(name, rdtype): DnsResult}`` of the failures kept."""
        with self._lock:
            return dict(self._failures)

    @property
    def queries_sent(self):
        return self.resolver.queries_sent

    def query_count(self, name, rdtype):
        return self.resolver.query_count(name, rdtype)

    def dkim_dnsfunc(self, deadline):
        return DkimTxtLookup(self, deadline)


def _key_name(name):
    if isinstance(name, bytes):
        name = name.decode("utf-8", "replace")
    return name.rstrip(".").lower()


class DkimTxtLookup:
    """dkimpy's ``dnsfunc(name, timeout=5)``: the first TXT record as ``bytes``, or
    ``None``.

    As dkimpy's own lookup: with several TXT records at a key's name, the
    first in the answer is the key (RFC 6376 §3.6.2.2 lets a verifier pick).

    A temporary DNS error raises :class:`dkim.DnsTimeoutError`, as dkimpy
    expects; dkimpy reports it as a failed verification, so every result is
    also kept in ``results`` (name without final dot -> :class:`DnsResult`)
    for the caller to tell "temperror" from "fail". dkimpy's ``timeout`` is
    ignored: the resolver's lookup timeout and the deadline bound the time.
    One instance serves one verification in one thread.
    """

    def __init__(self, resolver, deadline):
        self.resolver = resolver
        self.deadline = deadline
        self.results = {}

    def __call__(self, name, timeout=5):  # pylint: disable=unused-argument
        result = self.resolver.resolve(name, "TXT", self.deadline)
        self.results[_key_name(name)] = result
        if result.temporary:
            import dkim  # only dkimpy calls this: it is loaded already

            raise dkim.DnsTimeoutError(f"{result.name}: {result.status}")
        if result.status != OK or not result.records:
            return None
        return result.records[0]

    def result_for(self, name):
        """The result fetched for ``name`` (``str`` or ``bytes``), or ``None`` when it
        was not looked up."""
        return self.results.get(_key_name(name))


_SHARED = {}
_SHARED_LOCK = threading.Lock()


def shared_resolver(nameservers=()):
    """The process's one :class:`MailResolver` for a nameserver configuration.

    ``nameservers``: the text of ``mail.dns.nameservers`` or the tuple
    :func:`parse_nameservers` returns; empty: the machine's resolver. Threads
    asking for the same configuration share one resolver and its cache.
    """
    if isinstance(nameservers, str):
        nameservers = parse_nameservers(nameservers)
    key = tuple(nameservers)
    with _SHARED_LOCK:
        resolver = _SHARED.get(key)
        if resolver is None:
            resolver = _SHARED[key] = MailResolver(key)
        return resolver
