# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import logging

from odoo import api, fields, models

from ..tools import mail_dns
from ..tools.dmarc_reports import sources
from ..tools.dns_check import checks as dlv
from .mail_dmarc_report_record import SOURCE_CLASSES

_logger = logging.getLogger(__name__)

#: sources whose name is looked up per run (the rest wait for the next one)
LOOKUP_BATCH = 200
LOOKUP_TIMEOUT = 20.0


class MailDmarcReportSource(models.Model):
    """An address receivers saw mail come from, once: its class (Odoo's own
    server, a relay it sends through, unknown) and its reverse DNS name,
    looked up later by a scheduled job, never while a view opens."""

    _name = "mail.dmarc.report.source"
    _description = "Source address in DMARC reports"
    _order = "ip"
    _rec_name = "ip"

    ip = fields.Char("Address", required=True, readonly=True)
    ptr_name = fields.Char("Reverse DNS name", readonly=True)
    date_lookup = fields.Datetime("Name looked up on", readonly=True)
    classification = fields.Selection(
        SOURCE_CLASSES, required=True, default=sources.UNKNOWN, readonly=True
    )
    server_id = fields.Many2one(
        "ir.mail_server", "Outgoing server", readonly=True, ondelete="set null"
    )

    _sql_constraints = [("ip_unique", "UNIQUE(ip)", "A source is stored once.")]

    @api.depends("ip", "ptr_name")
    def _compute_display_name(self):
        for source in self:
            source.display_name = (
                f"{source.ip} ({source.ptr_name})" if source.ptr_name else source.ip
            )

    @api.model
    def _classify(self, ip, own, includes_networks=()):
        """``(class, server id)`` of ``ip`` against ``own`` (``[(network,
        server)]``) and the relays' networks (``[(network, server)]``)."""
        for network, server in own:
            if sources.classify_source(ip, [network]) == sources.OWN:
                return sources.OWN, server.id
        for network, server in includes_networks:
            if sources.classify_source(ip, [network]) == sources.OWN:
                return sources.RELAY, server.id
        return sources.UNKNOWN, None

    @api.model
    def _ensure(self, ips):
        """``{ip: id}`` of the sources of ``ips``, created when new (classified
        against the servers' addresses; relays and names come with the next
        lookup). One statement, safe against parallel deliveries."""
        ips = list(dict.fromkeys(ips))
        if not ips:
            return {}
        own, _includes = self.env["mail.dmarc.report"]._own_sources()
        rows = []
        for ip in ips:
            kind, server_id = self._classify(ip, own)
            rows.append((ip, kind, server_id))
        cr = self.env.cr
        self.flush_model()
        placeholders = ", ".join(["(%s, %s, %s::int)"] * len(rows))
        cr.execute(
            f"""INSERT INTO mail_dmarc_report_source
                    (ip, classification, server_id, create_uid, create_date,
                     write_uid, write_date)
                SELECT v.ip, v.kind, v.server_id, %s, now() at time zone 'UTC',
                       %s, now() at time zone 'UTC'
                  FROM (VALUES {placeholders}) AS v(ip, kind, server_id)
                ON CONFLICT (ip) DO NOTHING""",
            [self.env.uid, self.env.uid] + [value for row in rows for value in row],
        )
        cr.execute(
            "SELECT ip, id FROM mail_dmarc_report_source WHERE ip IN %s", [tuple(ips)]
        )
        return dict(cr.fetchall())

    # ------------------------------------------------------------------
    # names and relays, looked up later
    # ------------------------------------------------------------------

    @api.model
    def _relay_networks(self, includes, resolver, deadline):
        """``[(network, server)]`` the relays' SPF records authorise: each
        include flattened by Check DNS's own SPF walk."""
        found = []
        for include, server in includes:
            try:
                terms = dlv._flatten_spf_terms(
                    [f"include:{include}"], include, resolver, deadline
                )
            except Exception:  # a relay's broken record: not a relay network
                _logger.info("relay include %s could not be read", include)
                continue
            for term in terms or ():
                _kind, _sep, value = str(term).partition(":")
                for network in sources.networks_of([value]):
                    found.append((network, server))
        return found

    @api.model
    def _cron_lookup(self, batch=LOOKUP_BATCH, timeout=LOOKUP_TIMEOUT):
        """Reverse DNS names of sources not looked up yet, and their class
        again (a relay's networks need DNS); returns the sources done."""
        todo = self.sudo().search([("date_lookup", "=", False)], limit=batch)
        if not todo:
            return todo
        Result = self.env["mail.dns.check.result"]
        resolver = Result._resolver()
        deadline = mail_dns.Deadline.after(timeout)
        own, includes = self.env["mail.dmarc.report"]._own_sources()
        relays = self._relay_networks(includes, resolver, deadline)
        now = fields.Datetime.now()
        for source in todo:
            if deadline.remaining() <= 0:
                break
            fact = dlv.check_reverse_dns(source.ip, resolver, deadline)
            names = fact.data.get("ptr") or []
            kind, server_id = self._classify(source.ip, own, relays)
            values = {
                "ptr_name": fact.data.get("name") or (names[0] if names else False),
                "date_lookup": now,
            }
            if kind != source.classification:
                values.update(classification=kind, server_id=server_id or False)
            source.write(values)
        return todo
