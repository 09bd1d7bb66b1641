# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Reports from receivers: DMARC aggregate reports (RFC 9990, and the RFC 7489
Appendix C format receivers still send) and SMTP TLS reports (RFC 8460).

Pure functions over the bytes of an attachment: no ORM, no DNS. Every
refusal is a :class:`.limits.Refusal` with a code (worded by
``texts.REFUSAL_TEXTS``); sizes are bounded before memory is spent.
"""

from .limits import Limits, Refusal  # noqa: F401
from .archive import decompress  # noqa: F401
from .aggregate import parse_aggregate  # noqa: F401
from .tlsrpt import parse_tls_report  # noqa: F401
from .reader import read_attachment  # noqa: F401
