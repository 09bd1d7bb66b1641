import logging
import smtplib

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import email_normalize

from odoo.addons.base.models.ir_mail_server import MailDeliveryException, extract_rfc2822_addresses

from ..tools import address_filter, sender_policy

_logger = logging.getLogger(__name__)

FROM_FILTER_HELP = (
    "Comma-separated list of senders this server may send for:\n"
    "- an address: notifications@example.com\n"
    "- a domain (that domain only): example.com\n"
    "- a subdomain wildcard (any subdomain, not the domain itself): *.example.com\n"
    "Matching ignores case; internationalised domains may be typed in either form "
    "(bücher.example or xn--bcher-kva.example). Leave empty to accept any sender."
)

TIER_LABELS = {
    1: "exact address",
    2: "exact domain",
    3: "subdomain wildcard",
    4: "default From",
    5: "server without FROM filter",
    6: "no-match policy",
    7: "odoo-bin / mail.default.from_filter",
}


class IrMailServer(models.Model):
    _inherit = "ir.mail_server"

    from_filter = fields.Char(help=FROM_FILTER_HELP)

    # ------------------------------------------------------------------
    # FROM filter grammar
    # ------------------------------------------------------------------

    @api.model
    def _normalize_from_filter_value(self, value, label=None):
        """Return the canonical form of a filter value or raise ValidationError."""
        try:
            return address_filter.normalize_filter(value)
        except address_filter.AddressFilterError as exc:
            raise ValidationError(
                self.env._(
                    "%(field)s: invalid entry %(entry)r: %(reason)s.",
                    field=label or self.env._("FROM Filtering"),
                    entry=exc.entry,
                    reason=exc.reason,
                )
            ) from exc

    @api.model
    def _parse_from_filter(self, value):
        """Parse a stored filter, skipping (and logging) invalid legacy entries.

        Values saved through this module are always valid; values written
        before it was installed (or by SQL) may not be, and must not make
        sending crash.
        """
        try:
            return address_filter.parse_filter(value)
        except address_filter.AddressFilterError:
            entries = []
            for raw in (value or "").replace("\r", ",").replace("\n", ",").split(","):
                if not raw.strip():
                    continue
                try:
                    entries.append(address_filter.parse_entry(raw))
                except address_filter.AddressFilterError as exc:
                    _logger.warning("Ignoring invalid FROM filter entry %s", exc)
            return tuple(entries)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("from_filter"):
                vals["from_filter"] = self._normalize_from_filter_value(vals["from_filter"])
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("from_filter"):
            vals = dict(vals, from_filter=self._normalize_from_filter_value(vals["from_filter"]))
        return super().write(vals)

    @api.model
    def _match_from_filter(self, email_from, from_filter):
        """Core API, with the module grammar (wildcards, IDN, case)."""
        if not from_filter:
            return True
        address = email_normalize(email_from) or email_from
        return bool(address_filter.match_address(self._parse_from_filter(from_filter), address))

    # ------------------------------------------------------------------
    # Default From (mail.default.from made to work again)
    # ------------------------------------------------------------------

    @api.model
    def _get_default_from_param(self):
        """Return the raw ``mail.default.from`` value, or the legacy key's."""
        get_param = self.env["ir.config_parameter"].sudo().get_param
        value = get_param("mail.default.from")
        if not value:
            value = get_param("mail.force.smtp.from")
            if value:
                _logger.warning(
                    "System parameter mail.force.smtp.from is deprecated (Odoo <= 14); "
                    "it is used as mail.default.from. Rename it to mail.default.from."
                )
        return value

    @api.model
    def _resolve_default_from(self, alias_domain=None):
        """Return the ``mail.default.from`` override for an alias domain, or False.

        A full address is used as is, a local part is combined with the alias
        domain (the company's when none is given), else ``mail.catchall.domain``.
        """
        if alias_domain is None:
            alias_domain = self.env.company.sudo().alias_domain_id
        return self._resolve_default_from_for(alias_domain.name)

    @api.model
    def _resolve_default_from_for(self, domain_name):
        """``mail.default.from`` resolved for an alias domain name, or False."""
        value = self._get_default_from_param()
        if not value:
            return False
        domain = domain_name or self.env["ir.config_parameter"].sudo().get_param("mail.catchall.domain")
        return sender_policy.resolve_default_from(value, domain)

    @api.model
    def _get_default_from_address(self):
        return self._resolve_default_from() or super()._get_default_from_address()

    @api.model
    def _with_alias_domain(self, alias_domain):
        """This model in the context ``mail.mail`` sends with for ``alias_domain``
        (its default From and bounce address), or unchanged without one."""
        if not alias_domain:
            return self
        return self.with_context(
            domain_notifications_email=alias_domain.default_from_email,
            domain_bounce_address=alias_domain.bounce_email,
        )

    @api.model
    def _alias_domain_from_context(self):
        """Alias domain whose default From the caller put in context, if any."""
        context_email = self.env.context.get("domain_notifications_email")
        if not context_email:
            return None
        normalized = email_normalize(context_email)
        facts = self.env["mail.alias.domain"]._routing_domain_facts()
        found = [fact[0] for fact in facts if fact[5] == normalized][:1]
        if not found:
            domain_part = (normalized or "").rpartition("@")[2]
            found = [fact[0] for fact in facts if fact[1] == domain_part][:1]
        return self.env["mail.alias.domain"].sudo().browse(found)

    @api.model
    def _get_notifications_email(self):
        """The effective default From for this context (bare address or False)."""
        alias_domain = self._alias_domain_from_context()
        if alias_domain is not None:
            override = self._resolve_default_from(alias_domain) if alias_domain else self._resolve_default_from()
            return override or email_normalize(self.env.context["domain_notifications_email"])
        return email_normalize(self._get_default_from_address() or "") or False

    # ------------------------------------------------------------------
    # Server selection
    # ------------------------------------------------------------------

    @api.model
    def _get_from_policy(self):
        policy = self.env["ir.config_parameter"].sudo().get_param("mail.default.from_policy")
        return policy if policy in sender_policy.POLICIES else sender_policy.POLICY_REWRITE

    @api.model
    def _explain_sender(self, email_from, mail_servers=None):
        """Decide server and From for a sender and say why.

        This is the one implementation of outgoing server selection: it is
        called by :meth:`_find_mail_server` (real sending) and by the "Check
        sender" wizard. Returns a dict:

        ``server`` (ir.mail_server, possibly empty), ``candidates`` (servers
        of the winning tier in failover order), ``tier`` (1-7, see
        ``TIER_LABELS``), ``rule`` (human text), ``smtp_from`` (the From to
        use: the sender unchanged or the default From), ``rewritten``,
        ``blocked`` and ``reason`` (no-match policy ``block``),
        ``default_from`` and ``warnings``.
        """
        IrMailServer = self.env["ir.mail_server"]
        if mail_servers is None:
            mail_servers = IrMailServer.sudo().search([], order="sequence, id")
        mail_servers = mail_servers.filtered("active")
        sender = email_normalize(email_from) if email_from else False
        default_from = self._get_notifications_email()
        warnings = []
        result = {
            "email_from": email_from,
            "server": IrMailServer,
            "candidates": IrMailServer,
            "tier": False,
            "rule": "",
            "smtp_from": email_from,
            "rewritten": False,
            "blocked": False,
            "reason": "",
            "default_from": default_from,
            "warnings": warnings,
        }
        if not default_from:
            warnings.append(self.env._("No default From is configured: senders no server accepts cannot be rewritten."))
        ranked = [(server, self._parse_from_filter(server.from_filter)) for server in mail_servers]

        def take(tier, matched, smtp_from, what):
            servers = IrMailServer.browse([server.id for server, _found in matched]).with_env(mail_servers.env)
            first_match = matched[0][1]
            result.update(
                server=servers[0],
                candidates=servers,
                tier=tier,
                rule=self.env._(
                    "%(what)s: %(match)s on server '%(server)s'",
                    what=what,
                    match=address_filter.describe_match(first_match),
                    server=servers[0].name,
                ),
                smtp_from=smtp_from,
                rewritten=smtp_from != email_from,
            )
            return result

        # Tiers 1-3: a server allowed to send for the sender itself.
        if sender:
            tier, matched = address_filter.rank_candidates(ranked, sender)
            if matched:
                return take(tier, matched, email_from, self.env._("sender"))
        # Tier 4: a server allowed to send for the default From.
        if default_from:
            _tier, matched = address_filter.rank_candidates(ranked, default_from)
            if matched:
                return take(4, [(s, f) for s, f in matched], default_from, self.env._("default From %s", default_from))
        # Tier 5: servers accepting any sender.
        unfiltered = mail_servers.filtered(lambda server: not server.from_filter)
        if unfiltered:
            result.update(
                server=unfiltered[0],
                candidates=unfiltered,
                tier=5,
                rule=self.env._("server '%s' has no FROM filter", unfiltered[0].name),
                smtp_from=default_from or email_from,
                rewritten=bool(default_from) and default_from != sender,
            )
            return result
        # Tier 6: servers exist, none may send for this sender.
        if mail_servers:
            if self._get_from_policy() == sender_policy.POLICY_BLOCK:
                reason = self.env._(
                    "No outgoing mail server may send for %(sender)s (nor for the default From %(default)s) "
                    "and the no-match policy is 'block': the mail was not sent. Add the sender's domain to a "
                    "server's FROM filter, or configure a default From a server accepts, then retry.",
                    sender=sender or email_from or self.env._("(no sender)"),
                    default=default_from or self.env._("(none)"),
                )
                result.update(
                    tier=6, blocked=True, reason=reason, smtp_from=False, rule=self.env._("no-match policy: block")
                )
                return result
            smtp_from = default_from or email_from
            warnings.append(
                self.env._(
                    "No server's FROM filter allows %(sender)s: falling back on '%(server)s', whose FROM "
                    "filter does not allow it either; the recipient may reject it as spoofed.",
                    sender=smtp_from,
                    server=mail_servers[0].name,
                )
            )
            result.update(
                server=mail_servers[0],
                candidates=mail_servers,
                tier=6,
                rule=self.env._("no-match policy: rewrite, first server by priority '%s'", mail_servers[0].name),
                smtp_from=smtp_from,
                rewritten=smtp_from != email_from,
            )
            return result
        # Tier 7: no server record at all, odoo-bin SMTP settings.
        cli_filter = self._parse_from_filter(self._get_default_from_filter())
        if not cli_filter or (sender and address_filter.match_address(cli_filter, sender)):
            smtp_from = email_from
        elif default_from and address_filter.match_address(cli_filter, default_from):
            smtp_from = default_from
        else:
            smtp_from = default_from or email_from
            warnings.append(self.env._("The odoo-bin FROM filter allows neither the sender nor the default From."))
        result.update(
            tier=7,
            rule=self.env._(
                "no mail server record: odoo-bin SMTP settings, FROM filter %s",
                self._get_default_from_filter() or self.env._("(none)"),
            ),
            smtp_from=smtp_from,
            rewritten=smtp_from != email_from,
        )
        return result

    def _find_mail_server(self, email_from, mail_servers=None):
        decision = self._explain_sender(email_from, mail_servers=mail_servers)
        if decision["blocked"]:
            raise MailDeliveryException(self.env._("Mail Delivery Failed"), decision["reason"])
        if decision["tier"] == 6 and decision["server"]:
            _logger.warning("No mail server matches the from_filter, using %s as fallback", decision["smtp_from"])
        return decision["server"] or None, decision["smtp_from"]

    # ------------------------------------------------------------------
    # Failover
    # ------------------------------------------------------------------

    @api.model
    def _get_failover_servers(self, mail_server, smtp_from):
        """Servers to try after ``mail_server`` for ``smtp_from`` (same tier)."""
        decision = self._explain_sender(smtp_from)
        candidates = decision["candidates"]
        if mail_server not in candidates:
            return self.browse()
        ids = candidates.ids
        return candidates.browse(ids[ids.index(mail_server.id) + 1 :])

    def connect(
        self,
        host=None,
        port=None,
        user=None,
        password=None,
        encryption=None,
        smtp_from=None,
        ssl_certificate=None,
        ssl_private_key=None,
        smtp_debug=False,
        mail_server_id=None,
        allow_archived=False,
    ):
        """Connect, trying the next server of the same tier when one fails.

        Only connection and authentication failures move on to the next
        server: nothing has been sent yet, so a mail is never duplicated.
        The server finally used is stored on the session as
        ``mail_server_id``.
        """
        kwargs = {
            "port": port,
            "user": user,
            "password": password,
            "encryption": encryption,
            "ssl_certificate": ssl_certificate,
            "ssl_private_key": ssl_private_key,
            "smtp_debug": smtp_debug,
            "allow_archived": allow_archived,
        }
        if host:
            return super().connect(host, smtp_from=smtp_from, mail_server_id=mail_server_id, **kwargs)
        if mail_server_id:
            first = self.sudo().browse(mail_server_id)
        else:
            first_found, smtp_from = self.sudo()._find_mail_server(smtp_from)
            first = first_found or self.browse()
        if not first:
            return super().connect(host, smtp_from=smtp_from, mail_server_id=False, **kwargs)
        servers = first | self.sudo()._get_failover_servers(first, smtp_from)
        errors = []
        for server in servers:
            try:
                connection = super().connect(host, smtp_from=smtp_from, mail_server_id=server.id, **kwargs)
            except (OSError, smtplib.SMTPException) as exc:
                errors.append(f"{server.name}: {exc.__class__.__name__}: {exc}")
                _logger.warning("Outgoing server '%s' failed (%s), trying the next one", server.name, exc)
                continue
            if connection is not None:
                connection.mail_server_id = server.id
                if errors:
                    connection.failover_errors = errors
            return connection
        raise MailDeliveryException(
            self.env._("Unable to connect to SMTP Server"),
            self.env._("Every candidate server failed:\n%s", "\n".join(errors)),
        )

    # ------------------------------------------------------------------
    # Header From and envelope sender
    # ------------------------------------------------------------------

    def _prepare_email_message(self, message, smtp_session):
        """Rewrite From for servers that may not send as the author.

        On top of core: a pinned server whose FROM filter refuses the author
        gets the default From instead of a spoofed one, the display name
        follows ``mail.default.from_display``, and the envelope sender is one
        the server accepts (the bounce address whenever possible).
        """
        original_from = message["From"]
        notifications_email = self._get_notifications_email()
        from_filter = getattr(smtp_session, "from_filter", False)
        entries = self._parse_from_filter(from_filter) if from_filter else ()
        author = email_normalize(original_from or "")
        if (
            entries
            and notifications_email
            and author
            and author != notifications_email
            and not address_filter.match_address(entries, author)
            and address_filter.match_address(entries, notifications_email)
        ):
            # pinned server (or rewrite policy) that may not send as the author
            smtp_session.smtp_from = notifications_email
        self_ctx = self.with_context(domain_notifications_email=notifications_email or False)
        smtp_from, smtp_to_list, message = super(IrMailServer, self_ctx)._prepare_email_message(message, smtp_session)
        new_from = email_normalize(message["From"] or "")
        if original_from and new_from and new_from != author:
            display_format = self.env["ir.config_parameter"].sudo().get_param("mail.default.from_display")
            rewritten = sender_policy.rewrite_from(original_from, new_from, display_format, self.env.company.name)
            del message["From"]
            message["From"] = rewritten
        bounce_address = (
            self.env.context.get("domain_bounce_address")
            or message["Return-Path"]
            or self._get_default_bounce_address()
        )
        envelope, _why = sender_policy.choose_envelope_sender(
            entries,
            [email_normalize(bounce_address or "") or False, smtp_from, new_from],
            fallback_local=(email_normalize(bounce_address or "") or "bounce@").split("@")[0],
        )
        envelope = extract_rfc2822_addresses(envelope or "")
        return envelope[-1] if envelope else smtp_from, smtp_to_list, message

    # ------------------------------------------------------------------
    # Explainer: the whole outgoing decision, without sending
    # ------------------------------------------------------------------

    @api.model
    def _explain_sending(self, email_from, company=None, pinned_server=None):
        """Return the full outgoing decision for ``email_from``, sending nothing.

        Runs the same code as real sending: :meth:`_explain_sender` for the
        server and From, then :meth:`_prepare_email_message` on a message
        built like ``mail.mail`` builds it, for the header From, envelope
        sender and Reply-To. Adds a DMARC alignment verdict and warnings.
        ``pinned_server`` simulates a mail pinned to a server (template).
        """
        company = company or self.env.company
        alias_domain = company.sudo().alias_domain_id
        server_model = self.sudo().with_company(company)._with_alias_domain(alias_domain)
        decision = server_model._explain_sender(email_from)
        if pinned_server:
            matches = server_model._match_from_filter(email_from, pinned_server.from_filter)
            decision.update(
                server=pinned_server,
                candidates=pinned_server,
                tier=False,
                rule=self.env._("pinned server '%s'", pinned_server.name),
                smtp_from=email_from,
                rewritten=False,
                blocked=False,
                reason="",
            )
            if not matches:
                decision["warnings"].append(
                    self.env._(
                        "The pinned server '%(server)s' may not send for %(sender)s: the From is rewritten "
                        "to the default From instead of being sent spoofed.",
                        server=pinned_server.name,
                        sender=email_from,
                    )
                )
        decision.update(header_from=False, envelope_from=False, reply_to=False, dmarc_aligned=False, dmarc="")
        if decision["blocked"]:
            return decision
        server = decision["server"]
        from_filter = server.from_filter if server else server_model._get_default_from_filter()
        session = _PreviewSession(from_filter, decision["smtp_from"])
        reply_to = alias_domain.catchall_email if alias_domain else False
        bounce = server_model.env.context.get("domain_bounce_address") or server_model._get_default_bounce_address()
        message = server_model.build_email(
            email_from or decision["smtp_from"],
            ["recipient@example.invalid"],
            "Check sender",
            "",
            reply_to=reply_to,
            headers={"Return-Path": bounce} if bounce else None,
        )
        envelope, _recipients, message = server_model._prepare_email_message(message, session)
        entries = self._parse_from_filter(from_filter) if from_filter else ()
        header_address = email_normalize(message["From"] or "")
        aligned, verdict = sender_policy.dmarc_alignment(header_address, envelope, entries)
        if entries and header_address and not address_filter.match_address(entries, header_address):
            decision["warnings"].append(
                self.env._(
                    "Spoofing: server '%(server)s' is not set up to send for %(address)s; receivers may reject it.",
                    server=server.name or self.env._("odoo-bin SMTP"),
                    address=header_address,
                )
            )
        decision.update(
            header_from=message["From"],
            envelope_from=envelope,
            reply_to=message["Reply-To"] or False,
            dmarc_aligned=aligned,
            dmarc=verdict,
        )
        return decision

    def action_open_sender_check(self):
        """Open the Check sender wizard (pinned to this server from its form)."""
        action = self.env["ir.actions.act_window"]._for_xml_id("mail_routing_policy.mail_sender_check_action")
        if len(self) == 1:
            action["context"] = {"default_pinned_server_id": self.id}
        return action


class _PreviewSession:
    """Stands for an SMTP session in the explainer: carries what connect() sets."""

    def __init__(self, from_filter, smtp_from):
        self.from_filter = from_filter
        self.smtp_from = smtp_from
