# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api, fields, models

from ..tools.dmarc_reports import sources

FAMILIES = [
    ("starttls", "STARTTLS not offered"),
    ("certificate", "Certificate"),
    ("mta_sts", "MTA-STS policy"),
    ("dane", "DANE"),
    ("other", "Other"),
]


class MailDmarcReportTls(models.Model):
    """Failed TLS sessions a sending organisation reported (RFC 8460): one
    row per policy and failure kind; a policy without failures has one row
    with its successful sessions."""

    _name = "mail.dmarc.report.tls"
    _inherit = ["mail.dmarc.report.row"]
    _row_domain_field = "policy_domain"
    _description = "Row of a TLS report"
    _rec_name = "result_type"

    org_name = fields.Char("Sending organisation")
    policy_domain = fields.Char("Domain", readonly=True, index=True)
    policy_type = fields.Char("Policy", readonly=True)
    result_type = fields.Char("Result", readonly=True)
    family = fields.Selection(FAMILIES, "Failure", readonly=True, index=True)
    failed = fields.Integer("Failed sessions", readonly=True, aggregator="sum")
    successful = fields.Integer("Successful sessions", readonly=True, aggregator="sum")
    sending_mta_ip = fields.Char("Sending server", readonly=True)
    receiving_mx_hostname = fields.Char("Receiving MX", readonly=True)
    failure_reason_code = fields.Char("Reason code", readonly=True)
    additional_information = fields.Char(readonly=True)

    @api.model
    def _create_from(self, report, parsed):
        values = []
        row = self._row_values(report)
        for policy in parsed.policies:
            common = {
                **row,
                "policy_domain": policy.policy_domain,
                "policy_type": policy.policy_type,
            }
            # the successful sessions once per policy, on its first row
            values.append({**common, "successful": policy.successful})
            for failure in policy.failures:
                values.append(
                    {
                        **common,
                        "result_type": failure.result_type,
                        "family": sources.tls_family(failure.result_type),
                        "failed": failure.count,
                        "sending_mta_ip": failure.sending_mta_ip,
                        "receiving_mx_hostname": failure.receiving_mx_hostname,
                        "failure_reason_code": failure.failure_reason_code,
                        "additional_information": failure.additional_information,
                    }
                )
            unexplained = policy.failed - sum(f.count for f in policy.failures)
            if unexplained > 0:
                values.append({**common, "family": "other", "failed": unexplained})
        return self.sudo().create(values)
