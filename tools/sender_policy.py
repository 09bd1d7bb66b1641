"""Pure helpers for outgoing sender decisions (no ORM)."""

from email.utils import getaddresses

# core's formatting: the display name is always quoted ("Ann" <a@b>)
from odoo.tools.mail import formataddr

from .address_filter import domain_to_ascii, match_address, split_address

POLICY_REWRITE = "rewrite"
POLICY_BLOCK = "block"
POLICIES = (POLICY_REWRITE, POLICY_BLOCK)

DISPLAY_FIELDS = ("name", "company")


def resolve_default_from(value, domain):
    """Return the default From address a ``mail.default.from`` value stands for.

    A full address is used as is (lower-cased); a bare local part is combined
    with ``domain``. Returns ``False`` when nothing usable results (no value,
    or a local part and no domain).
    """
    value = (value or "").strip()
    if not value:
        return False
    if "@" in value:
        return value.lower()
    if not domain:
        return False
    return f"{value}@{domain}".lower()


def validate_default_from(value):
    """Raise ``ValueError`` when ``value`` is neither a local part nor an address."""
    value = (value or "").strip()
    if not value:
        return
    if any(ch.isspace() or ch in '<>,;:"()[]\\' for ch in value):
        raise ValueError("use a bare local part (notifications) or an address (notifications@example.com)")
    if "@" in value:
        if split_address(value) is None:
            raise ValueError("the address must have a part before and after '@'")
        domain_to_ascii(value.rpartition("@")[2])


def validate_display_format(fmt):
    """Raise ``ValueError`` when ``fmt`` uses a field other than {name}/{company}."""
    if not fmt:
        return
    try:
        fmt.format(**dict.fromkeys(DISPLAY_FIELDS, "x"))
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"only {{name}} and {{company}} may be used ({exc})") from exc


def display_name_of(address_text):
    """Return the display name of a formatted address, or its local part."""
    pairs = getaddresses([address_text or ""])
    if not pairs or not pairs[0][1]:
        return (address_text or "").split("@")[0]
    name, email = pairs[0]
    return name or email.split("@")[0]


def rewrite_from(original_from, new_address, display_format=None, company_name=""):
    """Build the rewritten From header keeping the author's display name.

    ``"Ann" <ann@gmail.com>`` and ``notifications@example.com`` give
    ``"Ann" <notifications@example.com>``; with ``display_format``
    ``"{name} via {company}"`` the name becomes ``Ann via MyCompany``.
    """
    name = display_name_of(original_from)
    if display_format:
        name = display_format.format(name=name, company=company_name or "")
    return formataddr((name, new_address))


def choose_envelope_sender(entries, preferred, fallback_local="bounce"):
    """Pick the envelope sender (SMTP MAIL FROM) the server will accept.

    ``entries`` are the parsed from_filter entries of the server used (empty:
    the server accepts anything); ``preferred`` the addresses in order of
    preference (bounce address first, so bounces come back to Odoo, then the
    header From). When none is allowed, an address is made from the filter
    itself: its first exact address, or ``fallback_local@`` its first domain.
    Returns ``(address, reason)``.
    """
    preferred = [address for address in preferred if address]
    if not entries:
        return (preferred[0] if preferred else False), "server has no FROM filter"
    for address in preferred:
        if match_address(entries, address):
            return address, "allowed by the server's FROM filter"
    for entry in entries:
        if entry.kind == "address":
            return entry.value, "first address of the server's FROM filter"
    for entry in entries:
        if entry.kind == "domain":
            return f"{fallback_local}@{entry.value}", "made from the server's FROM filter domain"
    return (preferred[0] if preferred else False), "no address allowed by the server could be derived"


def _organizational_suffix(domain, other):
    return domain == other or domain.endswith("." + other) or other.endswith("." + domain)


def dmarc_alignment(from_address, envelope_address, server_entries):
    """Return ``(aligned, explanation)`` for a relaxed DMARC alignment check.

    Relaxed SPF alignment holds when the envelope domain and the From domain
    are the same or one is a subdomain of the other. DKIM can only align when
    the server may send for the From domain (its FROM filter allows it or it
    has none), so that it signs with that domain.
    """
    from_parts = split_address(from_address or "")
    env_parts = split_address(envelope_address or "")
    if not from_parts:
        return False, "the From header has no valid address"
    from_domain = from_parts[1]
    # SPF only passes when the server may send for the envelope domain
    spf = (
        bool(env_parts)
        and _organizational_suffix(from_domain, env_parts[1])
        and (not server_entries or bool(match_address(server_entries, envelope_address)))
    )
    dkim = not server_entries or bool(match_address(server_entries, from_address))
    if spf and dkim:
        return True, f"envelope domain and server both align with {from_domain}"
    if spf:
        return True, f"envelope domain aligns with {from_domain} (SPF); the server is not set up for it"
    if dkim:
        return True, f"the server may sign for {from_domain} (DKIM); the envelope domain differs"
    return False, f"neither the envelope domain nor the server align with {from_domain}: DMARC fails"
