# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Address filter grammar shared by outgoing and incoming rules.

One grammar serves the ``from_filter`` of outgoing mail servers, the
``mail.default.from_filter`` parameter, the ``mail.catchall.domain.allowed``
allow-list and trusted gateway senders:

* a comma-separated list, whitespace ignored, case-insensitive;
* ``user@example.com``: that exact address;
* ``example.com``: that exact domain (not its subdomains);
* ``*.example.com`` (or ``.example.com``): any subdomain of example.com at any
  depth, not the apex itself. A wildcard must keep at least two labels, so
  ``*.com`` (every domain of a top-level domain) is refused;
* internationalised domains are compared in A-label (punycode) form.

Everything here is pure Python: no ORM, no database, so it is fast to test and
the explainers can reuse it as is.
"""

import functools
import re
from collections import namedtuple

import idna

from .reason_texts import INPUT_ERRORS, word

TIER_ADDRESS = 1
TIER_DOMAIN = 2
TIER_WILDCARD = 3

KIND_ADDRESS = "address"
KIND_DOMAIN = "domain"
KIND_WILDCARD = "wildcard"

# An LDH label in A-label form (after IDNA encoding).
# "_" is not valid in host names (RFC 952) but real DNS names carry it and
# core accepts it, e.g. "test_2.com" in its own tests
_LABEL_RE = re.compile(r"^(?![-_])[a-z0-9_-]{1,63}(?<![-_])$")
# Characters never allowed in an unquoted local part of a filter entry.
_LOCAL_FORBIDDEN_RE = re.compile(r'[\s@<>,;:"()\[\]\\\x00-\x1f\x7f]')
# What admins type between entries instead of a comma: a semicolon (as
# Outlook separates addresses), spaces or both.
_SEPARATOR_RE = re.compile(r"[;\s]+")

FilterEntry = namedtuple("FilterEntry", ["kind", "value"])
FilterMatch = namedtuple("FilterMatch", ["tier", "entry", "specificity"])


# what each reason code of invalid input means: tools/reason_texts.INPUT_ERRORS


class InputError(ValueError):
    """Invalid input, described by a reason ``code`` (see
    ``reason_texts.INPUT_ERRORS``) and its ``params``; ``str()`` gives the
    English wording, :meth:`describe` the reader's."""

    def __init__(self, code, **params):
        self.code = code
        self.params = params
        super().__init__(self.describe())

    def describe(self, env=None):
        """The reason, in the language of ``env`` (English without one)."""
        text = INPUT_ERRORS.get(self.code)
        return word(text, self.params, env) if text is not None else self.code

    @property
    def reason(self):
        return self.describe()


class AddressFilterError(InputError):
    """An entry of an address filter is invalid.

    ``entry`` is the offending entry as the user typed it; ``code`` and
    ``params`` say what is wrong with it.
    """

    def __init__(self, entry, code, **params):
        self.entry = entry.strip(" \t")
        super().__init__(code, **params)

    def __str__(self):
        return f"{self.entry!r}: {self.reason}"


# pure and called for every mail and every server: memoised
@functools.lru_cache(maxsize=4096)
def domain_to_ascii(domain):
    """Return ``domain`` lower-cased in A-label (punycode) form.

    ``bücher.example`` and ``XN--BCHER-KVA.example`` both give
    ``xn--bcher-kva.example``. A trailing dot (root) is dropped.
    Raises :class:`InputError` when the domain is not a valid host name.
    """
    domain = (domain or "").strip().rstrip(".")
    if not domain:
        raise InputError("empty_domain")
    if any(ch.isspace() for ch in domain):
        raise InputError("domain_spaces")
    try:
        # plain ASCII labels skip IDNA, which refuses "_"; A-labels ("xn--")
        # and U-labels go through it so both spellings compare equal
        labels = [
            label.lower()
            if label.isascii() and not label.lower().startswith("xn--")
            else idna.encode(label, uts46=True).decode("ascii").lower()
            for label in domain.split(".")
        ]
    except (idna.IDNAError, UnicodeError) as exc:
        raise InputError("domain_invalid", detail=str(exc)) from exc
    ascii_domain = ".".join(labels)
    for label in ascii_domain.split("."):
        if not _LABEL_RE.match(label):
            raise InputError("label_invalid", label=label)
    if len(ascii_domain) > 253:
        raise InputError("domain_too_long")
    return ascii_domain


def split_address(address):
    """Split a bare address into ``(local_part, ascii_domain)``, lower-cased.

    Returns ``None`` when the address has no usable domain. The domain is
    IDNA-encoded so that comparisons are made on A-labels; a domain that
    cannot be encoded is kept lower-cased as is, so it can still be compared
    for exact equality but never matches a valid filter domain by accident.
    """
    if not address or "@" not in address:
        return None
    local, _at, domain = address.strip().rpartition("@")
    if not local or not domain:
        return None
    try:
        domain = domain_to_ascii(domain)
    except ValueError:
        domain = domain.lower()
    return local.lower(), domain


def _separated_entries(entry):
    """The entries an admin meant when ``entry`` is several valid entries
    joined by ``;`` or spaces instead of commas (``a.example; b.example``),
    else ``None``."""
    parts = [part for part in _SEPARATOR_RE.split(entry) if part]
    # "exa mple.com" is one mistyped domain, not two entries: each part
    # must look like a domain or an address of its own
    if (len(parts) < 2 and ";" not in entry) or not all("." in part for part in parts):
        return None
    try:
        return [format_entry(parse_entry(part)) for part in parts]
    except AddressFilterError:
        return None


def check_separators(entry):
    """Refuse an entry that is several entries joined by ``;`` or spaces, or
    a domain written with a leading ``@``, naming the fix (raises
    :class:`InputError`)."""
    entry = entry.strip()
    meant = _separated_entries(entry)
    if meant:
        raise InputError("separator", suggestion=", ".join(meant))
    if entry.startswith("@") and entry.count("@") == 1:
        try:
            domain = domain_to_ascii(entry[1:])
        except InputError:
            return
        raise InputError("domain_with_at", domain=domain)


def check_domain_list(value):
    """Refuse the separator mistakes of a comma-separated list of domains
    (``a.example; b.example``, ``@a.example``) naming the fix; raises
    :class:`InputError`. Spaces alone separate such a list too."""
    items = [item for item in re.split(r"[,;\s]+", value or "") if item]
    if ";" in (value or ""):
        raise InputError(
            "separator", suggestion=", ".join(item.lstrip("@") for item in items)
        )
    for item in items:
        check_separators(item)


def parse_entry(raw):
    """Parse one filter entry into a normalised :class:`FilterEntry`.

    Raises :class:`AddressFilterError` naming the entry when it is invalid.
    """
    entry = raw.strip()
    if not entry:
        raise AddressFilterError(raw, "empty_entry")
    if "\r" in entry or "\n" in entry:
        raise AddressFilterError(raw, "line_break")
    try:
        check_separators(entry)
    except InputError as exc:
        raise AddressFilterError(raw, exc.code, **exc.params) from exc
    if "@" in entry:
        local, _at, domain = entry.rpartition("@")
        if not local:
            raise AddressFilterError(raw, "local_missing")
        if not domain:
            raise AddressFilterError(raw, "domain_missing")
        if _LOCAL_FORBIDDEN_RE.search(local) or len(local) > 64:
            raise AddressFilterError(raw, "local_invalid")
        if domain.startswith(("*", ".")):
            raise AddressFilterError(raw, "address_wildcard")
        try:
            domain = domain_to_ascii(domain)
        except InputError as exc:
            raise AddressFilterError(raw, exc.code, **exc.params) from exc
        return FilterEntry(KIND_ADDRESS, f"{local.lower()}@{domain}")
    wildcard = False
    if entry.startswith("*."):
        wildcard, entry = True, entry[2:]
    elif entry.startswith("."):
        wildcard, entry = True, entry[1:]
    if "*" in entry:
        raise AddressFilterError(raw, "star_misplaced")
    try:
        domain = domain_to_ascii(entry)
    except InputError as exc:
        raise AddressFilterError(raw, exc.code, **exc.params) from exc
    if wildcard:
        if "." not in domain:
            raise AddressFilterError(raw, "wildcard_too_wide")
        return FilterEntry(KIND_WILDCARD, domain)
    return FilterEntry(KIND_DOMAIN, domain)


@functools.lru_cache(maxsize=1024)
def parse_filter(value):
    """Parse a comma-separated filter into a tuple of :class:`FilterEntry`.

    Empty values give an empty tuple. Duplicates are removed, order is kept.
    Raises :class:`AddressFilterError` on the first invalid entry.
    """
    if not value:
        return ()
    if "\r" in value or "\n" in value:
        bad = next(part for part in value.split(",") if "\r" in part or "\n" in part)
        raise AddressFilterError(bad.strip(), "line_break")
    entries = []
    for raw in value.split(","):
        if not raw.strip():
            continue
        entry = parse_entry(raw)
        if entry not in entries:
            entries.append(entry)
    return tuple(entries)


def format_entry(entry):
    """Return the canonical text of one entry (``*.`` prefix for wildcards)."""
    return f"*.{entry.value}" if entry.kind == KIND_WILDCARD else entry.value


def normalize_filter(value):
    """Return the canonical stored form of a filter value, or ``False`` if empty.

    ``" Example.COM , .Sub.example.com"`` gives ``"example.com,*.sub.example.com"``.
    """
    entries = parse_filter(value)
    return ",".join(format_entry(entry) for entry in entries) or False


def match_address(entries, address):
    """Return the best :class:`FilterMatch` of a bare address, or ``None``.

    Tiers: 1 exact address, 2 exact domain, 3 wildcard (the longest wildcard
    is the most specific). ``specificity`` orders matches inside tier 3.
    """
    parts = split_address(address)
    if not parts:
        return None
    local, domain = parts
    full = f"{local}@{domain}"
    best = None
    for entry in entries:
        if entry.kind == KIND_ADDRESS and entry.value == full:
            return FilterMatch(TIER_ADDRESS, entry, 0)
        if entry.kind == KIND_DOMAIN and entry.value == domain:
            best = FilterMatch(TIER_DOMAIN, entry, 0)
        elif entry.kind == KIND_WILDCARD and (
            best is None or best.tier == TIER_WILDCARD
        ):
            if domain.endswith("." + entry.value):
                specificity = entry.value.count(".") + 1
                if best is None or specificity > best.specificity:
                    best = FilterMatch(TIER_WILDCARD, entry, specificity)
    return best


def match_domain(entries, domain):
    """Return True when a bare domain is allowed by ``entries``.

    Used by domain allow-lists: an exact domain entry or a wildcard covering
    it. Address entries never allow a whole domain.
    """
    try:
        domain = domain_to_ascii(domain)
    except ValueError:
        return False
    for entry in entries:
        if entry.kind == KIND_DOMAIN and entry.value == domain:
            return True
        if entry.kind == KIND_WILDCARD and domain.endswith("." + entry.value):
            return True
    return False


def rank_candidates(candidates, address):
    """Rank servers for ``address`` and return ``(tier, matched)``.

    ``candidates`` is an iterable of ``(key, entries)`` already in priority
    order (sequence, id). Returns the lowest tier with at least one match and
    the list of ``(key, FilterMatch)`` of that tier in the order to try them:
    most specific wildcard first, then priority order. ``(None, [])`` when no
    candidate matches.
    """
    by_tier = {}
    for position, (key, entries) in enumerate(candidates):
        found = match_address(entries, address)
        if found:
            by_tier.setdefault(found.tier, []).append(
                (-found.specificity, position, key, found)
            )
    if not by_tier:
        return None, []
    tier = min(by_tier)
    ranked = sorted(by_tier[tier], key=lambda item: (item[0], item[1]))
    return tier, [(key, found) for _spec, _pos, key, found in ranked]
