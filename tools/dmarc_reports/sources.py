# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Who sent as the domain: a report's source address classified against
what Check DNS knows of Odoo's own sending (pure; the addresses and includes
come from the outgoing servers' *Sending addresses*)."""

import ipaddress

OWN = "own"
RELAY = "relay"
UNKNOWN = "unknown"

#: why a source is flagged
FLAG_UNKNOWN_PASSES = "unknown_passes"
FLAG_OWN_FAILS = "own_fails"

#: RFC 8460 §4.3 result types by what failed
TLS_FAMILIES = {
    "starttls-not-supported": "starttls",
    "certificate-host-mismatch": "certificate",
    "certificate-expired": "certificate",
    "certificate-not-trusted": "certificate",
    "validation-failure": "certificate",
    "tlsa-invalid": "dane",
    "dnssec-invalid": "dane",
    "dane-required": "dane",
    "sts-policy-fetch-error": "mta_sts",
    "sts-policy-invalid": "mta_sts",
    "sts-webpki-invalid": "mta_sts",
}


def tls_family(result_type):
    """What a TLS failure is about: ``starttls``, ``certificate``, ``dane``,
    ``mta_sts`` or ``other``."""
    return TLS_FAMILIES.get((result_type or "").lower(), "other")


# ignored reports
IGNORE_FOREIGN_DOMAIN = "foreign_domain"
IGNORE_DUPLICATE = "duplicate"


def networks_of(addresses):
    """``ip_network`` objects of addresses and networks as text (bad ones
    skipped: they were refused when entered)."""
    networks = []
    for address in addresses:
        try:
            networks.append(ipaddress.ip_network(str(address), strict=False))
        except ValueError:
            continue
    return networks


def classify_source(ip, own_networks, relay_networks=()):
    """``own`` when ``ip`` is one of Odoo's outgoing servers' addresses,
    ``relay`` when the published SPF networks of a relay Odoo sends through
    hold it, else ``unknown``."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return UNKNOWN
    if any(address in network for network in own_networks):
        return OWN
    if any(address in network for network in relay_networks):
        return RELAY
    return UNKNOWN


def flag(source_class, dmarc_pass):
    """The reason a row deserves the administrator's eye, or ``""``: someone
    unknown passes DMARC as the domain (a forgotten legitimate sender, or a
    forgery that works), or Odoo's own server (or the relay it sends
    through) fails it."""
    if source_class == UNKNOWN and dmarc_pass:
        return FLAG_UNKNOWN_PASSES
    if source_class in (OWN, RELAY) and not dmarc_pass:
        return FLAG_OWN_FAILS
    return ""


def _parent_domains(name):
    labels = name.split(".")
    return {".".join(labels[index:]) for index in range(len(labels))}


def owned_domain(domain, owned, org_domain_of=None):
    """True when ``domain`` (a report's policy domain) is one of ``owned``, a
    subdomain of one, or the organisational domain of one (a DMARC record at
    ``example.com`` covers ``mail.example.com``'s mail). ``org_domain_of``:
    the public-suffix list's organisational domain of a name."""
    domain = (domain or "").rstrip(".").lower()
    if not domain:
        return False
    owned = {name.rstrip(".").lower() for name in owned if name}
    if _parent_domains(domain) & owned:
        return True
    if org_domain_of is not None:
        return any(org_domain_of(name) == domain for name in owned)
    return False


def prediction_differences(predictions, reported):
    """Where Check DNS and the receivers disagree.

    ``predictions``: ``{(from domain, server label): "pass" | "fail"}``
    (Check DNS's alignment verdict per own sending path); ``reported``:
    ``{(from domain, server label): (passed, failed, organisations)}``
    (messages from that server's addresses in the reports). Returns sorted
    tuples ``(from domain, server label, predicted, passed, failed,
    organisations)`` for each path where the prediction says pass and some
    messages failed, or says fail and none failed.
    """
    differences = []
    for key, predicted in sorted(predictions.items()):
        if key not in reported:
            continue
        passed, failed, orgs = reported[key]
        if (predicted == "pass" and failed) or (
            predicted == "fail" and passed and not failed
        ):
            differences.append((*key, predicted, passed, failed, tuple(sorted(orgs))))
    return differences
