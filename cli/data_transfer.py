# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""One SMTP DATA transfer, read from the raw bytes as they arrive.

aiosmtpd reads DATA one line at a time and keeps every line as an object of
its own until the end: 25 MB of 3-byte lines are 8 million objects (about
100 bytes each besides the text), glibc cannot give that memory back, and
one await per line costs a core. ``DataTransfer`` takes whole network
chunks instead: it finds the end (``CRLF . CRLF``), removes the dot
stuffing (RFC 5321 §4.5.2) and keeps the message in one ``bytearray``, with
C-speed byte operations per chunk. What it holds is what it says it holds
(``held``), so the mailgate's memory cap counts real bytes.

Pure: no asyncio, no sockets; the SMTP server feeds it (smtp_handler).
"""

import sys

END = b"\r\n.\r\n"
CRLF = b"\r\n"

# how a transfer ended (besides a complete message)
TOO_BIG = "too_big"  # over the size limit: drained, answered 552
LINE_TOO_LONG = "line_too_long"  # a line over the line limit: drained, answered 500


class DataTransfer:
    """Feed it the bytes that follow ``354``; ``feed`` says how many of them
    belong to the message (the rest are the client's next commands)."""

    __slots__ = (
        "_body",
        "_held_back",
        "_last",
        "_line",
        "done",
        "error",
        "line_limit",
        "size",
        "size_limit",
    )

    def __init__(self, size_limit=0, line_limit=0):
        self.size_limit = size_limit
        self.line_limit = line_limit
        self._body = bytearray()
        # raw bytes not yet taken: a possible beginning of the end marker
        self._held_back = b""
        # the last two raw bytes taken; the CRLF that ended the DATA command
        # before any (a message may end at once)
        self._last = CRLF
        self._line = 0  # length of the unfinished line taken so far
        self.size = 0  # raw bytes of the transfer, as aiosmtpd counts them
        self.done = False
        self.error = ""

    @property
    def held(self):
        """Bytes this transfer holds in memory: the message so far, as
        allocated (``sys.getsizeof`` counts a bytearray's spare room)."""
        return sys.getsizeof(self._body) + len(self._held_back)

    def feed(self, data):
        """Take a chunk; returns how many of its bytes belong to the
        transfer (all of them until the end marker arrived)."""
        if self.done:
            return 0
        waiting = len(self._held_back)
        raw = self._held_back + data if waiting else data
        self._held_back = b""
        # where END starts, counted in self._last + raw: maybe in the two
        # bytes already taken (their CRLF then ends the last line)
        end = (self._last + raw[:4]).find(END)
        if end < 0:
            end = raw.find(END)
            end = end + len(CRLF) if end >= 0 else -1
        if end >= 0:
            # END's CRLF ends the message's last line (data), ".\r\n" is not
            self._take(raw[:end])
            self.done = True
            return end + len(END) - len(CRLF) - waiting
        keep = 0
        tail = (self._last + raw[-4:])[-4:]
        for size in (4, 3, 2, 1):  # a beginning of the marker waits for the rest
            if tail.endswith(END[:size]):
                keep = min(size, len(raw))
                break
        self._take(raw[: len(raw) - keep] if keep else raw)
        self._held_back = raw[len(raw) - keep :] if keep else b""
        return len(data)

    def _take(self, raw):
        if not raw:
            return
        context = self._last
        self._last = raw[-2:] if len(raw) >= 2 else (context + raw)[-2:]
        size, self.size = self.size, self.size + len(raw)
        if self.error:
            return  # drained only, to find the end
        over = self.size_limit and self.size > self.size_limit
        # as aiosmtpd: the first line over a limit decides; one over both is too big
        checked = raw[: self.size_limit - size] if over else raw
        if self._line_too_long(checked, complete_only=over):
            self._fail(LINE_TOO_LONG)
            return
        if over:
            self._fail(TOO_BIG)
            return
        # a line's leading dot is transparency (RFC 5321 §4.5.2): one removed
        if (context == CRLF and raw[:1] == b".") or (
            context[-1:] == b"\r" and raw[:2] == b"\n."
        ):
            dot = 0 if raw[:1] == b"." else 1
            self._body += raw[:dot]
            raw = raw[dot + 1 :]
        self._body += raw.replace(b"\r\n.", CRLF) if b"\r\n." in raw else raw

    def _line_too_long(self, raw, complete_only):
        """Whether ``raw`` makes a line longer than the limit (its CRLF
        counted); ``complete_only``: only lines that end within it count.
        Remembers the length of the unfinished last line. No object per
        line: C-speed searches."""
        last_end = raw.rfind(CRLF)
        first_end = raw.find(CRLF)
        previous = self._line
        self._line = previous + len(raw) if last_end < 0 else len(raw) - last_end - 2
        if not self.line_limit:
            return False
        limit = self.line_limit - len(CRLF)
        if first_end < 0:
            return not complete_only and previous + len(raw) > limit
        if previous + first_end > limit:
            return True
        stop = last_end if complete_only else len(raw)
        return _long_segment(raw, first_end + len(CRLF), stop, limit)

    def _fail(self, error):
        self.error = error
        self.discard()

    def discard(self):
        """Free what the transfer holds, now: a cancelled session's frames
        wait in reference cycles for the garbage collector, its message
        must not."""
        self._body = bytearray()
        self._held_back = b""

    def message(self):
        """The message received (once ``done`` without ``error``); the
        transfer holds nothing afterwards."""
        body, self._body = self._body, bytearray()
        return bytes(body)


def _long_segment(raw, start, stop, limit):
    """Whether ``raw[start:stop]`` holds more than ``limit`` bytes without a
    CR or LF (a lone one ends a line here too: lenient, never a false
    refusal). Such a run covers a whole window of ``limit // 2`` bytes
    aligned from ``start``: a few C-speed searches a window, none a line
    (a regular expression cost 3 ms a 256 KiB chunk of 3-byte lines)."""
    if stop - start <= limit:
        return False
    window = max(1, limit // 2)
    for left in range(start, stop - window + 1, window):
        right = left + window
        if raw.find(b"\n", left, right) >= 0 or raw.find(b"\r", left, right) >= 0:
            continue
        begin = max(raw.rfind(b"\n", start, left), raw.rfind(b"\r", start, left))
        begin = begin + 1 if begin >= 0 else start
        ends = [
            i
            for i in (raw.find(b"\n", right, stop), raw.find(b"\r", right, stop))
            if i >= 0
        ]
        if min(ends, default=stop) - begin > limit:
            return True
    return False
