from . import models
from . import wizard
from . import cli
from .hooks import post_init_hook, post_load, uninstall_hook
