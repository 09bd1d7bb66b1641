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
``pass`` or ``fail``.

Rules chosen here
-----------------

* SPF (RFC 7208): the TXT records of the domain opening with ``v=spf1``
  (pyspf's own pattern): none is ``fail`` (``no_record``, a record proposed
  from the sending addresses and ``includes``, ending ``~all``), two or more
  ``fail`` (``multiple_records``). The record is then walked once by pyspf
  (the subclass :mod:`.mail_auth` uses, lax mode so that it keeps counting)
  for an address of TEST-NET-1 (``192.0.2.1``) that no record means to
  authorise: more than 2 void lookups is ``fail`` (``too_many_void_lookups``),
  more than 10 DNS-querying terms (include, a, mx, ptr, exists, redirect,
  counted through includes as pyspf counts them) ``fail``
  (``too_many_lookups``), any other permanent error ``fail``
  (``record_syntax``), and a record that authorises that address (``+all``,
  ``all`` or a catch-all range, in the record or an include) ``fail``
  (``allows_any``). Each sending address (or both ends of a sending range)
  is then evaluated by pyspf for ``postmaster@<domain>`` as
  :func:`.mail_auth.check_spf` does: all ``pass`` is ``pass``; any
  ``fail`` is ``fail``, else any ``softfail``/``neutral`` ``warning``
  (``not_authorised``, data ``results``), with the record proposed: the
  existing one with ``ip4:``/``ip6:`` terms for the addresses that did not
  pass inserted after ``v=spf1`` (other terms and the ``all`` qualifier
  kept). No sending address: ``unknown`` (``no_sending_address``; a relay
  whose range the admin must enter).
* DKIM (RFC 6376, RFC 8301, RFC 8463): one fact per selector, at
  ``<selector>._domainkey.<domain>`` (CNAMEs followed by the resolver); the
  first TXT record is the key, as dkimpy reads it. No record: ``fail``
  (``no_key``); an empty ``p=``: ``fail`` (``key_revoked``); a key dkimpy
  cannot parse: ``fail`` (``key_format``); RSA under 1024 bits ``fail``
  (``key_too_small``), under 2048 ``warning`` (``key_weak``); RSA of 2048
  bits and more, or ed25519: ``pass``. No selector: one ``warning``
  (``no_selector``).
* DMARC (RFC 7489, as :func:`.mail_auth.evaluate_dmarc` finds it: the From
  domain, else its organisational domain; ``sp`` for a From below the
  organisational domain whose record applies): no record is ``fail``
  (``no_record``: Gmail's and Yahoo's bulk-sender rules want one) with
  ``_dmarc.<org>. TXT "v=DMARC1; p=none; rua=mailto:dmarc@<org>"``;
  several records ``fail`` (``multiple_records``), an invalid one ``fail``
  (``record_syntax``); ``p=none`` applying to the From domain ``warning``
  (``policy_none``); quarantine/reject ``pass`` (``policy_enforced``).
* Alignment: the envelope domain aligns with the From domain for SPF, a
  signing domain for DKIM, relaxed or strict as the record says (relaxed
  without a record). Something aligned: ``pass``. Nothing aligned: with a
  quarantine/reject policy ``fail`` (``not_aligned``, data ``would_be``
  the policy), with ``p=none`` or no record ``warning``
  (``would_be: none``). With the DMARC fact ``unknown``, ``unknown``.
* MX (RFC 5321 §5.1, RFC 7505): an MX record naming one of the expected
  hosts (case and final dot ignored) is ``pass``; MX records elsewhere
  ``fail`` (``mx_elsewhere``); a null MX ``fail`` (``null_mx``); no MX
  (NODATA: mail goes to the A record) ``warning`` (``no_mx``); no such
  domain ``fail`` (``no_domain``); each proposing
  ``<domain>. MX 10 <first expected host>.``. No expected host: any MX
  passes (``mx_found``).
* Reverse DNS (forward-confirmed, RFC 8601 §3 "iprev"): the PTR names of
  the address, and for each the A (AAAA for IPv6) records: one of them
  the address is ``pass``; PTR names that do not resolve back ``fail``
  (``ptr_mismatch``, proposing ``<ptr name>. A <address>``); no PTR
  ``fail`` (``no_ptr``, proposing ``<reverse name>. PTR <host name>.``
  when the host name is known).

:func:`check_sending_path` composes them for one sending path under one
deadline; every lookup goes through the resolver's cache, so a second run
within the TTLs sends no query (``resolver.queries_sent`` shows it).
"""

import dataclasses
import ipaddress
import re

import dkim
import dkim.util
import dns.exception
import dns.reversename
import spf

from . import mail_auth, mail_dns
from .mail_auth import (
    REASON_DNS_PREFIX,
    _find_dmarc_record,
    _int_tag,
    _mode_tag,
    _record_policy,
    _SpfQuery,
    aligned,
    org_domain,
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
CODE_AUTHORISED = "authorised"
CODE_NO_SENDING_ADDRESS = "no_sending_address"
CODE_NO_RECORD = "no_record"
CODE_MULTIPLE_RECORDS = "multiple_records"
CODE_RECORD_SYNTAX = "record_syntax"
CODE_TOO_MANY_LOOKUPS = "too_many_lookups"
CODE_TOO_MANY_VOID_LOOKUPS = "too_many_void_lookups"
CODE_ALLOWS_ANY = "allows_any"
CODE_NOT_AUTHORISED = "not_authorised"
CODE_KEY_OK = "key_ok"
CODE_NO_SELECTOR = "no_selector"
CODE_NO_KEY = "no_key"
CODE_KEY_REVOKED = "key_revoked"
CODE_KEY_FORMAT = "key_format"
CODE_KEY_TOO_SMALL = "key_too_small"
CODE_KEY_WEAK = "key_weak"
CODE_POLICY_NONE = "policy_none"
CODE_POLICY_ENFORCED = "policy_enforced"
CODE_ALIGNED = "aligned"
CODE_NOT_ALIGNED = "not_aligned"
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
#: TLS of the connection to the outgoing server
CHECK_TLS = "tls"
CODE_TLS = "tls"
CODE_NO_TLS = "no_tls"
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
    """The ``unknown`` fact of a temporary DNS error."""
    return Fact(
        check,
        subject,
        UNKNOWN,
        REASON_DNS_PREFIX + result.status,
        {"name": result.name, "rdtype": result.rdtype, **data},
    )


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


def _networks(sending_ips):
    """``sending_ips`` (addresses or ranges) as networks, duplicates dropped; raises
    ``ValueError``."""
    networks = []
    for item in sending_ips:
        network = ipaddress.ip_network(str(item).strip(), strict=False)
        if network not in networks:
            networks.append(network)
    return networks


def _spf_term(network):
    kind = "ip4" if network.version == 4 else "ip6"
    if network.prefixlen == network.max_prefixlen:
        return f"{kind}:{network.network_address}"
    return f"{kind}:{network.with_prefixlen}"


def _spf_check(ip, domain, record, resolver, deadline, strict):
    """pyspf's evaluation of ``record`` for ``postmaster@<domain>`` sending from ``ip``:
    ``(result, query, recorder)``."""
    recorder = _Recorder(resolver)
    query = _SpfQuery(
        i=ip,
        s=f"postmaster@{domain}",
        h=domain,
        resolver=recorder,
        deadline=deadline,
        strict=strict,
    )
    try:
        result, _code, _explanation = query.check(spf=record)
    except (
        Exception
    ):  # pyspf on hostile records (as mail_auth.check_spf): a permanent error
        result = mail_auth.PERMERROR
    return result, query, recorder


def check_spf(domain, sending_ips, includes, resolver, deadline):
    """The SPF record of ``domain`` for mail sent from ``sending_ips``; returns a
    :class:`Fact`.

    ``sending_ips``: addresses or ranges (``"203.0.113.0/24"``) the path
    sends from; ``includes``: domains a new record should include (a
    provider's ``mailgun.org``). See the module docstring for the rules.
    """
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
    records = (
        [record for record in answer.records if spf.RE_SPF.match(record)]
        if answer.found
        else []
    )
    if not records:
        terms = ["v=spf1", *(_spf_term(network) for network in networks)]
        terms += [f"include:{include}" for include in includes] + [NEW_SPF_ALL]
        proposal = txt_record(domain, " ".join(terms)) if networks or includes else ""
        return Fact(CHECK_SPF, domain, FAIL, CODE_NO_RECORD, {}, proposal)
    texts = [record.decode("utf-8", "replace") for record in records]
    if len(records) > 1:
        # one record with the terms of all of them (and this path's)
        # in a stable order: DNS gives a record set in any order
        terms = [term for text in sorted(texts) for term in text.split()[1:]]
        return Fact(
            CHECK_SPF,
            domain,
            FAIL,
            CODE_MULTIPLE_RECORDS,
            {"records": texts},
            _spf_proposal(domain, terms, networks, includes, resolver, deadline, texts),
        )
    record = texts[0]
    data = {"record": record}
    # one walk of the whole record: limits, syntax, catch-all
    result, walk, recorder = _spf_check(
        SPF_PROBE_ADDRESS, domain, record, resolver, deadline, strict=False
    )
    data.update(lookups=walk.lookups, void_lookups=walk.void_lookups)
    if result == mail_auth.TEMPERROR:
        return _spf_temporary(domain, recorder, answer, data)
    if walk.void_lookups > spf.MAX_VOID_LOOKUPS:
        return Fact(
            CHECK_SPF,
            domain,
            FAIL,
            CODE_TOO_MANY_VOID_LOOKUPS,
            {**data, "limit": spf.MAX_VOID_LOOKUPS},
        )
    if walk.lookups > spf.MAX_LOOKUP:
        # the terms that cost lookups replaced by the addresses they stand for
        flat = _flatten_spf_terms(record.split()[1:], domain, resolver, deadline)
        return Fact(
            CHECK_SPF,
            domain,
            FAIL,
            CODE_TOO_MANY_LOOKUPS,
            {**data, "limit": spf.MAX_LOOKUP},
            _spf_proposal(
                domain, flat, networks, includes, resolver, deadline, [record]
            )
            if flat is not None
            else "",
        )
    if result == mail_auth.PERMERROR:
        error = walk.perm_error
        return Fact(
            CHECK_SPF,
            domain,
            FAIL,
            CODE_RECORD_SYNTAX,
            {**data, "term": str(getattr(error, "mech", "") or "")},
        )
    if result == mail_auth.PASS:
        # without the terms that let anyone pass (a catch-all, a range of
        # everything, an include that does so)
        terms = [
            term
            for term in record.split()[1:]
            if not _spf_allows_any(term, domain, resolver, deadline)
        ]
        return Fact(
            CHECK_SPF,
            domain,
            FAIL,
            CODE_ALLOWS_ANY,
            {**data, "probe": SPF_PROBE_ADDRESS},
            _spf_proposal(
                domain, terms, networks, includes, resolver, deadline, [record]
            ),
        )
    # the includes the admin named for a relay: the record must name them
    named = _record_includes(record)
    missing_includes = [include for include in includes if include not in named]
    if includes:
        data["includes"] = {include: include in named for include in includes}
    if not networks and not includes:
        return Fact(CHECK_SPF, domain, UNKNOWN, CODE_NO_SENDING_ADDRESS, data)
    # each sending address, as a receiver evaluates it
    results, missing, temporary = _evaluate_networks(
        networks, domain, record, resolver, deadline
    )
    if temporary is not None:
        return _spf_temporary(domain, temporary, answer, data)
    if networks:
        data["results"] = results
    if not missing and not missing_includes:
        return Fact(CHECK_SPF, domain, PASS, CODE_AUTHORISED, data)
    status = (
        FAIL
        if missing_includes
        or any(_SPF_STATUS.get(outcome, FAIL) == FAIL for outcome in results.values())
        else WARNING
    )
    terms = record.split()
    added = [_spf_term(network) for network in missing]
    added += [f"include:{include}" for include in missing_includes]
    proposal = txt_record(domain, " ".join([terms[0], *added, *terms[1:]]))
    return Fact(CHECK_SPF, domain, status, CODE_NOT_AUTHORISED, data, proposal)


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


def _spf_proposal(domain, terms, networks, includes, resolver, deadline, originals):
    """The one record to publish instead of ``originals``: ``terms`` without
    duplicates, ``all`` or ``redirect=``, then what this path needs and the
    record does not authorise, then the strictest ``all`` of the originals
    (``~all`` when none was strict); "" when it would still break a limit."""
    mechanisms, seen = [], set()
    for term in terms:
        _qualifier, name, _argument = _spf_mechanism(term)
        if name in ("all", "redirect=") or term.lower() in seen:
            continue
        seen.add(term.lower())
        mechanisms.append(term)
    endings = [
        _spf_mechanism(term)[0]
        for text in originals
        for term in text.split()[1:]
        if _spf_mechanism(term)[1] == "all"
    ]
    ending = "-all" if "-" in endings else NEW_SPF_ALL
    record = " ".join(["v=spf1", *mechanisms, ending])
    _results, missing, temporary = _evaluate_networks(
        networks, domain, record, resolver, deadline
    )
    if temporary is not None:
        return ""
    named = _record_includes(record)
    added = [_spf_term(network) for network in missing]
    added += [f"include:{include}" for include in includes if include not in named]
    record = " ".join(["v=spf1", *mechanisms, *added, ending])
    result, walk, _recorder = _spf_check(
        SPF_PROBE_ADDRESS, domain, record, resolver, deadline, strict=False
    )
    if (
        result in (mail_auth.PASS, mail_auth.PERMERROR, mail_auth.TEMPERROR)
        or walk.lookups > spf.MAX_LOOKUP
        or walk.void_lookups > spf.MAX_VOID_LOOKUPS
    ):
        return ""
    return txt_record(domain, record)


def _flatten_spf_terms(terms, domain, resolver, deadline, depth=0):
    """``terms`` with ``a``, ``mx`` and ``include`` replaced by the ``ip4``/``ip6``
    terms of the addresses they name today (an include: its passing terms),
    or ``None`` when a term cannot be (a macro, ``ptr``/``exists``, a DNS
    error, includes nested too deep). The addresses must be renewed when the
    provider changes them: that is the price of fewer lookups."""
    if depth > spf.MAX_LOOKUP:
        return None
    flat = []
    for term in terms:
        qualifier, name, argument = _spf_mechanism(term)
        if "%" in argument or name in ("ptr", "exists", "exp="):
            return None
        if name in ("a", "mx"):
            target, _slash, prefix = argument.partition("/")
            prefix = prefix.partition("//")[0]  # dual CIDR: the IPv4 length
            hosts = [target or domain]
            if name == "mx":
                answer = resolver.resolve(hosts[0], "MX", deadline)
                if answer.temporary:
                    return None
                hosts = (
                    [
                        host
                        for host in (
                            record.split()[-1].rstrip(".") for record in answer.records
                        )
                        if host  # a null MX names no host
                    ]
                    if answer.found
                    else []
                )
            for host in hosts:
                for rdtype in ("A", "AAAA"):
                    answer = resolver.resolve(host, rdtype, deadline)
                    if answer.temporary:
                        return None
                    for address in answer.records if answer.found else ():
                        network = ipaddress.ip_network(
                            f"{address}/{prefix}"
                            if prefix and rdtype == "A"
                            else address,
                            strict=False,
                        )
                        flat.append(qualifier.replace("+", "") + _spf_term(network))
        elif name in ("include", "redirect="):
            answer = resolver.resolve(argument, "TXT", deadline)
            if answer.temporary:
                return None
            found = [
                record.decode("utf-8", "replace")
                for record in (answer.records if answer.found else ())
                if spf.RE_SPF.match(record)
            ]
            if len(found) != 1:
                return None
            inner = _flatten_spf_terms(
                found[0].split()[1:], argument, resolver, deadline, depth + 1
            )
            if inner is None:
                return None
            # an include only ever passes: its passing terms count; a
            # redirect stands for the whole record (its "all" too)
            flat += [
                item
                for item in inner
                if name == "redirect=" or _spf_mechanism(item)[0] == "+"
            ]
        else:
            flat.append(term)
    return flat


def _evaluate_networks(networks, domain, record, resolver, deadline):
    """pyspf's result for each network (the worse of its two ends):
    ``(results, networks not passing, recorder of a temporary error or None)``."""
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
        results[
            str(network)
            if network.prefixlen != network.max_prefixlen
            else str(network.network_address)
        ] = outcome
        if outcome != mail_auth.PASS:
            missing.append(network)
    return results, missing, None


def _record_includes(record):
    """The domains an SPF record names in ``include:`` or ``redirect=`` terms
    (not through other includes: the admin names the provider's own include)."""
    found = set()
    for term in record.split()[1:]:
        term = term.lower().lstrip("+")
        for prefix in ("include:", "redirect="):
            if term.startswith(prefix):
                found.add(_name(term[len(prefix) :]))
    return found


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


def dmarc_proposal(org):
    """The DMARC record proposed for an organisational domain without one."""
    return txt_record(f"_dmarc.{org}", f"v=DMARC1; p=none; rua=mailto:dmarc@{org}")


def check_dmarc(from_domain, resolver, deadline):
    """The DMARC policy that applies to ``from_domain``; returns a :class:`Fact`.

    ``data``: ``from_domain``, ``org_domain``, ``record_domain``, ``record``,
    ``policy`` (the p= or sp= that applies), ``p``, ``sp``, ``pct``,
    ``adkim``, ``aspf``, ``rua`` (list of URIs).
    """
    from_domain = _name(from_domain)
    organisational = org_domain(from_domain)
    data = {"from_domain": from_domain, "org_domain": organisational}
    record_domain = from_domain
    answer, records = _find_dmarc_record(from_domain, resolver, deadline)
    if not answer.temporary and not records and organisational != from_domain:
        record_domain = organisational
        answer, records = _find_dmarc_record(organisational, resolver, deadline)
    if answer.temporary:
        return _dns_fact(CHECK_DMARC, from_domain, answer, **data)
    if not records:
        return Fact(
            CHECK_DMARC,
            from_domain,
            FAIL,
            CODE_NO_RECORD,
            data,
            dmarc_proposal(organisational),
        )
    data["record_domain"] = record_domain
    if len(records) > 1:
        texts = [record.decode("utf-8", "replace") for record in records]
        return Fact(
            CHECK_DMARC,
            from_domain,
            FAIL,
            CODE_MULTIPLE_RECORDS,
            {**data, "records": texts},
        )
    data["record"] = records[0].decode("utf-8", "replace")
    tags = parse_dmarc_record(records[0])
    policy = _record_policy(tags, subdomain=record_domain != from_domain)
    if policy is None:
        return Fact(CHECK_DMARC, from_domain, FAIL, CODE_RECORD_SYNTAX, data)
    data.update(
        policy=policy,
        p=tags.get("p", "").lower(),
        sp=tags.get("sp", "").lower(),
        pct=_int_tag(tags.get("pct"), 100),
        adkim=_mode_tag(tags.get("adkim")),
        aspf=_mode_tag(tags.get("aspf")),
        rua=[uri.strip() for uri in tags.get("rua", "").split(",") if uri.strip()],
    )
    if policy == mail_auth.POLICY_NONE:
        return Fact(CHECK_DMARC, from_domain, WARNING, CODE_POLICY_NONE, data)
    return Fact(CHECK_DMARC, from_domain, PASS, CODE_POLICY_ENFORCED, data)


def check_alignment(from_domain, envelope_domain, dkim_domains, dmarc):
    """Whether mail with this From aligns (DMARC) through SPF or DKIM; returns a
    :class:`Fact`.

    ``envelope_domain``: the MAIL FROM domain the path writes;
    ``dkim_domains``: the ``d=`` the path signs with; ``dmarc``: the
    :class:`Fact` of :func:`check_dmarc` for ``from_domain`` (its modes and
    policy). ``data``: ``aligned`` (``dkim``/``spf``), ``policy``,
    ``would_be`` (what a receiver does with unaligned mail).
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
    policy = dmarc.data.get("policy", "")
    strict_dkim = dmarc.data.get("adkim") == "s"
    strict_spf = dmarc.data.get("aspf") == "s"
    mechanisms = []
    if any(aligned(domain, from_domain, strict_dkim) for domain in dkim_domains):
        mechanisms.append(mail_auth.ALIGNED_DKIM)
    if aligned(envelope_domain, from_domain, strict_spf):
        mechanisms.append(mail_auth.ALIGNED_SPF)
    data.update(
        aligned=mechanisms,
        policy=policy,
        adkim="s" if strict_dkim else "r",
        aspf="s" if strict_spf else "r",
    )
    if mechanisms:
        return Fact(CHECK_ALIGNMENT, from_domain, PASS, CODE_ALIGNED, data)
    if policy in (mail_auth.POLICY_REJECT, mail_auth.POLICY_QUARANTINE):
        return Fact(
            CHECK_ALIGNMENT,
            from_domain,
            FAIL,
            CODE_NOT_ALIGNED,
            {**data, "would_be": policy},
        )
    return Fact(
        CHECK_ALIGNMENT,
        from_domain,
        WARNING,
        CODE_NOT_ALIGNED,
        {**data, "would_be": mail_auth.POLICY_NONE},
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
        return Fact(CHECK_MX, domain, WARNING, CODE_NO_MX, data, proposal)
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
        proposal = f"{reverse}. PTR {hostname}." if hostname else ""
        return Fact(CHECK_REVERSE_DNS, ip, FAIL, CODE_NO_PTR, data, proposal)
    names = list(dict.fromkeys(_name(record) for record in answer.records))
    data["ptr"] = names
    rdtype = "A" if address.version == 4 else "AAAA"
    forward = {}
    for name in names:
        result = resolver.resolve(name, rdtype, deadline)
        if result.temporary:
            return _dns_fact(CHECK_REVERSE_DNS, ip, result, **data)
        addresses = (
            [str(ipaddress.ip_address(record)) for record in result.records]
            if result.found
            else []
        )
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


# ----------------------------------------------------------------------
# a sending path
# ----------------------------------------------------------------------


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
):
    """Every fact of one sending path, in a tuple of :class:`Fact`, under one deadline.

    ``server``: the host name the sending machine announces (proposed as PTR
    target); ``from_domain``: the From the path writes; ``envelope_domain``:
    its MAIL FROM domain (SPF is checked there); ``dkim_selectors``: the
    selectors it signs with, at ``dkim_domain`` (default: the From domain);
    ``sending_ips``: the addresses or ranges mail leaves from (reverse DNS
    is checked for single addresses); ``mx_hosts``: the hosts the From
    domain's MX should name (the mailgate's public name); ``includes``: for
    a proposed SPF record. ``deadline`` (else ``timeout`` seconds from now)
    bounds every lookup: what is left unknown when it is spent is ``unknown``.
    Order: SPF, DKIM (each selector), DMARC, alignment, MX, reverse DNS
    (each address). Alignment counts the DKIM domain only when one of its
    selectors has a usable key (pass or warning).
    """
    if deadline is None:
        deadline = mail_dns.Deadline.after(timeout)
    from_domain = _name(from_domain)
    envelope_domain = _name(envelope_domain) or from_domain
    dkim_domain = _name(dkim_domain) or from_domain
    facts = [check_spf(envelope_domain, sending_ips, includes, resolver, deadline)]
    dkim_facts = check_dkim(dkim_domain, dkim_selectors, resolver, deadline)
    facts += dkim_facts
    dmarc = check_dmarc(from_domain, resolver, deadline)
    facts.append(dmarc)
    # a signature only counts with a key receivers can use
    usable = dkim_selectors and any(
        fact.status in (PASS, WARNING) for fact in dkim_facts
    )
    signing = [dkim_domain] if usable else []
    facts.append(check_alignment(from_domain, envelope_domain, signing, dmarc))
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


def format_sending_addresses(networks, includes):
    return ", ".join([*networks, *(f"include:{include}" for include in includes)])


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


def public_addresses(addresses):
    """The ``addresses`` a receiver on the internet can see (not loopback, private
    or link-local)."""
    found = []
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            continue
        if ip.is_global and str(ip) not in found:
            found.append(str(ip))
    return found


def host_spf(fact):
    """An SPF fact computed for addresses read from the SMTP host's name, not
    entered by the admin: "not authorised" is no verdict (a relay's submission
    host is not where its mail leaves from), so it is ``unknown``."""
    if fact.check == CHECK_SPF and fact.code == CODE_NOT_AUTHORISED:
        return dataclasses.replace(
            fact, status=UNKNOWN, code=CODE_HOST_NOT_AUTHORISED, record_to_publish=""
        )
    return fact


def check_tls(server, encryption):
    """Whether mail to the outgoing server ``server`` travels encrypted (core's
    ``smtp_encryption``: ``starttls``, ``ssl`` or ``none``)."""
    if encryption in ("starttls", "ssl"):
        return Fact(CHECK_TLS, server, PASS, CODE_TLS, {"encryption": encryption})
    return Fact(CHECK_TLS, server, FAIL, CODE_NO_TLS, {"encryption": encryption or ""})


def receiver_verdict(spf_fact, dkim_facts, dmarc_fact, envelope_domain, dkim_domain):
    """What Gmail (and Yahoo, same rules since February 2024) does with mail of this
    From: a :class:`Fact` of check ``receiver``, ``data["verdict"]`` ``accept``,
    ``spam`` or ``reject`` (``unknown`` status when DNS could not tell).

    DMARC passes when an identifier that authenticates is aligned with the
    From: the envelope domain when SPF passes, the DKIM domain when one of its
    selectors has a usable key. Not passing: the policy decides (``reject``,
    ``quarantine``: spam folder); with ``p=none`` or no record, mail that
    neither SPF nor DKIM authenticates is refused (``5.7.26``), other mail
    accepted (bulk senders need alignment: a warning).
    """
    from_domain = dmarc_fact.domain
    spf_pass = spf_fact.status == PASS
    dkim_usable = any(
        fact.status in (PASS, WARNING) and fact.code != CODE_NO_SELECTOR
        for fact in dkim_facts
    )
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
    if alignment.status == FAIL:
        quarantine = data["policy"] == mail_auth.POLICY_QUARANTINE
        return Fact(
            CHECK_RECEIVER,
            from_domain,
            FAIL,
            CODE_QUARANTINED if quarantine else CODE_REJECTED,
            {**data, "verdict": VERDICT_SPAM if quarantine else VERDICT_REJECT},
        )
    if not spf_pass and not dkim_usable:
        return Fact(
            CHECK_RECEIVER,
            from_domain,
            FAIL,
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
