# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import logging
import smtplib

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import email_normalize

from odoo.addons.base.models.ir_mail_server import (
    MailDeliveryException,
    extract_rfc2822_addresses,
)

from ..tools import address_filter, routing_params
from ..tools.outgoing import sender_policy

_logger = logging.getLogger(__name__)

FROM_FILTER_HELP = (
    "Comma-separated list of senders this server may send for:\n"
    "- an address: notifications@example.com\n"
    "- a domain (that domain only): example.com\n"
    "- a subdomain wildcard (any subdomain, not the domain itself): *.example.com\n"
    "Matching ignores case; internationalised domains may be typed in either form "
    "(bücher.example or xn--bcher-kva.example). Leave empty to accept any sender."
)


class IrMailServer(models.Model):
    _inherit = "ir.mail_server"

    from_filter = fields.Char(help=FROM_FILTER_HELP)
    # ------------------------------------------------------------------
    # FROM filter grammar
    # ------------------------------------------------------------------

    @api.model
    def _normalize_from_filter_value(self, value, label=None):
        """Return the canonical form of a filter value or raise ValidationError.

        ``label`` is the field as the admin sees it, e.g.
        "Allowed alias domains (mail.catchall.domain.allowed)".
        """
        try:
            return address_filter.normalize_filter(value)
        except address_filter.AddressFilterError as exc:
            raise ValidationError(
                self.env._(
                    "%(field)s: invalid entry '%(entry)s': %(reason)s.",
                    field=label or self.env._("FROM Filtering"),
                    entry=exc.entry,
                    reason=exc.describe(self.env),
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
                vals["from_filter"] = self._normalize_from_filter_value(
                    vals["from_filter"]
                )
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("from_filter"):
            vals = dict(
                vals, from_filter=self._normalize_from_filter_value(vals["from_filter"])
            )
        return super().write(vals)

    @api.model
    def _match_from_filter(self, email_from, from_filter):
        """Core API, with the module grammar (wildcards, IDN, case)."""
        if not from_filter:
            return True
        address = email_normalize(email_from) or email_from
        return bool(
            address_filter.match_address(self._parse_from_filter(from_filter), address)
        )

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
        domain = domain_name or self.env["ir.config_parameter"].sudo().get_param(
            "mail.catchall.domain"
        )
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
            override = (
                self._resolve_default_from(alias_domain)
                if alias_domain
                else self._resolve_default_from()
            )
            return override or email_normalize(
                self.env.context["domain_notifications_email"]
            )
        return email_normalize(self._get_default_from_address() or "") or False

    # ------------------------------------------------------------------
    # Server selection
    # ------------------------------------------------------------------

    @api.model
    def _get_from_policy(self):
        return routing_params.read(
            self.env["ir.config_parameter"].sudo().get_param, "mail.default.from_policy"
        )

    @api.model
    def _sender_decision(self, email_from, mail_servers=None, pinned_server=None):
        """The outgoing decision for ``email_from``: a ``SenderDecision``
        (tools/outgoing/sender_policy.py: codes and data, worded by
        ``mail.routing.explanation``).

        This is the one implementation of outgoing server selection: real
        sending (:meth:`_find_mail_server`, :meth:`connect` and its
        failover), the block policy in ``mail.mail`` and Check sender call
        it. With ``pinned_server`` (a mail pinned to a server by a template
        or its caller) no server is chosen: the server's FROM filter decides
        the From through the same rule :meth:`_prepare_email_message`
        applies.
        """
        if mail_servers is None:
            mail_servers = self.sudo().search([], order="sequence, id")
        config_filter = self._get_default_from_filter() or ""
        return sender_policy.decide_sender(
            [self._sender_facts(server) for server in mail_servers.filtered("active")],
            email_from,
            email_normalize(email_from) if email_from else False,
            self._get_notifications_email(),
            self._get_from_policy(),
            config_filter=config_filter,
            config_entries=self._parse_from_filter(config_filter),
            pinned=self._sender_facts(pinned_server) if pinned_server else None,
        )

    @api.model
    def _sender_facts(self, server):
        return sender_policy.ServerFacts(
            server.id,
            server.name or "",
            server.from_filter or "",
            self._parse_from_filter(server.from_filter),
        )

    @api.model
    def _sender_decision_servers(self, decision):
        """The decision's chosen server and its candidates, as records."""
        chosen = self.browse(decision.server.id if decision.server else [])
        return chosen, self.browse(decision.candidate_ids)

    @api.model
    def _sending_decision(self, email_from, mail_servers=None):
        """``_sender_decision`` for a mail about to be sent: a blocked one
        raises (kept in the queue with the reason), a fallback is logged."""
        decision = self._sender_decision(email_from, mail_servers=mail_servers)
        if decision.blocked:
            raise MailDeliveryException(
                self.env._("Mail Delivery Failed"),
                self.env["mail.routing.explanation"]._sender_block_text(decision),
            )
        if decision.tier == sender_policy.TIER_NO_MATCH and decision.server:
            _logger.warning(
                "No mail server matches the from_filter, using %s as fallback",
                decision.smtp_from,
            )
        return decision

    def _find_mail_server(self, email_from, mail_servers=None):
        decision = self._sending_decision(email_from, mail_servers=mail_servers)
        server, _candidates = self._sender_decision_servers(decision)
        return server.with_env(self.env) or None, decision.smtp_from

    # ------------------------------------------------------------------
    # Failover
    # ------------------------------------------------------------------

    @api.model
    def _get_failover_servers(self, mail_server, smtp_from, decision=None):
        """Servers to try after ``mail_server`` for ``smtp_from`` (same tier),
        from ``decision`` when the caller has it."""
        decision = decision or self._sender_decision(smtp_from)
        ids = list(decision.candidate_ids)
        if mail_server.id not in ids:
            return self.browse()
        return self.browse(ids[ids.index(mail_server.id) + 1 :])

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
            return super().connect(
                host, smtp_from=smtp_from, mail_server_id=mail_server_id, **kwargs
            )
        # one decision per connection: the server and its failover candidates
        if mail_server_id:
            first = self.sudo().browse(mail_server_id)
            decision = self.sudo()._sender_decision(smtp_from)
        else:
            decision = self.sudo()._sending_decision(smtp_from)
            first, _candidates = self.sudo()._sender_decision_servers(decision)
            smtp_from = decision.smtp_from
        if not first:
            return super().connect(
                host, smtp_from=smtp_from, mail_server_id=False, **kwargs
            )
        servers = first | self.sudo()._get_failover_servers(
            first, smtp_from, decision=decision
        )
        return self._connect_first_working(servers, host, smtp_from, kwargs)

    def _connect_first_working(self, servers, host, smtp_from, kwargs):
        """The first of ``servers`` that connects; each failure logged and kept
        on the connection (``failover_errors``), all failed: an exception."""
        errors = []
        for server in servers:
            try:
                connection = super().connect(
                    host, smtp_from=smtp_from, mail_server_id=server.id, **kwargs
                )
            except (OSError, smtplib.SMTPException) as exc:
                errors.append(f"{server.name}: {exc.__class__.__name__}: {exc}")
                _logger.warning(
                    "Outgoing server '%s' failed (%s), trying the next one",
                    server.name,
                    exc,
                )
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

    @api.model
    def _decide_from_and_envelope(self, original_from, from_filter, bounce_address):
        """The From and envelope sender a server with ``from_filter`` uses.

        One rule for every mail, pinned or not (``sender_policy.server_from``
        and ``sender_policy.choose_envelope_sender``); used by
        :meth:`_prepare_email_message` and the explainer. Returns a dict with
        ``from_code``, ``from_address`` (bare, False when blocked),
        ``envelope`` and ``envelope_code``.
        """
        entries = self._parse_from_filter(from_filter) if from_filter else ()
        author = email_normalize(original_from or "") or False
        default_from = self._get_notifications_email()
        from_code, from_address = sender_policy.server_from(
            entries, author, default_from, self._get_from_policy()
        )
        bounce = email_normalize(bounce_address or "") or False
        envelope, envelope_code = sender_policy.choose_envelope_sender(
            entries,
            bounce,
            author,
            default_from,
            bounce_local=(bounce or "bounce@").split("@")[0],
        )
        return {
            "entries": entries,
            "default_from": default_from,
            "from_code": from_code,
            "from_address": from_address,
            "envelope": envelope,
            "envelope_code": envelope_code,
        }

    def _prepare_email_message(self, message, smtp_session):
        """From and envelope sender the server accepts, never spoofed.

        On top of core: whatever server sends the mail (chosen or pinned),
        an author its FROM filter refuses is replaced by the default From
        (``"Ann" <notifications@...>``, display name per
        ``mail.default.from_display``); with the ``block`` policy a server
        accepting neither does not send. The envelope sender is one the
        server accepts, the bounce address whenever possible, never another
        person's address; the ``Return-Path`` header says the same.
        """
        original_from = message["From"]
        from_filter = getattr(smtp_session, "from_filter", False)
        bounce_address = (
            self.env.context.get("domain_bounce_address")
            or message["Return-Path"]
            or self._get_default_bounce_address()
        )
        decision = self._decide_from_and_envelope(
            original_from, from_filter, bounce_address
        )
        if decision["from_code"] == sender_policy.FROM_BLOCKED:
            raise MailDeliveryException(
                self.env._("Mail Delivery Failed"),
                self.env._(
                    "The outgoing server may send neither for %(sender)s nor for the "
                    "default From, and the "
                    "no-match policy is 'Do not send'.",
                    sender=original_from,
                ),
            )
        smtp_from = getattr(smtp_session, "smtp_from", False)
        if decision["from_code"] in (
            sender_policy.FROM_DEFAULT,
            sender_policy.FROM_DEFAULT_REFUSED,
        ):
            smtp_from = decision["from_address"]
        # the default From was read once, by the decision
        self_ctx = self.with_context(
            domain_notifications_email=decision["default_from"] or False
        )
        # core reads only these two attributes of the session
        session = _PreviewSession(from_filter, smtp_from)
        core_envelope, smtp_to_list, message = super(
            IrMailServer, self_ctx
        )._prepare_email_message(message, session)
        self._keep_author_name(message, original_from)
        envelope = extract_rfc2822_addresses(decision["envelope"] or "")
        envelope = envelope[-1] if envelope else core_envelope
        del message["Return-Path"]
        message["Return-Path"] = f"<{envelope}>"
        return envelope, smtp_to_list, message

    def _keep_author_name(self, message, original_from):
        """A From core rewrote keeps the author's name (or the
        ``mail.default.from_display`` format)."""
        new_from = email_normalize(message["From"] or "")
        author = email_normalize(original_from or "")
        if original_from and new_from and new_from != author:
            display_format = (
                self.env["ir.config_parameter"]
                .sudo()
                .get_param("mail.default.from_display")
            )
            rewritten = sender_policy.rewrite_from(
                original_from, new_from, display_format, self.env.company.name
            )
            del message["From"]
            message["From"] = rewritten

    # ------------------------------------------------------------------
    # Explainer: the whole outgoing decision, without sending
    # ------------------------------------------------------------------

    @api.model
    def _explain_sending(self, email_from, company=None, pinned_server=None):
        """Return the full outgoing decision for ``email_from``, sending nothing.

        Runs the code of real sending: :meth:`_sender_decision` for the
        server (as ``mail.mail`` does, or the pinned server), then
        :meth:`_prepare_email_message` on a message built like ``mail.mail``
        builds it, for the header From, envelope sender and Reply-To. Every
        verdict (rewritten, warnings, DMARC) is read from that result.
        ``invalid`` is set when ``email_from`` is not an email address: then
        nothing is decided.
        """
        decision = {
            "invalid": False,
            "header_from": False,
            "envelope_from": False,
            "reply_to": False,
            "dmarc_aligned": False,
            "dmarc": "",
        }
        if not email_normalize(email_from or ""):
            return self._explain_invalid(decision, email_from)
        company = company or self.env.company
        alias_domain = company.sudo().alias_domain_id
        server_model = (
            self.sudo().with_company(company)._with_alias_domain(alias_domain)
        )
        chosen = server_model._sender_decision(email_from, pinned_server=pinned_server)
        server, candidates = server_model._sender_decision_servers(chosen)
        Explanation = self.env["mail.routing.explanation"]
        decision.update(
            decision=chosen,
            server=server,
            candidates=candidates,
            tier=chosen.tier,
            rule=Explanation._sender_rule_text(chosen),
            blocked=chosen.blocked,
            reason=Explanation._sender_block_text(chosen) if chosen.blocked else "",
            rewritten=chosen.rewritten,
            smtp_from=chosen.smtp_from,
            warnings=Explanation._sender_warning_texts(chosen),
        )
        if not decision["blocked"]:
            server_model._explain_headers(
                decision, server, email_from, pinned_server, alias_domain
            )
        return decision

    @api.model
    def _explain_invalid(self, decision, email_from):
        """Nothing is decided for what is not an email address: say so."""
        decision.update(
            invalid=True,
            server=self.browse(),
            candidates=self.browse(),
            tier=False,
            rule="",
            blocked=False,
            reason="",
            rewritten=False,
            warnings=[
                self.env._(
                    "'%s' is not an email address: type an address such as "
                    "ann@example.com.",
                    email_from,
                )
            ],
        )
        return decision

    @api.model
    def _explain_headers(
        self, decision, server, email_from, pinned_server, alias_domain
    ):
        """Complete ``decision`` with what the mail would carry: a message built
        as ``mail.mail`` builds it, prepared by :meth:`_prepare_email_message`
        for ``server`` (header From, envelope sender, Reply-To, DMARC)."""
        _ = self.env._
        from_filter = server.from_filter if server else self._get_default_from_filter()
        # what mail.mail hands to the session: the author for a pinned mail,
        # else the From chosen with the server
        session = _PreviewSession(
            from_filter, email_from if pinned_server else decision["smtp_from"]
        )
        reply_to = alias_domain.catchall_email if alias_domain else False
        bounce = (
            self.env.context.get("domain_bounce_address")
            or self._get_default_bounce_address()
        )
        message = self.build_email(
            email_from,
            ["recipient@example.invalid"],
            "Check sender",
            "",
            reply_to=reply_to,
            headers={"Return-Path": bounce} if bounce else None,
        )
        envelope, _recipients, message = self._prepare_email_message(message, session)
        sent = self._decide_from_and_envelope(email_from, from_filter, bounce)
        header_address = email_normalize(message["From"] or "")
        server_name = server.name or _("SMTP settings of the Odoo configuration file")
        if sent["envelope_code"] == sender_policy.ENVELOPE_UNALLOWED:
            decision["warnings"].append(
                _(
                    "No address the FROM filter of '%(server)s' allows could be found "
                    "for the envelope sender: "
                    "%(envelope)s is used and the server may refuse it.",
                    server=server_name,
                    envelope=envelope,
                )
            )
        aligned, code, domain = sender_policy.dmarc_alignment(
            header_address, envelope, sent["entries"]
        )
        decision.update(
            rewritten=header_address != email_normalize(email_from),
            header_from=message["From"],
            envelope_from=envelope,
            reply_to=message["Reply-To"] or False,
            dmarc_aligned=aligned,
            dmarc=self._describe_dmarc(code, domain, server_name, envelope),
        )

    @api.model
    def _describe_dmarc(self, code, domain, server_name, envelope):
        """The DMARC verdict in plain words, saying what was checked."""
        _ = self.env._
        texts = {
            sender_policy.DMARC_BOTH: _(
                "Aligned for %(domain)s: the FROM filter of '%(server)s' lists both "
                "the From and the envelope "
                "sender %(envelope)s (SPF and DKIM can pass).",
                domain=domain,
                server=server_name,
                envelope=envelope,
            ),
            sender_policy.DMARC_SPF: _(
                "Aligned for %(domain)s through SPF only: the FROM filter of "
                "'%(server)s' lists the envelope "
                "sender %(envelope)s, not the From.",
                domain=domain,
                server=server_name,
                envelope=envelope,
            ),
            sender_policy.DMARC_DKIM: _(
                "Aligned for %(domain)s through DKIM only: the FROM filter of "
                "'%(server)s' lists the From; the "
                "envelope sender %(envelope)s belongs to another domain.",
                domain=domain,
                server=server_name,
                envelope=envelope,
            ),
            sender_policy.DMARC_NOT_DECLARED: _(
                "Unknown for %(domain)s: '%(server)s' has no FROM filter, so nothing "
                "here says it is set up "
                "to send for %(domain)s.",
                domain=domain,
                server=server_name,
            ),
            sender_policy.DMARC_FAILS: _(
                "Not aligned for %(domain)s: the FROM filter of '%(server)s' lists "
                "neither the From nor the "
                "envelope sender %(envelope)s; receivers applying DMARC may reject "
                "the mail.",
                domain=domain,
                server=server_name,
                envelope=envelope,
            ),
            sender_policy.DMARC_NO_FROM: _("The From header has no valid address."),
        }
        checked = _(
            "(Checked against the FROM filters declared in Odoo; DNS records were not "
            "read.)"
        )
        return f"{texts[code]} {checked}"

    def action_open_sender_check(self):
        """Open the Check sender wizard (pinned to this server from its form)."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "mail_routing_policy.mail_sender_check_action"
        )
        if len(self) == 1:
            action["context"] = {"default_pinned_server_id": self.id}
        return action


class _PreviewSession:
    """Stands for an SMTP session in the explainer: carries what connect() sets."""

    def __init__(self, from_filter, smtp_from):
        self.from_filter = from_filter
        self.smtp_from = smtp_from
