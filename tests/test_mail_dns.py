# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The DNS layer (tools/mail_dns.py) against the loopback DNS server
(tests/dns_server.py)."""

import socket
import threading
import time

import dkim
import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from odoo.tests import BaseCase, tagged

from odoo.addons.mail_routing_policy.tools import mail_dns

from .dns_server import DnsTestServer, txt

HOST = "127.0.0.1"
# a 600-byte TXT record: over the 512 bytes of plain UDP, like a 2048-bit DKIM key
BIG_TXT = "v=DKIM1; k=rsa; p=" + "QUJD" * 150
ZONE = {
    ("example.test", "TXT"): [txt("v=spf1 ip4:127.0.0.2 -all"), txt("other=1")],
    ("example.test", "MX"): (600, ["10 mail.example.test"]),
    ("mail.example.test", "A"): (30, ["127.0.0.2"]),
    ("www.example.test", "CNAME"): (20, ["mail.example.test"]),
    ("big.example.test", "TXT"): [txt(BIG_TXT)],
    ("long-ttl.example.test", "TXT"): (86400, [txt("long")]),
    ("deep.sub.example.test", "TXT"): [txt("deep")],
    ("example.test", "SOA"): (
        3600,
        ["ns.example.test. hostmaster.example.test. 1 3600 600 86400 120"],
    ),
}


class FakeClock:
    """The resolver cache's clock, moved by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestParseNameservers(BaseCase):
    def test_valid_values(self):
        cases = [
            ("", ()),
            ("  ,  ", ()),
            ("127.0.0.53", (("127.0.0.53", 53),)),
            ("127.0.0.53:5353", (("127.0.0.53", 5353),)),
            (" 192.0.2.1:53 , 192.0.2.2 ", (("192.0.2.1", 53), ("192.0.2.2", 53))),
            ("[::1]:5353", (("::1", 5353),)),
            ("[2001:DB8::53]", (("2001:db8::53", 53),)),
            ("2001:db8::53", (("2001:db8::53", 53),)),
            ("127.0.0.1, 127.0.0.1:53", (("127.0.0.1", 53),)),
        ]
        for value, expected in cases:
            with self.subTest(value=value):
                self.assertEqual(mail_dns.parse_nameservers(value), expected)

    def test_errors_name_the_bad_item(self):
        cases = [
            ("127.0.0.1, dns.example.com", "dns.example.com", "address"),
            ("127.0.0.1:0", "127.0.0.1:0", "port"),
            ("127.0.0.1:65536", "127.0.0.1:65536", "port"),
            ("127.0.0.1:fifty", "127.0.0.1:fifty", "port"),
            ("127.0.0.1:", "127.0.0.1:", "port"),
            ("[::1]5353", "[::1]5353", "port"),
            ("[::1", "[::1", "address"),
            ("[127.0.0.1:53", "[127.0.0.1:53", "address"),
            ("999.1.1.1", "999.1.1.1", "address"),
            ("fe80::1%eth0", "fe80::1%eth0", "address"),
        ]
        for value, item, code in cases:
            with self.subTest(value=value):
                with self.assertRaises(ValueError) as caught:
                    mail_dns.parse_nameservers(value)
                self.assertIsInstance(caught.exception, mail_dns.NameserverError)
                self.assertEqual(
                    (caught.exception.item, caught.exception.code), (item, code)
                )
                self.assertIn(repr(item), str(caught.exception))


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDnsTestServer(BaseCase):
    """The test server itself: what other tests rely on."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = DnsTestServer(
            ZONE, host=HOST, silent={"silent.example.test"}
        ).start()
        cls.addClassCleanup(cls.server.stop)

    def ask(self, name, rdtype, use_edns=True):
        query = dns.message.make_query(name, rdtype, use_edns=0 if use_edns else None)
        return dns.query.udp(query, HOST, port=self.server.port, timeout=2)

    def test_truncation_then_tcp_without_edns(self):
        response = self.ask("big.example.test", "TXT", use_edns=False)
        self.assertTrue(response.flags & dns.flags.TC)
        self.assertEqual(response.answer, [])
        query = dns.message.make_query("big.example.test", "TXT")
        response = dns.query.tcp(query, HOST, port=self.server.port, timeout=2)
        self.assertEqual(b"".join(response.answer[0][0].strings), BIG_TXT.encode())

    def test_edns_answers_big_records_over_udp(self):
        response = self.ask("big.example.test", "TXT")
        self.assertFalse(response.flags & dns.flags.TC)
        self.assertEqual(b"".join(response.answer[0][0].strings), BIG_TXT.encode())

    def test_nxdomain_nodata_and_negative_ttl(self):
        nxdomain = self.ask("nothing.example.test", "TXT")
        self.assertEqual(nxdomain.rcode(), dns.rcode.NXDOMAIN)
        self.assertEqual(nxdomain.authority[0].rdtype, dns.rdatatype.SOA)
        self.assertEqual(nxdomain.authority[0][0].minimum, 120)  # the zone's own SOA
        # a name with records below it exists (an empty non-terminal)
        nodata = self.ask("sub.example.test", "TXT")
        self.assertEqual((nodata.rcode(), nodata.answer), (dns.rcode.NOERROR, []))
        elsewhere = self.ask("nothing.other.test", "A")
        self.assertEqual(elsewhere.rcode(), dns.rcode.NXDOMAIN)
        self.assertEqual(
            elsewhere.authority[0].name.to_text(), "."
        )  # the synthetic root SOA
        self.assertEqual(elsewhere.authority[0][0].minimum, 60)

    def test_cname_chain_and_counter(self):
        self.server.reset_counts()
        response = self.ask("WWW.example.test.", "A")
        self.assertEqual(
            [rrset.rdtype for rrset in response.answer],
            [dns.rdatatype.CNAME, dns.rdatatype.A],
        )
        self.assertEqual(response.answer[1][0].address, "127.0.0.2")
        self.assertEqual(self.server.query_count("www.example.test", "A"), 1)
        self.assertEqual(self.server.query_count("mail.example.test", "A"), 0)

    def test_silent_name(self):
        with self.assertRaises(dns.exception.Timeout):
            dns.query.udp(
                dns.message.make_query("silent.example.test", "TXT"),
                HOST,
                port=self.server.port,
                timeout=0.3,
            )
        self.assertGreaterEqual(
            self.server.query_count("silent.example.test", "TXT"), 1
        )

    def test_refuses_non_loopback_addresses(self):
        with self.assertRaises(ValueError):
            DnsTestServer({}, host="192.0.2.1")


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestMailResolver(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = DnsTestServer(
            ZONE,
            host=HOST,
            silent={"silent.example.test"},
            servfail={"broken.example.test"},
        ).start()
        cls.addClassCleanup(cls.server.stop)

    def setUp(self):
        super().setUp()
        self.clock = FakeClock()
        self.resolver = mail_dns.MailResolver(
            mail_dns.parse_nameservers(self.server.nameservers), clock=self.clock
        )
        self.server.reset_counts()

    def test_results_are_data(self):
        resolver = self.resolver
        spf = resolver.resolve("example.test", "TXT")
        # record order is the wire's (dnspython shuffles it when it writes an answer)
        self.assertEqual(
            (spf.status, sorted(spf.records), spf.ttl),
            ("ok", [b"other=1", b"v=spf1 ip4:127.0.0.2 -all"], 300),
        )
        self.assertTrue(spf.found)
        self.assertEqual(
            resolver.resolve("example.test", "MX").records, ("10 mail.example.test.",)
        )
        # CNAME followed; the TTL is the chain's smallest
        www = resolver.resolve("www.example.test.", "A")
        self.assertEqual(
            (www.name, www.status, www.records, www.ttl),
            ("www.example.test", "ok", ("127.0.0.2",), 20),
        )
        nxdomain = resolver.resolve("nothing.example.test", "TXT")
        self.assertEqual(
            (nxdomain.status, nxdomain.records, nxdomain.ttl), ("nxdomain", (), 120)
        )
        self.assertFalse(nxdomain.temporary)
        self.assertEqual(resolver.resolve("mail.example.test", "TXT").status, "nodata")
        broken = resolver.resolve("broken.example.test", "TXT")
        self.assertEqual(broken.status, "servfail")
        self.assertTrue(broken.temporary)
        self.assertEqual(resolver.resolve("a..b.test", "TXT").status, "bad_name")
        self.assertEqual(resolver.resolve("x" * 64 + ".test", "TXT").status, "bad_name")

    def test_big_record_in_one_udp_query(self):
        result = self.resolver.resolve("big.example.test", "TXT")
        self.assertEqual(result.records, (BIG_TXT.encode(),))
        self.assertEqual(
            self.resolver.query_count("big.example.test", "TXT"), 1
        )  # EDNS0: no TCP retry

    def test_cache_honours_ttls(self):
        resolver, server = self.resolver, self.server
        for _ in range(3):
            resolver.resolve("mail.example.test", "A")
            resolver.resolve("nothing.example.test", "TXT")
        self.assertEqual(server.query_count("mail.example.test", "A"), 1)
        self.assertEqual(server.query_count("nothing.example.test", "TXT"), 1)
        self.assertEqual(resolver.queries_sent, 2)
        self.clock.now += 31  # past the A record's 30 s, within the negative 120 s
        resolver.resolve("mail.example.test", "A")
        resolver.resolve("nothing.example.test", "TXT")
        self.assertEqual(server.query_count("mail.example.test", "A"), 2)
        self.assertEqual(server.query_count("nothing.example.test", "TXT"), 1)
        self.clock.now += 100
        resolver.resolve("nothing.example.test", "TXT")
        self.assertEqual(server.query_count("nothing.example.test", "TXT"), 2)
        self.assertEqual(resolver.query_count("nothing.example.test", "TXT"), 2)

    def test_cache_caps(self):
        resolver = mail_dns.MailResolver(
            mail_dns.parse_nameservers(self.server.nameservers),
            max_ttl=600,
            max_negative_ttl=10,
            clock=self.clock,
        )
        self.assertEqual(resolver.resolve("long-ttl.example.test", "TXT").ttl, 600)
        self.assertEqual(resolver.resolve("nothing.example.test", "TXT").ttl, 10)

    def test_temporary_errors_are_not_cached(self):
        self.resolver.resolve("broken.example.test", "TXT")
        self.resolver.resolve("broken.example.test", "TXT")
        self.assertEqual(self.server.query_count("broken.example.test", "TXT"), 2)

    def test_negative_answer_without_soa_is_not_cached(self):
        response = dns.message.make_response(dns.message.make_query("x.test", "TXT"))
        response.set_rcode(dns.rcode.NXDOMAIN)
        self.assertEqual(self.resolver._negative_ttl(response), 0)

    def test_deadline_bounds_a_silent_server(self):
        started = time.monotonic()
        result = self.resolver.resolve(
            "silent.example.test", "TXT", mail_dns.Deadline.after(0.8)
        )
        elapsed = time.monotonic() - started
        self.assertEqual(result.status, "timeout")
        self.assertTrue(result.temporary)
        self.assertLess(
            elapsed, 0.8 + 1.0
        )  # dnspython's retry back-off may add ~0.1-0.4 s

    def test_spent_deadline_answers_at_once_but_cache_still_serves(self):
        self.resolver.resolve("example.test", "TXT")
        spent = mail_dns.Deadline.after(0)
        started = time.monotonic()
        self.assertEqual(
            self.resolver.resolve("mail.example.test", "A", spent).status, "timeout"
        )
        self.assertLess(time.monotonic() - started, 0.1)
        self.assertEqual(self.server.query_count("mail.example.test", "A"), 0)
        self.assertEqual(
            self.resolver.resolve("example.test", "TXT", spent).status, "ok"
        )

    def test_threads_share_one_query(self):
        results, barrier = [], threading.Barrier(8)

        def lookup():
            barrier.wait()
            results.append(
                self.resolver.resolve(
                    "deep.sub.example.test", "TXT", mail_dns.Deadline.after(5)
                )
            )

        threads = [threading.Thread(target=lookup) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        self.assertEqual([result.records for result in results], [(b"deep",)] * 8)
        self.assertEqual(self.server.query_count("deep.sub.example.test", "TXT"), 1)

    def test_unanswered_udp_is_a_timeout(self):
        # a bound socket that never reads: a nameserver that never answers
        black_hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(black_hole.close)
        black_hole.bind((HOST, 0))
        resolver = mail_dns.MailResolver(
            ((HOST, black_hole.getsockname()[1]),),
            query_timeout=0.5,
            attempt_timeout=0.2,
        )
        started = time.monotonic()
        self.assertEqual(resolver.resolve("example.test", "TXT").status, "timeout")
        self.assertLess(time.monotonic() - started, 0.5 + 1.0)
        self.assertGreaterEqual(
            resolver.queries_sent, 2
        )  # retried within the lookup's time

    def test_dkim_dnsfunc(self):
        lookup = self.resolver.dkim_dnsfunc(mail_dns.Deadline.after(3))
        self.assertEqual(lookup(b"big.example.test.", timeout=5), BIG_TXT.encode())
        self.assertIsNone(lookup(b"nothing.example.test."))
        with self.assertRaises(dkim.DnsTimeoutError):
            lookup(b"broken.example.test.")
        self.assertEqual(lookup.result_for("BIG.example.test").status, "ok")
        self.assertEqual(lookup.result_for(b"nothing.example.test.").status, "nxdomain")
        self.assertTrue(lookup.result_for("broken.example.test").temporary)
        self.assertIsNone(lookup.result_for("never.example.test"))

    def test_shared_resolver_per_configuration(self):
        first = mail_dns.shared_resolver(self.server.nameservers)
        self.assertIs(
            mail_dns.shared_resolver(
                mail_dns.parse_nameservers(self.server.nameservers)
            ),
            first,
        )
        self.assertIsNot(
            mail_dns.shared_resolver(f"{HOST}:{self.server.port}, 127.0.0.9"), first
        )
        self.assertEqual(first.nameservers, ((HOST, self.server.port),))
        self.assertEqual(
            first.resolve("example.test", "MX").records, ("10 mail.example.test.",)
        )
