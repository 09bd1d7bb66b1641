# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The authentication policy's reasons (tools/incoming/auth_policy.py): the gateway
log's codes, their labels and their words, one table; a reason with a
variant (whose From needs proof) has a text per variant, keyed
``(code, variant)``."""

from odoo.tools.translate import LazyTranslate

from ..reason_texts import ReasonText, register_log_reasons
from . import auth_policy

_lt = LazyTranslate(__name__)

AUTH_REFUSALS = register_log_reasons(
    "authentication",
    20,
    [
        ReasonText(
            auth_policy.REASON_SPOOFED,
            label="Unauthenticated mail in the name of your users or domains",
            compose="_auth_refusal_text",
        ),
        ReasonText(
            auth_policy.REASON_UNVERIFIED,
            label="Unverified mail in the name of your users or domains",
            compose="_auth_refusal_text",
        ),
        ReasonText(
            auth_policy.REASON_DMARC_REJECT,
            label="DMARC failed, the sender's domain asks to reject",
            compose="_auth_refusal_text",
        ),
        ReasonText(
            auth_policy.REASON_DMARC_QUARANTINE,
            label="DMARC failed, the sender's domain asks to quarantine",
            compose="_auth_refusal_text",
        ),
        ReasonText(
            auth_policy.REASON_AMBIGUOUS_FROM,
            label="No single author address in From",
            compose="_auth_refusal_text",
        ),
    ],
)

# the words of each reason: (code, protected) first, then code
AUTH_TEXTS = {
    (auth_policy.REASON_SPOOFED, auth_policy.PROTECTED_INTERNAL_USER): ReasonText(
        auth_policy.REASON_SPOOFED,
        _lt(
            "its From belongs to one of your users, but the sender did not "
            "prove it (DMARC: %(result)s)"
        ),
        ("result",),
    ),
    auth_policy.REASON_SPOOFED: ReasonText(
        auth_policy.REASON_SPOOFED,
        _lt(
            "its From is in your protected domain %(domain)s, but the "
            "sender did not prove it (DMARC: %(result)s)"
        ),
        ("domain", "result"),
    ),
    auth_policy.REASON_UNVERIFIED: ReasonText(
        auth_policy.REASON_UNVERIFIED,
        _lt(
            "its From belongs to one of your users or domains, and no "
            "authentication server you trust checked it"
        ),
    ),
    auth_policy.REASON_AMBIGUOUS_FROM: ReasonText(
        auth_policy.REASON_AMBIGUOUS_FROM,
        _lt(
            "its From names no single author (%(problem)s): DMARC cannot "
            "check whom it comes from, and receivers may reject such mail "
            "(RFC 7489 6.6.1)"
        ),
        ("problem",),
    ),
    auth_policy.REASON_DMARC_REJECT: ReasonText(
        auth_policy.REASON_DMARC_REJECT,
        _lt("it fails DMARC for %(domain)s, whose owner asks to reject such mail"),
        ("domain",),
        reply="550 5.7.1 Message rejected: it fails the DMARC policy of its "
        "From domain",
    ),
    auth_policy.REASON_DMARC_QUARANTINE: ReasonText(
        auth_policy.REASON_DMARC_QUARANTINE,
        _lt(
            "it fails DMARC for %(domain)s, whose owner asks to quarantine " "such mail"
        ),
        ("domain",),
    ),
}
# the mailgate's reply to a refusal at the end of DATA (RFC 7489 §6.3,
# RFC 7372): the reason's own, else this one
AUTH_REFUSED_REPLY = (
    "550 5.7.1 Message refused: the sender is not authenticated for its From address"
)
DATA_REFUSALS = {
    code: AUTH_TEXTS[code].reply or AUTH_REFUSED_REPLY
    for code in auth_policy.REASONS
    if code in AUTH_TEXTS
}
