# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from . import controllers
from . import models
from . import wizard
from . import cli
from .hooks import post_init_hook, post_load, uninstall_hook
