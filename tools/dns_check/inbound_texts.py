# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""What the inbound TLS codes (``inbound_tls.py``) mean: one table for the
three lines (MX TLS, MTA-STS, TLS reporting), keyed ``(check, code,
variant)`` or ``(check, code)``, and the small tables of the reasons they
name; worded in the reader's language by the model layer."""

from odoo.tools.translate import LazyTranslate

from ..reason_texts import deliverability_text, word
from . import inbound_tls as itls

_lt = LazyTranslate(__name__)

# the variants of a code's text besides the policy's mode and the reasons
#: no MTA-STS, a policy proposed
PROPOSAL = "proposal"
#: the MX hosts the policy names could not be reached
HOSTS_UNKNOWN = "hosts_unknown"
#: no report alias (inactive): nothing to name in rua
NO_ALIAS = "no_alias"

INBOUND_TEXTS = {
    # one line per MX host
    (itls.CHECK_MX_TLS, itls.CODE_MX_TLS): _lt(
        "%(endpoint)s (%(role)s) offers STARTTLS: %(protocol)s (%(cipher)s), with "
        "a certificate valid for %(mx_host)s for %(days_left)s more days: mail to "
        "%(domain)s arrives encrypted."
    ),
    (itls.CHECK_MX_TLS, itls.CODE_MX_TLS_EXPIRING): _lt(
        "%(endpoint)s (%(role)s) offers STARTTLS (%(protocol)s), but its "
        "certificate for %(mx_host)s expires in %(days_left)s days: renew it, or "
        "senders that check certificates stop delivering."
    ),
    (itls.CHECK_MX_TLS, itls.CODE_MX_TLS_UNVERIFIED): _lt(
        "%(endpoint)s (%(role)s) offers STARTTLS (%(protocol)s), but the "
        "certificate %(certificate)s: senders that check certificates (MTA-STS, "
        "DANE) find it invalid. Install a certificate of a public authority for "
        "%(mx_host)s."
    ),
    (itls.CHECK_MX_TLS, itls.CODE_MX_TLS_UNVERIFIED, itls.MODE_ENFORCE): _lt(
        "%(endpoint)s (%(role)s) offers STARTTLS (%(protocol)s), but the "
        "certificate %(certificate)s, and the MTA-STS policy of %(domain)s is "
        "enforce: senders that honour it (Gmail, Microsoft) do not deliver here. "
        "Install a certificate of a public authority for %(mx_host)s."
    ),
    (itls.CHECK_MX_TLS, itls.CODE_MX_NO_STARTTLS): _lt(
        "%(endpoint)s (%(role)s) does not offer STARTTLS: mail to %(domain)s "
        "arrives unencrypted. Give it a certificate for %(mx_host)s (the "
        "mailgate: --tls-cert and --tls-key)."
    ),
    (itls.CHECK_MX_TLS, itls.CODE_MX_NO_STARTTLS, itls.MODE_ENFORCE): _lt(
        "%(endpoint)s (%(role)s) does not offer STARTTLS, and the MTA-STS policy "
        "of %(domain)s is enforce: senders that honour it do not deliver here. "
        "Give it a certificate for %(mx_host)s (the mailgate: --tls-cert and "
        "--tls-key)."
    ),
    (itls.CHECK_MX_TLS, itls.CODE_MX_TLS_FAILED): _lt(
        "%(endpoint)s (%(role)s) offers STARTTLS, but the TLS handshake failed "
        "(%(error)s): senders deliver unencrypted or not at all."
    ),
    (itls.CHECK_MX_TLS, itls.CODE_MX_TLS_FAILED, itls.MODE_ENFORCE): _lt(
        "%(endpoint)s (%(role)s) offers STARTTLS, but the TLS handshake failed "
        "(%(error)s), and the MTA-STS policy of %(domain)s is enforce: senders "
        "that honour it do not deliver here."
    ),
    (itls.CHECK_MX_TLS, itls.CODE_MX_UNREACHABLE): _lt(
        "Not checkable: could not connect to %(endpoint)s (%(role)s) — %(error)s. "
        "Whether mail to %(domain)s arrives encrypted is unknown; check that port "
        "25 of the MX host is reachable from this machine."
    ),
    (itls.CHECK_MX_TLS, itls.CODE_MX_NO_ADDRESS): _lt(
        "The MX host %(mx_host)s of %(domain)s has no address (A or AAAA record): "
        "senders cannot deliver to it."
    ),
    (itls.CHECK_MX_TLS, itls.CODE_MX_NULL): _lt(
        "%(domain)s says it receives no mail (null MX): there is no TLS to check."
    ),
    (itls.CHECK_MX_TLS, itls.CODE_MX_NO_DOMAIN): _lt(
        "%(domain)s does not exist in DNS: there is no mail host to check."
    ),
    # MTA-STS, one line per domain
    (itls.CHECK_MTA_STS, itls.CODE_STS_ABSENT, PROPOSAL): _lt(
        "%(domain)s publishes no MTA-STS policy (optional): senders use STARTTLS "
        "when offered, without requiring a valid certificate. Every MX host has a "
        "valid certificate, so you can publish one: the record below, and this "
        "file as text/plain at %(policy_url)s (mode testing first, enforce once "
        "the TLS reports show no failures):\n%(policy_proposal)s"
    ),
    (itls.CHECK_MTA_STS, itls.CODE_STS_ABSENT): _lt(
        "%(domain)s publishes no MTA-STS policy (optional): senders use STARTTLS "
        "when offered, without requiring a valid certificate. Publish one once "
        "every MX host has a valid certificate."
    ),
    (itls.CHECK_MTA_STS, itls.CODE_STS_RECORD_INVALID, itls.INVALID_MULTIPLE): _lt(
        "%(name)s holds several MTA-STS records (%(records)s): senders act as if "
        "there were no policy. Keep one."
    ),
    (itls.CHECK_MTA_STS, itls.CODE_STS_RECORD_INVALID): _lt(
        "The MTA-STS record %(name)s is not valid (%(records)s): senders act as if "
        "there were no policy. Write it as v=STSv1; id=<1 to 32 letters or "
        "digits>."
    ),
    (itls.CHECK_MTA_STS, itls.CODE_STS_FETCH_FAILED): _lt(
        "%(domain)s publishes an MTA-STS record, but its policy at %(policy_url)s "
        "cannot be fetched: %(why)s. Senders act as if there were no policy."
    ),
    (itls.CHECK_MTA_STS, itls.CODE_STS_POLICY_INVALID): _lt(
        "The MTA-STS policy at %(policy_url)s is not valid: %(why)s. Senders act "
        "as if there were no policy."
    ),
    (itls.CHECK_MTA_STS, itls.CODE_STS_MX_MISMATCH, itls.MODE_ENFORCE): _lt(
        "The MTA-STS policy of %(domain)s (mode enforce) lists %(mx)s, which does "
        "not match the MX host %(unmatched)s: senders that honour it do not "
        "deliver there. Add an mx line for each MX host to the policy and change "
        "the id of %(name)s."
    ),
    (itls.CHECK_MTA_STS, itls.CODE_STS_MX_MISMATCH): _lt(
        "The MTA-STS policy of %(domain)s (mode testing) lists %(mx)s, which does "
        "not match the MX host %(unmatched)s: senders report a failure and still "
        "deliver. Add an mx line for each MX host to the policy and change the id "
        "of %(name)s."
    ),
    (itls.CHECK_MTA_STS, itls.CODE_STS_CERTIFICATE, itls.MODE_ENFORCE): _lt(
        "The MTA-STS policy of %(domain)s is enforce, but the MX host %(invalid)s "
        "has no valid certificate (see its line): senders that honour the policy "
        "do not deliver there."
    ),
    (itls.CHECK_MTA_STS, itls.CODE_STS_CERTIFICATE): _lt(
        "The MTA-STS policy of %(domain)s is in mode testing, and the MX host "
        "%(invalid)s has no valid certificate (see its line): senders report a "
        "failure and still deliver. Fix it before switching to enforce."
    ),
    (itls.CHECK_MTA_STS, itls.CODE_STS_CERTIFICATE, HOSTS_UNKNOWN): _lt(
        "Could not be checked: the MTA-STS policy of %(domain)s is %(mode)s, and "
        "the MX host %(unknown)s could not be reached to check its certificate."
    ),
    (itls.CHECK_MTA_STS, itls.CODE_STS_OK, itls.MODE_ENFORCE): _lt(
        "The MTA-STS policy of %(domain)s is enforce, names every MX host, and "
        "each has a valid certificate: senders that honour it deliver only "
        "encrypted, to these hosts."
    ),
    (itls.CHECK_MTA_STS, itls.CODE_STS_OK, itls.MODE_TESTING): _lt(
        "The MTA-STS policy of %(domain)s is in mode testing, names every MX host, "
        "and each has a valid certificate: senders report failures but do not "
        "require TLS yet. Set mode: enforce (and change the id of %(name)s) to "
        "require it."
    ),
    (itls.CHECK_MTA_STS, itls.CODE_STS_OK): _lt(
        "The MTA-STS policy of %(domain)s is mode none: senders drop the policy "
        "they had."
    ),
    # TLS reporting
    (itls.CHECK_TLS_RPT, itls.CODE_RPT_OK): _lt(
        "%(name)s asks senders for TLS reports to %(rua)s: Odoo's report alias "
        "receives the failures they report."
    ),
    (itls.CHECK_TLS_RPT, itls.CODE_RPT_OK, NO_ALIAS): _lt(
        "%(name)s asks senders for TLS reports to %(rua)s."
    ),
    (itls.CHECK_TLS_RPT, itls.CODE_RPT_ABSENT): _lt(
        "%(domain)s asks for no TLS reports (no %(name)s record): senders that "
        "cannot deliver encrypted do not tell you. Publish the record below: the "
        "reports go to the report alias %(report_address)s."
    ),
    (itls.CHECK_TLS_RPT, itls.CODE_RPT_ABSENT, NO_ALIAS): _lt(
        "%(domain)s asks for no TLS reports (no %(name)s record): senders that "
        "cannot deliver encrypted do not tell you. Activate the report alias to "
        "receive them in Odoo."
    ),
    (itls.CHECK_TLS_RPT, itls.CODE_RPT_INVALID): _lt(
        "The TLS reporting record %(name)s is not valid (%(records)s): senders "
        "ignore it. Publish one record v=TLSRPTv1; rua=mailto:… (the record "
        "below)."
    ),
    (itls.CHECK_TLS_RPT, itls.CODE_RPT_OTHER): _lt(
        "%(name)s asks senders for TLS reports to %(rua)s, not to the report alias "
        "%(report_address)s: Odoo does not see them. Add it (the record below)."
    ),
}

# who an MX host is
ROLE_GATEWAY = "gateway"
ROLE_OTHER = "other"
ROLE_IMPLICIT = "implicit"
ROLE_TEXTS = {
    ROLE_GATEWAY: _lt("the mailgate: Incoming mail host"),
    ROLE_OTHER: _lt("not the Incoming mail host"),
    ROLE_IMPLICIT: _lt("the domain's own address: it has no MX record"),
}

# why the policy could not be fetched or read (data "error")
POLICY_ERROR_TEXTS = {
    itls.FETCH_NO_ADDRESS: _lt("mta-sts.%(domain)s has no address"),
    itls.FETCH_CONNECT: _lt("could not connect (%(detail)s)"),
    itls.FETCH_CERTIFICATE: _lt(
        "the certificate is not valid for mta-sts.%(domain)s (%(detail)s)"
    ),
    itls.FETCH_REDIRECT: _lt(
        "the server answers with a redirect (%(detail)s), which senders do not "
        "follow"
    ),
    itls.FETCH_STATUS: _lt("the server answers %(detail)s"),
    itls.FETCH_MEDIA_TYPE: _lt("its media type is %(detail)s, not text/plain"),
    itls.FETCH_TOO_LARGE: _lt("it is larger than 64 KiB"),
    itls.INVALID_ENCODING: _lt("it is not UTF-8 text"),
    itls.INVALID_SYNTAX: _lt("a line is not 'key: value'"),
    itls.INVALID_VERSION: _lt("version is not STSv1"),
    itls.INVALID_MODE: _lt("mode is neither enforce, testing nor none"),
    itls.INVALID_MAX_AGE: _lt("max_age is not a number of seconds up to 31557600"),
    itls.INVALID_NO_MX: _lt("it has no mx line"),
}


def inbound_text(check, code, params, env=None):
    """The words of an inbound fact; a DNS error or a resolver that does not
    work is worded as every Check DNS line."""
    variant = params.get("variant")
    text = INBOUND_TEXTS.get((check, code, variant)) or INBOUND_TEXTS.get((check, code))
    if text is None:
        return deliverability_text(check, code, params, env)
    return word(text, params, env)
