# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The deliverability decisions (tools/dns_check/checks.py) against the loopback DNS
server."""

import time

from odoo.tests import tagged

from odoo.addons.mail_routing_policy.tools import mail_dns
from odoo.addons.mail_routing_policy.tools.dns_check import checks as dlv

from .dns_server import txt
from .test_mail_auth import LoopbackDnsCase

SERVER_IP = "127.0.0.5"
GATE = "gate.mail.test"
SILENT = {
    "silent.test",
    "_dmarc.silent.test",
    "s1._domainkey.silent.test",
    "8.0.0.127.in-addr.arpa",
}


def zone(keys):
    records = {
        # SPF
        ("nospf.test", "A"): ["127.0.0.50"],
        ("twospf.test", "TXT"): [
            "v=spf1 ip4:127.0.0.5 -all",
            "v=spf1 ip4:127.0.0.6 -all",
            "other=1",
        ],
        ("many.test", "TXT"): ["v=spf1 include:chain1.many.test -all"],
        ("chain1.many.test", "TXT"): [
            "v=spf1 a:h1.many.test a:h2.many.test a:h3.many.test a:h4.many.test "
            "include:chain2.many.test -all"
        ],
        ("chain2.many.test", "TXT"): [
            "v=spf1 a:h5.many.test a:h6.many.test a:h7.many.test a:h8.many.test "
            "a:h9.many.test -all"
        ],
        # the hosts of many.test's chain (flattened in the proposed record)
        **{(f"h{n}.many.test", "A"): [f"127.0.1.{n}"] for n in range(1, 10)},
        ("void.test", "TXT"): [
            "v=spf1 a:v1.void.test a:v2.void.test a:v3.void.test ~all"
        ],
        ("plusall.test", "TXT"): ["v=spf1 ip4:127.0.0.5 +all"],
        ("anyinclude.test", "TXT"): ["v=spf1 include:plusall.test -all"],
        ("soft.test", "TXT"): ["v=spf1 ip4:127.0.0.9   mx ~all"],
        ("soft.test", "MX"): ["10 mx.soft.test"],
        ("mx.soft.test", "A"): ["127.0.0.10"],
        ("hard.test", "TXT"): ["v=spf1 ip4:127.0.0.9 -all"],
        ("viainclude.test", "TXT"): ["v=spf1 include:relay.test -all"],
        ("relay.test", "TXT"): ["v=spf1 ip4:127.0.0.0/29 -all"],
        ("badsyntax.test", "TXT"): ["v=spf1 ip4:127.0.0.5 bogus -all"],
        ("slowinclude.test", "TXT"): ["v=spf1 include:silent.test -all"],
        # DKIM at mail.test
        ("s2048._domainkey.mail.test", "TXT"): [keys.rsa2048[1]],
        ("s1024._domainkey.mail.test", "TXT"): [keys.rsa1024[1]],
        ("s512._domainkey.mail.test", "TXT"): [keys.rsa512[1]],
        ("ed._domainkey.mail.test", "TXT"): [keys.ed25519[1]],
        ("revoked._domainkey.mail.test", "TXT"): ["v=DKIM1; k=rsa; p="],
        ("garbled._domainkey.mail.test", "TXT"): ["v=DKIM1; k=rsa; p=AAAA"],
        ("mail.test", "TXT"): ["v=spf1 include:relay.test -all"],
        ("_dmarc.mail.test", "TXT"): [
            "v=DMARC1; p=quarantine; rua=mailto:dmarc@mail.test"
        ],
        # DMARC
        ("_dmarc.orgonly.test", "TXT"): [
            "v=DMARC1; p=none; sp=reject; rua=mailto:r@orgonly.test"
        ],
        ("_dmarc.reject.test", "TXT"): ["v=DMARC1; p=reject; adkim=s; pct=50"],
        ("_dmarc.twodmarc.test", "TXT"): ["v=DMARC1; p=reject", "v=DMARC1; p=none"],
        ("_dmarc.baddmarc.test", "TXT"): ["v=DMARC1; p=bogus"],
        # MX
        ("elsewhere.test", "MX"): ["10 mx2.provider.test", "5 mx1.provider.test"],
        ("nomx.test", "A"): ["127.0.0.51"],
        ("nullmx.test", "MX"): ["0 ."],
        # reverse DNS
        ("5.0.0.127.in-addr.arpa", "PTR"): [f"{GATE}."],
        (GATE, "A"): [SERVER_IP],
        ("6.0.0.127.in-addr.arpa", "PTR"): ["wrong.mail.test."],
        ("wrong.mail.test", "A"): ["127.0.0.99"],
    }
    for n in range(1, 10):
        records[(f"h{n}.many.test", "A")] = [f"127.0.1.{n}"]
    records[("mail.test", "MX")] = ["10 Gate.Mail.TEST."]
    records[("cname._domainkey.mail.test", "CNAME")] = ["s2048._domainkey.mail.test."]
    return {
        (name, rdtype): [txt(text) for text in texts] if rdtype == "TXT" else texts
        for (name, rdtype), texts in records.items()
    }


class DeliverabilityCase(LoopbackDnsCase):
    """Check DNS's zone on the loopback DNS server."""

    dns_zone = staticmethod(zone)
    dns_silent = SILENT

    def deadline(self):
        return mail_dns.Deadline.after(10)

    def assertFact(self, fact, status, code, record="", **data):
        self.assertIsInstance(fact, dlv.Fact)
        self.assertEqual((fact.status, fact.code), (status, code), fact)
        self.assertEqual(fact.record_to_publish, record, fact)
        for key, value in data.items():
            self.assertEqual(fact.data.get(key), value, f"{key} of {fact}")


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDnsCheckSpf(DeliverabilityCase):
    def test_records(self):
        table = [
            # domain, sending ips, includes, status, code, record to publish, data
            (
                "nospf.test",
                [SERVER_IP],
                ["relay.test"],
                dlv.FAIL,
                dlv.CODE_NO_RECORD,
                'nospf.test. TXT "v=spf1 ip4:127.0.0.5 include:relay.test ~all"',
                {},
            ),
            (
                "nospf.test",
                ["2001:DB8::5", "127.0.0.16/28"],
                [],
                dlv.FAIL,
                dlv.CODE_NO_RECORD,
                'nospf.test. TXT "v=spf1 ip6:2001:db8::5 ip4:127.0.0.16/28 ~all"',
                {},
            ),
            (
                # one record with both records' terms
                "twospf.test",
                [SERVER_IP],
                [],
                dlv.FAIL,
                dlv.CODE_MULTIPLE_RECORDS,
                'twospf.test. TXT "v=spf1 ip4:127.0.0.5 ip4:127.0.0.6 -all"',
                {},
            ),
            (
                # the chain's a: terms replaced by their addresses, and the
                # server's address added
                "many.test",
                [SERVER_IP],
                [],
                dlv.FAIL,
                dlv.CODE_TOO_MANY_LOOKUPS,
                'many.test. TXT "v=spf1 '
                + " ".join(f"ip4:127.0.1.{n}" for n in range(1, 10))
                + ' ip4:127.0.0.5 -all"',
                {"lookups": 11, "limit": 10},
            ),
            (
                # without the terms that name nothing
                "void.test",
                [SERVER_IP],
                [],
                dlv.FAIL,
                dlv.CODE_TOO_MANY_VOID_LOOKUPS,
                'void.test. TXT "v=spf1 ip4:127.0.0.5 ~all"',
                {"void_lookups": 3},
            ),
            (
                "plusall.test",
                [SERVER_IP],
                [],
                dlv.FAIL,
                dlv.CODE_ALLOWS_ANY,
                'plusall.test. TXT "v=spf1 ip4:127.0.0.5 ~all"',
                {},
            ),
            (
                # the include that lets anyone pass dropped
                "anyinclude.test",
                [SERVER_IP],
                [],
                dlv.FAIL,
                dlv.CODE_ALLOWS_ANY,
                'anyinclude.test. TXT "v=spf1 ip4:127.0.0.5 -all"',
                {},
            ),
            (
                # without the invalid term
                "badsyntax.test",
                [SERVER_IP],
                [],
                dlv.FAIL,
                dlv.CODE_RECORD_SYNTAX,
                'badsyntax.test. TXT "v=spf1 ip4:127.0.0.5 -all"',
                {"term": "bogus"},
            ),
            (
                "soft.test",
                [SERVER_IP, "127.0.0.10"],
                [],
                dlv.WARNING,
                dlv.CODE_NOT_AUTHORISED,
                'soft.test. TXT "v=spf1 ip4:127.0.0.5 ip4:127.0.0.9 mx ~all"',
                {"results": {SERVER_IP: "softfail", "127.0.0.10": "pass"}},
            ),
            (
                "soft.test",
                ["2001:db8::5"],
                [],
                dlv.WARNING,
                dlv.CODE_NOT_AUTHORISED,
                'soft.test. TXT "v=spf1 ip6:2001:db8::5 ip4:127.0.0.9 mx ~all"',
                {"results": {"2001:db8::5": "softfail"}},
            ),
            (
                "hard.test",
                [SERVER_IP, "127.0.0.9"],
                [],
                dlv.FAIL,
                dlv.CODE_NOT_AUTHORISED,
                'hard.test. TXT "v=spf1 ip4:127.0.0.5 ip4:127.0.0.9 -all"',
                {"results": {SERVER_IP: "fail", "127.0.0.9": "pass"}},
            ),
            (
                # pass via include; a range is authorised when both its ends are
                "viainclude.test",
                [SERVER_IP, "127.0.0.0/30", "127.0.0.4/29"],
                [],
                dlv.PASS,
                dlv.CODE_AUTHORISED,
                "",
                {
                    "results": {
                        SERVER_IP: "pass",
                        "127.0.0.0/30": "pass",
                        "127.0.0.0/29": "pass",
                    }
                },
            ),
            (
                "viainclude.test",
                [SERVER_IP],
                [],
                dlv.PASS,
                dlv.CODE_AUTHORISED,
                "",
                {"lookups": 1},
            ),
            (
                "viainclude.test",
                [],
                [],
                dlv.UNKNOWN,
                dlv.CODE_NO_SENDING_ADDRESS,
                "",
                {},
            ),
            ("nospf.test", ["not-an-ip"], [], dlv.FAIL, dlv.CODE_BAD_ADDRESS, "", {}),
        ]
        for domain, ips, includes, status, code, record, data in table:
            with self.subTest(domain=domain, ips=ips):
                fact = dlv.check_spf(
                    domain, ips, includes, self.resolver, self.deadline()
                )
                self.assertEqual((fact.check, fact.domain), (dlv.CHECK_SPF, domain))
                self.assertFact(fact, status, code, record, **data)

    def test_range_partly_authorised(self):
        # relay.test authorises 127.0.0.0/29: 127.0.0.0/28 (.0-.15) is not authorised at
        # its end
        fact = dlv.check_spf(
            "viainclude.test", ["127.0.0.0/28"], [], self.resolver, self.deadline()
        )
        self.assertFact(
            fact,
            dlv.FAIL,
            dlv.CODE_NOT_AUTHORISED,
            'viainclude.test. TXT "v=spf1 ip4:127.0.0.0/28 include:relay.test -all"',
            results={"127.0.0.0/28": "fail"},
        )

    def test_timeout_in_include(self):
        started = time.monotonic()
        fact = dlv.check_spf(
            "slowinclude.test",
            [SERVER_IP],
            [],
            self.resolver,
            mail_dns.Deadline.after(2),
        )
        self.assertLess(time.monotonic() - started, 4)
        self.assertFact(
            fact, dlv.UNKNOWN, dlv.CODE_DNS_TIMEOUT, name="silent.test", rdtype="TXT"
        )


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDnsCheckDkim(DeliverabilityCase):
    def test_selectors(self):
        table = [
            ("s2048", dlv.PASS, dlv.CODE_KEY_OK, {"key_type": "rsa", "key_bits": 2048}),
            ("cname", dlv.PASS, dlv.CODE_KEY_OK, {"key_type": "rsa", "key_bits": 2048}),
            ("ed", dlv.PASS, dlv.CODE_KEY_OK, {"key_type": "ed25519"}),
            (
                "s1024",
                dlv.WARNING,
                dlv.CODE_KEY_WEAK,
                {"key_bits": 1024, "recommended": 2048},
            ),
            (
                "s512",
                dlv.FAIL,
                dlv.CODE_KEY_TOO_SMALL,
                {"key_bits": 512, "minimum": 1024},
            ),
            ("revoked", dlv.FAIL, dlv.CODE_KEY_REVOKED, {}),
            ("garbled", dlv.FAIL, dlv.CODE_KEY_FORMAT, {}),
            ("missing", dlv.FAIL, dlv.CODE_NO_KEY, {"selector": "missing"}),
        ]
        selectors = [selector for selector, *_rest in table]
        facts = dlv.check_dkim("Mail.Test.", selectors, self.resolver, self.deadline())
        self.assertEqual(len(facts), len(table))
        for fact, (selector, status, code, data) in zip(facts, table, strict=True):
            with self.subTest(selector=selector):
                self.assertEqual(
                    (fact.check, fact.domain),
                    (dlv.CHECK_DKIM, f"{selector}._domainkey.mail.test"),
                )
                self.assertFact(fact, status, code, **data)

    def test_no_selector(self):
        (fact,) = dlv.check_dkim("mail.test", [], self.resolver, self.deadline())
        self.assertFact(fact, dlv.WARNING, dlv.CODE_NO_SELECTOR)
        self.assertEqual(self.resolver.queries_sent, 0)

    def test_timeout(self):
        (fact,) = dlv.check_dkim(
            "silent.test", ["s1"], self.resolver, mail_dns.Deadline.after(2)
        )
        self.assertFact(
            fact, dlv.UNKNOWN, dlv.CODE_DNS_TIMEOUT, name="s1._domainkey.silent.test"
        )


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDnsCheckDmarc(DeliverabilityCase):
    def test_records(self):
        table = [
            (
                "nodmarc.test",
                dlv.FAIL,
                dlv.CODE_NO_RECORD,
                '_dmarc.nodmarc.test. TXT "v=DMARC1; p=none; '
                'rua=mailto:dmarc@nodmarc.test"',
                {},
            ),
            (
                "news.nodmarc.test",
                dlv.FAIL,
                dlv.CODE_NO_RECORD,
                '_dmarc.nodmarc.test. TXT "v=DMARC1; p=none; '
                'rua=mailto:dmarc@nodmarc.test"',
                {"org_domain": "nodmarc.test"},
            ),
            (
                "orgonly.test",
                dlv.WARNING,
                dlv.CODE_POLICY_NONE,
                "",
                {"policy": "none", "sp": "reject", "rua": ["mailto:r@orgonly.test"]},
            ),
            (
                # sp applies to a subdomain whose record is the organisational domain's
                "news.orgonly.test",
                dlv.PASS,
                dlv.CODE_POLICY_ENFORCED,
                "",
                {"policy": "reject", "p": "none", "record_domain": "orgonly.test"},
            ),
            (
                # RFC 7489 §6.6.4: reject for half of the failing mail only;
                # the record without pct proposed (RFC 9989 has no pct)
                "reject.test",
                dlv.WARNING,
                dlv.CODE_POLICY_SAMPLED,
                '_dmarc.reject.test. TXT "v=DMARC1; p=reject; adkim=s"',
                {"policy": "reject", "pct": 50, "adkim": "s"},
            ),
            (
                # the strictest of the records kept
                "twodmarc.test",
                dlv.FAIL,
                dlv.CODE_MULTIPLE_RECORDS,
                '_dmarc.twodmarc.test. TXT "v=DMARC1; p=reject"',
                {},
            ),
            (
                "baddmarc.test",
                dlv.FAIL,
                dlv.CODE_RECORD_SYNTAX,
                '_dmarc.baddmarc.test. TXT "v=DMARC1; p=none"',
                {},
            ),
            (
                "silent.test",
                dlv.UNKNOWN,
                dlv.CODE_DNS_TIMEOUT,
                "",
                {"name": "_dmarc.silent.test"},
            ),
        ]
        for domain, status, code, record, data in table:
            with self.subTest(domain=domain):
                fact = dlv.check_dmarc(
                    domain, self.resolver, mail_dns.Deadline.after(3)
                )
                self.assertEqual((fact.check, fact.domain), (dlv.CHECK_DMARC, domain))
                self.assertFact(fact, status, code, record, **data)

    def test_alignment(self):
        table = [
            # from, envelope, dkim domains, status, code, aligned, would_be
            (
                "reject.test",
                "bounces.other.test",
                [],
                dlv.FAIL,
                dlv.CODE_NOT_ALIGNED,
                [],
                "reject",
            ),
            # adkim=s: a DKIM signature of a subdomain does not align; aspf relaxed does
            (
                "reject.test",
                "other.test",
                ["mail.reject.test"],
                dlv.FAIL,
                dlv.CODE_NOT_ALIGNED,
                [],
                "reject",
            ),
            (
                "reject.test",
                "bounces.reject.test",
                ["mail.reject.test"],
                dlv.PASS,
                dlv.CODE_ALIGNED,
                ["spf"],
                None,
            ),
            (
                "reject.test",
                "other.test",
                ["Reject.Test."],
                dlv.PASS,
                dlv.CODE_ALIGNED,
                ["dkim"],
                None,
            ),
            (
                "mail.test",
                "other.test",
                [],
                dlv.FAIL,
                dlv.CODE_NOT_ALIGNED,
                [],
                "quarantine",
            ),
            (
                "orgonly.test",
                "other.test",
                [],
                dlv.WARNING,
                dlv.CODE_NOT_ALIGNED,
                [],
                "none",
            ),
            (
                "nodmarc.test",
                "other.test",
                [],
                dlv.WARNING,
                dlv.CODE_NOT_ALIGNED,
                [],
                "none",
            ),
            (
                "nodmarc.test",
                "b.nodmarc.test",
                ["nodmarc.test"],
                dlv.PASS,
                dlv.CODE_ALIGNED,
                ["dkim", "spf"],
                None,
            ),
            (
                "silent.test",
                "silent.test",
                [],
                dlv.UNKNOWN,
                dlv.CODE_DNS_TIMEOUT,
                None,
                None,
            ),
        ]
        for (
            from_domain,
            envelope,
            dkim_domains,
            status,
            code,
            mechanisms,
            would_be,
        ) in table:
            with self.subTest(
                from_domain=from_domain, envelope=envelope, dkim=dkim_domains
            ):
                dmarc = dlv.check_dmarc(
                    from_domain, self.resolver, mail_dns.Deadline.after(3)
                )
                fact = dlv.check_alignment(from_domain, envelope, dkim_domains, dmarc)
                self.assertEqual(fact.check, dlv.CHECK_ALIGNMENT)
                self.assertFact(
                    fact, status, code, aligned=mechanisms, would_be=would_be
                )


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestMxAndReverseDns(DeliverabilityCase):
    def test_mx(self):
        table = [
            ("mail.test", [GATE], dlv.PASS, dlv.CODE_MX_OK, "", {"hosts": [GATE]}),
            ("mail.test", [], dlv.PASS, dlv.CODE_MX_FOUND, "", {}),
            (
                "elsewhere.test",
                ["Gate.Mail.Test.", "other.mail.test"],
                dlv.FAIL,
                dlv.CODE_MX_ELSEWHERE,
                f"elsewhere.test. MX 10 {GATE}.",
                {"hosts": ["mx1.provider.test", "mx2.provider.test"]},
            ),
            (
                # mail goes to the name's own address: elsewhere, as an MX
                # elsewhere (RFC 5321 §5.1)
                "nomx.test",
                [GATE],
                dlv.FAIL,
                dlv.CODE_NO_MX,
                f"nomx.test. MX 10 {GATE}.",
                {},
            ),
            (
                "nullmx.test",
                [GATE],
                dlv.FAIL,
                dlv.CODE_NULL_MX,
                f"nullmx.test. MX 10 {GATE}.",
                {},
            ),
            (
                "nowhere.test",
                [GATE],
                dlv.FAIL,
                dlv.CODE_NO_DOMAIN,
                f"nowhere.test. MX 10 {GATE}.",
                {},
            ),
            (
                "silent.test",
                [GATE],
                dlv.UNKNOWN,
                dlv.CODE_DNS_TIMEOUT,
                "",
                {"name": "silent.test", "rdtype": "MX"},
            ),
        ]
        for domain, expected, status, code, record, data in table:
            with self.subTest(domain=domain, expected=expected):
                fact = dlv.check_mx(
                    domain, expected, self.resolver, mail_dns.Deadline.after(3)
                )
                self.assertEqual((fact.check, fact.domain), (dlv.CHECK_MX, domain))
                self.assertFact(fact, status, code, record, **data)

    def test_reverse_dns(self):
        table = [
            (SERVER_IP, dlv.PASS, dlv.CODE_FORWARD_CONFIRMED, "", {"name": GATE}),
            (
                "127.0.0.6",
                dlv.FAIL,
                dlv.CODE_PTR_MISMATCH,
                "wrong.mail.test. A 127.0.0.6",
                {
                    "ptr": ["wrong.mail.test"],
                    "forward": {"wrong.mail.test": ["127.0.0.99"]},
                },
            ),
            (
                "127.0.0.7",
                dlv.FAIL,
                dlv.CODE_NO_PTR,
                # the PTR and the address record that confirms it
                f"7.0.0.127.in-addr.arpa. PTR {GATE}.\n{GATE}. A 127.0.0.7",
                {"reverse_name": "7.0.0.127.in-addr.arpa"},
            ),
            (
                "127.0.0.8",
                dlv.UNKNOWN,
                dlv.CODE_DNS_TIMEOUT,
                "",
                {"name": "8.0.0.127.in-addr.arpa"},
            ),
            ("127.0.0.300", dlv.FAIL, dlv.CODE_BAD_ADDRESS, "", {}),
        ]
        for ip, status, code, record, data in table:
            with self.subTest(ip=ip):
                fact = dlv.check_reverse_dns(
                    ip, self.resolver, mail_dns.Deadline.after(3), hostname=GATE
                )
                self.assertEqual((fact.check, fact.domain), (dlv.CHECK_REVERSE_DNS, ip))
                self.assertFact(fact, status, code, record, **data)


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestSendingPath(DeliverabilityCase):
    def path(self, **kwargs):
        args = {
            "server": GATE,
            "from_domain": "mail.test",
            "envelope_domain": "mail.test",
            "dkim_selectors": ["s2048"],
            "sending_ips": [SERVER_IP],
            "mx_hosts": [GATE],
        }
        args.update(kwargs)
        return dlv.check_sending_path(resolver=self.resolver, **args)

    def test_good_path_and_queries(self):
        facts = self.path()
        self.assertEqual(
            [(fact.check, fact.status, fact.code) for fact in facts],
            [
                (dlv.CHECK_SPF, dlv.PASS, dlv.CODE_AUTHORISED),
                (dlv.CHECK_DKIM, dlv.PASS, dlv.CODE_KEY_OK),
                (dlv.CHECK_DMARC, dlv.PASS, dlv.CODE_POLICY_ENFORCED),
                (dlv.CHECK_ALIGNMENT, dlv.PASS, dlv.CODE_ALIGNED),
                (dlv.CHECK_MX, dlv.PASS, dlv.CODE_MX_OK),
                (dlv.CHECK_REVERSE_DNS, dlv.PASS, dlv.CODE_FORWARD_CONFIRMED),
            ],
        )
        self.assertEqual(facts[3].data["aligned"], ["dkim", "spf"])
        # each question once: the SPF record walked twice (limits, then the address),
        # through the cache
        sent = self.resolver.queries_sent
        for name, rdtype in [
            ("mail.test", "TXT"),
            ("relay.test", "TXT"),
            ("_dmarc.mail.test", "TXT"),
        ]:
            self.assertEqual(self.resolver.query_count(name, rdtype), 1, (name, rdtype))
        # 2 SPF, 1 DKIM, 2 DMARC (the tree walk asks _dmarc.test), 1 MX, 1 PTR, 1 A
        self.assertEqual(sent, 8)
        # within the TTLs, a second run asks nothing
        self.assertEqual(self.path(), facts)
        self.assertEqual(self.resolver.queries_sent, sent)

    def test_bad_path(self):
        facts = self.path(
            from_domain="reject.test",
            envelope_domain="hard.test",
            dkim_selectors=["missing"],
            sending_ips=["127.0.0.6"],
            dkim_domain="reject.test",
        )
        by_check = {fact.check: fact for fact in facts}
        self.assertFact(
            by_check[dlv.CHECK_SPF],
            dlv.FAIL,
            dlv.CODE_NOT_AUTHORISED,
            'hard.test. TXT "v=spf1 ip4:127.0.0.6 ip4:127.0.0.9 -all"',
        )
        self.assertFact(by_check[dlv.CHECK_DKIM], dlv.FAIL, dlv.CODE_NO_KEY)
        # no usable key: the DKIM domain does not align anything
        self.assertFact(
            by_check[dlv.CHECK_ALIGNMENT],
            dlv.FAIL,
            dlv.CODE_NOT_ALIGNED,
            would_be="reject",
            aligned=[],
        )
        self.assertFact(
            by_check[dlv.CHECK_MX],
            dlv.FAIL,
            dlv.CODE_NO_MX,
            f"reject.test. MX 10 {GATE}.",
        )
        self.assertFact(
            by_check[dlv.CHECK_REVERSE_DNS],
            dlv.FAIL,
            dlv.CODE_PTR_MISMATCH,
            "wrong.mail.test. A 127.0.0.6",
        )

    def test_silent_nameserver_within_deadline(self):
        started = time.monotonic()
        facts = self.path(
            from_domain="silent.test",
            envelope_domain="silent.test",
            dkim_selectors=["s1"],
            sending_ips=["127.0.0.8"],
            timeout=0.75,
        )
        elapsed = time.monotonic() - started
        # the deadline, plus at most one retry back-off of dnspython
        self.assertLess(elapsed, 0.75 + 2.0)
        # the first question waits out the deadline; the others are not
        # asked, and say so (RFC 2308 §7: no answer is not "no record")
        self.assertEqual(
            [(fact.check, fact.status) for fact in facts],
            [
                (check, dlv.UNKNOWN)
                for check in (
                    dlv.CHECK_SPF,
                    dlv.CHECK_DKIM,
                    dlv.CHECK_DMARC,
                    dlv.CHECK_ALIGNMENT,
                    dlv.CHECK_MX,
                    dlv.CHECK_REVERSE_DNS,
                )
            ],
        )
        self.assertEqual(facts[0].code, dlv.CODE_DNS_TIMEOUT)
        self.assertEqual(facts[0].data["name"], "silent.test")
        for fact in facts[1:]:
            self.assertIn(
                fact.code, (dlv.CODE_DNS_TIMEOUT, dlv.CODE_DNS_NOT_ASKED), fact
            )
        self.assertEqual(facts[-1].code, dlv.CODE_DNS_NOT_ASKED)
        self.assertEqual(facts[-1].data["name"], "8.0.0.127.in-addr.arpa")

    def test_worst(self):
        table = [
            ([], dlv.PASS),
            ([dlv.PASS, dlv.WARNING], dlv.WARNING),
            ([dlv.WARNING, dlv.FAIL, dlv.PASS], dlv.FAIL),
            ([dlv.FAIL, dlv.UNKNOWN], dlv.UNKNOWN),
        ]
        for statuses, expected in table:
            with self.subTest(statuses=statuses):
                self.assertEqual(dlv.worst(statuses), expected)
