# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Bounds on what one report attachment may cost, and the refusal they raise."""

from dataclasses import dataclass, field, fields

# refusal codes (texts: texts.REFUSAL_TEXTS)
TOO_LARGE = "too_large"
DECOMPRESSED_TOO_LARGE = "decompressed_too_large"
RATIO = "ratio"
ARCHIVE_MEMBERS = "archive_members"
ARCHIVE_BROKEN = "archive_broken"
ARCHIVE_EMPTY = "archive_empty"
XML_DTD = "xml_dtd"
XML_DEPTH = "xml_depth"
XML_SYNTAX = "xml_syntax"
TOO_MANY_RECORDS = "too_many_records"
NOT_A_REPORT = "not_a_report"
MISSING_FIELD = "missing_field"
BAD_VALUE = "bad_value"
JSON_SYNTAX = "json_syntax"


@dataclass(frozen=True)
class Limits:
    """What one attachment may cost. ``max_ratio`` applies once the
    decompressed data passes ``ratio_floor`` bytes: a small file may compress
    well without being a bomb. Each bound is the system parameter
    ``mail.dmarc_reports.<name>`` (:func:`param_key`), these values its
    default (models/res_config_settings_dmarc_reports.py)."""

    max_attachment_bytes: int = 10 * 1024 * 1024
    max_decompressed_bytes: int = 100 * 1024 * 1024
    max_ratio: int = 200
    ratio_floor: int = 256 * 1024
    max_records: int = 100_000
    max_depth: int = 16
    max_archive_members: int = 4
    # a TLS report is read whole (json.loads): its own, smaller bound
    max_json_bytes: int = 5 * 1024 * 1024


DEFAULT_LIMITS = Limits()
#: the smallest value each bound accepts (a DMARC report nests 6 elements deep)
MINIMUMS = {
    "max_attachment_bytes": 1024,
    "max_decompressed_bytes": 1024,
    "max_ratio": 2,
    "ratio_floor": 1024,
    "max_records": 1,
    "max_depth": 8,
    "max_archive_members": 1,
    "max_json_bytes": 1024,
}


def param_key(name):
    """The system parameter of the bound ``name``."""
    return f"mail.dmarc_reports.{name}"


def bound_names():
    return [item.name for item in fields(Limits)]


@dataclass
class Refusal(Exception):
    """Why an attachment was not read: ``code`` and its parameters."""

    code: str
    params: dict = field(default_factory=dict)

    def __post_init__(self):
        # the exception's args, as raise and logging show them
        self.args = (self.code, self.params)

    def __str__(self):
        details = ", ".join(f"{key}={value}" for key, value in self.params.items())
        return f"{self.code} ({details})" if details else self.code
