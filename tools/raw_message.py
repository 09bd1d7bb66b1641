# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Is a text an email message at all? (pure, no ORM)"""

import re

# RFC 5322 field name: printable ASCII except ':'; "From " opens an mbox entry
_HEADER_LINE_RE = re.compile(rb"^(?:[\x21-\x39\x3b-\x7e]+[ \t]*:|From )")
#: headers of which at least one is in any message a mail server hands over
MESSAGE_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"message-id",
    b"date",
    b"received",
    b"return-path",
    b"delivered-to",
    b"mime-version",
    b"content-type",
)

NOT_EMAIL_EMPTY = "empty"
NOT_EMAIL_NUL = "nul"
NOT_EMAIL_NO_HEADERS = "no_headers"


def not_email_reason(raw):
    """Return why ``raw`` (bytes) is not an email message, or ``None``.

    ``empty``; ``nul`` (NUL characters: never in a message, RFC 5322);
    ``no_headers`` (it does not open with header fields, or has none of the
    headers every message carries, such as From, To, Subject or Date).
    """
    if not raw or not raw.strip():
        return NOT_EMAIL_EMPTY
    if b"\x00" in raw:
        return NOT_EMAIL_NUL
    head = raw.lstrip(b"\r\n").replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    lines = head.split(b"\n")
    if not _HEADER_LINE_RE.match(lines[0]):
        return NOT_EMAIL_NO_HEADERS
    names = {
        line.split(b":", 1)[0].strip().lower()
        for line in lines
        if b":" in line and line[:1] not in b" \t"
    }
    if not names.intersection(MESSAGE_HEADERS):
        return NOT_EMAIL_NO_HEADERS
    return None
