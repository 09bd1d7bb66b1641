# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Reason codes and their texts, in one place.

The pure functions decide with codes and parameters; this module says, for
each code, what it means (as core's ``sms/tools/sms_api.py`` maps its error
codes to ``_lt`` texts). The texts are worded in the reader's language by
:func:`word` (the model layer passes its environment) and in English for
exception messages and server logs.
"""

from dataclasses import dataclass

from odoo.tools.translate import LazyGettext, LazyTranslate

_lt = LazyTranslate(__name__)

# invalid input of the address grammar and the sender settings
# (tools/address_filter.InputError.code)
INPUT_ERRORS = {
    "empty_domain": _lt("the domain is empty"),
    "domain_spaces": _lt("a domain cannot contain spaces"),
    "domain_invalid": _lt("not a valid domain name (%(detail)s)"),
    "label_invalid": _lt("'%(label)s' is not a valid part of a domain name"),
    "domain_too_long": _lt("a domain name has at most 253 characters"),
    "empty_entry": _lt("the entry is empty"),
    "line_break": _lt("line breaks are not allowed"),
    "local_missing": _lt("the part before '@' is missing"),
    "domain_missing": _lt("the domain after '@' is missing"),
    "local_invalid": _lt("the part before '@' is not a valid mailbox name"),
    "address_wildcard": _lt("an address cannot have a wildcard domain"),
    "star_misplaced": _lt(
        "'*' is only allowed as the first part, as in '*.example.com'"
    ),
    "wildcard_too_wide": _lt(
        "a wildcard must name a domain with at least two parts, e.g. '*.example.com'"
    ),
    "default_from_syntax": _lt(
        "use a bare local part (notifications) or an address "
        "(notifications@example.com)"
    ),
    "default_from_parts": _lt("the address must have a part before and after '@'"),
    "display_fields": _lt("only {name} and {company} may be used"),
}


@dataclass(frozen=True)
class RcptRefusal:
    """A refusal at ``RCPT TO``: the code ``mail.thread._routing_check_recipient``
    returns, the gateway log reason it is kept under, the mailgate's SMTP
    reply (``{rcpt}``: the recipient; replies are protocol text, in English
    by RFC 5321) and the log's text."""

    code: str
    log_reason: str
    reply: str
    text: LazyGettext


RCPT_REFUSALS = {
    refusal.code: refusal
    for refusal in (
        RcptRefusal(
            "relay_denied",
            "rcpt_relay",
            "550 5.7.1 <{rcpt}>: relay not permitted",
            _lt(
                "Refused at RCPT TO (550 5.7.1): %(domain)s is neither an alias domain "
                "nor an allowed domain "
                "(mail.catchall.domain.allowed); relaying is not permitted."
            ),
        ),
        RcptRefusal(
            "unknown_recipient",
            "rcpt_unknown",
            "550 5.1.1 <{rcpt}>: recipient address rejected: no such alias",
            _lt(
                "Refused at RCPT TO (550 5.1.1): %(recipient)s is no alias, catchall "
                "or bounce address."
            ),
        ),
        RcptRefusal(
            "rate_limited",
            "rcpt_deferred",
            "450 4.7.1 <{rcpt}>: too many messages from this sender, try again later",
            _lt(
                "Deferred at RCPT TO (450 4.7.1): %(count)s records from this sender "
                "in %(minutes)s minutes "
                "(threshold %(threshold)s); the sending server keeps the message and "
                "tries again later."
            ),
        ),
    )
}
# refusals of a whole SMTP session (cli/client_limits.py), logged under these reasons
SMTP_SESSION_REASONS = ("client_limit", "error_limit", "pregreet", "timeout")

RCPT_REFUSALS_BY_REASON = {
    refusal.log_reason: refusal for refusal in RCPT_REFUSALS.values()
}
# the recipient was the sender itself: an unknown_recipient with why=sender
RCPT_SENDER_IS_RECIPIENT = _lt(
    "Refused at RCPT TO (550 5.1.1): the sender is not a recipient."
)


class _Params(dict):
    # a value a stored entry does not have reads as "?" instead of failing
    def __missing__(self, key):
        return "?"


def word(text, params=None, env=None):
    """``text`` (a text of this module) with its ``params``, in the language
    of ``env``, or in English without one (exception messages, server logs)."""
    template = env._(text) if env is not None else text._translate("en_US")
    return template % _Params(params) if params else template
