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
    # several entries typed as one, or a domain typed as an address
    "separator": _lt("separate entries with commas: %(suggestion)s"),
    "domain_with_at": _lt("write the domain without '@': %(domain)s"),
    "default_from_syntax": _lt(
        "use a bare local part (notifications) or an address "
        "(notifications@example.com)"
    ),
    "default_from_parts": _lt("the address must have a part before and after '@'"),
    "display_fields": _lt("only {name} and {company} may be used"),
}


@dataclass(frozen=True)
class ReasonText:
    """One reason code of a family and its words: the template (``_lt``;
    ``args`` name the values that fill it, in order for ``%s``, by name for
    ``%(name)s``), the SMTP reply of the mailgate's families (protocol text,
    English by RFC 5321; ``{rcpt}``: the recipient), the gateway log's
    label when it is a log reason, and ``compose``, the name of the
    ``mail.routing.explanation`` method that words it instead of a
    template (a reason whose words depend on which rule or limit hit)."""

    code: str
    text: LazyGettext | None = None
    args: tuple = ()
    reply: str = ""
    label: str = ""
    compose: str = ""


# the gateway log's reasons, registered by each family from its own file
# (tools/incoming/routing_reasons.py, tools/incoming/auth_reasons.py,
# tools/mailgate/smtp_reasons.py):
# (sequence, family name) -> {code: ReasonText}
_LOG_FAMILIES = {}


def register_log_reasons(family, sequence, entries):
    """Register a family's reasons of the gateway log (``mail.gateway.log.
    reason``); ``sequence`` orders the families in the selection. Returns
    the family's table, ``{code: ReasonText}``."""
    table = {entry.code: entry for entry in entries}
    for (_sequence, name), other in _LOG_FAMILIES.items():
        if name != family and table.keys() & other.keys():
            raise ValueError(f"reasons of {family} already registered by {name}")
    _LOG_FAMILIES[(sequence, family)] = table
    return table


def log_reason_families():
    """``{family name: {code: ReasonText}}``, in their selection order."""
    return {name: table for (_seq, name), table in sorted(_LOG_FAMILIES.items())}


def log_reason_selection():
    """The gateway log's selection: every registered reason and its label."""
    return [
        (entry.code, entry.label)
        for table in log_reason_families().values()
        for entry in table.values()
    ]


def log_reason(code):
    """The ``ReasonText`` of a gateway log reason, or None."""
    for table in _LOG_FAMILIES.values():
        if code in table:
            return table[code]
    return None


class _Params(dict):
    # a value a stored entry does not have reads as "?" instead of failing
    def __missing__(self, key):
        return "?"


def word(text, params=None, env=None):
    """``text`` (a text of this module) with its ``params``, in the language
    of ``env``, or in English without one (exception messages, server logs)."""
    template = env._(text) if env is not None else text._translate("en_US")
    return template % _Params(params) if params else template


# What DNS says about a sending path (tools/deliverability.py): the text of each
# (check, code, variant), (check, code), or of a code whatever the check.
# Parameters: the fact's data (lists joined with ", "), ``domain``/``subject``
# (the name checked) and, for the variant, ``variant`` or ``would_be``.
DELIVERABILITY_TEXTS = {
    # a temporary DNS error: never pass or fail
    "dns_timeout": _lt(
        "Could not be checked: the DNS server %(servers)s gave no answer for "
        "%(name)s (%(rdtype)s) in time. If other lines could be checked, the "
        "servers of that name's zone did not answer: check again later. Otherwise "
        "make sure %(servers)s runs and this machine reaches it, or enter other DNS "
        "servers in Settings ▸ Mail routing ▸ More settings ▸ DNS servers."
    ),
    "dns_servfail": _lt(
        "Could not be checked: the DNS server %(servers)s failed to answer for "
        "%(name)s (%(rdtype)s). If other lines could be checked, that name's zone "
        "is broken: check again later or tell its owner. Otherwise check "
        "%(servers)s, or enter other DNS servers in Settings ▸ Mail routing ▸ More "
        "settings ▸ DNS servers."
    ),
    "dns_not_asked": _lt(
        "Could not be checked: the time of this check ran out before %(name)s "
        "(%(rdtype)s) was asked."
    ),
    # the resolver itself does not work (asked once a check: the root's SOA)
    ("resolver_broken", "machine"): _lt(
        "Could not be checked: the machine's resolver (%(servers)s, "
        "/etc/resolv.conf) answers that no name exists, not even the root of DNS, "
        "so none of its answers can be trusted. Enter DNS servers that work in "
        "Settings ▸ Mail routing ▸ More settings ▸ DNS servers, or have the "
        "machine's resolver repaired; then click Check DNS again."
    ),
    "resolver_broken": _lt(
        "Could not be checked: the DNS servers %(servers)s (Settings ▸ Mail routing "
        "▸ More settings ▸ DNS servers) answer that no name exists, not even the "
        "root of DNS, so none of their answers can be trusted. Enter DNS servers "
        "there that resolve any name, or empty the field to use the machine's "
        "resolver; then click Check DNS again."
    ),
    ("resolver_timeout", "machine"): _lt(
        "Could not be checked: the machine's resolver (%(servers)s, "
        "/etc/resolv.conf) did not answer at all, not even for the root of DNS. "
        "Have it repaired, or enter DNS servers that this machine reaches in "
        "Settings ▸ Mail routing ▸ More settings ▸ DNS servers; then click Check "
        "DNS again."
    ),
    "resolver_timeout": _lt(
        "Could not be checked: the DNS server %(servers)s (Settings ▸ Mail routing ▸ "
        "More settings ▸ DNS servers) did not answer at all, not even for the root "
        "of DNS. Make sure it runs and that this machine reaches it (address, port, "
        "firewall), or correct the DNS servers there; then click Check DNS again."
    ),
    ("resolver_servfail", "machine"): _lt(
        "Could not be checked: the machine's resolver (%(servers)s, "
        "/etc/resolv.conf) refuses or fails every question, even for the root of "
        "DNS. Have it repaired, or enter DNS servers that work in Settings ▸ Mail "
        "routing ▸ More settings ▸ DNS servers; then click Check DNS again."
    ),
    "resolver_servfail": _lt(
        "Could not be checked: the DNS server %(servers)s (Settings ▸ Mail routing ▸ "
        "More settings ▸ DNS servers) refuses or fails every question, even for the "
        "root of DNS. Make sure it resolves names for this machine, or correct the "
        "DNS servers there; then click Check DNS again."
    ),
    ("spf", "authorised"): _lt(
        "The SPF record of %(domain)s authorises this server's sending addresses."
    ),
    ("spf", "no_record"): _lt(
        "%(domain)s publishes no SPF record: receivers cannot tell that this server "
        "may send for it. Publish the record below."
    ),
    ("spf", "multiple_records"): _lt(
        "%(domain)s publishes several SPF records (%(records)s): there must be "
        "exactly one, else SPF fails for every mail. Publish the record below, "
        "which merges them, in their place."
    ),
    ("spf", "too_many_lookups"): _lt(
        "The SPF record of %(domain)s needs %(lookups)s DNS lookups (include, a, mx, "
        "ptr, exists, redirect, counted through its includes); more than %(limit)s "
        "make SPF fail for every mail. The record below names the addresses they "
        "stand for today instead: renew it when a provider changes them."
    ),
    ("spf", "too_many_lookups", "no_record"): _lt(
        "The SPF record of %(domain)s needs %(lookups)s DNS lookups (include, a, mx, "
        "ptr, exists, redirect, counted through its includes); more than %(limit)s "
        "make SPF fail for every mail. Its terms cannot all be replaced by addresses "
        "(macros, ptr or exists, or names that do not answer): remove includes you "
        "no longer use, or ask their providers for a record with fewer lookups."
    ),
    ("spf", "too_many_void_lookups"): _lt(
        "The SPF record of %(domain)s names %(void_lookups)s names that do not "
        "exist (%(void_names)s); more than %(limit)s make SPF fail for every mail. "
        "Publish the record below, without them."
    ),
    ("spf", "too_many_void_lookups", "no_record"): _lt(
        "The SPF record of %(domain)s names %(void_lookups)s names that do not "
        "exist (%(void_names)s); more than %(limit)s make SPF fail for every mail. "
        "They are named by its includes: ask their providers to correct them."
    ),
    ("spf", "record_syntax"): _lt(
        "The SPF record of %(domain)s is invalid (%(term)s): SPF fails for every "
        "mail. Publish the record below, without it."
    ),
    ("spf", "record_syntax", "no_record"): _lt(
        "The SPF record of %(domain)s is invalid (%(term)s): SPF fails for every "
        "mail."
    ),
    ("spf", "split_strings"): _lt(
        "The SPF record of %(domain)s is published in %(strings)s strings, which "
        "receivers join without a space: two terms run together (%(term)s) and SPF "
        "fails for every mail. Publish the record below."
    ),
    ("spf", "include_no_record"): _lt(
        "The SPF record of %(domain)s includes %(include)s, which publishes no SPF "
        "record: SPF fails for every mail (RFC 7208 §5.2). Publish the record below, "
        "without it."
    ),
    ("spf", "include_not_reached"): _lt(
        "The SPF record of %(domain)s does not reach %(missing_includes)s, which "
        "Sending addresses of the outgoing server names, through any of its "
        "includes: receivers do not see this server's mail authorised. Publish the "
        "record below."
    ),
    ("spf", "allows_any"): _lt(
        "The SPF record of %(domain)s authorises any address (+all or a range "
        "covering everything): anyone may send in its name. Publish the record below, "
        "which ends with ~all or -all."
    ),
    ("spf", "not_authorised"): _lt(
        "The SPF record of %(domain)s does not authorise this server's sending "
        "addresses (%(results)s): SPF does not pass for its mail. Publish the record "
        "below."
    ),
    ("spf", "no_sending_address"): _lt(
        "The SPF record of %(domain)s is valid, but where this server's mail leaves "
        "from is unknown: enter the relay's range or include in Sending addresses of "
        "the outgoing server."
    ),
    ("spf", "host_not_authorised"): _lt(
        "The SPF record of %(domain)s does not authorise the addresses the server's "
        "SMTP host resolves to (%(results)s). If it is a relay service, its mail "
        "leaves from other addresses: enter its range or include in Sending "
        "addresses of the outgoing server."
    ),
    ("spf", "bad_address"): _lt("'%(sending_ips)s' is not an address or a range."),
    ("dkim", "key_ok"): _lt(
        "The DKIM key %(selector)s of %(domain)s is published (%(key_type)s, "
        "%(key_bits)s bits)."
    ),
    ("dkim", "no_selector"): _lt(
        "No DKIM selector is named for the alias domain %(domain)s: open it "
        "(Settings ▸ Technical ▸ Email ▸ Alias Domains, in developer mode) and enter "
        "the selectors your mail is signed with in DKIM selectors, so that their "
        "keys are checked."
    ),
    ("dkim", "no_selector", "config_file"): _lt(
        "No DKIM selector is named for %(domain)s, which is not an alias domain and "
        "is sent through the SMTP settings of the Odoo configuration file, where no "
        "selector can be entered: to have its keys checked, create an outgoing "
        "server for it (Settings ▸ Technical ▸ Email ▸ Outgoing Mail Servers) and "
        "enter them in its DKIM selectors (tab DNS check), or add %(domain)s as an "
        "alias domain."
    ),
    ("dkim", "no_selector", "server"): _lt(
        "No DKIM selector is named for %(domain)s, which is not an alias domain: "
        "enter the selectors its mail is signed with in DKIM selectors of the "
        "outgoing server (%(servers)s, tab DNS check), so that their keys are "
        "checked."
    ),
    ("dkim", "no_key"): _lt(
        "No DKIM key is published at %(subject)s: mail signed with selector "
        "%(selector)s fails DKIM."
    ),
    ("dkim", "key_revoked"): _lt(
        "The DKIM key at %(subject)s is revoked (empty p=): signatures with it fail."
    ),
    ("dkim", "key_format"): _lt(
        "The DKIM key at %(subject)s cannot be read: signatures with it fail."
    ),
    ("dkim", "key_too_small"): _lt(
        "The DKIM key at %(subject)s has %(key_bits)s bits: receivers refuse keys "
        "under %(minimum)s bits. Publish a new key of 2048 bits."
    ),
    ("dkim", "key_weak"): _lt(
        "The DKIM key at %(subject)s has %(key_bits)s bits: %(recommended)s bits are "
        "recommended."
    ),
    ("dmarc", "no_record", "same"): _lt(
        "%(from_domain)s publishes no DMARC record: Gmail and Yahoo require one of "
        "bulk senders. Publish the record below."
    ),
    ("dmarc", "no_record"): _lt(
        "Neither %(from_domain)s nor %(org_domain)s publishes a DMARC record: Gmail "
        "and Yahoo require one of bulk senders. Publish the record below."
    ),
    ("dmarc", "multiple_records"): _lt(
        "%(record_domain)s publishes several DMARC records: receivers ignore them "
        "all. Publish the record below, the strictest of them, in their place."
    ),
    ("dmarc", "record_syntax"): _lt(
        "The DMARC record of %(record_domain)s is invalid: receivers ignore it. "
        "Publish the record below (policy none: choose quarantine or reject once "
        "the reports show that your mail aligns)."
    ),
    ("dmarc", "policy_none"): _lt(
        "DMARC of %(from_domain)s (record at %(record_domain)s): policy none, "
        "receivers only report (rua: %(rua)s)."
    ),
    ("dmarc", "policy_enforced"): _lt(
        "DMARC of %(from_domain)s (record at %(record_domain)s): policy %(policy)s "
        "for unaligned mail (rua: %(rua)s)."
    ),
    ("dmarc", "policy_sampled"): _lt(
        "DMARC of %(from_domain)s (record at %(record_domain)s): policy %(policy)s "
        "with pct=%(pct)s: receivers still on RFC 7489 apply it to %(pct)s%% of "
        "unaligned mail only (§6.6.4), receivers that follow RFC 9989 ignore pct. "
        "Publish the record below, without pct (t=y, not pct=0, marks a policy "
        "under test)."
    ),
    ("dmarc", "policy_testing"): _lt(
        "DMARC of %(from_domain)s (record at %(record_domain)s) is in test mode "
        "(t=y): receivers that follow RFC 9989 apply %(applied_9989)s instead of "
        "%(policy)s to unaligned mail, receivers still on RFC 7489 ignore t and "
        "apply %(policy)s. Remove t=y once the reports show that your mail aligns."
    ),
    ("dmarc", "readings_differ"): _lt(
        "DMARC of %(from_domain)s: receivers that follow RFC 9989 (DMARCbis, 2026) "
        "%(reading_9989)s; receivers still on RFC 7489 %(reading_7489)s."
    ),
    ("alignment", "readings_differ"): _lt(
        "The From %(from_domain)s with the envelope domain %(envelope_domain)s and "
        "the DKIM domain %(dkim_domains)s: receivers that follow RFC 9989 "
        "(DMARCbis, 2026) %(outcome_9989)s; receivers still on RFC 7489 "
        "%(outcome_7489)s."
    ),
    ("alignment", "not_authenticated", "reject"): _lt(
        "The envelope domain %(envelope_domain)s aligns with the From "
        "%(from_domain)s, but SPF does not pass for this server's mail (see the SPF "
        "line) and no DKIM key of an aligned domain is usable (%(dkim_domains)s): "
        "its DMARC policy is reject, so receivers reject this mail."
    ),
    ("alignment", "not_authenticated", "quarantine"): _lt(
        "The envelope domain %(envelope_domain)s aligns with the From "
        "%(from_domain)s, but SPF does not pass for this server's mail (see the SPF "
        "line) and no DKIM key of an aligned domain is usable (%(dkim_domains)s): "
        "its DMARC policy is quarantine, so receivers put this mail in the spam "
        "folder."
    ),
    ("alignment", "not_authenticated", "none"): _lt(
        "The envelope domain %(envelope_domain)s aligns with the From "
        "%(from_domain)s, but SPF does not pass for this server's mail (see the SPF "
        "line) and no DKIM key of an aligned domain is usable (%(dkim_domains)s): "
        "DMARC fails; Gmail and Yahoo require it of bulk senders."
    ),
    ("alignment", "spf_unknown"): _lt(
        "Could not be checked: the envelope domain %(envelope_domain)s aligns with "
        "the From %(from_domain)s, but whether SPF passes for this server's mail "
        "could not be checked (see the SPF line), and no DKIM key of an aligned "
        "domain is usable: DMARC may pass or fail."
    ),
    ("alignment", "dkim_unknown"): _lt(
        "Could not be checked: the DKIM key at %(name)s could not be read and "
        "nothing else that authenticates aligns with the From %(from_domain)s: "
        "DMARC may pass or fail."
    ),
    ("alignment", "aligned"): _lt(
        "The From %(from_domain)s aligns with %(aligned)s (envelope domain "
        "%(envelope_domain)s, DKIM domain %(dkim_domains)s): DMARC can pass."
    ),
    ("alignment", "not_aligned", "reject"): _lt(
        "The From %(from_domain)s aligns neither with the envelope domain "
        "%(envelope_domain)s (SPF) nor with a DKIM domain with a usable key "
        "(%(dkim_domains)s): its DMARC policy is reject, so receivers reject this "
        "mail."
    ),
    ("alignment", "not_aligned", "quarantine"): _lt(
        "The From %(from_domain)s aligns neither with the envelope domain "
        "%(envelope_domain)s (SPF) nor with a DKIM domain with a usable key "
        "(%(dkim_domains)s): its DMARC policy is quarantine, so receivers put this "
        "mail in the spam folder."
    ),
    ("alignment", "not_aligned", "none"): _lt(
        "The From %(from_domain)s aligns neither with the envelope domain "
        "%(envelope_domain)s (SPF) nor with a DKIM domain with a usable key "
        "(%(dkim_domains)s): DMARC fails; Gmail and Yahoo require alignment of bulk "
        "senders."
    ),
    ("mx", "mx_ok"): _lt(
        "The MX of %(domain)s points at %(hosts)s: replies and bounces arrive."
    ),
    ("mx", "mx_found"): _lt(
        "The MX of %(domain)s points at %(hosts)s (set Incoming mail host in "
        "Settings to check that it is where mail should arrive)."
    ),
    ("mx", "mx_elsewhere"): _lt(
        "The MX of %(domain)s points at %(hosts)s, not at %(expected)s: replies and "
        "bounces arrive elsewhere."
    ),
    ("mx", "null_mx"): _lt(
        "%(domain)s says it receives no mail (null MX): replies and bounces are lost."
    ),
    ("mx", "no_mx"): _lt(
        "%(domain)s has no MX record: mail to it goes to the address of the name "
        "itself."
    ),
    ("mx", "no_mx", "expected"): _lt(
        "%(domain)s has no MX record: mail to it goes to the address of the name "
        "itself, not to %(expected)s: replies and bounces arrive elsewhere."
    ),
    ("mx", "no_domain"): _lt("%(domain)s does not exist in DNS."),
    ("reverse_dns", "forward_confirmed"): _lt(
        "%(ip)s has the reverse DNS name %(name)s, which resolves back to it."
    ),
    ("reverse_dns", "no_ptr"): _lt(
        "%(ip)s has no reverse DNS name (PTR): Gmail and Yahoo refuse or spam-folder "
        "mail from it. Ask the owner of the address (your hosting provider) to "
        "publish the PTR record below; publish the address record of its name "
        "below it, if there is one, in your zone."
    ),
    ("reverse_dns", "ptr_mismatch"): _lt(
        "The reverse DNS name of %(ip)s (%(ptr)s) does not resolve back to it: "
        "Gmail and Yahoo refuse or spam-folder mail from it."
    ),
    ("reverse_dns", "bad_address"): _lt("'%(ip)s' is not an address."),
    # the TLS line: a real connection to the server (tools/deliverability.probe_tls)
    ("tls", "tls"): _lt(
        "Connected to %(endpoint)s: %(method)s negotiated %(protocol)s "
        "(%(cipher)s), and the certificate is valid for %(host)s: mail to this "
        "server travels encrypted."
    ),
    ("tls", "tls_unverified"): _lt(
        "Connected to %(endpoint)s: %(method)s negotiated %(protocol)s "
        "(%(cipher)s), so mail travels encrypted, but the certificate "
        "%(certificate)s: a machine in between could pose as the server (Odoo sends "
        "without checking certificates). Have a certificate of a public authority "
        "for %(host)s installed on the server, or enter the host name its "
        "certificate names."
    ),
    ("tls", "no_tls", "offered"): _lt(
        "Connected to %(endpoint)s without encryption (Connection Encryption: "
        "None): mail and password travel readable. The server offers STARTTLS: "
        "choose TLS (STARTTLS) as Connection Encryption of the server."
    ),
    ("tls", "no_tls"): _lt(
        "Connected to %(endpoint)s without encryption (Connection Encryption: "
        "None): mail and password travel readable, and the server offers no "
        "STARTTLS on this port. Use its encrypted port (587 with TLS (STARTTLS), "
        "465 with SSL/TLS) and choose that Connection Encryption."
    ),
    ("tls", "starttls_not_offered"): _lt(
        "Connected to %(endpoint)s, but the server does not offer STARTTLS there, "
        "which Connection Encryption TLS (STARTTLS) needs: Odoo cannot send "
        "through it. Check the port (587 for TLS (STARTTLS), 465 for SSL/TLS)."
    ),
    ("tls", "tls_failed"): _lt(
        "Connected to %(endpoint)s, but the TLS handshake failed (%(error)s): with "
        "Connection Encryption %(method)s Odoo cannot send through it. Check the "
        "port and Connection Encryption (587 for TLS (STARTTLS), 465 for SSL/TLS)."
    ),
    ("tls", "tls_unreachable"): _lt(
        "Not checkable: could not connect to %(endpoint)s — %(error)s. Whether mail "
        "to it is encrypted is unknown (Connection Encryption: %(method)s). Check "
        "the server's host and port, and that this machine may reach it."
    ),
}

# why a connection to an outgoing server failed (TlsProbe.error codes)
TLS_ERROR_TEXTS = {
    "refused": _lt("the connection was refused"),
    "timeout": _lt("no answer in time"),
    "unknown_host": _lt("the host name does not resolve on this machine"),
    "closed": _lt("the server closed the connection"),
    "no_host": _lt("no SMTP host is set"),
}
# Connection Encryption (core's smtp_encryption), as the server form says it
TLS_METHOD_TEXTS = {
    "starttls": _lt("TLS (STARTTLS)"),
    "ssl": _lt("SSL/TLS"),
    "none": _lt("None"),
}

# Check sender: what Gmail (and Yahoo) would do, "because …"
RECEIVER_TEXTS = {
    "accepted": _lt(
        "Gmail would accept this mail, because the From %(from_domain)s aligns with "
        "%(aligned)s that authenticates it (DMARC pass)."
    ),
    "accepted_unaligned": _lt(
        "Gmail would accept this mail, because SPF or DKIM authenticates it and "
        "%(from_domain)s enforces no DMARC policy; but the From aligns with neither, "
        "which Gmail and Yahoo require of bulk senders."
    ),
    "quarantined": _lt(
        "Gmail would put this mail in the spam folder, because the From "
        "%(from_domain)s aligns neither with the envelope domain %(envelope_domain)s "
        "(SPF: %(spf)s) nor with a DKIM key of %(dkim_domain)s (DKIM: %(dkim)s), and "
        "its DMARC policy is quarantine."
    ),
    "rejected": _lt(
        "Gmail would reject this mail, because the From %(from_domain)s aligns "
        "neither with the envelope domain %(envelope_domain)s (SPF: %(spf)s) nor with "
        "a DKIM key of %(dkim_domain)s (DKIM: %(dkim)s), and its DMARC policy is "
        "reject."
    ),
    "unauthenticated": _lt(
        "Gmail would reject this mail, because neither SPF (envelope domain "
        "%(envelope_domain)s: %(spf)s) nor DKIM (%(dkim_domain)s: %(dkim)s) "
        "authenticates it."
    ),
}


# the same when no DKIM selector is entered: a signature is unknown, not failed
RECEIVER_TEXTS_NO_SELECTOR = {
    "accepted_unaligned": _lt(
        "Gmail would accept this mail, because SPF authenticates it and "
        "%(from_domain)s enforces no DMARC policy; the From does not align with "
        "the envelope domain %(envelope_domain)s, which Gmail and Yahoo require of "
        "bulk senders unless a DKIM signature of %(dkim_domain)s aligns. DKIM not "
        "checked: no selector entered for %(dkim_domain)s (enter it "
        "%(dkim_where)s)."
    ),
    "quarantined": _lt(
        "Gmail would put this mail in the spam folder unless it carries a DKIM "
        "signature of %(dkim_domain)s, because the From %(from_domain)s does not "
        "align with the envelope domain %(envelope_domain)s (SPF: %(spf)s) and its "
        "DMARC policy is quarantine. DKIM not checked: no selector entered for "
        "%(dkim_domain)s (enter it %(dkim_where)s)."
    ),
    "rejected": _lt(
        "Gmail would reject this mail unless it carries a DKIM signature of "
        "%(dkim_domain)s, because the From %(from_domain)s does not align with the "
        "envelope domain %(envelope_domain)s (SPF: %(spf)s) and its DMARC policy is "
        "reject. DKIM not checked: no selector entered for %(dkim_domain)s (enter "
        "it %(dkim_where)s)."
    ),
    "unauthenticated": _lt(
        "Gmail would reject this mail unless it carries a DKIM signature of "
        "%(dkim_domain)s, because SPF does not authenticate it (envelope domain "
        "%(envelope_domain)s: %(spf)s). DKIM not checked: no selector entered for "
        "%(dkim_domain)s (enter it %(dkim_where)s)."
    ),
}


def deliverability_text(check, code, params, env=None):
    """The words of a deliverability fact (:data:`DELIVERABILITY_TEXTS`)."""
    variant = params.get("variant") or params.get("would_be")
    text = (
        DELIVERABILITY_TEXTS.get((check, code, variant))
        or DELIVERABILITY_TEXTS.get((check, code))
        or DELIVERABILITY_TEXTS.get((code, variant))
        or DELIVERABILITY_TEXTS.get(code)
    )
    if text is None:
        return code
    return word(text, params, env)
