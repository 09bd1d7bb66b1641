# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import datetime
import email
import email.policy
import hashlib
import json
import logging

from markupsafe import escape

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, email_normalize

from ..tools import auto_mail, routing_params
from ..tools.incoming import auth_policy
from ..tools.reason_texts import (
    RCPT_REFUSALS,
    RCPT_REFUSALS_BY_REASON,
    SMTP_SESSION_REASONS,
)
from .mail_thread_incoming import CONTEXT_TRUSTED_AUTHSERV_ID

_logger = logging.getLogger(__name__)

# a folded entry keeps the sources of its first messages only
FOLD_SAMPLE_SIZE = 10
# refusals of automatic mail, and rate-limited repeats, fold into one entry
FOLDED_REASONS = ("rate_limit", "reply_limit", "auto_reply", "read_receipt")

# refused by the mailgate's limits per client (cli/client_limits.py): like
# an RCPT refusal, nothing was received

REASONS = [
    ("allow_list", "Recipient domain not allowed"),
    ("auto_reply", "Auto-reply"),
    ("read_receipt", "Read receipt"),
    ("self_loop", "Sent by one of our own addresses"),
    ("forwarding_loop", "Forwarding loop"),
    ("loop_reply", "Reply to a loop notice"),
    ("rate_limit", "Too many records from this sender"),
    ("reply_limit", "Too many replies from this sender"),
    ("write_to_catchall", "Written to the catchall address"),
    ("alias_refused", "Refused by the alias contact policy"),
    ("no_route", "No route"),
    ("unparseable", "Message could not be parsed"),
    # authentication (tools/incoming/auth_policy.py)
    ("auth_spoofed", "Unauthenticated mail in the name of your users or domains"),
    ("auth_unverified", "Unverified mail in the name of your users or domains"),
    ("dmarc_reject", "DMARC failed, the sender's domain asks to reject"),
    ("dmarc_quarantine", "DMARC failed, the sender's domain asks to quarantine"),
    ("ambiguous_from", "No single author address in From"),
    # refused during the SMTP dialogue by the mailgate (cli/mailgate.py)
    ("rcpt_relay", "Relay not permitted (SMTP)"),
    ("rcpt_unknown", "Unknown recipient (SMTP)"),
    ("rcpt_deferred", "Deferred: sender over the loop threshold (SMTP)"),
    # the mailgate's limits per client (cli/client_limits.py)
    ("client_limit", "Client over a connection limit (SMTP)"),
    ("error_limit", "Too many errors in one session (SMTP)"),
    ("pregreet", "Talked before the greeting (SMTP)"),
    ("timeout", "Session timed out (SMTP)"),
]


def storable_text(value):
    """Text PostgreSQL stores: no NUL, no lone surrogate (undecodable bytes
    a client sent): one bad value must not stop the log's batch."""
    return (
        str(value or "")
        .encode("utf-8", "replace")
        .decode("utf-8")
        .replace("\x00", "\ufffd")
    )


def storable_data(value):
    """``storable_text`` applied to every string of JSON data."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_text(key): storable_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable_data(item) for item in value]
    return value


class MailGatewayLog(models.Model):
    """Every incoming message the gateway dropped, blocked or bounced.

    Nothing is lost: the raw message is kept (for the retention period) and
    can be processed again, bypassing the check that stopped it.
    """

    _name = "mail.gateway.log"
    _description = "Mail gateway log"
    _order = "id desc"
    _rec_name = "subject"

    date = fields.Datetime(
        required=True, readonly=True, default=fields.Datetime.now, index=True
    )
    reason = fields.Selection(REASONS, required=True, readonly=True, index=True)
    details = fields.Text("Details (as logged)", readonly=True)
    # the refusal's data (codes and values): worded in the reader's language
    # by mail.routing.explanation, as the "Test incoming routing" verdict
    detail_params = fields.Json(readonly=True)
    explanation = fields.Html("Details", compute="_compute_explanation", sanitize=False)
    smtp_refusal = fields.Boolean(
        "Refused during the SMTP dialogue",
        compute="_compute_smtp_refusal",
        help=(
            "Refused by the mailgate at RCPT TO: the message itself was never sent to "
            "Odoo."
        ),
    )
    result_record = fields.Reference(
        selection="_selection_result_model", string="Created or updated", readonly=True
    )
    result_log_id = fields.Many2one(
        "mail.gateway.log", string="Refused again as", readonly=True
    )
    email_from = fields.Char("Sender", readonly=True, index=True)
    recipients = fields.Char(readonly=True)
    subject = fields.Char(readonly=True)
    message_id = fields.Char("Message-ID", readonly=True, index=True)
    alias_id = fields.Many2one("mail.alias", readonly=True, ondelete="set null")
    model = fields.Char("Target model (technical name)", readonly=True)
    bounced = fields.Boolean(
        "Answer sent", readonly=True, help="A bounce or notice was sent to the sender."
    )
    # The sources live in the filestore as ir.attachment (identical content
    # is stored once), never in this table: a storm must not bloat the rows
    # (see _store_source for the locks this avoids).
    source_ids = fields.One2many(
        "ir.attachment",
        "res_id",
        string="Raw messages (.eml)",
        domain=[("res_model", "=", "mail.gateway.log")],
        readonly=True,
    )
    raw_message = fields.Binary("Raw message (.eml)", compute="_compute_raw_message")
    raw_filename = fields.Char(compute="_compute_raw_filename")
    raw_hash = fields.Char(
        "Source SHA-256",
        readonly=True,
        index=True,
        help="Hash of the first raw message: a redelivery adds to its entry.",
    )
    fold_key = fields.Char(readonly=True, index=True, copy=False)
    first_date = fields.Datetime("First seen", readonly=True)
    count = fields.Integer("Occurrences", default=1, readonly=True)
    source_count = fields.Integer("Sources kept", readonly=True)
    sources_dropped = fields.Integer(
        "Folded without source",
        readonly=True,
        help="Messages folded into this entry whose raw source was not kept "
        f"(only the first {FOLD_SAMPLE_SIZE} of a folded series are).",
    )
    fold_note = fields.Char("Folding", compute="_compute_fold_note")
    state = fields.Selection(
        [
            ("logged", "Logged"),
            ("done", "Processed again"),
            ("refused", "Refused again"),
            ("failed", "Processing again failed"),
        ],
        default="logged",
        required=True,
        readonly=True,
    )
    # what the entry is, as its badge says: a refusal and a quarantine are
    # both "logged", but a quarantined message was accepted and is held
    status = fields.Selection(
        [
            ("refused", "Refused"),
            ("quarantined", "Quarantined"),
            ("done", "Processed again"),
            ("refused_again", "Refused again"),
            ("failed", "Failed"),
        ],
        compute="_compute_status",
        help="Refused: stopped by a rule, kept here. Quarantined: accepted from "
        "the sending server but held here, not routed, because its sender could "
        "not be trusted; process it again to deliver it. Processed again, "
        "Refused again, Failed: what Process again did (the entry says why).",
    )
    model_label = fields.Char("Target model", compute="_compute_model_label")
    result = fields.Text("Result of processing again", readonly=True)
    client_address = fields.Char(
        "SMTP client",
        readonly=True,
        index=True,
        help="Address of the server that connected to the mailgate.",
    )

    auth_result = fields.Selection(
        auth_policy.RESULT_LABELS,
        string="Sender authentication",
        readonly=True,
        index="btree_not_null",
        help=(
            "DMARC verdict of the trusted Authentication-Results header; Unverified: "
            "no trusted server checked it."
        ),
    )
    auth_details = fields.Char(
        "Authentication-Results",
        readonly=True,
        help="The trusted header the verdict was read from.",
    )

    @api.model
    def _selection_result_model(self):
        return [
            (model.model, model.name)
            for model in self.env["ir.model"].sudo().search([])
        ]

    @api.depends("reason", "detail_params", "details")
    @api.depends_context("lang")
    def _compute_explanation(self):
        Explanation = self.env["mail.routing.explanation"]
        for log in self:
            if log.detail_params and log.smtp_refusal:
                text = Explanation._rcpt_refusal_text(
                    log.reason, log.detail_params.get("recipient"), log.detail_params
                )
                log.explanation = escape(text)
            elif log.detail_params is not None and log.detail_params is not False:
                log.explanation = Explanation._outcome_text(
                    dict(log.detail_params, reason=log.reason), html=True
                )
            else:
                # entries written before their data was kept (RCPT refusals included)
                log.explanation = escape(log.details or "")

    @api.depends("state", "reason", "detail_params")
    def _compute_status(self):
        for log in self:
            if log.state == "logged":
                smtp = bool((log.detail_params or {}).get("smtp"))
                log.status = (
                    "quarantined"
                    if auth_policy.is_quarantine(log.reason, smtp=smtp)
                    else "refused"
                )
            else:
                log.status = "refused_again" if log.state == "refused" else log.state

    @api.depends("model")
    @api.depends_context("lang")
    def _compute_model_label(self):
        Explanation = self.env["mail.routing.explanation"]
        for log in self:
            log.model_label = Explanation._model_label(log.model)

    @api.depends("reason")
    def _compute_smtp_refusal(self):
        for log in self:
            log.smtp_refusal = (
                log.reason in RCPT_REFUSALS_BY_REASON
                or log.reason in SMTP_SESSION_REASONS
            )

    @api.depends("subject", "reason", "recipients", "client_address")
    @api.depends_context("lang")
    def _compute_display_name(self):
        # a refusal at RCPT TO has no subject: named by its reason and recipient
        reasons = dict(self._fields["reason"]._description_selection(self.env))
        for log in self:
            label = reasons.get(log.reason, log.reason or "")
            # a limit's entry has no recipient: named by its client
            target = log.recipients or log.client_address
            log.display_name = log.subject or (
                f"{label}: {target}" if target else label
            )

    @api.depends("message_id")
    def _compute_raw_filename(self):
        for log in self:
            log.raw_filename = f"message-{log.id}.eml"

    @api.depends("source_ids")
    def _compute_raw_message(self):
        for log in self:
            log.raw_message = log.sudo().source_ids.sorted("id")[:1].datas or False

    @api.depends("count", "source_count", "sources_dropped")
    def _compute_fold_note(self):
        for log in self:
            log.fold_note = (
                self.env._(
                    "%(count)s messages folded into this entry; the sources of "
                    "%(dropped)s of them were not kept "
                    "(only the first %(kept)s are).",
                    count=log.count,
                    dropped=log.sources_dropped,
                    kept=log.source_count,
                )
                if log.sources_dropped
                else False
            )

    def init(self):
        # the list opens on "not processed again", newest first
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS mail_gateway_log_state_id_idx ON "
            "mail_gateway_log (state, id DESC)"
        )

    @api.model
    def _log_refusal(
        self,
        message,
        message_dict,
        reason,
        details="",
        alias=None,
        model=None,
        bounced=False,
        detail_params=None,
        client_address=False,
    ):
        """Record a refused message. Repeated deliveries of one message (a
        fetchmail retry after a failure) update the same entry."""

        def text(value, size=2000):
            # a hostile header (NUL, undecodable bytes) must not stop the log
            return storable_text(value)[:size]

        values = {
            "reason": reason,
            "details": text(details, 4000),
            "detail_params": detail_params,
            "email_from": text(
                message_dict.get("email_from") or message_dict.get("from"), 500
            ),
            "recipients": text(
                message_dict.get("recipients") or message_dict.get("to")
            ),
            "subject": text(message_dict.get("subject"), 500),
            "message_id": text(message_dict.get("message_id"), 500),
            "alias_id": alias.id if alias else False,
            "model": model or (alias.sudo().alias_model_id.model if alias else False),
            "bounced": bounced,
            "client_address": text(client_address, 100) or False,
        }
        facts = message_dict.get("_routing_auth")
        if facts is not None:
            values.update(
                auth_result=facts.summary,
                auth_details=text(facts.header, 1000) or False,
            )
        raw = self._raw_source(message)
        raw_hash = hashlib.sha256(raw).hexdigest()
        Log = self.sudo()
        now = fields.Datetime.now()
        # the same message again (same bytes, not merely the same Message-ID:
        # a broken or reused Message-ID must not hide another message's
        # source): an indexed hash lookup
        existing = Log.search(
            [
                ("raw_hash", "=", raw_hash),
                ("reason", "=", reason),
                ("state", "=", "logged"),
            ],
            limit=1,
            order="id desc",
        )
        if existing:
            existing.write(
                {
                    "count": existing.count + 1,
                    "date": now,
                    "details": values["details"],
                    "detail_params": values["detail_params"],
                }
            )
            return existing
        fold_key = self._fold_key(message_dict, reason, values, alias, model)
        if fold_key:
            minutes = (alias or self.env["mail.alias"])._get_loop_limits()[0]
            since = now - datetime.timedelta(minutes=minutes)
            folded = Log.search(
                [
                    ("fold_key", "=", fold_key),
                    ("state", "=", "logged"),
                    ("first_date", ">=", since),
                ],
                limit=1,
                order="id desc",
            )
            if folded:
                update = {
                    "count": folded.count + 1,
                    "date": now,
                    "details": values["details"],
                    "detail_params": values["detail_params"],
                }
                if folded.source_count < FOLD_SAMPLE_SIZE:
                    folded._store_source(raw)
                    update["source_count"] = folded.source_count + 1
                else:
                    update["sources_dropped"] = folded.sources_dropped + 1
                folded.write(update)
                return folded
        _logger.info(
            "Gateway refused mail from %s (Message-Id %s): %s %s",
            values["email_from"],
            values["message_id"],
            reason,
            details,
        )
        log = Log.create(
            dict(
                values,
                raw_hash=raw_hash,
                fold_key=fold_key,
                first_date=now,
                source_count=1,
            )
        )
        log._store_source(raw)
        return log

    @api.model
    def _fold_key(self, message_dict, reason, values, alias, model):
        """Entries that fold repeats: automatic mail (auto-replies, bulk,
        null sender...) and rate-limited repeats, per reason, sender and
        alias (else target model, else recipients). A person's message
        refused for another reason is never folded: its source is kept."""
        verdict = message_dict.get("_routing_verdict") or auto_mail.HUMAN
        if reason not in FOLDED_REASONS and not verdict.kind:
            return False
        sender = email_normalize(values["email_from"]) or values["email_from"].lower()
        scope = (
            f"alias:{alias.id}"
            if alias
            else f"model:{model}"
            if model
            else f"to:{values['recipients'].lower()}"
        )
        key = f"{reason}|{verdict.kind or 'person'}|{sender}|{scope}"
        return hashlib.sha1(key.encode("utf-8", "replace")).hexdigest()

    def _store_source(self, raw):
        """Keep one raw message of this entry in the filestore.

        A no-route entry is written in its own transaction while the
        delivery's transaction is still open and may hold row locks (a
        company renamed in it holds its row FOR UPDATE: a key column). An
        ir.attachment row references res_company and res_users: the
        insert's foreign-key check takes a KEY SHARE lock on those rows and
        would wait forever for the delivery transaction, which waits for
        this one. So the attachment belongs to no company (the log is
        admin-only anyway) and is created by the superuser; it references
        no row the delivery writes.
        """
        self.ensure_one()
        return (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": f"message-{self.id}-{self.source_count or 1}.eml",
                    "raw": raw,
                    "mimetype": "message/rfc822",
                    "res_model": self._name,
                    "res_id": self.id,
                    "company_id": False,
                }
            )
        )

    def _get_raw_source(self):
        """The first raw message of this entry (bytes), or None once purged."""
        self.ensure_one()
        source = self.sudo().source_ids.sorted("id")[:1]
        return source.raw if source else None

    @api.model
    def _raw_source(self, message):
        """The message as received when known, else re-serialised (never fails)."""
        raw = self.env.context.get("mail_routing_raw")
        if raw:
            return raw
        for policy in (email.policy.SMTP, email.policy.compat32):
            try:
                return message.as_bytes(policy=policy)
            except Exception:
                continue
        return str(message).encode("utf-8", "replace")

    def action_confirm_process_again(self):
        """Say what processing again would do (mail.gateway.log.process),
        then do it when the admin confirms."""
        self.ensure_one()
        self.check_access("write")
        if self.smtp_refusal or not self._get_raw_source():
            return self.action_process_again()  # its error says why
        wizard = self.env["mail.gateway.log.process"].create({"log_id": self.id})
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Process again"),
            "res_model": wizard._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_process_again(self):
        """Process the logged message again, bypassing the check that stopped it."""
        # processing runs as superuser (as the gateway does): only those who
        # may change the log may trigger it
        self.check_access("write")
        for log in self:
            if log.smtp_refusal:
                raise UserError(
                    self.env._(
                        "Log %s is a refusal during the SMTP dialogue: the message "
                        "never reached Odoo, so there is "
                        "nothing to process again. The sending server keeps a deferred "
                        "message and tries again; a "
                        "refused one goes back to its sender.",
                        log.id,
                    )
                )
            raw = log._get_raw_source()
            if not raw:
                raise UserError(
                    self.env._(
                        "The raw message of log %s was purged: it cannot be processed "
                        "again.",
                        log.id,
                    )
                )
            # the steps of the run: a refusal core raises as an error is
            # recorded there, to be worded on the entry
            trace = []
            bypass = {"mail_routing_bypass": log.reason, "mail_routing_trace": trace}
            if log.auth_details:
                # the verdict stored with the entry was read from a header
                # this database trusted then (the mailgate's own): its
                # authserv-id is trusted again for this source
                bypass[CONTEXT_TRUSTED_AUTHSERV_ID] = log.auth_details.split(";", 1)[
                    0
                ].strip()
            last_log_id = self.sudo().search([], limit=1, order="id desc").id
            try:
                with self.env.cr.savepoint():
                    thread_id = (
                        self.env["mail.thread"]
                        .sudo()
                        .with_context(**bypass)
                        .message_process(log.model or False, raw)
                    )
            except Exception as exc:  # noqa: BLE001 - kept on the entry, worded
                log.write(log._process_again_failure(exc, trace))
                continue
            log.write(log._process_again_outcome(thread_id, last_log_id))
        return True

    def _process_again_failure(self, error, trace):
        """What processing again did when it raised: refused again by a rule
        that core raises as an error (no route: the trace has its
        refusal), or failed, with core's error in the reader's words."""
        self.ensure_one()
        Explanation = self.env["mail.routing.explanation"]
        refusals = [params for code, params in trace if code == "refused"]
        if refusals:
            params = refusals[-1]
            return {
                "state": "refused",
                "result_record": False,
                "result_log_id": False,
                "result": self.env._(
                    "Refused again: %s.",
                    Explanation._refusal_text(params.get("reason"), params),
                ),
            }
        return {
            "state": "failed",
            "result": self.env._(
                "Processing again failed: %s", Explanation._routing_error_text(error)
            ),
        }

    def _process_again_outcome(self, thread_id, last_log_id):
        """What processing again did, read from the database: the record the
        message was posted on, or the new log entry that refused it again."""
        self.ensure_one()
        refused = self.sudo().search(
            [("id", ">", last_log_id)], limit=1, order="id desc"
        )
        if not refused and self.message_id:
            # the same message refused again by a rule folded into an entry
            refused = self.sudo().search(
                [
                    ("id", "!=", self.id),
                    ("message_id", "=", self.message_id),
                    ("write_date", ">=", self.write_date),
                ],
                limit=1,
                order="id desc",
            )
        message = (
            self.env["mail.message"]
            .sudo()
            .search(
                [
                    ("message_id", "=", self.message_id),
                    ("model", "!=", False),
                    ("res_id", "!=", False),
                ],
                limit=1,
                order="id desc",
            )
            if self.message_id
            else self.env["mail.message"]
        )
        if message and message.model in self.env:
            record = self.env[message.model].sudo().browse(message.res_id)
            # the reader's quotation marks: „…“ in German
            label = self.env["mail.routing.explanation"]._record_label(
                message.model, message.res_id
            )
            # created in this transaction, or an existing thread posted on
            created = (
                "create_date" in record._fields
                and record.create_date == self.env.cr.now()
            )
            return {
                "state": "done",
                "result_record": f"{message.model},{message.res_id}",
                "result_log_id": False,
                "result": self.env._(
                    "Processed again: created %(record)s.", record=label
                )
                if created
                else self.env._("Processed again: posted on %(record)s.", record=label),
            }
        if refused:
            return {
                "state": "refused",
                "result_log_id": refused.id,
                "result_record": False,
                "result": self.env._(
                    "Refused again (%(reason)s): see the linked log entry.",
                    reason=dict(
                        refused._fields["reason"]._description_selection(self.env)
                    ).get(refused.reason),
                ),
            }
        return {
            "state": "done",
            "result_record": False,
            "result_log_id": False,
            "result": self.env._(
                "Processed again: no record was created or updated (thread %s).",
                thread_id or "-",
            ),
        }

    @api.model
    def _gc_logs(self, batch=1000):
        """Cron: purge the raw messages of entries older than
        ``mail.gateway.log.retention_days`` (default 30), then the entries
        older than ``mail.gateway.log.keep_days`` (default 180): what was
        refused, when and why stays visible longer than the sources."""
        get_param = self.env["ir.config_parameter"].sudo().get_param
        retention = routing_params.read(get_param, "mail.gateway.log.retention_days")
        keep = routing_params.read(get_param, "mail.gateway.log.keep_days")
        now = fields.Datetime.now()
        sources_before = now - datetime.timedelta(days=min(retention, keep))
        entries_before = now - datetime.timedelta(days=keep)
        Attachment = self.env["ir.attachment"].sudo()
        while True:
            # the entry's last occurrence counts: a series still going on keeps its
            # samples
            self.env.cr.execute(
                """SELECT a.id FROM ir_attachment a JOIN mail_gateway_log l ON l.id =
                       a.res_id
                   WHERE a.res_model = 'mail.gateway.log' AND l.date < %s LIMIT %s""",
                [sources_before, batch],
            )
            ids = [row[0] for row in self.env.cr.fetchall()]
            if not ids:
                break
            # through the ORM: the files are marked for the filestore's garbage
            # collector
            Attachment.browse(ids).unlink()
        self.env.cr.execute(
            "DELETE FROM mail_gateway_log WHERE date < %s", [entries_before]
        )
        self.invalidate_model()
        # what relay services reported: kept as long as the log entries
        self.env["mail.delivery.event"]._gc_delivery_events()
        self.env["mail.delivery.replay"]._gc_replay_keys()

    # ------------------------------------------------------------------
    # SMTP front door (cli/mailgate.py): refusals during the dialogue
    # ------------------------------------------------------------------

    @api.model
    def _log_rcpt_refusal(
        self, reason, sender, recipient, client_address, details, count=1
    ):
        """Record one refusal of the mailgate (``_log_rcpt_refusals``)."""
        return self._log_rcpt_refusals(
            [(reason, sender, recipient, client_address, details, count)]
        )

    @api.model
    def _log_rcpt_refusals(self, refusals):
        """Record what the mailgate refused during the SMTP dialogue (no
        message was sent, so there is no raw message): ``refusals`` are
        ``(reason, sender, recipient, client address, details, count)``,
        ``details`` the result of mail.thread._routing_check_recipient or of
        a limit. Refusals of the same reason, sender, recipient and client
        within a day add to one entry.

        A dictionary attack brings hundreds of new entries a second: one
        query finds the entries to add to, one statement updates them and one
        ``create`` inserts the others, instead of a search and a write each
        (the mailgate's refusal log writes from a thread of its own, and the
        SMTP sessions wait for the interpreter lock meanwhile)."""
        admin = self.env.ref("base.user_admin", raise_if_not_found=False)
        self = self.sudo().with_context(
            lang=self.env.context.get("lang") or (admin and admin.lang) or "en_US"
        )
        folded = {}
        for reason, sender, recipient, client_address, details, count in refusals:
            reason = (
                RCPT_REFUSALS[reason].log_reason if reason in RCPT_REFUSALS else reason
            )
            key = (
                reason,
                storable_text(sender or "<>")[:500],
                storable_text(recipient)[:2000],
                storable_text(client_address)[:100],
            )
            details = storable_data(details or {})
            previous = folded.get(key)
            folded[key] = ((previous[0] if previous else 0) + count, details or {})
        if not folded:
            return self.browse()
        now = fields.Datetime.now()
        self.flush_model(
            [
                "reason",
                "email_from",
                "recipients",
                "client_address",
                "state",
                "message_id",
                "date",
                "count",
            ]
        )
        self.env.cr.execute(
            SQL(
                """SELECT DISTINCT ON (l.reason, l.email_from, l.recipients,
                       l.client_address)
                          l.id, l.reason, l.email_from, COALESCE(l.recipients, ''),
                          l.client_address
                     FROM mail_gateway_log l
                     JOIN (VALUES %s) AS v(reason, email_from, recipients,
                         client_address)
                       ON l.reason = v.reason AND l.email_from = v.email_from
                      AND COALESCE(l.recipients, '') = v.recipients AND l.client_address
                          = v.client_address
                    WHERE l.state = 'logged' AND l.message_id IS NULL AND l.date >= %s
                 ORDER BY l.reason, l.email_from, l.recipients, l.client_address, l.id
                     DESC""",
                SQL(", ").join(SQL("(%s, %s, %s, %s)", *key) for key in folded),
                fields.Datetime.subtract(now, days=1),
            )
        )
        existing = {tuple(row[1:]): row[0] for row in self.env.cr.fetchall()}
        updates, creates = [], []
        for key, (count, details) in folded.items():
            reason, sender, recipient, client_address = key
            text = self.env["mail.routing.explanation"]._rcpt_refusal_text(
                reason, recipient, details
            )
            # the data of the refusal: the log words it in its reader's language
            params = dict(details, recipient=recipient)
            if key in existing:
                updates.append((existing[key], count, text, params))
                continue
            alias_ids = (
                [details.get("alias_id")]
                if details.get("alias_id")
                else details.get("alias_ids") or []
            )
            creates.append(
                {
                    "email_from": sender,
                    "recipients": recipient,
                    "client_address": client_address,
                    "reason": reason,
                    "details": text,
                    "detail_params": params,
                    "count": count,
                    "date": now,
                    "first_date": now,
                    "alias_id": alias_ids[0] if alias_ids else False,
                }
            )
        if updates:
            self.env.cr.execute(
                SQL(
                    """UPDATE mail_gateway_log AS l
                          SET count = l.count + v.count, date = %s,
                              details = v.details, detail_params = v.params::jsonb,
                              write_date = %s, write_uid = %s
                         FROM (VALUES %s) AS v(id, count, details, params)
                        WHERE l.id = v.id""",
                    now,
                    now,
                    self.env.uid,
                    SQL(", ").join(
                        SQL("(%s, %s, %s, %s)", log_id, count, text, json.dumps(params))
                        for log_id, count, text, params in updates
                    ),
                )
            )
            self.browse([update[0] for update in updates]).invalidate_recordset(
                ["count", "date", "details", "detail_params", "write_date", "write_uid"]
            )
        created = self.browse()
        if creates:
            alias_ids = {vals["alias_id"] for vals in creates if vals["alias_id"]}
            living = set(self.env["mail.alias"].browse(alias_ids).exists().ids)
            # one INSERT: the ORM's create costs about 0.3 ms a record in
            # Python, a burst the SMTP sessions would wait for every second
            # under a dictionary attack (these entries have no default, no
            # computed stored field and nothing to notify)
            self.env.cr.execute(
                SQL(
                    """INSERT INTO mail_gateway_log
                           (create_uid, create_date, write_uid, write_date, state,
                            date, first_date, count, reason, details, detail_params,
                            email_from, recipients, client_address, alias_id)
                       VALUES %s RETURNING id""",
                    SQL(", ").join(
                        SQL(
                            "(%s, %s, %s, %s, 'logged', %s, %s, %s, %s, %s, "
                            "%s::jsonb, %s, %s, %s, %s)",
                            self.env.uid,
                            now,
                            self.env.uid,
                            now,
                            now,
                            now,
                            vals["count"],
                            vals["reason"],
                            vals["details"],
                            json.dumps(vals["detail_params"]),
                            vals["email_from"],
                            vals["recipients"],
                            vals["client_address"],
                            vals["alias_id"] if vals["alias_id"] in living else None,
                        )
                        for vals in creates
                    ),
                )
            )
            created = self.browse([row[0] for row in self.env.cr.fetchall()])
        return self.browse([update[0] for update in updates]) | created
