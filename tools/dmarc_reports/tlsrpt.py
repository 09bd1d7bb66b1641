# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""SMTP TLS reports (RFC 8460 §4): JSON, plain or gzip-compressed."""

import dataclasses
import datetime
import json
from dataclasses import dataclass

from . import archive
from . import limits as lim
from .report import ReceiverReport

MAX_TEXT = 255


@dataclass(frozen=True, kw_only=True)
class TlsFailure:
    """Failed sessions of one kind (``result_type``: RFC 8460 §4.3, e.g.
    ``certificate-expired``, ``starttls-not-supported``,
    ``sts-policy-fetch-error``). Every field is the report's value, ``""``
    where it gives none: the parser always passes all of them."""

    result_type: str
    count: int
    sending_mta_ip: str
    receiving_mx_hostname: str
    receiving_ip: str
    failure_reason_code: str
    additional_information: str


@dataclass(frozen=True, kw_only=True)
class TlsPolicyResult:
    policy_type: str
    policy_domain: str
    successful: int
    failed: int
    mx_hosts: tuple = ()
    failures: tuple = ()


@dataclass(frozen=True, kw_only=True)
class TlsReport(ReceiverReport):
    contact_info: str
    policies: tuple

    @property
    def message_count(self):
        return sum(policy.successful + policy.failed for policy in self.policies)


def _text(value):
    return str(value).strip()[:MAX_TEXT] if value not in (None, "") else ""


def _field(obj, key, field, kind=str):
    if not isinstance(obj, dict) or key not in obj:
        raise lim.Refusal(lim.MISSING_FIELD, {"field": field})
    value = obj[key]
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise lim.Refusal(lim.BAD_VALUE, {"field": field, "value": str(value)[:64]})
        return value
    if not isinstance(value, kind):
        raise lim.Refusal(lim.BAD_VALUE, {"field": field, "value": str(value)[:64]})
    return value


def _datetime(text, field):
    try:
        value = datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError as exc:
        raise lim.Refusal(
            lim.BAD_VALUE, {"field": field, "value": str(text)[:64]}
        ) from exc
    if value.tzinfo is not None:
        value = value.astimezone(datetime.UTC).replace(tzinfo=None)
    return value


def _failure(item, index):
    field = f"policies/failure-details[{index}]"
    if not isinstance(item, dict):
        raise lim.Refusal(lim.BAD_VALUE, {"field": field, "value": str(item)[:64]})
    return TlsFailure(
        result_type=_text(_field(item, "result-type", f"{field}/result-type")).lower(),
        count=_field(
            item, "failed-session-count", f"{field}/failed-session-count", int
        ),
        sending_mta_ip=_text(item.get("sending-mta-ip")),
        receiving_mx_hostname=_text(item.get("receiving-mx-hostname"))
        .rstrip(".")
        .lower(),
        receiving_ip=_text(item.get("receiving-ip")),
        failure_reason_code=_text(item.get("failure-reason-code")),
        additional_information=_text(item.get("additional-information")),
    )


def _policy(item, limits, counted):
    if not isinstance(item, dict):
        raise lim.Refusal(lim.BAD_VALUE, {"field": "policies", "value": str(item)[:64]})
    policy = _field(item, "policy", "policies/policy", dict)
    summary = _field(item, "summary", "policies/summary", dict)
    details = item.get("failure-details") or []
    if not isinstance(details, list):
        raise lim.Refusal(lim.BAD_VALUE, {"field": "policies/failure-details"})
    if counted + len(details) > limits.max_records:
        raise lim.Refusal(lim.TOO_MANY_RECORDS, {"limit": limits.max_records})
    mx_hosts = policy.get("mx-host") or []
    if isinstance(mx_hosts, str):
        mx_hosts = [mx_hosts]
    return TlsPolicyResult(
        policy_type=_text(
            _field(policy, "policy-type", "policies/policy/policy-type")
        ).lower(),
        policy_domain=_text(
            _field(policy, "policy-domain", "policies/policy/policy-domain")
        )
        .rstrip(".")
        .lower(),
        successful=_field(
            summary,
            "total-successful-session-count",
            "policies/summary/total-successful-session-count",
            int,
        ),
        failed=_field(
            summary,
            "total-failure-session-count",
            "policies/summary/total-failure-session-count",
            int,
        ),
        mx_hosts=tuple(_text(host) for host in mx_hosts[:20]),
        failures=tuple(_failure(detail, index) for index, detail in enumerate(details)),
    )


def parse_tls_json(data, limits=lim.DEFAULT_LIMITS):
    """A :class:`TlsReport` from decompressed JSON bytes."""
    if len(data) > limits.max_json_bytes:
        raise lim.Refusal(lim.DECOMPRESSED_TOO_LARGE, {"limit": limits.max_json_bytes})
    try:
        document = json.loads(data)
    except RecursionError as exc:
        raise lim.Refusal(lim.XML_DEPTH, {"limit": limits.max_depth}) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise lim.Refusal(lim.JSON_SYNTAX, {"error": str(exc)[:200]}) from exc
    if not isinstance(document, dict) or "policies" not in document:
        raise lim.Refusal(lim.NOT_A_REPORT, {"root": type(document).__name__})
    date_range = _field(document, "date-range", "date-range", dict)
    policies = _field(document, "policies", "policies", list)
    parsed = []
    counted = 0
    for item in policies[: limits.max_records]:
        policy = _policy(item, limits, counted)
        counted += len(policy.failures)
        parsed.append(policy)
    return TlsReport(
        org_name=_text(_field(document, "organization-name", "organization-name")),
        report_id=_text(_field(document, "report-id", "report-id")),
        date_begin=_datetime(
            _field(date_range, "start-datetime", "date-range/start-datetime"),
            "date-range/start-datetime",
        ),
        date_end=_datetime(
            _field(date_range, "end-datetime", "date-range/end-datetime"),
            "date-range/end-datetime",
        ),
        contact_info=_text(document.get("contact-info")),
        policies=tuple(parsed),
    )


def parse_tls_report(data, limits=lim.DEFAULT_LIMITS):
    """A :class:`TlsReport` from an attachment's bytes (JSON or .gz)."""
    # a TLS report is a few kilobytes, parsed whole: the JSON bound applies
    bounded = dataclasses.replace(
        limits,
        max_decompressed_bytes=min(
            limits.max_decompressed_bytes, limits.max_json_bytes
        ),
    )
    return parse_tls_json(b"".join(archive.iter_decompressed(data, bounded)), limits)
