# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import re

from markupsafe import Markup, escape

from odoo import api, models
from odoo.tools.misc import formatLang

from ..tools import address_filter
from ..tools.incoming import auth_policy
from ..tools.incoming.auth_reasons import AUTH_TEXTS
from ..tools.incoming.routing_reasons import LOOP_COUNT_TEXTS
from ..tools.mailgate.smtp_reasons import (
    RCPT_REFUSALS_BY_REASON,
    RCPT_SENDER_IS_RECIPIENT,
    SMTP_LIMITS,
    SMTP_SESSION_REASONS,
)
from ..tools.outgoing import sender_policy
from ..tools.reason_texts import log_reason, word


class MailRoutingExplanation(models.AbstractModel):
    """Words the incoming routing decisions for an admin, in their language.

    ``mail.thread`` records what it decides as codes and data (a trace of
    ``(code, params)`` steps, and the reason and data of a refusal); the
    "Test incoming routing" explainer and the gateway log both word them
    here, so that they say the same thing.
    """

    _name = "mail.routing.explanation"
    _description = "Wording of incoming routing decisions"

    # ------------------------------------------------------------------
    # names of things
    # ------------------------------------------------------------------

    @api.model
    def _model_label(self, model):
        """The model as users know it ("Contact"), or its technical name."""
        if not model:
            return ""
        ir_model = self.env["ir.model"].sudo()._get(model)
        return ir_model.name if ir_model else model

    @api.model
    def _alias_label(self, alias_id):
        alias = self.env["mail.alias"].sudo().browse(alias_id or []).exists()
        return alias.display_name if alias else self.env._("(deleted alias)")

    @api.model
    def _record_label(self, model, res_id):
        if not model or not res_id or model not in self.env:
            return f"{model},{res_id}"
        record = self.env[model].sudo().browse(res_id).exists()
        name = record.display_name if record else self.env._("(deleted record)")
        return self.env._(
            "%(model)s “%(name)s”", model=self._model_label(model), name=name
        )

    @api.model
    def _link(self, model, res_id, label):
        """An HTML link to a record (Odoo 18 URLs: /odoo/<model>/<id>)."""
        if not model or not res_id:
            return escape(label)
        return Markup('<a href="/odoo/%s/%s">%s</a>') % (model, int(res_id), label)

    @api.model
    def _formatter(self, html):
        """``fmt(template, *args)``: fill a translated template; in HTML every
        value is escaped (mail headers are untrusted) except links."""

        def fmt(template, *args, **kwargs):
            values = args or kwargs
            if html:
                return escape(template) % values if values else escape(template)
            return template % values if values else template

        return fmt

    # ------------------------------------------------------------------
    # refusals (explainer verdict and gateway log details)
    # ------------------------------------------------------------------

    @api.model
    def _refusal_text(self, reason, params, html=False):
        """Why a mail is refused, in one sentence (no leading verdict): the
        reason's entry in its family's table (tools/<room>/*_reasons.py)."""
        fmt = self._formatter(html)
        params = params or {}
        entry = log_reason(reason)
        if entry is None:
            text = fmt("%s", reason)
        elif entry.compose:
            text = getattr(self, entry.compose)(reason, params, html=html)
        else:
            text = self._reason_template(entry, params, html=html)
        if params.get("answered"):
            text = fmt(self.env._("%s; the sender was sent one notice"), text)
        return text

    @api.model
    def _reason_template(self, entry, params, html=False):
        """A ``ReasonText``'s template in the reader's language, filled with
        the values its ``args`` name (``_reason_value``)."""
        fmt = self._formatter(html)
        template = self.env._(entry.text)
        values = [self._reason_value(name, params, html) for name in entry.args]
        if "%(" in template:
            return fmt(template, **dict(zip(entry.args, values, strict=True)))
        return fmt(template, *values)

    @api.model
    def _reason_value(self, name, params, html=False):
        """The value a reason text shows for ``name``: the refusal's datum,
        or a label made of it (an alias's name and link, a selection's
        label, a number in the reader's format)."""
        _ = self.env._
        if name == "domains":
            return ", ".join(params.get("domains") or [])
        if name == "recipients":
            return params.get("recipients") or _("no recipient")
        if name == "alias":
            alias_id = params.get("alias_id")
            alias = self._alias_label(alias_id) if alias_id else ""
            return (
                self._link("mail.alias", alias_id, alias)
                if html and alias_id
                else alias
            )
        if name == "contact":
            return self._contact_label(params.get("contact"))
        if name == "result":
            return self._auth_result_label(params.get("result"))
        if name == "domain":
            return params.get("from_domain") or "?"
        if name == "problem":
            return self._author_problem_label(params.get("from_problem"))
        if name == "value":
            value = params.get("value")
            if isinstance(value, int | float):
                return self._number(value)
            return value or "?"
        return params.get(name)

    @api.model
    def _routing_error_text(self, error):
        """An error of core's routing in the reader's language: core raises
        two of them in English only (no route; a model that takes no mail);
        the others are core's own translated texts."""
        text = str(error)
        if text.startswith("No possible route found for incoming message"):
            return self.env._(
                "no alias, catchall address or existing thread matches its "
                "recipients; create an alias for one of them"
            )
        undeliverable = re.match(
            r"Undeliverable mail with Message-Id .*, model (\S+) does not accept "
            r"incoming emails",
            text,
        )
        if undeliverable:
            return self.env._(
                "%s does not accept incoming mail",
                self._model_label(undeliverable.group(1)),
            )
        return text

    @api.model
    def _no_route_text(self, reason, params, html=False):
        """No route: and, for an alias of a recipient's name on another
        domain, why it did not match."""
        _ = self.env._
        fmt = self._formatter(html)
        text = fmt(
            _(
                "no alias, catchall address or existing thread matches its "
                "recipients (%s)"
            ),
            params.get("recipients") or _("no recipient"),
        )
        for alias_id in params.get("other_domain_alias_ids") or []:
            text = fmt("%s; %s", text, self._other_domain_alias_text(alias_id, html))
        return text

    @api.model
    def _other_domain_alias_text(self, alias_id, html=False):
        """Why an alias of the same name did not match: it is on another
        domain, and core matches it there only with the alias's option
        *Local-part based incoming detection* (named as the alias form
        shows it)."""
        _ = self.env._
        fmt = self._formatter(html)
        label = self._alias_label(alias_id)
        option = self.env["mail.alias"]._fields["alias_incoming_local"]
        return fmt(
            _(
                "alias %(alias)s has this name on another domain: it matches "
                "mail to other domains only when its option “%(option)s” is "
                "ticked"
            ),
            alias=self._link("mail.alias", alias_id, label) if html else label,
            option=option._description_string(self.env),
        )

    @api.model
    def _outcome_text(self, params, html=False, dry_run=False):
        """What happened to a message a rule stopped, as a sentence: held in
        quarantine (a verdict of the authentication policy outside the SMTP
        dialogue: accepted, kept, and processed again by the admin) or
        refused."""
        _ = self.env._
        fmt = self._formatter(html)
        text = self._refusal_text(params.get("reason"), params, html=html)
        if auth_policy.is_quarantine(
            params.get("reason"), smtp=bool(params.get("smtp"))
        ):
            return fmt(
                _("Would be quarantined: %s.") if dry_run else _("Quarantined: %s."),
                text,
            )
        return fmt(_("Would be refused: %s.") if dry_run else _("Refused: %s."), text)

    @api.model
    def _auth_result_label(self, result):
        labels = dict(
            self.env["mail.gateway.log"]
            ._fields["auth_result"]
            ._description_selection(self.env)
        )
        return labels.get(result, result or "")

    @api.model
    def _author_problem_label(self, problem):
        _ = self.env._
        return {
            "no_from": _("no From field"),
            "several_from_fields": _("several From fields"),
            "several_addresses": _("several addresses in one From field"),
            "no_address": _("no address in the From field"),
        }.get(problem, problem or "?")

    @api.model
    def _auth_refusal_text(self, reason, params, html=False):
        """An authentication refusal (tools/incoming/auth_policy.py), in one clause
        (tools/incoming/auth_reasons.AUTH_TEXTS)."""
        fmt = self._formatter(html)
        entry = AUTH_TEXTS.get((reason, params.get("protected"))) or AUTH_TEXTS.get(
            reason, AUTH_TEXTS[auth_policy.REASON_DMARC_QUARANTINE]
        )
        text = self._reason_template(entry, params, html=html)
        if params.get("smtp"):
            text = fmt(
                self.env._(
                    "%s; the mailgate refused it at the end of the SMTP dialogue (550)"
                ),
                text,
            )
        return text

    @api.model
    def _auth_step_text(self, params, html=False):
        """The authentication step of the explainer's trace."""
        _ = self.env._
        fmt = self._formatter(html)
        if params.get("result") == "unverified":
            text = fmt(
                _("No authentication server you trust checked the sender: unverified.")
            )
        else:
            text = fmt(
                _("%(server)s checked the sender: DMARC %(result)s for %(domain)s."),
                server=params.get("authserv_id") or "?",
                result=self._auth_result_label(params.get("result")),
                domain=params.get("from_domain") or "?",
            )
            if params.get("arc_vouched"):
                text = fmt(
                    "%s %s",
                    text,
                    _("A sealer you trust vouches for this forwarded message (ARC)."),
                )
        if params.get("protected") == "internal_user":
            text = fmt(
                "%s %s",
                text,
                _("The From belongs to one of your users: it needs proof."),
            )
        elif params.get("protected"):
            text = fmt(
                "%s %s",
                text,
                _("The From is in one of your protected domains: it needs proof."),
            )
        if (
            params.get("protected")
            and params.get("result") == "unverified"
            and params.get("action") == auth_policy.ACCEPT
        ):
            text = fmt("%s %s", text, self._unverified_accepted_text())
        return text

    @api.model
    def _unverified_accepted_text(self):
        """Why an unverified From that needs proof is routed all the same:
        the setting, its value and where to change it, as the screen names
        them."""
        Settings = self.env["res.config.settings"]
        field = Settings._fields["routing_auth_unverified_action"]
        values = dict(field._description_selection(self.env))
        return self.env._(
            "It is routed all the same: “%(setting)s” is set to “%(value)s” "
            "(Settings ▸ Mail routing ▸ More settings ▸ Sender authentication; "
            "“%(other)s” holds such mail in the gateway log).",
            setting=field._description_string(self.env),
            value=values.get("accept", "accept"),
            other=values.get("quarantine", "quarantine"),
        )

    @api.model
    def _and(self, html):
        word = self.env._(" and ")
        return escape(word) if html else word

    @api.model
    def _contact_label(self, contact):
        labels = dict(
            self.env["mail.alias"]
            ._fields["alias_contact"]
            ._description_selection(self.env)
        )
        return labels.get(contact, contact or "")

    @api.model
    def _limit_text(self, reason, params, html=False):
        """A loop-protection count: "3 records from this sender in the last
        30 minutes through alias sales@... (limit 3)" (tools/incoming/routing_reasons.
        LOOP_COUNT_TEXTS); ``reason`` (rate_limit, reply_limit, or None for
        the explainer's step) does not change the words."""
        fmt = self._formatter(html)
        values = {
            "count": params.get("count"),
            "minutes": params.get("minutes"),
            "threshold": params.get("threshold"),
        }
        if params.get("kind") == "reply":
            scope, model, res_id = "reply", params.get("model"), params.get("res_id")
            label = self._record_label(model, res_id)
            values["target"] = self._link(model, res_id, label) if html else label
        elif params.get("alias_id"):
            scope, alias_id = "alias", params["alias_id"]
            label = self._alias_label(alias_id)
            values["target"] = (
                self._link("mail.alias", alias_id, label) if html else label
            )
        else:
            scope = "model"
            values["target"] = self._model_label(params.get("model"))
        number = "one" if values["count"] == 1 else "many"
        return fmt(self.env._(LOOP_COUNT_TEXTS[(scope, number)]), **values)

    # ------------------------------------------------------------------
    # the explainer's trace
    # ------------------------------------------------------------------

    @api.model
    def _route_text(self, route, html=False):
        """Where a route leads: a new record through an alias, or a thread."""
        _ = self.env._
        fmt = self._formatter(html)
        model, res_id, alias_id = (
            route.get("model"),
            route.get("res_id"),
            route.get("alias_id"),
        )
        if res_id:
            label = self._record_label(model, res_id)
            return fmt(
                _("post in %s"), self._link(model, res_id, label) if html else label
            )
        if alias_id:
            label = self._alias_label(alias_id)
            return fmt(
                _("create a new %(model)s through alias %(alias)s"),
                model=self._model_label(model),
                alias=self._link("mail.alias", alias_id, label) if html else label,
            )
        return fmt(
            _("create a new %s (the fallback model: no alias matches)"),
            self._model_label(model),
        )

    @api.model
    def _step_text(self, code, params, html=False):
        """One step of the decision, as a sentence."""
        # longer than 60 lines because it is one table: a step code and its
        # words each (a lambda, so that only the step's own text is worded)
        _ = self.env._
        fmt = self._formatter(html)
        address = params.get("address")
        texts = {
            "sender": lambda: (
                fmt(_("Sender: %s."), address)
                if address
                else fmt(_("The mail has no sender."))
            ),
            "authentication": lambda: self._auth_step_text(params, html=html),
            "recipients": lambda: fmt(
                _("Recipients: %s."), params.get("addresses") or _("none")
            ),
            "automatic": lambda: self._automatic_step_text(params, html=html),
            "bounce": lambda: fmt(
                _("It is a delivery status notification: handled as a bounce of %s."),
                address or "?",
            ),
            "bounce_handled": lambda: fmt(
                _("The bounce would be counted on %s."), address or "?"
            ),
            "reply": lambda: self._reply_step_text(params, html=html),
            "recipient_removed": lambda: (
                fmt(_("%s is the sender, not a recipient: ignored."), address)
                if params.get("why") == "sender"
                else fmt(
                    _("%s is ignored: its domain is not an allowed alias domain."),
                    address,
                )
            ),
            "route": lambda: fmt(_("Route: %s."), self._route_text(params, html=html)),
            "trusted": lambda: fmt(
                _(
                    "%s is on the Mail Gateway Allowed list: the loop protection does "
                    "not limit it."
                ),
                params.get("sender"),
            ),
            "replies_unlimited": lambda: fmt(
                _("Replies to existing threads are not limited.")
            ),
            "loop_count": lambda: fmt(
                _("Loop protection: %s."), self._limit_text(None, params, html=html)
            ),
            "answer": lambda: fmt(
                _("An answer would be sent to %s (not now: this is a test)."),
                params.get("to"),
            ),
            "refused": lambda: self._outcome_text(params, html=html),
            "deliver": lambda: fmt(
                _("It would %s."),
                self._and(html).join(
                    self._route_text(route, html=html)
                    for route in params.get("routes") or []
                ),
            ),
            "duplicate": lambda: fmt(
                _(
                    "A mail with this Message-ID was already processed: it would be "
                    "ignored."
                )
            ),
            "error": lambda: fmt(
                _("Processing would fail with this error: %s"), params.get("text")
            ),
        }
        text = texts.get(code)
        return text() if text else code

    @api.model
    def _automatic_step_text(self, params, html=False):
        _ = self.env._
        fmt = self._formatter(html)
        kind, evidence = params.get("kind"), params.get("evidence")
        if kind == "auto_reply":
            return fmt(_("It is an automatic reply (%s)."), evidence)
        if kind == "read_receipt":
            return fmt(_("It is a read receipt (%s)."), evidence)
        if kind:
            return fmt(
                _("It was sent by a machine (%s): it never gets an automatic answer."),
                evidence,
            )
        return fmt(_("It was written by a person: no header marks it as automatic."))

    @api.model
    def _reply_step_text(self, params, html=False):
        _ = self.env._
        fmt = self._formatter(html)
        if not params.get("res_id"):
            return fmt(_("It answers no message of this database."))
        label = self._record_label(params.get("model"), params["res_id"])
        target = (
            self._link(params.get("model"), params["res_id"], label) if html else label
        )
        return fmt(_("It answers a message of %s."), target)

    @api.model
    def _verdict_text(self, trace, html=False):
        """The verdict of a dry run, first and in plain words."""
        _ = self.env._
        fmt = self._formatter(html)
        for code, params in reversed(trace):
            if code == "refused":
                return self._outcome_text(params, html=html, dry_run=True)
            if code == "error":
                return fmt(_("Would fail with this error: %s"), params.get("text"))
            if code == "duplicate":
                return fmt(
                    _(
                        "Would be ignored: a mail with this Message-ID was already "
                        "processed."
                    )
                )
        for code, params in trace:
            if code == "deliver":
                routes = [
                    self._route_text(route, html=html)
                    for route in params.get("routes") or []
                ]
                return fmt(_("Would %s."), self._and(html).join(routes))
        for code, params in trace:
            if code == "bounce":
                return fmt(
                    _("Would be handled as a bounce of %s."),
                    params.get("address") or "?",
                )
        return fmt(_("Would do nothing with it."))

    @api.model
    def _describe_trace(self, trace):
        """``(verdict, steps)`` as HTML: the verdict sentence and a list of
        the steps, each a sentence, with links to aliases and records."""
        verdict = Markup("<p><strong>%s</strong></p>") % self._verdict_text(
            trace, html=True
        )
        items = Markup("").join(
            Markup("<li>%s</li>") % self._step_text(code, params, html=True)
            for code, params in trace
            if code != "deliver"
        )
        return verdict, Markup("<ol>%s</ol>") % items

    # ------------------------------------------------------------------
    # the mailgate's limits per client (cli/client_limits.py)
    # ------------------------------------------------------------------

    @api.model
    def _number(self, value):
        """A limit's value in the reader's language (2.5 s, 2,5 s)."""
        decimals = len(f"{value:g}".partition(".")[2])
        return formatLang(self.env, value, digits=decimals, grouping=True)

    @api.model
    def _rcpt_refusal_text(self, reason, recipient, details):
        """What the mailgate refused during the SMTP dialogue (a log reason of
        ``smtp_reasons.RCPT_REFUSALS`` or a session limit), for the log."""
        if reason in SMTP_SESSION_REASONS:
            return self.env._(
                "Refused during the SMTP dialogue: %s.",
                self._smtp_limit_text(reason, details),
            )
        refusal = RCPT_REFUSALS_BY_REASON[reason]
        if refusal.code == "unknown_recipient" and details.get("why") == "sender":
            return word(RCPT_SENDER_IS_RECIPIENT, env=self.env)
        params = dict(details, recipient=recipient)
        params["domain"] = details.get("domain") or recipient
        return word(refusal.text, params, self.env)

    @api.model
    def _rcpt_reason_text(self, reason, params, html=False):
        """A refusal at RCPT TO as a reason's composer (its sentence)."""
        text = self._rcpt_refusal_text(reason, params.get("recipient"), params)
        return escape(text) if html else text

    @api.model
    def _smtp_limit_text(self, reason, params, html=False):
        """A session the mailgate ended by one of its limits, in one clause
        (``params``: which ``limit``, its ``value``; tools/mailgate/smtp_reasons.
        SMTP_LIMITS)."""
        limit = params.get("limit")
        entry = SMTP_LIMITS.get(limit)
        if entry is None and reason == "pregreet":
            entry = SMTP_LIMITS["pregreet_wait"]
        if entry is None:
            return self._formatter(html)("%s: %s", reason, limit or "")
        return self._reason_template(entry, params, html=html)

    # ------------------------------------------------------------------
    # outgoing: the words of ir.mail_server._sender_decision
    # (tools/outgoing/sender_policy.py gives codes and data)
    # ------------------------------------------------------------------

    @api.model
    def _sender_tier_text(self, tier):
        """Why a server of this tier was chosen, as a sentence an admin reads
        without the README's tier list."""
        _ = self.env._
        texts = {
            1: _("A server is set up for the sender's own address (rule 1 of 7)."),
            2: _("A server is set up for the sender's domain (rule 2 of 7)."),
            3: _(
                "A server is set up for a wildcard covering the sender's domain (rule "
                "3 of 7)."
            ),
            4: _(
                "No server is set up for the sender: the mail goes out with the "
                "default From, for which a server "
                "is set up (rule 4 of 7)."
            ),
            5: _(
                "No server is set up for the sender nor for the default From: a server "
                "without FROM filter takes "
                "any sender (rule 5 of 7)."
            ),
            6: _(
                "No server may send for the sender nor for the default From: the "
                "no-match policy decides (rule 6 of 7)."
            ),
            7: _(
                "No outgoing mail server exists: the SMTP settings of the Odoo "
                "configuration file are used (rule 7 of 7)."
            ),
            sender_policy.TIER_PINNED: _(
                "The mail names its server (its template or the app that sent it "
                "does): no server is chosen, the server's FROM filter only decides "
                "the From."
            ),
        }
        return texts.get(tier, "")

    @api.model
    def _sender_match_text(self, match):
        """A FROM filter match in plain words, e.g. "the domain example.com"."""
        _ = self.env._
        if match is None:
            return _("nothing")
        entry = address_filter.format_entry(match.entry)
        if match.tier == address_filter.TIER_ADDRESS:
            return _("the address %s", entry)
        if match.tier == address_filter.TIER_DOMAIN:
            return _("the domain %s", entry)
        return _("the subdomain wildcard %s", entry)

    @api.model
    def _sender_rule_text(self, decision):
        """Why this server (``SenderDecision.rule``), in one clause."""
        _ = self.env._
        server = decision.server.name if decision.server else ""
        if decision.rule == sender_policy.RULE_MATCH:
            return _(
                "server '%(server)s' may send for %(match)s",
                server=server,
                match=self._sender_match_text(decision.match),
            )
        if decision.rule == sender_policy.RULE_PINNED_MATCH:
            return _(
                "the mail is pinned to server '%(server)s', whose FROM filter allows "
                "%(match)s",
                server=server,
                match=self._sender_match_text(decision.match),
            )
        if decision.rule == sender_policy.RULE_PINNED:
            return _(
                "the mail is pinned to server '%(server)s'; its FROM filter is "
                "%(filter)s",
                server=server,
                filter=decision.server.from_filter or _("empty (any sender)"),
            )
        if decision.rule == sender_policy.RULE_UNFILTERED:
            return _(
                "no server is set up for this sender; server '%s' has no FROM filter",
                server,
            )
        if decision.rule == sender_policy.RULE_FALLBACK:
            return _(
                "no server may send for this sender, nor for the default From: the "
                "first server by priority, '%s', "
                "is used",
                server,
            )
        if decision.rule == sender_policy.RULE_NONE_ALLOWED:
            return _("no server may send for this sender, nor for the default From")
        if decision.rule == sender_policy.RULE_CONFIG_FILE:
            return _(
                "no outgoing mail server is configured: the SMTP settings of the Odoo "
                "configuration file are used, "
                "FROM filter %s",
                decision.config_filter or _("empty (any sender)"),
            )
        return ""

    @api.model
    def _sender_warning_texts(self, decision):
        """The decision's warnings (``(code, server name)``), as sentences."""
        _ = self.env._
        sender = decision.sender or decision.email_from
        texts = []
        for code, server in decision.warnings:
            if code == sender_policy.WARN_NO_DEFAULT_FROM:
                texts.append(
                    _(
                        "No default From is configured: senders no server accepts "
                        "cannot be rewritten."
                    )
                )
            elif code == sender_policy.WARN_DEFAULT_REFUSED:
                texts.append(
                    _(
                        "The FROM filter of '%(server)s' allows neither %(sender)s nor "
                        "the default From "
                        "%(default)s: the From is rewritten to %(default)s, which the "
                        "server may refuse.",
                        server=server,
                        sender=sender,
                        default=decision.default_from,
                    )
                )
            elif code == sender_policy.WARN_AUTHOR_KEPT:
                texts.append(
                    _(
                        "The FROM filter of '%(server)s' does not allow %(sender)s and "
                        "no default From is "
                        "configured: the mail goes out with the author's From, which "
                        "receivers may reject "
                        "as spoofed.",
                        server=server,
                        sender=sender,
                    )
                )
            elif code == sender_policy.WARN_CONFIG_DEFAULT_REFUSED:
                texts.append(
                    _(
                        "The FROM filter of the Odoo configuration file allows neither "
                        "the sender nor the default From."
                    )
                )
        return texts

    @api.model
    def _sender_block_text(self, decision):
        """Why a mail is kept in the queue (the no-match policy ``block``)."""
        _ = self.env._
        server = (
            _("Server '%s'", decision.server.name)
            if decision.server
            else _("No outgoing mail server")
        )
        return _(
            "%(server)s may not send for %(sender)s nor for the default From "
            "%(default)s, and the "
            "no-match policy is 'Do not send': the mail is kept in the queue, not "
            "sent. Add the "
            "sender's domain to a server's FROM filter, or set a default From a "
            "server accepts, then retry.",
            server=server,
            sender=decision.sender or decision.email_from or _("(no sender)"),
            default=decision.default_from or _("(none)"),
        )
