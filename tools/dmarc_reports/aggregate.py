# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""DMARC aggregate reports: RFC 9990 (namespace
``urn:ietf:params:xml:ns:dmarc-2.0``) and the RFC 7489 Appendix C format
(no namespace, or ``http://dmarc.org/dmarc-xml/0.1``) receivers still send.

The XML is read by lxml's pull parser chunk by chunk, with entities, DTDs
and network access off; every ``<record>`` is turned into a
:class:`Record` and dropped from the tree, so that memory stays bounded by
one record whatever the report's size. Elements are matched by local name:
both formats share them, RFC 9990 adds some (``np``, ``testing``,
``discovery_method``, ``generator``, ``human_result``).
"""

import datetime
import ipaddress
from dataclasses import dataclass

from lxml import etree

from . import archive
from . import limits as lim
from .report import ReceiverReport

NAMESPACE_9990 = "urn:ietf:params:xml:ns:dmarc-2.0"
#: DKIM/SPF results kept per record (a record lists each signature)
MAX_AUTH_RESULTS = 32
#: elements one record may hold (a record has about 20)
MAX_RECORD_ELEMENTS = 400
#: characters kept of a text value
MAX_TEXT = 255


@dataclass(frozen=True)
class PolicyPublished:
    domain: str
    p: str = ""
    sp: str = ""
    np: str = ""
    adkim: str = ""
    aspf: str = ""
    pct: int | None = None
    fo: str = ""
    testing: str = ""
    discovery_method: str = ""


@dataclass(frozen=True)
class AuthResult:
    """One DKIM signature's or the SPF check's result as the receiver saw it
    (``selector`` for DKIM, ``scope`` for SPF: ``mfrom`` or ``helo``)."""

    domain: str
    result: str
    selector: str = ""
    scope: str = ""
    human_result: str = ""


@dataclass(frozen=True)
class Record:
    source_ip: str
    count: int
    disposition: str
    dkim: str
    spf: str
    header_from: str
    envelope_from: str = ""
    envelope_to: str = ""
    reasons: tuple = ()
    dkim_results: tuple = ()
    spf_results: tuple = ()

    @property
    def dmarc_pass(self):
        """DMARC passes when an aligned identifier passes: the receiver's
        ``policy_evaluated`` ``dkim``/``spf`` are the aligned results."""
        return self.dkim == "pass" or self.spf == "pass"


@dataclass(frozen=True, kw_only=True)
class AggregateReport(ReceiverReport):
    email: str
    policy: PolicyPublished
    records: tuple
    version: str = ""
    namespace: str = ""
    extra_contact_info: str = ""
    generator: str = ""
    errors: tuple = ()

    @property
    def message_count(self):
        return sum(record.count for record in self.records)


def _local(element):
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _text(element):
    return (element.text or "").strip()[:MAX_TEXT] if element is not None else ""


def _child(element, name):
    for child in element:
        if _local(child) == name:
            return child
    return None


def _children(element, name):
    return [child for child in element if _local(child) == name]


def _value(element, name, lower=True):
    text = _text(_child(element, name)) if element is not None else ""
    return text.lower() if lower else text


def _required(element, path):
    current = element
    for name in path.split("/"):
        current = _child(current, name) if current is not None else None
    text = _text(current)
    if not text:
        raise lim.Refusal(lim.MISSING_FIELD, {"field": path})
    return text


def _integer(text, field, minimum=0):
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise lim.Refusal(lim.BAD_VALUE, {"field": field, "value": text[:64]})
    return value


def _timestamp(text, field):
    seconds = _integer(text, field)
    try:
        return datetime.datetime.fromtimestamp(seconds, datetime.UTC).replace(
            tzinfo=None
        )
    except (OverflowError, OSError, ValueError) as exc:
        raise lim.Refusal(lim.BAD_VALUE, {"field": field, "value": text[:64]}) from exc


def _domain(text):
    return text.strip().rstrip(".").lower()


def _record(element):
    row = _child(element, "row")
    if row is None:
        raise lim.Refusal(lim.MISSING_FIELD, {"field": "record/row"})
    source = _required(element, "row/source_ip")
    try:
        source_ip = ipaddress.ip_address(source).compressed
    except ValueError as exc:
        raise lim.Refusal(
            lim.BAD_VALUE, {"field": "row/source_ip", "value": source[:64]}
        ) from exc
    count = _integer(_required(element, "row/count"), "row/count")
    evaluated = _child(row, "policy_evaluated")
    reasons = tuple(
        (_value(reason, "type"), _value(reason, "comment", lower=False))
        for reason in (_children(evaluated, "reason") if evaluated is not None else ())
    )[:MAX_AUTH_RESULTS]
    identifiers = _child(element, "identifiers")
    header_from = _domain(_required(element, "identifiers/header_from"))
    auth = _child(element, "auth_results")
    dkim_results = tuple(
        AuthResult(
            domain=_domain(_value(result, "domain")),
            result=_value(result, "result"),
            selector=_value(result, "selector", lower=False),
            human_result=_value(result, "human_result", lower=False),
        )
        for result in (_children(auth, "dkim") if auth is not None else ())
    )[:MAX_AUTH_RESULTS]
    spf_results = tuple(
        AuthResult(
            domain=_domain(_value(result, "domain")),
            result=_value(result, "result"),
            scope=_value(result, "scope"),
            human_result=_value(result, "human_result", lower=False),
        )
        for result in (_children(auth, "spf") if auth is not None else ())
    )[:MAX_AUTH_RESULTS]
    return Record(
        source_ip=source_ip,
        count=count,
        disposition=_value(evaluated, "disposition") if evaluated is not None else "",
        dkim=_value(evaluated, "dkim") if evaluated is not None else "",
        spf=_value(evaluated, "spf") if evaluated is not None else "",
        header_from=header_from,
        envelope_from=_domain(_value(identifiers, "envelope_from")),
        envelope_to=_domain(_value(identifiers, "envelope_to")),
        reasons=reasons,
        dkim_results=dkim_results,
        spf_results=spf_results,
    )


def _policy(element):
    pct = _value(element, "pct")
    return PolicyPublished(
        domain=_domain(_required(element, "domain")),
        p=_value(element, "p"),
        sp=_value(element, "sp"),
        np=_value(element, "np"),
        adkim=_value(element, "adkim"),
        aspf=_value(element, "aspf"),
        pct=_integer(pct, "policy_published/pct") if pct else None,
        fo=_value(element, "fo", lower=False),
        testing=_value(element, "testing"),
        discovery_method=_value(element, "discovery_method"),
    )


def _prune(element):
    """Drop ``element``'s content and the siblings already read: the tree
    keeps one record at a time."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def _has_doctype(head):
    # the prolog is what precedes the root element; reports never have one
    # with a DTD (entities are the billion laughs' and XXE's vehicle)
    upper = head.upper()
    return b"<!DOCTYPE" in upper or b"<!ENTITY" in upper


class _Reader:
    """The pull parser's events turned into a report, one top-level element
    at a time."""

    def __init__(self, limits):
        self.limits = limits
        self.parser = etree.XMLPullParser(
            events=("start", "end"),
            resolve_entities=False,
            no_network=True,
            huge_tree=False,
            load_dtd=False,
            dtd_validation=False,
            remove_comments=True,
            remove_pis=True,
        )
        self.depth = 0
        self.root = None
        self.metadata = self.policy = None
        self.version = ""
        self.records = []
        self.record_elements = 0
        self.head = b""

    def feed(self, chunk):
        if self.root is None and len(self.head) < 4096:
            self.head += chunk[: 4096 - len(self.head)]
            if _has_doctype(self.head):
                raise lim.Refusal(lim.XML_DTD)
        try:
            self.parser.feed(chunk)
            events = list(self.parser.read_events())
        except etree.XMLSyntaxError as exc:
            raise self._syntax_refusal(exc) from exc
        for event, element in events:
            if event == "start":
                self._start(element)
            else:
                self._end(element)

    def _syntax_refusal(self, exc):
        message = str(exc)
        if "depth" in message.lower():
            return lim.Refusal(lim.XML_DEPTH, {"limit": self.limits.max_depth})
        return lim.Refusal(lim.XML_SYNTAX, {"error": message[:200]})

    def _start(self, element):
        self.depth += 1
        if self.depth > self.limits.max_depth:
            raise lim.Refusal(lim.XML_DEPTH, {"limit": self.limits.max_depth})
        if self.root is None:
            self.root = element
            if element.getroottree().docinfo.doctype:
                raise lim.Refusal(lim.XML_DTD)
            if _local(element) != "feedback":
                raise lim.Refusal(lim.NOT_A_REPORT, {"root": _local(element)})
        elif self.depth > 2:
            self.record_elements += 1
            if self.record_elements > MAX_RECORD_ELEMENTS:
                raise lim.Refusal(
                    lim.BAD_VALUE, {"field": "record", "value": "too many elements"}
                )

    def _end(self, element):
        self.depth -= 1
        if self.depth != 1:
            return
        name = _local(element)
        self.record_elements = 0
        if name == "record":
            if len(self.records) >= self.limits.max_records:
                raise lim.Refusal(
                    lim.TOO_MANY_RECORDS, {"limit": self.limits.max_records}
                )
            self.records.append(_record(element))
            _prune(element)
        elif name == "report_metadata":
            self.metadata = element
        elif name == "policy_published":
            self.policy = _policy(element)
        elif name == "version":
            self.version = _text(element)
        else:
            # extensions and unknown elements: read past, not kept
            _prune(element)

    def close(self):
        try:
            self.parser.close()
        except etree.XMLSyntaxError as exc:
            raise self._syntax_refusal(exc) from exc
        if self.root is None:
            raise lim.Refusal(lim.XML_SYNTAX, {"error": "no element"})
        metadata = self.metadata
        if metadata is None:
            raise lim.Refusal(lim.MISSING_FIELD, {"field": "report_metadata"})
        if self.policy is None:
            raise lim.Refusal(lim.MISSING_FIELD, {"field": "policy_published"})
        return AggregateReport(
            org_name=_required(metadata, "org_name"),
            email=_value(metadata, "email", lower=False),
            report_id=_required(metadata, "report_id"),
            date_begin=_timestamp(
                _required(metadata, "date_range/begin"),
                "report_metadata/date_range/begin",
            ),
            date_end=_timestamp(
                _required(metadata, "date_range/end"),
                "report_metadata/date_range/end",
            ),
            policy=self.policy,
            records=tuple(self.records),
            version=self.version,
            namespace=etree.QName(self.root).namespace or "",
            extra_contact_info=_value(metadata, "extra_contact_info", lower=False),
            generator=_value(metadata, "generator", lower=False),
            errors=tuple(_text(error) for error in _children(metadata, "error"))[:10],
        )


def parse_aggregate_chunks(chunks, limits=lim.DEFAULT_LIMITS):
    """An :class:`AggregateReport` from the decompressed XML in ``chunks``;
    raises :class:`.limits.Refusal`."""
    reader = _Reader(limits)
    for chunk in chunks:
        reader.feed(chunk)
    return reader.close()


def parse_aggregate(data, limits=lim.DEFAULT_LIMITS):
    """An :class:`AggregateReport` from an attachment's bytes (XML, .gz or
    .zip); raises :class:`.limits.Refusal`."""
    return parse_aggregate_chunks(archive.iter_decompressed(data, limits), limits)
