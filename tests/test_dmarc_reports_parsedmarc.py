# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The module compared with a peer: parsedmarc (the self-hosters' report
parser, a test-only dependency: requirements-test.txt) reads the same mails
the report alias receives. The totals per source address, disposition and
aligned DKIM/SPF result agree, and so do a TLS report's sessions per policy
and result type. parsedmarc's own normalisations are asserted where they
show (docs/dmarc_reports.rst, "Compared with parsedmarc"). parsedmarc runs
offline, with a loopback name server; any other network use is refused and
fails the test."""

import collections
import contextlib
import importlib
import ipaddress
import json
import logging
import socket
from unittest import mock

from odoo.tests import tagged

from . import dmarc_reports_samples as samples
from .test_dmarc_reports_ingest import OWN_IP, UNKNOWN_IP, DmarcReportCase

IPV6 = "2001:db8:25::9"
#: the same address as IPV6, written in full as some receivers do
IPV6_LONG = "2001:0DB8:0025:0000:0000:0000:0000:0009"
DAY = 86400


@contextlib.contextmanager
def loopback_only():
    """Connections, datagrams and name look-ups to anything but loopback are
    refused (an ``OSError``, as a network down would be) and listed in the
    value yielded, which the caller asserts empty: parsedmarc swallows DNS
    errors, so a refusal alone would go unnoticed."""
    attempts = []

    def allowed(host):
        if host is None or not isinstance(host, str | bytes):
            return True  # AF_UNIX paths, passive look-ups: not the network
        host = host.decode() if isinstance(host, bytes) else host
        try:
            return ipaddress.ip_address(host.split("%")[0]).is_loopback
        except ValueError:
            return host == "localhost"

    def guard(kind, real, host_of):
        def call(*args, **kwargs):
            host = host_of(args)
            if not allowed(host):
                attempts.append((kind, host))
                raise OSError(f"network refused in this test: {host}")
            return real(*args, **kwargs)

        return call

    def address_host(address):
        return address[0] if isinstance(address, tuple) else None

    with (
        mock.patch.object(
            socket.socket,
            "connect",
            guard("connect", socket.socket.connect, lambda a: address_host(a[1])),
        ),
        mock.patch.object(
            socket.socket,
            "sendto",
            guard("sendto", socket.socket.sendto, lambda a: address_host(a[-1])),
        ),
        mock.patch.object(
            socket,
            "getaddrinfo",
            guard("getaddrinfo", socket.getaddrinfo, lambda a: a[0]),
        ),
    ):
        yield attempts


@contextlib.contextmanager
def warnings_of(name):
    """The messages ``name``'s loggers write at WARNING and above, kept out
    of the test log (their INFO lines too; ``parsedmarc.log`` is
    parsedmarc's)."""
    messages = []

    class Collect(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())

    logger = logging.getLogger(name)
    handler = Collect(logging.WARNING)
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
        logger.setLevel(level)


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestComparedWithParsedmarc(DmarcReportCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # imported here, not with the test package: half a second that only
        # this test needs to pay (its INFO lines kept out of the test log)
        with warnings_of("parsedmarc"):
            cls.parsedmarc = importlib.import_module("parsedmarc")
        cls.config = cls.parsedmarc.ParserConfig(
            offline=True,
            always_use_local_files=True,
            nameservers=["127.0.0.1"],
            dns_timeout=0.5,
            dns_retries=0,
        )

    def both(self, attachment, filename, **mail):
        """The report mail read by the module (through the alias) and by
        parsedmarc: (our report, parsedmarc's result, its warnings)."""
        raw = samples.report_mail(attachment, filename, self.address, **mail)
        thread_id = self.env["mail.thread"].sudo().message_process(False, raw)
        ours = self.Report.browse(thread_id)
        with (
            loopback_only() as attempts,
            warnings_of("parsedmarc") as warnings,
        ):
            theirs = self.parsedmarc.parse_report_email(raw, config=self.config)
        self.assertEqual(attempts, [], "parsedmarc stays off the network")
        return ours, theirs, warnings

    def aggregate_reports(self):
        """Each receiver's shape: (attachment, file name, mail options)."""
        domain = self.domain

        def passing(ip, count, **kwargs):
            return samples.record_xml(ip, count, domain, **kwargs)

        def failing(ip, count, disposition="none", **kwargs):
            """A row that failed DMARC: no aligned identifier passed."""
            return samples.record_xml(
                ip, count, domain, disposition, dkim="fail", spf="fail", **kwargs
            )

        google = samples.google_xml(
            domain,
            "13261852451372283217",
            [
                passing(OWN_IP, 10),
                # Google's forwarding: DKIM survives (two signatures), SPF not
                passing(
                    "209.85.220.41",
                    3,
                    spf="fail",
                    spf_domain="forwarder.example",
                    spf_result="fail",
                    dkim_results=[
                        (domain, "odoo", "pass"),
                        ("forwarder-example.gappssmtp.com", "20230601", "pass"),
                    ],
                ),
                failing(IPV6, 2, reasons=[("forwarded", "")]),
                failing(UNKNOWN_IP, 5),
            ],
        )
        to_outlook = {"envelope_to": "outlook.com"}
        microsoft = samples.microsoft_xml(
            domain,
            "a1b2c3d4e5f60718293a4b5c6d7e8f90",
            [
                passing(
                    "2001:db8:25::1a",
                    6,
                    dkim_results=[
                        (domain, "odoo", "pass"),
                        ("mailgun.org", "mx", "pass"),
                    ],
                    **to_outlook,
                ),
                failing(UNKNOWN_IP, 4, "quarantine", **to_outlook),
                failing(IPV6_LONG, 1, "quarantine", **to_outlook),
            ],
        )
        outlook = samples.microsoft_xml(
            domain,
            "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            [
                passing(OWN_IP, 7, envelope_to="hotmail.com"),
                failing("203.0.113.67", 2, "quarantine", envelope_to="hotmail.com"),
            ],
            org_name="Outlook.com",
        )
        yahoo = samples.yahoo_xml(
            domain,
            "1765065600.654321",
            [
                failing("192.0.2.44", 2, reasons=[("mailing_list", "list.example")]),
                failing(UNKNOWN_IP, 3, "reject"),
                passing(
                    OWN_IP,
                    5,
                    dkim_results=[(domain, "odoo", "pass"), (domain, "old", "fail")],
                ),
            ],
        )
        # three days in one report: parsedmarc splits each row per day
        rfc9990 = samples.rfc9990_xml(
            domain,
            "r-9990-peer",
            [
                passing("2001:db8:25::1a", 9, human=True),
                failing(
                    "198.51.100.77", 4, "quarantine", reasons=[("local_policy", "")]
                ),
            ],
            end=samples.BEGIN + 3 * DAY - 1,
        )
        gzip = {"mimetype": ("application", "gzip")}
        return [
            (
                samples.zipped(samples.indented(google)),
                f"google.com!{domain}!1764979200!1765065599.zip",
                {},
            ),
            (
                samples.gz(microsoft),
                f"enterprise.protection.outlook.com!{domain}!1764979200!1765065600.xml.gz",
                {"sender": "dmarcreport@microsoft.com", **gzip},
            ),
            (
                samples.gz(outlook),
                f"protection.outlook.com!{domain}!1764979200!1765065600.xml.gz",
                {"sender": "dmarcreport@microsoft.com", **gzip},
            ),
            (
                samples.gz(samples.indented(yahoo)),
                f"yahoo.com!{domain}!1764979200!1765065599.xml.gz",
                {"sender": "dmarchelp@yahooinc.com", **gzip},
            ),
            (
                rfc9990,
                f"receiver.example!{domain}!1764979200!1765238399.xml",
                {
                    "sender": "dmarc-reports@receiver.example",
                    "mimetype": ("application", "xml"),
                },
            ),
        ]

    def test_aggregate_totals_agree(self):
        ours = collections.Counter()
        theirs = collections.Counter()
        our_orgs = collections.Counter()
        their_orgs = collections.Counter()
        their_rows = {}
        raw_sources = set()
        warnings = []
        reports = self.Report
        for attachment, filename, mail in self.aggregate_reports():
            report, parsed, logged = self.both(attachment, filename, **mail)
            self.assertEqual(report.state, "done", report.reason)
            reports |= report
            warnings += logged
            self.assertEqual(parsed["report_type"], "aggregate")
            parsed = parsed["report"]
            self.assertEqual(parsed["report_metadata"]["report_id"], report.report_id)
            their_rows[report.report_id] = parsed["records"]
            for row in parsed["records"]:
                source = row["source"]["ip_address"]
                raw_sources.add(source)
                evaluated = row["policy_evaluated"]
                key = (
                    ipaddress.ip_address(source).compressed,
                    evaluated["disposition"],
                    evaluated["dkim"],
                    evaluated["spf"],
                    row["alignment"]["dmarc"],
                )
                theirs[key] += row["count"]
                their_orgs[parsed["report_metadata"]["org_name"]] += row["count"]

        Record = self.env["mail.dmarc.report.record"]
        scope = [("report_id", "in", reports.ids)]
        for group in Record.read_group(
            scope,
            ["count:sum"],
            ["source_ip", "disposition", "dkim_aligned", "spf_aligned", "dmarc_pass"],
            lazy=False,
        ):
            key = (
                group["source_ip"],
                group["disposition"],
                group["dkim_aligned"],
                group["spf_aligned"],
                group["dmarc_pass"],
            )
            ours[key] += group["count"]
        for group in Record.read_group(scope, ["count:sum"], ["org_name"], lazy=False):
            our_orgs[group["org_name"]] += group["count"]

        # per source, disposition, aligned DKIM and SPF, DMARC result: equal
        self.assertEqual(ours, theirs)

        def totals(counter, index):
            sums = collections.Counter()
            for key, count in counter.items():
                sums[key[index]] += count
            return sums

        # the totals, spelled out (so that two empty sides fail)
        self.assertEqual(
            totals(theirs, 0),
            {
                OWN_IP: 22,
                UNKNOWN_IP: 12,
                "209.85.220.41": 3,
                IPV6: 3,
                "2001:db8:25::1a": 15,
                "203.0.113.67": 2,
                "192.0.2.44": 2,
                "198.51.100.77": 4,
            },
        )
        self.assertEqual(totals(ours, 0), totals(theirs, 0))
        self.assertEqual(totals(theirs, 1), {"none": 49, "quarantine": 11, "reject": 3})
        self.assertEqual(totals(ours, 1), totals(theirs, 1))
        self.assertEqual(totals(ours, 4), {True: 40, False: 23})
        self.assertEqual(totals(ours, 4), totals(theirs, 4))

        # parsedmarc keeps an address as written (lower-cased); the module
        # stores its canonical form (RFC 5952), so that one sender is one
        # source whatever the receiver's spelling: compared canonical above
        self.assertIn(IPV6_LONG.lower(), raw_sources)
        self.assertNotIn(IPV6_LONG.lower(), totals(ours, 0))

        # parsedmarc names a reporting organisation written as a domain by
        # its registered domain, lower-cased; the module keeps the report's
        self.assertEqual(
            our_orgs,
            {
                "google.com": 20,
                "Enterprise Outlook": 11,
                "Outlook.com": 9,
                "Yahoo": 10,
                "receiver.example": 13,
            },
        )
        self.assertEqual(
            their_orgs,
            {
                ("outlook.com" if org == "Outlook.com" else org): n
                for org, n in our_orgs.items()
            },
        )

        # a report over three days: parsedmarc splits each row into one per
        # day (the counts shared pro rata), the module keeps the receiver's
        # row dated by the report's start; the sums agree (compared above)
        self.assertEqual(len(their_rows["r-9990-peer"]), 6)
        self.assertTrue(
            all(row["normalized_timespan"] for row in their_rows["r-9990-peer"])
        )
        self.assertEqual(
            len(reports.filtered(lambda r: r.report_id == "r-9990-peer").record_ids), 2
        )

        # Google's report (no namespace: RFC 7489's format) carries np, which
        # RFC 9091 defined and RFC 9990 kept: parsedmarc takes it for an
        # RFC 9990 report and warns about forwarded, a reason RFC 9990's list
        # lacks; the module reads the format by its namespace and keeps the
        # reason the receiver gave
        self.assertEqual(
            warnings,
            [
                "Policy override reason type 'forwarded' was removed in RFC 9990; "
                "expected one of ['local_policy', 'mailing_list', 'other', "
                "'policy_test_mode', 'trusted_forwarder']"
            ],
        )
        self.assertEqual(
            Record.search(
                scope + [("source_ip", "=", IPV6), ("org_name", "=", "google.com")]
            ).reasons,
            "forwarded",
        )

    def test_tls_totals_agree(self):
        """RFC 8460 reports: the sessions per policy and the failed ones per
        result type agree."""
        plain = json.dumps(
            {
                "organization-name": "Google Inc.",
                "date-range": {
                    "start-datetime": "2025-12-06T00:00:00Z",
                    "end-datetime": "2025-12-06T23:59:59Z",
                },
                "contact-info": "smtp-tls-reporting@google.com",
                "report-id": f"2025-12-06T00:00:00Z_{self.domain}",
                "policies": [
                    {
                        "policy": {
                            "policy-type": "sts",
                            "policy-string": [
                                "version: STSv1",
                                "mode: enforce",
                                f"mx: mx.{self.domain}",
                                "max_age: 604800",
                            ],
                            "policy-domain": self.domain,
                            "mx-host": [f"mx.{self.domain}"],
                        },
                        "summary": {
                            "total-successful-session-count": 300,
                            "total-failure-session-count": 7,
                        },
                        # details for 4 of the 7: RFC 8460 §4.4 lets a
                        # reporter leave failures out of the details
                        "failure-details": [
                            {
                                "result-type": "starttls-not-supported",
                                "sending-mta-ip": "209.85.220.41",
                                "receiving-mx-hostname": f"mx.{self.domain}",
                                "receiving-ip": "198.51.100.25",
                                "failed-session-count": 4,
                                "additional-information": "https://tls.example/why",
                                "failure-reason-code": "no STARTTLS in EHLO",
                            }
                        ],
                    },
                    {
                        "policy": {
                            "policy-type": "no-policy-found",
                            "policy-domain": self.domain.split(".", 1)[1],
                        },
                        "summary": {
                            "total-successful-session-count": 12,
                            "total-failure-session-count": 0,
                        },
                    },
                ],
            }
        ).encode()
        # RFC 8460 §4.4's example, gzip-compressed
        failures = [
            ("certificate-host-mismatch", 6, "40.92.0.1"),
            ("validation-failure", 1, "40.92.0.2"),
        ]
        gzipped = samples.gz(
            samples.tls_report(self.domain, "tls-peer-1", failures=failures)
        )
        per_policy_ours, per_policy_theirs = {}, {}
        per_type_ours, per_type_theirs = collections.Counter(), collections.Counter()
        unexplained = 0
        parent = self.domain.split(".", 1)[1]
        for data, filename, sender, subtype in (
            (
                plain,
                f"google.com!{self.domain}!1764979200!1765065599!001.json",
                "noreply-smtp-tls-reporting@google.com",
                "json",
            ),
            (
                gzipped,
                f"company-x.example!{self.domain}!1764979200.json.gz",
                "tlsrpt@company-x.example",
                "gzip",
            ),
        ):
            report, parsed, warnings = self.both(
                data,
                filename,
                sender=sender,
                mimetype=("application", f"tlsrpt+{subtype}"),
            )
            self.assertEqual(report.state, "done", report.reason)
            self.assertEqual((report.kind, parsed["report_type"]), ("tls", "smtp_tls"))
            self.assertEqual(warnings, [])
            for policy in parsed["report"]["policies"]:
                key = (report.report_id, policy["policy_domain"], policy["policy_type"])
                per_policy_theirs[key] = (
                    policy["successful_session_count"],
                    policy["failed_session_count"],
                )
                for failure in policy.get("failure_details", ()):
                    per_type_theirs[failure["result_type"]] += failure[
                        "failed_session_count"
                    ]
            for row in report.tls_ids:
                key = (report.report_id, row.policy_domain, row.policy_type)
                successful, failed = per_policy_ours.get(key, (0, 0))
                per_policy_ours[key] = (
                    successful + row.successful,
                    failed + row.failed,
                )
                if row.result_type:
                    per_type_ours[row.result_type] += row.failed
                else:
                    unexplained += row.failed

        self.assertEqual(
            per_policy_theirs,
            {
                (f"2025-12-06T00:00:00Z_{self.domain}", self.domain, "sts"): (300, 7),
                (f"2025-12-06T00:00:00Z_{self.domain}", parent, "no-policy-found"): (
                    12,
                    0,
                ),
                ("tls-peer-1", self.domain, "sts"): (120, 7),
            },
        )
        self.assertEqual(per_policy_ours, per_policy_theirs)
        self.assertEqual(
            per_type_theirs,
            {
                "starttls-not-supported": 4,
                "certificate-host-mismatch": 6,
                "validation-failure": 1,
            },
        )
        self.assertEqual(per_type_ours, per_type_theirs)
        # the failures without details: parsedmarc keeps the summary's
        # number; the module stores them as a row of family "other" so that
        # failed sessions add up to the summary on the screen
        self.assertEqual(unexplained, 7 - 4)

    def test_row_with_a_bad_address(self):
        """A report with one row whose source is not an address: parsedmarc
        drops that row (a warning) and counts the others; the module refuses
        the report, naming the value, and keeps the mail: a report is
        counted whole or not at all (neither RFC says which)."""
        data = samples.gz(
            samples.yahoo_xml(
                self.domain,
                "1765065600.000666",
                [
                    samples.record_xml(OWN_IP, 5, self.domain),
                    samples.record_xml("192.0.2.300", 3, self.domain),
                ],
            )
        )
        ours, theirs, warnings = self.both(data, "yahoo.xml.gz")
        self.assertEqual((ours.state, ours.reason_code), ("refused", "bad_value"))
        self.assertIn("192.0.2.300", ours.reason)
        self.assertFalse(ours.record_ids)
        self.assertEqual(
            [
                (row["source"]["ip_address"], row["count"])
                for row in theirs["report"]["records"]
            ],
            [(OWN_IP, 5)],
        )
        self.assertEqual(
            warnings,
            [
                "Could not parse record: '192.0.2.300' does not appear to be an "
                "IPv4 or IPv6 address."
            ],
        )
