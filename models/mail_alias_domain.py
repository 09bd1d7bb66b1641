# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError

from ..tools import address_filter, deliverability


class MailAliasDomain(models.Model):
    """Cached facts about alias domains for the per-message routing rules."""

    _name = "mail.alias.domain"
    _inherit = ["mail.alias.domain", "mail.routing.cache.mixin"]

    auth_dmarc_enforcement = fields.Selection(
        [("enforce", "Apply their policy"), ("record", "Record only")],
        string="DMARC of other domains",
        default="enforce",
        required=True,
        help="Mail addressed to this alias domain whose sender's domain fails "
        "DMARC. Apply their policy: the policy the sender's domain publishes in "
        "its DMARC record decides (p=reject: refused, p=quarantine: quarantined "
        "in the gateway log, p=none: delivered). Record only: delivered, the "
        "failure recorded on the message. Mail claiming to come from your own "
        "users or domains always needs proof.",
    )

    dkim_selectors = fields.Char(
        "DKIM selectors",
        groups="base.group_system",
        help="The selectors mail of this domain is signed with, comma-separated "
        "(e.g. mailo for Mailgun, s1, s2 for SendGrid): Check DNS reads the key "
        "published at <selector>._domainkey.<domain>.",
    )

    @api.constrains("dkim_selectors")
    def _check_dkim_selectors(self):
        for domain in self.sudo():
            self._validate_dkim_selectors(domain.name, domain.dkim_selectors)

    @api.model
    def _validate_dkim_selectors(self, owner, value):
        """Raise a ``ValidationError`` naming ``owner`` (an alias domain or an
        outgoing server) when ``value`` is not a list of DKIM selectors."""
        try:
            deliverability.parse_dkim_selectors(value)
        except deliverability.ConfigValueError as error:
            raise ValidationError(
                self.env._(
                    "DKIM selectors of %(domain)s: '%(item)s' is not a selector "
                    "(letters, digits, '-' and '_', parts separated by dots, "
                    "without ._domainkey).",
                    domain=owner,
                    item=error.item,
                )
            ) from error

    @api.model
    @tools.ormcache()
    def _routing_domain_facts(self):
        """Tuple of ``(id, name, ascii_name, catchall, bounce, default_from)``
        for every alias domain, ordered as core orders them.

        Read for every incoming and outgoing mail: cached in the registry and
        cleared whenever an alias domain changes, so routing costs no query.
        """
        facts = []
        for domain in self.sudo().search([]):
            try:
                ascii_name = address_filter.domain_to_ascii(domain.name)
            except ValueError:
                ascii_name = (domain.name or "").lower()
            facts.append(
                (
                    domain.id,
                    domain.name,
                    ascii_name,
                    domain.catchall_email,
                    domain.bounce_email,
                    domain.default_from_email,
                )
            )
        return tuple(facts)

    @api.model
    @tools.ormcache()
    def _routing_dmarc_record_only(self):
        """A-labels of the alias domains that only record third-party DMARC failures."""
        domains = self.sudo().search([("auth_dmarc_enforcement", "=", "record")])
        names = set()
        for name in domains.mapped("name"):
            try:
                names.add(address_filter.domain_to_ascii(name))
            except ValueError:
                names.add((name or "").lower())
        return frozenset(names)
