# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Check DNS, the inbound side: the TLS of each MX host, MTA-STS (RFC 8461)
and TLS reporting (RFC 8460), against real servers on loopback: the DNS
server of tests/dns_server.py, aiosmtpd MX hosts on port 25 (STARTTLS with
certificates of a test authority, self-signed, naming another host, about to
expire, none at all) and an HTTPS server on port 443 serving the policies."""

import http.server
import shutil
import tempfile
import threading
from unittest.mock import patch

from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.mail_routing_policy.tools import mail_dns
from odoo.addons.mail_routing_policy.tools.dns_check import checks as dlv
from odoo.addons.mail_routing_policy.tools.dns_check import inbound_tls as itls

from .common import load_german
from .dns_server import DnsTestServer, txt
from .tls_helpers import CertificateAuthority, QuietHandler, server_context

DNS_HOST = "127.0.0.70"
GOOD, OTHER_NAME, SELF_SIGNED, PLAIN, EXPIRING, HTTPS = (
    f"127.0.0.{last}" for last in range(71, 77)
)
REPORTS = "dmarc-reports@good.test"
ENFORCE_GOOD = (
    "version: STSv1\r\nmode: enforce\r\nmx: mx.good.test\r\nmax_age: 86400\r\n"
)
#: the policy each mta-sts.<domain> serves: (status, headers, body)
POLICIES = {
    "good.test": (200, {}, ENFORCE_GOOD),
    "mismatch.test": (200, {}, ENFORCE_GOOD.replace("mx.good", "mail.mismatch")),
    "badcert.test": (200, {}, ENFORCE_GOOD.replace("mx.good", "mx.selfsigned")),
    "testing.test": (
        200,
        {},
        "version: STSv1\nmode: testing\nmx: *.good.test\nmax_age: 604800\n",
    ),
    "big.test": (200, {}, "version: STSv1\n" + "# padding\n" * 7000),
    "redirect.test": (301, {"Location": "https://www.redirect.test/"}, ""),
    "html.test": (200, {"Content-Type": "text/html"}, ENFORCE_GOOD),
    # enforce, but max_age too large: invalid, so not applied to the MX host
    "badage.test": (
        200,
        {},
        ENFORCE_GOOD.replace("mx.good", "mx.plain").replace("86400", "31557601"),
    ),
}
STS = [txt("v=STSv1; id=2026120701")]


def zone():
    records = {
        ("mx.good.test", "A"): [GOOD],
        ("mx.othername.test", "A"): [OTHER_NAME],
        ("mx.selfsigned.test", "A"): [SELF_SIGNED],
        ("mx.plain.test", "A"): [PLAIN],
        ("mx.expiring.test", "A"): [EXPIRING],
        ("mismatch.test", "MX"): ["10 mx.good.test"],
        ("badcert.test", "MX"): ["10 mx.selfsigned.test"],
        ("othername.test", "MX"): ["10 mx.othername.test"],
        ("plain.test", "MX"): ["10 mx.plain.test"],
        ("badage.test", "MX"): ["10 mx.plain.test"],
        ("expiring.test", "MX"): ["10 mx.expiring.test"],
        ("null.test", "MX"): ["0 ."],
        ("nomx.test", "A"): [GOOD],
        ("nosts.test", "MX"): ["10 mx.good.test"],
        ("_smtp._tls.good.test", "TXT"): [txt(f"v=TLSRPTv1; rua=mailto:{REPORTS}")],
        ("_smtp._tls.mismatch.test", "TXT"): [
            txt("v=TLSRPTv1; rua=mailto:tls@elsewhere.test")
        ],
        ("_smtp._tls.nosts.test", "TXT"): [txt("v=TLSRPTv1; rua=ftp://x.test")],
    }
    for domain in ("good.test", "testing.test", "big.test", "redirect.test"):
        records[(domain, "MX")] = ["10 mx.good.test"]
    records[("html.test", "MX")] = ["10 mx.good.test"]
    # a policy host whose certificate does not name it; two STS records
    records[("wrongcert.test", "MX")] = ["10 mx.good.test"]
    records[("_mta-sts.wrongcert.test", "TXT")] = STS
    records[("mta-sts.wrongcert.test", "A")] = [HTTPS]
    records[("tworecords.test", "MX")] = ["10 mx.good.test"]
    records[("_mta-sts.tworecords.test", "TXT")] = [*STS, txt("v=STSv1; id=2")]
    for domain in POLICIES:
        records[(f"_mta-sts.{domain}", "TXT")] = STS
        records[(f"mta-sts.{domain}", "A")] = [HTTPS]
    return records


class _PolicyHandler(http.server.BaseHTTPRequestHandler):
    """Serves the policy of the domain the Host header names."""

    def do_GET(self):
        host = (self.headers.get("Host") or "").partition(":")[0]
        domain = host.removeprefix("mta-sts.")
        status, headers, body = POLICIES.get(domain, (404, {}, "not found"))
        if self.path != itls.POLICY_PATH:
            status, headers, body = 404, {}, "not found"
        data = body.encode()
        self.send_response(status)
        headers = {"Content-Type": "text/plain; charset=utf-8", **headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestInboundTls(TransactionCase):
    @classmethod
    def setUpClass(cls):
        from aiosmtpd.controller import Controller

        super().setUpClass()
        # aiosmtpd logs each session (mail.log), and the session a probe
        # breaks off on a bad certificate as an error, also after a test ended
        cls.enterClassContext(mute_logger("mail.log"))
        folder = tempfile.mkdtemp(prefix="mail_routing_inbound_")
        cls.addClassCleanup(shutil.rmtree, folder, True)
        authority = CertificateAuthority(folder)
        cls.ca = authority.pem
        certificates = {
            GOOD: authority.issue("good", ["mx.good.test"], days=90),
            OTHER_NAME: authority.issue("other", ["other.example.test"], days=90),
            SELF_SIGNED: authority.issue(
                "self", ["mx.selfsigned.test"], days=90, self_signed=True
            ),
            EXPIRING: authority.issue("expiring", ["mx.expiring.test"], days=5),
            PLAIN: None,
        }
        for address, paths in certificates.items():
            kwargs = {"tls_context": server_context(paths)} if paths else {}
            controller = Controller(
                QuietHandler(), hostname=address, port=itls.SMTP_PORT, **kwargs
            )
            controller.start()
            cls.addClassCleanup(controller.stop)
        names = [f"mta-sts.{domain}" for domain in POLICIES]
        https = http.server.ThreadingHTTPServer(
            (HTTPS, itls.HTTPS_PORT), _PolicyHandler
        )
        https.socket = server_context(authority.issue("https", names)).wrap_socket(
            https.socket, server_side=True
        )
        thread = threading.Thread(target=https.serve_forever, daemon=True)
        thread.start()
        cls.addClassCleanup(thread.join, 5)
        cls.addClassCleanup(https.server_close)
        cls.addClassCleanup(https.shutdown)
        cls.dns = DnsTestServer(zone(), host=DNS_HOST, silent={"silent.test"})
        cls.dns.start()
        cls.addClassCleanup(cls.dns.stop)

    def setUp(self):
        super().setUp()
        self.resolver = mail_dns.shared_resolver(self.dns.nameservers)
        self.resolver.clear_cache()

    def inbound(self, domain, timeout=10):
        facts = itls.check_inbound(
            domain,
            self.resolver,
            mail_dns.Deadline.after(timeout),
            gateway_hosts=("mx.good.test",),
            report_address=REPORTS,
            cadata=self.ca,
        )
        return {fact.check: fact for fact in facts}, facts

    def assertFact(self, fact, status, code):
        self.assertEqual((fact.status, fact.code), (status, code), fact.data)

    def test_valid_enforce_policy(self):
        """The mailgate with a valid certificate, an enforced policy naming it,
        TLS reports to the report alias: every line passes."""
        by_check, facts = self.inbound("good.test")
        mx = by_check[itls.CHECK_MX_TLS]
        self.assertFact(mx, dlv.PASS, itls.CODE_MX_TLS)
        self.assertEqual(mx.domain, "mx.good.test")
        self.assertTrue(mx.data["gateway"])
        self.assertEqual(mx.data["address"], GOOD)
        self.assertRegex(mx.data["protocol"], r"^TLSv1\.[23]$")
        self.assertGreater(mx.data["days_left"], 80)
        sts = by_check[itls.CHECK_MTA_STS]
        self.assertFact(sts, dlv.PASS, itls.CODE_STS_OK)
        self.assertEqual(
            (sts.data["mode"], sts.data["mx"]), ("enforce", ["mx.good.test"])
        )
        self.assertEqual(sts.data["id"], "2026120701")
        self.assertFact(by_check[itls.CHECK_TLS_RPT], dlv.PASS, itls.CODE_RPT_OK)
        self.assertEqual(len(facts), 3)

    def test_certificates_and_starttls(self):
        """Each MX host's TLS as negotiated: a certificate naming another host,
        self-signed under an enforced policy (fail), about to expire, no
        STARTTLS, the implicit MX of a domain without MX, a null MX."""
        table = [
            ("othername.test", dlv.WARNING, itls.CODE_MX_TLS_UNVERIFIED),
            ("badcert.test", dlv.FAIL, itls.CODE_MX_TLS_UNVERIFIED),
            ("expiring.test", dlv.WARNING, itls.CODE_MX_TLS_EXPIRING),
            ("plain.test", dlv.WARNING, itls.CODE_MX_NO_STARTTLS),
            ("nomx.test", dlv.WARNING, itls.CODE_MX_TLS_UNVERIFIED),
            ("null.test", dlv.WARNING, itls.CODE_MX_NULL),
        ]
        for domain, status, code in table:
            with self.subTest(domain=domain):
                fact = self.inbound(domain)[0][itls.CHECK_MX_TLS]
                self.assertFact(fact, status, code)
                self.assertFalse(fact.data.get("gateway"))
        other = self.inbound("othername.test")[0][itls.CHECK_MX_TLS]
        self.assertIs(other.data["name_matches"], False)
        self.assertIn("mismatch", other.data["verify_error"].lower())
        bad = self.inbound("badcert.test")[0]
        self.assertIn("self-signed", bad[itls.CHECK_MX_TLS].data["verify_error"])
        self.assertFact(bad[itls.CHECK_MTA_STS], dlv.FAIL, itls.CODE_STS_CERTIFICATE)
        self.assertEqual(
            bad[itls.CHECK_MTA_STS].data["invalid"], ["mx.selfsigned.test"]
        )
        implicit = self.inbound("nomx.test")[0][itls.CHECK_MX_TLS]
        self.assertEqual(
            (implicit.domain, implicit.data["implicit"]), ("nomx.test", True)
        )
        self.assertLess(
            self.inbound("expiring.test")[0]["mx_tls"].data["days_left"], 14
        )

    def test_policy_faults(self):
        """The policy's MX patterns, mode, size, redirect and media type;
        no MTA-STS at all is informational, with a record and policy proposed
        when every MX certificate is valid."""
        table = [
            ("mismatch.test", dlv.FAIL, itls.CODE_STS_MX_MISMATCH, None),
            ("testing.test", dlv.WARNING, itls.CODE_STS_OK, None),
            ("big.test", dlv.WARNING, itls.CODE_STS_FETCH_FAILED, itls.FETCH_TOO_LARGE),
            (
                "redirect.test",
                dlv.WARNING,
                itls.CODE_STS_FETCH_FAILED,
                itls.FETCH_REDIRECT,
            ),
            (
                "html.test",
                dlv.WARNING,
                itls.CODE_STS_FETCH_FAILED,
                itls.FETCH_MEDIA_TYPE,
            ),
            (
                "wrongcert.test",
                dlv.WARNING,
                itls.CODE_STS_FETCH_FAILED,
                itls.FETCH_CERTIFICATE,
            ),
            (
                "tworecords.test",
                dlv.WARNING,
                itls.CODE_STS_RECORD_INVALID,
                itls.INVALID_MULTIPLE,
            ),
            (
                "badage.test",
                dlv.WARNING,
                itls.CODE_STS_POLICY_INVALID,
                itls.INVALID_MAX_AGE,
            ),
            ("nosts.test", dlv.PASS, itls.CODE_STS_ABSENT, None),
            ("othername.test", dlv.PASS, itls.CODE_STS_ABSENT, None),
        ]
        for domain, status, code, error in table:
            with self.subTest(domain=domain):
                fact = self.inbound(domain)[0][itls.CHECK_MTA_STS]
                self.assertFact(fact, status, code)
                self.assertEqual(fact.data.get("error"), error)
        mismatch = self.inbound("mismatch.test")[0]
        self.assertEqual(
            mismatch[itls.CHECK_MTA_STS].data["unmatched"], ["mx.good.test"]
        )
        # the MX itself is fine: only the policy fails
        self.assertFact(mismatch[itls.CHECK_MX_TLS], dlv.PASS, itls.CODE_MX_TLS)
        # an invalid policy is not applied: no STARTTLS stays a warning
        badage = self.inbound("badage.test")[0][itls.CHECK_MX_TLS]
        self.assertFact(badage, dlv.WARNING, itls.CODE_MX_NO_STARTTLS)
        redirect = self.inbound("redirect.test")[0][itls.CHECK_MTA_STS]
        self.assertEqual(redirect.data["detail"], "301 https://www.redirect.test/")
        nosts = self.inbound("nosts.test")[0][itls.CHECK_MTA_STS]
        self.assertRegex(
            nosts.record_to_publish,
            r'^_mta-sts\.nosts\.test\. TXT "v=STSv1; id=\d{10}"$',
        )
        self.assertEqual(
            nosts.data["policy_proposal"],
            "version: STSv1\nmode: testing\nmx: mx.good.test\nmax_age: 604800",
        )
        # a certificate that is not valid: nothing proposed
        self.assertFalse(self.inbound("othername.test")[0]["mta_sts"].record_to_publish)

    def test_tls_reporting(self):
        """_smtp._tls: naming the report alias, another address, invalid, absent."""
        record = '_smtp._tls.{}. TXT "v=TLSRPTv1; rua={}"'
        table = [
            ("good.test", dlv.PASS, itls.CODE_RPT_OK, ""),
            (
                "mismatch.test",
                dlv.WARNING,
                itls.CODE_RPT_OTHER,
                record.format(
                    "mismatch.test", f"mailto:tls@elsewhere.test,mailto:{REPORTS}"
                ),
            ),
            (
                "nosts.test",
                dlv.WARNING,
                itls.CODE_RPT_INVALID,
                record.format("nosts.test", f"mailto:{REPORTS}"),
            ),
            (
                "plain.test",
                dlv.WARNING,
                itls.CODE_RPT_ABSENT,
                record.format("plain.test", f"mailto:{REPORTS}"),
            ),
        ]
        for domain, status, code, proposal in table:
            with self.subTest(domain=domain):
                fact = self.inbound(domain)[0][itls.CHECK_TLS_RPT]
                self.assertFact(fact, status, code)
                self.assertEqual(fact.record_to_publish, proposal)

    def test_silent_dns_could_not_be_checked(self):
        """Nameservers that do not answer: every line unknown, within the
        deadline, nothing connected to."""
        _by_check, facts = self.inbound("silent.test", timeout=0.75)
        self.assertEqual([fact.check for fact in facts], list(itls.INBOUND_CHECKS))
        for fact in facts:
            self.assertEqual(fact.status, dlv.UNKNOWN, fact)
            self.assertTrue(fact.code.startswith("dns_"), fact.code)

    def test_parse_policy_and_patterns(self):
        """RFC 8461 §3.2 and §4.1 without the network."""
        policy, error = itls.parse_policy(ENFORCE_GOOD)
        self.assertEqual(error, "")
        self.assertEqual(policy["max_age"], 86400)
        for text, error in (
            (ENFORCE_GOOD.replace("86400", "31557601"), itls.INVALID_MAX_AGE),
            (ENFORCE_GOOD.replace("STSv1", "STSv2"), itls.INVALID_VERSION),
            (ENFORCE_GOOD.replace("enforce", "strict"), itls.INVALID_MODE),
            ("version: STSv1\nmode: enforce\nmax_age: 1\n", itls.INVALID_NO_MX),
            ("version STSv1\n", itls.INVALID_SYNTAX),
        ):
            with self.subTest(error=error):
                self.assertEqual(itls.parse_policy(text)[1], error)
        self.assertTrue(itls.mx_matches("*.good.test", "MX.Good.Test."))
        self.assertFalse(itls.mx_matches("*.good.test", "a.mx.good.test"))
        self.assertFalse(itls.mx_matches("*.good.test", "good.test"))
        self.assertEqual(itls.parse_sts_record("v=STSv1; id=20261207;"), "20261207")
        self.assertEqual(itls.parse_sts_record("v=STSv1; id=2026-12"), "")
        self.assertIsNone(itls.parse_tlsrpt_record("v=TLSRPTv1;"))

    def test_check_dns_lines_and_words(self):
        """Check DNS stores the inbound lines of each alias domain, worded in
        English and German, with the records to publish."""
        AliasDomain = self.env["mail.alias.domain"]
        self.env["ir.mail_server"].search([]).active = False
        good = AliasDomain.create({"name": "good.test"})
        AliasDomain.create({"name": "badcert.test"})
        self.env.company.alias_domain_id = good
        ICP = self.env["ir.config_parameter"].sudo()
        ICP.set_param("mail.dns.nameservers", self.dns.nameservers)
        ICP.set_param("mail.gateway.public_host", "mx.good.test")
        Result = self.env["mail.dns.check.result"]
        with patch.object(itls, "CADATA", self.ca):
            Result._run_checks()
        lines = {
            (result.domain, result.check): result
            for result in Result.search([("check", "in", list(itls.INBOUND_CHECKS))])
        }
        mx = lines[("good.test", "mx_tls")]
        self.assertEqual(mx.status, "pass")
        self.assertRegex(
            mx.text,
            r"^mx\.good\.test \(127\.0\.0\.71:25\) \(the mailgate: Incoming mail "
            r"host\) offers STARTTLS: TLSv1\.[23] ",
        )
        self.assertIn(
            "enforce, names every MX host", lines[("good.test", "mta_sts")].text
        )
        bad = lines[("badcert.test", "mx_tls")]
        self.assertEqual((bad.status, bad.code), ("fail", "mx_tls_unverified"))
        self.assertIn("(not the Incoming mail host)", bad.text)
        self.assertIn("does not verify (self-signed certificate)", bad.text)
        self.assertIn("senders that honour it (Gmail, Microsoft)", bad.text)
        rpt = lines[("badcert.test", "tls_rpt")]
        self.assertEqual(
            rpt.record_to_publish,
            f'_smtp._tls.badcert.test. TXT "v=TLSRPTv1; rua=mailto:{REPORTS}"',
        )
        self.assertIn(f"report alias {REPORTS}", rpt.text)
        load_german(self.env)
        german = bad.with_context(lang="de_DE")
        german.invalidate_recordset(["text"])
        self.assertTrue(
            german.text.startswith(
                "mx.selfsigned.test (127.0.0.73:25) (nicht der Host für eingehende "
                "E-Mails) bietet STARTTLS an"
            ),
            german.text,
        )
        self.assertIn(
            "die MTA-STS-Richtlinie von badcert.test ist enforce", german.text
        )
