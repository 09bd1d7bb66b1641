# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Who may speak for whom: the incoming authentication policy.

Pure decisions (codes and small dataclasses, no Odoo, no sentences): what
the gateway does with a message, given what the authentication found
(``AuthFacts``, read from a trusted ``Authentication-Results`` header by
``mail.thread``) and whether its From needs proof. ``mail.thread`` applies
the decision on every path into ``message_process`` (the mailgate,
fetchmail, core's pipe script, XML-RPC); ``mail.routing.explanation`` words
the codes.

The rules (README, *Incoming authentication*):

* A From that belongs to an internal user, or to a protected domain (alias
  domains, the companies' mail domains, ``mail.gateway.auth.protected_domains``)
  needs proof: DMARC pass (aligned SPF or DKIM), or a trusted ARC sealer
  vouching for it, whatever the domain publishes. Without it the message is
  quarantined (``mail.gateway.auth.spoof_action`` = ``quarantine``) or, on
  the mailgate, refused at the end of DATA (``refuse``).
* Without any trusted result (a path with no authentication server the
  admin trusts) the verdict is ``unverified``: protected senders pass as in
  core (``mail.gateway.auth.unverified_action`` = ``accept``, the upgrade
  default) or are quarantined (``quarantine``).
* Third-party domains: DMARC ``fail`` with ``p=reject`` → refused at the end
  of DATA on the mailgate, quarantined elsewhere (a fetched message cannot
  be refused any more); ``p=quarantine`` → quarantined; ``p=none`` or no
  record → delivered, the verdict recorded. ``pct`` samples as RFC 7489
  §6.6.4 says (outside the sample the next milder policy applies), by a
  stable hash of the Message-ID so that processing again decides alike. An
  alias domain set to "record only" delivers what DMARC fails.
"""

import hashlib
from dataclasses import dataclass

# the verdict summary stored on log entries and messages (labels: field
# selections, translated by Odoo)
RESULT_LABELS = [
    ("pass", "Pass"),
    ("fail", "Fail"),
    ("none", "No DMARC record"),
    ("temperror", "Temporary error"),
    ("permerror", "Permanent error"),
    ("unverified", "Unverified"),
]
RESULTS = tuple(code for code, _label in RESULT_LABELS)
SPOOF_ACTIONS = ("quarantine", "refuse")
# a message without a single author address (several From fields, several
# or no addresses in it: DMARC permerror, RFC 7489 §6.6.1): receivers may
# reject it; quarantine keeps it for the admin, accept routes it as core
# (attributed to the first address)
AMBIGUOUS_FROM_ACTIONS = ("quarantine", "refuse", "accept")
UNVERIFIED_ACTIONS = ("accept", "quarantine")
DMARC_ENFORCEMENT = ("enforce", "record")

ACCEPT, QUARANTINE, REFUSE = "accept", "quarantine", "refuse"

# why a protected From needs proof
PROTECTED_INTERNAL_USER = "internal_user"
PROTECTED_DOMAIN = "protected_domain"

# decision reasons (gateway log reasons where a message is stopped)
REASON_SPOOFED = "auth_spoofed"  # protected From, authentication failed
REASON_UNVERIFIED = "auth_unverified"  # protected From, nothing trusted said anything
REASON_DMARC_REJECT = "dmarc_reject"
REASON_DMARC_QUARANTINE = "dmarc_quarantine"
REASON_AMBIGUOUS_FROM = "ambiguous_from"  # no single author address
REASONS = (
    REASON_SPOOFED,
    REASON_UNVERIFIED,
    REASON_DMARC_REJECT,
    REASON_DMARC_QUARANTINE,
    REASON_AMBIGUOUS_FROM,
)


def is_quarantine(reason, *, smtp):
    """Whether a message stopped for ``reason`` is held in quarantine
    (accepted, kept, not routed): every authentication verdict outside the
    SMTP dialogue; in it (``smtp``: the mailgate answered ``550``) it was
    refused."""
    return reason in REASONS and not smtp


@dataclass(frozen=True)
class AuthFacts:
    """What a trusted ``Authentication-Results`` header says, as the policy
    needs it. ``result`` is the DMARC result, or ``unverified`` when no
    trusted header was found."""

    result: str = "unverified"
    policy: str = ""  # the domain's effective policy: reject / quarantine / none / ""
    pct: int = 100
    from_domain: str = ""
    arc_vouched: bool = False  # a trusted ARC sealer vouched for a broken forward
    authserv_id: str = ""
    header: str = ""  # the trusted header value, as found

    @property
    def verified(self):
        return self.result != "unverified"

    @property
    def passed(self):
        return self.result == "pass" or self.arc_vouched

    @property
    def summary(self):
        """One of ``RESULTS`` (a vouched ARC forward counts as a pass)."""
        return (
            "pass"
            if self.passed
            else self.result
            if self.result in RESULTS
            else "permerror"
        )

    def message_values(self):
        """The verdict as the fields of the posted ``mail.message``."""
        return {
            "gateway_auth_result": self.summary,
            "gateway_auth_details": self.header[:1000] or False,
        }


@dataclass(frozen=True)
class AuthDecision:
    action: str  # accept / quarantine / refuse
    reason: str = ""  # one of REASONS when not accepted
    protected: str = ""  # internal_user / protected_domain / ""
    policy: str = ""  # the DMARC policy that applied (after pct sampling)


def facts_from_results(verdict, header=None):
    """``AuthFacts`` of a ``mail_auth.AuthVerdict`` read from a trusted
    header (``None``: no trusted header, unverified), or computed by the
    mailgate that wrote ``header``. Its ``policy.dmarc`` is the policy
    already sampled by ``pct`` where the header was written."""
    if verdict is None:
        return AuthFacts()
    dmarc = verdict.dmarc
    if header is None:
        try:
            header = verdict.header_value()
        except ValueError:
            header = ""
    return AuthFacts(
        result=dmarc.result or "none",
        # what the header carries (policy.dmarc): the same whether computed or read back
        policy=dmarc.applied_policy or "",
        pct=100,
        from_domain=dmarc.from_domain,
        arc_vouched=bool(verdict.arc_override),
        authserv_id=verdict.authserv_id,
        header=header,
    )


def sample_bucket(message_id):
    """A stable number in [0, 100) for a message (RFC 7489 pct sampling)."""
    digest = hashlib.sha256(
        (message_id or "").strip().encode("utf-8", "replace")
    ).digest()
    return int.from_bytes(digest[:4], "big") % 100


def applied_policy(policy, pct, bucket):
    """The policy that applies to this message: outside the ``pct`` sample,
    ``reject`` is treated as ``quarantine`` and ``quarantine`` as ``none``."""
    if policy not in ("reject", "quarantine"):
        return "none"
    if bucket < max(0, min(100, pct)):
        return policy
    return "quarantine" if policy == "reject" else "none"


def decide(
    facts,
    protected,
    *,
    smtp,
    spoof_action="quarantine",
    unverified_action="accept",
    enforce=True,
    bucket=0,
    from_problem="",
    ambiguous_action="quarantine",
):
    """What the gateway does with a message.

    ``protected``: ``internal_user``, ``protected_domain`` or ``""``;
    ``smtp``: the message is still in the SMTP transaction (the mailgate), so
    it can be refused instead of quarantined; ``enforce``: the recipients'
    alias domains apply third-party DMARC policies (else record only);
    ``bucket``: ``sample_bucket`` of the message; ``from_problem``: why
    it has no single author address (``author_address.PROBLEMS``), handled
    by ``ambiguous_action`` for third-party mail (a protected From needs
    proof whatever its form).
    """
    if protected:
        if facts.passed:
            return AuthDecision(ACCEPT, protected=protected)
        if not facts.verified:
            if unverified_action == "quarantine":
                return AuthDecision(QUARANTINE, REASON_UNVERIFIED, protected)
            return AuthDecision(ACCEPT, protected=protected)
        action = REFUSE if smtp and spoof_action == "refuse" else QUARANTINE
        return AuthDecision(action, REASON_SPOOFED, protected)
    if from_problem and ambiguous_action != ACCEPT:
        action = REFUSE if smtp and ambiguous_action == REFUSE else QUARANTINE
        return AuthDecision(action, REASON_AMBIGUOUS_FROM)
    if facts.result != "fail" or facts.arc_vouched or not enforce:
        return AuthDecision(ACCEPT)
    policy = applied_policy(facts.policy, facts.pct, bucket)
    if policy == "reject":
        return AuthDecision(
            REFUSE if smtp else QUARANTINE, REASON_DMARC_REJECT, policy=policy
        )
    if policy == "quarantine":
        return AuthDecision(QUARANTINE, REASON_DMARC_QUARANTINE, policy=policy)
    return AuthDecision(ACCEPT, policy=policy)


def domain_in(domain, domains):
    """Whether ``domain`` is one of ``domains`` or a subdomain of one."""
    domain = (domain or "").lower().rstrip(".")
    return bool(domain) and any(
        domain == d or domain.endswith("." + d) for d in domains if d
    )


def split_list(value):
    """A list parameter (comma or white space separated) as lower-case
    items without a trailing dot: domains, authserv-ids."""
    items = (value or "").replace(",", " ").split()
    return tuple(
        dict.fromkeys(
            item.strip().lower().rstrip(".") for item in items if item.strip(". ")
        )
    )
