# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""One attachment, whatever it is: a DMARC aggregate report, a TLS report,
or something else (refused with a reason)."""

import itertools
from dataclasses import dataclass

from . import aggregate, archive, tlsrpt
from . import limits as lim

DMARC = "dmarc"
TLS = "tls"


@dataclass(frozen=True)
class ReadAttachment:
    kind: str
    report: object


def read_attachment(data, limits=lim.DEFAULT_LIMITS):
    """``ReadAttachment(kind, report)`` of an attachment's bytes, told apart
    by their content (XML: DMARC, JSON: TLS), not by name or MIME type,
    which reporters get wrong; raises :class:`.limits.Refusal`."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    chunks = archive.iter_decompressed(data, limits)
    first = b""
    for chunk in chunks:
        first += chunk
        if first.lstrip(b"\xef\xbb\xbf \t\r\n"):
            break
    start = first.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    rest = itertools.chain((first,), chunks)
    if start == b"<":
        return ReadAttachment(DMARC, aggregate.parse_aggregate_chunks(rest, limits))
    if start in (b"{", b"["):
        data = b""
        for chunk in rest:
            data += chunk
            if len(data) > limits.max_json_bytes:
                raise lim.Refusal(
                    lim.DECOMPRESSED_TOO_LARGE, {"limit": limits.max_json_bytes}
                )
        return ReadAttachment(TLS, tlsrpt.parse_tls_json(data, limits))
    raise lim.Refusal(lim.NOT_A_REPORT, {"root": repr(start)})
