# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""The system parameters this module reads, registered by the rooms that use them.

Each capability ("room": outgoing, incoming, mailgate, dns_check, ...) declares
its parameters in its own Settings file (``models/res_config_settings_<room>.py``)
with :func:`register_params`; no list here names every capability. A parameter
has a kind (how its value is checked and normalised when it is saved:
``ir.config_parameter._normalize_routing_param``), the default that applies
while it is unset, and, for numbers, the smallest allowed value. The models
read values through :func:`read`, each room's Settings fields are built by
:func:`settings_field` (default included), the uninstall hook removes
:func:`keys_removed_on_uninstall`, and a test checks that the README's
parameter table says the same as :data:`PARAMS`.
"""

import dataclasses
from dataclasses import dataclass

from odoo import fields

KIND_INTEGER = "integer"
KIND_CHOICE = "choice"
KIND_FILTER = "filter"  # tools/address_filter grammar
KIND_DOMAINS = "domains"  # comma-separated domain names
KIND_DEFAULT_FROM = "default_from"
KIND_DISPLAY = "display"
KIND_NAMESERVERS = "nameservers"
KINDS = (
    KIND_INTEGER,
    KIND_CHOICE,
    KIND_FILTER,
    KIND_DOMAINS,
    KIND_DEFAULT_FROM,
    KIND_DISPLAY,
    KIND_NAMESERVERS,
)


@dataclass(frozen=True)
class RoutingParam:
    key: str
    kind: str
    default: object = None
    minimum: int | None = None
    choices: tuple = ()
    # True for keys that exist only because of this module (core's documented
    # keys such as mail.default.from stay when it is uninstalled)
    removed_on_uninstall: bool = False
    room: str = ""  # set by register_params


# key -> RoutingParam, filled by register_params when the rooms' files load
PARAMS = {}


def register_params(room, *params):
    """Declare the system parameters ``room`` reads; returns them, registered.

    Registering the same declaration again (a module imported twice) changes
    nothing; a key another room, or another declaration, already holds is a
    mistake, refused with a ValueError naming the key and both rooms.
    """
    if not room or not room.isidentifier():
        raise ValueError(f"register_params: room {room!r} is not a name")
    registered = []
    for param in params:
        if param.kind not in KINDS:
            raise ValueError(f"{param.key}: unknown kind {param.kind!r}")
        if param.kind == KIND_INTEGER and param.minimum is None:
            raise ValueError(f"{param.key}: an integer parameter needs a minimum")
        if param.kind == KIND_CHOICE and param.default not in param.choices:
            raise ValueError(f"{param.key}: default {param.default!r} not a choice")
        param = dataclasses.replace(param, room=room)
        held = PARAMS.get(param.key)
        if held is not None and held != param:
            raise ValueError(
                f"{param.key} is registered twice: by room {held.room!r} and "
                f"by room {room!r}"
            )
        PARAMS[param.key] = param
        registered.append(param)
    return tuple(registered)


def params_of(room):
    """The parameters ``room`` registered, in registration order."""
    return tuple(param for param in PARAMS.values() if param.room == room)


def default(key):
    """The value in force while ``key`` is unset (for Settings' field defaults)."""
    return PARAMS[key].default


def settings_field(key, string, help_text, selection=None):
    """The Settings field of the registered parameter ``key``: backed by it
    (``config_parameter``), with the registry's default; an Integer for a
    number, a Selection of ``selection`` (its values the parameter's choices)
    for a choice, a Char otherwise."""
    param = PARAMS[key]
    if param.kind == KIND_INTEGER:
        return fields.Integer(
            string, config_parameter=key, default=param.default, help=help_text
        )
    if param.kind == KIND_CHOICE:
        values = {value for value, _label in selection or ()}
        if values != set(param.choices):
            raise ValueError(
                f"{key}: the Settings choices {sorted(values)} are not the "
                f"parameter's {sorted(param.choices)}"
            )
        return fields.Selection(
            selection,
            string=string,
            config_parameter=key,
            default=param.default,
            help=help_text,
        )
    return fields.Char(string, config_parameter=key, help=help_text)


def keys_removed_on_uninstall():
    return tuple(key for key, param in PARAMS.items() if param.removed_on_uninstall)


def read(get_param, key):
    """The value of ``key`` in force: the stored one, or the default while it
    is unset (or holds what validation would refuse, e.g. written by SQL)."""
    param = PARAMS[key]
    value = get_param(key)
    if value in (None, False, ""):
        return param.default
    if param.kind == KIND_INTEGER:
        try:
            number = int(value)
        except (TypeError, ValueError):
            return param.default
        return number if number >= param.minimum else param.default
    if param.kind == KIND_CHOICE:
        return value if value in param.choices else param.default
    return value
