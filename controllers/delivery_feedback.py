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
    feedback.REFUSAL_CREDENTIALS: 401,
    feedback.REFUSAL_CERT_URL: 403,
    feedback.REFUSAL_TOPIC: 403,
    # not the sender's fault: SNS retries a 5xx (and nothing was changed)
    feedback.REFUSAL_CERT_UNAVAILABLE: 503,
}


def _answer(status, text, headers=()):
    return request.make_response(
        text,
        headers=[("Content-Type", "text/plain; charset=utf-8"), *headers],
        status=status,
    )


class DeliveryFeedbackController(http.Controller):
    """Webhooks of relay services (the providers of
    ``tools/delivery_feedback/providers/``): one URL per outgoing server,
    ``/mail_routing_policy/delivery/<server id>/<secret token>``, shown on the
    server form. No Odoo login: the provider's signature, or the credentials
    Odoo generated for the server, is the proof; every refused request gets a
    4xx, is counted and changes nothing."""

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
        provider = server and feedback.REGISTRY.get(
            server.delivery_feedback_provider or ""
        )
        known = (
            provider
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
            verified = provider.verify(
                feedback.WebhookRequest(
                    body=httprequest.get_data(),
                    headers=httprequest.headers,
                    key=server.delivery_feedback_key or "",
                    secret=server.delivery_feedback_secret or "",
                ),
                time.time(),
            )
            if verified.replay_key and not env["mail.delivery.replay"]._claim(
                verified.replay_key
            ):
                raise feedback.FeedbackError(feedback.REFUSAL_REPLAY)
        except feedback.FeedbackError as error:
            Refusal._count(server.id, error.code)
            headers = (
                [("WWW-Authenticate", 'Basic realm="delivery feedback"')]
                if error.code
                in (feedback.REFUSAL_SIGNATURE_MISSING, feedback.REFUSAL_CREDENTIALS)
                and provider.basic_auth
                else []
            )
            return _answer(REFUSAL_STATUS[error.code], "refused\n", headers)
        if verified.subscribe_url:
            server._delivery_feedback_subscription(verified.subscribe_url)
        # all events or none: a database error rolls the request back (the
        # replay key too) and Odoo answers 500, so the provider retries
        env["mail.delivery.event"]._receive(server, verified)
        return _answer(200, "ok\n")
