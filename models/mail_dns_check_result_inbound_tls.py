# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api, models

from ..tools.dns_check import checks as dlv
from ..tools.dns_check import inbound_texts as texts
from ..tools.dns_check import inbound_tls as itls
from ..tools.reason_texts import word

#: codes whose text says what an enforced MTA-STS policy makes of them
_MODE_VARIANT = (
    itls.CODE_STS_MX_MISMATCH,
    itls.CODE_STS_CERTIFICATE,
    itls.CODE_STS_OK,
)


class MailDeliverabilityResult(models.Model):
    """Check DNS, the inbound side of each alias domain: the TLS of its MX
    hosts (the mailgate's and any other), its MTA-STS policy and its TLS
    reporting record (``tools/dns_check/inbound_tls.py``)."""

    _inherit = "mail.dns.check.result"

    @api.model
    def _alias_domain_facts(self, name, mx_hosts, resolver, deadline):
        facts = super()._alias_domain_facts(name, mx_hosts, resolver, deadline)
        report_address = self.env["mail.dmarc.report"].sudo()._report_address()
        return facts + itls.check_inbound(
            name, resolver, deadline, mx_hosts, report_address
        )

    def _compute_text(self):
        inbound = self.filtered(lambda result: result.check in itls.INBOUND_CHECKS)
        for result in inbound:
            result.text = texts.inbound_text(
                result.check, result.code, result._inbound_params(), self.env
            )
        return super(MailDeliverabilityResult, self - inbound)._compute_text()

    def _inbound_params(self):
        """The text parameters of an inbound line: the common ones, the MX
        host's role, the certificate's fault and the policy's, and which text
        of the code fits (the policy's mode, a proposal, a report alias)."""
        params = self._text_params()
        data = self.data or {}
        params["domain"] = self.domain
        if self.check == itls.CHECK_MX_TLS:
            role = (
                texts.ROLE_IMPLICIT
                if data.get("implicit")
                else texts.ROLE_GATEWAY
                if data.get("gateway")
                else texts.ROLE_OTHER
            )
            params["role"] = word(texts.ROLE_TEXTS[role], env=self.env)
            params.update(self._tls_params({**data, "host": data.get("mx_host", "")}))
        variant = self._inbound_variant(data)
        if variant:
            params["variant"] = variant
        error = data.get("error")
        if self.check == itls.CHECK_MTA_STS and error in texts.POLICY_ERROR_TEXTS:
            params["why"] = word(
                texts.POLICY_ERROR_TEXTS[error],
                {"domain": self.domain, "detail": data.get("detail", "")},
                self.env,
            )
        return params

    def _inbound_variant(self, data):
        if self.check == itls.CHECK_MX_TLS:
            return data.get("mode", "")
        if self.code == itls.CODE_STS_ABSENT and self.record_to_publish:
            return texts.PROPOSAL
        if self.code == itls.CODE_STS_RECORD_INVALID:
            return data.get("error", "")
        if self.code == itls.CODE_STS_CERTIFICATE and self.status == dlv.UNKNOWN:
            return texts.HOSTS_UNKNOWN
        if self.code in _MODE_VARIANT:
            return data.get("mode", "")
        if self.check == itls.CHECK_TLS_RPT and not data.get("report_address"):
            return texts.NO_ALIAS
        return ""
