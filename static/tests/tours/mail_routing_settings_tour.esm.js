import {registry} from "@web/core/registry";

// An admin sets the allow-list and the loop threshold in Settings, saves,
// sees the (normalised) values after the reload, then asks Check sender
// which server an address gets.
registry.category("web_tour.tours").add("mail_routing_policy_settings", {
  url: "/odoo/settings",
  checkDelay: 100,
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
      trigger:
        ".o_field_widget[name='routing_catchall_domain_allowed'] input:value('example.org,*.trusted.example')",
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
      content: "with the rule that matched, in plain words",
      trigger:
        ".modal .o_field_widget[name='rule']:contains('the domain corp.example')",
    },
    {
      content: "Type something that is not an address",
      trigger: ".modal .o_field_widget[name='email_from'] input",
      run: "edit not-an-address && press Tab",
    },
    {
      content: "It is answered, not a traceback",
      trigger:
        ".modal .o_field_widget[name='summary']:contains('is not an email address')",
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
    {
      content: "Open Test incoming routing",
      trigger: "button[name='action_open_mail_routing_check']",
      run: "click",
    },
    {
      content: "Paste something that is not a mail",
      trigger: ".modal .o_field_widget[name='raw_message'] textarea",
      run: "edit just some garbage text",
    },
    {
      content: "Explain",
      trigger: ".modal button[name='action_explain']",
      run: "click",
    },
    {
      content: "The verdict says it is not an email message",
      trigger:
        ".modal .o_field_widget[name='verdict']:contains('This is not an email message')",
    },
    {
      content: "Close the explainer",
      trigger: ".modal-footer button:contains('Close')",
      run: "click",
    },
    {
      content: "Back on the settings again",
      trigger: "body:not(:has(.modal)) .o_field_widget[name='routing_loop_threshold']",
    },
    {
      content: "The rarely changed settings are one click away",
      trigger: "button:contains('More settings')",
      run: "click",
    },
    {
      content: "Name the DNS servers for SPF, DKIM and DMARC",
      trigger: ".modal .o_field_widget[name='routing_dns_nameservers'] input",
      run: "edit 127.0.0.53:53",
    },
    {
      content: "Save them",
      trigger: ".modal-footer button[name='execute']",
      run: "click",
    },
    {
      content: "Back on the settings, saved",
      trigger:
        "body:not(:has(.modal)) .o_field_widget[name='routing_loop_threshold'] input:value('7')",
    },
  ],
});
