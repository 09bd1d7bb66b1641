# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The mailgate's reasons (cli/): refusals at ``RCPT TO`` and the limits
that end a session, each with its SMTP reply and its words, in one table
per family. The mailgate answers with the replies (``LIMIT_REPLIES``), the
gateway log and its explanation word the same codes (``mail.routing.
explanation._smtp_limit_text``, ``_rcpt_refusal_text``)."""

from dataclasses import dataclass

from odoo.tools.translate import LazyGettext, LazyTranslate

from ..reason_texts import ReasonText, register_log_reasons

_lt = LazyTranslate(__name__)


@dataclass(frozen=True)
class RcptRefusal:
    """A refusal at ``RCPT TO``: the code ``mail.thread._routing_check_recipient``
    returns, the gateway log reason it is kept under (and its label), the
    mailgate's SMTP reply (``{rcpt}``: the recipient; replies are protocol
    text, in English by RFC 5321) and the log's text."""

    code: str
    log_reason: str
    label: str
    reply: str
    text: LazyGettext


RCPT_REFUSALS = {
    refusal.code: refusal
    for refusal in (
        RcptRefusal(
            "relay_denied",
            "rcpt_relay",
            "Relay not permitted (SMTP)",
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
            "Unknown recipient (SMTP)",
            "550 5.1.1 <{rcpt}>: recipient address rejected: no such alias",
            _lt(
                "Refused at RCPT TO (550 5.1.1): %(recipient)s is no alias, catchall "
                "or bounce address."
            ),
        ),
        RcptRefusal(
            "rate_limited",
            "rcpt_deferred",
            "Deferred: sender over the loop threshold (SMTP)",
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
RCPT_REFUSALS_BY_REASON = {
    refusal.log_reason: refusal for refusal in RCPT_REFUSALS.values()
}
# the recipient was the sender itself: an unknown_recipient with why=sender
RCPT_SENDER_IS_RECIPIENT = _lt(
    "Refused at RCPT TO (550 5.1.1): the sender is not a recipient."
)

# limits of a session (cli/client_limits.py: LimitHit.limit): the reply the
# mailgate sends (none: aiosmtpd's own, or a timeout's) and the log's words
# (``value``: the limit's value, in the reader's number format)
_BUSY = "421 4.7.0 Too many connections, try again later"
_TIMEOUT = "421 4.4.2 Timeout exceeded, closing the connection"
SMTP_LIMITS = {
    entry.code: entry
    for entry in (
        ReasonText(
            "server_sessions",
            _lt("the mailgate was serving its maximum of %s sessions (421 4.7.0)"),
            ("value",),
            reply=_BUSY,
        ),
        ReasonText(
            "client_sessions",
            _lt("the client reached its limit of %s open sessions (421 4.7.0)"),
            ("value",),
            reply="421 4.7.0 Too many connections from your address, try again later",
        ),
        ReasonText(
            "connection_rate",
            _lt("the client opened more than %s connections a minute (421 4.7.0)"),
            ("value",),
            reply="421 4.7.0 Too many connections per minute from your address, "
            "try again later",
        ),
        ReasonText(
            "message_rate",
            _lt("the client sent more than %s messages a minute (421 4.7.0)"),
            ("value",),
            reply="421 4.7.0 Too many messages per minute from your address, try "
            "again later",
        ),
        ReasonText(
            "recipient_rate",
            _lt(
                "the client gave more than %s recipients a minute (450 4.7.1: the "
                "sending server tries again later)"
            ),
            ("value",),
            reply="450 4.7.1 <{rcpt}>: too many recipients per minute from your "
            "address, try again later",
        ),
        ReasonText(
            "guess_rate",
            _lt(
                "the client gave more than %s unknown recipients a minute over "
                "all its sessions; further recipients were not looked up (450 "
                "4.7.1: the sending server tries again later)"
            ),
            ("value",),
            reply="450 4.7.1 <{rcpt}>: too many unknown recipients from your "
            "address, try again later",
        ),
        ReasonText(
            "hard_errors",
            _lt(
                "the client made %s errors in one session, such as unknown "
                "recipients or commands (421 4.7.0)"
            ),
            ("value",),
            reply="421 4.7.0 Too many errors, closing the connection",
        ),
        # aiosmtpd's own limits: it sends the reply itself
        # (smtp_handler.aiosmtpd_limit recognises it)
        ReasonText(
            "junk_commands",
            _lt(
                "the client sent NOOP, RSET, VRFY, EXPN or HELP more than %s times "
                "in one session (421 4.7.0)"
            ),
            ("value",),
            reply="421 4.7.0 {command} sent too many times",
        ),
        ReasonText(
            "unknown_commands",
            _lt("the client sent %s unknown commands in one session (502 5.5.1)"),
            ("value",),
            reply="502 5.5.1 Too many unrecognized commands, goodbye.",
        ),
        ReasonText(
            "pregreet_wait",
            _lt(
                "the client talked before the greeting had ended (%s s), as spam "
                "robots do (554 5.5.1)"
            ),
            ("value",),
            reply="554 5.5.1 Protocol error: you talked before the greeting",
        ),
        ReasonText(
            "data_rate",
            _lt(
                "the client sent its message slower than %s bytes a second (421 "
                "4.4.2)"
            ),
            ("value",),
            reply=_TIMEOUT,
        ),
        # entries of a former limit (the DATA transfer's line count): still worded
        ReasonText(
            "data_lines",
            _lt(
                "the client's message had too many short lines for its size, "
                "costing the mailgate more than "
                "four times the size limit of %s bytes in memory (552 5.3.4)"
            ),
            ("value",),
            reply="552 5.3.4 Message size exceeds fixed limit",
        ),
        ReasonText(
            "data_memory",
            _lt(
                "the messages being received used all the memory the mailgate "
                "gives them (%s bytes); the "
                "sending server tries again later (452 4.3.1)"
            ),
            ("value",),
            reply="452 4.3.1 Insufficient system storage, try again later",
        ),
        ReasonText(
            "stress_timeout",
            _lt(
                "the mailgate was under stress (many sessions open) and the client "
                "sent no command for %s seconds "
                "(421 4.4.2)"
            ),
            ("value",),
            reply=_TIMEOUT,
        ),
        ReasonText(
            "command_timeout",
            _lt("the client sent no command for %s seconds (421 4.4.2)"),
            ("value",),
            reply=_TIMEOUT,
        ),
    )
}
# a limit's reply, by the limit's code (client_limits.LimitHit.limit)
LIMIT_REPLIES = {code: entry.reply for code, entry in SMTP_LIMITS.items()}

# the gateway log's reasons of the mailgate: refusals at RCPT TO, and the
# session limits (like an RCPT refusal, nothing was received)
RCPT_LOG_REASONS = register_log_reasons(
    "smtp_rcpt",
    30,
    [
        ReasonText(
            refusal.log_reason,
            refusal.text,
            label=refusal.label,
            compose="_rcpt_reason_text",
        )
        for refusal in RCPT_REFUSALS.values()
    ],
)
SESSION_LOG_REASONS = register_log_reasons(
    "smtp_session",
    40,
    [
        ReasonText(code, label=label, compose="_smtp_limit_text")
        for code, label in (
            ("client_limit", "Client over a connection limit (SMTP)"),
            ("error_limit", "Too many errors in one session (SMTP)"),
            ("pregreet", "Talked before the greeting (SMTP)"),
            ("timeout", "Session timed out (SMTP)"),
        )
    ],
)
# refusals of a whole SMTP session (cli/client_limits.py), logged under these reasons
SMTP_SESSION_REASONS = tuple(SESSION_LOG_REASONS)
# every reason of the mailgate's dialogue: nothing was received
SMTP_REFUSAL_REASONS = tuple(RCPT_LOG_REASONS) + SMTP_SESSION_REASONS
