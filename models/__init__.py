# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from . import mail_routing_cache_mixin
from . import ir_config_parameter
from . import mail_delivery_event
from . import mail_delivery_refusal
from . import mail_delivery_replay
from . import mail_dns_check_result
from . import ir_mail_server_outgoing
from . import ir_mail_server_delivery_feedback
from . import ir_mail_server_dns_check
from . import mail_alias_incoming
from . import mail_alias_domain
from . import mail_alias_domain_incoming
from . import mail_alias_domain_dns_check
from . import mail_gateway_allowed
from . import mail_gateway_event
from . import mail_gateway_guess_budget
from . import mail_gateway_log
from . import mail_mail_outgoing
from . import mail_message_incoming
from . import mail_routing_explanation
from . import mail_thread_incoming
from . import res_config_settings
from . import res_config_settings_outgoing
from . import res_config_settings_incoming
from . import res_config_settings_mailgate
from . import res_config_settings_dns_check
from . import mail_dmarc_report
from . import mail_dmarc_report_row
from . import mail_dmarc_report_record
from . import mail_dmarc_report_source
from . import mail_dmarc_report_tls
from . import mail_dmarc_report_overview
from . import mail_dns_check_result_dmarc_reports
from . import mail_dns_check_result_inbound_tls
from . import res_config_settings_dmarc_reports
