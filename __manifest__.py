# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

{
    "name": "Mail Routing Policy",
    "summary": "Outgoing server selection by from_filter, sender rewriting, "
    "alias-domain allow-listing and loop protection, explainable in the UI",
    "version": "18.0.1.0.0",
    "category": "Productivity/Discuss",
    "license": "LGPL-3",
    "development_status": "Alpha",
    "author": "mail_routing_policy developers",
    "website": "https://github.com/mail-routing-policy/mail_routing_policy",
    "depends": ["mail"],
    "external_dependencies": {
        "python": [
            "idna",
            "aiosmtpd",
            "dnspython",
            "dkimpy",
            "PyNaCl",
            "pyspf",
            "authres",
            "publicsuffixlist",
        ]
    },
    "data": [
        "security/ir.model.access.csv",
        "data/ir_cron_data.xml",
        "data/ir_cron_dns_check_data.xml",
        "data/mail_dmarc_report_data.xml",
        "wizard/mail_sender_check_views.xml",
        "views/ir_mail_server_dns_check_views.xml",
        "views/ir_mail_server_outgoing_views.xml",
        "views/ir_mail_server_delivery_feedback_views.xml",
        "views/mail_alias_incoming_views.xml",
        "views/mail_alias_domain_dns_check_views.xml",
        "views/mail_alias_domain_incoming_views.xml",
        "views/mail_gateway_log_views.xml",
        "views/mail_delivery_event_views.xml",
        "views/mail_dns_check_result_views.xml",
        "views/mail_message_incoming_views.xml",
        "views/mail_dmarc_report_views.xml",
        "views/mail_dmarc_report_overview_views.xml",
        "wizard/mail_routing_check_views.xml",
        "wizard/mail_gateway_log_process_views.xml",
        "views/res_config_settings_views.xml",
        "views/res_config_settings_dmarc_reports_views.xml",
    ],
    "assets": {
        "web.assets_backend": ["mail_routing_policy/static/src/js/*.js"],
        "web.assets_tests": ["mail_routing_policy/static/tests/tours/*.js"],
    },
    "post_load": "post_load",
    "post_init_hook": "post_init_hook",
    "uninstall_hook": "uninstall_hook",
    "installable": True,
    "application": False,
}
