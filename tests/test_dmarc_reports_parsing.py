# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Reading report attachments (pure, no database): the receivers' shapes,
RFC 9990's fields, TLS-RPT, and hostile inputs refused with a reason."""

import gzip
import io
import json
import zipfile

from odoo.tests import BaseCase, tagged

from odoo.addons.mail_routing_policy.tools import dmarc_reports as dr
from odoo.addons.mail_routing_policy.tools.dmarc_reports import limits as lim
from odoo.addons.mail_routing_policy.tools.dmarc_reports import reader, sources
from odoo.addons.mail_routing_policy.tools.dmarc_reports.texts import refusal_text

from . import dmarc_reports_samples as samples

DOMAIN = "shop.example"


def _google():
    return samples.google_xml(
        DOMAIN,
        "12345678901234567890",
        [
            samples.record_xml("2a00:1450:4864:0020:0000:0000:0000:022f", 12, DOMAIN),
            samples.record_xml(
                "203.0.113.7",
                3,
                DOMAIN,
                disposition="none",
                dkim="fail",
                spf="fail",
                reasons=[("forwarded", ""), ("local_policy", "arc=pass")],
                dkim_results=[("lists.example", "l1", "pass")],
                spf_domain="lists.example",
            ),
        ],
    )


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDmarcReportParsing(BaseCase):
    def test_google_zip(self):
        report = dr.parse_aggregate(samples.zipped(_google()))
        self.assertEqual(report.org_name, "google.com")
        self.assertEqual(report.report_id, "12345678901234567890")
        self.assertEqual(report.policy.domain, DOMAIN)
        self.assertEqual(report.policy.np, "none")
        self.assertEqual(report.policy.pct, 100)
        self.assertEqual(str(report.date_begin), "2025-12-06 00:00:00")
        self.assertEqual(len(report.records), 2)
        first, second = report.records
        self.assertEqual(first.source_ip, "2a00:1450:4864:20::22f", "IPv6 compressed")
        self.assertEqual((first.count, first.dmarc_pass), (12, True))
        self.assertEqual(
            second.reasons, (("forwarded", ""), ("local_policy", "arc=pass"))
        )
        self.assertFalse(second.dmarc_pass)
        self.assertEqual(second.dkim_results[0].domain, "lists.example")
        self.assertEqual(report.message_count, 15)

    def test_microsoft_gzip_envelope_to_and_several_signatures(self):
        data = samples.gz(
            samples.microsoft_xml(
                DOMAIN,
                "a1b2c3d4e5f60718293a4b5c6d7e8f90",
                [
                    samples.record_xml(
                        "198.51.100.25",
                        4,
                        DOMAIN,
                        envelope_to="outlook.com",
                        envelope_from=f"bounce.{DOMAIN}",
                        dkim_results=[
                            (DOMAIN, "odoo", "pass"),
                            ("mailgun.org", "mx", "pass"),
                            ("old.example", "x", "fail"),
                        ],
                    )
                ],
            )
        )
        report = dr.parse_aggregate(data)
        self.assertEqual(report.version, "1.0")
        self.assertEqual(report.policy.p, "quarantine")
        record = report.records[0]
        self.assertEqual(record.envelope_to, "outlook.com")
        self.assertEqual(record.envelope_from, f"bounce.{DOMAIN}")
        self.assertEqual(
            [(r.domain, r.selector, r.result) for r in record.dkim_results],
            [
                (DOMAIN, "odoo", "pass"),
                ("mailgun.org", "mx", "pass"),
                ("old.example", "x", "fail"),
            ],
        )
        self.assertEqual(record.spf_results[0].scope, "mfrom")

    def test_yahoo_mailing_list_override(self):
        data = samples.gz(
            samples.yahoo_xml(
                DOMAIN,
                "1765065600.123456",
                [
                    samples.overridden_record(
                        "192.0.2.44", 2, DOMAIN, "mailing_list", "list.example"
                    ),
                    samples.record_xml(
                        "192.0.2.45",
                        9,
                        DOMAIN,
                        disposition="reject",
                        dkim="fail",
                        spf="fail",
                    ),
                ],
            )
        )
        report = dr.parse_aggregate(data)
        self.assertEqual(report.policy.p, "reject")
        self.assertEqual(report.policy.sp, "", "Yahoo omits sp")
        self.assertEqual(
            [(r.disposition, r.reasons) for r in report.records],
            [("none", (("mailing_list", "list.example"),)), ("reject", ())],
        )

    def test_rfc9990_fields(self):
        data = samples.rfc9990_xml(
            DOMAIN,
            "r-9990-1",
            [samples.record_xml("192.0.2.1", 1, DOMAIN, human=True)],
        )
        report = dr.parse_aggregate(data)
        self.assertEqual(report.namespace, "urn:ietf:params:xml:ns:dmarc-2.0")
        self.assertEqual(report.generator, "Example DMARC Aggregate Reporter v1.2")
        policy = report.policy
        self.assertEqual(
            (policy.np, policy.testing, policy.discovery_method, policy.pct),
            ("reject", "n", "treewalk", None),
        )
        self.assertEqual(report.records[0].spf_results[0].human_result, "checked")

    def test_reader_tells_dmarc_from_tls(self):
        cases = [
            (_google(), reader.DMARC),
            (samples.gz(_google()), reader.DMARC),
            (samples.zipped(_google()), reader.DMARC),
            (samples.tls_report(DOMAIN, "t1"), reader.TLS),
            (samples.gz(samples.tls_report(DOMAIN, "t1")), reader.TLS),
        ]
        for data, kind in cases:
            with self.subTest(kind=kind, start=data[:4]):
                self.assertEqual(dr.read_attachment(data).kind, kind)

    def test_tls_report(self):
        data = samples.gz(
            samples.tls_report(
                DOMAIN,
                "2025-12-06T00:00:00Z_shop.example",
                failures=[
                    ("certificate-expired", 3, "209.85.220.41"),
                    ("starttls-not-supported", 1, "2001:db8::25"),
                ],
            )
        )
        report = dr.parse_tls_report(data)
        self.assertEqual(report.org_name, "Company-X")
        policy = report.policies[0]
        self.assertEqual((policy.policy_type, policy.policy_domain), ("sts", DOMAIN))
        self.assertEqual((policy.successful, policy.failed), (120, 4))
        self.assertEqual(
            [(f.result_type, f.count) for f in policy.failures],
            [("certificate-expired", 3), ("starttls-not-supported", 1)],
        )
        self.assertEqual(report.message_count, 124)


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDmarcReportRefusals(BaseCase):
    def assertRefused(self, data, code, limits=lim.DEFAULT_LIMITS):
        with self.assertRaises(lim.Refusal) as caught:
            dr.read_attachment(data, limits)
        self.assertEqual(caught.exception.code, code, str(caught.exception))
        # every refusal has its words, with its parameters filled
        words = refusal_text(caught.exception.code, caught.exception.params)
        self.assertNotIn("%(", words)
        return caught.exception

    def test_gzip_bomb(self):
        # 8 MiB of elements in 8 KiB: past 1 MiB decompressed, 1,000 times
        # more than the input (the default bound is 200)
        bomb = gzip.compress(b"<feedback>" + b"<x/>" * (2 * 1024 * 1024), 9)
        self.assertLess(len(bomb), 16 * 1024)
        refusal = self.assertRefused(bomb, lim.RATIO)
        self.assertEqual(refusal.params["limit"], 200)
        # one huge text node: libxml2's own bound (huge_tree off) stops it
        text = gzip.compress(b"<feedback>" + b" " * (11 * 1024 * 1024), 9)
        self.assertRefused(text, lim.RATIO)
        self.assertRefused(text, lim.XML_SYNTAX, lim.Limits(max_ratio=10**6))

    def test_zip_bomb_and_size(self):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("r.xml", b"<feedback>" + b"<x/>" * (2 * 1024 * 1024))
        # the declared size is refused before anything is decompressed
        tight = lim.Limits(max_decompressed_bytes=4 * 1024 * 1024)
        self.assertRefused(buffer.getvalue(), lim.DECOMPRESSED_TOO_LARGE, tight)
        self.assertRefused(buffer.getvalue(), lim.RATIO)

    def test_zip_with_many_members(self):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for index in range(10):
                archive.writestr(f"r{index}.xml", _google())
        self.assertRefused(buffer.getvalue(), lim.ARCHIVE_MEMBERS)

    def test_50_mb_attachment(self):
        self.assertRefused(b"<" + b"x" * (50 * 1024 * 1024), lim.TOO_LARGE)

    def test_deep_xml(self):
        deep = b"<feedback>" + b"<a>" * 100 + b"</a>" * 100 + b"</feedback>"
        self.assertRefused(deep, lim.XML_DEPTH)
        # deeper than libxml2's own bound: refused the same way
        deeper = b"<feedback>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</feedback>"
        self.assertRefused(deeper, lim.XML_DEPTH)

    def test_external_entity_and_billion_laughs(self):
        xxe = (
            b'<?xml version="1.0"?><!DOCTYPE feedback [<!ENTITY x SYSTEM '
            b'"file:///etc/passwd">]><feedback><report_metadata><org_name>&x;'
            b"</org_name></report_metadata></feedback>"
        )
        self.assertRefused(xxe, lim.XML_DTD)
        laughs = (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            + b"".join(
                b'<!ENTITY lol%d "%s">'
                % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                for i in range(1, 10)
            )
            + b"]><feedback>&lol9;</feedback>"
        )
        self.assertRefused(samples.gz(laughs), lim.XML_DTD)
        # an entity without a DTD is malformed XML, not expanded
        self.assertRefused(b"<feedback>&lol9;</feedback>", lim.XML_SYNTAX)

    def test_malformed(self):
        cases = [
            (b"<feedback><report_metadata>", lim.XML_SYNTAX),
            (b"<html><body>hi</body></html>", lim.NOT_A_REPORT),
            (b"%PDF-1.4", lim.NOT_A_REPORT),
            (b"\x1f\x8b\x08\x00garbage", lim.ARCHIVE_BROKEN),
            (samples.gz(_google())[:-20], lim.ARCHIVE_BROKEN),
            (b"PK\x03\x04broken", lim.ARCHIVE_BROKEN),
            (b"{not json", lim.JSON_SYNTAX),
            (b'{"policies": []}', lim.MISSING_FIELD),
            (
                _google().replace(b"<report_id>12345678901234567890</report_id>", b""),
                lim.MISSING_FIELD,
            ),
            (
                _google().replace(b"<source_ip>203.0.113.7", b"<source_ip>999.1.1.1"),
                lim.BAD_VALUE,
            ),
            (
                _google().replace(b"<count>12</count>", b"<count>-1</count>"),
                lim.BAD_VALUE,
            ),
            (
                json.dumps({"policies": [], "date-range": {}}).encode(),
                lim.MISSING_FIELD,
            ),
            (b"[" * 100000 + b"]" * 100000, lim.XML_DEPTH),
        ]
        for data, code in cases:
            with self.subTest(code=code, data=data[:30]):
                self.assertRefused(data, code)

    def test_too_many_records(self):
        records = [samples.record_xml("192.0.2.1", 1, DOMAIN)] * 6
        data = samples.google_xml(DOMAIN, "many", records)
        self.assertRefused(data, lim.TOO_MANY_RECORDS, lim.Limits(max_records=5))
        self.assertEqual(
            len(dr.parse_aggregate(data, lim.Limits(max_records=6)).records), 6
        )


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestDmarcReportSources(BaseCase):
    def test_classify_and_flag(self):
        own = sources.networks_of(["198.51.100.0/24", "2001:db8::1", "bad"])
        relay = sources.networks_of(["209.61.151.0/24"])
        cases = [
            ("198.51.100.9", True, sources.OWN, ""),
            ("198.51.100.9", False, sources.OWN, sources.FLAG_OWN_FAILS),
            ("2001:db8::1", True, sources.OWN, ""),
            ("209.61.151.3", False, sources.RELAY, sources.FLAG_OWN_FAILS),
            ("209.61.151.3", True, sources.RELAY, ""),
            ("203.0.113.5", True, sources.UNKNOWN, sources.FLAG_UNKNOWN_PASSES),
            ("203.0.113.5", False, sources.UNKNOWN, ""),
        ]
        for ip, passed, kind, flag in cases:
            with self.subTest(ip=ip, passed=passed):
                found = sources.classify_source(ip, own, relay)
                self.assertEqual(found, kind)
                self.assertEqual(sources.flag(found, passed), flag)

    def test_tls_family(self):
        cases = [
            ("certificate-expired", "certificate"),
            ("STARTTLS-not-supported", "starttls"),
            ("sts-policy-fetch-error", "mta_sts"),
            ("tlsa-invalid", "dane"),
            ("something-new", "other"),
        ]
        for result_type, family in cases:
            with self.subTest(result_type=result_type):
                self.assertEqual(sources.tls_family(result_type), family)

    def test_owned_domain(self):
        owned = ["mail.shop.example", "other.example"]
        org = {"mail.shop.example": "shop.example", "other.example": "other.example"}
        cases = [
            ("mail.shop.example", True),
            ("news.mail.shop.example", True),
            ("shop.example", True),  # the organisational domain's record
            ("example", False),
            ("evil.example", False),
            ("", False),
        ]
        for domain, expected in cases:
            with self.subTest(domain=domain):
                self.assertEqual(sources.owned_domain(domain, owned, org.get), expected)

    def test_prediction_differences(self):
        predictions = {
            ("shop.example", "Mailgun"): "pass",
            ("shop.example", "Office"): "fail",
            ("b.example", "Mailgun"): "pass",
        }
        reported = {
            ("shop.example", "Mailgun"): (10, 3, {"google.com"}),
            ("shop.example", "Office"): (5, 0, {"Yahoo"}),
            ("b.example", "Mailgun"): (4, 0, {"google.com"}),
        }
        self.assertEqual(
            sources.prediction_differences(predictions, reported),
            [
                ("shop.example", "Mailgun", "pass", 10, 3, ("google.com",)),
                ("shop.example", "Office", "fail", 5, 0, ("Yahoo",)),
            ],
        )
