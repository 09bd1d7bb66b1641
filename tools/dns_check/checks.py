# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""What DNS says about a sending path: SPF, DKIM, DMARC, alignment, MX, reverse DNS
(pure Python, no ORM).

The decision layer of the deliverability checks: each ``check_*`` function
asks DNS through :class:`.mail_dns.MailResolver` (its cache, its query
counter, one :class:`.mail_dns.Deadline`) and returns :class:`Fact` values:
a status, a reason code, data (JSON values) and, where something fails and
the fix follows from the inputs, the exact record to publish in zone-file
syntax (``example.com. TXT "v=spf1 ip4:203.0.113.5 ~all"``). No wording:
the model layer turns codes and data into sentences.

Statuses: ``pass``, ``warning``, ``fail``, ``unknown``. A DNS timeout or
server failure makes a fact ``unknown`` (code ``dns_timeout`` /
``dns_servfail``, data ``name`` and ``rdtype`` of the question), never
``pass`` or ``fail``; a question the deadline left unasked is
``dns_not_asked``. Every failing fact whose fix follows from DNS proposes
the record that makes it pass (checked against the same rules before it
is offered), or says what only the admin can decide.

Rules chosen here
-----------------

* SPF (RFC 7208), as receivers evaluate it: each sending address (or both
  ends of a sending range) is evaluated by pyspf for
  ``postmaster@<domain>`` with the published record (strict, as
  :func:`.mail_auth.check_spf` and pyspf's ``check2`` do: data
  ``results``). The TXT records opening with ``v=spf1``: none is ``fail``
  (``no_record``, a record proposed from the sending addresses and
  ``includes``, ending ``~all``), two or more ``fail``
  (``multiple_records``, one record merging them). The record is then
  walked once by pyspf (lax, so that it keeps counting) for an address of
  TEST-NET-1 (``192.0.2.1``) that no record means to authorise: more than
  2 void lookups ``fail`` (``too_many_void_lookups``, proposed without the
  terms naming nothing), more than 10 DNS-querying terms ``fail``
  (``too_many_lookups``, proposed with a/mx/include replaced by the
  addresses they name today), a permanent error ``fail``
  (``split_strings`` when the TXT strings joined with a space repair it,
  ``include_no_record`` for an include of a domain without SPF record,
  else ``record_syntax``, proposed without the term), a record that
  authorises that address (``+all``, a catch-all range, an include that
  does so) ``fail`` (``allows_any``: deliberately not ``pass``, although
  receivers pass the path). An ``include:`` entered in the server's
  sending addresses is satisfied when the walk reaches that domain through
  any chain of includes and redirects (RFC 7208 §5.2, §6.1), else ``fail``
  (``include_not_reached``). All addresses ``pass``: ``pass``; any
  ``fail``/``permerror``: ``fail``, else ``softfail``/``neutral``/
  ``none``: ``warning`` (``not_authorised``), with the record proposed:
  the existing one with ``ip4:``/``ip6:`` terms for the addresses that did
  not pass inserted after ``v=spf1``. No sending address: ``unknown``
  (``no_sending_address``; a relay whose range the admin must enter).
* DKIM (RFC 6376, RFC 8301, RFC 8463): one fact per selector, at
  ``<selector>._domainkey.<domain>`` (CNAMEs followed by the resolver); the
  first TXT record is the key, as dkimpy reads it. No record: ``fail``
  (``no_key``); an empty ``p=``: ``fail`` (``key_revoked``); a key dkimpy
  cannot parse: ``fail`` (``key_format``); RSA under 1024 bits ``fail``
  (``key_too_small``), under 2048 ``warning`` (``key_weak``); RSA of 2048
  bits and more, or ed25519: ``pass``. No selector: one ``warning``
  (``no_selector``).
* DMARC, read as RFC 9989 (May 2026: the DNS tree walk, ``np``, ``psd``,
  ``t=y``; :func:`.mail_auth.discover_dmarc_9989`) and as RFC 7489 (the
  public suffix list, ``pct``; :func:`.mail_auth.discover_dmarc_7489`),
  since receivers follow one or the other: no record for either is
  ``fail`` (``no_record``: Gmail's and Yahoo's bulk-sender rules want one)
  with ``_dmarc.<org>. TXT "v=DMARC1; p=none; rua=mailto:dmarc@<org>"``;
  several records ``fail`` (``multiple_records``, the strictest valid one
  proposed), an invalid policy ``fail`` (``record_syntax``, the record with
  ``p=none`` proposed); a policy enforced for part of the mail only
  (``pct`` < 100, RFC 7489 §6.6.4) ``warning`` (``policy_sampled``, the
  record without ``pct`` proposed, ``t=y`` for ``pct=0``); ``t=y``
  ``warning`` (``policy_testing``); ``p=none`` ``warning``
  (``policy_none``); quarantine/reject ``pass`` (``policy_enforced``).
  When the readings find different policies: ``readings_differ`` with
  both, its status the worse of the two.
* Alignment, one fact per sending path (RFC 7489 §4.2, RFC 9989 §4.4):
  DMARC passes on an SPF *pass* of an aligned envelope domain or a usable
  DKIM key of an aligned signing domain, relaxed or strict as the record
  says (organisational domains by the public suffix list for RFC 7489, by
  the tree walk for RFC 9989). Something aligned that authenticates:
  ``pass``. An aligned envelope whose SPF is ``unknown`` (or an aligned
  key that could not be read), nothing else: ``unknown``
  (``spf_unknown``/``dkim_unknown``). An aligned envelope whose SPF does
  not pass: as nothing aligned, said so (``not_authenticated``). Nothing
  aligned: with a quarantine/reject policy ``fail`` (``not_aligned``, data
  ``would_be`` the policy applied), with ``p=none`` or no record
  ``warning`` (``would_be: none``); when the two readings differ,
  ``readings_differ`` with both. With the DMARC fact ``unknown``,
  ``unknown``.
* MX (RFC 5321 §5.1, RFC 7505): an MX record naming one of the expected
  hosts (case and final dot ignored) is ``pass``; MX records elsewhere
  ``fail`` (``mx_elsewhere``); a null MX ``fail`` (``null_mx``); no MX
  (NODATA: mail goes to the A record, so elsewhere too) ``fail``
  (``no_mx``; ``warning`` without an expected host); no such domain
  ``fail`` (``no_domain``); each proposing
  ``<domain>. MX 10 <first expected host>.``. No expected host: any MX
  passes (``mx_found``).
* Reverse DNS (forward-confirmed, RFC 8601 §3 "iprev"): the PTR names of
  the address, and for each the A (AAAA for IPv6) records: one of them
  the address is ``pass``; PTR names that do not resolve back ``fail``
  (``ptr_mismatch``, proposing ``<ptr name>. A <address>``); no PTR
  ``fail`` (``no_ptr``, proposing ``<reverse name>. PTR <host name>.``
  and, when the host name does not resolve to the address,
  ``<host name>. A <address>``, one record a line).

:func:`check_sending_path` composes them for one sending path under one
deadline; every lookup goes through the resolver's cache, so a second run
within the TTLs sends no query (``resolver.queries_sent`` shows it).
"""

import dataclasses
import functools
import ipaddress
import re
import smtplib
import socket
import ssl

import dns.exception
import dns.reversename

from .. import mail_auth, mail_dns
from ..mail_auth import (
    REASON_DNS_PREFIX,
    _int_tag,
    _mode_tag,
    aligned,
    parse_dmarc_record,
)

# statuses
PASS = "pass"
WARNING = "warning"
FAIL = "fail"
UNKNOWN = "unknown"
#: worst first
_SEVERITY = {UNKNOWN: 3, FAIL: 2, WARNING: 1, PASS: 0}

# checks
CHECK_SPF = "spf"
CHECK_DKIM = "dkim"
CHECK_DMARC = "dmarc"
CHECK_ALIGNMENT = "alignment"
CHECK_MX = "mx"
CHECK_REVERSE_DNS = "reverse_dns"

# codes (dns_<status> for temporary DNS errors: dns_timeout, dns_servfail)
CODE_DNS_TIMEOUT = REASON_DNS_PREFIX + mail_dns.TIMEOUT
CODE_DNS_SERVFAIL = REASON_DNS_PREFIX + mail_dns.SERVFAIL
#: the check's time ran out before the question was sent
CODE_DNS_NOT_ASKED = REASON_DNS_PREFIX + "not_asked"
CODE_AUTHORISED = "authorised"
CODE_NO_SENDING_ADDRESS = "no_sending_address"
CODE_NO_RECORD = "no_record"
CODE_MULTIPLE_RECORDS = "multiple_records"
CODE_RECORD_SYNTAX = "record_syntax"
CODE_TOO_MANY_LOOKUPS = "too_many_lookups"
CODE_TOO_MANY_VOID_LOOKUPS = "too_many_void_lookups"
CODE_ALLOWS_ANY = "allows_any"
CODE_NOT_AUTHORISED = "not_authorised"
#: an include the server's Sending addresses names is not reached
CODE_INCLUDE_NOT_REACHED = "include_not_reached"
#: an include of a domain that publishes no SPF record (RFC 7208 §5.2)
CODE_INCLUDE_NO_RECORD = "include_no_record"
#: TXT strings joined without a space run two terms together (RFC 7208 §3.3)
CODE_SPLIT_STRINGS = "split_strings"
CODE_KEY_OK = "key_ok"
CODE_NO_SELECTOR = "no_selector"
CODE_NO_KEY = "no_key"
CODE_KEY_REVOKED = "key_revoked"
CODE_KEY_FORMAT = "key_format"
CODE_KEY_TOO_SMALL = "key_too_small"
CODE_KEY_WEAK = "key_weak"
CODE_POLICY_NONE = "policy_none"
CODE_POLICY_ENFORCED = "policy_enforced"
#: RFC 7489 pct < 100: the policy applies to part of the failing mail only
CODE_POLICY_SAMPLED = "policy_sampled"
#: RFC 9989 t=y: receivers apply the next less strict policy
CODE_POLICY_TESTING = "policy_testing"
#: RFC 9989 and RFC 7489 find different policies
CODE_READINGS_DIFFER = "readings_differ"
CODE_ALIGNED = "aligned"
CODE_NOT_ALIGNED = "not_aligned"
#: an identifier aligns but does not authenticate (SPF does not pass)
CODE_NOT_AUTHENTICATED = "not_authenticated"
#: an aligned identifier whose SPF or DKIM could not be checked
CODE_SPF_UNKNOWN = "spf_unknown"
CODE_DKIM_UNKNOWN = "dkim_unknown"
CODE_MX_OK = "mx_ok"
CODE_MX_FOUND = "mx_found"
CODE_MX_ELSEWHERE = "mx_elsewhere"
CODE_NULL_MX = "null_mx"
CODE_NO_MX = "no_mx"
CODE_NO_DOMAIN = "no_domain"
CODE_FORWARD_CONFIRMED = "forward_confirmed"
CODE_NO_PTR = "no_ptr"
CODE_PTR_MISMATCH = "ptr_mismatch"
CODE_BAD_ADDRESS = "bad_address"
#: SPF of addresses read from the SMTP host's name, not entered: a relay's
#: submission host is not where its mail leaves from, so no verdict
CODE_HOST_NOT_AUTHORISED = "host_not_authorised"
#: no host name to read addresses from (or only loopback/private ones)
CODE_HOST_UNKNOWN = "host_unknown"
#: TLS of the connection to the outgoing server, as negotiated
CHECK_TLS = "tls"
CODE_TLS = "tls"
CODE_NO_TLS = "no_tls"
#: TLS negotiated, with a certificate that does not verify or name the host
CODE_TLS_UNVERIFIED = "tls_unverified"
#: STARTTLS set on the server, not offered by it
CODE_STARTTLS_NOT_OFFERED = "starttls_not_offered"
#: the server answered, the TLS handshake failed
CODE_TLS_FAILED = "tls_failed"
#: the server could not be reached: nothing said about its TLS
CODE_TLS_UNREACHABLE = "tls_unreachable"
#: whether the nameservers work at all (the root's SOA)
CHECK_RESOLVER = "resolver"
CODE_RESOLVER_OK = "resolver_ok"
#: the nameservers say no name exists, not even the root
CODE_RESOLVER_BROKEN = "resolver_broken"
#: the nameservers do not answer / fail even for the root
CODE_RESOLVER_TIMEOUT = "resolver_timeout"
CODE_RESOLVER_SERVFAIL = "resolver_servfail"
#: what a receiver applying Gmail's and Yahoo's 2024 rules does with the mail
CHECK_RECEIVER = "receiver"
CODE_ACCEPTED = "accepted"
CODE_ACCEPTED_UNALIGNED = "accepted_unaligned"
CODE_QUARANTINED = "quarantined"
CODE_REJECTED = "rejected"
CODE_UNAUTHENTICATED = "unauthenticated"
VERDICT_ACCEPT = "accept"
VERDICT_SPAM = "spam"
VERDICT_REJECT = "reject"

MIN_RSA_BITS = 1024
GOOD_RSA_BITS = 2048
#: an address no SPF record means to authorise (RFC 5737 TEST-NET-1)
SPF_PROBE_ADDRESS = "192.0.2.1"
#: seconds one sending path may take in all
DEFAULT_PATH_TIMEOUT = 20.0
#: the ``all`` qualifier of a proposed new SPF record
NEW_SPF_ALL = "~all"


@dataclasses.dataclass(frozen=True)
class Fact:
    """One decision about one name.

    ``check``: a ``CHECK_*``; ``domain``: the name the fact is about (the
    domain, the DKIM selector's name, the address for reverse DNS);
    ``status``: pass, warning, fail, unknown; ``code``: a ``CODE_*``;
    ``data``: a dict of JSON values; ``record_to_publish``: the record that
    fixes a failure, in zone-file syntax, or "".
    """

    check: str
    domain: str
    status: str
    code: str
    data: dict = dataclasses.field(default_factory=dict, compare=True, hash=False)
    record_to_publish: str = ""


def worst(statuses):
    """The worst of ``statuses`` (unknown > fail > warning > pass); ``pass``
    for none."""
    return max(statuses, key=_SEVERITY.__getitem__, default=PASS)


def _name(name):
    return (name or "").strip().rstrip(".").lower()


def _dns_fact(check, subject, result, /, **data):
    """The ``unknown`` fact of a temporary DNS error (``dns_not_asked`` when the
    time ran out before the question was sent)."""
    code = REASON_DNS_PREFIX + result.status
    if not getattr(result, "asked", True):
        code = CODE_DNS_NOT_ASKED
    data = {**data, "name": result.name, "rdtype": result.rdtype}
    if code != CODE_DNS_NOT_ASKED:
        # the nameservers that did not answer: the reader's next step
        data["servers"] = list(getattr(result, "servers", ()) or ())
    return Fact(check, subject, UNKNOWN, code, data)


def _quote_txt(text):
    """``text`` as zone-file TXT data: quoted strings of at most 255 characters."""
    chunks = [text[i : i + 255] for i in range(0, len(text), 255)] or [""]
    return " ".join(
        '"' + chunk.replace("\\", "\\\\").replace('"', '\\"') + '"' for chunk in chunks
    )


def txt_record(name, text):
    """``name. TXT "text"``."""
    return f"{_name(name)}. TXT {_quote_txt(text)}"


# ----------------------------------------------------------------------
# SPF
# ----------------------------------------------------------------------


class _Recorder:
    """The resolver as pyspf's query sees it, keeping the first temporary error (the
    question asked)."""

    def __init__(self, resolver):
        self.resolver = resolver
        self.temporary = None

    def resolve(self, name, rdtype, deadline=mail_dns.NO_DEADLINE):
        result = self.resolver.resolve(name, rdtype, deadline)
        if result.temporary and self.temporary is None:
            self.temporary = result
        return result


@functools.cache
def _spf_walk_class():
    """pyspf's query (through mail_auth's) subclassed at first use: pyspf
    loads in the processes that check DNS, not in every worker."""

    class _SpfWalk(mail_auth._spf_query_class()):
        """pyspf's query that also notes the domains whose SPF record it read
        (through includes and redirects, RFC 7208 §5.2 and §6.1) and the names
        whose lookups were void (RFC 7208 §4.6.4)."""

        def __init__(self, *args, **kwargs):
            self.spf_domains = []
            self.void_names = []
            super().__init__(*args, **kwargs)

        def dns_spf(self, domain):
            self.spf_domains.append(_name(domain))
            return super().dns_spf(domain)

        def dns(self, name, qtype, cnames=None, ignore_void=False):
            before = self.void_lookups
            try:
                return super().dns(name, qtype, cnames=cnames, ignore_void=ignore_void)
            finally:
                if self.void_lookups > before:
                    self.void_names.append(_name(str(name)))

    return _SpfWalk


def _networks(sending_ips):
    """``sending_ips`` (addresses or ranges) as networks, duplicates dropped; raises
    ``ValueError``."""
    networks = []
    for item in sending_ips:
        network = ipaddress.ip_network(str(item).strip(), strict=False)
        if network not in networks:
            networks.append(network)
    return networks


def _network_text(network):
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return str(network)


def _spf_term(network):
    kind = "ip4" if network.version == 4 else "ip6"
    return f"{kind}:{_network_text(network)}"


def _spf_check(ip, domain, record, resolver, deadline, strict):
    """pyspf's evaluation for ``postmaster@<domain>`` sending from ``ip``, of
    ``record``, or of the published record when ``record`` is ``None`` (what a
    receiver does): ``(result, query, recorder)``."""
    recorder = _Recorder(resolver)
    query = _spf_walk_class()(
        i=ip,
        s=f"postmaster@{domain}",
        h=domain,
        resolver=recorder,
        deadline=deadline,
        strict=strict,
    )
    try:
        if record is None:
            result, _code, _explanation = query.check()
        else:
            result, _code, _explanation = query.check(spf=record)
    except (
        Exception
    ):  # pyspf on hostile records (as mail_auth.check_spf): a permanent error
        result = mail_auth.PERMERROR
    return result, query, recorder


def _spf_texts(answer):
    """The SPF records of a TXT answer: ``[(text, strings)]``, ``strings`` the
    record's character-strings as published."""
    import spf

    if not answer.found:
        return []
    strings = answer.strings or tuple((record,) for record in answer.records)
    return [
        (record.decode("utf-8", "replace"), parts)
        for record, parts in zip(answer.records, strings, strict=False)
        if spf.RE_SPF.match(record)
    ]


# Over 60 lines on purpose: RFC 7208's verdicts in the order a receiver meets
# them (no record, several, the walk's void and lookup limits, permerror, pass
# for anyone, includes not reached, addresses not authorised), each returning
# its fact and the record to publish from the same walk and the same propose();
# split, each piece would take the walk's ten values back as arguments.
def check_spf(domain, sending_ips, includes, resolver, deadline):
    """The SPF record of ``domain`` for mail sent from ``sending_ips``; returns a
    :class:`Fact`.

    ``sending_ips``: addresses or ranges (``"203.0.113.0/24"``) the path
    sends from; ``includes``: domains whose SPF record the path's mail is
    authorised by (a provider's ``mailgun.org``). See the module docstring
    for the rules. ``data["results"]``: for each sending address (or
    range), pyspf's result for the published record, as a receiver gets it.
    """
    import spf

    domain = _name(domain)
    includes = tuple(_name(include) for include in includes or () if _name(include))
    try:
        networks = _networks(sending_ips or ())
    except ValueError:
        return Fact(
            CHECK_SPF,
            domain,
            FAIL,
            CODE_BAD_ADDRESS,
            {"sending_ips": [str(ip) for ip in sending_ips]},
        )
    answer = resolver.resolve(domain, "TXT", deadline)
    if answer.temporary:
        return _dns_fact(CHECK_SPF, domain, answer)
    # what receivers get for each sending address (pyspf, strict, the
    # published record read by pyspf itself)
    results, missing, temporary = _evaluate_networks(
        networks, domain, None, resolver, deadline
    )
    if temporary is not None:
        return _spf_temporary(domain, temporary, answer, {})
    data = {"results": results} if networks else {}
    found = _spf_texts(answer)
    if not found:
        terms = [_spf_term(network) for network in networks]
        terms += [f"include:{include}" for include in includes]
        proposal = (
            _spf_proposal(domain, terms, networks, includes, resolver, deadline, [])
            if terms
            else ""
        )
        return Fact(CHECK_SPF, domain, FAIL, CODE_NO_RECORD, data, proposal)
    texts = [text for text, _strings in found]
    if len(found) > 1:
        # one record with the terms of all of them (and this path's)
        # in a stable order: DNS gives a record set in any order
        terms = [term for text in sorted(texts) for term in text.split()[1:]]
        return Fact(
            CHECK_SPF,
            domain,
            FAIL,
            CODE_MULTIPLE_RECORDS,
            {**data, "records": texts},
            _spf_proposal(domain, terms, networks, includes, resolver, deadline, texts),
        )
    record, strings = found[0]
    data["record"] = record
    # one walk of the whole record: limits, syntax, catch-all, includes reached
    result, walk, recorder = _spf_check(
        SPF_PROBE_ADDRESS, domain, record, resolver, deadline, strict=False
    )
    data.update(lookups=walk.lookups, void_lookups=walk.void_lookups)
    if result == mail_auth.TEMPERROR:
        return _spf_temporary(domain, recorder, answer, data)
    terms = record.split()[1:]

    def propose(new_terms, first=False):
        return _spf_proposal(
            domain,
            new_terms,
            networks,
            includes,
            resolver,
            deadline,
            [record],
            first=first,
        )

    if walk.void_lookups > spf.MAX_VOID_LOOKUPS:
        # without the terms of this record that name nothing
        void = set(walk.void_names)
        return Fact(
            CHECK_SPF,
            domain,
            FAIL,
            CODE_TOO_MANY_VOID_LOOKUPS,
            {**data, "limit": spf.MAX_VOID_LOOKUPS, "void_names": walk.void_names},
            propose([term for term in terms if _spf_target(term, domain) not in void]),
        )
    if walk.lookups > spf.MAX_LOOKUP:
        # the terms that cost lookups replaced by the addresses they stand for
        flat = _flatten_spf_terms(terms, domain, resolver, deadline)
        return Fact(
            CHECK_SPF,
            domain,
            FAIL,
            CODE_TOO_MANY_LOOKUPS,
            {**data, "limit": spf.MAX_LOOKUP},
            propose(flat),
        )
    if result == mail_auth.PERMERROR:
        return _spf_permanent_error(
            domain, record, strings, walk.perm_error, data, propose
        )
    if result == mail_auth.PASS:
        # without the terms that let anyone pass (a catch-all, a range of
        # everything, an include that does so)
        return Fact(
            CHECK_SPF,
            domain,
            FAIL,
            CODE_ALLOWS_ANY,
            {**data, "probe": SPF_PROBE_ADDRESS},
            propose(
                [
                    term
                    for term in terms
                    if not _spf_allows_any(term, domain, resolver, deadline)
                ]
            ),
        )
    # the includes the admin named for a relay: reached through any chain of
    # includes and redirects (RFC 7208 §5.2)
    reached = set(walk.spf_domains)
    missing_includes = [include for include in includes if include not in reached]
    if includes:
        data["includes"] = {include: include in reached for include in includes}
    if not networks and not includes:
        return Fact(CHECK_SPF, domain, UNKNOWN, CODE_NO_SENDING_ADDRESS, data)
    if not missing and not missing_includes:
        return Fact(CHECK_SPF, domain, PASS, CODE_AUTHORISED, data)
    status = (
        FAIL
        if missing_includes
        or any(_SPF_STATUS.get(outcome, FAIL) == FAIL for outcome in results.values())
        else WARNING
    )
    data["missing_includes"] = missing_includes
    code = CODE_NOT_AUTHORISED if missing else CODE_INCLUDE_NOT_REACHED
    return Fact(CHECK_SPF, domain, status, code, data, propose(terms, first=True))


def _spf_permanent_error(domain, record, strings, error, data, propose):
    """The fact of a record pyspf finds permanently wrong, with the record that
    repairs it: strings split inside a term joined with a space, an include of
    a domain without SPF record or an invalid term left out."""
    term = str(getattr(error, "mech", "") or "")
    message = str(getattr(error, "msg", "") or error or "")
    if len(strings) > 1:
        # TXT strings are joined without a space (RFC 7208 §3.3): a record
        # split between two terms runs them together
        spaced = " ".join(part.decode("utf-8", "replace") for part in strings)
        spaced = " ".join(spaced.split())
        if spaced != " ".join(record.split()):
            proposal = propose(spaced.split()[1:])
            if proposal:
                return Fact(
                    CHECK_SPF,
                    domain,
                    FAIL,
                    CODE_SPLIT_STRINGS,
                    {**data, "term": term, "strings": len(strings)},
                    proposal,
                )
    terms = record.split()[1:]
    qualifier, name, argument = _spf_mechanism(term) if term else ("", "", "")
    if name == "include" and "no valid spf record" in message.lower():
        include = _name(argument)
        return Fact(
            CHECK_SPF,
            domain,
            FAIL,
            CODE_INCLUDE_NO_RECORD,
            {**data, "term": term, "include": include},
            propose([item for item in terms if item != term]),
        )
    return Fact(
        CHECK_SPF,
        domain,
        FAIL,
        CODE_RECORD_SYNTAX,
        {**data, "term": term or message},
        propose([item for item in terms if item != term]) if term in terms else "",
    )


def _spf_mechanism(term):
    """``(qualifier, name, argument)`` of an SPF term: ``("-", "all", "")``,
    ``("+", "include", "relay.test")``; a modifier's name ends with ``=``."""
    qualifier = "+"
    if term[:1] in "+-~?":
        qualifier, term = term[0], term[1:]
    for separator in (":", "=", "/"):
        name, found, argument = term.partition(separator)
        if found:
            if separator == "=":
                return qualifier, name.lower() + "=", argument
            if separator == "/":
                return qualifier, name.lower(), "/" + argument
            return qualifier, name.lower(), argument
    return qualifier, term.lower(), ""


def _spf_target(term, domain):
    """The name a term asks DNS about (``a``, ``mx``, ``include``, ``exists``,
    ``redirect=``), or "" for the others."""
    _qualifier, name, argument = _spf_mechanism(term)
    if name not in ("a", "mx", "include", "exists", "redirect=", "ptr"):
        return ""
    target = argument.partition("/")[0] if name in ("a", "mx") else argument
    return _name(target or domain)


def _spf_allows_any(term, domain, resolver, deadline):
    """Does this one term let any address pass? (``+all``, ``ip4:0.0.0.0/0``,
    an include whose record does)"""
    qualifier, name, argument = _spf_mechanism(term)
    if qualifier != "+":
        return False
    if name == "all":
        return True
    if name in ("ip4", "ip6"):
        try:
            return ipaddress.ip_network(argument, strict=False).prefixlen == 0
        except ValueError:
            return False
    if name == "include":
        result, _query, _recorder = _spf_check(
            SPF_PROBE_ADDRESS,
            domain,
            f"v=spf1 {term} -all",
            resolver,
            deadline,
            strict=False,
        )
        return result == mail_auth.PASS
    return False


# Over 60 lines on purpose: the proposed record is built and then re-checked
# against the same limits as a published one (lookups, void lookups, pass for
# anyone, the path authorised); both halves share the terms being built.
def _spf_proposal(
    domain, terms, networks, includes, resolver, deadline, originals, first=False
):
    """The one record to publish instead of ``originals``: ``terms`` without
    duplicates, then (``first``: before them) what this path needs and the
    record does not authorise or reach, then the strictest ``all`` of the
    originals (``~all`` when none was strict), or the one ``redirect=`` when
    no ``all`` ends them; "" when it would still break a limit, let anyone
    pass or not authorise the path."""
    import spf

    mechanisms, seen, redirect = [], set(), ""
    for term in terms:
        _qualifier, name, _argument = _spf_mechanism(term)
        if name == "redirect=":
            redirect = redirect or term
            continue
        if name == "all" or term.lower() in seen:
            continue
        seen.add(term.lower())
        mechanisms.append(term)
    endings = [
        _spf_mechanism(term)[0]
        for text in originals
        for term in text.split()[1:]
        if _spf_mechanism(term)[1] == "all"
    ]
    if endings or not redirect:
        # an "all" makes a redirect= meaningless (RFC 7208 §6.1)
        ending = "-all" if "-" in endings else NEW_SPF_ALL
    else:
        ending = redirect
    record = " ".join(["v=spf1", *mechanisms, ending])
    _results, missing, temporary = _evaluate_networks(
        networks, domain, record, resolver, deadline
    )
    if temporary is not None:
        return ""
    result, walk, _recorder = _spf_check(
        SPF_PROBE_ADDRESS, domain, record, resolver, deadline, strict=False
    )
    reached = set(walk.spf_domains)
    added = [_spf_term(network) for network in missing]
    added += [f"include:{include}" for include in includes if include not in reached]
    if added:
        ordered = [*added, *mechanisms] if first else [*mechanisms, *added]
        record = " ".join(["v=spf1", *ordered, ending])
        result, walk, _recorder = _spf_check(
            SPF_PROBE_ADDRESS, domain, record, resolver, deadline, strict=False
        )
    if (
        result in (mail_auth.PASS, mail_auth.PERMERROR, mail_auth.TEMPERROR)
        or walk.lookups > spf.MAX_LOOKUP
        or walk.void_lookups > spf.MAX_VOID_LOOKUPS
    ):
        return ""
    _results, missing, temporary = _evaluate_networks(
        networks, domain, record, resolver, deadline
    )
    if missing or temporary is not None:
        return ""
    return txt_record(domain, record)


def _flatten_spf_terms(terms, domain, resolver, deadline, depth=0):
    """``terms`` with ``a``, ``mx`` and ``include`` replaced by the ``ip4``/``ip6``
    terms of the addresses they name today (an include: its passing terms);
    a term that cannot be (a macro, ``ptr``/``exists``, a DNS error, includes
    nested too deep) is kept as it is. The addresses must be renewed when the
    provider changes them: that is the price of fewer lookups."""
    import spf

    flat = []
    for term in terms:
        replaced = (
            None
            if depth > spf.MAX_LOOKUP
            else _flatten_term(term, domain, resolver, deadline, depth)
        )
        flat += [term] if replaced is None else replaced
    return flat


def _flatten_term(term, domain, resolver, deadline, depth):
    """The ``ip4``/``ip6`` terms standing for ``term``, or ``None``."""
    qualifier, name, argument = _spf_mechanism(term)
    if "%" in argument:
        return None
    if name in ("a", "mx"):
        target, _slash, prefix = argument.partition("/")
        prefix = prefix.partition("//")[0]  # dual CIDR: the IPv4 length
        hosts = [target or domain]
        if name == "mx":
            answer = resolver.resolve(hosts[0], "MX", deadline)
            if answer.temporary:
                return None
            hosts = [
                host
                for host in (
                    record.split()[-1].rstrip(".")
                    for record in (answer.records if answer.found else ())
                )
                if host  # a null MX names no host
            ]
        flat = []
        for host in hosts:
            for rdtype in ("A", "AAAA"):
                answer = resolver.resolve(host, rdtype, deadline)
                if answer.temporary:
                    return None
                for address in answer.records if answer.found else ():
                    network = ipaddress.ip_network(
                        f"{address}/{prefix}" if prefix and rdtype == "A" else address,
                        strict=False,
                    )
                    flat.append(qualifier.replace("+", "") + _spf_term(network))
        return flat
    if name in ("include", "redirect="):
        answer = resolver.resolve(argument, "TXT", deadline)
        if answer.temporary:
            return None
        found = _spf_texts(answer)
        if len(found) != 1:
            return None
        inner = found[0][0].split()[1:]
        if any(
            "%" in term or _spf_mechanism(term)[1] in ("ptr", "exists")
            for term in inner
        ):
            return None  # terms whose meaning depends on the mail
        inner = _flatten_spf_terms(inner, argument, resolver, deadline, depth + 1)
        if any(_spf_target(item, argument) for item in inner):
            return None
        # an include only ever passes: its passing terms count; a redirect
        # stands for the whole record (its "all" too)
        return [
            item
            for item in inner
            if name == "redirect=" or _spf_mechanism(item)[0] == "+"
        ]
    return None


def _evaluate_networks(networks, domain, record, resolver, deadline):
    """pyspf's result for each network (the worse of its two ends) with
    ``record``, or the published record when it is ``None``: ``(results,
    networks not passing, recorder of a temporary error or None)``."""
    results = {}
    missing = []
    for network in networks:
        outcomes = []
        for address in dict.fromkeys((network[0], network[-1])):
            outcome, _query, recorder = _spf_check(
                str(address), domain, record, resolver, deadline, strict=True
            )
            if outcome == mail_auth.TEMPERROR:
                return results, missing, recorder
            outcomes.append(outcome)
        outcome = max(
            outcomes, key=lambda result: _SPF_SEVERITY.get(result, len(_SPF_SEVERITY))
        )
        results[_network_text(network)] = outcome
        if outcome != mail_auth.PASS:
            missing.append(network)
    return results, missing, None


#: pyspf results of a sending address -> status
_SPF_STATUS = {"pass": PASS, "softfail": WARNING, "neutral": WARNING, "none": WARNING}
_SPF_SEVERITY = {
    "pass": 0,
    "neutral": 1,
    "none": 1,
    "softfail": 2,
    "fail": 3,
    "permerror": 4,
}


def _spf_temporary(domain, recorder, answer, data):
    result = recorder.temporary or mail_dns.DnsResult(
        answer.name, "TXT", mail_dns.TIMEOUT
    )
    return _dns_fact(CHECK_SPF, domain, result, **data)


# ----------------------------------------------------------------------
# DKIM
# ----------------------------------------------------------------------


def check_dkim(domain, selectors, resolver, deadline):
    """The DKIM key of each selector of ``domain``; returns a tuple of :class:`Fact`
    (one per selector)."""
    domain = _name(domain)
    selectors = tuple(
        dict.fromkeys(
            _name(selector) for selector in selectors or () if _name(selector)
        )
    )
    if not selectors:
        return (
            Fact(CHECK_DKIM, domain, WARNING, CODE_NO_SELECTOR, {"domain": domain}),
        )
    return tuple(
        _check_selector(domain, selector, resolver, deadline) for selector in selectors
    )


def _check_selector(domain, selector, resolver, deadline):
    import dkim.util

    name = f"{selector}._domainkey.{domain}"
    data = {"selector": selector, "domain": domain}
    answer = resolver.resolve(name, "TXT", deadline)
    if answer.temporary:
        return _dns_fact(CHECK_DKIM, name, answer, **data)
    if not answer.found:
        return Fact(CHECK_DKIM, name, FAIL, CODE_NO_KEY, data)
    record = answer.records[0]  # dkimpy's choice among several
    try:
        tags = dkim.util.parse_tag_value(record)
    except dkim.util.InvalidTagValueList:
        return Fact(CHECK_DKIM, name, FAIL, CODE_KEY_FORMAT, data)
    if not tags.get(b"p", b"").strip():
        return Fact(CHECK_DKIM, name, FAIL, CODE_KEY_REVOKED, data)
    try:
        _key, bits, key_type, _tlsrpt = dkim.evaluate_pk(name.encode(), record)
    except Exception:  # any parse error of a published key
        return Fact(CHECK_DKIM, name, FAIL, CODE_KEY_FORMAT, data)
    key_type = (key_type or b"").decode("ascii", "replace")
    data.update(key_type=key_type, key_bits=bits or 0)
    if key_type == "rsa" and (bits or 0) < MIN_RSA_BITS:
        return Fact(
            CHECK_DKIM,
            name,
            FAIL,
            CODE_KEY_TOO_SMALL,
            {**data, "minimum": MIN_RSA_BITS},
        )
    if key_type == "rsa" and bits < GOOD_RSA_BITS:
        return Fact(
            CHECK_DKIM,
            name,
            WARNING,
            CODE_KEY_WEAK,
            {**data, "recommended": GOOD_RSA_BITS},
        )
    return Fact(CHECK_DKIM, name, PASS, CODE_KEY_OK, data)


# ----------------------------------------------------------------------
# DMARC and alignment
# ----------------------------------------------------------------------

#: the readings of DMARC a receiver may follow
READING_9989 = mail_auth.READING_9989
READING_7489 = mail_auth.READING_7489
_POLICY_RANK = {
    mail_auth.POLICY_NONE: 0,
    mail_auth.POLICY_QUARANTINE: 1,
    mail_auth.POLICY_REJECT: 2,
}


def dmarc_proposal(org, report_address=""):
    """The DMARC record proposed for an organisational domain without one:
    aggregate reports to ``report_address`` (the report alias) when given.
    An address in another organisational domain must be allowed to take
    them by a record at that domain (RFC 7489 §7.1, RFC 9990's
    external-destination verification): proposed on a second line."""
    address = report_address or f"dmarc@{org}"
    record = txt_record(f"_dmarc.{org}", f"v=DMARC1; p=none; rua=mailto:{address}")
    report_domain = _name(address.rpartition("@")[2])
    if report_address and mail_auth.org_domain(report_domain) != mail_auth.org_domain(
        org
    ):
        record += "\n" + txt_record(f"{org}._report._dmarc.{report_domain}", "v=DMARC1")
    return record


def _dmarc_tags_text(text):
    """A DMARC record's ``tag=value`` parts as written (stripped, empty ones
    dropped)."""
    return [part.strip() for part in text.split(";") if part.strip()]


def _dmarc_tag_name(part):
    return part.partition("=")[0].strip().lower()


def _dmarc_record_with(text, drop=(), put=()):
    """``text`` without the tags named in ``drop`` and with the ``(tag, value)``
    of ``put`` (replaced where present, else added after ``v`` for ``p``, at
    the end for others)."""
    parts = [
        part for part in _dmarc_tags_text(text) if _dmarc_tag_name(part) not in drop
    ]
    for tag, value in put:
        for index, part in enumerate(parts):
            if _dmarc_tag_name(part) == tag:
                parts[index] = f"{tag}={value}"
                break
        else:
            parts.insert(1 if tag == "p" else len(parts), f"{tag}={value}")
    return "; ".join(parts)


def _reading_data(found):
    """What one reading found, as JSON values (``found``: a
    :class:`.mail_auth.DmarcPolicy`)."""
    tags = found.tags or {}
    return {
        "found": found.found,
        "records": len(found.records),
        "record_domain": found.record_domain,
        "org_domain": found.org_domain,
        "policy": found.policy or "",
        "applied": found.applied or "",
        "adkim": _mode_tag(tags.get("adkim")),
        "aspf": _mode_tag(tags.get("aspf")),
    }


def _reading_status(reading):
    """The status of what one reading finds: no or several records, an
    invalid one: fail; ``p=none`` or a policy not applied to all mail:
    warning; a policy applied: pass."""
    if not reading["found"] or reading["records"] > 1 or not reading["policy"]:
        return FAIL
    if reading["applied"] == mail_auth.POLICY_NONE:
        return WARNING
    if reading["applied"] != reading["policy"] or reading.get("pct", 100) < 100:
        return WARNING
    return PASS


# Over 60 lines on purpose: one fact reads DMARC twice (RFC 9989's tree walk
# and RFC 7489's public suffix list) and says where they differ; a third of
# its length is the docstring naming every key of data.
def check_dmarc(from_domain, resolver, deadline, report_address=""):
    """The DMARC policy that applies to ``from_domain`` under RFC 9989 and under
    RFC 7489; returns a :class:`Fact`.

    ``data``: ``from_domain``; RFC 7489's reading: ``org_domain`` (public
    suffix list), ``record_domain``, ``record``, ``policy`` (the p= or sp=
    that applies), ``p``, ``sp``, ``pct``, ``adkim``, ``aspf``, ``rua``;
    RFC 9989's (DNS tree walk, ``np``, ``t``): ``rfc9989`` with
    ``record_domain``, ``org_domain``, ``policy``, ``applied`` (after
    ``t=y``), ``adkim``, ``aspf``; ``rfc7489``: the same keys for the older
    reading (``applied``: the policy for the ``pct`` sample).
    """
    from_domain = _name(from_domain)
    old = mail_auth.discover_dmarc_7489(from_domain, resolver, deadline)
    new = mail_auth.discover_dmarc_9989(from_domain, resolver, deadline)
    data = {"from_domain": from_domain, "org_domain": old.org_domain}
    for found in (old, new):
        if found.temporary is not None:
            return _dns_fact(CHECK_DMARC, from_domain, found.temporary, **data)
    tags = old.tags or {}
    pct = _int_tag(tags.get("pct"), 100)
    data.update(
        record_domain=old.record_domain or new.record_domain,
        policy=old.policy or "",
        p=tags.get("p", "").lower(),
        sp=tags.get("sp", "").lower(),
        pct=pct,
        adkim=_mode_tag(tags.get("adkim")),
        aspf=_mode_tag(tags.get("aspf")),
        rua=[uri.strip() for uri in tags.get("rua", "").split(",") if uri.strip()],
        rfc7489={**_reading_data(old), "pct": pct},
        rfc9989=_reading_data(new),
    )
    if old.policy and pct == 0:
        data["rfc7489"]["applied"] = mail_auth._lower_policy(old.policy)
    if old.found and len(old.records) == 1:
        data["record"] = old.records[0].decode("utf-8", "replace")
    elif new.found and len(new.records) == 1:
        data["record"] = new.records[0].decode("utf-8", "replace")
    if not old.found and not new.found:
        return Fact(
            CHECK_DMARC,
            from_domain,
            FAIL,
            CODE_NO_RECORD,
            data,
            dmarc_proposal(old.org_domain or from_domain, report_address),
        )
    for found in (old, new):
        if len(found.records) > 1:
            texts = sorted(
                record.decode("utf-8", "replace") for record in found.records
            )
            return Fact(
                CHECK_DMARC,
                from_domain,
                FAIL,
                CODE_MULTIPLE_RECORDS,
                {**data, "record_domain": found.record_domain, "records": texts},
                _dmarc_keep_one(found.record_domain, texts),
            )
    for found in (old, new):
        if found.found and found.policy is None:
            text = found.records[0].decode("utf-8", "replace")
            return Fact(
                CHECK_DMARC,
                from_domain,
                FAIL,
                CODE_RECORD_SYNTAX,
                {**data, "record_domain": found.record_domain},
                txt_record(
                    f"_dmarc.{found.record_domain}",
                    _dmarc_record_with(
                        text, drop=("sp", "np"), put=(("p", mail_auth.POLICY_NONE),)
                    )
                    if text.lower().replace(" ", "").startswith("v=dmarc1")
                    else "v=DMARC1; p=none",
                ),
            )
    same = (old.record_domain, old.policy) == (new.record_domain, new.policy)
    enforced = old.policy in (mail_auth.POLICY_QUARANTINE, mail_auth.POLICY_REJECT)
    if same and enforced and pct < 100:
        # RFC 7489 §6.6.4: the policy applies to pct % of failing mail only;
        # RFC 9989 has no pct and advises t=y for testing
        text = data["record"]
        put = (("t", "y"),) if pct == 0 else ()
        return Fact(
            CHECK_DMARC,
            from_domain,
            WARNING,
            CODE_POLICY_SAMPLED,
            data,
            txt_record(
                f"_dmarc.{old.record_domain}",
                _dmarc_record_with(text, drop=("pct",), put=put),
            ),
        )
    if same and new.applied != new.policy:
        return Fact(CHECK_DMARC, from_domain, WARNING, CODE_POLICY_TESTING, data)
    if same:
        if old.policy == mail_auth.POLICY_NONE:
            return Fact(CHECK_DMARC, from_domain, WARNING, CODE_POLICY_NONE, data)
        return Fact(CHECK_DMARC, from_domain, PASS, CODE_POLICY_ENFORCED, data)
    status = worst(_reading_status(data[key]) for key in (READING_7489, READING_9989))
    return Fact(CHECK_DMARC, from_domain, status, CODE_READINGS_DIFFER, data)


def _dmarc_keep_one(record_domain, texts):
    """The one DMARC record to keep of several: the valid one with the
    strictest policy (the first of equals, in a stable order)."""
    valid = [
        (text, mail_auth._record_policy(parse_dmarc_record(text.encode()), False))
        for text in texts
    ]
    valid = [(text, policy) for text, policy in valid if policy]
    if not valid:
        return txt_record(f"_dmarc.{record_domain}", "v=DMARC1; p=none")
    text = max(valid, key=lambda item: _POLICY_RANK[item[1]])[0]
    return txt_record(f"_dmarc.{record_domain}", text)


# Over 60 lines on purpose: the alignment of SPF and DKIM under both DMARC
# readings is one decision table (each row an identifier that authenticates
# and aligns, or the reason none does); its rows read best together.
def check_alignment(
    from_domain,
    envelope_domain,
    dkim_domains,
    dmarc,
    *,
    spf=None,
    dkim_unknown=None,
    resolver=None,
    deadline=None,
):
    """Whether mail of one sending path passes DMARC: an identifier that
    authenticates and aligns with the From (RFC 7489 §4.2, RFC 9989 §4.4);
    returns a :class:`Fact`.

    ``envelope_domain``: the MAIL FROM domain the path writes, counted when
    ``spf`` (the path's SPF :class:`Fact`; ``None``: taken as passing)
    passes; ``dkim_domains``: the ``d=`` the path signs with and whose key is
    usable; ``dkim_unknown``: the :class:`Fact` of a key that could not be
    checked (``None`` when none); ``dmarc``: the :class:`Fact` of
    :func:`check_dmarc` for ``from_domain``. Alignment is decided for both
    readings: RFC 7489 (public suffix list, ``pct``) and, with ``resolver``,
    RFC 9989 (organisational domains by the DNS tree walk, ``t=y``).
    ``data``: ``aligned`` (``dkim``/``spf``), ``policy``, ``would_be`` (what
    a receiver does with this mail when it does not pass), and the same per
    reading in ``rfc7489``/``rfc9989``.
    """
    from_domain = _name(from_domain)
    envelope_domain = _name(envelope_domain)
    dkim_domains = [_name(domain) for domain in dkim_domains or () if _name(domain)]
    data = {
        "from_domain": from_domain,
        "envelope_domain": envelope_domain,
        "dkim_domains": dkim_domains,
    }
    if dmarc.status == UNKNOWN:
        return Fact(
            CHECK_ALIGNMENT, from_domain, UNKNOWN, dmarc.code, {**dmarc.data, **data}
        )
    spf_status = spf.status if spf is not None else PASS
    unknown_domain = dkim_unknown.data.get("domain", "") if dkim_unknown else ""
    old_reading = dmarc.data.get(READING_7489) or {
        "found": bool(dmarc.data.get("policy")),
        "policy": dmarc.data.get("policy", ""),
        "applied": dmarc.data.get("policy", ""),
        "adkim": dmarc.data.get("adkim", "r"),
        "aspf": dmarc.data.get("aspf", "r"),
    }
    readings = {READING_7489: old_reading}
    if resolver is not None and dmarc.data.get(READING_9989):
        readings[READING_9989] = dmarc.data[READING_9989]
    verdicts = {}
    for key, reading in readings.items():
        if key == READING_9989:

            def aligns(domain, strict):
                result, failed = mail_auth.aligned_9989(
                    domain, from_domain, strict, resolver, deadline
                )
                return (None if failed is not None else result), failed

        else:

            def aligns(domain, strict):
                return aligned(domain, from_domain, strict), None

        verdicts[key] = _alignment_verdict(
            reading,
            aligns,
            envelope_domain,
            spf_status,
            dkim_domains,
            unknown_domain,
        )
    old = verdicts[READING_7489]
    data.update(
        aligned=old["aligned"],
        policy=dmarc.data.get("policy", ""),
        adkim=old_reading.get("adkim", "r"),
        aspf=old_reading.get("aspf", "r"),
        **{key: verdict for key, verdict in verdicts.items()},
    )
    if len({(item["status"], item["would_be"]) for item in verdicts.values()}) > 1:
        status = worst(item["status"] for item in verdicts.values())
        for item in verdicts.values():
            if item["status"] == UNKNOWN:
                return _alignment_unknown(from_domain, item, spf, dkim_unknown, data)
        return Fact(CHECK_ALIGNMENT, from_domain, status, CODE_READINGS_DIFFER, data)
    if old["status"] == UNKNOWN:
        return _alignment_unknown(from_domain, old, spf, dkim_unknown, data)
    if old["status"] == PASS:
        return Fact(CHECK_ALIGNMENT, from_domain, PASS, CODE_ALIGNED, data)
    data["would_be"] = old["would_be"]
    data["spf"] = spf_status
    code = CODE_NOT_AUTHENTICATED if old["unauthenticated"] else CODE_NOT_ALIGNED
    return Fact(CHECK_ALIGNMENT, from_domain, old["status"], code, data)


def _alignment_verdict(reading, aligns, envelope, spf_status, dkim_domains, unknown):
    """One reading's DMARC outcome for a path: ``status``, ``aligned`` (the
    mechanisms that authenticate and align), ``unauthenticated`` (aligned
    identifiers that do not authenticate), ``unknown``, ``would_be``."""
    aligned_now, unauthenticated, unknown_now, temporary = [], [], [], None
    strict_dkim = reading.get("adkim") == "s"
    strict_spf = reading.get("aspf") == "s"
    for domain in dkim_domains:
        result, failed = aligns(domain, strict_dkim)
        temporary = temporary or failed
        if result:
            aligned_now.append(mail_auth.ALIGNED_DKIM)
            break
    if unknown:
        result, failed = aligns(unknown, strict_dkim)
        if result and not aligned_now:
            unknown_now.append(mail_auth.ALIGNED_DKIM)
    if envelope:
        result, failed = aligns(envelope, strict_spf)
        temporary = temporary or failed
        if result:
            if spf_status == PASS:
                aligned_now.append(mail_auth.ALIGNED_SPF)
            elif spf_status == UNKNOWN:
                unknown_now.append(mail_auth.ALIGNED_SPF)
            else:
                unauthenticated.append(mail_auth.ALIGNED_SPF)
    verdict = {
        "aligned": aligned_now,
        "unauthenticated": unauthenticated,
        "unknown": unknown_now,
        "would_be": "",
        "policy": reading.get("policy", ""),
    }
    if aligned_now:
        return {**verdict, "status": PASS}
    if unknown_now or temporary is not None:
        return {
            **verdict,
            "status": UNKNOWN,
            "temporary": (
                {
                    "name": temporary.name,
                    "rdtype": temporary.rdtype,
                    "servers": list(getattr(temporary, "servers", ()) or ()),
                }
                if temporary is not None
                else {}
            ),
        }
    applied = reading.get("applied") or mail_auth.POLICY_NONE
    if not reading.get("found"):
        applied = mail_auth.POLICY_NONE
    status = FAIL if applied != mail_auth.POLICY_NONE else WARNING
    return {**verdict, "status": status, "would_be": applied}


def _alignment_unknown(from_domain, verdict, spf, dkim_unknown, data):
    """Alignment that could not be checked: an aligned identifier whose SPF or
    DKIM could not be checked, or a tree walk without answer."""
    temporary = verdict.get("temporary") or {}
    if temporary:
        return Fact(
            CHECK_ALIGNMENT,
            from_domain,
            UNKNOWN,
            CODE_DNS_TIMEOUT,
            {**data, **temporary},
        )
    source = spf if mail_auth.ALIGNED_SPF in verdict["unknown"] else dkim_unknown
    extra = {
        key: value
        for key, value in (source.data if source is not None else {}).items()
        if key in ("name", "rdtype")
    }
    return Fact(
        CHECK_ALIGNMENT,
        from_domain,
        UNKNOWN,
        CODE_SPF_UNKNOWN
        if mail_auth.ALIGNED_SPF in verdict["unknown"]
        else CODE_DKIM_UNKNOWN,
        {**data, **extra, "cause": source.code if source is not None else ""},
    )


# ----------------------------------------------------------------------
# MX
# ----------------------------------------------------------------------


def check_mx(domain, expected_hosts, resolver, deadline):
    """Whether the MX records of ``domain`` name one of ``expected_hosts``; returns a
    :class:`Fact`."""
    domain = _name(domain)
    expected = [_name(host) for host in expected_hosts or () if _name(host)]
    data = {"expected": expected}
    proposal = f"{domain}. MX 10 {expected[0]}." if expected else ""
    answer = resolver.resolve(domain, "MX", deadline)
    if answer.temporary:
        return _dns_fact(CHECK_MX, domain, answer, **data)
    if answer.status == mail_dns.NXDOMAIN:
        return Fact(CHECK_MX, domain, FAIL, CODE_NO_DOMAIN, data, proposal)
    if not answer.found:
        # mail to the domain goes to its own address (RFC 5321 §5.1): with a
        # gate expected, replies go elsewhere as with an MX elsewhere
        return Fact(
            CHECK_MX, domain, FAIL if expected else WARNING, CODE_NO_MX, data, proposal
        )
    hosts = []
    for record in answer.records:
        preference, _space, exchange = record.partition(" ")
        hosts.append((int(preference), _name(exchange)))
    hosts.sort()
    data["hosts"] = [host for _preference, host in hosts]
    if any(host == "" for _preference, host in hosts):
        return Fact(CHECK_MX, domain, FAIL, CODE_NULL_MX, data, proposal)
    if not expected:
        return Fact(CHECK_MX, domain, PASS, CODE_MX_FOUND, data)
    if any(host in expected for _preference, host in hosts):
        return Fact(CHECK_MX, domain, PASS, CODE_MX_OK, data)
    return Fact(CHECK_MX, domain, FAIL, CODE_MX_ELSEWHERE, data, proposal)


# ----------------------------------------------------------------------
# reverse DNS
# ----------------------------------------------------------------------


def check_reverse_dns(ip, resolver, deadline, hostname=""):
    """Forward-confirmed reverse DNS of ``ip``; returns a :class:`Fact`.

    ``hostname``: the name the sending host announces (HELO), proposed as the
    PTR target when the address has none.
    """
    try:
        address = ipaddress.ip_address(str(ip).strip())
    except ValueError:
        return Fact(CHECK_REVERSE_DNS, str(ip), FAIL, CODE_BAD_ADDRESS, {"ip": str(ip)})
    ip = str(address)
    hostname = _name(hostname)
    reverse = dns.reversename.from_address(ip).to_text(omit_final_dot=True)
    data = {"ip": ip, "reverse_name": reverse}
    answer = resolver.resolve(reverse, "PTR", deadline)
    if answer.temporary:
        return _dns_fact(CHECK_REVERSE_DNS, ip, answer, **data)
    if not answer.found:
        # the PTR, and the address record of its name that confirms it
        proposal = ""
        if hostname:
            records = [f"{reverse}. PTR {hostname}."]
            rdtype = "A" if address.version == 4 else "AAAA"
            result = resolver.resolve(hostname, rdtype, deadline)
            if not result.temporary and ip not in _addresses(result):
                records.append(f"{hostname}. {rdtype} {ip}")
            proposal = "\n".join(records)
        return Fact(CHECK_REVERSE_DNS, ip, FAIL, CODE_NO_PTR, data, proposal)
    names = list(dict.fromkeys(_name(record) for record in answer.records))
    data["ptr"] = names
    rdtype = "A" if address.version == 4 else "AAAA"
    forward = {}
    for name in names:
        result = resolver.resolve(name, rdtype, deadline)
        if result.temporary:
            return _dns_fact(CHECK_REVERSE_DNS, ip, result, **data)
        addresses = _addresses(result)
        forward[name] = addresses
        if ip in addresses:
            return Fact(
                CHECK_REVERSE_DNS,
                ip,
                PASS,
                CODE_FORWARD_CONFIRMED,
                {**data, "name": name},
            )
    data["forward"] = forward
    return Fact(
        CHECK_REVERSE_DNS,
        ip,
        FAIL,
        CODE_PTR_MISMATCH,
        data,
        f"{names[0]}. {rdtype} {ip}",
    )


def _addresses(result):
    """The addresses of an A/AAAA answer, in canonical text."""
    if not result.found:
        return []
    return [str(ipaddress.ip_address(record)) for record in result.records]


# ----------------------------------------------------------------------
# a sending path
# ----------------------------------------------------------------------


# Over 60 lines on purpose: the whole check of one sending path under one
# deadline (SPF, DKIM, DMARC, alignment, MX, reverse DNS, receivers), in the
# order their facts depend on each other; thirteen parameters and their
# docstring are a third of it.
def check_sending_path(
    server,
    from_domain,
    envelope_domain,
    dkim_selectors,
    sending_ips,
    mx_hosts,
    resolver,
    *,
    includes=(),
    dkim_domain="",
    deadline=None,
    timeout=DEFAULT_PATH_TIMEOUT,
    host_addresses=False,
    report_address="",
):
    """Every fact of one sending path, in a tuple of :class:`Fact`, under one deadline.

    ``server``: the host name the sending machine announces (proposed as PTR
    target); ``from_domain``: the From the path writes; ``envelope_domain``:
    its MAIL FROM domain (SPF is checked there); ``dkim_selectors``: the
    selectors it signs with, at ``dkim_domain`` (default: the From domain);
    ``sending_ips``: the addresses or ranges mail leaves from (reverse DNS
    is checked for single addresses); ``mx_hosts``: the hosts the From
    domain's MX should name (the mailgate's public name); ``includes``: for
    a proposed SPF record; ``host_addresses``: the addresses were read from
    the SMTP host's name, not entered (:func:`host_spf`); ``report_address``:
    the ``rua`` of a proposed DMARC record. ``deadline`` (else
    ``timeout`` seconds from now) bounds every lookup: what is left unknown
    when it is spent is ``unknown``. Order: SPF, DKIM (each selector),
    DMARC, alignment, MX, reverse DNS (each address). Alignment counts the
    envelope domain only when SPF passes and the DKIM domain only when one
    of its selectors has a usable key (pass or warning), as receivers do
    (RFC 7489 §4.2): an SPF or key that could not be checked leaves it
    ``unknown``.
    """
    if deadline is None:
        deadline = mail_dns.Deadline.after(timeout)
    from_domain = _name(from_domain)
    envelope_domain = _name(envelope_domain) or from_domain
    dkim_domain = _name(dkim_domain) or from_domain
    spf_fact = check_spf(envelope_domain, sending_ips, includes, resolver, deadline)
    if host_addresses:
        spf_fact = host_spf(spf_fact)
    facts = [spf_fact]
    dkim_facts = check_dkim(dkim_domain, dkim_selectors, resolver, deadline)
    facts += dkim_facts
    dmarc = check_dmarc(from_domain, resolver, deadline, report_address)
    facts.append(dmarc)
    # a signature only counts with a key receivers can use
    usable = dkim_selectors and any(
        fact.status in (PASS, WARNING) for fact in dkim_facts
    )
    signing = [dkim_domain] if usable else []
    unknown = next((fact for fact in dkim_facts if fact.status == UNKNOWN), None)
    facts.append(
        check_alignment(
            from_domain,
            envelope_domain,
            signing,
            dmarc,
            spf=spf_fact,
            dkim_unknown=None if usable else unknown,
            resolver=resolver,
            deadline=deadline,
        )
    )
    facts.append(check_mx(from_domain, mx_hosts, resolver, deadline))
    for item in dict.fromkeys(str(ip).strip() for ip in sending_ips or ()):
        try:
            ipaddress.ip_address(item)
        except ValueError:
            continue  # a range: no single PTR to check
        facts.append(check_reverse_dns(item, resolver, deadline, hostname=server))
    return tuple(facts)


# ----------------------------------------------------------------------
# configuration values: sending addresses, DKIM selectors
# ----------------------------------------------------------------------


class ConfigValueError(ValueError):
    """An item of a configuration value is invalid; ``item`` names it as written."""

    def __init__(self, item):
        self.item = item
        super().__init__(f"invalid item {item!r}")


def parse_sending_addresses(value):
    """``"203.0.113.5, 198.51.100.0/24, include:mailgun.org"`` as
    ``(networks, includes)``: texts of addresses/ranges and include domains, in
    the order given, duplicates dropped; raises :class:`ConfigValueError`."""
    networks, includes = [], []
    for raw_item in (value or "").split(","):
        item = raw_item.strip()
        if not item:
            continue
        if item.lower().startswith("include:"):
            domain = _name(item[len("include:") :])
            labels = domain.split(".")
            if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
                raise ConfigValueError(item)
            if domain not in includes:
                includes.append(domain)
            continue
        try:
            network = ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ConfigValueError(item) from None
        text = (
            str(network.network_address)
            if network.prefixlen == network.max_prefixlen
            else network.with_prefixlen
        )
        if text not in networks:
            networks.append(text)
    return tuple(networks), tuple(includes)


_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


def parse_dkim_selectors(value):
    """``"s1, mailo._domainkey"`` → ``("s1", ...)``: selectors (RFC 6376 §3.1: dot-
    separated labels), lower case, duplicates dropped; raises
    :class:`ConfigValueError`."""
    selectors = []
    for raw_item in (value or "").split(","):
        item = raw_item.strip()
        if not item:
            continue
        selector = _name(item)
        if selector.endswith("._domainkey") or not all(
            _LABEL.match(label) for label in selector.split(".")
        ):
            raise ConfigValueError(item)
        if selector not in selectors:
            selectors.append(selector)
    return tuple(selectors)


def host_spf(fact):
    """An SPF fact computed for addresses read from the SMTP host's name, not
    entered by the admin: "not authorised" is no verdict (a relay's submission
    host is not where its mail leaves from), so it is ``unknown``."""
    if fact.check == CHECK_SPF and fact.code == CODE_NOT_AUTHORISED:
        return dataclasses.replace(
            fact, status=UNKNOWN, code=CODE_HOST_NOT_AUTHORISED, record_to_publish=""
        )
    return fact


# ----------------------------------------------------------------------
# the resolver itself
# ----------------------------------------------------------------------


def check_resolver(resolver, deadline):
    """Whether the nameservers answer at all: the root zone's SOA (``. SOA``)
    exists for every working resolver, so an NXDOMAIN for it means that they
    say "no such name" for everything (no upstream, a captive resolver), and a
    timeout that they do not answer. Returns a :class:`Fact` of check
    ``resolver``: ``pass`` (``resolver_ok``), or ``unknown`` with
    ``resolver_broken`` / ``dns_timeout`` / ``dns_servfail`` (data
    ``servers``: the nameservers asked, ``name``/``rdtype``: the question).
    Asked once a check: every other answer of a broken resolver means nothing.
    """
    answer = resolver.resolve(".", "SOA", deadline)
    data = {
        "name": ".",
        "rdtype": "SOA",
        "servers": list(answer.servers or getattr(resolver, "server_texts", ())),
    }
    if answer.status in (mail_dns.OK, mail_dns.NODATA):
        return Fact(CHECK_RESOLVER, ".", PASS, CODE_RESOLVER_OK, data)
    if answer.status == mail_dns.TIMEOUT:
        return Fact(CHECK_RESOLVER, ".", UNKNOWN, CODE_RESOLVER_TIMEOUT, data)
    if answer.status == mail_dns.SERVFAIL:
        return Fact(CHECK_RESOLVER, ".", UNKNOWN, CODE_RESOLVER_SERVFAIL, data)
    return Fact(CHECK_RESOLVER, ".", UNKNOWN, CODE_RESOLVER_BROKEN, data)


class Unasked:
    """A resolver that asks nothing: every lookup ``timeout`` unasked. Check DNS
    runs the checks through it when the real one does not work, so that the
    lines exist (to say they could not be checked) without waiting for a
    resolver that will not answer."""

    server_texts = ()
    machine = False

    def resolve(self, name, rdtype, deadline=mail_dns.NO_DEADLINE):
        if isinstance(name, bytes):
            name = name.decode("utf-8", "replace")
        return mail_dns.DnsResult(
            _name(str(name)), rdtype.upper(), mail_dns.TIMEOUT, asked=False
        )


def unchecked(fact, resolver_fact):
    """``fact`` as "could not be checked" because the resolver does not work
    (``resolver_fact``: :func:`check_resolver`'s): same check and name, the
    resolver's code and data, nothing to publish."""
    keep = {
        key: value
        for key, value in fact.data.items()
        if key in ("selector", "domain", "ip", "from_domain", "envelope_domain")
    }
    return Fact(
        fact.check,
        fact.domain,
        UNKNOWN,
        resolver_fact.code,
        {**keep, **resolver_fact.data},
    )


# ----------------------------------------------------------------------
# TLS of the outgoing server
# ----------------------------------------------------------------------

#: seconds one TLS probe (connect, EHLO, STARTTLS, handshake) may take
TLS_TIMEOUT = 8.0
#: the EHLO name of the probe
TLS_PROBE_EHLO = "localhost"


@dataclasses.dataclass(frozen=True)
class TlsProbe:
    """What one connection to an SMTP server found.

    ``connected``: the server answered; ``error``: why not (or why the
    conversation broke off); ``starttls_offered``: EHLO listed STARTTLS;
    ``encrypted``: a TLS session was negotiated; ``protocol``/``cipher``: of
    that session; ``verified``: its certificate chain verifies against the
    machine's trusted authorities; ``verify_error``: OpenSSL's reason when not;
    ``name_matches``: the certificate names the host (``None``: unknown).
    """

    connected: bool
    error: str = ""
    starttls_offered: bool = False
    encrypted: bool = False
    protocol: str = ""
    cipher: str = ""
    verified: bool = False
    verify_error: str = ""
    name_matches: object = None
    certificate: bytes = dataclasses.field(default=b"", repr=False)


#: why a connection failed, as codes (the model layer words them)
TLS_REFUSED = "refused"
TLS_TIMED_OUT = "timeout"
TLS_UNKNOWN_HOST = "unknown_host"
TLS_CLOSED = "closed"


def _error_text(exc):
    """Why a connection failed: one of the ``TLS_*`` codes, else the
    exception's own words."""
    if isinstance(exc, ConnectionRefusedError):
        return TLS_REFUSED
    if isinstance(exc, TimeoutError):
        return TLS_TIMED_OUT
    if isinstance(exc, socket.gaierror):
        return TLS_UNKNOWN_HOST
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return TLS_CLOSED
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {exc.smtp_error.decode('utf-8', 'replace')}".strip()
    return str(getattr(exc, "strerror", None) or exc or type(exc).__name__)


def _cert_names(der):
    """``(dns names, ip addresses)`` of a certificate's subjectAltName."""
    from cryptography import x509

    try:
        cert = x509.load_der_x509_certificate(der)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except Exception:  # no SAN, or a certificate cryptography cannot read
        return [], []
    return (
        [name.lower() for name in san.value.get_values_for_type(x509.DNSName)],
        [str(ip) for ip in san.value.get_values_for_type(x509.IPAddress)],
    )


def cert_names_host(der, host):
    """Does the certificate (DER) name ``host``? subjectAltName only (RFC 6125
    §6.4.4: no common name), a wildcard for one leftmost label (§6.4.3)."""
    dns_names, addresses = _cert_names(der)
    host = _name(host)
    try:
        address = str(ipaddress.ip_address(host))
    except ValueError:
        address = ""
    if address:
        return address in addresses
    for pattern in dns_names:
        pattern = pattern.rstrip(".")
        if pattern == host:
            return True
        if pattern.startswith("*.") and "." in host:
            if host.partition(".")[2] == pattern[2:]:
                return True
    return False


class _AddressedSMTP(smtplib.SMTP):
    """An SMTP session to ``address`` that names (and verifies) the host it
    is given: an MX host resolved through the configured nameservers."""

    def __init__(self, address, *args, **kwargs):
        self._address = address
        super().__init__(*args, **kwargs)

    def _get_socket(self, host, port, timeout):
        return super()._get_socket(self._address, port, timeout)


def _smtp_session(host, port, encryption, context, timeout, address=""):
    """Open an SMTP session to ``host``:``port`` (resolved by the machine, as
    Odoo's sending does, or at ``address``) and negotiate TLS as
    ``encryption`` asks: ``(smtp, starttls_offered)``; the caller quits it."""
    if address:
        smtp = _AddressedSMTP(
            address, host, port, local_hostname=TLS_PROBE_EHLO, timeout=timeout
        )
    elif encryption == "ssl":
        smtp = smtplib.SMTP_SSL(
            host,
            port,
            local_hostname=TLS_PROBE_EHLO,
            timeout=timeout,
            context=context,
        )
    else:
        smtp = smtplib.SMTP(host, port, local_hostname=TLS_PROBE_EHLO, timeout=timeout)
    try:
        smtp.ehlo()
        offered = False
        if encryption != "ssl":
            offered = smtp.has_extn("starttls")
            if encryption == "starttls" and offered:
                smtp.starttls(context=context)
                smtp.ehlo()
    except BaseException:
        smtp.close()
        raise
    return smtp, offered


@functools.lru_cache(maxsize=8)
def _tls_context(cadata, verify):
    """A client TLS context, made once: loading the machine's authorities
    costs about 20 ms, more than a refused connection (a Check DNS run
    probes every MX host and outgoing server). Contexts are not changed
    after this, so threads may share them."""
    context = ssl.create_default_context(cadata=cadata)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def probe_tls(host, port, encryption, timeout=TLS_TIMEOUT, cadata=None, address=""):
    """Connect to the SMTP server ``host``:``port`` as Odoo does for
    ``encryption`` (``ssl``: TLS from the first byte, ``starttls``: EHLO then
    STARTTLS, ``none``: EHLO only) and return a :class:`TlsProbe`.

    The certificate is verified against the machine's authorities and the
    host name; when it does not verify, a second connection that does not
    verify reads the session (Odoo's own connection does not verify
    certificates: the mail still goes). Nothing is sent beyond EHLO and
    STARTTLS. ``timeout``: seconds each network step may take; ``cadata``:
    the authorities to trust instead of the machine's (PEM); ``address``:
    where to connect instead of ``host``'s addresses (``starttls`` only).
    """
    attempts = [(_tls_context(cadata, verify=True), True)]
    if encryption in ("ssl", "starttls"):
        attempts.append((_tls_context(None, verify=False), False))
    verify_error = ""
    for context, verify in attempts:
        try:
            smtp, offered = _smtp_session(
                host, port, encryption, context, timeout, address
            )
        except ssl.SSLCertVerificationError as exc:
            verify_error = exc.verify_message or str(exc)
            continue
        except ssl.SSLError as exc:
            # the server answered, TLS did not come about (SSL/TLS on a
            # STARTTLS port, no common protocol version)
            return TlsProbe(
                connected=True,
                starttls_offered=encryption == "starttls",
                error=exc.reason or str(exc),
            )
        except (OSError, smtplib.SMTPException) as exc:
            return TlsProbe(connected=False, error=_error_text(exc))
        try:
            sock = smtp.sock
            if not isinstance(sock, ssl.SSLSocket):
                return TlsProbe(connected=True, starttls_offered=offered)
            der = sock.getpeercert(binary_form=True) or b""
            return TlsProbe(
                connected=True,
                starttls_offered=offered,
                encrypted=True,
                protocol=sock.version() or "",
                cipher=(sock.cipher() or ("",))[0],
                verified=verify,
                verify_error=verify_error,
                name_matches=True if verify else cert_names_host(der, host),
                certificate=der,
            )
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
    return TlsProbe(connected=False, error=verify_error)


def session_data(probe):
    """The TLS session a :class:`TlsProbe` negotiated, as a fact's data."""
    return {
        "protocol": probe.protocol,
        "cipher": probe.cipher,
        "verified": probe.verified,
        "verify_error": probe.verify_error,
        "name_matches": probe.name_matches,
    }


def check_tls(server, port, encryption, probe):
    """What the connection to the outgoing server ``server`` (host name) on
    ``port`` negotiated, with core's ``smtp_encryption`` (``starttls``,
    ``ssl`` or ``none``) and the :class:`TlsProbe` of a real connection:
    ``pass`` (``tls``) when TLS was negotiated and the certificate verifies
    for the host, ``warning`` (``tls_unverified``) when it was negotiated with
    a certificate that does not, ``fail`` for no TLS (``no_tls``, data
    ``starttls_offered``), STARTTLS asked but not offered
    (``starttls_not_offered``) or a handshake that failed (``tls_failed``),
    ``unknown`` (``tls_unreachable``, data ``error``) when nothing could be
    reached: the setting alone never says "encrypted"."""
    data = {
        "encryption": encryption or "none",
        "host": server,
        "port": port,
        "endpoint": f"{server}:{port}",
    }
    if not probe.connected:
        return Fact(
            CHECK_TLS,
            server,
            UNKNOWN,
            CODE_TLS_UNREACHABLE,
            {**data, "error": probe.error},
        )
    data["starttls_offered"] = probe.starttls_offered
    if probe.error:
        # connected, but TLS did not come about
        return Fact(
            CHECK_TLS, server, FAIL, CODE_TLS_FAILED, {**data, "error": probe.error}
        )
    if not probe.encrypted:
        if encryption == "starttls":
            return Fact(CHECK_TLS, server, FAIL, CODE_STARTTLS_NOT_OFFERED, data)
        return Fact(CHECK_TLS, server, FAIL, CODE_NO_TLS, data)
    data.update(session_data(probe))
    if probe.verified and probe.name_matches:
        return Fact(CHECK_TLS, server, PASS, CODE_TLS, data)
    return Fact(CHECK_TLS, server, WARNING, CODE_TLS_UNVERIFIED, data)


# Over 60 lines on purpose: Gmail's and Yahoo's published rules as one
# decision (authenticated, aligned, the policy, a signature not checked); its
# docstring states the rules the code follows line by line.
def receiver_verdict(spf_fact, dkim_facts, dmarc_fact, envelope_domain, dkim_domain):
    """What Gmail (and Yahoo, same rules since February 2024) does with mail of this
    From: a :class:`Fact` of check ``receiver``, ``data["verdict"]`` ``accept``,
    ``spam`` or ``reject`` (``unknown`` status when DNS could not tell).

    DMARC passes when an identifier that authenticates is aligned with the
    From: the envelope domain when SPF passes, the DKIM domain when one of its
    selectors has a usable key. Not passing: the policy decides (``reject``,
    ``quarantine``: spam folder); with ``p=none`` or no record, mail that
    neither SPF nor DKIM authenticates is refused (``5.7.26``), other mail
    accepted (bulk senders need alignment: a warning). With no DKIM selector
    entered (``data["dkim_unchecked"]``) a signature is unknown, not failed: a
    verdict that a signature would change is ``unknown`` (the code says what
    happens to mail without one).
    """
    from_domain = dmarc_fact.domain
    spf_pass = spf_fact.status == PASS
    dkim_usable = any(
        fact.status in (PASS, WARNING) and fact.code != CODE_NO_SELECTOR
        for fact in dkim_facts
    )
    # no selector entered: whether the mail is signed is unknown, not failed
    dkim_unchecked = all(fact.code == CODE_NO_SELECTOR for fact in dkim_facts)
    alignment = check_alignment(
        from_domain,
        envelope_domain if spf_pass else "",
        [dkim_domain] if dkim_usable else [],
        dmarc_fact,
    )
    data = {
        "from_domain": from_domain,
        "envelope_domain": _name(envelope_domain),
        "dkim_domain": _name(dkim_domain),
        "spf": spf_fact.status,
        "spf_code": spf_fact.code,
        "dkim": worst(fact.status for fact in dkim_facts),
        "dkim_unchecked": dkim_unchecked,
        "aligned": alignment.data.get("aligned", []),
        "policy": dmarc_fact.data.get("policy", ""),
        "pct": dmarc_fact.data.get("pct", 100),
    }
    if alignment.status == PASS:
        return Fact(
            CHECK_RECEIVER,
            from_domain,
            PASS,
            CODE_ACCEPTED,
            {**data, "verdict": VERDICT_ACCEPT},
        )
    unknown = [
        fact for fact in (dmarc_fact, spf_fact, *dkim_facts) if fact.status == UNKNOWN
    ]
    if unknown:
        fact = unknown[0]
        return Fact(
            CHECK_RECEIVER,
            from_domain,
            UNKNOWN,
            fact.code,
            {**fact.data, **data, "check": fact.check},
        )
    # what happens to mail that DKIM does not authenticate; without a selector
    # a signature could still change it: unknown
    failing = UNKNOWN if dkim_unchecked else FAIL
    if alignment.status == FAIL:
        quarantine = data["policy"] == mail_auth.POLICY_QUARANTINE
        return Fact(
            CHECK_RECEIVER,
            from_domain,
            failing,
            CODE_QUARANTINED if quarantine else CODE_REJECTED,
            {**data, "verdict": VERDICT_SPAM if quarantine else VERDICT_REJECT},
        )
    if not spf_pass and not dkim_usable:
        return Fact(
            CHECK_RECEIVER,
            from_domain,
            failing,
            CODE_UNAUTHENTICATED,
            {**data, "verdict": VERDICT_REJECT},
        )
    return Fact(
        CHECK_RECEIVER,
        from_domain,
        WARNING,
        CODE_ACCEPTED_UNALIGNED,
        {**data, "verdict": VERDICT_ACCEPT},
    )
