# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The author of an incoming message: one From field with one address, as
DMARC needs it (RFC 7489 §6.6.1; RFC 9989 keeps the rule), and as a reader
should see it.

Pure: codes and strings, no Odoo records. ``mail.thread`` applies them
(message_parse writes the author as displayed, the authentication policy
decides what to do with a message whose author is ambiguous).
"""

import contextlib
import re
from email.errors import CharsetError, HeaderParseError
from email.header import decode_header, make_header

from odoo.tools.mail import email_normalize, email_split_tuples, formataddr

# why a message has no single author (a DMARC permerror)
NO_FROM = "no_from"  # no From field at all
SEVERAL_FROM_FIELDS = "several_from_fields"
SEVERAL_ADDRESSES = "several_addresses"  # one From field, several mailboxes
NO_ADDRESS = "no_address"  # a From field without a usable address
PROBLEMS = (NO_FROM, SEVERAL_FROM_FIELDS, SEVERAL_ADDRESSES, NO_ADDRESS)


def _addresses(value):
    return [address for _name, address in _pairs(value)]


def from_problem(from_fields):
    """Why the From fields (their decoded values) give no single author
    address, or ``""``. One mailbox written twice is one author."""
    values = [str(value) for value in from_fields or ()]
    if not values:
        return NO_FROM
    if len(values) > 1:
        return SEVERAL_FROM_FIELDS
    addresses = _addresses(values[0])
    if not addresses:
        return NO_ADDRESS
    if len({strip_root_dot(address).lower() for address in addresses}) > 1:
        return SEVERAL_ADDRESSES
    return ""


def strip_root_dot(address):
    """``boss@company.example.`` → ``boss@company.example``: the trailing
    dot of a fully qualified domain names the same domain (RFC 1034 §3.1)."""
    local, at, domain = (address or "").rpartition("@")
    return f"{local}{at}{domain.rstrip('.')}" if at else address


def raw_from_values(message):
    """The From fields of an ``email.message.Message`` as written, their
    encoded words decoded. Python's header parser (core's) gives a From
    whose address it cannot parse (``boss@company.example.``) as its
    display name alone: the author must be read from the raw text."""
    values = []
    for name, value in message.raw_items():
        if name.lower() != "from":
            continue
        value = re.sub(r"\r?\n(?=[ \t])", "", str(value)).strip()
        # undecodable bytes (kept as surrogates by the parser) as U+FFFD
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        # a charset name that is not ASCII raises CharsetError, an unknown one
        # LookupError: the field is then kept as written
        with contextlib.suppress(
            CharsetError, HeaderParseError, UnicodeError, LookupError
        ):
            value = str(make_header(decode_header(value)))
        values.append(value)
    return values


def author_display(core_from, raw_values=()):
    """The From of one author as Odoo stores and shows it: the address
    read from the raw field when core's parser lost it, the domain without
    its root dot, and a display name that looks like an address
    (``"boss@company.example" <x@evil.example>``) followed by the real
    address, as mail clients show it, so that nobody reads the name for the
    sender. Anything else is core's value unchanged."""
    source = core_from or ""
    if len(raw_values) == 1 and len(_pairs(raw_values[0])) == 1:
        source = raw_values[0]
    pairs = _pairs(source)
    if len(pairs) != 1:
        return core_from
    name, address = pairs[0]
    address = strip_root_dot(address)
    if (
        name
        and "@" in name
        and email_normalize(name, strict=False)
        != email_normalize(address, strict=False)
    ):
        name = f"{name} [{address}]"
    if email_split_tuples(core_from or "") == [(name, address)]:
        return core_from  # nothing to correct: as core wrote it
    try:
        return formataddr((name or "", address))
    except (ValueError, UnicodeError):  # idna refuses the domain: core's value
        return core_from


def _pairs(value):
    return [
        (name, address)
        for name, address in email_split_tuples(value or "")
        if "@" in (address or "")
    ]
