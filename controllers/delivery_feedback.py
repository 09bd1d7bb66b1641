# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import hmac
import time

from odoo import SUPERUSER_ID, http
from odoo.http import request

from ..tools import delivery_feedback as feedback

# what a refused request is answered: nothing else, no record data; 406
# tells Mailgun not to retry a request that cannot become valid
REFUSAL_STATUS = {
    feedback.REFUSAL_TOO_LARGE: 413,
    feedback.REFUSAL_NO_LENGTH: 411,
    feedback.REFUSAL_NOT_JSON: 400,
    feedback.REFUSAL_SHAPE: 400,
    feedback.REFUSAL_SIGNATURE_MISSING: 401,
    feedback.REFUSAL_SIGNATURE: 403,
    feedback.REFUSAL_NO_KEY: 403,
    feedback.REFUSAL_STALE: 406,
    feedback.REFUSAL_REPLAY: 406,
    feedback.REFUSAL_UNKNOWN_SERVER: 404,
}


def _answer(status, text):
    return request.make_response(
        text, headers=[("Content-Type", "text/plain; charset=utf-8")], status=status
    )


class DeliveryFeedbackController(http.Controller):
    """Webhooks of relay services (Mailgun, SendGrid): one URL per outgoing
    server, ``/mail_routing_policy/delivery/<server id>/<secret token>``, shown
    on the server form. No Odoo login: the provider's signature is the proof;
    every refused request gets a 4xx, is counted and changes nothing."""

    @http.route(
        "/mail_routing_policy/delivery/<int:server_id>/<string:token>",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        # it writes (events, the replay key, refusal counts): not a read-only
        # cursor first, which Odoo would retry with the body already read
        readonly=False,
    )
    def delivery_feedback(self, server_id, token, **params):
        # the webhook has no user: the signature proves the provider, and the
        # answer says nothing of the database
        env = request.env(user=SUPERUSER_ID)
        Refusal = env["mail.delivery.refusal"]
        server = env["ir.mail_server"].browse(server_id).exists()
        known = (
            server
            and server.delivery_feedback_provider
            and server.delivery_feedback_token
            and hmac.compare_digest(token, server.delivery_feedback_token)
            # the URL names its database: a request routed to another one
            # (dbfilter) is not for this server
            and params.get("db", request.db) == request.db
        )
        if not known:
            Refusal._count(None, feedback.REFUSAL_UNKNOWN_SERVER)
            return _answer(404, "unknown webhook\n")
        httprequest = request.httprequest
        try:
            # the body is read whole: only with a declared length within the
            # limit (a chunked body of unknown size is refused before reading)
            if httprequest.content_length is None:
                raise feedback.FeedbackError(feedback.REFUSAL_NO_LENGTH)
            if httprequest.content_length > feedback.MAX_BODY:
                raise feedback.FeedbackError(feedback.REFUSAL_TOO_LARGE)
            body = httprequest.get_data()
            now = time.time()
            if server.delivery_feedback_provider == feedback.PROVIDER_MAILGUN:
                verified = feedback.verify_mailgun(
                    body, server.delivery_feedback_key, now
                )
            else:
                verified = feedback.verify_sendgrid(
                    body, httprequest.headers, server.delivery_feedback_key, now
                )
            if not env["mail.delivery.replay"]._claim(verified.replay_key):
                raise feedback.FeedbackError(feedback.REFUSAL_REPLAY)
        except feedback.FeedbackError as error:
            Refusal._count(server.id, error.code)
            return _answer(REFUSAL_STATUS[error.code], "refused\n")
        # all events or none: a database error rolls the request back (the
        # replay key too) and Odoo answers 500, so the provider retries
        env["mail.delivery.event"]._receive(server, verified)
        return _answer(200, "ok\n")
