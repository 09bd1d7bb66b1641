from . import ir_config_parameter
from . import ir_mail_server
from . import mail_alias
from . import mail_gateway_allowed
from . import mail_gateway_event
from . import mail_gateway_log
from . import mail_mail
from . import mail_thread
