# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import datetime
import logging

import psycopg2

from odoo import api, fields, models
from odoo.tools import email_normalize

from ..tools import address_filter, mail_auth, routing_params
from ..tools import dmarc_reports as dr
from ..tools.dmarc_reports import limits as lim
from ..tools.dmarc_reports import reader, sources
from ..tools.dmarc_reports.texts import refusal_text
from ..tools.dns_check import checks as dlv

_logger = logging.getLogger(__name__)

STATES = [
    ("done", "Stored"),
    ("ignored", "Ignored"),
    ("refused", "Refused"),
]
KINDS = [(reader.DMARC, "DMARC"), (reader.TLS, "TLS")]
#: local part of the alias the reports are sent to (rua=mailto:)
ALIAS_XMLID = "mail_routing_policy.mail_alias_dmarc_reports"
#: reports removed per run of the retention job
GC_BATCH = 1000


class MailDmarcReport(models.Model):
    """One report a receiver sent: a DMARC aggregate report (RFC 9990 / RFC
    7489) or a TLS report (RFC 8460), received as mail through the report
    alias. Stored once per (kind, reporting organisation, report id); a
    copy received again is posted on the first. A report that cannot be
    read, or is about a domain this database does not send for, is kept
    with its reason (and the mail in its chatter), without rows."""

    _name = "mail.dmarc.report"
    _inherit = ["mail.thread"]
    _description = "Report from a receiver (DMARC, TLS)"
    _order = "date_begin desc, id desc"
    _mail_post_access = "read"

    name = fields.Char(compute="_compute_name", store=True)
    kind = fields.Selection(KINDS, readonly=True, index=True)
    state = fields.Selection(STATES, required=True, readonly=True, default="done")
    reason_code = fields.Char(readonly=True)
    reason_params = fields.Json(readonly=True)
    reason = fields.Char(compute="_compute_reason")
    org_name = fields.Char("Reporting organisation", readonly=True, index=True)
    org_email = fields.Char("Reporter's address", readonly=True)
    extra_contact_info = fields.Char(readonly=True)
    report_id = fields.Char("Report ID", readonly=True)
    policy_domain = fields.Char("Domain", readonly=True, index=True)
    date_begin = fields.Datetime("From", readonly=True, index=True)
    date_end = fields.Datetime("To", readonly=True)
    report_format = fields.Char("Format", readonly=True)
    generator = fields.Char(readonly=True)
    policy_p = fields.Char("Policy (p)", readonly=True)
    policy_sp = fields.Char("Subdomain policy (sp)", readonly=True)
    policy_np = fields.Char("Non-existent subdomain policy (np)", readonly=True)
    policy_adkim = fields.Char("DKIM alignment (adkim)", readonly=True)
    policy_aspf = fields.Char("SPF alignment (aspf)", readonly=True)
    policy_pct = fields.Integer("Percentage (pct)", readonly=True)
    policy_testing = fields.Char("Testing (t)", readonly=True)
    discovery_method = fields.Char(readonly=True)
    report_errors = fields.Text("Errors the receiver reports", readonly=True)
    message_count = fields.Integer("Messages reported", readonly=True)
    copies = fields.Integer("Copies received", readonly=True, default=1)
    attachment_name = fields.Char("File", readonly=True)
    record_ids = fields.One2many(
        "mail.dmarc.report.record", "report_id", "Rows", readonly=True
    )
    tls_ids = fields.One2many(
        "mail.dmarc.report.tls", "report_id", "TLS results", readonly=True
    )

    _sql_constraints = [
        (
            "report_unique",
            "UNIQUE(kind, org_name, report_id)",
            "A report is stored once per reporting organisation and report ID.",
        )
    ]

    @api.depends("org_name", "report_id", "policy_domain", "state")
    def _compute_name(self):
        for report in self:
            if report.org_name:
                report.name = " / ".join(
                    part
                    for part in (
                        report.policy_domain,
                        report.org_name,
                        report.report_id,
                    )
                    if part
                )
            else:
                report.name = report.name or report.attachment_name or "?"

    def _compute_reason(self):
        for report in self:
            report.reason = (
                refusal_text(report.reason_code, report.reason_params, self.env)
                if report.reason_code
                else False
            )

    # ------------------------------------------------------------------
    # what the database sends for
    # ------------------------------------------------------------------

    @api.model
    def _owned_domains(self):
        """The domains this database sends or receives for: its alias domains,
        the domains of the outgoing servers' FROM filters and of
        ``mail.default.from``."""
        names = set(self.env["mail.alias.domain"].sudo().search([]).mapped("name"))
        Server = self.env["ir.mail_server"].sudo()
        filters = Server.search([]).mapped("from_filter") + [
            Server._get_default_from_filter() or ""
        ]
        for from_filter in filters:
            for entry in Server._parse_from_filter(from_filter or ""):
                if entry.kind == address_filter.KIND_DOMAIN:
                    names.add(entry.value)
                elif entry.kind == address_filter.KIND_ADDRESS:
                    names.add(entry.value.rpartition("@")[2])
        default_from = routing_params.read(
            self.env["ir.config_parameter"].sudo().get_param, "mail.default.from"
        )
        if default_from and "@" in default_from:
            names.add(default_from.rpartition("@")[2])
        owned = set()
        for name in names:
            try:
                owned.add(address_filter.domain_to_ascii(name))
            except ValueError:
                continue
        return owned

    @api.model
    def _own_sources(self):
        """``(networks, includes)`` of the outgoing servers' *Sending
        addresses*: ``[(network, server)]`` and ``[(include, server)]``."""
        networks, includes = [], []
        for server in self.env["ir.mail_server"].sudo().search([]):
            try:
                entered, relays = dlv.parse_sending_addresses(server.sending_addresses)
            except dlv.ConfigValueError:
                continue
            networks += [(network, server) for network in sources.networks_of(entered)]
            includes += [(include, server) for include in relays]
            for network in sources.networks_of([server.smtp_host or ""]):
                networks.append((network, server))
        return networks, includes

    # ------------------------------------------------------------------
    # receiving
    # ------------------------------------------------------------------

    @api.model
    def _limits(self):
        """The bounds in force: the ``mail.dmarc_reports.*`` system parameters."""
        get_param = self.env["ir.config_parameter"].sudo().get_param
        return lim.Limits(
            **{
                name: routing_params.read(get_param, lim.param_key(name))
                for name in lim.bound_names()
            }
        )

    @api.model
    def _routing_loop_limits(self):
        """Storing a report sends no mail: it cannot loop, and a receiver
        sends one report per domain at once. The bound is a flood's instead:
        ``mail.dmarc_reports.sender_daily_limit`` reports per sender a day
        (each report is stored once per organisation and report ID)."""
        return 24 * 60, routing_params.read(
            self.env["ir.config_parameter"].sudo().get_param,
            "mail.dmarc_reports.sender_daily_limit",
        )

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """A report mail: each attachment read; the first report is the record
        the mail is posted on (the one it repeats when it was received
        before). Nothing is dropped: a mail without a readable report is kept
        as a refused report with its reason."""
        attachments = msg_dict.get("attachments") or []
        reports = self.browse()
        for attachment in attachments:
            reports |= self._receive_attachment(
                attachment.fname, attachment.content, msg_dict
            )
        if not attachments:
            reports = self._store_refusal("no_attachment", {}, "", msg_dict)
        first = reports[:1]
        return first

    @api.model
    def _receive_attachment(self, filename, content, msg_dict=None):
        """The report of one attachment, stored (or the stored one it repeats,
        or a refused one with its reason)."""
        msg_dict = msg_dict or {}
        try:
            read = dr.read_attachment(content, self._limits())
        except lim.Refusal as refusal:
            _logger.info(
                "report %s from %s refused: %s",
                filename,
                msg_dict.get("email_from"),
                refusal,
            )
            return self._store_refusal(refusal.code, refusal.params, filename, msg_dict)
        try:
            with self.env.cr.savepoint():
                return self._store(read.kind, read.report, filename, msg_dict)
        except (psycopg2.Error, MemoryError):
            raise  # a database error: the delivery is retried
        except Exception as exc:
            # core marks the alias invalid when message_new fails: a bug
            # storing one report must not stop the next ones, nor lose this one
            _logger.exception("report %s could not be stored", filename)
            return self._store_refusal(
                "store_error", {"error": repr(exc)[:200]}, filename, msg_dict
            )

    @api.model
    def _store_refusal(self, code, params, filename, msg_dict):
        return self.sudo().create(
            {
                "state": "refused",
                "reason_code": code,
                "reason_params": params,
                "attachment_name": filename,
                "name": msg_dict.get("subject") or filename or "?",
                "org_email": email_normalize(msg_dict.get("email_from") or "") or False,
            }
        )

    @api.model
    def _report_domains(self, kind, report):
        if kind == reader.DMARC:
            return [report.policy.domain]
        return [policy.policy_domain for policy in report.policies]

    @api.model
    def _store(self, kind, report, filename, msg_dict):
        Report = self.sudo()
        cr = self.env.cr
        # parallel deliveries of the same report wait for each other here; a
        # race the lock misses (snapshots) ends at the unique constraint,
        # and the delivery is retried (451 / fetchmail's next run)
        cr.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))",
            [f"mail.dmarc.report|{kind}|{report.org_name}|{report.report_id}"],
        )
        existing = Report.search(
            [
                ("kind", "=", kind),
                ("org_name", "=", report.org_name),
                ("report_id", "=", report.report_id),
            ],
            limit=1,
        )
        if existing:
            existing.copies += 1
            _logger.info(
                "report %s of %s received again (%s copies)",
                report.report_id,
                report.org_name,
                existing.copies,
            )
            return existing
        values = self._report_values(kind, report, filename)
        owned = self._owned_domains()
        domains = self._report_domains(kind, report)
        if not any(
            sources.owned_domain(domain, owned, mail_auth.org_domain)
            for domain in domains
        ):
            values.update(
                state="ignored",
                reason_code=sources.IGNORE_FOREIGN_DOMAIN,
                reason_params={"domain": ", ".join(domains)},
            )
            _logger.info(
                "report %s of %s ignored: %s is not a domain of this database",
                report.report_id,
                report.org_name,
                ", ".join(domains),
            )
            return Report.create(values)
        stored = Report.create(values)
        if kind == reader.DMARC:
            self.env["mail.dmarc.report.record"]._create_from(stored, report)
        else:
            self.env["mail.dmarc.report.tls"]._create_from(stored, report)
        return stored

    @api.model
    def _report_values(self, kind, report, filename):
        values = {
            "kind": kind,
            "org_name": report.org_name,
            "report_id": report.report_id,
            "date_begin": report.date_begin,
            "date_end": report.date_end,
            "message_count": report.message_count,
            "attachment_name": filename,
            "policy_domain": ", ".join(self._report_domains(kind, report))[:255],
        }
        if kind == reader.TLS:
            values.update(
                org_email=report.contact_info,
                report_format="RFC 8460",
            )
            return values
        policy = report.policy
        values.update(
            org_email=report.email,
            extra_contact_info=report.extra_contact_info,
            report_format="RFC 9990"
            if report.namespace == dr.aggregate.NAMESPACE_9990
            else "RFC 7489",
            generator=report.generator,
            policy_p=policy.p,
            policy_sp=policy.sp,
            policy_np=policy.np,
            policy_adkim=policy.adkim,
            policy_aspf=policy.aspf,
            policy_pct=policy.pct if policy.pct is not None else False,
            policy_testing=policy.testing,
            discovery_method=policy.discovery_method,
            report_errors="\n".join(report.errors),
        )
        return values

    # ------------------------------------------------------------------
    # address to publish
    # ------------------------------------------------------------------

    @api.model
    def _report_address(self):
        """The report alias's address (``rua=mailto:``), or ``""`` when the
        alias is gone or inactive (no name); an alias without a domain takes
        the company's alias domain, as routing does."""
        alias = self.env.ref(ALIAS_XMLID, raise_if_not_found=False)
        alias = alias.sudo() if alias else alias
        if not alias or not alias.alias_name:
            return ""
        domain = alias.alias_domain_id or self.env.company.alias_domain_id
        return f"{alias.alias_name}@{domain.name}" if domain else ""

    # ------------------------------------------------------------------
    # retention
    # ------------------------------------------------------------------

    @api.model
    def _gc_reports(self):
        """Reports older than the gateway log's ``mail.gateway.log.keep_days``
        go, with their rows."""
        days = routing_params.read(
            self.env["ir.config_parameter"].sudo().get_param,
            "mail.gateway.log.keep_days",
        )
        limit = fields.Datetime.now() - datetime.timedelta(days=days)
        old = self.sudo().search([("create_date", "<", limit)], limit=GC_BATCH)
        old.unlink()
        return len(old)

    def action_open_rows(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "mail_routing_policy.mail_dmarc_report_record_action"
        )
        action["domain"] = [("report_id", "=", self.id)]
        action["context"] = {}
        return action
