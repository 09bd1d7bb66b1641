# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import datetime
import functools

from odoo import api, fields, models

from ..tools.dmarc_reports import sources
from ..tools.dns_check import checks as dlv

#: days of reports the daily check compares with its prediction
COMPARED_DAYS = 3


def _difference_words(difference, env):
    domain, server, predicted, passed, failed, orgs = difference
    params = {
        "domain": domain,
        "server": server,
        "passed": passed,
        "failed": failed,
        "total": passed + failed,
        "orgs": ", ".join(orgs),
    }
    if predicted == dlv.PASS:
        return env._(
            "Receivers disagree with Check DNS: mail from %(domain)s through "
            "%(server)s should pass DMARC, but %(orgs)s reported %(failed)s of "
            "%(total)s messages failing it.",
            **params,
        )
    return env._(
        "Receivers disagree with Check DNS: mail from %(domain)s through "
        "%(server)s should fail DMARC, but %(orgs)s reported all %(passed)s "
        "messages passing it.",
        **params,
    )


class MailDeliverabilityResult(models.Model):
    _inherit = "mail.dns.check.result"

    @api.model
    def _receiver_predictions(self):
        """``{(From domain, server label): pass | fail}``: the alignment
        verdict (DMARC) of each own sending path with a server."""
        predictions = {}
        for result in self.sudo().search(
            [("check", "=", dlv.CHECK_ALIGNMENT), ("server_id", "!=", False)]
        ):
            if result.status not in (dlv.PASS, dlv.FAIL):
                continue
            key = (result.domain, result.server_id.display_name)
            # several envelopes for one From and server: the worst verdict
            if predictions.get(key) != dlv.FAIL:
                predictions[key] = result.status
        return predictions

    @api.model
    def _receiver_reported(self, days=COMPARED_DAYS):
        """``{(From domain, server label): (passed, failed, orgs)}`` from the
        report rows of the last ``days`` days whose source is a server's
        address or its relay."""
        since = fields.Date.today() - datetime.timedelta(days=days)
        groups = (
            self.env["mail.dmarc.report.record"]
            .sudo()
            ._read_group(
                [("date", ">=", since), ("server_id", "!=", False)],
                ["header_from", "server_id", "org_name"],
                ["count_pass:sum", "count_fail:sum"],
            )
        )
        reported = {}
        for domain, server, org, passed, failed in groups:
            key = (domain, server.display_name)
            before = reported.get(key, (0, 0, set()))
            reported[key] = (before[0] + passed, before[1] + failed, before[2] | {org})
        return reported

    @api.model
    def _receiver_differences(self):
        differences = sources.prediction_differences(
            self._receiver_predictions(), self._receiver_reported()
        )
        return super()._receiver_differences() + [
            functools.partial(_difference_words, difference)
            for difference in differences
        ]
