# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""How mail reaches an alias domain encrypted: the TLS of its MX hosts, its
MTA-STS policy (RFC 8461) and its TLS reporting record (RFC 8460)
(pure Python, no ORM).

The inbound side of Check DNS, one alias domain at a time, returning
:class:`.checks.Fact` values as the sending checks do (no wording):

* ``mx_tls``, one fact per MX host (at most :data:`MAX_MX_HOSTS`, in
  preference order; the domain itself when it has no MX, RFC 5321 §5.1): the
  host's address through the configured nameservers, a real connection to
  port 25 (EHLO, STARTTLS), the protocol and cipher negotiated, whether the
  certificate verifies and names the MX host (RFC 7672 §3.2, RFC 8461 §4.2:
  the MX host name, not the address nor the domain) and when it expires
  (within :data:`EXPIRY_WARNING_DAYS`: ``warning``). ``data["gateway"]``
  says whether the host is the mailgate's public name: every MX is
  reported, the mailgate's and the others. A certificate that does not
  verify, STARTTLS not offered, a failed handshake: ``warning`` (senders
  deliver in clear or without checking), ``fail`` when the domain's MTA-STS
  policy is enforced (senders that honour it do not deliver). A null MX
  (RFC 7505): one ``warning`` (no mail, nothing to check).
* ``mta_sts``, one fact for the domain: the ``_mta-sts`` TXT record
  (exactly one ``v=STSv1`` record with a valid ``id``, §3.1), then the
  policy at ``https://mta-sts.<domain>/.well-known/mta-sts.txt``, fetched
  from the address the configured nameservers give, the certificate
  verified for ``mta-sts.<domain>``, no redirect followed (§3.3), at most
  :data:`POLICY_MAX_BYTES`, ``text/plain``; its version, mode, ``mx``
  patterns (a ``*.`` wildcard for one leftmost label, §4.1) and ``max_age``
  (at most 31557600). No record: ``pass`` (informational), proposing a
  record and a policy in mode ``testing`` when every MX certificate is
  valid. A record whose policy cannot be fetched or read: ``warning``
  (senders act as if there were none). An MX host no pattern matches or an
  MX certificate not valid: ``fail`` in mode ``enforce``, ``warning`` in
  ``testing``.
* ``tls_rpt``: the ``_smtp._tls`` TXT record (one ``v=TLSRPTv1`` record with
  ``rua=`` URIs, mailto or https, RFC 8460 §3): absent or invalid
  ``warning``, proposing ``rua=mailto:`` the report alias; valid but not
  naming the report alias ``warning`` proposing it added; else ``pass``.

A temporary DNS error is ``unknown`` as everywhere in Check DNS.
"""

import dataclasses
import datetime
import http.client
import re
import socket
import ssl
import urllib.parse

from .. import mail_dns
from .checks import (
    FAIL,
    PASS,
    UNKNOWN,
    WARNING,
    Fact,
    _addresses,
    _dns_fact,
    _error_text,
    _name,
    _tls_context,
    probe_tls,
    session_data,
    txt_record,
)

CHECK_MX_TLS = "mx_tls"
CHECK_MTA_STS = "mta_sts"
CHECK_TLS_RPT = "tls_rpt"
#: the three inbound checks, in the order Check DNS lists them
INBOUND_CHECKS = (CHECK_MX_TLS, CHECK_MTA_STS, CHECK_TLS_RPT)

# mx_tls codes
CODE_MX_TLS = "mx_tls"
CODE_MX_TLS_EXPIRING = "mx_tls_expiring"
CODE_MX_TLS_UNVERIFIED = "mx_tls_unverified"
CODE_MX_NO_STARTTLS = "mx_no_starttls"
CODE_MX_TLS_FAILED = "mx_tls_failed"
CODE_MX_UNREACHABLE = "mx_unreachable"
CODE_MX_NO_ADDRESS = "mx_no_address"
CODE_MX_NULL = "mx_null"
CODE_MX_NO_DOMAIN = "mx_no_domain"
# mta_sts codes
CODE_STS_ABSENT = "sts_absent"
CODE_STS_RECORD_INVALID = "sts_record_invalid"
CODE_STS_FETCH_FAILED = "sts_fetch_failed"
CODE_STS_POLICY_INVALID = "sts_policy_invalid"
CODE_STS_MX_MISMATCH = "sts_mx_mismatch"
CODE_STS_CERTIFICATE = "sts_certificate"
CODE_STS_OK = "sts_ok"
# tls_rpt codes
CODE_RPT_OK = "rpt_ok"
CODE_RPT_ABSENT = "rpt_absent"
CODE_RPT_INVALID = "rpt_invalid"
CODE_RPT_OTHER = "rpt_other"

# why the policy could not be fetched (data "error" of sts_fetch_failed)
FETCH_NO_ADDRESS = "no_address"
FETCH_CONNECT = "connect"
FETCH_CERTIFICATE = "certificate"
FETCH_REDIRECT = "redirect"
FETCH_STATUS = "status"
FETCH_MEDIA_TYPE = "media_type"
FETCH_TOO_LARGE = "too_large"
# why a record or policy is invalid (data "error")
INVALID_MULTIPLE = "multiple"
INVALID_SYNTAX = "syntax"
INVALID_VERSION = "version"
INVALID_MODE = "mode"
INVALID_MAX_AGE = "max_age"
INVALID_NO_MX = "no_mx"
INVALID_ENCODING = "encoding"

MODE_ENFORCE = "enforce"
MODE_TESTING = "testing"
MODE_NONE = "none"

#: ports connected to; tests on loopback set them
SMTP_PORT = 25
HTTPS_PORT = 443
#: the authorities trusted instead of the machine's (PEM); tests set it
CADATA = None
#: MX hosts connected to at most, in preference order
MAX_MX_HOSTS = 3
#: seconds one network step may take (as the outgoing TLS line)
NETWORK_TIMEOUT = 8.0
#: a certificate expiring within this many days is a warning
EXPIRY_WARNING_DAYS = 14
#: the largest policy read (RFC 8461 §3.3 asks for a bound; 64 KiB)
POLICY_MAX_BYTES = 64 * 1024
POLICY_PATH = "/.well-known/mta-sts.txt"
#: RFC 8461 §3.2: max_age at most a year
POLICY_MAX_AGE = 31557600
#: max_age of a proposed policy: a week, while testing
PROPOSED_MAX_AGE = 604800
_STS_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
_FIELD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")


# ----------------------------------------------------------------------
# TXT records: _mta-sts and _smtp._tls
# ----------------------------------------------------------------------


def _tag_records(answer, version):
    """The TXT records of ``answer`` that start with ``version`` (``v=STSv1``),
    as text."""
    if not answer.found:
        return []
    texts = [record.decode("utf-8", "replace") for record in answer.records]
    return [
        text
        for text in texts
        if re.match(rf"^{re.escape(version)}\s*(;|$)", text.strip())
    ]


def parse_tags(text):
    """``{name: value}`` of a ``name=value; …`` record, or ``None`` when a
    field has no ``=`` or a bad name."""
    tags = {}
    for field in text.split(";"):
        field = field.strip()
        if not field:
            continue
        name, sep, value = field.partition("=")
        name = name.strip()
        if not sep or not _FIELD_NAME.match(name) or name in tags:
            return None
        tags[name] = value.strip()
    return tags


def parse_sts_record(text):
    """The ``id`` of an ``_mta-sts`` record (RFC 8461 §3.1), or ``""`` when it
    is not valid."""
    tags = parse_tags(text)
    if not tags or tags.get("v") != "STSv1":
        return ""
    sts_id = tags.get("id", "")
    return sts_id if _STS_ID.match(sts_id) else ""


def parse_tlsrpt_record(text):
    """The ``rua`` URIs of a ``_smtp._tls`` record (RFC 8460 §3), or ``None``
    when it is not valid (no ``rua``, a URI neither mailto: nor https:)."""
    tags = parse_tags(text)
    if not tags or tags.get("v") != "TLSRPTv1" or not tags.get("rua"):
        return None
    uris = [uri.strip() for uri in tags["rua"].split(",")]
    for uri in uris:
        scheme = uri.partition(":")[0].lower()
        if scheme not in ("mailto", "https") or not uri.partition(":")[2]:
            return None
    return uris


def _mailto_addresses(uris):
    return [
        urllib.parse.unquote(uri.partition(":")[2]).partition("?")[0].strip().lower()
        for uri in uris
        if uri.lower().startswith("mailto:")
    ]


def check_tls_rpt(domain, resolver, deadline, report_address=""):
    """The ``tls_rpt`` fact of ``domain``: one valid ``v=TLSRPTv1`` record
    whose ``rua`` names ``report_address`` (the report alias) passes."""
    domain = _name(domain)
    name = f"_smtp._tls.{domain}"
    report_address = (report_address or "").lower()
    data = {"name": name, "report_address": report_address}
    answer = resolver.resolve(name, "TXT", deadline)
    if answer.temporary:
        return _dns_fact(CHECK_TLS_RPT, domain, answer, **data)
    fresh = (
        txt_record(name, f"v=TLSRPTv1; rua=mailto:{report_address}")
        if report_address
        else ""
    )
    records = _tag_records(answer, "v=TLSRPTv1")
    if not records:
        return Fact(CHECK_TLS_RPT, domain, WARNING, CODE_RPT_ABSENT, data, fresh)
    data["records"] = records
    if len(records) > 1:
        data["error"] = INVALID_MULTIPLE
        return Fact(CHECK_TLS_RPT, domain, WARNING, CODE_RPT_INVALID, data, fresh)
    uris = parse_tlsrpt_record(records[0])
    if uris is None:
        data["error"] = INVALID_SYNTAX
        return Fact(CHECK_TLS_RPT, domain, WARNING, CODE_RPT_INVALID, data, fresh)
    data["rua"] = uris
    if not report_address or report_address in _mailto_addresses(uris):
        return Fact(CHECK_TLS_RPT, domain, PASS, CODE_RPT_OK, data)
    rua = ",".join([*uris, f"mailto:{report_address}"])
    proposal = txt_record(name, f"v=TLSRPTv1; rua={rua}")
    return Fact(CHECK_TLS_RPT, domain, WARNING, CODE_RPT_OTHER, data, proposal)


# ----------------------------------------------------------------------
# the MTA-STS policy
# ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PolicyFetch:
    """What fetching the policy found: ``text`` (the body) or ``error`` (a
    ``FETCH_*``) and ``detail`` (the status, the location, OpenSSL's reason,
    the media type)."""

    text: str = ""
    error: str = ""
    detail: str = ""


def _policy_response(connection, limit):
    """Read the policy's response: a :class:`PolicyFetch`."""
    response = connection.getresponse()
    if 300 <= response.status < 400:
        # RFC 8461 §3.3: senders follow no redirect
        return PolicyFetch(
            error=FETCH_REDIRECT,
            detail=f"{response.status} {response.getheader('Location', '')}".strip(),
        )
    if response.status != 200:
        return PolicyFetch(
            error=FETCH_STATUS, detail=f"{response.status} {response.reason}"
        )
    media_type = (response.getheader("Content-Type") or "").partition(";")[0]
    if media_type.strip().lower() != "text/plain":
        return PolicyFetch(error=FETCH_MEDIA_TYPE, detail=media_type.strip())
    length = response.getheader("Content-Length") or ""
    if length.isdigit() and int(length) > limit:
        return PolicyFetch(error=FETCH_TOO_LARGE, detail=length)
    body = response.read(limit + 1)
    if len(body) > limit:
        return PolicyFetch(error=FETCH_TOO_LARGE, detail=f">{limit}")
    try:
        return PolicyFetch(text=body.decode("utf-8"))
    except UnicodeDecodeError:
        return PolicyFetch(error=INVALID_ENCODING)


def fetch_policy(host, address, timeout=NETWORK_TIMEOUT, cadata=None, port=None):
    """GET ``https://<host>/.well-known/mta-sts.txt`` from ``address`` (the
    certificate verified for ``host``, SNI ``host``), every step within
    ``timeout`` seconds, at most :data:`POLICY_MAX_BYTES` read: a
    :class:`PolicyFetch`."""
    port = port or HTTPS_PORT
    context = _tls_context(cadata, verify=True)
    try:
        raw = socket.create_connection((address, port), timeout=timeout)
    except OSError as exc:
        return PolicyFetch(error=FETCH_CONNECT, detail=_error_text(exc))
    try:
        sock = context.wrap_socket(raw, server_hostname=host)
    except ssl.SSLCertVerificationError as exc:
        raw.close()
        return PolicyFetch(
            error=FETCH_CERTIFICATE, detail=exc.verify_message or str(exc)
        )
    except (ssl.SSLError, OSError) as exc:
        raw.close()
        return PolicyFetch(error=FETCH_CONNECT, detail=_error_text(exc))
    connection = http.client.HTTPSConnection(host, port, timeout=timeout)
    connection.sock = sock
    try:
        connection.request("GET", POLICY_PATH, headers={"Accept": "text/plain"})
        return _policy_response(connection, POLICY_MAX_BYTES)
    except (OSError, http.client.HTTPException) as exc:
        return PolicyFetch(error=FETCH_CONNECT, detail=_error_text(exc))
    finally:
        connection.close()


def parse_policy(text):
    """``(policy, error)`` of a policy file (RFC 8461 §3.2): ``policy`` a dict
    (``version``, ``mode``, ``mx`` list, ``max_age``), ``error`` an
    ``INVALID_*`` code or ``""``."""
    fields = {}
    patterns = []
    for line in re.split(r"\r?\n", text):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep:
            return {}, INVALID_SYNTAX
        key, value = key.strip(), value.strip()
        if key == "mx":
            patterns.append(_name(value))
        else:
            fields.setdefault(key, value)
    policy = {
        "version": fields.get("version", ""),
        "mode": fields.get("mode", ""),
        "mx": patterns,
        "max_age": fields.get("max_age", ""),
    }
    if policy["version"] != "STSv1":
        return policy, INVALID_VERSION
    if policy["mode"] not in (MODE_ENFORCE, MODE_TESTING, MODE_NONE):
        return policy, INVALID_MODE
    max_age = policy["max_age"]
    if not max_age.isdigit() or int(max_age) > POLICY_MAX_AGE:
        return policy, INVALID_MAX_AGE
    policy["max_age"] = int(max_age)
    if not patterns and policy["mode"] != MODE_NONE:
        return policy, INVALID_NO_MX
    return policy, ""


def mx_matches(pattern, host):
    """Does the policy's ``mx`` ``pattern`` match the MX ``host`` (RFC 8461
    §4.1: ``*.`` stands for exactly one leftmost label)?"""
    pattern, host = _name(pattern), _name(host)
    if pattern.startswith("*."):
        label, dot, rest = host.partition(".")
        return bool(label and dot) and rest == pattern[2:]
    return pattern == host


def policy_proposal(domain, mx_hosts, today=None):
    """``(TXT record, policy file text)`` proposed for a domain without
    MTA-STS: mode ``testing`` (senders report, still deliver) for its MX
    hosts."""
    today = today or datetime.date.today()
    record = txt_record(f"_mta-sts.{domain}", f"v=STSv1; id={today:%Y%m%d}01")
    lines = ["version: STSv1", f"mode: {MODE_TESTING}"]
    lines += [f"mx: {host}" for host in mx_hosts]
    lines.append(f"max_age: {PROPOSED_MAX_AGE}")
    return record, "\n".join(lines)


def _fetch_domain_policy(domain, resolver, deadline, cadata):
    """``(PolicyFetch or None, DNS result)``: the policy of ``domain`` from the
    address of ``mta-sts.<domain>`` the nameservers give (``None`` with the
    temporary DNS result when they did not answer)."""
    host = f"mta-sts.{domain}"
    for rdtype in ("A", "AAAA"):
        answer = resolver.resolve(host, rdtype, deadline)
        if answer.temporary:
            return None, answer
        addresses = _addresses(answer)
        if addresses:
            timeout = min(NETWORK_TIMEOUT, max(deadline.remaining(), 0.5))
            return fetch_policy(host, addresses[0], timeout, cadata), answer
    return PolicyFetch(error=FETCH_NO_ADDRESS), answer


# Over 60 lines on purpose: RFC 8461's steps in the order a sender takes
# them (TXT record, policy fetch, policy syntax, MX patterns, certificates),
# each returning its fact.
def check_mta_sts(domain, mx_facts, resolver, deadline, cadata=None):
    """The ``mta_sts`` fact of ``domain``, given its ``mx_tls`` facts (whose
    hosts the policy must match and whose certificates it requires)."""
    domain = _name(domain)
    name = f"_mta-sts.{domain}"
    data = {"name": name, "policy_url": f"https://mta-sts.{domain}{POLICY_PATH}"}
    answer = resolver.resolve(name, "TXT", deadline)
    if answer.temporary:
        return _dns_fact(CHECK_MTA_STS, domain, answer, **data)
    # the MX hosts (not the one fact of a null MX or a DNS error)
    hosts = [fact.domain for fact in mx_facts if "preference" in fact.data]
    valid = bool(hosts) and all(fact.status == PASS for fact in mx_facts)
    records = _tag_records(answer, "v=STSv1")
    if not records:
        proposal = ""
        if valid:
            proposal, data["policy_proposal"] = policy_proposal(domain, hosts)
        return Fact(CHECK_MTA_STS, domain, PASS, CODE_STS_ABSENT, data, proposal)
    data["records"] = records
    if len(records) > 1 or not parse_sts_record(records[0]):
        data["error"] = INVALID_MULTIPLE if len(records) > 1 else INVALID_SYNTAX
        return Fact(CHECK_MTA_STS, domain, WARNING, CODE_STS_RECORD_INVALID, data)
    data["id"] = parse_sts_record(records[0])
    fetched, dns_answer = _fetch_domain_policy(domain, resolver, deadline, cadata)
    if fetched is None:
        return _dns_fact(CHECK_MTA_STS, domain, dns_answer, **data)
    if fetched.error:
        data.update(error=fetched.error, detail=fetched.detail)
        return Fact(CHECK_MTA_STS, domain, WARNING, CODE_STS_FETCH_FAILED, data)
    policy, error = parse_policy(fetched.text)
    data.update(policy)
    if error:
        data["error"] = error
        return Fact(CHECK_MTA_STS, domain, WARNING, CODE_STS_POLICY_INVALID, data)
    mode = policy["mode"]
    failing = FAIL if mode == MODE_ENFORCE else WARNING
    if mode == MODE_NONE:
        return Fact(CHECK_MTA_STS, domain, PASS, CODE_STS_OK, data)
    unmatched = [
        host
        for host in hosts
        if not any(mx_matches(pattern, host) for pattern in policy["mx"])
    ]
    if unmatched:
        data["unmatched"] = unmatched
        return Fact(CHECK_MTA_STS, domain, failing, CODE_STS_MX_MISMATCH, data)
    invalid = [
        fact.domain
        for fact in mx_facts
        if "preference" in fact.data
        and fact.code not in (CODE_MX_TLS, CODE_MX_TLS_EXPIRING)
    ]
    if any(fact.status == UNKNOWN for fact in mx_facts):
        unknown = [fact.domain for fact in mx_facts if fact.status == UNKNOWN]
        data["unknown"] = unknown
        invalid = [host for host in invalid if host not in unknown]
    if invalid:
        data["invalid"] = invalid
        return Fact(CHECK_MTA_STS, domain, failing, CODE_STS_CERTIFICATE, data)
    if data.get("unknown"):
        return Fact(CHECK_MTA_STS, domain, UNKNOWN, CODE_STS_CERTIFICATE, data)
    status = PASS if mode == MODE_ENFORCE else WARNING
    return Fact(CHECK_MTA_STS, domain, status, CODE_STS_OK, data)


# ----------------------------------------------------------------------
# the MX hosts and their TLS
# ----------------------------------------------------------------------


def _days_left(der, now=None):
    """Days until the certificate (DER) expires, or ``None``."""
    from cryptography import x509

    try:
        not_after = x509.load_der_x509_certificate(der).not_valid_after_utc
    except Exception:  # a certificate cryptography cannot read
        return None
    now = now or datetime.datetime.now(datetime.UTC)
    return (not_after - now).days


def mx_tls_fact(host, address, probe, data):
    """The ``mx_tls`` fact of MX ``host`` at ``address`` from the
    :class:`.checks.TlsProbe` of a real connection (``data``: the host's
    preference, gateway and implicit flags)."""
    data = {**data, "mx_host": host, "address": address, "port": SMTP_PORT}
    data["endpoint"] = f"{host} ({address}:{SMTP_PORT})"
    if not probe.connected:
        data["error"] = probe.error
        return Fact(CHECK_MX_TLS, host, UNKNOWN, CODE_MX_UNREACHABLE, data)
    if probe.error:
        data["error"] = probe.error
        return Fact(CHECK_MX_TLS, host, WARNING, CODE_MX_TLS_FAILED, data)
    if not probe.encrypted:
        return Fact(CHECK_MX_TLS, host, WARNING, CODE_MX_NO_STARTTLS, data)
    days = _days_left(probe.certificate)
    data.update(session_data(probe), days_left=days)
    if not (probe.verified and probe.name_matches):
        return Fact(CHECK_MX_TLS, host, WARNING, CODE_MX_TLS_UNVERIFIED, data)
    if days is not None and days < EXPIRY_WARNING_DAYS:
        return Fact(CHECK_MX_TLS, host, WARNING, CODE_MX_TLS_EXPIRING, data)
    return Fact(CHECK_MX_TLS, host, PASS, CODE_MX_TLS, data)


def _mx_hosts(domain, resolver, deadline):
    """``(hosts, fact)``: the MX hosts of ``domain`` as ``[(preference, host)]``
    (the domain itself when it has no MX: ``implicit``), or the one fact that
    ends the check (null MX, no such domain, no DNS answer)."""
    answer = resolver.resolve(domain, "MX", deadline)
    data = {"domain": domain}
    if answer.temporary:
        return [], _dns_fact(CHECK_MX_TLS, domain, answer, **data)
    if answer.status == mail_dns.NXDOMAIN:
        return [], Fact(CHECK_MX_TLS, domain, FAIL, CODE_MX_NO_DOMAIN, data)
    if not answer.found:
        return [(0, domain, True)], None
    hosts = sorted(
        (int(preference), _name(exchange), False)
        for preference, _space, exchange in (
            record.partition(" ") for record in answer.records
        )
    )
    if any(host == "" for _preference, host, _implicit in hosts):
        return [], Fact(CHECK_MX_TLS, domain, WARNING, CODE_MX_NULL, data)
    return hosts, None


def check_mx_tls(domain, resolver, deadline, gateway_hosts=(), cadata=None):
    """The ``mx_tls`` facts of ``domain``: one per MX host (at most
    :data:`MAX_MX_HOSTS`), or one for the domain when it has a null MX, does
    not exist or DNS did not answer."""
    domain = _name(domain)
    hosts, fact = _mx_hosts(domain, resolver, deadline)
    if fact:
        return [fact]
    gateways = {_name(host) for host in gateway_hosts or ()}
    facts = []
    for preference, host, implicit in hosts[:MAX_MX_HOSTS]:
        data = {
            "domain": domain,
            "preference": preference,
            "gateway": host in gateways,
            "implicit": implicit,
            "skipped": max(len(hosts) - MAX_MX_HOSTS, 0),
        }
        address = ""
        for rdtype in ("A", "AAAA"):
            answer = resolver.resolve(host, rdtype, deadline)
            if answer.temporary:
                break
            address = next(iter(_addresses(answer)), "")
            if address:
                break
        if answer.temporary:
            facts.append(_dns_fact(CHECK_MX_TLS, host, answer, **data))
            continue
        if not address:
            data["mx_host"] = host
            facts.append(Fact(CHECK_MX_TLS, host, FAIL, CODE_MX_NO_ADDRESS, data))
            continue
        timeout = min(NETWORK_TIMEOUT, max(deadline.remaining(), 0.5))
        probe = probe_tls(
            host, SMTP_PORT, "starttls", timeout=timeout, cadata=cadata, address=address
        )
        facts.append(mx_tls_fact(host, address, probe, data))
    return facts


def enforced(mx_facts, sts_fact):
    """The ``mx_tls`` facts as senders honouring an enforced policy see them:
    a host without a valid certificate ``fail``s (they will not deliver)."""
    # a policy that is valid (whatever it says of the MX hosts) is applied
    applied = (CODE_STS_OK, CODE_STS_MX_MISMATCH, CODE_STS_CERTIFICATE)
    if sts_fact.code not in applied or sts_fact.data.get("mode") != MODE_ENFORCE:
        return mx_facts
    return [
        dataclasses.replace(fact, status=FAIL, data={**fact.data, "mode": MODE_ENFORCE})
        if fact.status == WARNING
        and fact.code
        in (CODE_MX_TLS_UNVERIFIED, CODE_MX_NO_STARTTLS, CODE_MX_TLS_FAILED)
        else fact
        for fact in mx_facts
    ]


def check_inbound(
    domain, resolver, deadline, gateway_hosts=(), report_address="", cadata=None
):
    """Every inbound fact of ``domain``: its ``mx_tls`` facts, ``mta_sts`` and
    ``tls_rpt``. ``cadata``: authorities to trust instead of the machine's
    (default :data:`CADATA`)."""
    cadata = cadata if cadata is not None else CADATA
    mx_facts = check_mx_tls(domain, resolver, deadline, gateway_hosts, cadata)
    sts = check_mta_sts(domain, mx_facts, resolver, deadline, cadata)
    rpt = check_tls_rpt(domain, resolver, deadline, report_address)
    return [*enforced(mx_facts, sts), sts, rpt]
