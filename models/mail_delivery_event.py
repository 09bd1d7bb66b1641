# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import datetime
import json
import logging

import psycopg2

from odoo import api, fields, models, tools
from odoo.tools import SQL

from ..tools import delivery_feedback, routing_params

_logger = logging.getLogger(__name__)

KIND_SELECTION = [
    (delivery_feedback.KIND_BOUNCE, "Bounce"),
    (delivery_feedback.KIND_COMPLAINT, "Spam complaint"),
    (delivery_feedback.KIND_UNSUBSCRIBE, "Unsubscribe"),
    (delivery_feedback.KIND_DEFERRED, "Deferred"),
    (delivery_feedback.KIND_DELIVERED, "Delivered"),
]
STATE_SELECTION = [
    ("applied", "Applied"),
    ("recorded", "Recorded"),
    ("unknown", "Unknown message"),
    ("failed", "Failed"),
]
# the registry's providers (tools/delivery_feedback/providers/)
PROVIDER_SELECTION = delivery_feedback.selection()


class MailDeliveryEvent(models.Model):
    """What a relay service reported about a mail Odoo sent through it
    (delivery feedback webhooks, ``controllers/delivery_feedback.py``).

    Each event is kept once: the provider's id of the event is unique, so an
    event delivered again (providers retry) changes nothing the second time.
    Its effect goes through Odoo's own bounce handling
    (``mail.thread._routing_handle_bounce``): the same as a bounce that came
    back by mail. An event for a message this database does not know is
    kept with its payload, never dropped.
    """

    _name = "mail.delivery.event"
    _description = "Delivery event reported by a relay service"
    _order = "id desc"
    _rec_name = "recipient"

    date = fields.Datetime(
        "Received",
        required=True,
        readonly=True,
        default=fields.Datetime.now,
        index=True,
    )
    provider = fields.Selection(PROVIDER_SELECTION, required=True, readonly=True)
    event_uid = fields.Char("Provider's event id", required=True, readonly=True)
    server_id = fields.Many2one(
        "ir.mail_server", "Outgoing server", readonly=True, ondelete="set null"
    )
    kind = fields.Selection(KIND_SELECTION, required=True, readonly=True, index=True)
    recipient = fields.Char(readonly=True, index=True)
    message_id = fields.Char("Message-ID", readonly=True, index=True)
    reason = fields.Text("Provider's reason", readonly=True)
    event_date = fields.Datetime(
        "Reported at",
        readonly=True,
        help="When the provider says the event happened (its timestamp).",
    )
    state = fields.Selection(
        STATE_SELECTION,
        required=True,
        readonly=True,
        index=True,
        help="Applied: Odoo acted on it as on a bounce by mail. Recorded: it "
        "changes nothing in Odoo. Unknown message: no mail of this database "
        "has this Message-ID (deleted, or sent by another database); kept "
        "with its payload. Failed: applying it raised an error (in Result); "
        "Apply again once the cause is mended.",
    )
    # what applying it did, as a code ("bounce", "blacklisted", "opted
    # out", "noted") or, when it failed, the error: worded by result_text
    result = fields.Char("Result (as stored)", readonly=True)
    result_text = fields.Char(
        "Result", compute="_compute_result_text", help="What Odoo did with it."
    )
    mail_message_id = fields.Many2one(
        "mail.message", "Message", readonly=True, ondelete="set null", index=True
    )
    partner_ids = fields.Many2many("res.partner", string="Partners", readonly=True)
    payload = fields.Json("Payload (JSON)", readonly=True)
    payload_text = fields.Text("Payload", compute="_compute_payload_text")

    _sql_constraints = [
        (
            "event_uid_unique",
            "UNIQUE(provider, event_uid)",
            "A provider's event is kept once.",
        )
    ]

    @api.depends("payload")
    def _compute_payload_text(self):
        # a Json field has no widget in a form: shown as indented JSON text
        for event in self:
            event.payload_text = (
                json.dumps(event.payload, indent=2, ensure_ascii=False, sort_keys=True)
                if event.payload is not None and event.payload is not False
                else False
            )

    @api.depends("state", "result", "kind", "recipient", "message_id")
    @api.depends_context("lang")
    def _compute_result_text(self):
        _ = self.env._
        for event in self:
            email = tools.email_normalize(event.recipient or "") or event.recipient
            if event.state == "unknown":
                text = _(
                    "Nothing applied: no mail of this database has the Message-ID "
                    "%(message_id)s (deleted since, or sent by another database "
                    "through the same provider).",
                    message_id=event.message_id or _("(none)"),
                )
            elif event.state == "failed":
                text = _(
                    "Applying it failed: %(error)s. Mend the cause, then Apply "
                    "again.",
                    error=event.result or "?",
                )
            elif event.state == "recorded":
                text = _("Recorded only: this kind of event changes nothing in Odoo.")
            else:
                text = {
                    "bounce": _(
                        "Counted as a bounce of %(email)s, as a bounce by mail "
                        "would be.",
                        email=email,
                    ),
                    "blacklisted": _("%(email)s added to the blacklist.", email=email),
                    "opted out": _(
                        "%(email)s opted out of the mailing's lists.", email=email
                    ),
                    "noted": _(
                        "Noted on the mail's notification: the provider tries " "again."
                    ),
                }.get(event.result, event.result or "")
            event.result_text = text

    # ------------------------------------------------------------------
    # Receiving
    # ------------------------------------------------------------------

    @api.model
    def _receive(self, server, verified):
        """Keep and apply the events of a verified request of ``server``'s
        provider: all of them or, on a database error, none (the caller's
        transaction is rolled back and the provider retries). An event whose
        effect fails otherwise (an error in Odoo's handling or in another
        module's override of it) is kept as failed, with the error, and the
        others go on: retried by the provider, it would fail again until the
        provider gives up and the event is lost. Returns the counts
        ``{"applied", "recorded", "unknown", "failed", "duplicate",
        "ignored"}``."""
        counts = dict.fromkeys(
            ("applied", "recorded", "unknown", "failed", "duplicate"), 0
        ) | {"ignored": verified.ignored}
        records = self.browse()
        for event in verified.events:
            record = self._insert_once(server, event)
            if record:
                records |= record
            else:
                counts["duplicate"] += 1
        records._apply_all_or_each()
        for record in records:
            counts[record.state] += 1
        return counts

    def _apply_all_or_each(self):
        """Apply the events together (the ORM batches their writes); when one
        of them fails, again one by one, each in its own savepoint, so that
        only the failing one is kept as failed."""
        if not self:
            return
        try:
            with self.env.cr.savepoint():
                for record in self:
                    record._apply()
        except psycopg2.OperationalError:
            raise
        except Exception:  # noqa: BLE001 - found again one by one, below
            for record in self:
                record._apply_or_keep_error()

    def _insert_once(self, server, event):
        """The new record of ``event``, or an empty recordset when the
        provider's event id was seen before (a concurrent delivery of the same
        event waits on the unique index and finds it taken)."""
        now = fields.Datetime.now()
        try:
            event_date = (
                datetime.datetime.utcfromtimestamp(event.timestamp)
                if event.timestamp
                else None
            )
        except (OverflowError, OSError, ValueError):
            event_date = None  # a timestamp no clock has: kept in the payload
        self.env.cr.execute(
            SQL(
                """INSERT INTO mail_delivery_event
                       (create_uid, create_date, write_uid, write_date, date,
                        provider, event_uid, server_id, kind, recipient,
                        message_id, reason, event_date, state, payload)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
                           'recorded', %s::jsonb)
                   ON CONFLICT (provider, event_uid) DO NOTHING
                   RETURNING id""",
                self.env.uid,
                now,
                self.env.uid,
                now,
                now,
                event.provider,
                event.uid,
                server.id or None,
                event.kind,
                event.recipient,
                event.message_id or None,
                event.reason,
                event_date,
                json.dumps(event.payload),
            )
        )
        row = self.env.cr.fetchone()
        return self.browse(row[0]) if row else self.browse()

    # ------------------------------------------------------------------
    # Effects, through Odoo's own handling
    # ------------------------------------------------------------------

    def _apply_or_keep_error(self):
        """Apply one event; an error of Odoo's handling (or of another
        module's override of it) rolls back this event's effects only and is
        kept on it. A database error (lost connection, serialisation failure,
        deadlock, lock timeout: ``OperationalError``) is not the event's
        fault: it fails the whole request, which Odoo retries or answers
        with a 500 for the provider to retry."""
        self.ensure_one()
        # a rolled back savepoint clears the transaction's pending precommit
        # hooks (tracking, bus): the events applied before run theirs first
        self.env.cr.precommit.run()
        try:
            with self.env.cr.savepoint():
                self._apply()
        except psycopg2.OperationalError:
            raise
        except Exception as error:  # noqa: BLE001 - kept on the event, below
            _logger.exception(
                "Delivery event %s (%s): applying it failed", self.event_uid, self.kind
            )
            self.write({"state": "failed", "result": str(error)[:500]})

    def action_apply_again(self):
        """Apply failed events again, once their cause is mended; each once,
        even when two administrators click at the same time."""
        self.check_access("read")
        self.env.cr.execute(
            SQL(
                """SELECT id FROM mail_delivery_event
                   WHERE id IN %s AND state = 'failed'
                   FOR UPDATE SKIP LOCKED""",
                tuple(self.ids) or (0,),
            )
        )
        # the events are read-only to everyone (access rules): their state
        # is the module's bookkeeping, written as the webhook writes it, for
        # an administrator (the only one who can see them) who asked for it
        events = self.browse(row[0] for row in self.env.cr.fetchall()).sudo()
        events._apply_all_or_each()
        return True

    def _apply(self):
        self.ensure_one()
        email = tools.email_normalize(self.recipient) or self.recipient.lower()
        message = (
            self.env["mail.message"]
            .sudo()
            .search([("message_id", "=", self.message_id)], limit=1)
            if self.message_id
            else self.env["mail.message"]
        )
        traces = self._mailing_traces()
        partners = (
            self.env["res.partner"].sudo().search([("email_normalized", "=", email)])
        )
        values = {"mail_message_id": message.id, "partner_ids": [(6, 0, partners.ids)]}
        if not message and not traces:
            values.update(state="unknown", result="")
            self.write(values)
            _logger.info(
                "Delivery event %s (%s) for %s: no message %s in this database; kept",
                self.event_uid,
                self.kind,
                email,
                self.message_id,
            )
            return
        handler = {
            delivery_feedback.KIND_BOUNCE: self._apply_bounce,
            delivery_feedback.KIND_COMPLAINT: self._apply_complaint,
            delivery_feedback.KIND_UNSUBSCRIBE: self._apply_unsubscribe,
            delivery_feedback.KIND_DEFERRED: self._apply_deferred,
        }.get(self.kind)
        if handler:
            values.update(
                state="applied", result=handler(email, message, partners, traces)
            )
        else:
            values.update(state="recorded", result="")
        self.write(values)

    def _mailing_traces(self):
        """Email Marketing's traces of the mail, when it is installed (a mass
        mailing's mail may be deleted once sent: its trace stays)."""
        if "mailing.trace" not in self.env or not self.message_id:
            return None
        return (
            self.env["mailing.trace"]
            .sudo()
            .search([("message_id", "=", self.message_id)])
        )

    def _provider_label(self):
        return dict(self._fields["provider"]._description_selection(self.env))[
            self.provider
        ]

    def _notifications(self, message, partners):
        if not message or not partners:
            return self.env["mail.notification"]
        return (
            self.env["mail.notification"]
            .sudo()
            .search(
                [
                    ("mail_message_id", "=", message.id),
                    ("res_partner_id", "in", partners.ids),
                ]
            )
        )

    def _apply_bounce(self, email, message, partners, traces):
        """A permanent failure: what a bounce by mail does (notification
        bounced with the provider's reason, bounce counters, Email
        Marketing's traces and blacklist rule)."""
        body = self.env._(
            "%(provider)s could not deliver this mail to %(email)s: %(reason)s",
            provider=self._provider_label(),
            email=email,
            reason=self.reason or "-",
        )
        message_dict = {
            "bounced_email": email,
            "bounced_partner": partners,
            "bounced_msg_ids": [self.message_id],
            "bounced_message": message,
            "body": body,
            "email_from": "",
            "to": email,
            "message_id": self.message_id,
        }
        self.env["mail.thread"].sudo()._routing_handle_bounce(False, message_dict)
        return "bounce"

    def _apply_complaint(self, email, message, partners, traces):
        note = self.env._(
            "Reported as spam by its recipient (%(provider)s, %(date)s).",
            provider=self._provider_label(),
            date=self.event_date or self.date,
        )
        self.env["mail.blacklist"].sudo()._add(email, message=note)
        self._notifications(message, partners).write({"failure_reason": note})
        return "blacklisted"

    def _apply_unsubscribe(self, email, message, partners, traces):
        """As Odoo's own unsubscribe: a mailing to lists opts the address
        out of those lists; any other mail blacklists it."""
        note = self.env._(
            "Unsubscribed through %(provider)s's link (%(date)s).",
            provider=self._provider_label(),
            date=self.event_date or self.date,
        )
        mailing = traces[:1].mass_mailing_id if traces else None
        if mailing and mailing.mailing_model_real == "mailing.contact":
            subscriptions = (
                self.env["mailing.subscription"]
                .sudo()
                .search(
                    [
                        ("contact_id.email_normalized", "=", email),
                        ("list_id", "in", mailing.contact_list_ids.ids),
                    ]
                )
            )
            subscriptions.write({"opt_out": True})
            return "opted out"
        self.env["mail.blacklist"].sudo()._add(email, message=note)
        self._notifications(message, partners).write({"failure_reason": note})
        return "blacklisted"

    def _apply_deferred(self, email, message, partners, traces):
        """A temporary failure: the provider retries; only said on the
        notification, no counter."""
        self._notifications(message, partners).write(
            {
                "failure_reason": self.env._(
                    "%(provider)s is retrying: %(reason)s",
                    provider=self._provider_label(),
                    reason=self.reason or "-",
                )
            }
        )
        return "noted"

    # ------------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------------

    @api.model
    def _gc_delivery_events(self):
        """Events are kept as long as gateway log entries
        (``mail.gateway.log.keep_days``)."""
        keep = routing_params.read(
            self.env["ir.config_parameter"].sudo().get_param,
            "mail.gateway.log.keep_days",
        )
        before = fields.Datetime.now() - datetime.timedelta(days=keep)
        self.env.cr.execute("DELETE FROM mail_delivery_event WHERE date < %s", [before])
        self.invalidate_model()
