# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Delivery feedback from relay services: the provider registry.

``common`` holds what every provider shares (the event, refusal codes, the
:class:`Provider` description); ``providers/<code>.py`` one provider each.
Adding a provider is its file, its line in ``providers.MODULES``, its tests
and its documentation.
"""

from .common import *  # noqa: F401,F403 - the room's public names
from .common import Provider
from .providers import MODULES
from .providers.mailgun import mailgun_event, verify_mailgun  # noqa: F401
from .providers.sendgrid import (  # noqa: F401
    SIGNATURE_HEADER as SENDGRID_SIGNATURE_HEADER,
    TIMESTAMP_HEADER as SENDGRID_TIMESTAMP_HEADER,
    load_sendgrid_key,
    sendgrid_event,
    verify_sendgrid,
)

REGISTRY = {module.PROVIDER.code: module.PROVIDER for module in MODULES}
PROVIDERS = tuple(REGISTRY)
PROVIDER_MAILGUN = "mailgun"
PROVIDER_SENDGRID = "sendgrid"


def get(code):
    """The :class:`Provider` of ``code`` (``KeyError`` for an unknown one)."""
    provider = REGISTRY[code]
    assert isinstance(provider, Provider)
    return provider


def selection():
    """(code, label) of every provider, for a selection field."""
    return [(provider.code, provider.label) for provider in REGISTRY.values()]
