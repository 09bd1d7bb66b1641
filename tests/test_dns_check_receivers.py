# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Check DNS says what receivers will do (tools/dns_check/checks.py against the
loopback DNS server): DMARC passes only on an identifier that authenticates
and aligns, SPF as pyspf evaluates it, a record to publish for every failure
(published, checked again: the line passes), names that do not answer, and
DMARC as RFC 9989 and RFC 7489 read it (compared with checkdmarc)."""

import time

import checkdmarc.dmarc
import checkdmarc.utils
import dns.resolver
import spf

from odoo.tests import BaseCase, tagged

from odoo.addons.mail_routing_policy.tools import mail_auth, mail_dns
from odoo.addons.mail_routing_policy.tools.dns_check import checks as dlv

from .dns_server import DnsTestServer, txt
from .test_dns_check import zone as base_zone
from .test_mail_auth import make_keys

HOST = "127.0.0.1"
SERVER_IP = "127.0.0.5"
GATE = "gate.mail.test"
DEAD = "_spf.dead.test"

RECORDS = {
    # 1. envelope domain = From domain, p=reject, no DKIM key
    ("minus.test", "TXT"): ["v=spf1 ip4:127.0.0.9 -all"],
    ("neutral.test", "TXT"): ["v=spf1 ip4:127.0.0.9 ?all"],
    ("v4only.test", "TXT"): ["v=spf1 ip4:127.0.0.5 -all"],
    ("slowspf.test", "TXT"): [f"v=spf1 include:{DEAD} -all"],
    ("lookups.test", "TXT"): ["v=spf1 include:l1.lookups.test ip4:127.0.0.5 -all"],
    ("l1.lookups.test", "TXT"): [
        "v=spf1 a:h1.lookups.test a:h2.lookups.test a:h3.lookups.test "
        "a:h4.lookups.test include:l2.lookups.test -all"
    ],
    ("l2.lookups.test", "TXT"): [
        "v=spf1 a:h5.lookups.test a:h6.lookups.test a:h7.lookups.test "
        "a:h8.lookups.test a:h9.lookups.test -all"
    ],
    **{(f"h{n}.lookups.test", "A"): [f"127.0.4.{n}"] for n in range(1, 10)},
    # 3. nested includes, ranges
    ("nested.test", "TXT"): ["v=spf1 include:_spf.nested.test -all"],
    ("_spf.nested.test", "TXT"): ["v=spf1 include:relay.nested.test ~all"],
    ("relay.nested.test", "TXT"): ["v=spf1 include:mg.provider.test -all"],
    ("mg.provider.test", "TXT"): ["v=spf1 ip4:127.0.2.0/24 -all"],
    ("ranges.test", "TXT"): ["v=spf1 ip4:127.0.3.0/24 ip6:2001:db8:3::/48 -all"],
    ("noreach.test", "TXT"): ["v=spf1 ip4:127.0.0.5 -all"],
    # 4. pct
    ("_dmarc.pct0.test", "TXT"): ["v=DMARC1; p=quarantine; pct=0"],
    ("_dmarc.pct50.test", "TXT"): ["v=DMARC1; p=reject; pct=50"],
    # 5. failures with a record to publish
    ("nospf5.test", "A"): ["127.0.0.50"],
    ("two5.test", "TXT"): ["v=spf1 ip4:127.0.0.5 -all", "v=spf1 mx -all"],
    ("void5.test", "TXT"): [
        "v=spf1 a:x1.void5.test a:x2.void5.test mx:x3.void5.test ip4:127.0.0.5 -all"
    ],
    ("noinc5.test", "TXT"): ["v=spf1 include:gone.test ip4:127.0.0.5 -all"],
    ("gone.test", "A"): ["127.0.0.51"],
    ("plus5.test", "TXT"): ["v=spf1 +all"],
    ("_dmarc.bad5.test", "TXT"): ["v=DMARC1; p=bogus"],
    ("_dmarc.two5.test", "TXT"): ["v=DMARC1; p=none", "v=DMARC1; p=quarantine"],
    ("nomx5.test", "A"): ["127.0.0.52"],
    ("elsewhere5.test", "MX"): ["10 mx.elsewhere.test."],
    ("22.0.0.127.in-addr.arpa", "PTR"): ["mism.rev.test."],
    ("mism.rev.test", "A"): ["127.0.0.99"],
    # 6. a zone that never answers, shared by eight domains
    **{
        (f"d{n}.dead-users.test", "TXT"): [f"v=spf1 include:{DEAD} -all"]
        for n in range(8)
    },
    # 8. DMARC by RFC 9989 and RFC 7489
    ("_dmarc.dept.big.test", "TXT"): ["v=DMARC1; p=reject; psd=n"],
    ("_dmarc.big.test", "TXT"): ["v=DMARC1; p=none"],
    ("x.dept.big.test", "A"): ["127.0.0.60"],
    ("_dmarc.b.c.test", "TXT"): ["v=DMARC1; p=quarantine"],
    ("a.b.c.test", "A"): ["127.0.0.61"],
    ("_dmarc.np.test", "TXT"): ["v=DMARC1; p=reject; sp=none; np=reject"],
    ("real.np.test", "A"): ["127.0.0.62"],
    ("_dmarc.tmode.test", "TXT"): ["v=DMARC1; p=reject; t=y"],
    ("_dmarc.news.sub.test", "TXT"): ["v=DMARC1; p=reject"],
    ("sub.test", "TXT"): ["v=spf1 ip4:127.0.0.5 -all"],
}
DMARC_REJECT = [
    "minus.test",
    "neutral.test",
    "v4only.test",
    "slowspf.test",
    "lookups.test",
]
#: the SPF cases of these tests and of tests/test_dns_check.py:
#: (domain, sending addresses, includes)
SPF_CASES = [
    ("minus.test", [SERVER_IP], []),
    ("neutral.test", [SERVER_IP], []),
    ("v4only.test", ["2001:db8::5"], []),
    ("lookups.test", [SERVER_IP], []),
    ("nested.test", ["127.0.2.7", "127.0.2.0/25"], ["mg.provider.test"]),
    ("ranges.test", ["127.0.3.0/24", "2001:db8:3::/48"], []),
    ("noreach.test", [SERVER_IP], ["mg.provider.test"]),
    ("nospf5.test", [SERVER_IP], []),
    ("two5.test", [SERVER_IP], []),
    ("void5.test", [SERVER_IP], []),
    ("split5.test", [SERVER_IP], []),
    ("noinc5.test", [SERVER_IP], []),
    ("plus5.test", [SERVER_IP], []),
    ("sub.test", [SERVER_IP], []),
    # tests/test_dns_check.py
    ("nospf.test", [SERVER_IP, "2001:db8::5", "127.0.0.16/28"], []),
    ("twospf.test", [SERVER_IP], []),
    ("many.test", [SERVER_IP], []),
    ("void.test", [SERVER_IP], []),
    ("plusall.test", [SERVER_IP], []),
    ("anyinclude.test", [SERVER_IP], []),
    ("badsyntax.test", [SERVER_IP], []),
    ("soft.test", [SERVER_IP, "127.0.0.10", "2001:db8::5"], []),
    ("hard.test", [SERVER_IP, "127.0.0.9"], []),
    ("viainclude.test", [SERVER_IP, "127.0.0.0/30", "127.0.0.0/28"], []),
    ("mail.test", [SERVER_IP], []),
]
#: codes whose line fails although pyspf passes every address: deliberate
#: (README, Check DNS): a record that lets anyone pass, an include the
#: server's sending addresses name and the record does not reach
DELIBERATE = {dlv.CODE_ALLOWS_ANY, dlv.CODE_INCLUDE_NOT_REACHED}
#: codes that name what only the admin can decide
ADMIN_DECIDES = {dlv.CODE_POLICY_NONE, dlv.CODE_POLICY_TESTING}


def receivers_zone(keys):
    records = dict(base_zone(keys))
    records.update(
        {
            (name, rdtype): [txt(text) for text in texts] if rdtype == "TXT" else texts
            for (name, rdtype), texts in RECORDS.items()
        }
    )
    for domain in DMARC_REJECT:
        records[(f"_dmarc.{domain}", "TXT")] = [txt("v=DMARC1; p=reject")]
    # one record in two strings split between two terms: joined without a
    # space (RFC 7208 §3.3) they run together
    records[("split5.test", "TXT")] = [
        '"v=spf1 ip4:127.0.0.5" "include:mg.provider.test -all"'
    ]
    return records


class ReceiversCase(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dns = DnsTestServer(
            receivers_zone(make_keys()), host=HOST, silent={DEAD}
        ).start()
        cls.addClassCleanup(cls.dns.stop)

    def setUp(self):
        super().setUp()
        self.resolver = self.new_resolver()

    def new_resolver(self, **kwargs):
        kwargs.setdefault("query_timeout", 1.0)
        kwargs.setdefault("attempt_timeout", 0.5)
        return mail_dns.MailResolver(
            mail_dns.parse_nameservers(self.dns.nameservers), **kwargs
        )

    def deadline(self, seconds=10):
        return mail_dns.Deadline.after(seconds)

    def path(self, from_domain, sending_ips, envelope_domain="", **kwargs):
        facts = dlv.check_sending_path(
            GATE,
            from_domain,
            envelope_domain or from_domain,
            kwargs.pop("dkim_selectors", []),
            sending_ips,
            [GATE],
            self.resolver,
            **kwargs,
        )
        return {fact.check: fact for fact in facts}

    def dns_resolver(self):
        """A dnspython resolver asking the loopback server (for pyspf's own
        lookups and checkdmarc's)."""
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [self.dns.host]
        resolver.port = self.dns.port
        resolver.timeout = resolver.lifetime = 2.0
        return resolver


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDmarcNeedsAuthentication(ReceiversCase):
    def test_spf_must_pass_rfc7489_4_2(self):
        """RFC 7489 §4.2 / RFC 9989 §4.4: an aligned envelope domain counts only
        with an SPF pass: -all without the address, ?all (neutral), 11
        lookups, an address family missing: the alignment line fails."""
        for domain, ips in [
            ("minus.test", [SERVER_IP]),
            ("neutral.test", [SERVER_IP]),
            ("lookups.test", [SERVER_IP]),
            ("v4only.test", ["2001:db8::5"]),
        ]:
            with self.subTest(domain=domain):
                facts = self.path(domain, ips)
                self.assertNotEqual(facts[dlv.CHECK_SPF].status, dlv.PASS)
                alignment = facts[dlv.CHECK_ALIGNMENT]
                self.assertEqual(
                    (alignment.status, alignment.code),
                    (dlv.FAIL, dlv.CODE_NOT_AUTHENTICATED),
                    alignment,
                )
                self.assertEqual(alignment.data["would_be"], "reject")
                self.assertEqual(alignment.data["aligned"], [])

    def test_spf_unknown_makes_alignment_unknown_rfc7489_4_2(self):
        """An aligned envelope whose SPF could not be checked, no usable key:
        alignment "could not be checked", never pass."""
        facts = self.path("slowspf.test", [SERVER_IP], timeout=3)
        self.assertEqual(facts[dlv.CHECK_SPF].status, dlv.UNKNOWN)
        self.assertEqual(
            (facts[dlv.CHECK_ALIGNMENT].status, facts[dlv.CHECK_ALIGNMENT].code),
            (dlv.UNKNOWN, dlv.CODE_SPF_UNKNOWN),
        )
        # a relay whose sending addresses are unknown
        facts = self.path("minus.test", [])
        self.assertEqual(facts[dlv.CHECK_SPF].code, dlv.CODE_NO_SENDING_ADDRESS)
        self.assertEqual(facts[dlv.CHECK_ALIGNMENT].code, dlv.CODE_SPF_UNKNOWN)
        # addresses read from the SMTP host: no SPF verdict, no alignment one
        facts = self.path("minus.test", [SERVER_IP], host_addresses=True)
        self.assertEqual(facts[dlv.CHECK_SPF].code, dlv.CODE_HOST_NOT_AUTHORISED)
        self.assertEqual(facts[dlv.CHECK_ALIGNMENT].status, dlv.UNKNOWN)

    def test_spf_pass_aligns(self):
        facts = self.path("v4only.test", [SERVER_IP])
        self.assertEqual(facts[dlv.CHECK_ALIGNMENT].status, dlv.PASS)
        self.assertEqual(facts[dlv.CHECK_ALIGNMENT].data["aligned"], ["spf"])


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestSpfAsReceivers(ReceiversCase):
    def test_include_reached_through_a_chain_rfc7208_5_2(self):
        """An entered include reached through include -> include -> include
        passes, and no redundant include is proposed."""
        for ips in ([], ["127.0.2.7"]):
            with self.subTest(ips=ips):
                fact = dlv.check_spf(
                    "nested.test",
                    ips,
                    ["mg.provider.test"],
                    self.resolver,
                    self.deadline(),
                )
                self.assertEqual((fact.status, fact.code), (dlv.PASS, "authorised"))
                self.assertEqual(fact.data["includes"], {"mg.provider.test": True})
                self.assertFalse(fact.record_to_publish)

    def test_ranges_published_as_entered_rfc7208_5_6(self):
        fact = dlv.check_spf(
            "ranges.test",
            ["127.0.3.0/24", "2001:db8:3::/48"],
            [],
            self.resolver,
            self.deadline(),
        )
        self.assertEqual((fact.status, fact.code), (dlv.PASS, "authorised"), fact)

    def test_results_match_pyspf_check2(self):
        """For every SPF case of the tests, the result per sending address is
        pyspf's ``check2`` on the same zone (pyspf asking the loopback server
        itself); the line passes exactly when every address passes, but for
        the deliberate differences (README: +all, an include not reached)."""
        saved = dns.resolver.default_resolver
        dns.resolver.default_resolver = self.dns_resolver()
        self.addCleanup(setattr, dns.resolver, "default_resolver", saved)
        for domain, ips, includes in SPF_CASES:
            with self.subTest(domain=domain, ips=ips):
                fact = dlv.check_spf(
                    domain, ips, includes, self.resolver, self.deadline()
                )
                self.assertNotEqual(fact.status, dlv.UNKNOWN, fact)
                expected = {}
                for item in ips:
                    network = dlv._networks([item])[0]
                    outcomes = [
                        spf.check2(
                            i=str(address),
                            s=f"postmaster@{domain}",
                            h=domain,
                            querytime=5,
                        )[0]
                        for address in dict.fromkeys((network[0], network[-1]))
                    ]
                    expected[dlv._network_text(network)] = max(
                        outcomes, key=dlv._SPF_SEVERITY.__getitem__
                    )
                self.assertEqual(fact.data.get("results", {}), expected, fact)
                all_pass = all(result == "pass" for result in expected.values())
                if fact.code in DELIBERATE:
                    self.assertEqual(fact.status, dlv.FAIL)
                elif ips:
                    self.assertEqual(fact.status == dlv.PASS, all_pass, fact)


def publish(server, text):
    """Publish a record proposed in zone-file syntax (one record a line) in the
    loopback zone: a TXT record replaces the SPF or DMARC records at its name
    (other TXT records stay), other types the records of that type."""
    for line in text.splitlines():
        name, rdtype, data = line.split(" ", 2)
        name = name.rstrip(".")
        if rdtype == "TXT":
            keep = [
                record
                for record in server.records(name, "TXT")
                if "v=spf1" not in record.lower() and "v=dmarc1" not in record.lower()
            ]
            server.update({(name, "TXT"): [*keep, data]})
        else:
            server.update({(name, rdtype): [data]})


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestRecordsToPublish(ReceiversCase):
    """RFC 7208, RFC 7489/9989, RFC 5321 §5.1, RFC 8601 §3: every failing
    line proposes a record; published in the zone and checked again, the line
    passes (or names what only the admin can decide)."""

    def checks(self):
        spf_check = dlv.check_spf

        def spf_case(domain, ips=(SERVER_IP,), includes=()):
            return lambda resolver, deadline: spf_check(
                domain, list(ips), list(includes), resolver, deadline
            )

        def dmarc_case(domain):
            return lambda resolver, deadline: dlv.check_dmarc(
                domain, resolver, deadline
            )

        def mx_case(domain):
            return lambda resolver, deadline: dlv.check_mx(
                domain, [GATE], resolver, deadline
            )

        def reverse_case(ip, host):
            return lambda resolver, deadline: dlv.check_reverse_dns(
                ip, resolver, deadline, hostname=host
            )

        return [
            ("no_record", ("nospf5.test", "TXT"), spf_case("nospf5.test")),
            ("multiple_records", ("two5.test", "TXT"), spf_case("two5.test")),
            ("too_many_lookups", ("lookups.test", "TXT"), spf_case("lookups.test")),
            ("too_many_void_lookups", ("void5.test", "TXT"), spf_case("void5.test")),
            ("split_strings", ("split5.test", "TXT"), spf_case("split5.test")),
            ("include_no_record", ("noinc5.test", "TXT"), spf_case("noinc5.test")),
            ("allows_any", ("plus5.test", "TXT"), spf_case("plus5.test")),
            ("not_authorised", ("minus.test", "TXT"), spf_case("minus.test")),
            (
                "include_not_reached",
                ("noreach.test", "TXT"),
                spf_case("noreach.test", includes=["mg.provider.test"]),
            ),
            ("no_record", ("_dmarc.nodmarc5.test", "TXT"), dmarc_case("nodmarc5.test")),
            ("record_syntax", ("_dmarc.bad5.test", "TXT"), dmarc_case("bad5.test")),
            ("multiple_records", ("_dmarc.two5.test", "TXT"), dmarc_case("two5.test")),
            ("policy_sampled", ("_dmarc.pct50.test", "TXT"), dmarc_case("pct50.test")),
            ("policy_sampled", ("_dmarc.pct0.test", "TXT"), dmarc_case("pct0.test")),
            ("no_mx", ("nomx5.test", "MX"), mx_case("nomx5.test")),
            ("mx_elsewhere", ("elsewhere5.test", "MX"), mx_case("elsewhere5.test")),
            (
                "no_ptr",
                ("21.0.0.127.in-addr.arpa", "PTR"),
                reverse_case("127.0.0.21", "out.rev.test"),
            ),
            (
                "ptr_mismatch",
                ("mism.rev.test", "A"),
                reverse_case("127.0.0.22", "out.rev.test"),
            ),
        ]

    def test_every_failure_has_a_record_that_makes_it_pass(self):
        for code, touched, check in self.checks():
            with self.subTest(code=code, name=touched[0]):
                fact = check(self.new_resolver(), self.deadline())
                self.assertEqual(fact.code, code, fact)
                self.assertIn(fact.status, (dlv.FAIL, dlv.WARNING), fact)
                self.assertTrue(fact.record_to_publish, fact)
                names = {
                    (line.split(" ")[0].rstrip("."), line.split(" ")[1])
                    for line in fact.record_to_publish.splitlines()
                }
                saved = {key: self.dns.records(*key) for key in names | {touched}}
                self.addCleanup(self.dns.update, saved)
                publish(self.dns, fact.record_to_publish)
                again = check(self.new_resolver(), self.deadline())
                self.dns.update(saved)
                self.assertTrue(
                    again.status == dlv.PASS or again.code in ADMIN_DECIDES,
                    (fact.record_to_publish, again),
                )

    def test_pct_warns_and_t_y_advised_rfc7489_6_6_4(self):
        """p=quarantine; pct=0 applies the policy to nobody under RFC 7489: a
        warning that says so, t=y proposed in place of pct (RFC 9989 A.6)."""
        fact = dlv.check_dmarc("pct0.test", self.resolver, self.deadline())
        self.assertEqual(
            (fact.status, fact.code), (dlv.WARNING, dlv.CODE_POLICY_SAMPLED)
        )
        self.assertEqual(fact.data["rfc7489"]["applied"], "none")
        self.assertEqual(
            fact.record_to_publish,
            '_dmarc.pct0.test. TXT "v=DMARC1; p=quarantine; t=y"',
        )
        facts = self.path("pct0.test", [SERVER_IP], envelope_domain="minus.test")
        alignment = facts[dlv.CHECK_ALIGNMENT]
        # RFC 7489 receivers deliver (pct=0), RFC 9989 ones spam-folder
        self.assertEqual(alignment.code, dlv.CODE_READINGS_DIFFER, alignment)
        self.assertEqual(
            (
                alignment.data["rfc7489"]["would_be"],
                alignment.data["rfc9989"]["would_be"],
            ),
            ("none", "quarantine"),
        )


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestNamesThatDoNotAnswer(ReceiversCase):
    def test_failure_asked_once_a_check_rfc2308_7_1(self):
        """Eight domains include one zone that never answers: its lookup time is
        spent once (the failure is kept for the check), and a healthy domain
        checked afterwards keeps its own verdict."""
        run = mail_dns.RunResolver(self.resolver)
        deadline = self.deadline(30)
        started = time.monotonic()
        facts = [
            dlv.check_spf(f"d{n}.dead-users.test", [SERVER_IP], [], run, deadline)
            for n in range(8)
        ]
        asked = self.dns.query_count(DEAD, "TXT")
        healthy = dlv.check_spf("minus.test", [SERVER_IP], [], run, deadline)
        elapsed = time.monotonic() - started
        self.assertEqual({fact.code for fact in facts}, {dlv.CODE_DNS_TIMEOUT})
        self.assertEqual({fact.data["name"] for fact in facts}, {DEAD})
        self.assertEqual(healthy.code, dlv.CODE_NOT_AUTHORISED)
        self.assertLess(elapsed, 1.0 + 2.0)  # one lookup's time, not eight
        self.assertLessEqual(asked, 3)  # the first lookup's attempts only
        self.assertIn((DEAD, "TXT"), run.failures)

    def test_negative_answer_cached_by_soa_minimum_rfc2308_5(self):
        first = self.resolver.resolve("nowhere.dead-users.test", "TXT")
        self.assertEqual((first.status, first.ttl), (mail_dns.NXDOMAIN, 60))
        sent = self.resolver.queries_sent
        self.resolver.resolve("nowhere.dead-users.test", "TXT")
        self.assertEqual(self.resolver.queries_sent, sent)

    def test_unasked_name_is_not_said_unanswered(self):
        """A question the spent deadline kept from being sent is named as such
        (dns_not_asked), not as "no answer from the DNS servers"."""
        fact = dlv.check_dmarc("minus.test", self.resolver, mail_dns.Deadline(0))
        self.assertEqual(
            (fact.status, fact.code), (dlv.UNKNOWN, dlv.CODE_DNS_NOT_ASKED)
        )
        self.assertEqual(fact.data["name"], "_dmarc.minus.test")
        self.assertEqual(self.resolver.queries_sent, 0)


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDmarcReadings(ReceiversCase):
    """RFC 9989 (§4.10 tree walk, np, psd, t) and RFC 7489 (public suffix
    list, pct) read side by side; checkdmarc (RFC 9989) agrees."""

    #: From domain, code, (9989 record domain, applied), (7489 record, applied)
    CASES = [
        # psd=n stops the walk at dept.big.test (RFC 9989 §4.10.2)
        (
            "x.dept.big.test",
            dlv.CODE_READINGS_DIFFER,
            ("dept.big.test", "reject"),
            ("big.test", "none"),
        ),
        # a record between the From and the organisational domain of the PSL
        (
            "a.b.c.test",
            dlv.CODE_READINGS_DIFFER,
            ("b.c.test", "quarantine"),
            ("", ""),
        ),
        # np for a From domain that does not exist (RFC 9989 §4.7)
        (
            "ghost.np.test",
            dlv.CODE_READINGS_DIFFER,
            ("np.test", "reject"),
            ("np.test", "none"),
        ),
        (
            "real.np.test",
            dlv.CODE_POLICY_NONE,
            ("np.test", "none"),
            ("np.test", "none"),
        ),
        # t=y: one level below for RFC 9989, ignored by RFC 7489
        (
            "tmode.test",
            dlv.CODE_POLICY_TESTING,
            ("tmode.test", "quarantine"),
            ("tmode.test", "reject"),
        ),
        (
            "news.sub.test",
            dlv.CODE_POLICY_ENFORCED,
            ("news.sub.test", "reject"),
            ("news.sub.test", "reject"),
        ),
        ("nodmarc5.test", dlv.CODE_NO_RECORD, ("", ""), ("", "")),
    ]

    def test_both_readings_rfc9989_4_10(self):
        for domain, code, new, old in self.CASES:
            with self.subTest(domain=domain):
                fact = dlv.check_dmarc(domain, self.resolver, self.deadline())
                self.assertEqual(fact.code, code, fact)
                found = {
                    key: (fact.data[key]["record_domain"], fact.data[key]["applied"])
                    for key in ("rfc9989", "rfc7489")
                }
                self.assertEqual(found, {"rfc9989": new, "rfc7489": old})

    def test_alignment_differs_by_reading_rfc9989_4_10_2(self):
        """news.sub.test publishes its own record, sub.test none: RFC 7489 (PSL)
        aligns the envelope sub.test, the tree walk makes news.sub.test its
        own organisational domain: RFC 9989 receivers reject."""
        facts = self.path("news.sub.test", [SERVER_IP], envelope_domain="sub.test")
        self.assertEqual(facts[dlv.CHECK_SPF].status, dlv.PASS)
        alignment = facts[dlv.CHECK_ALIGNMENT]
        self.assertEqual(
            (alignment.status, alignment.code), (dlv.FAIL, dlv.CODE_READINGS_DIFFER)
        )
        self.assertEqual(alignment.data["rfc7489"]["status"], dlv.PASS)
        self.assertEqual(
            (
                alignment.data["rfc9989"]["status"],
                alignment.data["rfc9989"]["would_be"],
            ),
            (dlv.FAIL, "reject"),
        )

    def test_compared_with_checkdmarc(self):
        """checkdmarc (>= 5.16, RFC 9989) finds the same policy record (for
        domains that exist: checkdmarc refuses a From domain that does not)."""
        resolver = self.dns_resolver()
        checkdmarc.utils.DNS_CACHE.clear()
        self.addCleanup(checkdmarc.utils.DNS_CACHE.clear)
        for domain, _code, new, _old in self.CASES:
            if domain == "ghost.np.test":
                continue
            with self.subTest(domain=domain):
                try:
                    found = checkdmarc.dmarc.query_dmarc_record(
                        domain, resolver=resolver, ignore_unrelated_records=True
                    )
                except checkdmarc.dmarc.DMARCRecordNotFound:
                    found = {"location": "", "record": ""}
                self.assertEqual(found["location"], new[0])

    def test_mailgate_evaluates_rfc9989(self):
        """The mailgate's own DMARC evaluation of incoming mail follows RFC
        9989: the psd=n record applies, pct is no tag, t=y lowers."""
        failed = mail_auth.SpfResult(mail_auth.FAIL, "mailfrom", "other.test", "")
        for domain, policy, applied in [
            ("x.dept.big.test", "reject", "reject"),
            ("tmode.test", "reject", "quarantine"),
            ("pct50.test", "reject", "reject"),
        ]:
            with self.subTest(domain=domain):
                result = mail_auth.evaluate_dmarc(
                    domain, "", failed, (), self.resolver, self.deadline()
                )
                self.assertEqual(
                    (result.result, result.policy, result.applied_policy),
                    (mail_auth.FAIL, policy, applied),
                )
