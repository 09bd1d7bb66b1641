# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Authentication of incoming mail: SPF, DKIM, DMARC, ARC (pure Python, no ORM).

:func:`authenticate` checks one message as received (client address, HELO,
MAIL FROM, raw bytes) and returns an :class:`AuthVerdict`: small frozen
dataclasses with result codes, no wording. :meth:`AuthVerdict.header_value`
writes it as an RFC 8601 ``Authentication-Results`` value and
:func:`read_results` reads such a header back (the mailgate's own, or a
trusted provider's for fetched mail). :func:`strip_results` removes
forged headers that claim our authserv-id, :func:`prepend_header` adds ours.

Every DNS lookup goes through :mod:`.mail_dns` (one cache, one deadline per
message); a DNS timeout or server failure makes the method ``temperror``,
never ``pass`` and never "no record".

Rules chosen here
-----------------

* SPF (RFC 7208) checks the MAIL FROM identity; with a null sender (``<>``)
  the HELO identity (``postmaster@<helo>``).
* DKIM (RFC 6376): every DKIM-Signature is verified on its own. RSA keys
  under 1024 bits give ``policy`` (reason ``key_too_small``, RFC 8301), so
  does a valid rsa-sha1 signature (``weak_algorithm``); a missing key or a
  malformed signature or key is ``permerror``; a body or signature mismatch
  ``fail``. At most :data:`MAX_DKIM_SIGNATURES` are verified, the others are
  ``policy`` (``too_many_signatures``): each costs a hash of the whole body.
* DMARC (RFC 9989, May 2026, which obsoletes RFC 7489): the author domain
  is the domain of the one From header. No From header, an unparsable one,
  several From headers, or one From header with addresses in different
  domains give ``permerror`` (reasons ``from_missing``, ``from_syntax``,
  ``from_multiple``): there is no single domain whose policy applies, and a
  ``permerror`` never counts as authenticated. Several addresses of one
  domain are evaluated for that domain. The record is looked up at
  ``_dmarc.<from domain>``, else by the DNS tree walk of RFC 9989 §4.10.1
  (the parents of the From domain up to the root, at most eight queries,
  stopping at ``psd=y``/``psd=n``): the organisational domain's record,
  else the public suffix domain's; ``sp`` applies to an existing From
  domain below the record's domain, ``np`` to one that does not exist
  (NXDOMAIN). Several DMARC records at the From domain give ``none``
  (reason ``multiple_records``). A record without ``p`` reads as
  ``p=none``; an invalid ``p``/``sp``/``np`` is ``permerror`` unless the
  record has ``rua``, which reads as ``p=none``; invalid ``adkim``/``aspf``
  fall back to their defaults. DMARC passes on an SPF pass of an aligned
  domain or a DKIM pass of an aligned ``d=`` (relaxed: the same
  organisational domain by the tree walk of §4.10.2, strict: the same
  name). Without a pass, an aligned SPF or DKIM ``temperror`` (or one of
  a tree walk) makes DMARC ``temperror``. ``t=y`` (test mode) applies the
  next less strict policy: ``reject`` becomes ``quarantine`` and
  ``quarantine`` becomes ``none``; ``pct`` is no tag of RFC 9989 and is
  ignored. :func:`discover_dmarc_7489` still reads a record as RFC 7489
  does (public suffix list, ``pct``) for Check DNS, which shows what older
  receivers do.
* ARC (RFC 8617): dkimpy's ``arc_verify`` checks the chain (``none``,
  ``pass``, ``fail``; ``temperror`` when a key lookup failed temporarily).
  A trusted sealer **vouches** for a message when all of these hold: our
  DMARC result is ``fail``; the chain passes; the ARC-Seal with the highest
  instance has a ``d=`` in ``trusted_arc_sealers`` (exact name, case
  ignored); and that instance's ARC-Authentication-Results (parsed with
  authres) has ``dmarc=pass`` with ``header.from`` our From domain, or a
  ``dkim=pass`` whose ``header.d``, or an ``spf=pass`` whose
  ``smtp.mailfrom`` domain, aligns with our From domain under the DMARC
  record's modes. The verdict then keeps DMARC ``fail`` and records the
  sealer in ``arc_override``; :attr:`AuthVerdict.dmarc_pass` is true and the
  header says ``dmarc=fail reason=trusted_forwarder`` with ``arc=pass
  header.as-d=<sealer>``.

Limits found in the libraries
-----------------------------

* dkimpy 1.1: ``DKIM.verify`` returns ``False`` for a bad signature, a
  missing key, an unparsable key and a DNS timeout alike; the per-lookup
  record of :class:`.mail_dns.DkimTxtLookup` and ``dkim.evaluate_pk`` tell
  them apart here. It raises ``ValidationError`` for a body hash mismatch
  and ``KeyFormatError`` for a short RSA key (only after the signature
  verified), and logs each failure at ERROR (sent to DEBUG here). It accepts
  rsa-sha1. ``arc_verify`` returns ``None`` as the chain result when a seal
  says ``cv=fail`` (read as ``fail``) and ignores its ``timeout`` argument.
* pyspf 2.0.14: its module-level ``DNSLookup`` is the only DNS hook besides
  the ``query.dns()`` method; a subclass overrides ``dns()`` (the void-lookup
  limit of RFC 7208 §4.6.4 is kept, CNAMEs are followed by dnspython). Its
  constructor raises ``PermError`` for an invalid client address.
* authres 1.2: parses ``authserv-id`` only as a dot-atom (RFC 8601 also
  allows a quoted string), drops comments, and silently skips properties it
  cannot parse. Values containing ``@`` are written unquoted whatever else
  they contain, so every value written here is checked first (addresses and
  domains of a safe shape, else left out). The authserv-id of a header is
  therefore read by :func:`header_authserv_id` (token or quoted string).
* DMARC tag lists are parsed with dkimpy's ``parse_tag_value`` (the DKIM
  tag-list syntax DMARC reuses, RFC 7489 §6.4; duplicate tags refused);
  it checks only that a tag name starts with a letter: the values are
  checked here.
* publicsuffixlist reads its bundled list (offline; as fresh as the
  installed release) once per process.
* dkimpy, pyspf and authres are imported in the functions that use them, so
  that they load in the processes that authenticate mail (the mailgate, a
  worker routing incoming mail, Check DNS), not in every worker that loads
  the module.
"""

import dataclasses
import email.parser
import email.policy
import functools
import logging
import re
import threading

from publicsuffixlist import PublicSuffixList

from . import mail_dns
from .address_filter import InputError, domain_to_ascii

_logger = logging.getLogger(__name__)

PASS = "pass"
FAIL = "fail"
SOFTFAIL = "softfail"
NEUTRAL = "neutral"
NONE = "none"
POLICY = "policy"
TEMPERROR = "temperror"
PERMERROR = "permerror"

POLICY_NONE = "none"
POLICY_QUARANTINE = "quarantine"
POLICY_REJECT = "reject"
DMARC_POLICIES = (POLICY_NONE, POLICY_QUARANTINE, POLICY_REJECT)
#: the next less strict policy, for messages outside the pct sample
_POLICY_OUTSIDE_SAMPLE = {
    POLICY_REJECT: POLICY_QUARANTINE,
    POLICY_QUARANTINE: POLICY_NONE,
    POLICY_NONE: POLICY_NONE,
}

SPF_MAILFROM = "mailfrom"
SPF_HELO = "helo"

ALIGNED_DKIM = "dkim"
ALIGNED_SPF = "spf"

MIN_RSA_BITS = 1024
MAX_DKIM_SIGNATURES = 10

# reason codes
REASON_FROM_MISSING = "from_missing"
REASON_FROM_SYNTAX = "from_syntax"
REASON_FROM_MULTIPLE = "from_multiple"
REASON_MULTIPLE_RECORDS = "multiple_records"
REASON_RECORD_SYNTAX = "record_syntax"
REASON_TRUSTED_FORWARDER = "trusted_forwarder"
REASON_MESSAGE_FORMAT = "message_format"
REASON_SIGNATURE_TAGS = "signature_tags"
REASON_NO_KEY = "no_key"
REASON_KEY_FORMAT = "key_format"
REASON_KEY_TOO_SMALL = "key_too_small"
REASON_WEAK_ALGORITHM = "weak_algorithm"
REASON_BODY_HASH = "body_hash"
REASON_SIGNATURE = "signature"
REASON_TOO_MANY_SIGNATURES = "too_many_signatures"
REASON_VERIFIER_ERROR = "verifier_error"
REASON_DNS_PREFIX = "dns_"  # + the DNS status: dns_timeout, dns_servfail

# what may stand unquoted in a header we write (authres does not quote
# values containing "@", whatever else they hold)
_DOMAIN_RE = re.compile(
    r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\Z"
)
_LOCAL_PART_RE = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z"
)
_QUOTED_STRING_RE = re.compile(r'"((?:[^"\\\r\n]|\\.)*)"')
_QUOTED_PAIR_RE = re.compile(r"\\(.)")
_UNFOLD_RE = re.compile(r"\r?\n(?=[ \t])")
_HEADER_NAME_RE = re.compile(r"[!-9;-~]+\Z")
_AAR_INSTANCE_RE = re.compile(rb"\s*i\s*=\s*\d+\s*;")
_DMARC_VERSION_RE = re.compile(rb"\s*v\s*=\s*DMARC1\s*(?:;|\Z)")
_DKIM_SIGNATURE_RE = re.compile(
    rb"^dkim-signature[ \t]*:", re.IGNORECASE | re.MULTILINE
)


# ----------------------------------------------------------------------
# results
# ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SpfResult:
    """SPF of one identity.

    ``result``: pass, fail, softfail, neutral, none, temperror, permerror.
    ``identity``: ``mailfrom`` or ``helo`` ("" when there was nothing to
    check); ``domain``: the domain whose record was evaluated; ``sender``:
    the identity as given (the MAIL FROM address, or the HELO name).
    """

    result: str = NONE
    identity: str = ""
    domain: str = ""
    sender: str = ""


@dataclasses.dataclass(frozen=True)
class DkimResult:
    """One DKIM-Signature.

    ``result``: pass, fail, policy, temperror, permerror. ``domain`` (d=),
    ``selector`` (s=), ``algorithm`` (a=), ``key_bits`` (0 when the key was
    not read), ``reason``: a ``REASON_*`` code, "" for a pass.
    """

    result: str
    domain: str = ""
    selector: str = ""
    algorithm: str = ""
    key_bits: int = 0
    reason: str = ""


@dataclasses.dataclass(frozen=True)
class DmarcResult:
    """DMARC of the author (From) domain.

    ``result``: pass, fail, none (no record), temperror, permerror.
    ``from_domain``/``org_domain``: A-labels; ``record_domain``: where the
    record was found ("" without one). ``policy``: the p= or sp= that applies
    to the From domain; ``pct``: 100 (RFC 9989 has no ``pct``);
    ``applied_policy``: the policy applied to failing mail (``policy.dmarc``:
    one level below ``policy`` in test mode, ``testing``, RFC 9989
    ``t=y``); ``adkim``/``aspf``: ``r`` or ``s``.
    ``aligned``: the mechanisms that passed aligned (``dkim``, ``spf``),
    computed in relaxed mode when there is no record. ``reason``: a
    ``REASON_*`` code or "".
    """

    result: str = NONE
    from_domain: str = ""
    org_domain: str = ""
    record_domain: str = ""
    policy: str = ""
    pct: int = 100
    applied_policy: str = ""
    adkim: str = "r"
    aspf: str = "r"
    aligned: tuple = ()
    reason: str = ""
    testing: bool = False


@dataclasses.dataclass(frozen=True)
class ArcResult:
    """The ARC chain: ``result`` none, pass, fail or temperror; ``sealers``: d= of each
    ARC-Seal, latest first."""

    result: str = NONE
    sealers: tuple = ()


@dataclasses.dataclass(frozen=True)
class AuthVerdict:
    """Everything :func:`authenticate` found about one message.

    ``arc_override``: the trusted ARC sealer that vouched for a message whose
    DMARC failed ("" when none did; see the module docstring for the rule).
    ``authserv_id``: the id :meth:`header_value` uses by default.
    """

    spf: SpfResult = SpfResult()
    dkim: tuple = ()
    dmarc: DmarcResult = DmarcResult()
    arc: ArcResult = ArcResult()
    arc_override: str = ""
    authserv_id: str = ""

    @property
    def dmarc_pass(self):
        """DMARC passed, or a trusted ARC sealer vouched for the message."""
        return self.dmarc.result == PASS or bool(self.arc_override)

    @property
    def disposition(self):
        """What the author domain asks for this message: ``none``, ``quarantine`` or
        ``reject``.

        Only a DMARC ``fail`` without an ARC override asks for anything;
        ``temperror`` is left to the caller (e.g. answer 451).
        """
        if self.dmarc.result != FAIL or self.arc_override:
            return POLICY_NONE
        return self.dmarc.applied_policy or POLICY_NONE

    def header_value(self, authserv_id=None):
        """The RFC 8601 ``Authentication-Results`` value, built with authres.

        ``<authserv-id>; spf=pass smtp.mailfrom=a@example.com; dkim=pass
        header.d=example.com header.s=sel header.a=rsa-sha256; dmarc=pass
        policy.dmarc=reject header.from=example.com; arc=none``. Values that
        could not be written safely (odd HELO names, addresses) are left out.
        """
        import authres.core

        authserv_id = authserv_id or self.authserv_id
        if not authserv_id or not _DOMAIN_RE.match(authserv_id):
            raise ValueError(f"invalid authserv-id {authserv_id!r}")
        results = [self._spf_clause()]
        results += [_dkim_clause(signature) for signature in self.dkim] or [
            authres.core.DKIMAuthenticationResult(result=NONE)
        ]
        results += [self._dmarc_clause(), self._arc_clause()]
        header = authres.all_features().header(authserv_id=authserv_id, results=results)
        return header.header_value()

    def _spf_clause(self):
        import authres.core

        clause = authres.core.SPFAuthenticationResult(result=self.spf.result or NONE)
        if self.spf.identity == SPF_MAILFROM:
            sender = _safe_address(self.spf.sender) or _safe_domain(self.spf.domain)
            if sender:
                clause.smtp_mailfrom = sender
        elif self.spf.identity == SPF_HELO and _safe_domain(self.spf.sender):
            clause.smtp_helo = self.spf.sender
        return clause

    def _dmarc_clause(self):
        import authres.dmarc

        dmarc = self.dmarc
        reason = REASON_TRUSTED_FORWARDER if self.arc_override else dmarc.reason
        clause = authres.dmarc.DMARCAuthenticationResult(
            result=dmarc.result or NONE, reason=reason or None
        )
        if dmarc.applied_policy:
            clause.policy = dmarc.applied_policy
        if _safe_domain(dmarc.from_domain):
            clause.header_from = dmarc.from_domain
        return clause

    def _arc_clause(self):
        import authres.arc

        clause = authres.arc.ARCAuthenticationResult(result=self.arc.result or NONE)
        sealer = self.arc.sealers[0] if self.arc.sealers else ""
        if _safe_domain(sealer):
            clause.header_as_d = sealer
        return clause


def _dkim_clause(signature):
    import authres.core

    properties = [
        authres.core.AuthenticationResultProperty("header", name, value)
        for name, value in (
            ("d", signature.domain),
            ("s", signature.selector),
            ("a", signature.algorithm),
        )
        if _safe_domain(value)
    ]
    return authres.core.DKIMAuthenticationResult(
        result=signature.result, reason=signature.reason or None, properties=properties
    )


def valid_authserv_id(value):
    """Whether ``value`` can name the ``Authentication-Results`` a server writes."""
    return bool(value) and len(value) <= 253 and bool(_DOMAIN_RE.match(value))


def _safe_domain(value):
    return value if value and len(value) <= 253 and _DOMAIN_RE.match(value) else ""


def _safe_address(value):
    local, at, domain = (value or "").rpartition("@")
    if at and len(local) <= 64 and _LOCAL_PART_RE.match(local) and _safe_domain(domain):
        return value
    return ""


# ----------------------------------------------------------------------
# domains
# ----------------------------------------------------------------------

_PSL = None
_PSL_LOCK = threading.Lock()


def _public_suffix_list():
    global _PSL  # built once per process, read-only afterwards
    with _PSL_LOCK:
        if _PSL is None:
            _PSL = PublicSuffixList()
        return _PSL


def org_domain(domain):
    """The organisational domain of ``domain`` (RFC 7489 §3.2), lower case.

    ``mail.example.co.uk`` gives ``example.co.uk``; a public suffix itself
    (``co.uk``) or an empty value gives itself.
    """
    domain = (domain or "").strip().rstrip(".").lower()
    if not domain:
        return ""
    return _public_suffix_list().privatesuffix(domain) or domain


def aligned(domain_a, domain_b, strict):
    """DMARC identifier alignment: ``strict`` wants the same name, relaxed the same
    organisational domain."""
    domain_a = (domain_a or "").strip().rstrip(".").lower()
    domain_b = (domain_b or "").strip().rstrip(".").lower()
    if not domain_a or not domain_b:
        return False
    if strict:
        return domain_a == domain_b
    return org_domain(domain_a) == org_domain(domain_b)


def _ascii_domain(domain):
    """``domain`` in lower-case A-label form, or "" when it is not a host name."""
    if isinstance(domain, bytes):
        domain = domain.decode("utf-8", "surrogateescape")
    try:
        # the email parser keeps undecodable UTF-8 (RFC 6532) as surrogates
        domain = domain.encode("utf-8", "surrogateescape").decode("utf-8")
        return domain_to_ascii(domain)
    except (InputError, UnicodeError):
        return ""


# ----------------------------------------------------------------------
# authenticate
# ----------------------------------------------------------------------


def authenticate(
    message_bytes,
    client_ip,
    helo,
    mail_from,
    resolver,
    deadline,
    trusted_arc_sealers=(),
    authserv_id="",
    pct_sample=None,
):
    """Check SPF, DKIM, DMARC and ARC of a received message; return an
    :class:`AuthVerdict`.

    ``mail_from``: the envelope sender ("" or ``<>`` for a null sender);
    ``resolver``: a :class:`.mail_dns.MailResolver`; ``deadline``: a
    :class:`.mail_dns.Deadline` that bounds every lookup of the call.
    ``pct_sample``: kept for callers; RFC 9989 has no ``pct`` sampling.
    """
    spf_result = check_spf(client_ip, helo, mail_from, resolver, deadline)
    dkim_results = verify_dkim(message_bytes, resolver, deadline)
    dmarc_result = evaluate_dmarc(
        *author_domain(message_bytes),  # the From domain, or why there is none
        spf_result,
        dkim_results,
        resolver,
        deadline,
        pct_sample,
    )
    arc_result, latest_aar = verify_arc(message_bytes, resolver, deadline)
    trusted = {_normal_name(sealer) for sealer in trusted_arc_sealers}
    arc_override = ""
    if (
        dmarc_result.result == FAIL
        and arc_result.result == PASS
        and arc_result.sealers
        and arc_result.sealers[0] in trusted
        and latest_aar is not None
        and _aar_vouches(latest_aar, dmarc_result)
    ):
        arc_override = arc_result.sealers[0]
    return AuthVerdict(
        spf=spf_result,
        dkim=dkim_results,
        dmarc=dmarc_result,
        arc=arc_result,
        arc_override=arc_override,
        authserv_id=authserv_id,
    )


def _normal_name(name):
    if isinstance(name, bytes):
        name = name.decode("utf-8", "replace")
    return (name or "").strip().rstrip(".").lower()


# ----------------------------------------------------------------------
# SPF
# ----------------------------------------------------------------------


@functools.cache
def _spf_query_class():
    """pyspf's query class, subclassed at first use (pyspf loads only in the
    processes that check SPF)."""
    import spf

    class _SpfQuery(spf.query):
        """pyspf's query, asking our resolver within the deadline (its per-instance DNS
        hook)."""

        def __init__(self, *args, resolver, deadline, **kwargs):
            self._resolver = resolver
            self._deadline = deadline
            super().__init__(*args, **kwargs)

        def dns(self, name, qtype, cnames=None, ignore_void=False):
            """Records of ``name`` in pyspf's shapes; the resolver follows CNAMEs."""
            name = str(name).rstrip(".").lower()
            if not name or not all(0 < len(label) < 64 for label in name.split(".")):
                return []  # as pyspf: an invalid name has no records
            result = self._resolver.resolve(name, qtype, self._deadline)
            if result.temporary:
                raise spf.TempError(f"DNS {result.status} for {name} {qtype}")
            values = (
                [_spf_value(qtype, record) for record in result.records]
                if result.status == mail_dns.OK
                else []
            )
            if not values and not ignore_void:
                # RFC 7208 §4.6.4, as pyspf counts them
                self.void_lookups += 1
                if self.void_lookups > spf.MAX_VOID_LOOKUPS:
                    raise spf.PermError(
                        f"Void lookup limit of {spf.MAX_VOID_LOOKUPS} exceeded"
                    )
            return values

    return _SpfQuery


def __getattr__(name):
    # tools/dns_check/checks.py subclasses _SpfQuery
    if name == "_SpfQuery":
        return _spf_query_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _spf_value(qtype, record):
    if qtype in ("TXT", "SPF"):
        return (record,)  # pyspf joins the strings of each record
    if qtype == "MX":
        preference, exchange = record.split()
        return (int(preference), exchange.rstrip("."))
    return record.rstrip(".")  # A, AAAA: address text; PTR: name


def check_spf(client_ip, helo, mail_from, resolver, deadline):
    """SPF of MAIL FROM, or of HELO for a null sender; returns an :class:`SpfResult`."""
    import spf

    mail_from = (mail_from or "").strip()
    if mail_from.startswith("<") and mail_from.endswith(">"):
        mail_from = mail_from[1:-1].strip()
    helo = (helo or "").strip()
    identity, sender = (SPF_MAILFROM, mail_from) if mail_from else (SPF_HELO, helo)
    if not sender:
        return SpfResult(NONE, "", "", "")
    domain = ""
    try:
        query = _spf_query_class()(
            i=client_ip,
            s=mail_from,
            h=helo,
            resolver=resolver,
            deadline=deadline,
            strict=True,
        )
        domain = (query.o or "").lower()
        result, _code, _explanation = query.check()
    except spf.TempError:
        result = TEMPERROR
    except spf.PermError:
        result = PERMERROR
    except Exception:  # hostile records must not stop the mailgate
        _logger.debug("SPF check of %r failed", sender, exc_info=True)
        result = PERMERROR
    return SpfResult(result, identity, domain, sender)


# ----------------------------------------------------------------------
# DKIM
# ----------------------------------------------------------------------


class _DkimpyLog:
    """dkimpy logs every bad signature at ERROR, which is routine here: all of it goes
    to DEBUG."""

    def __init__(self, logger):
        self._logger = logger

    def debug(self, msg, *args, **kwargs):
        self._logger.debug(msg, *args, **kwargs)

    info = warning = error = exception = debug

    def isEnabledFor(self, level):  # logging's API
        return False  # dkimpy's debug_content dumps whole messages


_DKIMPY_LOG = _DkimpyLog(_logger)


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value or ""


def verify_dkim(message_bytes, resolver, deadline):
    """Verify every DKIM-Signature of ``message_bytes``; a tuple of :class:`DkimResult`,
    top one first."""
    import dkim.util

    try:
        signatures = [
            value
            for name, value in dkim.DKIM(message_bytes).headers
            if name.lower() == b"dkim-signature"
        ]
    except Exception:  # dkimpy's parser on hostile input
        head = re.split(rb"\r?\n\r?\n", message_bytes, maxsplit=1)[0]
        return (
            (DkimResult(PERMERROR, reason=REASON_MESSAGE_FORMAT),)
            if _DKIM_SIGNATURE_RE.search(head)
            else ()
        )
    results = []
    for index, signature in enumerate(signatures):
        try:
            tags = dkim.util.parse_tag_value(signature)
        except dkim.util.InvalidTagValueList:
            tags = {}
        fields = {
            "domain": _normal_name(tags.get(b"d", b"")),
            "selector": _text(tags.get(b"s", b"")).strip(),
            "algorithm": _text(tags.get(b"a", b"")).strip().lower(),
        }
        if index >= MAX_DKIM_SIGNATURES:
            results.append(
                DkimResult(POLICY, reason=REASON_TOO_MANY_SIGNATURES, **fields)
            )
            continue
        results.append(
            _verify_signature(message_bytes, index, fields, resolver, deadline)
        )
    return tuple(results)


def _verify_signature(message_bytes, index, fields, resolver, deadline):
    import dkim

    lookup = resolver.dkim_dnsfunc(deadline)
    verifier = dkim.DKIM(message_bytes, logger=_DKIMPY_LOG, minkey=MIN_RSA_BITS)
    try:
        verifier.verify_headerprep(index)
    except Exception:  # malformed or expired signature tags
        return DkimResult(PERMERROR, reason=REASON_SIGNATURE_TAGS, **fields)
    reason = ""
    try:
        valid = verifier.verify(idx=index, dnsfunc=lookup)
    except dkim.KeyFormatError:
        # raised after a valid signature when the RSA key is under minkey
        small = verifier.ktag == b"rsa" and 0 < verifier.keysize < MIN_RSA_BITS
        result, reason = (
            (POLICY, REASON_KEY_TOO_SMALL) if small else (PERMERROR, REASON_KEY_FORMAT)
        )
        return DkimResult(
            result, key_bits=verifier.keysize or 0, reason=reason, **fields
        )
    except dkim.ValidationError:
        return DkimResult(
            FAIL, key_bits=verifier.keysize or 0, reason=REASON_BODY_HASH, **fields
        )
    except Exception:  # dkimpy on hostile input
        _logger.debug("DKIM verification of signature %d failed", index, exc_info=True)
        return DkimResult(
            PERMERROR,
            key_bits=verifier.keysize or 0,
            reason=REASON_VERIFIER_ERROR,
            **fields,
        )
    key_bits = verifier.keysize or 0
    if valid:
        if fields["algorithm"] == "rsa-sha1":
            return DkimResult(
                POLICY, key_bits=key_bits, reason=REASON_WEAK_ALGORITHM, **fields
            )
        return DkimResult(PASS, key_bits=key_bits, **fields)
    # dkimpy says False for a bad signature, no key, a bad key and a DNS error alike
    key = lookup.result_for(f"{fields['selector']}._domainkey.{fields['domain']}")
    if key is None:
        result, reason = PERMERROR, REASON_VERIFIER_ERROR
    elif key.temporary:
        result, reason = TEMPERROR, REASON_DNS_PREFIX + key.status
    elif not key.found:
        result, reason = PERMERROR, REASON_NO_KEY
    elif not _key_parses(key):
        result, reason = PERMERROR, REASON_KEY_FORMAT
    else:
        result, reason = FAIL, REASON_SIGNATURE
    return DkimResult(result, key_bits=key_bits, reason=reason, **fields)


def _key_parses(key):
    import dkim

    try:
        dkim.evaluate_pk(key.name, key.records[0])
    except Exception:  # any parse error of a published key
        return False
    return True


# ----------------------------------------------------------------------
# DMARC
# ----------------------------------------------------------------------


def author_domain(message_bytes):
    """The RFC5322.From domain as ``(A-label domain, "")``, or ``("", reason code)``;
    see the module docstring."""
    try:
        headers = email.parser.BytesHeaderParser(
            policy=email.policy.default
        ).parsebytes(message_bytes)
        from_headers = headers.get_all("From") or []
        if len(from_headers) > 1:
            return "", REASON_FROM_MULTIPLE
        if not from_headers:
            return "", REASON_FROM_MISSING
        addresses = from_headers[0].addresses
    except Exception:  # the stdlib parser raises IndexError on some addresses
        return "", REASON_FROM_SYNTAX
    domains = {_ascii_domain(address.domain) for address in addresses}
    if not domains or "" in domains:
        return "", REASON_FROM_SYNTAX
    if len(domains) > 1:
        return "", REASON_FROM_MULTIPLE
    return domains.pop(), ""


def _find_dmarc_record(domain, resolver, deadline):
    """``(DnsResult, DMARC record texts)`` at ``_dmarc.<domain>``; records not opening
    with v=DMARC1 are dropped."""
    answer = resolver.resolve(f"_dmarc.{domain}", "TXT", deadline)
    records = (
        [record for record in answer.records if _DMARC_VERSION_RE.match(record)]
        if answer.found
        else []
    )
    return answer, records


def parse_dmarc_record(record):
    """Parse a DMARC record (``bytes``) into a dict of lower-case tag -> value, or
    ``None`` when invalid.

    The tag-list is split by dkimpy's ``parse_tag_value``; the first tag must
    be ``v=DMARC1``; tag names are case-insensitive, a tag given twice makes
    the record invalid. Values are returned as written (stripped).
    """
    import dkim.util

    try:
        raw_tags = dkim.util.parse_tag_value(record)
        tags = {}
        for key, value in raw_tags.items():
            name = key.decode("ascii").lower()
            if name in tags:
                return None
            tags[name] = value.decode("ascii")
    except (dkim.util.InvalidTagValueList, UnicodeError):
        return None
    if next(iter(raw_tags.items()), None) != (b"v", b"DMARC1"):
        return None
    return tags


def evaluate_dmarc(
    from_domain,
    from_reason,
    spf_result,
    dkim_results,
    resolver,
    deadline,
    pct_sample=0.0,  # pylint: disable=unused-argument
):
    """DMARC for the From domain given the SPF and DKIM results, as RFC 9989
    evaluates it (policy discovery and organisational domains by the DNS
    tree walk, ``np``, ``psd``, ``t=y``; ``pct`` is no longer a tag and is
    not sampled: ``pct_sample`` is kept for callers); returns a
    :class:`DmarcResult`."""
    if not from_domain:
        return DmarcResult(PERMERROR, reason=from_reason or REASON_FROM_SYNTAX)
    found = discover_dmarc_9989(from_domain, resolver, deadline)
    base = {"from_domain": found.author_domain, "org_domain": found.org_domain}
    if found.temporary is not None:
        return DmarcResult(
            TEMPERROR, reason=REASON_DNS_PREFIX + found.temporary.status, **base
        )
    if not found.records:
        return _dmarc_without_record(
            found, from_domain, spf_result, dkim_results, resolver, deadline
        )
    if found.policy is None:
        return DmarcResult(
            PERMERROR,
            record_domain=found.record_domain,
            reason=REASON_RECORD_SYNTAX,
            **base,
        )
    adkim = _mode_tag(found.tags.get("adkim"))
    aspf = _mode_tag(found.tags.get("aspf"))
    results = (from_domain, spf_result, dkim_results, adkim == "s", aspf == "s")
    mechanisms, temporary = _aligned_9989(*results, resolver, deadline)
    if mechanisms:
        result = PASS
    elif temporary or _aligned_temperror(*results):
        result = TEMPERROR
    else:
        result = FAIL
    return DmarcResult(
        result,
        record_domain=found.record_domain,
        policy=found.policy,
        pct=100,
        applied_policy=found.applied,
        adkim=adkim,
        aspf=aspf,
        aligned=mechanisms,
        testing=found.applied != found.policy,
        **base,
    )


def _aligned_9989(
    from_domain, spf_result, dkim_results, strict_dkim, strict_spf, resolver, deadline
):
    """``(mechanisms, temporary)``: the authenticated identifiers that align with
    the From domain under RFC 9989 (a temporary DNS error of a tree walk
    leaves that identifier unknown)."""
    mechanisms, temporary = [], False

    def aligns(domain, strict):
        nonlocal temporary
        result, failed = aligned_9989(domain, from_domain, strict, resolver, deadline)
        temporary = temporary or failed is not None
        return result

    if any(
        sig.result == PASS and aligns(sig.domain, strict_dkim) for sig in dkim_results
    ):
        mechanisms.append(ALIGNED_DKIM)
    if spf_result.result == PASS and aligns(spf_result.domain, strict_spf):
        mechanisms.append(ALIGNED_SPF)
    return tuple(mechanisms), temporary


def _record_policy(tags, subdomain):
    """The policy for the From domain, or ``None`` for an invalid record (RFC 7489
    §6.6.3 step 6)."""
    if tags is None:
        return None
    p = tags.get("p", "").lower()
    sp = tags.get("sp", "").lower()
    if p not in DMARC_POLICIES or (sp and sp not in DMARC_POLICIES):
        if "rua" not in tags:
            return None
        p, sp = (
            POLICY_NONE,
            "",
        )  # an invalid policy with reports asked for reads as p=none
    return sp if subdomain and sp else p


def _int_tag(value, default):
    if value is None or not value.isascii() or not value.isdigit() or int(value) > 100:
        return default
    return int(value)


def _mode_tag(value):
    """An alignment mode: ``s`` (strict) or ``r`` (relaxed, also when invalid)."""
    value = (value or "r").lower()
    return value if value in ("r", "s") else "r"


def _aligned_mechanisms(from_domain, spf_result, dkim_results, strict_dkim, strict_spf):
    mechanisms = []
    if any(
        sig.result == PASS and aligned(sig.domain, from_domain, strict_dkim)
        for sig in dkim_results
    ):
        mechanisms.append(ALIGNED_DKIM)
    if spf_result.result == PASS and aligned(
        spf_result.domain, from_domain, strict_spf
    ):
        mechanisms.append(ALIGNED_SPF)
    return tuple(mechanisms)


def _aligned_temperror(from_domain, spf_result, dkim_results, strict_dkim, strict_spf):
    if any(
        sig.result == TEMPERROR and aligned(sig.domain, from_domain, strict_dkim)
        for sig in dkim_results
    ):
        return True
    return spf_result.result == TEMPERROR and aligned(
        spf_result.domain, from_domain, strict_spf
    )


# ----------------------------------------------------------------------
# DMARC policy discovery: RFC 9989 (DNS tree walk) and RFC 7489 (PSL)
# ----------------------------------------------------------------------

#: RFC 9989 §4.10: at most this many names queried by one tree walk
TREE_WALK_MAX_QUERIES = 8
READING_9989 = "rfc9989"
READING_7489 = "rfc7489"


@dataclasses.dataclass(frozen=True)
class DmarcPolicy:
    """Where the DMARC policy of an author domain was found, under one reading.

    ``reading``: ``rfc9989`` or ``rfc7489``. ``record_domain``: the domain
    whose ``_dmarc`` record applies ("" without one); ``records``: the
    DMARC record texts found there (several: receivers ignore them all);
    ``tags``: the parsed record (``None`` when invalid or not one);
    ``org_domain``: the author domain's organisational domain under this
    reading; ``policy``: the policy the record asks for the author domain
    (``p``, ``sp`` or, RFC 9989, ``np`` for a domain that does not exist),
    ``None`` for an invalid record; ``applied``: what a receiver of this
    reading applies to failing mail (RFC 9989: one level below with
    ``t=y``; RFC 7489: ``policy``, ``pct`` sampling aside); ``exists``:
    false when the author domain does not exist (NXDOMAIN, RFC 8020);
    ``temporary``: the :class:`.mail_dns.DnsResult` of a DNS failure that
    left the policy unknown; ``asked``: the ``_dmarc`` names queried.
    """

    reading: str
    author_domain: str
    record_domain: str = ""
    records: tuple = ()
    tags: dict = None
    org_domain: str = ""
    policy: str = None
    applied: str = None
    exists: bool = True
    temporary: object = None
    asked: tuple = ()

    @property
    def found(self):
        return bool(self.records)


def _walk_names(domain, include_start):
    """The names a DNS tree walk from ``domain`` queries (RFC 9989 §4.10): the
    domain itself when ``include_start``, then its parents, skipping to seven
    labels first when it has eight or more."""
    labels = domain.split(".")
    names = [domain] if include_start else []
    count = len(labels)
    first = 1 if count <= TREE_WALK_MAX_QUERIES else count - 7
    names += [".".join(labels[index:]) for index in range(first, count)]
    return names


def _psd_tag(tags):
    value = (tags or {}).get("psd", "u").strip().lower()
    return value if value in ("y", "n") else "u"


def _tree_walk(domain, resolver, deadline, include_start):
    """``(walked, temporary, asked)``: ``walked`` the ``(name, records)`` that
    have DMARC records, longest name first, stopping after one record with
    ``psd=y`` or ``psd=n`` (RFC 9989 §4.10 steps 2 and 6; several records at
    a name are discarded)."""
    walked, asked = [], []
    for name in _walk_names(domain, include_start):
        answer, records = _find_dmarc_record(name, resolver, deadline)
        asked.append(f"_dmarc.{name}")
        if answer.temporary:
            return walked, answer, tuple(asked)
        if len(records) != 1:
            continue
        walked.append((name, tuple(records)))
        if _psd_tag(parse_dmarc_record(records[0])) in ("y", "n"):
            break
    return walked, None, tuple(asked)


def _select_org(domain, walked):
    """RFC 9989 §4.10.2: the organisational domain from a walk's records."""
    for name, records in walked:
        psd = _psd_tag(parse_dmarc_record(records[0]))
        if psd == "n":
            return name
        if psd == "y" and name != domain:
            labels = domain.split(".")
            return ".".join(labels[len(labels) - len(name.split(".")) - 1 :])
    return walked[-1][0] if walked else domain


def org_domain_9989(domain, resolver, deadline):
    """``(organisational domain, temporary DnsResult or None)`` of ``domain`` by
    the DNS tree walk of RFC 9989 §4.10.2 (no record at all: the domain
    itself)."""
    domain = _normal_name(domain)
    if not domain:
        return "", None
    walked, temporary, _asked = _tree_walk(domain, resolver, deadline, True)
    return _select_org(domain, walked), temporary


def aligned_9989(domain_a, domain_b, strict, resolver, deadline):
    """RFC 9989 identifier alignment: ``(aligned, temporary)``; relaxed compares
    the organisational domains the tree walk finds."""
    domain_a, domain_b = _normal_name(domain_a), _normal_name(domain_b)
    if not domain_a or not domain_b:
        return False, None
    if domain_a == domain_b:
        return True, None
    if strict:
        return False, None
    org_a, temporary = org_domain_9989(domain_a, resolver, deadline)
    if temporary is not None:
        return False, temporary
    org_b, temporary = org_domain_9989(domain_b, resolver, deadline)
    return org_a == org_b, temporary


def _lower_policy(policy):
    return _POLICY_OUTSIDE_SAMPLE.get(policy, policy)


def _policy_9989(tags, subdomain, exists):
    """The policy of an RFC 9989 record for the author domain (§4.7, §4.10.1),
    or ``None`` when no DMARC processing applies."""
    if tags is None:
        return None
    values = {name: tags.get(name, "").strip().lower() for name in ("p", "sp", "np")}
    values["p"] = values["p"] or POLICY_NONE  # a record without p reads p=none
    if any(value and value not in DMARC_POLICIES for value in values.values()):
        if not tags.get("rua", "").strip():
            return None
        return POLICY_NONE
    if not subdomain:
        return values["p"]
    if not exists and values["np"]:
        return values["np"]
    return values["sp"] or values["p"]


def discover_dmarc_9989(author_domain, resolver, deadline):
    """The DMARC policy of ``author_domain`` as RFC 9989 §4.10.1 finds it: the
    author domain's record, else a DNS tree walk from its parent (the
    organisational domain's record, else the public suffix domain's).
    Several records at one name are discarded (§4.10 step 2): the walk goes
    on as if there were none."""
    author_domain = _normal_name(author_domain)
    answer, records = _find_dmarc_record(author_domain, resolver, deadline)
    asked = (f"_dmarc.{author_domain}",)
    base = {"reading": READING_9989, "author_domain": author_domain}
    if answer.temporary:
        return DmarcPolicy(**base, temporary=answer, asked=asked)
    org, temporary = org_domain_9989(author_domain, resolver, deadline)
    if temporary is not None:
        return DmarcPolicy(**base, temporary=temporary, asked=asked)
    if len(records) == 1:
        record_domain, found = author_domain, tuple(records)
    else:
        walked, temporary, walk_asked = _tree_walk(
            author_domain, resolver, deadline, False
        )
        asked += walk_asked
        if temporary is not None:
            return DmarcPolicy(**base, temporary=temporary, asked=asked)
        if not walked:
            return DmarcPolicy(**base, org_domain=org, asked=asked)
        by_name = dict(walked)
        # the organisational domain's record, else the public suffix domain's
        record_domain = org if org in by_name else walked[-1][0]
        found = by_name[record_domain]
    tags = parse_dmarc_record(found[0])
    exists = True
    subdomain = record_domain != author_domain
    if subdomain and tags is not None and tags.get("np"):
        result = resolver.resolve(author_domain, "A", deadline)
        if result.temporary:
            return DmarcPolicy(**base, temporary=result, asked=asked)
        exists = result.status != mail_dns.NXDOMAIN
    policy = _policy_9989(tags, subdomain, exists)
    testing = (tags or {}).get("t", "n").strip().lower() == "y"
    return DmarcPolicy(
        **base,
        record_domain=record_domain,
        records=found,
        tags=tags,
        org_domain=org,
        policy=policy,
        applied=_lower_policy(policy) if testing and policy else policy,
        exists=exists,
        asked=asked,
    )


def discover_dmarc_7489(author_domain, resolver, deadline):
    """The DMARC policy of ``author_domain`` as RFC 7489 §6.6.3 finds it: the
    author domain's record, else the record of its organisational domain by
    the public suffix list (``sp`` for a subdomain)."""
    author_domain = _normal_name(author_domain)
    organisational = org_domain(author_domain)
    base = {
        "reading": READING_7489,
        "author_domain": author_domain,
        "org_domain": organisational,
    }
    record_domain = author_domain
    answer, records = _find_dmarc_record(author_domain, resolver, deadline)
    asked = (f"_dmarc.{author_domain}",)
    if not answer.temporary and not records and organisational != author_domain:
        record_domain = organisational
        answer, records = _find_dmarc_record(organisational, resolver, deadline)
        asked += (f"_dmarc.{organisational}",)
    if answer.temporary:
        return DmarcPolicy(**base, temporary=answer, asked=asked)
    base.update(records=tuple(records), asked=asked)
    if len(records) != 1:
        return DmarcPolicy(**base, record_domain=record_domain if records else "")
    tags = parse_dmarc_record(records[0])
    policy = _record_policy(tags, subdomain=record_domain != author_domain)
    return DmarcPolicy(
        **base, record_domain=record_domain, tags=tags, policy=policy, applied=policy
    )


# ----------------------------------------------------------------------
# ARC
# ----------------------------------------------------------------------


def arc_sealers(message_bytes):
    """d= of every ARC-Seal, highest instance first (dkimpy's ordering)."""
    import dkim.util

    try:
        _max_instance, headers = dkim.ARC(message_bytes).sorted_arc_headers()
    except Exception:  # dkimpy's parser on hostile input
        return ()
    sealers = []
    for _instance, (name, value) in headers:
        if name.lower() != b"arc-seal":
            continue
        try:
            sealers.append(
                _normal_name(dkim.util.parse_tag_value(value).get(b"d", b""))
            )
        except dkim.util.InvalidTagValueList:
            sealers.append("")
    return tuple(sealers)


def verify_arc(message_bytes, resolver, deadline):
    """Verify the ARC chain: ``(ArcResult, parsed latest ARC-Authentication-Results or
    None)``."""
    import dkim

    sealers = arc_sealers(message_bytes)
    lookup = resolver.dkim_dnsfunc(deadline)
    try:
        chain, hops, _reason = dkim.arc_verify(
            message_bytes, logger=_DKIMPY_LOG, dnsfunc=lookup, minkey=MIN_RSA_BITS
        )
    except Exception:  # dkimpy on hostile input
        _logger.debug("ARC verification failed", exc_info=True)
        chain, hops = dkim.CV_Fail, []
    if chain == dkim.CV_None:
        result = NONE
    elif chain == dkim.CV_Pass:
        result = PASS
    else:
        result = FAIL  # CV_Fail, or None: a seal said cv=fail
    if result != PASS and any(found.temporary for found in lookup.results.values()):
        result = TEMPERROR
    latest_aar = None
    if result == PASS and hops:
        latest_aar = _parse_aar(hops[0].get("aar-value", b""))
    return ArcResult(result, sealers), latest_aar


def _parse_aar(value):
    """An ARC-Authentication-Results value (``i=N; authserv-id; …``) parsed by authres,
    or ``None``."""
    import authres.core

    match = _AAR_INSTANCE_RE.match(value)
    if not match:
        return None
    text = value[match.end() :].decode("utf-8", "replace").strip()
    try:
        return authres.all_features().parse_value(text)
    except authres.core.AuthResError:
        return None


def _property(clause, ptype, name):
    for prop in getattr(clause, "properties", ()):
        if prop.type == ptype and prop.name == name:
            return str(prop.value or "")
    return ""


def _aar_vouches(aar, dmarc_result):
    """Does a trusted sealer's ARC-Authentication-Results show an authenticated author
    domain?"""
    from_domain = dmarc_result.from_domain
    for clause in aar.results:
        if getattr(clause, "result", "") != PASS:
            continue
        method = getattr(clause, "method", "")
        if (
            method == "dmarc"
            and _normal_name(_property(clause, "header", "from")) == from_domain
        ):
            return True
        if method == "dkim" and aligned(
            _property(clause, "header", "d"), from_domain, dmarc_result.adkim == "s"
        ):
            return True
        if method == "spf":
            mailfrom_domain = _property(clause, "smtp", "mailfrom").rpartition("@")[2]
            if aligned(mailfrom_domain, from_domain, dmarc_result.aspf == "s"):
                return True
    return False


# ----------------------------------------------------------------------
# Authentication-Results headers
# ----------------------------------------------------------------------


def header_authserv_id(value):
    """The authserv-id of an ``Authentication-Results`` value, lower case ("" when there
    is none).

    RFC 8601: after optional comments, a token or a quoted string. authres
    reads only a dot-atom, so this small reader decides which header is
    whose, for :func:`strip_results` and :func:`read_results` alike.
    """
    text = _UNFOLD_RE.sub("", _text(value)).strip()
    text = _skip_cfws(text)
    if text.startswith('"'):
        match = _QUOTED_STRING_RE.match(text)
        return (
            _QUOTED_PAIR_RE.sub(r"\1", match.group(1)).strip().lower() if match else ""
        )
    match = _token_re().match(text)
    return match.group().lower() if match else ""


@functools.cache
def _token_re():
    import authres.core

    return re.compile(authres.core.RFC2045_TOKEN_PATTERN)


def _skip_cfws(text):
    """``text`` without its leading whitespace and (nested) comments."""
    while True:
        text = text.lstrip(" \t\r\n")
        if not text.startswith("("):
            return text
        depth, position = 0, 0
        while position < len(text):
            char = text[position]
            if char == "\\":
                position += 2
                continue
            if char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
                if depth == 0:
                    break
            position += 1
        if depth:
            return ""  # an unclosed comment: no authserv-id
        text = text[position + 1 :]


_WHITESPACE_RE = re.compile(r"\s+")


def same_header_value(found, written):
    """Whether a header value read from the message is the one written
    (folding and whitespace aside)."""
    return (
        _WHITESPACE_RE.sub(" ", _text(found)).strip()
        == _WHITESPACE_RE.sub(" ", _text(written)).strip()
    )


def read_results(header_values, trusted_authserv_ids):
    """The :class:`AuthVerdict` of the topmost trusted ``Authentication-Results``, or
    ``None``.

    ``header_values``: the values of every Authentication-Results header,
    topmost first (folded or not). Headers of an authserv-id not in
    ``trusted_authserv_ids`` (case ignored) are ignored entirely. Only the
    topmost trusted one is read: when authres cannot parse it, the result is
    ``None`` (a lower one may be a forgery the trusted server did not
    remove). What the header does not carry (key sizes, the record's
    domain, alignment, all sealers but the latest) is left at its default;
    ``policy`` and ``applied_policy`` are both the header's ``policy.dmarc``,
    the policy already sampled by ``pct``, so ``pct`` is 100.
    """
    import authres.core

    trusted = {_normal_name(authserv_id) for authserv_id in trusted_authserv_ids} - {""}
    for value in header_values:
        text = _UNFOLD_RE.sub("", _text(value)).strip()
        authserv_id = header_authserv_id(text)
        if authserv_id not in trusted:
            continue
        try:
            header = authres.all_features().parse_value(text)
        except authres.core.AuthResError:
            return None
        return _verdict_from_header(header, authserv_id)
    return None


def _dmarc_without_record(
    found, from_domain, spf_result, dkim_results, resolver, deadline
):
    """DMARC ``none`` for a From domain without a (single) record: the
    aligned mechanisms are still said."""
    base = {"from_domain": found.author_domain, "org_domain": found.org_domain}
    # several records at the From domain are discarded (the answer is
    # cached: no second query)
    _answer, records = _find_dmarc_record(found.author_domain, resolver, deadline)
    if len(records) > 1:
        return DmarcResult(
            NONE,
            record_domain=found.author_domain,
            reason=REASON_MULTIPLE_RECORDS,
            **base,
        )
    mechanisms, _temporary = _aligned_9989(
        from_domain, spf_result, dkim_results, False, False, resolver, deadline
    )
    return DmarcResult(NONE, aligned=mechanisms, **base)


def _verdict_from_header(header, authserv_id):
    clauses = {}
    dkim_results = []
    for clause in header.results:
        method = getattr(clause, "method", "")
        if method == "dkim":
            dkim_results.append(
                DkimResult(
                    clause.result,
                    domain=_normal_name(_property(clause, "header", "d")),
                    selector=_property(clause, "header", "s"),
                    algorithm=_property(clause, "header", "a").lower(),
                    reason=str(clause.reason or ""),
                )
            )
        else:
            clauses.setdefault(method, clause)
    spf_result = _spf_from_clause(clauses["spf"]) if "spf" in clauses else SpfResult()
    dmarc_result = (
        _dmarc_from_clause(clauses["dmarc"]) if "dmarc" in clauses else DmarcResult()
    )
    arc_result = ArcResult()
    if "arc" in clauses:
        sealer = _normal_name(_property(clauses["arc"], "header", "as-d"))
        arc_result = ArcResult(clauses["arc"].result, (sealer,) if sealer else ())
    arc_override = ""
    if (
        dmarc_result.reason == REASON_TRUSTED_FORWARDER
        and arc_result.result == PASS
        and arc_result.sealers
    ):
        arc_override = arc_result.sealers[0]
        dmarc_result = dataclasses.replace(dmarc_result, reason="")
    return AuthVerdict(
        spf=spf_result,
        dkim=tuple(dkim_results),
        dmarc=dmarc_result,
        arc=arc_result,
        arc_override=arc_override,
        authserv_id=authserv_id,
    )


def _spf_from_clause(clause):
    mailfrom, helo = (
        _property(clause, "smtp", "mailfrom"),
        _property(clause, "smtp", "helo"),
    )
    if mailfrom:
        return SpfResult(
            clause.result,
            SPF_MAILFROM,
            _normal_name(mailfrom.rpartition("@")[2]),
            mailfrom,
        )
    if helo:
        return SpfResult(clause.result, SPF_HELO, _normal_name(helo), helo)
    return SpfResult(clause.result)


def _dmarc_from_clause(clause):
    from_domain = _normal_name(_property(clause, "header", "from"))
    # policy.dmarc is the policy after pct sampling (RFC 7489 §11.2):
    # read back, it is the policy at 100 %
    applied = _property(clause, "policy", "dmarc").lower()
    return DmarcResult(
        clause.result,
        from_domain=from_domain,
        org_domain=org_domain(from_domain),
        policy=applied,
        applied_policy=applied,
        reason=str(clause.reason or ""),
    )


def _header_fields(message_bytes):
    """Split ``message_bytes`` into ``(fields, rest)``: each field a list of its raw
    lines, endings kept."""
    # lines end at LF only: a stray CR stays inside its line
    lines = [line + b"\n" for line in message_bytes.split(b"\n")]
    lines[-1] = lines[-1][:-1]
    fields = []
    for position, line in enumerate(lines):
        if line in (b"\r\n", b"\n"):
            return fields, b"".join(lines[position:])
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1].append(line)
        else:
            fields.append([line])
    return fields, b""


def strip_results(message_bytes, authserv_id):
    """Remove every ``Authentication-Results`` header claiming ``authserv_id`` (RFC 8601
    §5).

    Folded headers go whole; the authserv-id is compared case-insensitively;
    every other byte of the message is kept as it was.
    """
    ours = _normal_name(authserv_id)
    fields, rest = _header_fields(message_bytes)
    kept = []
    for field in fields:
        name, colon, value = b"".join(field).partition(b":")
        if colon and name.strip().lower() == b"authentication-results":
            if header_authserv_id(value.decode("utf-8", "replace")) == ours:
                continue
        kept.extend(field)
    return b"".join(kept) + rest


def _fold(name, value, linesep, width=78):
    """``name: value`` folded before spaces into lines of at most ``width`` characters
    where possible."""
    out = name + ":"
    line_length = len(out)
    for word in value.split(" "):
        piece = " " + word
        if word and line_length + len(piece) > width and line_length > len(name) + 1:
            out += linesep
            line_length = 0
        out += piece
        line_length += len(piece)
    return out + linesep


def prepend_header(message_bytes, name, value):
    """``message_bytes`` with ``name: value`` added on top, folded, with the message's
    line ending."""
    if not _HEADER_NAME_RE.match(name):
        raise ValueError(f"invalid header name {name!r}")
    if "\r" in value or "\n" in value:
        raise ValueError("a header value cannot contain line breaks")
    first_line_end = message_bytes.find(b"\n")
    linesep = (
        "\n"
        if first_line_end > 0
        and message_bytes[first_line_end - 1 : first_line_end] != b"\r"
        else "\r\n"
    )
    return _fold(name, value.strip(), linesep).encode("utf-8") + message_bytes
