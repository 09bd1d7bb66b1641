# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""One file per provider; each defines ``PROVIDER`` (``common.Provider``)."""

from . import brevo, mailgun, mailjet, postmark, sendgrid, ses

# the order of the selection on the server form
MODULES = (mailgun, sendgrid, postmark, brevo, ses, mailjet)
