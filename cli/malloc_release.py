# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Memory of received messages given back to the system (glibc).

A message being received is one growing buffer (data_transfer). glibc
serves a large buffer with mmap and returns it on free, but after the first
such free it raises its mmap threshold (up to 32 MiB) and serves the next
ones from the heap, whose freed pages it keeps: after an attack of large
messages the mailgate would stay at its peak. A fixed threshold (mallopt
turns the adjustment off) keeps large buffers in mmap, and ``malloc_trim``
after the last large message returns what the heap holds free. Elsewhere
than glibc nothing is done.
"""

import contextlib
import ctypes
import ctypes.util
import logging
import time

_logger = logging.getLogger(__name__)

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
# buffers from this size on are mmapped (glibc's initial value, kept fixed)
MMAP_THRESHOLD = 128 * 1024
# free heap above this is returned by free() itself
TRIM_THRESHOLD = 1024 * 1024
# a message of this size makes its end worth a malloc_trim
LARGE = 1024 * 1024
TRIM_INTERVAL = 1.0

_libc = None
_trim_due = False
_trimmed = 0.0


def _glibc():
    global _libc
    if _libc is None:
        _libc = False
        name = ctypes.util.find_library("c")
        with contextlib.suppress(OSError):  # no C library to load: nothing to do
            libc = ctypes.CDLL(name) if name else None
            if libc is not None and hasattr(libc, "malloc_trim"):
                _libc = libc
    return _libc


def configure():
    """Fixed mmap and trim thresholds for this process (idempotent)."""
    libc = _glibc()
    if not libc:
        return False
    ok = libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and libc.mallopt(
        M_TRIM_THRESHOLD, TRIM_THRESHOLD
    )
    if not ok:
        _logger.info("mailgate: glibc refused the malloc thresholds")
    return bool(ok)


def trim():
    libc = _glibc()
    return bool(libc) and bool(libc.malloc_trim(0))


def release_soon(loop):
    """One ``malloc_trim`` shortly, at most one a ``TRIM_INTERVAL``."""
    global _trim_due
    if _trim_due or not _glibc():
        return

    def run():
        global _trim_due, _trimmed
        _trim_due = False
        _trimmed = time.monotonic()
        trim()

    _trim_due = True
    wait = max(0.1, TRIM_INTERVAL - (time.monotonic() - _trimmed))
    loop.call_later(wait, run)
