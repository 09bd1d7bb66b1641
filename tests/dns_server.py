# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""A loopback DNS server for tests: answers from a zone held in a dict.

Usage::

    zone = {
        ("example.test", "TXT"): [txt("v=spf1 ip4:127.0.0.2 -all")],  # default TTL
        ("mail.example.test", "A"): (60, ["127.0.0.2"]),                 # TTL 60 s
        ("www.example.test", "CNAME"): ["mail.example.test."],
    }
    with DnsTestServer(zone, silent={"slow.example.test"}) as server:
        icp.set_param("mail.dns.nameservers", server.nameservers)  # "127.0.0.1:40537"
        ...
        assert server.query_count("example.test", "TXT") == 1

It answers every question from the zone as an authoritative server
(a recursive resolver's view, so a stub resolver gets whole CNAME chains):

* a zone key is ``(name, type)`` (case-insensitive, no final dot); a value
  is a list of rdata texts in zone-file syntax (names without a final dot are
  taken as absolute), or ``(ttl, [texts])``; :func:`txt` quotes and splits a
  TXT value;
* a CNAME is followed within the zone;
* a name that has no records of the type asked for but exists (it or a name
  below it has records) gets NODATA, any other NXDOMAIN; both carry an SOA in
  the authority section: the zone's own for the closest enclosing name, else
  one at the root whose TTL and MINIMUM are ``negative_ttl``;
* names in ``silent`` are never answered (a timeout for the client), names
  in ``servfail`` get SERVFAIL; ``silent=True`` answers nothing at all (a
  nameserver that is down); ``nxdomain_all=True`` answers NXDOMAIN to every
  question, the root's included (a broken resolver with no upstream);
* the root exists (NODATA) as soon as the zone holds a name, as for any
  working resolver;
* UDP answers follow EDNS0 (the client's payload size, else 512 bytes); an
  answer too big gets TC=1 and the client retries over TCP on the same port;
* every question received (UDP or TCP) is counted per name and type.

Each datagram and TCP connection is served in its own thread.
Loopback only: ``host`` must be an address in 127.0.0.0/8 or ``::1``.
"""

import collections
import ipaddress
import socket
import socketserver
import threading

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset

DEFAULT_TTL = 300
MAX_CNAME_CHAIN = 8


def txt(value):
    """TXT rdata text for ``value`` (``str`` or ``bytes``): quoted, in strings of at
    most 255 bytes."""
    if isinstance(value, str):
        value = value.encode()
    chunks = [value[i : i + 255] for i in range(0, len(value), 255)] or [b""]
    return " ".join(
        '"' + "".join(_txt_char(byte) for byte in chunk) + '"' for chunk in chunks
    )


def _txt_char(byte):
    if byte in b'"\\':
        return "\\" + chr(byte)
    if 0x20 <= byte < 0x7F:
        return chr(byte)
    return f"\\{byte:03d}"


def _name(name):
    return name.rstrip(".").lower()


class DnsTestServer:
    """An authoritative DNS server on a loopback address and a free port (see the module
    docstring).

    ``nameservers`` is the value for ``mail.dns.nameservers``. Start and stop
    it with ``with``, or ``start()``/``stop()``.
    """

    def __init__(
        self,
        zone,
        *,
        host="127.0.0.1",
        ttl=DEFAULT_TTL,
        negative_ttl=60,
        silent=(),
        servfail=(),
        nxdomain_all=False,
    ):
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"{host} is not a loopback address")
        self.host = host
        self.port = None
        self.default_ttl = ttl
        self.negative_ttl = negative_ttl
        self.silent_all = silent is True
        self.silent = set() if silent is True else {_name(name) for name in silent}
        self.nxdomain_all = nxdomain_all
        self.servfail = {_name(name) for name in servfail}
        self._lock = threading.Lock()
        self._zone = {}
        self._counts = collections.Counter()
        self._servers = []
        self._threads = []
        self.update(zone)

    # ------------------------------------------------------------------
    # zone and counters
    # ------------------------------------------------------------------

    def update(self, zone):
        """Add or replace records: ``{(name, type): texts or (ttl, texts)}``; an empty
        list removes them."""
        with self._lock:
            for (name, rdtype), value in zone.items():
                ttl, texts = (
                    value if isinstance(value, tuple) else (self.default_ttl, value)
                )
                key = (_name(name), rdtype.upper())
                if texts:
                    self._zone[key] = (ttl, list(texts))
                else:
                    self._zone.pop(key, None)

    def records(self, name, rdtype):
        """The rdata texts held for ``name`` and ``rdtype`` (``[]`` for none)."""
        with self._lock:
            found = self._zone.get((_name(name), rdtype.upper()))
            return list(found[1]) if found else []

    def query_count(self, name, rdtype):
        """Questions received for ``name`` and ``rdtype``."""
        with self._lock:
            return self._counts[(_name(name), rdtype.upper())]

    @property
    def total_queries(self):
        with self._lock:
            return sum(self._counts.values())

    def reset_counts(self):
        with self._lock:
            self._counts.clear()

    @property
    def nameservers(self):
        """``host:port`` (``[v6]:port``) for ``mail.dns.nameservers``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    # ------------------------------------------------------------------
    # start / stop
    # ------------------------------------------------------------------

    def start(self):
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        for _attempt in range(20):
            udp = _UdpServer(family, (self.host, 0), self)
            port = udp.server_address[1]
            try:
                tcp = _TcpServer(family, (self.host, port), self)
            except OSError:
                udp.server_close()  # the TCP port is taken: another pair
                continue
            break
        else:
            raise OSError(f"no free UDP+TCP port pair on {self.host}")
        self.port = port
        self._servers = [udp, tcp]
        for server in self._servers:
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self):
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(5)
        self._servers, self._threads = [], []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    # ------------------------------------------------------------------
    # answers
    # ------------------------------------------------------------------

    def answer(self, query):
        """The response to ``query`` (a :class:`dns.message.Message`), or ``None`` to
        stay silent."""
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA | dns.flags.RA
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response
        question = query.question[0]
        name = _name(question.name.to_text())
        rdtype = dns.rdatatype.to_text(question.rdtype)
        with self._lock:
            self._counts[(name, rdtype)] += 1
            if name in self.silent or self.silent_all:
                return None
            if self.nxdomain_all:
                response.set_rcode(dns.rcode.NXDOMAIN)
                response.authority.append(self._soa(""))
                return response
            if name in self.servfail:
                response.set_rcode(dns.rcode.SERVFAIL)
                return response
            self._fill(response, name, rdtype)
        return response

    def _fill(self, response, name, rdtype):
        for _link in range(MAX_CNAME_CHAIN):
            found = self._zone.get((name, rdtype))
            if found:
                response.answer.append(self._rrset(name, rdtype, *found))
                return
            cname = self._zone.get((name, "CNAME")) if rdtype != "CNAME" else None
            if not cname:
                break
            rrset = self._rrset(name, "CNAME", *cname)
            response.answer.append(rrset)
            name = _name(rrset[0].target.to_text())
        # every name is below the root
        exists = any(
            key_name == name or key_name.endswith("." + name) or not name
            for key_name, _type in self._zone
        )
        if not exists:
            response.set_rcode(dns.rcode.NXDOMAIN)
        response.authority.append(self._soa(name))

    def _rrset(self, name, rdtype, ttl, texts):
        return dns.rrset.from_text_list(
            name + ".", ttl, "IN", rdtype, texts, origin=dns.name.root, relativize=False
        )

    def _soa(self, name):
        labels = name.split(".")
        for i in range(len(labels)):
            owner = ".".join(labels[i:])
            found = self._zone.get((owner, "SOA"))
            if found:
                return self._rrset(owner, "SOA", *found)
        ttl = self.negative_ttl
        return dns.rrset.from_text(
            ".",
            ttl,
            "IN",
            "SOA",
            f"ns.invalid. hostmaster.invalid. 1 3600 600 86400 {ttl}",
        )


class _UdpHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        try:
            query = dns.message.from_wire(data)
        except dns.exception.DNSException:
            return
        response = self.server.dns.answer(query)
        if response is None:
            return
        limit = max(512, query.payload) if query.edns >= 0 else 512
        try:
            wire = response.to_wire(max_size=limit)
        except dns.exception.TooBig:
            truncated = dns.message.make_response(query)
            truncated.flags |= dns.flags.AA | dns.flags.RA | dns.flags.TC
            wire = truncated.to_wire(max_size=limit)
        sock.sendto(wire, self.client_address)


class _TcpHandler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        while True:
            try:
                query, _received = dns.query.receive_tcp(sock)
            except (EOFError, OSError, dns.exception.DNSException):
                return
            response = self.server.dns.answer(query)
            if response is not None:
                dns.query.send_tcp(sock, response.to_wire())


class _Listener:
    """What the UDP and the TCP server share: threads that do not hold up
    the stop, the address family, and the :class:`DnsTestServer` whose
    zone they answer from (``handler_class`` answers a request)."""

    daemon_threads = True
    block_on_close = False
    handler_class = None

    def __init__(self, family, address, dns_server):
        self.address_family = family
        self.dns = dns_server
        super().__init__(address, self.handler_class)


class _UdpServer(_Listener, socketserver.ThreadingUDPServer):
    handler_class = _UdpHandler


class _TcpServer(_Listener, socketserver.ThreadingTCPServer):
    handler_class = _TcpHandler
