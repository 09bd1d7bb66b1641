# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""What every report from a receiver says of itself, whatever its kind."""

import datetime
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class ReceiverReport:
    """The organisation that sent the report, its ID (stored once per
    organisation and ID) and the days it covers. Keyword-only: the kinds
    add fields with and without defaults in their own order."""

    org_name: str
    report_id: str
    date_begin: datetime.datetime
    date_end: datetime.datetime
