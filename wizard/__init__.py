# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from . import mail_routing_check
from . import mail_sender_check
from . import mail_sender_check_dns_check
from . import mail_gateway_log_process
