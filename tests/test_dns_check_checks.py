# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Check DNS at the model level: the sending paths of a configuration, the
stored results, the daily check's notification, Check sender's DMARC line and
access rights, against the loopback DNS server (tests/dns_server.py)."""

import time
from unittest.mock import patch

from odoo import http
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.mail_routing_policy.tools import mail_dns
from odoo.addons.mail_routing_policy.tools.dns_check import checks as dlv

from .common import load_german
from .dns_server import DnsTestServer, txt
from .test_mail_auth import rsa_key
from .tls_helpers import QuietHandler, certificates, free_port, server_context

HOST = "127.0.0.1"
GATE = "gate.corp.test"
DEAD = "_spf.dead.test"
SILENT = {"silent.test", "_dmarc.silent.test", DEAD}


def zone(key2048, key1024, key512):
    records = {
        # corp.test: the company's alias domain, sent by "Own" from 127.0.0.5
        ("corp.test", "TXT"): ["v=spf1 ip4:127.0.0.5 -all"],
        ("_dmarc.corp.test", "TXT"): ["v=DMARC1; p=reject; rua=mailto:d@corp.test"],
        ("s2048._domainkey.corp.test", "TXT"): [key2048],
        ("s1024._domainkey.corp.test", "TXT"): [key1024],
        ("s512._domainkey.corp.test", "TXT"): [key512],
        ("key.keys.test", "TXT"): [key2048],
        ("corp.test", "MX"): [f"10 {GATE}."],
        ("smtp.corp.test", "A"): ["127.0.0.5"],
        ("5.0.0.127.in-addr.arpa", "PTR"): ["smtp.corp.test."],
        # other.test: an alias domain whose MX points elsewhere
        ("other.test", "MX"): ["10 mx.provider.test."],
        # eu.orgonly.test: DMARC on the organisational domain only
        ("_dmarc.orgonly.test", "TXT"): ["v=DMARC1; p=none; sp=quarantine"],
        ("eu.orgonly.test", "A"): ["127.0.0.60"],
        # relay-client.test: sent by "Relay" (include:mailgun.test), which
        # its SPF record does not name; no DMARC record
        ("relay-client.test", "TXT"): ["v=spf1 ip4:127.0.0.9 -all"],
        ("mailgun.test", "TXT"): ["v=spf1 ip4:127.0.2.0/24 -all"],
        # hostonly.test: "Host" has no sending address: its SMTP host's
        ("hostonly.test", "TXT"): ["v=spf1 ip4:127.0.0.5 -all"],
        ("smtp.hostonly.test", "A"): ["192.0.2.7"],
        # nospf.test: "Nospf" sends from 127.0.0.6, whose PTR does not resolve back
        ("nospf.test", "A"): ["127.0.0.61"],
        ("6.0.0.127.in-addr.arpa", "PTR"): ["wrong.corp.test."],
        ("wrong.corp.test", "A"): ["127.0.0.99"],
        # reject.test: p=reject, no key (Check sender's rewritten From)
        ("_dmarc.reject.test", "TXT"): ["v=DMARC1; p=reject"],
        ("relay.test", "TXT"): ["v=spf1 ip4:127.0.0.6 -all"],
        # strict.test: one From, two envelopes (aspf=s)
        ("strict.test", "TXT"): ["v=spf1 ip4:127.0.0.5 -all"],
        ("bounces.strict.test", "TXT"): ["v=spf1 ip4:127.0.0.5 -all"],
        ("_dmarc.strict.test", "TXT"): ["v=DMARC1; p=reject; aspf=s"],
        # eight domains whose include never answers, one misaligned domain
        **{
            (f"d{n}.dead-users.test", "TXT"): [f"v=spf1 include:{DEAD} -all"]
            for n in range(8)
        },
        ("_dmarc.misaligned.test", "TXT"): ["v=DMARC1; p=reject"],
        # ?all: neutral for the server
        ("neutral.test", "TXT"): ["v=spf1 ip4:127.0.0.9 ?all"],
    }
    records[("cname._domainkey.corp.test", "CNAME")] = ["key.keys.test."]
    return {
        (name, rdtype): [txt(text) for text in texts] if rdtype == "TXT" else texts
        for (name, rdtype), texts in records.items()
    }


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDeliverabilityChecks(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.key2048 = rsa_key(2048)[1]
        cls.dns = DnsTestServer(
            zone(cls.key2048, rsa_key(1024)[1], rsa_key(512)[1]),
            host=HOST,
            silent=SILENT,
        ).start()
        cls.addClassCleanup(cls.dns.stop)
        cls.ICP = cls.env["ir.config_parameter"].sudo()
        cls.ICP.set_param("mail.dns.nameservers", cls.dns.nameservers)
        cls.ICP.set_param("mail.gateway.public_host", GATE)
        cls.ICP.set_param("mail.default.from", False)
        cls.ICP.set_param("mail.default.from_filter", False)
        Server = cls.env["ir.mail_server"]
        Server.search([]).active = False
        AliasDomain = cls.env["mail.alias.domain"]
        cls.corp = AliasDomain.create(
            {
                "name": "corp.test",
                "default_from": "notifications",
                "dkim_selectors": "s2048, s1024, s512, cname",
            }
        )
        cls.env.company.alias_domain_id = cls.corp
        cls.other = AliasDomain.create({"name": "other.test"})
        cls.eu = AliasDomain.create({"name": "eu.orgonly.test"})
        cls.own = Server.create(
            {
                "name": "Own",
                "smtp_host": "smtp.corp.test",
                "smtp_encryption": "starttls",
                "from_filter": "corp.test, eu.orgonly.test",
                "sending_addresses": "127.0.0.5",
                "sequence": 1,
            }
        )
        cls.relay = Server.create(
            {
                "name": "Relay",
                "smtp_host": "smtp.relay.test",
                "smtp_encryption": "none",
                "from_filter": "relay-client.test",
                "sending_addresses": "include:mailgun.test",
                "sequence": 2,
            }
        )
        cls.host = Server.create(
            {
                "name": "Host",
                "smtp_host": "smtp.hostonly.test",
                "smtp_encryption": "ssl",
                "from_filter": "hostonly.test",
                "sequence": 3,
            }
        )
        cls.nospf = Server.create(
            {
                "name": "Nospf",
                "smtp_host": "smtp.nospf.test",
                "smtp_encryption": "starttls",
                "from_filter": "nospf.test",
                "sending_addresses": "127.0.0.6, include:relay.test",
                "sequence": 4,
            }
        )
        cls.Result = cls.env["mail.dns.check.result"]

    def setUp(self):
        super().setUp()
        mail_dns.shared_resolver(self.dns.nameservers).clear_cache()

    def results(self, **where):
        return self.Result.search([(key, "=", value) for key, value in where.items()])

    def one(self, **where):
        found = self.results(**where)
        self.assertEqual(len(found), 1, f"{where}: {found.mapped('key')}")
        return found

    def assertResult(self, result, status, code, record=None):
        self.assertEqual(
            (result.status, result.code), (status, code), (result.key, result.text)
        )
        if record is not None:
            self.assertEqual(result.record_to_publish or "", record)
        self.assertTrue(result.text and result.text != code, result.text)

    # ------------------------------------------------------------------

    def test_configuration_fields_validated(self):
        with self.assertRaisesRegex(ValidationError, "'203.0.113.300'"):
            self.own.sending_addresses = "127.0.0.5, 203.0.113.300"
        with self.assertRaisesRegex(ValidationError, "'include:'"):
            self.own.sending_addresses = "include:"
        self.own.sending_addresses = "2001:db8::/48, include:Mailgun.ORG, 198.51.100.7"
        self.assertEqual(
            dlv.parse_sending_addresses(self.own.sending_addresses),
            (("2001:db8::/48", "198.51.100.7"), ("mailgun.org",)),
        )
        with self.assertRaisesRegex(ValidationError, "'s1._domainkey'"):
            self.corp.dkim_selectors = "s2048, s1._domainkey"
        with self.assertRaisesRegex(ValidationError, "'bad selector'"):
            self.corp.dkim_selectors = "bad selector"
        with self.assertRaisesRegex(ValidationError, "Relay: 'bad selector'"):
            self.relay.dkim_selectors = "bad selector"
        settings = self.env["res.config.settings"].create(
            {"routing_gateway_public_host": "MX.Example.COM"}
        )
        settings.execute()
        self.assertEqual(
            self.ICP.get_param("mail.gateway.public_host"), "mx.example.com"
        )

    def test_sending_paths_follow_the_sender_policy(self):
        paths = {
            (path["server"].name, path["from_domain"], path["envelope_domain"])
            for path in self.Result._sending_paths()
        }
        self.assertEqual(
            paths,
            {
                ("Own", "corp.test", "corp.test"),
                ("Own", "eu.orgonly.test", "corp.test"),
                ("Relay", "relay-client.test", "relay-client.test"),
                ("Host", "hostonly.test", "hostonly.test"),
                ("Nospf", "nospf.test", "nospf.test"),
            },
        )

    def test_check_dns_stores_every_fact(self):
        action = self.env["res.config.settings"].create({}).action_check_dns()
        self.assertEqual(action["res_model"], "mail.dns.check.result")
        self.assertIn("'search_default_group_domain': 1", action["context"])
        # the good path: every fact passes, and they are stored once each
        own = self.results(server_id=self.own.id, domain="corp.test")
        self.assertEqual(
            sorted(own.mapped("check")),
            ["alignment", "reverse_dns", "spf", "tls"],
        )
        tls = own.filtered(lambda result: result.check == "tls")
        self.assertEqual(
            set((own - tls).mapped("status")), {dlv.PASS}, own.mapped("text")
        )
        # the TLS line is a real connection: smtp.corp.test cannot be reached
        # from here, so nothing is said about its encryption
        self.assertEqual((tls.status, tls.code), (dlv.UNKNOWN, "tls_unreachable"))
        self.assertIn("Not checkable: could not connect to smtp.corp.test:", tls.text)
        self.assertEqual(own[0].date_checked.date(), own[0].create_date.date())
        # said in words, not in codes
        alignment = own.filtered(lambda result: result.check == "alignment")
        self.assertIn("aligns with the", alignment.text)
        self.assertNotRegex(alignment.text, r"aligns with (spf|dkim)\b")
        # DKIM per selector: 2048 passes, 1024 warns, 512 fails, a CNAME is followed
        dkim = {
            result.subject: result
            for result in self.results(domain="corp.test", check="dkim")
        }
        self.assertResult(dkim["s2048._domainkey.corp.test"], dlv.PASS, "key_ok")
        self.assertResult(dkim["cname._domainkey.corp.test"], dlv.PASS, "key_ok")
        self.assertResult(dkim["s1024._domainkey.corp.test"], dlv.WARNING, "key_weak")
        self.assertResult(dkim["s512._domainkey.corp.test"], dlv.FAIL, "key_too_small")
        self.assertIn("512 bits", dkim["s512._domainkey.corp.test"].text)
        self.assertFalse(dkim["s512._domainkey.corp.test"].server_id)
        self.assertResult(self.one(domain="corp.test", check="mx"), dlv.PASS, "mx_ok")
        self.assertResult(
            self.one(domain="corp.test", check="dmarc"), dlv.PASS, "policy_enforced"
        )

    def test_check_dns_verdicts_and_records_to_publish(self):
        self.Result._run_checks()
        # the include this server's Sending addresses names is not reached
        self.assertResult(
            self.one(server_id=self.relay.id, check="spf"),
            dlv.FAIL,
            "include_not_reached",
            'relay-client.test. TXT "v=spf1 include:mailgun.test ip4:127.0.0.9 -all"',
        )
        self.assertNotIn("(?)", self.one(server_id=self.relay.id, check="spf").text)
        self.assertResult(
            self.one(server_id=self.relay.id, check="tls"),
            dlv.UNKNOWN,
            "tls_unreachable",
        )
        # no DMARC: the record proposed for the organisational domain, the
        # domain named once when it is its own organisational domain, its
        # reports to the report alias (tests/test_dmarc_reports_check.py)
        dmarc = self.one(domain="relay-client.test", check="dmarc")
        self.assertResult(
            dmarc,
            dlv.FAIL,
            "no_record",
            dlv.dmarc_proposal(
                "relay-client.test", self.env["mail.dmarc.report"]._report_address()
            ),
        )
        self.assertTrue(
            dmarc.text.startswith("relay-client.test publishes no DMARC record"),
            dmarc.text,
        )
        self.assertEqual(dmarc.text.count("relay-client.test"), 1, dmarc.text)
        # no SPF: a record made of the server's addresses and include
        self.assertResult(
            self.one(server_id=self.nospf.id, check="spf"),
            dlv.FAIL,
            "no_record",
            'nospf.test. TXT "v=spf1 ip4:127.0.0.6 include:relay.test ~all"',
        )
        # PTR mismatch
        self.assertResult(
            self.one(server_id=self.nospf.id, check="reverse_dns"),
            dlv.FAIL,
            "ptr_mismatch",
            "wrong.corp.test. A 127.0.0.6",
        )
        # addresses read from the SMTP host: "not authorised" is no verdict
        # (a relay sends from elsewhere); no PTR, one proposed to the host name
        self.assertResult(
            self.one(server_id=self.host.id, check="spf"),
            dlv.UNKNOWN,
            "host_not_authorised",
            "",
        )
        self.assertIn(
            "Sending addresses", self.one(server_id=self.host.id, check="spf").text
        )
        self.assertResult(
            self.one(server_id=self.host.id, check="reverse_dns"),
            dlv.FAIL,
            "no_ptr",
            "7.2.0.192.in-addr.arpa. PTR smtp.hostonly.test.",
        )
        # DMARC of the organisational domain only: its sp= applies, and the
        # unaligned From would be spam-foldered
        dmarc = self.one(domain="eu.orgonly.test", check="dmarc")
        self.assertResult(dmarc, dlv.PASS, "policy_enforced")
        self.assertEqual(
            (dmarc.data["record_domain"], dmarc.data["policy"]),
            ("orgonly.test", "quarantine"),
        )
        alignment = self.one(
            domain="eu.orgonly.test", check="alignment", server_id=self.own.id
        )
        self.assertResult(alignment, dlv.FAIL, "not_aligned")
        self.assertIn("spam folder", alignment.text)
        # MX elsewhere, and an alias domain without MX
        self.assertResult(
            self.one(domain="other.test", check="mx"),
            dlv.FAIL,
            "mx_elsewhere",
            f"other.test. MX 10 {GATE}.",
        )
        self.assertResult(
            self.one(domain="eu.orgonly.test", check="mx"), dlv.FAIL, "no_mx"
        )
        # the server form's own facts
        self.assertEqual(
            self.relay.dns_check_result_ids,
            self.results(server_id=self.relay.id),
        )
        # SPF, TLS, and alignment: the envelope is the From's own domain, but
        # SPF does not pass for it and there is no DKIM key (RFC 7489 §4.2)
        self.assertEqual(self.relay.dns_check_issue_count, 3)
        alignment = self.one(server_id=self.relay.id, check="alignment")
        self.assertResult(alignment, dlv.WARNING, "not_authenticated")
        action = self.relay.action_open_dns_check_results()
        self.assertEqual(action["domain"], [("server_id", "=", self.relay.id)])

    def paths(self, *pairs):
        """Sending paths of the Own server: (From address, envelope)."""
        return [
            {
                "server": self.own,
                "from_address": from_address,
                "from_domain": from_address.rpartition("@")[2],
                "envelope": envelope,
                "envelope_domain": envelope.rpartition("@")[2],
            }
            for from_address, envelope in pairs
        ]

    def test_one_alignment_line_per_sending_path(self):
        """One From domain leaving with two envelopes (aspf=s, RFC 7489 §3.1.2):
        an alignment verdict for each, the strict failure shown."""
        values = self.Result._collect(
            self.paths(
                ("news@strict.test", "news@strict.test"),
                ("news@strict.test", "bounce@bounces.strict.test"),
            ),
            self.Result._resolver(),
            mail_dns.Deadline.after(10),
            alias_mx=False,
        )
        alignment = {
            vals["envelope"]: (vals["status"], vals["code"])
            for vals in values.values()
            if vals["check"] == "alignment"
        }
        self.assertEqual(
            alignment,
            {
                "news@strict.test": (dlv.PASS, "aligned"),
                "bounce@bounces.strict.test": (dlv.FAIL, "not_aligned"),
            },
        )

    def test_silent_include_shared_by_eight_domains(self):
        """Eight domains share an include whose zone never answers: their SPF
        lines cannot be checked, the other lines keep their verdicts (a real
        misalignment among them) and the check stays within its bound; the
        name is asked once a check (RFC 2308 §7.1)."""
        # first a path of corp.test whose envelope is in the silent zone: its
        # share of the time is spent there, corp.test's own lines come from
        # the next path
        pairs = [("news@corp.test", "bounce@d0.dead-users.test")]
        pairs += [(f"news@d{n}.dead-users.test",) * 2 for n in range(1, 8)]
        pairs += [
            ("news@corp.test", "news@corp.test"),
            ("news@misaligned.test", "bounce@corp.test"),
        ]
        run = self.Result._resolver()
        started = time.monotonic()
        # a lookup gives up after 1 s here (3 s in production)
        with patch.object(run.resolver, "query_timeout", 1.0):
            values = self.Result._collect(
                self.paths(*pairs), run, mail_dns.Deadline.after(8), alias_mx=False
            )
        elapsed = time.monotonic() - started
        self.assertLess(elapsed, 1.0 + 2.5)  # one lookup's time, not eight
        by_key = {(vals["domain"], vals["check"]): vals for vals in values.values()}
        for n in range(1, 8):
            spf = by_key[(f"d{n}.dead-users.test", "spf")]
            self.assertEqual((spf["status"], spf["code"]), (dlv.UNKNOWN, "dns_timeout"))
            self.assertEqual(spf["data"]["name"], DEAD)
        misaligned = by_key[("misaligned.test", "alignment")]
        self.assertEqual(
            (misaligned["status"], misaligned["code"]), (dlv.FAIL, "not_aligned")
        )
        self.assertEqual(by_key[("misaligned.test", "dmarc")]["status"], dlv.PASS)
        # corp.test's lines that the first path could not ask: known
        self.assertEqual(by_key[("corp.test", "dmarc")]["status"], dlv.PASS)
        corp = [vals for vals in values.values() if vals["domain"] == "corp.test"]
        self.assertNotIn(
            dlv.UNKNOWN,
            [
                vals["status"]
                for vals in corp
                if vals["check"] in ("dkim", "reverse_dns")
            ],
        )

    def test_words_and_severities(self):
        """Every text filled (no "(?)"); ?all said neutral (RFC 7208 §4.6.2,
        §8.2); no MX fails like an MX elsewhere (RFC 5321 §5.1: mail goes to
        the name's address); a FROM-filter domain that is no alias domain is
        told where its DKIM selectors go (the outgoing server), and they are
        read there (RFC 6376 §3.6.2.1)."""
        self.nospf.sending_addresses = "127.0.0.6"
        self.nospf.from_filter = "nospf.test, neutral.test"
        self.Result._run_checks()
        for result in self.Result.search([]):
            with self.subTest(key=result.key):
                self.assertNotIn("(?)", result.text)
                self.assertNotIn("%(", result.text)
        neutral = self.one(domain="neutral.test", check="spf")
        self.assertIn("127.0.0.6: neutral", neutral.text)
        self.assertNotIn("softfail", neutral.text)
        mx = self.one(domain="eu.orgonly.test", check="mx")
        self.assertEqual(mx.status, self.one(domain="other.test", check="mx").status)
        dkim = self.one(domain="relay-client.test", check="dkim")
        self.assertEqual(dkim.code, "no_selector")
        self.assertIn("DKIM selectors of the outgoing server (Relay", dkim.text)
        self.assertNotIn("the alias domain", dkim.text)
        # an alias domain without selectors: told to enter them on it
        alias = self.one(domain="eu.orgonly.test", check="dkim")
        self.assertIn("for the alias domain eu.orgonly.test: open it", alias.text)
        # a domain only the configuration file's SMTP settings send for
        values = self.Result._collect(
            [
                {
                    "server": self.env["ir.mail_server"],
                    "from_address": "news@cfg.test",
                    "from_domain": "cfg.test",
                    "envelope": "news@cfg.test",
                    "envelope_domain": "cfg.test",
                }
            ],
            self.Result._resolver(),
            mail_dns.Deadline.after(10),
            alias_mx=False,
        )
        (config,) = (vals for vals in values.values() if vals["check"] == "dkim")
        text = self.Result.new(config).text
        self.assertIn("SMTP settings of the Odoo configuration file", text)
        self.assertIn("create an outgoing server for it", text)
        self.assertNotIn("DKIM selectors of the alias domain", text)
        self.relay.dkim_selectors = "s2048"
        # the relay's key, named through a CNAME as providers publish it
        name = "s2048._domainkey.relay-client.test"
        self.dns.update({(name, "CNAME"): ["key.keys.test."]})
        self.addCleanup(self.dns.update, {(name, "CNAME"): []})
        self.Result._run_checks()
        self.assertResult(
            self.one(domain="relay-client.test", check="dkim"), dlv.PASS, "key_ok"
        )

    def test_include_named_passes(self):
        self.dns.update(
            {
                ("relay-client.test", "TXT"): [
                    txt("v=spf1 ip4:127.0.0.9 include:mailgun.test -all")
                ]
            }
        )
        self.addCleanup(
            self.dns.update,
            {("relay-client.test", "TXT"): [txt("v=spf1 ip4:127.0.0.9 -all")]},
        )
        self.Result._run_checks()
        self.assertResult(
            self.one(server_id=self.relay.id, check="spf"), dlv.PASS, "authorised"
        )

    def test_silent_nameserver_is_unknown_within_the_bound(self):
        started = time.monotonic()
        results = self.Result._check_path(
            self.own, "news@silent.test", "news@silent.test", timeout=0.75
        )
        self.assertLess(time.monotonic() - started, 0.75 + 2.5)
        by_check = {result.check: result for result in results}
        self.assertResult(by_check["spf"], dlv.UNKNOWN, "dns_timeout")
        for check in ("spf", "dmarc", "alignment"):
            with self.subTest(check=check):
                self.assertEqual(by_check[check].status, dlv.UNKNOWN)
                self.assertIn("Could not be checked", by_check[check].text)
        # what was not asked is not said to be unanswered (RFC 2308 §7.1)
        self.assertResult(by_check["dmarc"], dlv.UNKNOWN, "dns_not_asked")
        self.assertIn("ran out before _dmarc.silent.test", by_check["dmarc"].text)
        self.assertIn("silent.test", by_check["spf"].text)
        # the DNS server that did not answer, and what to do
        self.assertIn(
            f"the DNS server {self.dns.nameservers} gave no answer",
            by_check["spf"].text,
        )
        self.assertIn("check again later", by_check["spf"].text)
        labels = dict(self.Result._fields["status"]._description_selection(self.env))
        self.assertEqual(labels[by_check["spf"].status], "Could not be checked")

    def test_daily_check_notifies_when_a_pass_now_fails(self):
        admin = self.env.ref("base.user_admin")
        Message = self.env["mail.message"]
        before = Message.search([("partner_ids", "in", admin.partner_id.ids)])
        self.assertFalse(self.Result._cron_check(), "nothing passed before")
        self.assertFalse(
            Message.search([("partner_ids", "in", admin.partner_id.ids)]) - before
        )
        # the SPF record loses the server's address between two runs
        self.dns.update({("corp.test", "TXT"): [txt("v=spf1 ip4:127.0.0.9 -all")]})
        self.addCleanup(
            self.dns.update,
            {("corp.test", "TXT"): [txt("v=spf1 ip4:127.0.0.5 -all")]},
        )
        mail_dns.shared_resolver(self.dns.nameservers).clear_cache()
        broken = self.Result._cron_check()
        spf = broken.filtered(lambda r: r.check == "spf" and r.domain == "corp.test")
        self.assertEqual((spf.previous_status, spf.status), ("pass", "fail"))
        self.assertEqual(
            spf.record_to_publish,
            'corp.test. TXT "v=spf1 ip4:127.0.0.5 ip4:127.0.0.9 -all"',
        )
        new = Message.search([("partner_ids", "in", admin.partner_id.ids)]) - before
        self.assertEqual(len(new), 1)
        self.assertEqual(new.message_type, "user_notification")
        self.assertIn("corp.test", new.subject)
        self.assertIn("ip4:127.0.0.5 ip4:127.0.0.9", str(new.body))
        # a third run with nothing changed: no new notification
        self.Result._cron_check()
        self.assertEqual(
            Message.search([("partner_ids", "in", admin.partner_id.ids)]) - before, new
        )

    def test_check_sender_says_gmail_would_reject(self):
        """An author whose From is rewritten to a p=reject domain that neither
        the envelope nor a DKIM key aligns with."""
        self.ICP.set_param("mail.default.from", "news@reject.test")
        self.own.from_filter = "corp.test, news@reject.test"
        wizard = self.env["mail.sender.check"].create({"email_from": "bob@gmail.test"})
        self.assertEqual(wizard.mail_server_id, self.own)
        self.assertIn("news@reject.test", wizard.header_from)
        self.assertEqual(wizard.envelope_from, "bounce@corp.test")
        self.assertIn("DNS records were not read", wizard.dmarc)
        # the FROM filters' word is not DNS's: never ticked before DNS is read
        self.assertEqual(wizard.dmarc_state, "not_read")
        action = wizard.action_check_dns()
        self.assertEqual(
            (action["res_model"], action["res_id"]), (wizard._name, wizard.id)
        )
        wizard.invalidate_recordset()
        # no DKIM selector entered for reject.test: a signature is unknown,
        # not failed, so the verdict is conditional and the box unknown
        self.assertEqual(wizard.dns_status, dlv.UNKNOWN)
        self.assertEqual(wizard.dmarc_state, "unknown")
        self.assertRegex(
            wizard.dmarc,
            r"^Gmail would reject this mail unless it carries a DKIM signature of "
            r"reject.test, because the From reject.test does not align with the "
            r"envelope domain corp.test \(SPF: Pass\)",
        )
        self.assertIn("policy is reject", wizard.dmarc)
        self.assertIn(
            "DKIM not checked: no selector entered for reject.test (enter it under "
            "DKIM selectors of the outgoing server Own, tab DNS check)",
            wizard.dmarc,
        )
        self.assertNotIn("Warning", wizard.dmarc)
        # with the selector entered and no key published: DKIM fails, and
        # the verdict is certain
        self.own.dkim_selectors = "s1"
        wizard.action_check_dns()
        wizard.invalidate_recordset()
        self.assertEqual(wizard.dns_status, dlv.FAIL)
        self.assertEqual(wizard.dmarc_state, "not_aligned")
        self.assertRegex(wizard.dmarc, r"^Gmail would reject this mail, because")
        self.assertIn("(DKIM: Fail)", wizard.dmarc)
        # the company's own domain: accepted, aligned
        other = self.env["mail.sender.check"].create({"email_from": "ann@corp.test"})
        # aligned as its FROM filter declares, but DNS not read: not ticked
        self.assertIn("Aligned for corp.test", other.dmarc)
        self.assertEqual(other.dmarc_state, "not_read")
        other.action_check_dns()
        other.invalidate_recordset()
        self.assertEqual(other.dns_status, dlv.PASS, other.dmarc)
        self.assertEqual(other.dmarc_state, "aligned")
        self.assertTrue(other.dmarc.startswith("Gmail would accept this mail"))

    def test_access_admins_only(self):
        self.Result._run_checks()
        user = new_test_user(self.env, "dns_employee", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.Result.with_user(user).search([])
        with self.assertRaises(AccessError):
            self.Result.with_user(user)._run_checks()
        with self.assertRaises(AccessError):
            self.own.with_user(user).read(["sending_addresses"])


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestReceiverVerdict(TransactionCase):
    """tools/dns_check/checks.receiver_verdict, pure: Gmail's answer from the facts."""

    def dmarc(self, policy):
        if policy is None:
            return dlv.Fact(dlv.CHECK_DMARC, "from.test", dlv.FAIL, "no_record", {})
        return dlv.Fact(
            dlv.CHECK_DMARC,
            "from.test",
            dlv.PASS,
            "policy_enforced",
            {"policy": policy, "adkim": "r", "aspf": "r", "pct": 100},
        )

    def test_table(self):
        spf_pass = dlv.Fact(dlv.CHECK_SPF, "env.test", dlv.PASS, "authorised")
        spf_fail = dlv.Fact(dlv.CHECK_SPF, "env.test", dlv.FAIL, "not_authorised")
        spf_unknown = dlv.Fact(
            dlv.CHECK_SPF, "env.test", dlv.UNKNOWN, "no_sending_address"
        )
        key = dlv.Fact(dlv.CHECK_DKIM, "s._domainkey.from.test", dlv.PASS, "key_ok")
        no_key = dlv.Fact(dlv.CHECK_DKIM, "s._domainkey.from.test", dlv.FAIL, "no_key")
        no_selector = dlv.Fact(dlv.CHECK_DKIM, "from.test", dlv.WARNING, "no_selector")
        table = [
            # spf, dkim, policy, envelope domain, status, code, verdict
            (spf_pass, [no_selector], "reject", "from.test", "pass", "accepted"),
            (spf_fail, [key], "reject", "env.test", "pass", "accepted"),
            # no selector: a signature could still align, so unknown
            (spf_pass, [no_selector], "reject", "env.test", "unknown", "rejected"),
            (spf_pass, [no_key], "quarantine", "env.test", "fail", "quarantined"),
            (spf_fail, [no_key], "none", "from.test", "fail", "unauthenticated"),
            (spf_fail, [no_selector], None, "env.test", "unknown", "unauthenticated"),
            (spf_pass, [no_key], "none", "env.test", "warning", "accepted_unaligned"),
            # a relay whose addresses are unknown: no verdict unless DKIM aligns
            (
                spf_unknown,
                [no_key],
                "reject",
                "from.test",
                "unknown",
                "no_sending_address",
            ),
            (spf_unknown, [key], "reject", "env.test", "pass", "accepted"),
        ]
        for spf, dkim, policy, envelope, status, code in table:
            with self.subTest(spf=spf.code, dkim=dkim[0].code, policy=policy):
                fact = dlv.receiver_verdict(
                    spf, dkim, self.dmarc(policy), envelope, "from.test"
                )
                self.assertEqual((fact.status, fact.code), (status, code), fact)

    def test_parse_configuration_values(self):
        self.assertEqual(
            dlv.parse_sending_addresses(" 127.0.0.5 , 10.0.0.0/8, include:A.test,"),
            (("127.0.0.5", "10.0.0.0/8"), ("a.test",)),
        )
        for bad in ("mail.example.com", "include:-x.test", "10.0.0.0/33"):
            with self.subTest(bad=bad), self.assertRaises(dlv.ConfigValueError) as err:
                dlv.parse_sending_addresses(f"127.0.0.5, {bad}")
            self.assertEqual(err.exception.item, bad)
        self.assertEqual(
            dlv.parse_dkim_selectors("S1, s1, mail.2024"), ("s1", "mail.2024")
        )
        # the setting alone never says "encrypted"
        unreachable = dlv.TlsProbe(connected=False, error=dlv.TLS_REFUSED)
        for encryption in ("starttls", "ssl", "none"):
            with self.subTest(encryption=encryption):
                fact = dlv.check_tls("h", 587, encryption, unreachable)
                self.assertEqual(fact.status, dlv.UNKNOWN)


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestCheckDnsTour(HttpCase):
    """Check DNS and Check sender's DNS line in the browser."""

    allow_end_on_form = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        assert http.root.statics  # see test_tour.TestSettingsTour
        cls.dns = DnsTestServer(
            {("_dmarc.tour.test", "TXT"): [txt("v=DMARC1; p=reject")]}, host=HOST
        ).start()
        cls.addClassCleanup(cls.dns.stop)

    def configure_tour(self):
        ICP = self.env["ir.config_parameter"].sudo()
        ICP.set_param("mail.dns.nameservers", self.dns.nameservers)
        mail_dns.shared_resolver(self.dns.nameservers).clear_cache()
        self.env["ir.mail_server"].search([]).active = False
        self.env.company.alias_domain_id = self.env["mail.alias.domain"].create(
            {"name": "tour.test"}
        )
        self.env["ir.mail_server"].create(
            {
                "name": "Tour Server",
                "smtp_host": "smtp.tour.test",
                "from_filter": "tour.test",
                "sending_addresses": "127.0.0.5",
            }
        )

    def test_check_dns_tour(self):
        self.configure_tour()
        self.start_tour(
            "/odoo/settings", "mail_routing_policy_check_dns", login="admin"
        )
        self.assertTrue(
            self.env["mail.dns.check.result"].search(
                [("domain", "=", "tour.test"), ("check", "=", "spf")]
            )
        )

    def test_check_dns_tour_german(self):
        """The same path for an administrator who reads Odoo in German, in
        the words of the module's German translation."""
        load_german(self.env)
        new_test_user(
            self.env,
            login="admin_de",
            password="admin_de",
            lang="de_DE",
            groups="base.group_system,base.group_partner_manager",
        )
        self.configure_tour()
        self.start_tour(
            "/odoo/settings", "mail_routing_policy_check_dns_de", login="admin_de"
        )
        self.assertTrue(
            self.env["mail.dns.check.result"].search(
                [("domain", "=", "tour.test"), ("check", "=", "spf")]
            )
        )


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestTlsCheck(TransactionCase):
    """The TLS line connects: real aiosmtpd servers on loopback, with STARTTLS,
    with SSL/TLS from the first byte, without TLS, and a port nobody listens
    on; certificates generated here (a test authority, a self-signed one)."""

    @classmethod
    def setUpClass(cls):
        import shutil
        import tempfile

        from aiosmtpd.controller import Controller

        super().setUpClass()
        folder = tempfile.mkdtemp(prefix="mail_routing_tls_")
        cls.addClassCleanup(shutil.rmtree, folder, True)
        cls.ca, signed, self_signed = certificates(folder)
        context = server_context

        def start(**kwargs):
            controller = Controller(
                QuietHandler(), hostname=HOST, port=free_port(HOST), **kwargs
            )
            controller.start()
            cls.addClassCleanup(controller.stop)
            return controller.port

        cls.starttls_port = start(tls_context=context(signed))
        cls.self_signed_port = start(tls_context=context(self_signed))
        cls.smtps_port = start(ssl_context=context(signed))
        cls.plain_port = start()
        cls.closed_port = free_port(HOST)

    def probe(self, port, encryption, host=HOST):
        probe = dlv.probe_tls(host, port, encryption, timeout=5, cadata=self.ca)
        return dlv.check_tls(host, port, encryption, probe)

    @mute_logger("mail.log")
    def test_negotiated_or_not(self):
        """What was negotiated, never the setting alone."""
        table = [
            # port, encryption, status, code
            (self.starttls_port, "starttls", dlv.PASS, "tls"),
            (self.smtps_port, "ssl", dlv.PASS, "tls"),
            (self.self_signed_port, "starttls", dlv.WARNING, "tls_unverified"),
            (self.starttls_port, "none", dlv.FAIL, "no_tls"),
            (self.plain_port, "none", dlv.FAIL, "no_tls"),
            (self.plain_port, "starttls", dlv.FAIL, "starttls_not_offered"),
            (self.starttls_port, "ssl", dlv.FAIL, "tls_failed"),
            (self.closed_port, "starttls", dlv.UNKNOWN, "tls_unreachable"),
            (self.closed_port, "ssl", dlv.UNKNOWN, "tls_unreachable"),
        ]
        for port, encryption, status, code in table:
            with self.subTest(port=port, encryption=encryption):
                fact = self.probe(port, encryption)
                self.assertEqual((fact.status, fact.code), (status, code), fact.data)
                self.assertEqual(fact.data["endpoint"], f"{HOST}:{port}")
        fact = self.probe(self.starttls_port, "starttls")
        self.assertRegex(fact.data["protocol"], r"^TLSv1\.[23]$")
        self.assertTrue(fact.data["cipher"])
        self.assertTrue(fact.data["verified"] and fact.data["name_matches"])
        self.assertTrue(self.probe(self.starttls_port, "none").data["starttls_offered"])
        self.assertFalse(self.probe(self.plain_port, "none").data["starttls_offered"])
        self.assertEqual(
            self.probe(self.closed_port, "starttls").data["error"], dlv.TLS_REFUSED
        )
        # a certificate of a trusted authority that names another host
        fact = self.probe(self.starttls_port, "starttls", host="localhost")
        self.assertEqual((fact.status, fact.code), (dlv.WARNING, "tls_unverified"))
        self.assertIs(fact.data["name_matches"], False)
        # self-signed: OpenSSL's reason, and the name still matches
        fact = self.probe(self.self_signed_port, "starttls")
        self.assertIn("self-signed", fact.data["verify_error"])
        self.assertIs(fact.data["name_matches"], True)

    @mute_logger("mail.log")
    def test_check_dns_says_what_was_negotiated(self):
        """Check DNS's TLS line for three servers: self-signed STARTTLS (a
        warning naming the protocol and the certificate's fault), a closed
        port (not checkable: could not connect) and no encryption offered."""
        Server = self.env["ir.mail_server"]
        Server.search([]).active = False
        servers = Server.create(
            [
                {
                    "name": name,
                    "smtp_host": HOST,
                    "smtp_port": port,
                    "smtp_encryption": encryption,
                    "from_filter": f"{name.lower()}.test",
                }
                for name, port, encryption in (
                    ("Selfsigned", self.self_signed_port, "starttls"),
                    ("Closed", self.closed_port, "starttls"),
                    ("Plain", self.starttls_port, "none"),
                )
            ]
        )
        with DnsTestServer({("tls.test", "A"): ["127.0.0.1"]}, host=HOST) as dns:
            self.env["ir.config_parameter"].sudo().set_param(
                "mail.dns.nameservers", dns.nameservers
            )
            self.env["mail.dns.check.result"]._run_checks()
        texts = {
            server.name: server.dns_check_result_ids.filtered(
                lambda result: result.check == "tls"
            )
            for server in servers
        }
        selfsigned, closed, plain = (
            texts["Selfsigned"],
            texts["Closed"],
            texts["Plain"],
        )
        self.assertEqual(
            (selfsigned.status, selfsigned.code), ("warning", "tls_unverified")
        )
        self.assertRegex(selfsigned.text, r"TLS \(STARTTLS\) negotiated TLSv1\.[23] \(")
        self.assertIn("does not verify (self-signed certificate)", selfsigned.text)
        self.assertEqual(closed.status, "unknown")
        self.assertTrue(
            closed.text.startswith(
                f"Not checkable: could not connect to {HOST}:{self.closed_port} — "
                "the connection was refused."
            ),
            closed.text,
        )
        self.assertNotIn("encrypted (", closed.text)
        self.assertEqual((plain.status, plain.code), ("fail", "no_tls"))
        self.assertIn("The server offers STARTTLS", plain.text)
        # in German
        load_german(self.env)
        german = closed.with_context(lang="de_DE")
        german.invalidate_recordset(["text"])
        self.assertTrue(german.text.startswith("Nicht prüfbar: "), german.text)
        self.assertIn(f"{HOST}:{self.closed_port}", german.text)


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestBrokenResolver(TransactionCase):
    """Check DNS on a resolver that says no name exists, not even the root's,
    and on one that does not answer at all: every line could not be checked,
    says why and what to do; a healthy server passes the same question."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        records = {
            ("corp.test", "TXT"): [txt("v=spf1 ip4:127.0.0.5 -all")],
            ("_dmarc.corp.test", "TXT"): [txt("v=DMARC1; p=reject")],
            ("corp.test", "MX"): [f"10 {GATE}."],
        }
        cls.healthy = DnsTestServer(records, host=HOST).start()
        cls.addClassCleanup(cls.healthy.stop)
        cls.broken = DnsTestServer(records, host=HOST, nxdomain_all=True).start()
        cls.addClassCleanup(cls.broken.stop)
        cls.silent = DnsTestServer(records, host=HOST, silent=True).start()
        cls.addClassCleanup(cls.silent.stop)
        cls.env["ir.mail_server"].search([]).active = False
        cls.env.company.alias_domain_id = cls.env["mail.alias.domain"].create(
            {"name": "corp.test"}
        )
        cls.server = cls.env["ir.mail_server"].create(
            {
                "name": "Own",
                "smtp_host": HOST,
                "smtp_port": free_port(HOST),
                "from_filter": "corp.test, other.test",
                "sending_addresses": "127.0.0.5",
            }
        )
        cls.Result = cls.env["mail.dns.check.result"]

    def use(self, dns):
        self.env["ir.config_parameter"].sudo().set_param(
            "mail.dns.nameservers", dns.nameservers
        )
        mail_dns.shared_resolver(dns.nameservers).clear_cache()

    def test_probe_tells_broken_from_healthy(self):
        for server, code in (
            (self.healthy, "resolver_ok"),
            (self.broken, "resolver_broken"),
        ):
            with self.subTest(code=code):
                resolver = mail_dns.RunResolver(
                    mail_dns.shared_resolver(server.nameservers)
                )
                fact = dlv.check_resolver(resolver, mail_dns.Deadline.after(5))
                self.assertEqual(fact.code, code)
                self.assertEqual(fact.data["servers"], [server.nameservers])

    def test_broken_resolver_every_line_not_checkable(self):
        self.use(self.healthy)
        self.Result._run_checks()
        spf = self.Result.search([("check", "=", "spf"), ("domain", "=", "corp.test")])
        self.assertEqual(spf.status, "pass", spf.text)
        self.use(self.broken)
        self.Result._run_checks()
        results = self.Result.search([("check", "!=", "tls")])
        self.assertEqual(
            set(results.mapped("check")),
            {"spf", "dkim", "dmarc", "alignment", "mx", "reverse_dns"}
            | {"mx_tls", "mta_sts", "tls_rpt"},
        )
        for result in results:
            with self.subTest(key=result.key):
                self.assertEqual(
                    (result.status, result.code), ("unknown", "resolver_broken")
                )
                self.assertIn("not even the root of DNS", result.text)
                self.assertIn(self.broken.nameservers, result.text)
                self.assertIn("More settings ▸ DNS servers", result.text)
                self.assertFalse(result.record_to_publish)
        # the root was asked once for the whole check, nothing else
        self.assertEqual(self.broken.query_count(".", "SOA"), 1)
        self.assertEqual(self.broken.total_queries, 1)
        # the machine's resolver: the text names it and /etc/resolv.conf
        machine = results[:1].with_context()
        machine.sudo().write({"data": {**machine.data, "machine": True}})
        self.assertIn("the machine's resolver", machine.text)
        self.assertIn("/etc/resolv.conf", machine.text)
        # in German
        load_german(self.env)
        german = results.with_context(lang="de_DE")
        german.invalidate_recordset(["text"])
        for result in german:
            self.assertTrue(result.text.startswith("Nicht prüfbar: "), result.text)

    def test_silent_server_is_named(self):
        self.use(self.silent)
        # a lookup gives up after 0.5 s here (3 s in production): the same
        # rule, sooner
        resolver = mail_dns.shared_resolver(self.silent.nameservers)
        started = time.monotonic()
        with patch.object(resolver, "query_timeout", 0.5):
            results = self.Result._check_path(
                self.server, "news@corp.test", "news@corp.test", timeout=6
            )
        # one lookup's time, not one for each name
        self.assertLess(time.monotonic() - started, 0.5 + 2.5)
        lines = results.filtered(lambda result: result.check != "tls")
        self.assertTrue(lines)
        for result in lines:
            with self.subTest(key=result.key):
                self.assertEqual(
                    (result.status, result.code), ("unknown", "resolver_timeout")
                )
                self.assertIn(f"the DNS server {self.silent.nameservers} ", result.text)
                self.assertIn("did not answer at all", result.text)
                self.assertIn("Make sure it runs", result.text)
