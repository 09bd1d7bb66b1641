# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from . import test_address_filter
from . import test_outgoing
from . import test_smtp_real
from . import test_incoming
from . import test_concurrency
from . import test_settings
from . import test_tour
from . import test_fuzz
from . import test_quiet_logs
from . import test_gateway_log_storage
from . import test_mailgate
from . import test_mailgate_postfix
from . import test_mail_dns
from . import test_mailgate_limits
from . import test_mail_auth
from . import test_auth_policy
from . import test_authentication
from . import test_mailgate_auth
from . import test_mailgate_two_gates
from . import test_i18n
from . import test_xmlrpc
from . import test_deliverability
from . import test_deliverability_checks
from . import test_deliverability_receivers
from . import test_delivery_feedback
from . import test_delivery_feedback_databases
from . import test_delivery_feedback_mass_mailing
from . import test_dmarc_reports_parsing
from . import test_dmarc_reports_ingest
from . import test_dmarc_reports_mailgate
from . import test_dmarc_reports_check
