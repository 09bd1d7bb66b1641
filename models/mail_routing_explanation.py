# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import re

from markupsafe import Markup, escape

from odoo import api, models
from odoo.tools.misc import formatLang

from ..tools import address_filter
from ..tools.incoming import auth_policy
from ..tools.outgoing import sender_policy
from ..tools.reason_texts import (
    RCPT_REFUSALS_BY_REASON,
    RCPT_SENDER_IS_RECIPIENT,
    SMTP_SESSION_REASONS,
    word,
)


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
        """Why a mail is refused, in one sentence (no leading verdict)."""
        _ = self.env._
        fmt = self._formatter(html)
        params = params or {}
        alias_id = params.get("alias_id")
        alias = self._alias_label(alias_id) if alias_id else ""
        if html and alias_id:
            alias = self._link("mail.alias", alias_id, alias)
        if reason == "allow_list":
            domains = ", ".join(params.get("domains") or [])
            text = fmt(
                _("the recipient's domain %s is not an allowed alias domain"), domains
            )
        elif reason == "auto_reply":
            text = fmt(
                _(
                    "it is an automatic reply (%s) that answers no message of this "
                    "database"
                ),
                params.get("evidence"),
            )
        elif reason == "read_receipt":
            text = fmt(
                _("it is a read receipt (%s), not a message for a thread"),
                params.get("evidence"),
            )
        elif reason == "self_loop":
            text = fmt(
                _(
                    "the sender %s is one of this database's own addresses and the "
                    "mail answers none of its messages"
                ),
                params.get("sender"),
            )
        elif reason == "forwarding_loop":
            text = fmt(
                _("it is in a forwarding loop: it was delivered to %s more than once"),
                params.get("address"),
            )
        elif reason == "loop_reply":
            text = fmt(_("it answers one of this database's loop notices"))
        elif reason in ("rate_limit", "reply_limit"):
            text = self._limit_text(params, html=html)
        elif reason == "write_to_catchall":
            text = fmt(
                _(
                    "it is written only to the catchall address or to addresses that "
                    "lead nowhere (%s)"
                ),
                params.get("recipients") or _("no recipient"),
            )
        elif reason == "alias_refused":
            text = fmt(
                _(
                    "alias %(alias)s does not accept this sender (it accepts: "
                    "%(contact)s)"
                ),
                alias=alias,
                contact=self._contact_label(params.get("contact")),
            )
        elif reason == "no_route":
            text = self._no_route_text(params, html=html)
        elif reason == "unparseable":
            text = fmt(_("the message could not be read (%s)"), params.get("error"))
        elif reason in SMTP_SESSION_REASONS:
            text = self._smtp_limit_text(reason, params, html=html)
        elif reason in (
            "auth_spoofed",
            "auth_unverified",
            "dmarc_reject",
            "dmarc_quarantine",
            "ambiguous_from",
        ):
            text = self._auth_refusal_text(reason, params, html=html)
        else:
            text = fmt("%s", reason)
        if params.get("answered"):
            text = fmt(_("%s; the sender was sent one notice"), text)
        return text

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
    def _no_route_text(self, params, html=False):
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

    def _auth_refusal_text(self, reason, params, html=False):
        """An authentication refusal (tools/incoming/auth_policy.py), in one clause."""
        _ = self.env._
        fmt = self._formatter(html)
        values = {
            "result": self._auth_result_label(params.get("result")),
            "domain": params.get("from_domain") or "?",
        }
        if reason == "auth_spoofed":
            if params.get("protected") == "internal_user":
                text = fmt(
                    _(
                        "its From belongs to one of your users, but the sender did not "
                        "prove it (DMARC: %(result)s)"
                    ),
                    **values,
                )
            else:
                text = fmt(
                    _(
                        "its From is in your protected domain %(domain)s, but the "
                        "sender did not prove it (DMARC: %(result)s)"
                    ),
                    **values,
                )
        elif reason == "auth_unverified":
            text = fmt(
                _(
                    "its From belongs to one of your users or domains, and no "
                    "authentication server you trust checked it"
                )
            )
        elif reason == "ambiguous_from":
            text = fmt(
                _(
                    "its From names no single author (%(problem)s): DMARC cannot "
                    "check whom it comes from, and receivers may reject such mail "
                    "(RFC 7489 6.6.1)"
                ),
                problem=self._author_problem_label(params.get("from_problem")),
            )
        elif reason == "dmarc_reject":
            text = fmt(
                _(
                    "it fails DMARC for %(domain)s, whose owner asks to reject such "
                    "mail"
                ),
                **values,
            )
        else:
            text = fmt(
                _(
                    "it fails DMARC for %(domain)s, whose owner asks to quarantine "
                    "such mail"
                ),
                **values,
            )
        if params.get("smtp"):
            text = fmt(
                _("%s; the mailgate refused it at the end of the SMTP dialogue (550)"),
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
    def _limit_text(self, params, html=False):
        """A loop-protection count: "3 records from this sender in the last
        30 minutes through alias sales@... (limit 3)"."""
        _ = self.env._
        fmt = self._formatter(html)
        values = {
            "count": params.get("count"),
            "minutes": params.get("minutes"),
            "threshold": params.get("threshold"),
        }
        if params.get("kind") == "reply":
            label = self._record_label(params.get("model"), params.get("res_id"))
            values["target"] = (
                self._link(params.get("model"), params.get("res_id"), label)
                if html
                else label
            )
            if values["count"] == 1:
                return fmt(
                    _(
                        "1 reply from this sender in the last %(minutes)s minutes in "
                        "%(target)s (limit %(threshold)s)"
                    ),
                    **values,
                )
            return fmt(
                _(
                    "%(count)s replies from this sender in the last %(minutes)s "
                    "minutes in %(target)s "
                    "(limit %(threshold)s)"
                ),
                **values,
            )
        if params.get("alias_id"):
            label = self._alias_label(params["alias_id"])
            values["target"] = (
                self._link("mail.alias", params["alias_id"], label) if html else label
            )
            if values["count"] == 1:
                return fmt(
                    _(
                        "1 record from this sender in the last %(minutes)s minutes "
                        "through alias %(target)s "
                        "(limit %(threshold)s)"
                    ),
                    **values,
                )
            return fmt(
                _(
                    "%(count)s records from this sender in the last %(minutes)s "
                    "minutes through alias %(target)s "
                    "(limit %(threshold)s)"
                ),
                **values,
            )
        values["target"] = self._model_label(params.get("model"))
        if values["count"] == 1:
            return fmt(
                _(
                    "1 record of %(target)s from this sender in the last %(minutes)s "
                    "minutes (limit %(threshold)s)"
                ),
                **values,
            )
        return fmt(
            _(
                "%(count)s records of %(target)s from this sender in the last "
                "%(minutes)s minutes (limit %(threshold)s)"
            ),
            **values,
        )

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
                _("Loop protection: %s."), self._limit_text(params, html=html)
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
        ``reason_texts.RCPT_REFUSALS`` or a session limit), for the log."""
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
    def _smtp_limit_text(self, reason, params, html=False):
        """A session the mailgate ended by one of its limits, in one clause
        (``params``: which ``limit``, its ``value``)."""
        _ = self.env._
        fmt = self._formatter(html)
        limit, value = params.get("limit"), params.get("value")
        value = (
            self._number(value) if isinstance(value, int | float) else (value or "?")
        )
        if limit == "server_sessions":
            return fmt(
                _("the mailgate was serving its maximum of %s sessions (421 4.7.0)"),
                value,
            )
        if limit == "client_sessions":
            return fmt(
                _("the client reached its limit of %s open sessions (421 4.7.0)"), value
            )
        if limit == "connection_rate":
            return fmt(
                _("the client opened more than %s connections a minute (421 4.7.0)"),
                value,
            )
        if limit == "message_rate":
            return fmt(
                _("the client sent more than %s messages a minute (421 4.7.0)"), value
            )
        if limit == "recipient_rate":
            return fmt(
                _(
                    "the client gave more than %s recipients a minute (450 4.7.1: the "
                    "sending server tries again later)"
                ),
                value,
            )
        if limit == "guess_rate":
            return fmt(
                _(
                    "the client gave more than %s unknown recipients a minute over "
                    "all its sessions; further recipients were not looked up (450 "
                    "4.7.1: the sending server tries again later)"
                ),
                value,
            )
        if limit == "hard_errors":
            return fmt(
                _(
                    "the client made %s errors in one session, such as unknown "
                    "recipients or commands (421 4.7.0)"
                ),
                value,
            )
        if limit == "junk_commands":
            return fmt(
                _(
                    "the client sent NOOP, RSET, VRFY, EXPN or HELP more than %s times "
                    "in one session (421 4.7.0)"
                ),
                value,
            )
        if limit == "unknown_commands":
            return fmt(
                _("the client sent %s unknown commands in one session (502 5.5.1)"),
                value,
            )
        if reason == "pregreet":
            return fmt(
                _(
                    "the client talked before the greeting had ended (%s s), as spam "
                    "robots do (554 5.5.1)"
                ),
                value,
            )
        if limit == "data_rate":
            return fmt(
                _(
                    "the client sent its message slower than %s bytes a second (421 "
                    "4.4.2)"
                ),
                value,
            )
        if limit == "data_lines":
            return fmt(
                _(
                    "the client's message had too many short lines for its size, "
                    "costing the mailgate more than "
                    "four times the size limit of %s bytes in memory (552 5.3.4)"
                ),
                value,
            )
        if limit == "data_memory":
            return fmt(
                _(
                    "the messages being received used all the memory the mailgate "
                    "gives them (%s bytes); the "
                    "sending server tries again later (452 4.3.1)"
                ),
                value,
            )
        if limit == "stress_timeout":
            return fmt(
                _(
                    "the mailgate was under stress (many sessions open) and the client "
                    "sent no command for %s seconds "
                    "(421 4.4.2)"
                ),
                value,
            )
        if limit == "command_timeout":
            return fmt(
                _("the client sent no command for %s seconds (421 4.4.2)"), value
            )
        return fmt("%s: %s", reason, limit or "")

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
