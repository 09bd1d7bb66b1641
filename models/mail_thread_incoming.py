# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import ast
import datetime
import email
import email.parser
import email.policy
import logging
from collections import Counter
from dataclasses import dataclass, field
from xmlrpc import client as xmlrpclib

from odoo import SUPERUSER_ID, api, models
from odoo.tools import SQL, email_normalize, email_split
from odoo.tools.mail import generate_tracking_message_id

from ..tools import address_filter, auto_mail, mail_auth, routing_params
from ..tools.incoming import auth_policy, author_address

_logger = logging.getLogger(__name__)

GATEWAY_REPLY_HEADERS = {
    # RFC 3834: an automatic reply to a message; Microsoft clients honour
    # X-Auto-Response-Suppress and do not answer it with their own auto-reply.
    "Auto-Submitted": "auto-replied",
    "X-Auto-Response-Suppress": "All",
}


class UnparseableMessage(Exception):
    """The email library could not parse an incoming message (cause attached)."""


class GatewayRefusal(Exception):
    """The mailgate must refuse this message at the end of DATA (``550``).

    Raised only while the message is still in its SMTP transaction (the
    mailgate's path); the refusal is already logged in a transaction of its
    own, so the caller's rollback loses nothing."""

    def __init__(self, reason, params):
        super().__init__(reason)
        self.reason = reason
        self.params = params


@dataclass(frozen=True)
class RoutingRefusal:
    """A routing rule's verdict: the gateway log reason and its data (JSON
    values, worded by ``mail.routing.explanation``). ``smtp``: refused at
    the end of DATA (the mailgate answers 550), logged in a transaction of
    its own; ``alias``/``model``: where the entry shows the message was
    going (default: the alias it was addressed to); ``bounced``: the
    sender was sent a notice."""

    reason: str
    params: dict = field(default_factory=dict)
    smtp: bool = False
    alias: object = None
    model: str | None = None
    bounced: bool = False


@dataclass
class RoutingFacts:
    """What the rules learn of one message, for the rules after them."""

    sender: str
    verdict: auto_mail.Verdict = auto_mail.HUMAN
    from_own_address: bool = False
    # whether it answers a thread of this database (None: not looked up)
    is_reply: bool | None = None


@dataclass
class RoutingOutcome:
    """What routing one message did, filled as it goes and read by the
    caller that passed it in the context (``CONTEXT_OUTCOME``): Process
    again and the mailgate. ``created``/``posted``: ``(model, id)`` of the
    records made or posted on; ``refusal``: ``(reason, params)`` of the
    rule that stopped it; ``log_id``: its gateway log entry, written in a
    transaction of its own when ``logged_apart`` (it survives the
    caller's rollback)."""

    created: list = field(default_factory=list)
    posted: list = field(default_factory=list)
    refusal: tuple | None = None
    log_id: int = 0
    logged_apart: bool = False

    def reset(self):
        self.__init__()


# message_dict keys this module adds; removed before the message is posted
PRIVATE_KEYS = ("_routing_verdict", "_routing_refusal", "_routing_auth")
# context keys set by the callers of message_process (core's API has no
# argument for them): the authserv-id of an Authentication-Results header
# trusted on this call only (the mailgate's own, RFC 8601; a log entry's when
# processed again), whether the SMTP transaction is still open (the
# mailgate: a refusal can be a 550 instead of a quarantine), the verdict the
# mailgate computed with the header it wrote (``(header value, AuthFacts)``:
# not parsed back), and the rule *Process again* skips. They weaken checks,
# so they are read only on a superuser environment (the mailgate's, Process
# again's): an RPC caller's context is its own to write.
CONTEXT_TRUSTED_AUTHSERV_ID = "mail_routing_trusted_authserv_id"
CONTEXT_SMTP = "mail_routing_smtp"
CONTEXT_AUTH_FACTS = "mail_routing_auth_facts"
# the SMTP client the mailgate received the message from (its log entries name it)
CONTEXT_CLIENT = "mail_routing_client"
CONTEXT_BYPASS = "mail_routing_bypass"
# a RoutingOutcome the caller reads once message_process returns
CONTEXT_OUTCOME = "mail_routing_outcome"


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    # ------------------------------------------------------------------
    # helpers: trace (explainer), dry run, bypass (Process again)
    # ------------------------------------------------------------------

    @api.model
    def _routing_trace(self, code, **params):
        """Append a decision step (a code and its data, worded by
        ``mail.routing.explanation``) to the explainer's trace, if one is
        collected."""
        trace = self.env.context.get("mail_routing_trace")
        if trace is not None:
            trace.append((code, params))

    @api.model
    def _routing_is_dry_run(self):
        return bool(self.env.context.get("mail_routing_dry_run"))

    @api.model
    def _routing_privileged_context(self, key):
        """A context value that weakens a check, honoured only from trusted
        code (a superuser environment): never from an RPC caller."""
        return self.env.context.get(key) if self.env.su else None

    @api.model
    def _routing_bypassed(self, *reasons):
        bypass = self._routing_privileged_context(CONTEXT_BYPASS)
        return bool(bypass) and bypass in reasons

    @api.model
    def _routing_outcome(self):
        """The ``RoutingOutcome`` the caller passed, or None (an RPC
        caller's context holds no Python object)."""
        outcome = self.env.context.get(CONTEXT_OUTCOME)
        return outcome if isinstance(outcome, RoutingOutcome) else None

    @api.model
    def _routing_note_refusal(self, reason, params, log_id=0, apart=False):
        """A refusal decided: a step of the explainer's trace, and the
        caller's outcome (with its log entry once written)."""
        self._routing_trace("refused", reason=reason, **params)
        outcome = self._routing_outcome()
        if outcome is not None:
            outcome.refusal = (reason, params)
            outcome.log_id, outcome.logged_apart = log_id, apart

    @api.model
    def _routing_refuse(
        self,
        message,
        message_dict,
        reason,
        params=None,
        alias=None,
        model=None,
        bounced=False,
    ):
        """Log a refused incoming message (or only trace it in a dry run).

        ``params`` are the data of the refusal (JSON values): the log and the
        explainer word them the same way (``mail.routing.explanation``).
        """
        params = dict(params or {}, answered=bounced)
        self._routing_note_refusal(reason, params)
        if self._routing_is_dry_run():
            return self.env["mail.gateway.log"]
        if alias is None and model is None:
            # stopped before routing (auto-reply, self-loop, quarantine...):
            # the entry still shows where the message was going
            alias = self._routing_addressed_alias(message_dict)
            model = alias.alias_model_id.model or None
        details = (
            self.env["mail.routing.explanation"]
            .with_context(lang="en_US")
            ._refusal_text(reason, params)
        )
        log = self.env["mail.gateway.log"]._log_refusal(
            message,
            message_dict,
            reason,
            details=details,
            alias=alias,
            model=model,
            bounced=bounced,
            detail_params=params,
            client_address=self._routing_privileged_context(CONTEXT_CLIENT) or False,
        )
        outcome = self._routing_outcome()
        if outcome is not None:
            outcome.log_id = log.id
        return log

    # ------------------------------------------------------------------
    # configuration read by the rules
    # ------------------------------------------------------------------

    @api.model
    def _get_recipient_policy(self):
        """Allowed alias domains: ``entries`` parsed from mail.catchall.domain.allowed
        (empty: no filtering) and ``alias_domains`` (A-labels, always allowed)."""
        raw = (
            self.env["ir.config_parameter"]
            .sudo()
            .with_context(mail_routing_allowlist_applied=False)
            .get_param("mail.catchall.domain.allowed")
        )
        entries = self.env["ir.mail_server"]._parse_from_filter(raw) if raw else ()
        alias_domains = {
            fact[2] for fact in self.env["mail.alias.domain"]._routing_domain_facts()
        }
        return {"raw": raw or "", "entries": entries, "alias_domains": alias_domains}

    @api.model
    def _get_own_addresses(self):
        """This database's own addresses: catchall, bounce and default From of
        every alias domain, and mail.default.from."""
        own = set()
        IrMailServer = self.env["ir.mail_server"].sudo()
        for _id, name, _ascii, catchall, bounce, default_from in self.env[
            "mail.alias.domain"
        ]._routing_domain_facts():
            own.update(
                filter(
                    None,
                    (
                        catchall,
                        bounce,
                        default_from,
                        IrMailServer._resolve_default_from_for(name),
                    ),
                )
            )
        default_from = IrMailServer._get_default_from_address()
        if default_from:
            own.add(email_normalize(default_from) or default_from)
        return {address.lower() for address in own}

    @api.model
    def _routing_find_reply(self, message_dict):
        """The message this one replies to: the parent core's
        ``message_parse`` found (``_get_parent_message``: In-Reply-To, then
        References), unless it is a message whose replies core routes as
        new mail (a ``reply_to`` Message-ID, as its ``message_route``
        skips)."""
        parent = (
            self.env["mail.message"].sudo().browse(message_dict.get("parent_id") or [])
        )
        if not parent or "reply_to" in (parent.message_id or ""):
            return self.env["mail.message"]
        return parent

    @api.model
    def _routing_filter_recipients(self, addresses, sender, policy):
        """Split recipient addresses into (kept, removed-with-reason-code).

        The sender never counts as a recipient; with an allow-list, only
        recipients in an alias domain or an allowed domain are kept. Kept
        addresses are lower-cased, with the A-label form added for IDN
        domains so that aliases match in either form.
        """
        kept, removed = [], []
        for address in addresses:
            parts = address_filter.split_address(address)
            if not parts:
                continue
            local, domain = parts
            lowered = address.lower()
            if sender and (lowered == sender or f"{local}@{domain}" == sender):
                removed.append((address, "sender"))
                continue
            if (
                policy["entries"]
                and domain not in policy["alias_domains"]
                and not address_filter.match_domain(policy["entries"], domain)
            ):
                removed.append((address, "domain"))
                continue
            kept.append(lowered)
            if f"{local}@{domain}" != lowered:
                kept.append(f"{local}@{domain}")
        return kept, removed

    # ------------------------------------------------------------------
    # routing
    # ------------------------------------------------------------------

    @api.model
    def message_process(
        self,
        model,
        message,
        custom_values=None,
        save_original=False,
        strip_attachments=False,
        thread_id=None,
    ):
        """Keep the source bytes at hand: a refused message is logged as received."""
        if isinstance(message, xmlrpclib.Binary):
            message = bytes(message.data)
        if isinstance(message, str):
            message = message.encode("utf-8")
        # NUL is invalid in a message (RFC 5322) and PostgreSQL text refuses
        # it: without this, one hostile header makes the delivery fail forever
        cleaned = message.replace(b"\x00", b"") if b"\x00" in message else message
        outcome = self._routing_outcome()
        if outcome is not None:
            outcome.reset()  # a retry (serialization failure) starts afresh
        try:
            thread_id = super(
                MailThread, self.with_context(mail_routing_raw=message)
            ).message_process(
                model,
                cleaned,
                custom_values=custom_values,
                save_original=save_original,
                strip_attachments=strip_attachments,
                thread_id=thread_id,
            )
            # core returns None for a mail its loop checks stop: XML-RPC cannot
            # marshal None, so the gateway script would fail and the MTA
            # bounce (or retry) a mail that was handled and logged
            return thread_id if thread_id is not None else False
        except (UnparseableMessage, RecursionError) as exc:
            # Python's email parser gave up on it (or recursed too deep into
            # nested parts): keep it in the log instead of failing the fetch
            # (or the mailgate's 451) again and again
            self.with_context(mail_routing_raw=message)._routing_log_unparseable(
                message, exc.__cause__ or exc
            )
            return False

    @api.model
    def _routing_log_unparseable(self, message, cause):
        """Log a message the email library could not parse; its headers
        alone are read, which cannot recurse."""
        headers = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(
            message, headersonly=True
        )
        message_dict = {
            key: str(headers.get(name) or "")
            for key, name in (
                ("email_from", "From"),
                ("to", "To"),
                ("subject", "Subject"),
                ("message_id", "Message-ID"),
            )
        }
        self._routing_refuse(
            headers,
            message_dict,
            "unparseable",
            {"error": f"{cause.__class__.__name__}: {str(cause)[:500]}"},
        )

    @api.model
    def message_parse(self, message, save_original=False):
        try:
            message_dict = super().message_parse(message, save_original=save_original)
        except Exception as exc:
            if self.env.context.get("mail_routing_raw") is None:
                raise
            raise UnparseableMessage() from exc
        # one author as readers must see it: no root dot, no address-like
        # display name hiding the real address
        author = author_address.author_display(
            message_dict.get("email_from"), author_address.raw_from_values(message)
        )
        if author != message_dict.get("email_from"):
            message_dict["email_from"] = message_dict["from"] = author
        return message_dict

    @api.model
    def message_route(
        self, message, message_dict, model=None, thread_id=None, custom_values=None
    ):
        """Apply the module's incoming rules around core routing.

        Each rule of ``_routing_rules`` returns nothing or a
        ``RoutingRefusal``; the first refusal that Process again does not
        bypass is logged (traced in a dry run) and the message goes no
        further. A bounce skips the rules that are not for bounces and goes
        to core; other mail is routed by core with the recipients the
        allow-list keeps (``_routing_core_routes``).
        """
        facts = RoutingFacts(
            sender=email_normalize(message_dict.get("email_from") or "") or ""
        )
        self._routing_trace(
            "sender", address=facts.sender or message_dict.get("email_from") or ""
        )
        self._routing_trace(
            "recipients", addresses=message_dict.get("recipients") or ""
        )
        bounce = bool(message_dict.get("is_bounce"))
        for rule, for_bounces in self._routing_rules():
            if bounce and not for_bounces:
                continue
            refusal = getattr(self, rule)(message, message_dict, facts)
            if refusal is not None and not self._routing_bypassed(refusal.reason):
                self._routing_apply_refusal(message, message_dict, refusal)
                return []
        if bounce:
            self._routing_trace(
                "bounce", address=message_dict.get("bounced_email") or ""
            )
            return super().message_route(
                message, message_dict, model, thread_id, custom_values
            )
        return self._routing_core_routes(
            message, message_dict, facts, model, thread_id, custom_values
        )

    @api.model
    def _routing_rules(self):
        """The rules before core routing, in order: ``(method, whether it
        applies to bounces)``. A method takes ``(message, message_dict,
        facts)`` and returns None or a ``RoutingRefusal``. Authentication
        comes first: a message that may not speak for its From is judged
        before anything it says is believed."""
        return [
            ("_routing_rule_authentication", True),
            ("_routing_rule_automatic", True),
            ("_routing_rule_forwarding_loop", False),
            ("_routing_rule_self_loop", False),
            ("_routing_rule_auto_reply", False),
        ]

    @api.model
    def _routing_apply_refusal(self, message, message_dict, refusal):
        """Log a rule's refusal; one at the end of DATA (``smtp``) is logged
        in a transaction of its own, then raised (``GatewayRefusal``) for
        the mailgate's 550."""
        if not refusal.smtp:
            self._routing_refuse(
                message,
                message_dict,
                refusal.reason,
                refusal.params,
                alias=refusal.alias,
                model=refusal.model,
                bounced=refusal.bounced,
            )
            return
        params = dict(refusal.params, smtp=True)
        if self._routing_is_dry_run():
            self._routing_note_refusal(refusal.reason, dict(params, answered=False))
            return
        alias = self._routing_addressed_alias(message_dict)
        log_id = self._routing_log_in_own_transaction(
            message, message_dict, refusal.reason, params, alias_id=alias.id
        )
        self._routing_note_refusal(
            refusal.reason, dict(params, answered=False), log_id=log_id, apart=True
        )
        raise GatewayRefusal(refusal.reason, refusal.params)

    @api.model
    def _routing_rule_automatic(self, message, message_dict, facts):
        """Classify automatic mail (the verdict the later rules and the
        answers read); a read receipt is refused: core takes every
        multipart/report for a bounce, so it would count as a bounce of the
        reader's address."""
        facts.verdict = verdict = auto_mail.classify(message, facts.sender)
        message_dict["_routing_verdict"] = verdict
        self._routing_trace("automatic", kind=verdict.kind, evidence=verdict.reason)
        if verdict.kind == auto_mail.READ_RECEIPT:
            return RoutingRefusal(verdict.kind, {"evidence": verdict.reason})
        return None

    @api.model
    def _routing_rule_forwarding_loop(self, message, message_dict, facts):
        """Delivered to the same address twice: forwarded in a circle."""
        delivered_to = [
            email_normalize(str(v)) or str(v).lower()
            for v in message.get_all("Delivered-To") or []
        ]
        looping = [
            address for address, seen in Counter(delivered_to).items() if seen > 1
        ]
        if looping:
            return RoutingRefusal("forwarding_loop", {"address": looping[0]})
        return None

    @api.model
    def _routing_rule_self_loop(self, message, message_dict, facts):
        """Mail from one of this database's own addresses that answers none
        of its messages."""
        facts.from_own_address = (
            bool(facts.sender) and facts.sender in self._get_own_addresses()
        )
        # the reply is only needed by this rule and the next (and by the
        # explainer): ordinary mail does not pay for reading it
        if (
            facts.from_own_address
            or facts.verdict.kind == auto_mail.AUTO_REPLY
            or self._routing_is_dry_run()
        ):
            reply_to = self._routing_find_reply(message_dict)
            facts.is_reply = bool(reply_to and reply_to.model and reply_to.res_id)
            self._routing_trace(
                "reply",
                model=reply_to.model if facts.is_reply else False,
                res_id=reply_to.res_id if facts.is_reply else False,
            )
        if facts.from_own_address and not facts.is_reply:
            return RoutingRefusal("self_loop", {"sender": facts.sender})
        return None

    @api.model
    def _routing_rule_auto_reply(self, message, message_dict, facts):
        """An auto-reply that answers no thread of this database."""
        if facts.verdict.kind == auto_mail.AUTO_REPLY and not facts.is_reply:
            return RoutingRefusal(
                facts.verdict.kind, {"evidence": facts.verdict.reason}
            )
        return None

    @api.model
    def _routing_core_routes(
        self, message, message_dict, facts, model, thread_id, custom_values
    ):
        """Core's routing with the recipients the allow-list keeps; what it
        cannot route is logged (no route, or a recipient domain not
        allowed) before its error goes on, and a mail written to the
        catchall only is logged as such."""
        originals = {key: message_dict.get(key) for key in ("to", "recipients")}
        removed = self._routing_apply_allow_list(message_dict, facts.sender)
        routing_self = self.with_context(
            mail_routing_allowlist_applied=True,
            mail_routing_verdict=facts.verdict.kind or False,
        )
        try:
            routes = super(MailThread, routing_self).message_route(
                message, message_dict, model, thread_id, custom_values
            )
        except ValueError:
            message_dict.update(originals)
            self._routing_log_unrouted(message, message_dict, originals, removed)
            raise
        finally:
            message_dict.update(originals)
        refusal = message_dict.pop("_routing_refusal", None)
        if refusal and not routes:
            self._routing_refuse(
                message,
                message_dict,
                refusal,
                {"recipients": originals["to"] or ""},
                bounced=not facts.verdict.kind and not facts.from_own_address,
            )
        for route in routes:
            self._routing_trace(
                "route",
                model=route[0],
                res_id=route[1] or False,
                alias_id=route[4].id if route[4] else False,
            )
        return routes

    @api.model
    def _routing_apply_allow_list(self, message_dict, sender):
        """Keep in ``message_dict`` the recipients the allow-list allows
        (not the sender); returns the removed ``(address, why)``."""
        removed = []
        if not self._routing_bypassed("allow_list"):
            policy = self._get_recipient_policy()
            for key in ("to", "recipients"):
                kept, dropped = self._routing_filter_recipients(
                    email_split(message_dict.get(key) or ""), sender, policy
                )
                message_dict[key] = ",".join(kept)
                removed += [item for item in dropped if item not in removed]
        for address, why in removed:
            self._routing_trace("recipient_removed", address=address, why=why)
        return removed

    @api.model
    def _routing_log_unrouted(self, message, message_dict, originals, removed):
        """Core found no route: the refusal, logged in a transaction of its
        own (core's error rolls the delivery back). Not in a dry run, nor
        when processing again: its entry says what happened (another
        entry, written in a transaction of its own, would be this very
        entry counted once more, under the feet of the transaction that
        writes the outcome on it)."""
        reason, params = self._routing_unrouted(originals, removed)
        if self._routing_is_dry_run() or self._routing_privileged_context(
            CONTEXT_BYPASS
        ):
            self._routing_note_refusal(reason, dict(params, answered=False))
            return
        log_id = self._routing_log_in_own_transaction(
            message, message_dict, reason, params
        )
        self._routing_note_refusal(
            reason, dict(params, answered=False), log_id=log_id, apart=True
        )

    @api.model
    def _routing_unrouted(self, originals, removed):
        """Why core found no route: ``(reason, params)`` of the refusal. A
        recipient whose domain is not allowed, else no route (with the
        aliases of a recipient's name on other domains)."""
        refused_domains = sorted(
            {
                address.rpartition("@")[2].lower()
                for address, why in removed
                if why == "domain"
            }
        )
        if refused_domains:
            return "allow_list", {"domains": refused_domains}
        params = {"recipients": originals["to"] or ""}
        near = self._routing_aliases_elsewhere(originals)
        if near:
            params["other_domain_alias_ids"] = near
        return "no_route", params

    @api.model
    def _routing_aliases_elsewhere(self, originals):
        """Aliases that bear a recipient's name on another alias domain and
        match only their own domain (no *Local-part based incoming
        detection*): why ``info@example.com`` found no alias when the alias
        is ``info@mail.example.com``. Ids, at most five."""
        addresses = email_split(
            ",".join(filter(None, (originals.get("to"), originals.get("recipients"))))
        )
        names = {}
        for address in addresses:
            parts = address_filter.split_address(address)
            if parts:
                names.setdefault(parts[0], set()).add(f"{parts[0]}@{parts[1]}")
        if not names:
            return []
        aliases = (
            self.env["mail.alias"]
            .sudo()
            .search(
                [
                    ("alias_name", "in", list(names)),
                    ("alias_incoming_local", "=", False),
                    ("alias_domain_id", "!=", False),
                ],
                limit=5,
                order="id",
            )
        )
        return [
            alias.id
            for alias in aliases
            if (alias.alias_full_name or "").lower() not in names[alias.alias_name]
        ]

    @api.model
    def _routing_log_in_own_transaction(
        self, message, message_dict, reason, params, alias_id=None
    ):
        """Log a message whose processing is about to fail: the current
        transaction will be rolled back, the log must survive it. Returns
        the entry's id."""
        with self.env.registry.cursor() as cr:
            env = api.Environment(
                cr,
                SUPERUSER_ID,
                {
                    "mail_routing_raw": self.env.context.get("mail_routing_raw"),
                    CONTEXT_CLIENT: self._routing_privileged_context(CONTEXT_CLIENT),
                },
            )
            alias = env["mail.alias"].browse(alias_id).exists() if alias_id else None
            return (
                env["mail.thread"]
                ._routing_refuse(
                    message,
                    message_dict,
                    reason,
                    params,
                    alias=alias,
                    model=alias.alias_model_id.model if alias else None,
                )
                .id
            )

    @api.model
    def _detect_write_to_catchall(self, msg_dict):
        written = super()._detect_write_to_catchall(msg_dict)
        if written:
            msg_dict["_routing_refusal"] = "write_to_catchall"
        return written

    @api.model
    def _routing_check_route(self, message, message_dict, route, raise_exception=True):
        checked = super()._routing_check_route(
            message, message_dict, route, raise_exception=raise_exception
        )
        alias = route[4]
        if checked is False and alias:
            verdict = message_dict.get("_routing_verdict") or auto_mail.HUMAN
            self._routing_refuse(
                message,
                message_dict,
                "alias_refused",
                {"alias_id": alias.id, "contact": alias.alias_contact},
                alias=alias,
                bounced=not verdict.kind,
            )
        return checked

    @api.model
    def _routing_create_bounce_email(
        self, email_from, body_html, message, **mail_values
    ):
        """Answer only when RFC 3834 allows it, and mark the answer as automatic."""
        sender = email_normalize(email_from or "") or ""
        verdict_kind = self.env.context.get("mail_routing_verdict")
        if self._routing_is_dry_run():
            self._routing_trace("answer", to=email_from or "")
            return
        if verdict_kind or auto_mail.is_null_sender(message):
            _logger.info(
                "Not answering automatic mail from %s (%s)",
                email_from,
                verdict_kind or "null sender",
            )
            return
        if not sender or sender in self._get_own_addresses():
            _logger.info(
                "Not answering %s: it is one of this database's own addresses",
                email_from,
            )
            return
        headers = mail_values.pop("headers", None) or {}
        if isinstance(headers, str):
            headers = ast.literal_eval(headers)
        headers = dict(headers)
        for name, value in GATEWAY_REPLY_HEADERS.items():
            headers.setdefault(name, value)
        return super()._routing_create_bounce_email(
            email_from, body_html, message, headers=repr(headers), **mail_values
        )

    @api.model
    def _routing_handle_bounce(self, email_message, message_dict):
        if self._routing_is_dry_run():
            self._routing_trace(
                "bounce_handled", address=message_dict.get("bounced_email") or ""
            )
            return
        return super()._routing_handle_bounce(email_message, message_dict)

    @api.model
    def _routing_reset_bounce(self, email_message, message_dict):
        if self._routing_is_dry_run():
            return
        return super()._routing_reset_bounce(email_message, message_dict)

    @api.model
    def _detect_loop_headers(self, msg_dict):
        looping = super()._detect_loop_headers(msg_dict)
        if looping:
            self._routing_note_refusal("loop_reply", {"answered": False})
        return looping

    # ------------------------------------------------------------------
    # authentication: who may speak for whom (tools/incoming/auth_policy.py)
    # ------------------------------------------------------------------

    @api.model
    def _routing_auth_settings(self):
        get_param = self.env["ir.config_parameter"].sudo().get_param
        return {
            "spoof_action": routing_params.read(
                get_param, "mail.gateway.auth.spoof_action"
            ),
            "unverified_action": routing_params.read(
                get_param, "mail.gateway.auth.unverified_action"
            ),
            "ambiguous_from_action": routing_params.read(
                get_param, "mail.gateway.auth.ambiguous_from_action"
            ),
            "trusted_authserv_ids": auth_policy.split_list(
                get_param("mail.gateway.auth.trusted_authserv_ids")
            ),
            "protected_domains": auth_policy.split_list(
                get_param("mail.gateway.auth.protected_domains")
            ),
        }

    @api.model
    def _routing_authentication(self, message, trusted_authserv_ids):
        """What the topmost ``Authentication-Results`` header of a trusted
        authentication server says (``AuthFacts``); ``unverified`` without
        one. Headers of any other authserv-id are never read: anyone can
        write them."""
        computed = self._routing_privileged_context(CONTEXT_AUTH_FACTS)
        if computed:
            # the mailgate's own verdict for this very message: it decides,
            # whatever the headers say (a header a sender smuggled above the
            # mailgate's, or a continuation line glued to it, must neither
            # replace nor blank the verdict)
            values = [
                str(value) for value in message.get_all("Authentication-Results") or []
            ]
            if not values or not mail_auth.same_header_value(values[0], computed[0]):
                _logger.warning(
                    "The mailgate's Authentication-Results is not the topmost one of "
                    "%s: its verdict is used",
                    message.get("Message-Id"),
                )
            return computed[1]
        values = [
            str(value) for value in message.get_all("Authentication-Results") or []
        ]
        if not values:
            return auth_policy.AuthFacts()
        trusted = set(trusted_authserv_ids)
        call_id = self._routing_privileged_context(CONTEXT_TRUSTED_AUTHSERV_ID)
        if call_id:
            trusted.add(call_id.lower())
        return auth_policy.facts_from_results(mail_auth.read_results(values, trusted))

    @api.model
    def _routing_protection(self, from_addresses, protected_domains):
        """Why a From needs proof: one of its addresses is an internal user's
        (whom core's ``_mail_find_user_for_gateway`` would run the route
        as), or is in a protected domain (alias domains, the companies' mail
        domains, ``mail.gateway.auth.protected_domains``); else ``""``."""
        addresses = [email_normalize(address) for address in from_addresses]
        addresses = [address for address in addresses if address]
        if not addresses:
            return ""
        # one statement for both questions (every incoming message asks them):
        # is an address an active internal user's (the ORM's res.users
        # search: active, share not set), and the companies' addresses, read
        # per message, not cached: a company's email is its partner's,
        # changed without a write on res.company that could clear a cache
        self.env["res.users"].flush_model(["active", "share", "partner_id"])
        self.env["res.partner"].flush_model(["email_normalized"])
        self.env["res.company"].flush_model(["email"])
        self.env.cr.execute(
            SQL(
                """SELECT EXISTS (
                              SELECT 1 FROM res_users u
                                JOIN res_partner p ON p.id = u.partner_id
                               WHERE u.active AND u.share IS NOT TRUE
                                 AND p.email_normalized = ANY(%s)),
                          ARRAY(SELECT DISTINCT email FROM res_company
                                 WHERE email IS NOT NULL AND email != '')""",
                addresses,
            )
        )
        internal_user, company_emails = self.env.cr.fetchone()
        if internal_user:
            return auth_policy.PROTECTED_INTERNAL_USER
        domains = set(protected_domains)
        domains.update(
            fact[2] for fact in self.env["mail.alias.domain"]._routing_domain_facts()
        )
        for company_email in company_emails:
            parts = address_filter.split_address(
                email_normalize(company_email or "") or ""
            )
            if parts:
                domains.add(parts[1])
        for address in addresses:
            parts = address_filter.split_address(address)
            if parts and auth_policy.domain_in(parts[1], domains):
                return auth_policy.PROTECTED_DOMAIN
        return ""

    @api.model
    def _routing_dmarc_enforced(self, message_dict):
        """Third-party DMARC policies apply unless every alias domain the
        message is addressed to is set to "record only"."""
        facts = self.env["mail.alias.domain"]._routing_domain_facts()
        ours = {fact[2] for fact in facts}
        record_only = self.env["mail.alias.domain"]._routing_dmarc_record_only()
        addressed = set()
        for address in email_split(
            message_dict.get("recipients") or message_dict.get("to") or ""
        ):
            parts = address_filter.split_address(address)
            if parts and parts[1] in ours:
                addressed.add(parts[1])
        return not addressed or not addressed <= record_only

    @api.model
    def _routing_rule_authentication(self, message, message_dict, facts):
        """The authentication policy: a message that may not speak for its
        From is quarantined (logged with its source, not routed) or, on the
        mailgate, refused at the end of DATA (``smtp``)."""
        settings = self._routing_auth_settings()
        facts_auth = self._routing_authentication(
            message, settings["trusted_authserv_ids"]
        )
        message_dict["_routing_auth"] = facts_auth
        from_fields = author_address.raw_from_values(message)
        from_problem = author_address.from_problem(from_fields)
        # every address of every From field: one of them being a user's or a
        # protected domain's is enough to need proof
        protected = self._routing_protection(
            [
                author_address.strip_root_dot(address)
                for address in email_split(
                    ",".join(from_fields) or message_dict.get("email_from") or ""
                )
            ],
            settings["protected_domains"],
        )
        decision = auth_policy.decide(
            facts_auth,
            protected,
            smtp=bool(self._routing_privileged_context(CONTEXT_SMTP)),
            spoof_action=settings["spoof_action"],
            unverified_action=settings["unverified_action"],
            enforce=self._routing_dmarc_enforced(message_dict),
            bucket=auth_policy.sample_bucket(message_dict.get("message_id")),
            from_problem=from_problem,
            ambiguous_action=settings["ambiguous_from_action"],
        )
        params = {
            "result": facts_auth.summary,
            "policy": decision.policy or facts_auth.policy,
            "from_domain": facts_auth.from_domain,
            "authserv_id": facts_auth.authserv_id,
            "arc_vouched": facts_auth.arc_vouched,
            "protected": protected,
            "from_problem": from_problem,
        }
        # the explainer says which setting let an unproven protected From through
        self._routing_trace("authentication", action=decision.action, **params)
        if decision.action == auth_policy.ACCEPT:
            return None
        return RoutingRefusal(
            decision.reason, params, smtp=decision.action == auth_policy.REFUSE
        )

    @api.model
    def _routing_addressed_alias(self, message_dict):
        """The first alias a message stopped before routing was addressed to
        (core's lookup, as ``message_route`` would make it), so that its log
        entry shows where it was going."""
        addresses = [
            email_normalize(address)
            for address in email_split(message_dict.get("recipients") or "")
        ]
        addresses = [address for address in addresses if address]
        local_parts = [address.partition("@")[0] for address in addresses]
        alias_ids = self.env["mail.alias"]._routing_alias_ids(addresses, local_parts)
        return self.env["mail.alias"].sudo().browse(alias_ids[:1])

    # ------------------------------------------------------------------
    # rate-based loop protection
    # ------------------------------------------------------------------

    @api.model
    def _detect_loop_sender(self, message, message_dict, routes):
        """Limit records created per sender and alias (or model) in a window.

        Replaces core's ``ilike`` count on the target model by an indexed
        count of gateway events, serialised per sender and scope so that
        parallel deliveries never create more than the threshold. The first
        blocked message of a window gets one notice; the next ones are only
        logged. Optional reply limit per thread
        (``mail.gateway.loop.reply_threshold``).
        """
        sender = email_normalize(message_dict.get("email_from") or "") or ""
        if not sender or not routes:
            return False
        if self.env["mail.gateway.allowed"]._is_trusted(sender):
            self._routing_trace("trusted", sender=sender)
            return False
        checks = self._routing_loop_checks(routes)
        if not checks:
            self._routing_trace("replies_unlimited")
            return False
        Event = self.env["mail.gateway.event"].sudo()
        dry_run = self._routing_is_dry_run()
        now = self.env.cr.now()
        # sorted: every worker takes the guard rows in the same order (no deadlock)
        for scope, kind in sorted(checks):
            minutes, threshold, alias, model, res_id = checks[(scope, kind)]
            since = now - datetime.timedelta(minutes=minutes)
            count = Event._lock_and_count(sender, scope, kind, since, lock=not dry_run)
            limit = {
                "kind": kind,
                "count": count,
                "minutes": minutes,
                "threshold": threshold,
                "alias_id": alias.id if alias else False,
                "model": model,
                "res_id": res_id,
            }
            self._routing_trace("loop_count", **limit)
            bypass = "reply_limit" if kind == "reply" else "rate_limit"
            if count < threshold or self._routing_bypassed(bypass):
                continue
            self._routing_refuse_loop(
                message, message_dict, (sender, scope, since), bypass, limit, alias
            )
            return True
        if not dry_run:
            for scope, kind in checks:
                Event._record(sender, scope, kind)
        return False

    @api.model
    def _routing_loop_checks(self, routes):
        """The counts a message's routes need: ``{(scope, kind): (minutes,
        threshold, alias, model, res_id)}``, a record created through an
        alias (or in a model), or a reply in a thread when replies are
        limited."""
        get_param = self.env["ir.config_parameter"].sudo().get_param
        reply_threshold = routing_params.read(
            get_param, "mail.gateway.loop.reply_threshold"
        )
        global_minutes, _global_threshold = self.env["mail.alias"]._get_loop_limits()
        checks = {}
        for model, thread_id, _values, _uid, alias in routes:
            if thread_id:
                if reply_threshold:
                    checks[(f"thread:{model},{thread_id}", "reply")] = (
                        global_minutes,
                        reply_threshold,
                        alias,
                        model,
                        thread_id,
                    )
                continue
            scope = f"alias:{alias.id}" if alias else f"model:{model}"
            minutes, threshold = (
                alias._get_loop_limits()
                if alias
                else self._routing_model_loop_limits(model)
            )
            checks[(scope, "create")] = (minutes, threshold, alias, model, False)
        return checks

    @api.model
    def _routing_loop_limits(self):
        """``(minutes, threshold)``: records one sender may create in this
        model through the gateway, or None for the global loop limit. A model
        whose records send no mail when they are created cannot loop, and
        returns its own bound against floods instead."""
        return None

    @api.model
    def _routing_model_loop_limits(self, model):
        """The loop limits of ``model`` (a model name; the global ones for a
        model that is not a mail.thread or sets none)."""
        Model = self.env.get(model) if model else None
        limits = (
            Model._routing_loop_limits()
            if Model is not None and hasattr(Model, "_routing_loop_limits")
            else None
        )
        return limits or self.env["mail.alias"]._get_loop_limits()

    @api.model
    def _routing_refuse_loop(self, message, message_dict, count, reason, limit, alias):
        """Refuse a message over a loop limit (``count``: the sender, scope
        and start of the window counted); the first of its window gets one
        notice (when automatic mail rules allow an answer)."""
        sender, scope, since = count
        Event = self.env["mail.gateway.event"].sudo()
        notices = Event._count(sender, scope, "notice", since)
        verdict = message_dict.get("_routing_verdict") or auto_mail.classify(
            message, sender
        )
        answer = not notices and auto_mail.may_answer(
            verdict, sender, self._get_own_addresses()
        )
        if answer:
            self._routing_send_loop_notice(message, message_dict)
            if not self._routing_is_dry_run():
                Event._record(sender, scope, "notice")
        self._routing_refuse(
            message,
            message_dict,
            reason,
            limit,
            alias=alias,
            model=limit["model"],
            bounced=answer,
        )

    @api.model
    def _routing_send_loop_notice(self, message, message_dict):
        body = self.env["ir.qweb"]._render(
            "mail.message_notification_limit_email",
            {"email": message_dict.get("to")},
            minimal_qcontext=True,
            raise_if_not_found=False,
        )
        # the tag lets core ignore a reply to this notice (_detect_loop_headers)
        references = (
            message_dict.get("message_id", "")
            + " "
            + generate_tracking_message_id("loop-detection-bounce-email")
        )
        self._routing_create_bounce_email(
            message_dict.get("email_from"), body, message, references=references
        )

    # ------------------------------------------------------------------
    # processing
    # ------------------------------------------------------------------

    @api.model
    def _message_route_process(self, message, message_dict, routes):
        verdict = message_dict.get("_routing_verdict") or auto_mail.HUMAN
        facts = message_dict.get("_routing_auth")
        for key in PRIVATE_KEYS:
            message_dict.pop(key, None)
        if facts is not None:
            # the verdict goes onto the posted mail.message (message_post
            # takes the keys that are mail.message fields)
            message_dict.update(facts.message_values())
        if self._routing_is_dry_run():
            if routes:
                self._routing_trace(
                    "deliver",
                    routes=[
                        {
                            "model": r[0],
                            "res_id": r[1] or False,
                            "alias_id": r[4].id if r[4] else False,
                        }
                        for r in routes
                    ],
                )
            return False
        if verdict.kind in (auto_mail.AUTO_REPLY, auto_mail.READ_RECEIPT):
            # posted in the thread, but nobody is emailed about it: an
            # auto-responder must not start a ping-pong with followers
            self = self.with_context(mail_routing_no_email=True)
        thread_id = super()._message_route_process(message, message_dict, routes)
        outcome = self._routing_outcome()
        if outcome is not None:
            # the new records are noted by message_new
            outcome.posted += [(route[0], route[1]) for route in routes if route[1]]
        return thread_id

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        record = super().message_new(msg_dict, custom_values=custom_values)
        outcome = self._routing_outcome()
        if outcome is not None:
            outcome.created.append((record._name, record.id))
        return record

    def _get_message_create_valid_field_names(self):
        # the gateway posts the authentication verdict (_message_route_process)
        return super()._get_message_create_valid_field_names() | {
            "gateway_auth_result",
            "gateway_auth_details",
        }

    def _notify_thread_by_email(
        self, message, recipients_data, msg_vals=False, **kwargs
    ):
        if self.env.context.get("mail_routing_no_email"):
            return True
        return super()._notify_thread_by_email(
            message, recipients_data, msg_vals=msg_vals, **kwargs
        )

    # ------------------------------------------------------------------
    # SMTP front door (cli/mailgate.py): the RCPT TO decision, built from the
    # helpers message_route uses (allow-list, alias lookup, loop counter)
    # ------------------------------------------------------------------

    @api.model
    def _routing_check_recipient(self, sender, recipient):
        """Would the gateway route mail from ``sender`` to ``recipient``?

        Read-only (no lock, no write): answered during the SMTP dialogue,
        before any data is sent. Returns a dict with a ``code`` and data, no
        sentences (mail.gateway.log words them):

        * ``ok``: ``target`` is ``alias``, ``catchall`` or ``bounce``,
          ``alias_ids`` the aliases the message would reach;
        * ``relay_denied``: the domain is neither an alias domain nor allowed
          (``mail.catchall.domain.allowed``): never an open relay;
        * ``unknown_recipient``: our domain, but no alias, catchall or bounce
          address, or the recipient is the sender (``why``);
        * ``rate_limited``: the sender is over the loop threshold of an alias
          and ``mail.gateway.smtp.rate_limit_action`` is ``defer``.
        """
        sender = email_normalize(sender or "") or (sender or "").strip().lower()
        parts = address_filter.split_address(recipient or "")
        if not parts:
            return {"code": "unknown_recipient", "why": "syntax"}
        local, domain = parts
        policy = self._get_recipient_policy()
        if domain not in policy["alias_domains"] and not (
            policy["entries"] and address_filter.match_domain(policy["entries"], domain)
        ):
            return {"code": "relay_denied", "domain": domain}
        kept, _removed = self._routing_filter_recipients([recipient], sender, policy)
        if not kept:
            return {"code": "unknown_recipient", "why": "sender"}
        for _id, _name, _ascii, catchall, bounce, _default_from in self.env[
            "mail.alias.domain"
        ]._routing_domain_facts():
            if bounce and bounce.lower() in kept:
                return {"code": "ok", "target": "bounce", "alias_ids": []}
            if catchall and catchall.lower() in kept:
                return {"code": "ok", "target": "catchall", "alias_ids": []}
        # the lookup core's message_route makes for the message's recipients
        aliases = (
            self.env["mail.alias"]
            .sudo()
            .browse(self.env["mail.alias"]._routing_alias_ids(kept, [local]))
        )
        if not aliases:
            return {"code": "unknown_recipient", "why": "no_alias"}
        result = {"code": "ok", "target": "alias", "alias_ids": aliases.ids}
        return self._routing_check_rate(sender, aliases) or result

    @api.model
    def _routing_check_rate(self, sender, aliases):
        """``rate_limited`` (with the count) when the sender is over the
        loop threshold of one of ``aliases`` and
        ``mail.gateway.smtp.rate_limit_action`` is ``defer``; else None."""
        action = routing_params.read(
            self.env["ir.config_parameter"].sudo().get_param,
            "mail.gateway.smtp.rate_limit_action",
        )
        if (
            action != "defer"
            or not sender
            or self.env["mail.gateway.allowed"]._is_trusted(sender)
        ):
            return None
        Event = self.env["mail.gateway.event"].sudo()
        now = self.env.cr.now()
        for alias in aliases.sorted("id"):
            if alias.alias_force_thread_id:
                continue  # posts into an existing thread: a reply, not limited
            minutes, threshold = alias._get_loop_limits()
            count = Event._count(
                sender,
                f"alias:{alias.id}",
                "create",
                now - datetime.timedelta(minutes=minutes),
            )
            if count >= threshold:
                return {
                    "code": "rate_limited",
                    "alias_ids": aliases.ids,
                    "alias_id": alias.id,
                    "count": count,
                    "minutes": minutes,
                    "threshold": threshold,
                }
        return None
