import { registry } from "@web/core/registry";

// An admin sets the allow-list and the loop threshold in Settings, saves,
// sees the (normalised) values after the reload, then asks Check sender
// which server an address gets.
registry.category("web_tour.tours").add("mail_routing_policy_settings", {
    url: "/odoo/settings",
    steps: () => [
        {
            content: "Type the allowed alias domains",
            trigger: ".o_field_widget[name='routing_catchall_domain_allowed'] input",
            run: "edit Example.org, .trusted.example",
        },
        {
            content: "Set the loop threshold",
            trigger: ".o_field_widget[name='routing_loop_threshold'] input",
            run: "edit 7",
        },
        {
            content: "Save the settings",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "After the reload the allow-list is shown normalised",
            trigger: ".o_field_widget[name='routing_catchall_domain_allowed'] input:value('example.org,*.trusted.example')",
        },
        {
            content: "and the threshold kept",
            trigger: ".o_field_widget[name='routing_loop_threshold'] input:value('7')",
        },
        {
            content: "Open Check sender",
            trigger: "button[name='action_open_mail_sender_check']",
            run: "click",
        },
        {
            content: "Type a sender",
            trigger: ".modal .o_field_widget[name='email_from'] input",
            run: "edit ann@corp.example && press Tab",
        },
        {
            content: "The chosen server is shown",
            trigger: ".modal .o_field_widget[name='mail_server_id']:contains('Tour Server')",
        },
        {
            content: "with the rule that matched",
            trigger: ".modal .o_field_widget[name='rule']:contains('exact domain corp.example')",
        },
        {
            content: "Close the explainer: it sends and saves nothing",
            trigger: ".modal-footer button:contains('Close')",
            run: "click",
        },
        {
            content: "Back on the settings",
            trigger: "body:not(:has(.modal)) .o_field_widget[name='routing_loop_threshold']",
        },
    ],
});
