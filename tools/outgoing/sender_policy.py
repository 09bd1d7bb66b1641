# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Pure helpers for outgoing sender decisions (no ORM)."""

import dataclasses
from email.utils import getaddresses

# core's formatting: the display name is always quoted ("Ann" <a@b>)
from odoo.tools.mail import email_normalize, formataddr

from ..address_filter import (
    KIND_DOMAIN,
    InputError,
    domain_to_ascii,
    match_address,
    rank_candidates,
    split_address,
)

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
    """Raise :class:`InputError` unless ``value`` is a local part or an address."""
    value = (value or "").strip()
    if not value:
        return
    if any(ch.isspace() or ch in '<>,;:"()[]\\' for ch in value):
        raise InputError("default_from_syntax")
    if "@" in value:
        if split_address(value) is None:
            raise InputError("default_from_parts")
        domain_to_ascii(value.rpartition("@")[2])


def validate_display_format(fmt):
    """Raise :class:`InputError` when ``fmt`` uses a field but {name}/{company}."""
    if not fmt:
        return
    try:
        fmt.format(**dict.fromkeys(DISPLAY_FIELDS, "x"))
    except (KeyError, IndexError, ValueError) as exc:
        raise InputError("display_fields", detail=str(exc)) from exc


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


# What From a server sends for an author (see server_from).
FROM_AUTHOR = "author"  # the server may send as the author (or has no FROM filter)
FROM_DEFAULT = "default"  # rewritten to the default From, which the server accepts
# rewritten; the server's filter refuses the default From too
FROM_DEFAULT_REFUSED = "default_refused"
# the server refuses the author and no default From exists
FROM_NO_DEFAULT = "no_default"
FROM_BLOCKED = "blocked"  # no-match policy "block": not sent


def server_from(entries, author, default_from, policy=POLICY_REWRITE):
    """Decide the From a server with FROM filter ``entries`` sends for ``author``.

    One rule for every server a mail goes through, pinned or chosen:
    the author when the server may send as the author; else the default From
    (``FROM_DEFAULT``, or ``FROM_DEFAULT_REFUSED`` when the server's filter
    does not list it either); with the ``block`` policy a server that accepts
    neither does not send at all. Returns ``(code, address)``: the address
    is the one to put in the From header (``False`` when blocked).
    """
    if not entries or (author and match_address(entries, author)):
        return FROM_AUTHOR, author
    if default_from and default_from == author:
        # the author is the default From and the server refuses it
        return (
            (FROM_BLOCKED, False)
            if policy == POLICY_BLOCK
            else (FROM_DEFAULT_REFUSED, default_from)
        )
    if default_from and match_address(entries, default_from):
        return FROM_DEFAULT, default_from
    if policy == POLICY_BLOCK:
        return FROM_BLOCKED, False
    if default_from:
        return FROM_DEFAULT_REFUSED, default_from
    return FROM_NO_DEFAULT, author


# How the envelope sender was chosen (see choose_envelope_sender).
ENVELOPE_BOUNCE = "bounce"  # the bounce address, allowed by the server
ENVELOPE_AUTHOR = "author"  # the author's own address, allowed by the server
ENVELOPE_DEFAULT = "default"  # the default From, allowed by the server
ENVELOPE_BUILT = "built"  # bounce local part @ a domain of the server's FROM filter
ENVELOPE_UNALLOWED = "unallowed"  # the bounce address, which the server may refuse


def choose_envelope_sender(
    entries, bounce, author, default_from, bounce_local="bounce"
):
    """Pick the envelope sender (SMTP MAIL FROM) of a mail.

    ``entries`` are the parsed FROM filter of the server used (empty: it
    accepts anything). In order of preference: the bounce address, so that
    bounces come back to Odoo; the author; the default From; an address
    made of ``bounce_local`` and the first *domain* entry of the filter;
    else the bounce address as is (the server may refuse it). A personal
    address listed in the filter is never used for another author's mail:
    its owner would receive their bounces. Returns ``(address, code)``.
    """
    if not entries:
        return (bounce or author or default_from or False), ENVELOPE_BOUNCE
    for address, code in (
        (bounce, ENVELOPE_BOUNCE),
        (author, ENVELOPE_AUTHOR),
        (default_from, ENVELOPE_DEFAULT),
    ):
        if address and match_address(entries, address):
            return address, code
    for entry in entries:
        if entry.kind == KIND_DOMAIN:
            return f"{bounce_local}@{entry.value}", ENVELOPE_BUILT
    return (bounce or author or False), ENVELOPE_UNALLOWED


def _aligned(domain, other):
    """Relaxed DMARC alignment: same domain, or one a subdomain of the other."""
    return (
        domain == other or domain.endswith("." + other) or other.endswith("." + domain)
    )


# DMARC verdicts (see dmarc_alignment)
DMARC_BOTH = "both"
DMARC_SPF = "spf"
DMARC_DKIM = "dkim"
# the server has no FROM filter: nothing declares the domain
DMARC_NOT_DECLARED = "not_declared"
DMARC_FAILS = "fails"
DMARC_NO_FROM = "no_from"


def dmarc_alignment(from_address, envelope_address, server_entries):
    """Return ``(aligned, code, from_domain)`` from the FROM filters alone.

    No DNS is read: the check takes a server's FROM filter as the admin's
    statement of the domains the server is set up for (SPF includes it,
    it signs with DKIM for them). SPF can align when the filter declares the
    envelope sender and its domain aligns (relaxed) with the From domain;
    DKIM when the filter declares the From address. A server without FROM
    filter declares nothing, so alignment is never claimed for it.
    """
    from_parts = split_address(from_address or "")
    if not from_parts:
        return False, DMARC_NO_FROM, ""
    from_domain = from_parts[1]
    if not server_entries:
        return False, DMARC_NOT_DECLARED, from_domain
    env_parts = split_address(envelope_address or "")
    spf = (
        bool(env_parts)
        and _aligned(from_domain, env_parts[1])
        and bool(match_address(server_entries, envelope_address))
    )
    dkim = bool(match_address(server_entries, from_address))
    if spf and dkim:
        return True, DMARC_BOTH, from_domain
    if spf:
        return True, DMARC_SPF, from_domain
    if dkim:
        return True, DMARC_DKIM, from_domain
    return False, DMARC_FAILS, from_domain


# ----------------------------------------------------------------------
# Outgoing server selection: one decision, as data
# ----------------------------------------------------------------------

TIER_PINNED = "pinned"  # the mail names its server (template or caller)
TIER_DEFAULT_FROM = 4  # a server may send for the default From
TIER_UNFILTERED = 5  # a server without FROM filter
TIER_NO_MATCH = 6  # servers exist, none may send for the sender nor the default From
TIER_CONFIG_FILE = 7  # no server record: odoo-bin's SMTP settings
# tiers 1-3: address_filter.TIER_ADDRESS / TIER_DOMAIN / TIER_WILDCARD of the sender

# why the server was chosen (worded by mail.routing.explanation)
# the server's FROM filter allows ``match`` (the sender or the default From)
RULE_MATCH = "match"
RULE_PINNED = "pinned"  # pinned; its filter does not allow the sender (or it has none)
RULE_PINNED_MATCH = "pinned_match"  # pinned; its filter allows ``match``
RULE_UNFILTERED = "unfiltered"  # no server for the sender; this one has no FROM filter
RULE_FALLBACK = "fallback"  # no server may send for the sender: the first by priority
RULE_NONE_ALLOWED = "none_allowed"  # no server may send for the sender, policy block
RULE_CONFIG_FILE = "config_file"  # no server record

# what may go wrong (worded by mail.routing.explanation)
WARN_NO_DEFAULT_FROM = "no_default_from"  # nothing to rewrite to
# rewritten to a default From the server refuses
WARN_DEFAULT_REFUSED = "default_refused"
# the server refuses the author and there is no default From
WARN_AUTHOR_KEPT = "author_kept"
# the same for the configuration file's server
WARN_CONFIG_DEFAULT_REFUSED = "config_default_refused"


@dataclasses.dataclass(frozen=True)
class ServerFacts:
    """What the decision reads of an outgoing server (active ones, in
    priority order)."""

    id: int
    name: str
    from_filter: str
    entries: tuple


@dataclasses.dataclass(frozen=True)
class SenderDecision:
    """Which server sends a mail of ``email_from`` and with which From.

    ``server``: the chosen ``ServerFacts`` (None: the configuration file's
    SMTP settings, or blocked without a server); ``candidates``: the servers
    of the winning tier in failover order, the chosen one first; ``tier``:
    1-7 or ``TIER_PINNED``; ``rule`` and ``match``: why; ``smtp_from``: the
    From to use (False when blocked); ``from_code``: a ``FROM_*`` code;
    ``warnings``: ``(code, server name)`` pairs.
    """

    email_from: str
    sender: str
    default_from: str
    tier: object = False
    rule: str = ""
    match: object = None
    server: ServerFacts = None
    candidates: tuple = ()
    smtp_from: object = False
    from_code: str = FROM_AUTHOR
    config_filter: str = ""
    warnings: tuple = ()

    @property
    def blocked(self):
        return self.from_code == FROM_BLOCKED

    @property
    def rewritten(self):
        """The From is not the author's address (blocked: nothing is sent)."""
        return not self.blocked and (email_normalize(self.smtp_from or "") or "") != (
            self.sender or ""
        )

    @property
    def candidate_ids(self):
        return tuple(server.id for server in self.candidates)


def decide_sender(
    servers,
    email_from,
    sender,
    default_from,
    policy,
    config_filter="",
    config_entries=(),
    pinned=None,
):
    """The one rule of outgoing server selection (real sending, failover,
    the block policy, Check sender): a ``SenderDecision``.

    ``servers``: the active ``ServerFacts`` in priority order; ``sender``:
    the normalized address of ``email_from`` (False when there is none);
    ``pinned``: the ``ServerFacts`` a mail names (no choice: its FROM filter
    decides the From); ``config_filter``/``config_entries``: the
    configuration file's FROM filter, used without any server.
    """
    base = SenderDecision(
        email_from=email_from, sender=sender or "", default_from=default_from or ""
    )
    warnings = [] if default_from else [(WARN_NO_DEFAULT_FROM, "")]
    rule_of = (sender, default_from, policy)
    if pinned is not None:
        found = match_address(pinned.entries, sender) if sender else None
        rule = RULE_PINNED_MATCH if found else RULE_PINNED
        return _settle(
            base, warnings, rule_of, pinned, [pinned], TIER_PINNED, rule, found
        )
    chosen = _choose_server(servers, email_from, sender, default_from)
    if chosen:
        return _settle(base, warnings, rule_of, *chosen)
    # tier 6: servers exist, none may send for this sender
    if servers:
        if policy == POLICY_BLOCK:
            return dataclasses.replace(
                base,
                tier=TIER_NO_MATCH,
                rule=RULE_NONE_ALLOWED,
                from_code=FROM_BLOCKED,
                warnings=tuple(warnings),
            )
        return _settle(
            base, warnings, rule_of, servers[0], servers, TIER_NO_MATCH, RULE_FALLBACK
        )
    # tier 7: no server record at all, odoo-bin's SMTP settings
    code, address = server_from(config_entries, sender, default_from)
    if code == FROM_DEFAULT_REFUSED:
        warnings.append((WARN_CONFIG_DEFAULT_REFUSED, ""))
    return dataclasses.replace(
        base,
        tier=TIER_CONFIG_FILE,
        rule=RULE_CONFIG_FILE,
        smtp_from=email_from if code == FROM_AUTHOR else address,
        from_code=code,
        config_filter=config_filter or "",
        warnings=tuple(warnings),
    )


def _choose_server(servers, email_from, sender, default_from):
    """Tiers 1-5 of :func:`decide_sender`: ``(server, candidates, tier, rule,
    match, smtp_from)`` of the first tier that has a server, else None."""
    ranked = [(server, server.entries) for server in servers]
    # tiers 1-3: a server allowed to send for the sender itself (its tier);
    # tier 4: a server allowed to send for the default From
    for address, tier, smtp_from in (
        (sender, None, email_from),
        (default_from, TIER_DEFAULT_FROM, default_from),
    ):
        if not address:
            continue
        found_tier, matched = rank_candidates(ranked, address)
        if matched:
            candidates = [server for server, _found in matched]
            tier = tier or found_tier
            return (
                matched[0][0],
                candidates,
                tier,
                RULE_MATCH,
                matched[0][1],
                smtp_from,
            )
    # tier 5: servers accepting any sender; core sends the default From there
    unfiltered = [server for server in servers if not server.entries]
    if unfiltered:
        return (
            unfiltered[0],
            unfiltered,
            TIER_UNFILTERED,
            RULE_UNFILTERED,
            None,
            default_from or email_from,
        )
    return None


def _settle(
    base, warnings, rule_of, server, candidates, tier, rule, match=None, smtp_from=None
):
    """The decision for a chosen ``server``: its FROM filter decides the From
    (``smtp_from`` None: the author's or the default From, as it allows).
    ``rule_of``: ``(sender, default_from, policy)`` as decide_sender got them."""
    code, address = server_from(server.entries, *rule_of)
    if smtp_from is None:
        smtp_from = base.email_from if code == FROM_AUTHOR else address
    elif code == FROM_AUTHOR and smtp_from != base.email_from:
        code = FROM_DEFAULT
    if code == FROM_DEFAULT_REFUSED:
        warnings.append((WARN_DEFAULT_REFUSED, server.name))
    elif code == FROM_NO_DEFAULT:
        warnings.append((WARN_AUTHOR_KEPT, server.name))
    return dataclasses.replace(
        base,
        tier=tier,
        rule=rule,
        match=match,
        server=server,
        candidates=tuple(candidates),
        smtp_from=False if code == FROM_BLOCKED else smtp_from,
        from_code=code,
        warnings=tuple(warnings),
    )
