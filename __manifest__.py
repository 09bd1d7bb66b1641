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
    "external_dependencies": {"python": ["idna"]},
    "data": [
        "security/ir.model.access.csv",
        "wizard/mail_sender_check_views.xml",
        "views/ir_mail_server_views.xml",
    ],
    "post_init_hook": "post_init_hook",
    "uninstall_hook": "uninstall_hook",
    "installable": True,
    "application": False,
}
