# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The mailgate's sender authentication, at the end of DATA.

SPF (of the client the message really came from: XFORWARD behind Postfix),
every DKIM signature, DMARC and ARC (tools/mail_auth.py over the addon's
DNS layer, tools/mail_dns.py), bounded by one time budget per message. The
result is written as the mailgate's own ``Authentication-Results`` header on
top of the message, after every incoming header that claims the mailgate's
authserv-id was removed (RFC 8601 §5): the Odoo side (mail.thread) reads
that header, and only it, on the mailgate's path. No Odoo and no SMTP here.
"""

import dataclasses
import logging
from email.parser import BytesHeaderParser
from email.policy import compat32

from ..tools import mail_auth, mail_dns
from ..tools.incoming import auth_policy

_logger = logging.getLogger(__name__)

# seconds of DNS for one message, all lookups together: a DNS timeout is a
# temperror, never a hang (the sending server waits for our answer)
TIME_BUDGET = 5.0


@dataclasses.dataclass(frozen=True)
class AuthSettings:
    """What the authentication reads of the database's configuration."""

    nameservers: tuple = ()
    trusted_arc_sealers: tuple = ()

    @classmethod
    def from_params(cls, get_param):
        try:
            nameservers = mail_dns.parse_nameservers(
                get_param("mail.dns.nameservers") or ""
            )
        except ValueError as error:
            # validated when saved; a value written past the validation must not stop
            # mail
            _logger.warning(
                "mailgate: mail.dns.nameservers ignored (%s): using the machine's "
                "resolver",
                error,
            )
            nameservers = ()
        return cls(
            nameservers=nameservers,
            trusted_arc_sealers=auth_policy.split_list(
                get_param("mail.gateway.auth.trusted_arc_sealers")
            ),
        )


def message_id_of(content):
    headers = BytesHeaderParser(policy=compat32).parsebytes(content, headersonly=True)
    return str(headers.get("Message-Id") or "").strip()


def authenticate_message(
    content, client_ip, helo, mail_from, authserv_id, settings, budget=None
):
    """``(stamped content, AuthVerdict, header value)``: the message with
    the mailgate's Authentication-Results on top and forged ones of
    ``authserv_id`` gone.

    DMARC ``pct`` is sampled by a stable hash of the Message-ID, so that a
    retry (or processing again) decides alike."""
    resolver = mail_dns.shared_resolver(settings.nameservers)
    verdict = mail_auth.authenticate(
        content,
        client_ip or "",
        helo or "",
        mail_from or "",
        resolver,
        mail_dns.Deadline.after(TIME_BUDGET if budget is None else budget),
        trusted_arc_sealers=settings.trusted_arc_sealers,
        authserv_id=authserv_id,
        pct_sample=auth_policy.sample_bucket(message_id_of(content)),
    )
    header = verdict.header_value(authserv_id)
    stamped = mail_auth.prepend_header(
        mail_auth.strip_results(content, authserv_id), "Authentication-Results", header
    )
    return stamped, verdict, header
