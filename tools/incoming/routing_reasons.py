# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The incoming policy's reasons (``mail.thread.message_route``'s rules):
the gateway log's codes, their labels and their words, one table
(``mail.routing.explanation._refusal_text`` fills the templates; ``args``
name the values, see ``_reason_value``)."""

from odoo.tools.translate import LazyTranslate

from ..reason_texts import ReasonText, register_log_reasons

_lt = LazyTranslate(__name__)

ROUTING_REFUSALS = register_log_reasons(
    "routing",
    10,
    [
        ReasonText(
            "allow_list",
            _lt("the recipient's domain %s is not an allowed alias domain"),
            ("domains",),
            label="Recipient domain not allowed",
        ),
        ReasonText(
            "auto_reply",
            _lt(
                "it is an automatic reply (%s) that answers no message of this "
                "database"
            ),
            ("evidence",),
            label="Auto-reply",
        ),
        ReasonText(
            "read_receipt",
            _lt("it is a read receipt (%s), not a message for a thread"),
            ("evidence",),
            label="Read receipt",
        ),
        ReasonText(
            "self_loop",
            _lt(
                "the sender %s is one of this database's own addresses and the "
                "mail answers none of its messages"
            ),
            ("sender",),
            label="Sent by one of our own addresses",
        ),
        ReasonText(
            "forwarding_loop",
            _lt("it is in a forwarding loop: it was delivered to %s more than once"),
            ("address",),
            label="Forwarding loop",
        ),
        ReasonText(
            "loop_reply",
            _lt("it answers one of this database's loop notices"),
            label="Reply to a loop notice",
        ),
        ReasonText(
            "rate_limit",
            label="Too many records from this sender",
            compose="_limit_text",
        ),
        ReasonText(
            "reply_limit",
            label="Too many replies from this sender",
            compose="_limit_text",
        ),
        ReasonText(
            "write_to_catchall",
            _lt(
                "it is written only to the catchall address or to addresses that "
                "lead nowhere (%s)"
            ),
            ("recipients",),
            label="Written to the catchall address",
        ),
        ReasonText(
            "alias_refused",
            _lt(
                "alias %(alias)s does not accept this sender (it accepts: "
                "%(contact)s)"
            ),
            ("alias", "contact"),
            label="Refused by the alias contact policy",
        ),
        ReasonText("no_route", label="No route", compose="_no_route_text"),
        ReasonText(
            "unparseable",
            _lt("the message could not be read (%s)"),
            ("error",),
            label="Message could not be parsed",
        ),
    ],
)

# the loop protection's count (rate_limit, reply_limit, and the explainer's
# step), by what it counts and whether it is one: (scope, "one" or "many")
LOOP_COUNT_TEXTS = {
    ("reply", "one"): _lt(
        "1 reply from this sender in the last %(minutes)s minutes in "
        "%(target)s (limit %(threshold)s)"
    ),
    ("reply", "many"): _lt(
        "%(count)s replies from this sender in the last %(minutes)s "
        "minutes in %(target)s "
        "(limit %(threshold)s)"
    ),
    ("alias", "one"): _lt(
        "1 record from this sender in the last %(minutes)s minutes "
        "through alias %(target)s "
        "(limit %(threshold)s)"
    ),
    ("alias", "many"): _lt(
        "%(count)s records from this sender in the last %(minutes)s "
        "minutes through alias %(target)s "
        "(limit %(threshold)s)"
    ),
    ("model", "one"): _lt(
        "1 record of %(target)s from this sender in the last %(minutes)s "
        "minutes (limit %(threshold)s)"
    ),
    ("model", "many"): _lt(
        "%(count)s records of %(target)s from this sender in the last "
        "%(minutes)s minutes (limit %(threshold)s)"
    ),
}
