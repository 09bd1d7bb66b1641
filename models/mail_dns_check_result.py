# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import dataclasses
import ipaddress
import logging

from markupsafe import Markup, escape

from odoo import api, fields, models, tools
from odoo.tools import email_normalize

from ..tools import address_filter, mail_dns, routing_params
from ..tools.dns_check import checks as dlv
from ..tools.dns_check import inbound_tls as itls
from ..tools.reason_texts import (
    RECEIVER_TEXTS,
    RECEIVER_TEXTS_NO_SELECTOR,
    TLS_ERROR_TEXTS,
    TLS_METHOD_TEXTS,
    deliverability_text,
    word,
)

_logger = logging.getLogger(__name__)

STATUSES = [
    (dlv.PASS, "Pass"),
    (dlv.WARNING, "Warning"),
    (dlv.FAIL, "Fail"),
    (dlv.UNKNOWN, "Could not be checked"),
]
CHECKS = [
    (dlv.CHECK_SPF, "SPF"),
    (dlv.CHECK_DKIM, "DKIM"),
    (dlv.CHECK_DMARC, "DMARC"),
    (dlv.CHECK_ALIGNMENT, "DMARC alignment"),
    (dlv.CHECK_MX, "MX"),
    (dlv.CHECK_REVERSE_DNS, "Reverse DNS"),
    (dlv.CHECK_TLS, "TLS"),
    (itls.CHECK_MX_TLS, "MX TLS"),
    (itls.CHECK_MTA_STS, "MTA-STS"),
    (itls.CHECK_TLS_RPT, "TLS reporting"),
]
#: facts about a domain whatever server sends for it: stored once per domain
DOMAIN_CHECKS = (dlv.CHECK_DKIM, dlv.CHECK_DMARC, dlv.CHECK_MX)
#: seconds one Check DNS (all paths) may take, and Check sender's one path
RUN_TIMEOUT = 30.0
PATH_TIMEOUT = 10.0
#: codes whose text differs when no record can be proposed
_NO_RECORD_VARIANT = (
    dlv.CODE_TOO_MANY_LOOKUPS,
    dlv.CODE_TOO_MANY_VOID_LOOKUPS,
    dlv.CODE_RECORD_SYNTAX,
)
#: codes of a resolver that does not work (every line of the check)
RESOLVER_CODES = (
    dlv.CODE_RESOLVER_BROKEN,
    dlv.CODE_RESOLVER_TIMEOUT,
    dlv.CODE_RESOLVER_SERVFAIL,
)
#: seconds a sending path may use at least, of what is left of a check
MIN_PATH_TIME = 2.0
CONFIG_FILE = "config"


class MailDeliverabilityResult(models.Model):
    """What DNS says about one sender Odoo uses: one line per domain, check
    and server (domain-wide facts without server), from the last check.

    The facts are decided by ``tools/dns_check/checks.py`` (codes and data);
    their words come from ``tools/reason_texts.py``, in the reader's language.
    """

    _name = "mail.dns.check.result"
    _description = "DNS check of a sender"
    _order = "domain, server_label, sequence, id"
    _rec_name = "domain"

    key = fields.Char(required=True, index=True, readonly=True)
    sequence = fields.Integer(readonly=True)
    domain = fields.Char(
        required=True, readonly=True, help="The From domain the fact is about."
    )
    check = fields.Selection(CHECKS, required=True, readonly=True)
    subject = fields.Char(
        "Name checked",
        readonly=True,
        help="The DNS name or address read: the envelope domain for SPF, "
        "<selector>._domainkey.<domain> for DKIM, the sending address for reverse "
        "DNS.",
    )
    server_id = fields.Many2one(
        "ir.mail_server", "Outgoing server", readonly=True, ondelete="cascade"
    )
    server_label = fields.Char("Server", readonly=True)
    from_address = fields.Char("From", readonly=True)
    envelope = fields.Char("Envelope sender", readonly=True)
    status = fields.Selection(STATUSES, required=True, readonly=True)
    previous_status = fields.Selection(STATUSES, readonly=True)
    code = fields.Char(readonly=True)
    data = fields.Json(readonly=True)
    text = fields.Text("What it means", compute="_compute_text")
    record_to_publish = fields.Char("Record to publish", readonly=True)
    date_checked = fields.Datetime("Checked on", readonly=True)

    @api.depends("check", "code", "data", "subject", "domain", "record_to_publish")
    def _compute_text(self):
        for result in self:
            result.text = deliverability_text(
                result.check, result.code, result._text_params(), self.env
            )

    def _text_params(self):
        params = {}
        for name, value in (self.data or {}).items():
            if isinstance(value, dict):
                value = ", ".join(f"{key}: {item}" for key, item in value.items())
            elif isinstance(value, list | tuple):
                value = ", ".join(str(item) for item in value) or self.env._("none")
            params[name] = value
        data = self.data or {}
        if self.check == dlv.CHECK_ALIGNMENT:
            params["aligned"] = ", ".join(
                self._aligned_word(item) for item in data.get("aligned", [])
            )
        variant = self._text_variant(data)
        if variant:
            params["variant"] = variant
        if "servers" in data and not data["servers"]:
            params["servers"] = self.env._("(none configured)")
        if self.check == dlv.CHECK_TLS:
            params.update(self._tls_params(data))
        if self.code == dlv.CODE_READINGS_DIFFER:
            for reading, suffix in (
                (dlv.READING_9989, "9989"),
                (dlv.READING_7489, "7489"),
            ):
                found = data.get(reading) or {}
                if self.check == dlv.CHECK_DMARC:
                    params[f"reading_{suffix}"] = self._reading_words(found)
                else:
                    params[f"outcome_{suffix}"] = self._outcome_words(found)
        if self.code == dlv.CODE_POLICY_TESTING:
            params["applied_9989"] = (data.get(dlv.READING_9989) or {}).get(
                "applied", ""
            )
        params.setdefault("domain", self.subject or self.domain)
        params["subject"] = self.subject
        return params

    def _text_variant(self, data):
        """Which text of the code fits the data ("" for its plain one)."""
        if self.code in _NO_RECORD_VARIANT and not self.record_to_publish:
            return "no_record"
        if self.code == dlv.CODE_NO_SELECTOR and data.get("servers"):
            return "server"
        if self.code == dlv.CODE_NO_SELECTOR and data.get("config_file"):
            return "config_file"
        if self.check == dlv.CHECK_DMARC and self.code == dlv.CODE_NO_RECORD:
            # the From domain is its own organisational domain: named once
            org_domain = data.get("org_domain") or data.get("from_domain")
            return "same" if org_domain == data.get("from_domain") else ""
        if self.code in RESOLVER_CODES and data.get("machine"):
            return "machine"
        if self.code == dlv.CODE_NO_MX and data.get("expected"):
            return "expected"
        if self.code == dlv.CODE_NO_TLS and data.get("starttls_offered"):
            return "offered"
        return ""

    def _tls_params(self, data):
        """The TLS line's data in words: the method as the server form names
        it, why a connection failed, what is wrong with the certificate."""
        _ = self.env._
        encryption = data.get("encryption") or "none"
        params = {
            "method": word(TLS_METHOD_TEXTS[encryption], env=self.env)
            if encryption in TLS_METHOD_TEXTS
            else encryption
        }
        error = data.get("error") or ""
        if error in TLS_ERROR_TEXTS:
            params["error"] = word(TLS_ERROR_TEXTS[error], env=self.env)
        host = data.get("host", "")
        if data.get("verify_error") and data.get("name_matches") is False:
            params["certificate"] = _(
                "does not verify (%(error)s) and does not name %(host)s",
                error=data["verify_error"],
                host=host,
            )
        elif data.get("verify_error"):
            params["certificate"] = _("does not verify (%s)", data["verify_error"])
        else:
            params["certificate"] = _("does not name %s", host)
        return params

    def _reading_words(self, found):
        """What receivers of one DMARC reading find, in words."""
        _ = self.env._
        domain = found.get("record_domain", "")
        if not found.get("found"):
            return _("find no DMARC record")
        if found.get("records", 1) > 1:
            return _("ignore the several DMARC records of %s", domain)
        if not found.get("policy"):
            return _("ignore the invalid DMARC record of %s", domain)
        if found.get("pct", 100) < 100:
            return _(
                "apply policy %(policy)s to %(pct)s%% of unaligned mail (record at "
                "%(domain)s)",
                policy=found["policy"],
                pct=found["pct"],
                domain=domain,
            )
        if found.get("applied") != found["policy"]:
            return _(
                "apply %(applied)s instead of %(policy)s (record at %(domain)s, "
                "test mode)",
                applied=found.get("applied"),
                policy=found["policy"],
                domain=domain,
            )
        return _(
            "apply policy %(policy)s (record at %(domain)s)",
            policy=found["policy"],
            domain=domain,
        )

    def _outcome_words(self, verdict):
        """What receivers of one DMARC reading do with a path's mail, in words."""
        _ = self.env._
        if verdict.get("status") == dlv.PASS:
            return _(
                "let DMARC pass (it aligns with %s)",
                ", ".join(self._aligned_word(item) for item in verdict["aligned"]),
            )
        if verdict.get("status") == dlv.UNKNOWN:
            return _("cannot be predicted: a DNS answer is missing")
        return {
            "reject": _("reject this mail"),
            "quarantine": _("put this mail in the spam folder"),
        }.get(
            verdict.get("would_be"),
            _("see DMARC fail without a policy to apply"),
        )

    # ------------------------------------------------------------------
    # the sending paths of the configuration
    # ------------------------------------------------------------------

    @api.model
    def _resolver(self):
        """The shared resolver as one check sees it: a name that does not answer
        is asked once a check (:class:`.mail_dns.RunResolver`)."""
        value = routing_params.read(
            self.env["ir.config_parameter"].sudo().get_param, "mail.dns.nameservers"
        )
        try:
            shared = mail_dns.shared_resolver(value or "")
        except mail_dns.NameserverError:
            _logger.warning("mail.dns.nameservers ignored: %s", value)
            shared = mail_dns.shared_resolver(())
        return mail_dns.RunResolver(shared)

    @api.model
    def _filter_authors(self, from_filter):
        """An author for each entry of a FROM filter that names one domain."""
        authors = []
        for entry in self.env["ir.mail_server"]._parse_from_filter(from_filter or ""):
            if entry.kind == address_filter.KIND_DOMAIN:
                authors.append(f"postmaster@{entry.value}")
            elif entry.kind == address_filter.KIND_ADDRESS:
                authors.append(entry.value)
        return authors

    @api.model
    def _sending_paths(self):
        """Every sending path of the configuration, as real sending decides it.

        Authors: each alias domain's default From, catchall and bounce
        address, ``mail.default.from`` resolved for it, and an address of each
        domain (or the address) of every FROM filter. For each company, each
        author goes through Check sender's code (``_explain_sending``: the
        server real sending picks, the From it writes, the envelope), and
        through each failover server of the same tier (pinned to it).
        Returns dicts ``server`` (record, empty for the configuration file's
        server), ``from_address``, ``from_domain``, ``envelope``,
        ``envelope_domain``, ``alias_domain``, one per distinct
        (server, From domain, envelope domain).
        """
        Server = self.env["ir.mail_server"].sudo()
        servers = Server.search([], order="sequence, id")
        alias_domains = self.env["mail.alias.domain"].sudo().search([])
        authors = []
        for alias_domain in alias_domains:
            authors += [
                alias_domain.default_from_email,
                alias_domain.catchall_email,
                alias_domain.bounce_email,
                Server._resolve_default_from(alias_domain),
            ]
        for server in servers:
            authors += self._filter_authors(server.from_filter)
        authors += self._filter_authors(Server._get_default_from_filter())
        authors = [
            author for author in dict.fromkeys(map(email_normalize, authors)) if author
        ]
        companies = self.env["res.company"].sudo().search([])
        paths = {}
        seen_alias_domains = set()
        for company in companies:
            if company.alias_domain_id.id in seen_alias_domains:
                continue
            seen_alias_domains.add(company.alias_domain_id.id)
            for author in authors:
                explained = Server._explain_sending(author, company=company)
                if explained["invalid"] or explained["blocked"]:
                    continue
                self._add_path(paths, explained, company)
                for candidate in explained["candidates"] - explained["server"]:
                    pinned = Server._explain_sending(
                        author, company=company, pinned_server=candidate
                    )
                    if not pinned["blocked"]:
                        self._add_path(paths, pinned, company)
        return list(paths.values())

    @api.model
    def _add_path(self, paths, explained, company):
        from_address = email_normalize(explained["header_from"] or "")
        envelope = email_normalize(explained["envelope_from"] or "")
        if not from_address:
            return
        from_domain = from_address.rpartition("@")[2]
        envelope_domain = (envelope or from_address).rpartition("@")[2]
        server = explained["server"]
        key = (server.id or CONFIG_FILE, from_domain, envelope_domain)
        paths.setdefault(
            key,
            {
                "server": server,
                "from_address": from_address,
                "from_domain": from_domain,
                "envelope": envelope or from_address,
                "envelope_domain": envelope_domain,
                "company": company,
            },
        )

    @api.model
    def _server_label(self, server):
        return server.name or self.env._("SMTP settings of the Odoo configuration file")

    @api.model
    def _server_sending(self, server, resolver, deadline):
        """``(addresses, includes, host, from_host)`` of a server (empty: the
        configuration file's): the addresses its mail leaves from, entered or
        read from its SMTP host's name (loopback addresses dropped: a mail
        server on this machine sends from an address it cannot tell)."""
        if server:
            host = server.smtp_host or ""
            entered = server.sending_addresses
        else:
            host = tools.config.get("smtp_server") or ""
            entered = ""
        try:
            networks, includes = dlv.parse_sending_addresses(entered)
        except dlv.ConfigValueError:
            networks, includes = (), ()
        if networks or includes:
            return list(networks), list(includes), host, False
        addresses = []
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            for rdtype in ("A", "AAAA"):
                result = resolver.resolve(host, rdtype, deadline) if host else None
                if result is not None and result.found:
                    addresses += list(result.records)
        addresses = [
            address
            for address in addresses
            if not ipaddress.ip_address(address).is_loopback
        ]
        return addresses, [], host, True

    @api.model
    def _dkim_selectors(self):
        """``{alias domain (A-label): its DKIM selectors}``, read once a check."""
        selectors = {}
        for alias_domain in self.env["mail.alias.domain"].sudo().search([]):
            try:
                name = address_filter.domain_to_ascii(alias_domain.name)
            except ValueError:
                name = (alias_domain.name or "").lower()
            try:
                selectors.setdefault(
                    name, dlv.parse_dkim_selectors(alias_domain.dkim_selectors)
                )
            except dlv.ConfigValueError:
                selectors.setdefault(name, ())
        return selectors

    @api.model
    def _mx_hosts(self):
        value = routing_params.read(
            self.env["ir.config_parameter"].sudo().get_param,
            "mail.gateway.public_host",
        )
        return [host.strip() for host in (value or "").split(",") if host.strip()]

    @api.model
    def _server_selectors(self, paths, alias_selectors):
        """``{From domain: (selectors, server names, config file)}`` of the From
        domains that are not alias domains: the DKIM selectors of the servers
        that send for them (entered on the server, as such a domain has no
        alias domain); ``config file``: the configuration file's SMTP settings
        send for it too (no selector can be entered there)."""
        found = {}
        for path in paths:
            domain = path["from_domain"]
            if domain in alias_selectors:
                continue
            selectors, names, config = found.setdefault(domain, ([], [], []))
            server = path["server"]
            if not server:
                # the configuration file's SMTP settings: no field to enter them
                config[:] = [True]
                continue
            try:
                entered = dlv.parse_dkim_selectors(server.dkim_selectors)
            except dlv.ConfigValueError:
                entered = ()
            selectors += [item for item in entered if item not in selectors]
            label = self._server_label(server)
            if label not in names:
                names.append(label)
        return {
            domain: (tuple(selectors), tuple(names), bool(config))
            for domain, (selectors, names, config) in found.items()
        }

    @api.model
    def _path_facts(self, path, resolver, deadline, sending, selectors):
        """The facts of one sending path (no MX: that is per alias domain);
        ``sending``: :meth:`_server_sending` of its server, ``selectors``: the
        path's From domain's DKIM selectors and where they are entered
        (``(selectors, servers, config file)``: on those servers, ``servers``
        empty and ``config file`` false: on the alias domain)."""
        addresses, includes, host, from_host = sending
        domain_selectors, servers, config_file = selectors
        facts = dlv.check_sending_path(
            host,
            path["from_domain"],
            path["envelope_domain"],
            domain_selectors,
            addresses,
            (),
            resolver,
            includes=includes,
            deadline=deadline,
            host_addresses=from_host,
            report_address=self.env["mail.dmarc.report"].sudo()._report_address(),
        )
        if servers or config_file:
            # where this domain's selectors are entered: on its servers
            where = {"servers": list(servers), "config_file": config_file}
            facts = tuple(
                dataclasses.replace(fact, data={**fact.data, **where})
                if fact.check == dlv.CHECK_DKIM and fact.code == dlv.CODE_NO_SELECTOR
                else fact
                for fact in facts
            )
        return tuple(fact for fact in facts if fact.check != dlv.CHECK_MX)

    # ------------------------------------------------------------------
    # running the checks and storing them
    # ------------------------------------------------------------------

    @api.model
    def _fact_values(self, fact, path, now, sequence):
        server = path["server"]
        domain_wide = fact.check in DOMAIN_CHECKS
        if domain_wide or server is None:
            server_key, server_id, label = "", False, ""
        else:
            server_key = str(server.id or CONFIG_FILE)
            server_id = server.id or False
            label = self._server_label(server)
        domain = path["from_domain"]
        key = f"{server_key}|{domain}|{fact.check}|{fact.domain}"
        if fact.check == dlv.CHECK_ALIGNMENT:
            # one verdict per sending path: server x From x envelope
            key += f"|{path.get('envelope_domain', '')}"
        return {
            "key": key,
            "sequence": sequence,
            "domain": domain,
            "check": fact.check,
            "subject": fact.domain,
            "server_id": server_id,
            "server_label": label,
            "from_address": "" if domain_wide else path.get("from_address", ""),
            "envelope": "" if domain_wide else path.get("envelope", ""),
            "status": fact.status,
            "code": fact.code,
            "data": fact.data,
            "record_to_publish": fact.record_to_publish,
            "date_checked": now,
        }

    @api.model
    def _resolver_fact(self, fact, resolver):
        """The resolver's fact with where its nameservers come from
        (``machine``: the machine's resolver, else ``mail.dns.nameservers``)."""
        return dataclasses.replace(
            fact, data={**fact.data, "machine": bool(resolver.machine)}
        )

    @api.model
    def _tls_fact(self, server, deadline):
        """The TLS line of a server (empty: the configuration file's): a real
        connection, within what is left of the check (at most
        :data:`.checks.TLS_TIMEOUT` a step)."""
        if server:
            host, port = server.smtp_host or "", server.smtp_port or 25
            encryption = server.smtp_encryption or "none"
        else:
            host = tools.config.get("smtp_server") or ""
            port = tools.config.get("smtp_port") or 25
            encryption = "starttls" if tools.config.get("smtp_ssl") else "none"
        timeout = min(dlv.TLS_TIMEOUT, max(deadline.remaining(), 0.5))
        if host:
            probe = dlv.probe_tls(host, int(port), encryption, timeout=timeout)
        else:
            probe = dlv.TlsProbe(connected=False, error="no_host")
        return dlv.check_tls(host, int(port), encryption, probe)

    @api.model
    def _path_deadline(self, deadline, paths_left):
        """The deadline of the next of ``paths_left`` paths: its share of the time
        left, at least :data:`MIN_PATH_TIME` seconds (within ``deadline``)."""
        remaining = deadline.remaining()
        share = max(remaining / max(paths_left, 1), min(MIN_PATH_TIME, remaining))
        return mail_dns.Deadline.after(min(share, remaining))

    # Over 60 lines on purpose: one pass over the sending paths that shares the
    # resolver verdict, the DKIM selectors and the TLS probes between them, so
    # that no name, type or server is asked twice in a run.
    @api.model
    def _collect(self, paths, resolver, deadline, alias_mx=True):
        """Values of the results of ``paths`` (and of each alias domain's MX),
        one per key, in check order."""
        now = fields.Datetime.now()
        order = {check: index for index, (check, _label) in enumerate(CHECKS)}
        values = {}
        sending = {}
        tls = {}
        # asked once a check: does the resolver answer at all?
        resolver_fact = self._resolver_fact(
            dlv.check_resolver(resolver, deadline), resolver
        )
        if resolver_fact.status != dlv.PASS:
            # its answers would mean nothing: the lines, unasked
            resolver = dlv.Unasked()

        selectors = self._dkim_selectors()
        server_selectors = self._server_selectors(paths, selectors)
        for index, path in enumerate(paths):
            server = path["server"]
            server_key = server.id or CONFIG_FILE
            # each path its share of the time left: a zone that does not
            # answer turns its own lines into "could not be checked", not the
            # lines checked after it (its failure is kept for the check)
            path_deadline = self._path_deadline(deadline, len(paths) - index)
            if server_key not in sending:
                sending[server_key] = self._server_sending(
                    server, resolver, path_deadline
                )
            domain = path["from_domain"]
            facts = self._path_facts(
                path,
                resolver,
                path_deadline,
                sending[server_key],
                server_selectors.get(domain) or (selectors.get(domain, ()), (), False),
            )
            if resolver_fact.status != dlv.PASS:
                # a resolver that answers nothing: none of its answers means
                # anything (TLS is not DNS: the machine connects on its own)
                facts = tuple(dlv.unchecked(fact, resolver_fact) for fact in facts)
            if server_key not in tls:
                tls[server_key] = self._tls_fact(server, deadline)
            facts += (tls[server_key],)
            for fact in facts:
                vals = self._fact_values(fact, path, now, order[fact.check])
                known = values.get(vals["key"])
                # a line several paths share (a domain's DKIM and DMARC, a
                # server's reverse DNS): the first known answer, so that a
                # path whose time another zone spent does not hide it
                if known is None or (
                    known["status"] == dlv.UNKNOWN and vals["status"] != dlv.UNKNOWN
                ):
                    values[vals["key"]] = vals
        if alias_mx:
            hosts = self._mx_hosts()
            for alias_domain in self.env["mail.alias.domain"].sudo().search([]):
                try:
                    name = address_filter.domain_to_ascii(alias_domain.name)
                except ValueError:
                    continue
                facts = self._alias_domain_facts(name, hosts, resolver, deadline)
                if resolver_fact.status != dlv.PASS:
                    facts = [dlv.unchecked(fact, resolver_fact) for fact in facts]
                path = {"server": None, "from_domain": name}
                for fact in facts:
                    vals = self._fact_values(fact, path, now, order[fact.check])
                    values.setdefault(vals["key"], vals)
        return values

    @api.model
    def _alias_domain_facts(self, name, mx_hosts, resolver, deadline):
        """The facts of an alias domain (``name``: its A-label) as a receiver:
        its MX (``mx_hosts``: where it should point), then how mail reaches
        it encrypted (``mail_dns_check_result_inbound_tls.py``)."""
        return [dlv.check_mx(name, mx_hosts, resolver, deadline)]

    @api.model
    def _run_checks(self, timeout=RUN_TIMEOUT):
        """Check every sending path and replace the stored results; returns the
        results that passed before and fail now."""
        self.check_access("create")
        resolver = self._resolver()
        deadline = mail_dns.Deadline.after(timeout)
        values = self._collect(self._sending_paths(), resolver, deadline)
        Result = self.sudo()
        old = Result.search([])
        previous = {result.key: result.status for result in old}
        for vals in values.values():
            vals["previous_status"] = previous.get(vals["key"], False)
        old.unlink()
        results = Result.create(list(values.values()))
        return results.filtered(
            lambda result: result.previous_status in (dlv.PASS, dlv.WARNING)
            and result.status == dlv.FAIL
        )

    @api.model
    def _check_path(self, server, from_address, envelope, timeout=PATH_TIMEOUT):
        """Check one sending path now (Check sender) and store its results in
        place of the same lines; returns them."""
        self.check_access("create")
        from_address = email_normalize(from_address or "")
        if not from_address:
            return self.browse()
        envelope = email_normalize(envelope or "") or from_address
        path = {
            "server": server,
            "from_address": from_address,
            "from_domain": from_address.rpartition("@")[2],
            "envelope": envelope,
            "envelope_domain": envelope.rpartition("@")[2],
        }
        resolver = self._resolver()
        values = self._collect(
            [path], resolver, mail_dns.Deadline.after(timeout), alias_mx=False
        )
        Result = self.sudo()
        old = Result.search([("key", "in", list(values))])
        previous = {result.key: result.status for result in old}
        for vals in values.values():
            vals["previous_status"] = previous.get(vals["key"], False)
        old.unlink()
        return Result.create(list(values.values())).sudo(False)

    @api.model
    def _receiver_verdict(self, server, from_address, envelope):
        """What Gmail would do with mail of this server, From and envelope,
        read from the stored facts: ``(fact, words, date)`` or ``None`` when
        they were not all checked."""
        from_domain = (email_normalize(from_address or "") or "").rpartition("@")[2]
        envelope_domain = (email_normalize(envelope or "") or "").rpartition("@")[2]
        if not from_domain:
            return None
        server_key = str(server.id or CONFIG_FILE)
        results = self.search([("domain", "=", from_domain)])
        spf = results.filtered(
            lambda r: r.check == dlv.CHECK_SPF
            and r.key.startswith(f"{server_key}|")
            and r.subject == (envelope_domain or from_domain)
        )[:1]
        dmarc = results.filtered(lambda r: r.check == dlv.CHECK_DMARC)[:1]
        dkim = results.filtered(lambda r: r.check == dlv.CHECK_DKIM)
        if not spf or not dmarc or not dkim:
            return None
        fact = dlv.receiver_verdict(
            spf._fact(),
            [result._fact() for result in dkim],
            dmarc._fact(),
            envelope_domain or from_domain,
            from_domain,
        )
        params = {
            key: ", ".join(value) if isinstance(value, list) else value
            for key, value in fact.data.items()
        }
        params["aligned"] = ", ".join(
            self._aligned_word(item) for item in fact.data.get("aligned", [])
        )
        for name in ("spf", "dkim"):
            params[name] = dict(
                self._fields["status"]._description_selection(self.env)
            )[fact.data[name]]
        if fact.data.get("dkim_unchecked") and fact.code in RECEIVER_TEXTS_NO_SELECTOR:
            params["dkim_where"] = self._dkim_where(dkim[:1].data or {}, from_domain)
            words = word(RECEIVER_TEXTS_NO_SELECTOR[fact.code], params, self.env)
        elif fact.code in RECEIVER_TEXTS:
            words = word(RECEIVER_TEXTS[fact.code], params, self.env)
        else:
            words = deliverability_text(
                fact.data.get("check"), fact.code, params, self.env
            )
        date = min((spf | dmarc | dkim).mapped("date_checked"))
        return fact, words, date

    def _dkim_where(self, data, domain):
        """Where the DKIM selectors of ``domain`` are entered (the data of its
        ``no_selector`` line), as the end of "enter it …"."""
        _ = self.env._
        if data.get("servers"):
            return _(
                "under DKIM selectors of the outgoing server %s, tab DNS check",
                ", ".join(data["servers"]),
            )
        if data.get("config_file"):
            return _(
                "on an outgoing server created for it: the SMTP settings of the "
                "configuration file have no such field"
            )
        return _("under DKIM selectors of the alias domain %s", domain)

    def _aligned_word(self, mechanism):
        return {
            "spf": self.env._("the envelope domain (SPF)"),
            "dkim": self.env._("the DKIM domain"),
        }.get(mechanism, mechanism)

    def _fact(self):
        self.ensure_one()
        return dlv.Fact(
            self.check,
            self.subject or self.domain,
            self.status,
            self.code or "",
            dict(self.data or {}),
            self.record_to_publish or "",
        )

    # ------------------------------------------------------------------
    # daily check
    # ------------------------------------------------------------------

    @api.model
    def _cron_check(self):
        """The daily check: store the results, and tell the administrators
        what passed before and fails now (a removed SPF include, an expired
        DKIM key)."""
        broken = self._run_checks()
        differences = self._receiver_differences()
        if broken or differences:
            self._notify_broken(broken, differences)
        return broken

    @api.model
    def _receiver_differences(self):
        """Lines on what receivers reported against what the check predicts,
        first in the notification (``mail_dns_check_result_dmarc_reports.py``)."""
        return []

    @api.model
    def _notify_broken(self, broken, first_lines=()):
        admins = (
            self.env.ref("base.group_system")
            .sudo()
            .users.filtered(lambda user: user.active and not user.share)
        )
        partners = admins.partner_id
        if not partners:
            return
        by_lang = {}
        for partner in partners:
            by_lang.setdefault(partner.lang or "en_US", []).append(partner.id)
        for lang, partner_ids in by_lang.items():
            Result = broken.with_context(lang=lang)
            lines = Markup("").join(
                Markup("<li>%s: %s%s</li>")
                % (
                    result.domain,
                    result.text,
                    Markup(" <code>%s</code>") % result.record_to_publish
                    if result.record_to_publish
                    else "",
                )
                for result in Result
            )
            _ = Result.env._
            body = Markup("<p>%s</p><ul>%s</ul><p>%s</p>") % (
                _("The daily DNS check found senders that passed before and fail now:"),
                lines,
                escape(_("Settings ▸ Mail routing ▸ Check DNS shows every result.")),
            )
            subject = _("DNS check: %s now fails", ", ".join(broken.mapped("domain")))
            if first_lines:
                words = [line(Result.env) for line in first_lines]
                first = Markup("").join(Markup("<p>%s</p>") % text for text in words)
                body = first + body if broken else first
                subject = words[0] if not broken else subject
            self.env["mail.thread"].sudo().message_notify(
                partner_ids=partner_ids,
                subject=subject,
                body=body,
                author_id=self.env.ref("base.partner_root").id,
            )

    # ------------------------------------------------------------------
    # views
    # ------------------------------------------------------------------

    @api.model
    def _action_open(self, domain=None):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "mail_routing_policy.mail_dns_check_result_action"
        )
        if domain:
            action["domain"] = domain
        return action
