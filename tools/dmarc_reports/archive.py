# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Decompression of report attachments (.gz, .zip, or plain), in chunks:
the decompressed size and ratio are checked as the data comes, so that a
zip bomb stops at the bound instead of filling memory."""

import io
import zipfile
import zlib

from . import limits as lim

CHUNK = 64 * 1024
GZIP = "gzip"
ZIP = "zip"
PLAIN = "plain"


def detect(data):
    """The container of ``data`` by its first bytes (names lie: a
    ``.xml.gz`` may be plain, a ``.zip`` a gzip)."""
    if data[:2] == b"\x1f\x8b":
        return GZIP
    if data[:4] == b"PK\x03\x04":
        return ZIP
    return PLAIN


class _Budget:
    def __init__(self, compressed, limits):
        self.compressed = max(compressed, 1)
        self.limits = limits
        self.total = 0

    def spend(self, size, consumed=None):
        """Count ``size`` more decompressed bytes, out of ``consumed``
        compressed bytes read so far (default: all of them): the ratio is
        that of the data read, so a bomb stops at its first chunks."""
        self.total += size
        limits = self.limits
        if self.total > limits.max_decompressed_bytes:
            raise lim.Refusal(
                lim.DECOMPRESSED_TOO_LARGE, {"limit": limits.max_decompressed_bytes}
            )
        read = max(consumed or self.compressed, 1)
        if self.total > limits.ratio_floor and self.total / read > limits.max_ratio:
            raise lim.Refusal(
                lim.RATIO, {"ratio": self.total // read, "limit": limits.max_ratio}
            )


def _gunzip_chunks(data, budget):
    # zlib with a bounded output size per call: never more than CHUNK at once
    stream = zlib.decompressobj(16 + zlib.MAX_WBITS)
    pending = data
    try:
        while pending:
            chunk = stream.decompress(pending, CHUNK)
            pending = stream.unconsumed_tail
            if chunk:
                budget.spend(len(chunk), len(data) - len(pending))
                yield chunk
            if stream.eof:
                # concatenated gzip members are legal but never used by
                # reporters: what follows the first member is ignored
                break
            if not chunk and not pending:
                break
        if not stream.eof:
            raise lim.Refusal(lim.ARCHIVE_BROKEN, {"error": "truncated gzip data"})
    except zlib.error as exc:
        raise lim.Refusal(lim.ARCHIVE_BROKEN, {"error": str(exc)}) from exc


def _unzip_chunks(data, budget, limits):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise lim.Refusal(lim.ARCHIVE_BROKEN, {"error": str(exc)}) from exc
    if not members:
        raise lim.Refusal(lim.ARCHIVE_EMPTY)
    if len(members) > limits.max_archive_members:
        raise lim.Refusal(
            lim.ARCHIVE_MEMBERS,
            {"count": len(members), "limit": limits.max_archive_members},
        )
    # a report archive holds one report; the declared size is checked first
    # (cheap) and the real one as it is read (the header may lie)
    member = members[0]
    if member.file_size > limits.max_decompressed_bytes:
        raise lim.Refusal(
            lim.DECOMPRESSED_TOO_LARGE, {"limit": limits.max_decompressed_bytes}
        )
    budget.compressed = max(member.compress_size, 1)
    budget.spend(0)
    if (
        member.file_size > limits.ratio_floor
        and member.file_size / budget.compressed > limits.max_ratio
    ):
        raise lim.Refusal(
            lim.RATIO,
            {
                "ratio": member.file_size // budget.compressed,
                "limit": limits.max_ratio,
            },
        )
    try:
        with archive.open(member) as stream:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                budget.spend(len(chunk))
                yield chunk
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError) as exc:
        raise lim.Refusal(lim.ARCHIVE_BROKEN, {"error": str(exc)}) from exc
    except zlib.error as exc:
        raise lim.Refusal(lim.ARCHIVE_BROKEN, {"error": str(exc)}) from exc


def iter_decompressed(data, limits=lim.DEFAULT_LIMITS):
    """The decompressed bytes of ``data`` in chunks of at most :data:`CHUNK`
    (plain data as it is); raises :class:`.limits.Refusal` past a bound."""
    if len(data) > limits.max_attachment_bytes:
        raise lim.Refusal(
            lim.TOO_LARGE, {"size": len(data), "limit": limits.max_attachment_bytes}
        )
    budget = _Budget(len(data), limits)
    kind = detect(data)
    if kind == GZIP:
        return _gunzip_chunks(data, budget)
    if kind == ZIP:
        return _unzip_chunks(data, budget, limits)
    budget.spend(len(data))
    return iter((data,))


def decompress(data, limits=lim.DEFAULT_LIMITS):
    """All of :func:`iter_decompressed` at once (bounded by the limits)."""
    return b"".join(iter_decompressed(data, limits))
