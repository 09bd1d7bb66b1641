# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import models

from ..tools import routing_params
from ..tools.dmarc_reports import limits as lim
from ..tools.routing_params import KIND_INTEGER, RoutingParam

#: reports one sender may deliver into the report alias per day (storing a
#: report sends no mail, so it cannot loop; this bounds a flood instead of
#: the alias's loop limit: mail.dmarc.report._routing_loop_limits)
SENDER_DAILY_LIMIT = "mail.dmarc_reports.sender_daily_limit"

routing_params.register_params(
    "dmarc_reports",
    # what one report attachment may cost (tools/dmarc_reports/limits.py)
    *(
        RoutingParam(
            lim.param_key(name),
            KIND_INTEGER,
            default=getattr(lim.DEFAULT_LIMITS, name),
            minimum=lim.MINIMUMS[name],
            removed_on_uninstall=True,
        )
        for name in lim.bound_names()
    ),
    RoutingParam(
        SENDER_DAILY_LIMIT,
        KIND_INTEGER,
        default=500,
        minimum=1,
        removed_on_uninstall=True,
    ),
)


def _bound_field(name, string, help_text):
    return routing_params.settings_field(lim.param_key(name), string, help_text)


class ResConfigSettings(models.TransientModel):
    """Reports from receivers room: the bounds on a report attachment and the
    reports a sender may deliver per day."""

    _inherit = "res.config.settings"

    dmarc_reports_max_attachment_bytes = _bound_field(
        "max_attachment_bytes",
        "Reports: attachment size (bytes)",
        "A larger report attachment is refused (kept as Refused, with the reason).",
    )
    dmarc_reports_max_decompressed_bytes = _bound_field(
        "max_decompressed_bytes",
        "Reports: decompressed size (bytes)",
        "A report that decompresses to more is refused.",
    )
    dmarc_reports_max_ratio = _bound_field(
        "max_ratio",
        "Reports: compression ratio",
        "Decompressed / compressed size above which a report is refused as a "
        "zip bomb, once past the ratio floor.",
    )
    dmarc_reports_ratio_floor = _bound_field(
        "ratio_floor",
        "Reports: ratio floor (bytes)",
        "Decompressed size below which the compression ratio is not checked.",
    )
    dmarc_reports_max_records = _bound_field(
        "max_records",
        "Reports: rows in a report",
        "A report with more rows (records, TLS failure details) is refused.",
    )
    dmarc_reports_max_depth = _bound_field(
        "max_depth",
        "Reports: XML depth",
        "A report nested deeper is refused.",
    )
    dmarc_reports_max_archive_members = _bound_field(
        "max_archive_members",
        "Reports: files in a zip archive",
        "A zip archive with more files is refused.",
    )
    dmarc_reports_max_json_bytes = _bound_field(
        "max_json_bytes",
        "Reports: TLS report size (bytes)",
        "A TLS report (JSON, read whole) larger than this is refused.",
    )
    dmarc_reports_sender_daily_limit = routing_params.settings_field(
        SENDER_DAILY_LIMIT,
        "Reports: per sender and day",
        "Reports one sender may deliver into the report alias in 24 hours; "
        "the next ones are kept in the gateway log. Storing a report sends no "
        "mail, so the alias's loop limit does not apply.",
    )
