# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The system parameters this module reads, in one table.

Each parameter has a kind (how its value is checked and normalised when it
is saved: ``ir.config_parameter._normalize_routing_param``), the default that
applies while it is unset, and, for numbers, the smallest allowed value. The
models read values through :func:`read`, Settings takes its field defaults
from here, and a test checks that the README's parameter table says the same.
"""

from dataclasses import dataclass

from . import auth_policy, sender_policy

KIND_INTEGER = "integer"
KIND_CHOICE = "choice"
KIND_FILTER = "filter"  # tools/address_filter grammar
KIND_DOMAINS = "domains"  # comma-separated domain names
KIND_DEFAULT_FROM = "default_from"
KIND_DISPLAY = "display"
KIND_NAMESERVERS = "nameservers"


@dataclass(frozen=True)
class RoutingParam:
    key: str
    kind: str
    default: object = None
    minimum: int | None = None
    choices: tuple = ()


PARAMS = {
    param.key: param
    for param in (
        RoutingParam("mail.default.from", KIND_DEFAULT_FROM),
        # the name core used up to 14.0, migrated at install
        RoutingParam("mail.force.smtp.from", KIND_DEFAULT_FROM),
        RoutingParam("mail.default.from_filter", KIND_FILTER),
        RoutingParam(
            "mail.default.from_policy",
            KIND_CHOICE,
            default=sender_policy.POLICY_REWRITE,
            choices=sender_policy.POLICIES,
        ),
        RoutingParam("mail.default.from_display", KIND_DISPLAY),
        RoutingParam("mail.catchall.domain.allowed", KIND_FILTER),
        RoutingParam("mail.gateway.loop.minutes", KIND_INTEGER, default=120, minimum=1),
        RoutingParam(
            "mail.gateway.loop.threshold", KIND_INTEGER, default=20, minimum=1
        ),
        # 0: replies are not limited
        RoutingParam(
            "mail.gateway.loop.reply_threshold", KIND_INTEGER, default=0, minimum=0
        ),
        RoutingParam(
            "mail.gateway.log.retention_days", KIND_INTEGER, default=30, minimum=1
        ),
        RoutingParam(
            "mail.gateway.log.keep_days", KIND_INTEGER, default=180, minimum=1
        ),
        # the mailgate's answer at RCPT TO to a sender over the loop threshold:
        # defer (450 4.7.1) or accept and handle it after DATA as fetchmail does
        RoutingParam(
            "mail.gateway.smtp.rate_limit_action",
            KIND_CHOICE,
            default="defer",
            choices=("defer", "accept"),
        ),
        RoutingParam(
            "mail.gateway.auth.spoof_action",
            KIND_CHOICE,
            default="quarantine",
            choices=auth_policy.SPOOF_ACTIONS,
        ),
        RoutingParam(
            "mail.gateway.auth.ambiguous_from_action",
            KIND_CHOICE,
            default="quarantine",
            choices=auth_policy.AMBIGUOUS_FROM_ACTIONS,
        ),
        RoutingParam(
            "mail.gateway.auth.unverified_action",
            KIND_CHOICE,
            default="accept",
            choices=auth_policy.UNVERIFIED_ACTIONS,
        ),
        RoutingParam("mail.gateway.auth.protected_domains", KIND_DOMAINS),
        # authserv-ids are host names
        RoutingParam("mail.gateway.auth.trusted_authserv_ids", KIND_DOMAINS),
        RoutingParam("mail.gateway.auth.trusted_arc_sealers", KIND_DOMAINS),
        RoutingParam("mail.dns.nameservers", KIND_NAMESERVERS),
        # where the MX of the alias domains should point: the mailgate's public
        # host name, or the mailbox provider's for fetchmail
        RoutingParam("mail.gateway.public_host", KIND_DOMAINS),
    )
}


def read(get_param, key):
    """The value of ``key`` in force: the stored one, or the default while it
    is unset (or holds what validation would refuse, e.g. written by SQL)."""
    param = PARAMS[key]
    value = get_param(key)
    if value in (None, False, ""):
        return param.default
    if param.kind == KIND_INTEGER:
        try:
            number = int(value)
        except (TypeError, ValueError):
            return param.default
        return number if number >= param.minimum else param.default
    if param.kind == KIND_CHOICE:
        return value if value in param.choices else param.default
    return value
