# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Reports as receivers send them, for the tests and the benchmark.

Shapes from the receivers' documented and observed reports: Google (zip,
RFC 7489 Appendix C, ``extra_contact_info``, ``np`` in ``policy_published``),
Microsoft (gzip, ``<version>`` and ``envelope_to``), Yahoo (gzip, one DKIM
result per signature, ``policy_evaluated`` reasons) and an RFC 9990 report
(its namespace, ``generator``, ``testing``, ``discovery_method``,
``human_result``); TLS-RPT JSON as RFC 8460 §4.4's example.
"""

import datetime
import gzip
import io
import json
import zipfile
from email.message import EmailMessage

from lxml import etree

BEGIN = 1764979200  # 2025-12-06 00:00 UTC
END = BEGIN + 86399


def _dkim(results):
    return "".join(
        f"<dkim><domain>{domain}</domain><selector>{selector}</selector>"
        f"<result>{result}</result></dkim>"
        for domain, selector, result in results
    )


def record_xml(
    ip,
    count,
    header_from,
    disposition="none",
    dkim="pass",
    spf="pass",
    reasons=(),
    dkim_results=None,
    spf_domain=None,
    spf_result="pass",
    envelope_to="",
    envelope_from="",
    human=False,
):
    reason = "".join(
        f"<reason><type>{kind}</type><comment>{comment}</comment></reason>"
        for kind, comment in reasons
    )
    if dkim_results is None:
        dkim_results = [(header_from, "s1", "pass" if dkim == "pass" else "fail")]
    identifiers = (
        (f"<envelope_to>{envelope_to}</envelope_to>" if envelope_to else "")
        + (f"<envelope_from>{envelope_from}</envelope_from>" if envelope_from else "")
        + f"<header_from>{header_from}</header_from>"
    )
    human_result = "<human_result>checked</human_result>" if human else ""
    return (
        f"<record><row><source_ip>{ip}</source_ip><count>{count}</count>"
        f"<policy_evaluated><disposition>{disposition}</disposition>"
        f"<dkim>{dkim}</dkim><spf>{spf}</spf>{reason}</policy_evaluated></row>"
        f"<identifiers>{identifiers}</identifiers>"
        f"<auth_results>{_dkim(dkim_results)}"
        f"<spf><domain>{spf_domain or header_from}</domain><scope>mfrom</scope>"
        f"<result>{spf_result}</result>{human_result}</spf></auth_results></record>"
    )


def overridden_record(ip, count, header_from, reason, comment=""):
    """A row failing DMARC that the receiver delivered anyway (``none``),
    for ``reason`` (RFC 7489's PolicyOverrideType: forwarded, mailing_list…)."""
    return record_xml(
        ip,
        count,
        header_from,
        disposition="none",
        dkim="fail",
        spf="fail",
        reasons=[(reason, comment)],
    )


def google_xml(domain, report_id, records):
    return (
        '<?xml version="1.0" encoding="UTF-8" ?>\n<feedback>'
        "<report_metadata><org_name>google.com</org_name>"
        "<email>noreply-dmarc-support@google.com</email>"
        "<extra_contact_info>https://support.google.com/a/answer/2466580"
        "</extra_contact_info>"
        f"<report_id>{report_id}</report_id>"
        f"<date_range><begin>{BEGIN}</begin><end>{END}</end></date_range>"
        "</report_metadata>"
        f"<policy_published><domain>{domain}</domain><adkim>r</adkim><aspf>r</aspf>"
        "<p>none</p><sp>none</sp><pct>100</pct><np>none</np></policy_published>"
        + "".join(records)
        + "</feedback>"
    ).encode()


def microsoft_xml(domain, report_id, records, org_name="Enterprise Outlook"):
    """Microsoft 365's reports (``Enterprise Outlook``); consumer mailboxes'
    come as ``Outlook.com``, in the same shape."""
    return (
        '<?xml version="1.0"?>\n<feedback '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<version>1.0</version><report_metadata>"
        f"<org_name>{org_name}</org_name>"
        "<email>dmarcreport@microsoft.com</email>"
        f"<report_id>{report_id}</report_id>"
        f"<date_range><begin>{BEGIN}</begin><end>{END}</end></date_range>"
        "</report_metadata>"
        f"<policy_published><domain>{domain}</domain><adkim>r</adkim><aspf>r</aspf>"
        "<p>quarantine</p><sp>quarantine</sp><pct>100</pct><fo>0</fo>"
        "</policy_published>" + "".join(records) + "</feedback>"
    ).encode()


def yahoo_xml(domain, report_id, records):
    return (
        '<?xml version="1.0"?>\n<feedback><report_metadata>'
        "<org_name>Yahoo</org_name><email>dmarchelp@yahooinc.com</email>"
        f"<report_id>{report_id}</report_id>"
        f"<date_range><begin>{BEGIN}</begin><end>{END}</end></date_range>"
        "</report_metadata>"
        f"<policy_published><domain>{domain}</domain><adkim>r</adkim><aspf>r</aspf>"
        "<p>reject</p><pct>100</pct></policy_published>"
        + "".join(records)
        + "</feedback>"
    ).encode()


def rfc9990_xml(domain, report_id, records, end=END):
    """``end`` past one day: a report covering several days, as receivers
    send after an outage."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">'
        "<version>1.0</version><report_metadata>"
        "<org_name>receiver.example</org_name>"
        "<email>dmarc-reports@receiver.example</email>"
        f"<report_id>{report_id}</report_id>"
        f"<date_range><begin>{BEGIN}</begin><end>{end}</end></date_range>"
        "<generator>Example DMARC Aggregate Reporter v1.2</generator>"
        "</report_metadata>"
        f"<policy_published><domain>{domain}</domain><p>quarantine</p>"
        "<sp>none</sp><np>reject</np><adkim>r</adkim><aspf>r</aspf>"
        "<discovery_method>treewalk</discovery_method><testing>n</testing>"
        "</policy_published>" + "".join(records) + "</feedback>"
    ).encode()


def indented(data):
    """``data`` (XML) indented, as receivers send it: whitespace and line
    breaks between the elements."""
    root = etree.fromstring(data)
    return etree.tostring(
        root, pretty_print=True, xml_declaration=True, encoding="UTF-8"
    )


def gz(data):
    return gzip.compress(data, mtime=0)


def zipped(data, name="report.xml"):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def tls_report(domain, report_id, failures=(), successful=120):
    failed = sum(count for _kind, count, _ip in failures)
    return json.dumps(
        {
            "organization-name": "Company-X",
            "date-range": {
                "start-datetime": "2025-12-06T00:00:00Z",
                "end-datetime": "2025-12-06T23:59:59Z",
            },
            "contact-info": "sts-reporting@company-x.example",
            "report-id": report_id,
            "policies": [
                {
                    "policy": {
                        "policy-type": "sts",
                        "policy-string": ["version: STSv1", "mode: testing"],
                        "policy-domain": domain,
                        "mx-host": [f"mx.{domain}"],
                    },
                    "summary": {
                        "total-successful-session-count": successful,
                        "total-failure-session-count": failed,
                    },
                    "failure-details": [
                        {
                            "result-type": kind,
                            "sending-mta-ip": ip,
                            "receiving-mx-hostname": f"mx.{domain}",
                            "failed-session-count": count,
                        }
                        for kind, count, ip in failures
                    ],
                }
            ],
        }
    ).encode()


def report_mail(
    attachment,
    filename,
    to,
    sender="noreply-dmarc-support@google.com",
    subject="Report domain: example.com",
    mimetype=("application", "zip"),
    message_id=None,
):
    """A report mail as receivers send it: a short text and the report
    attached."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = datetime.datetime(2025, 12, 7, 3, 0).strftime(
        "%a, %d %b %Y %H:%M:%S +0000"
    )
    message["Message-ID"] = message_id or f"<{filename}@{sender.split('@')[1]}>"
    message.set_content("This is an aggregate report.")
    message.add_attachment(
        attachment, maintype=mimetype[0], subtype=mimetype[1], filename=filename
    )
    return message.as_bytes()
