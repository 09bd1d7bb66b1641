from . import mail_routing_check
from . import mail_sender_check
from . import mail_gateway_log_process
