/* Copyright 2026 mail_routing_policy developers
 * License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */
import {registry} from "@web/core/registry";

// An admin clicks Check DNS in Settings and reads the result list, grouped by
// domain, with the status as a badge and the record to publish; then asks
// Check sender what Gmail would do with a mail of the company's domain.
registry.category("web_tour.tours").add("mail_routing_policy_check_dns", {
  url: "/odoo/settings",
  checkDelay: 100,
  steps: () => [
    {
      content: "Click Check DNS",
      trigger: "button[name='action_check_dns']",
      run: "click",
    },
    {
      content: "The results are grouped by domain, open",
      trigger: ".o_group_header:contains('tour.test')",
    },
    {
      content: "A failing SPF line says so as a badge",
      trigger: ".o_data_row:contains('SPF') .badge:contains('Fail')",
    },
    {
      content: "with the record to publish",
      trigger:
        ".o_data_row:contains('SPF') [name='record_to_publish']:contains('v=spf1 ip4:127.0.0.5 ~all')",
    },
    {
      content: "with a copy button in the list",
      trigger:
        ".o_data_row:contains('SPF') [name='record_to_publish'] .o_clipboard_button",
    },
    {
      content: "The DKIM line says where the alias domain's selector goes",
      trigger:
        ".o_data_row:contains('DKIM') [name='text']:contains('No DKIM selector is named for the alias domain tour.test')",
    },
    {
      content: "The TLS line says it could not connect, not 'encrypted'",
      trigger:
        ".o_data_row:contains('TLS') [name='text']:contains('Not checkable: could not connect to smtp.tour.test:')",
    },
    {
      content: "Back to Settings",
      trigger: ".o_back_button, .breadcrumb-item a",
      run: "click",
    },
    {
      content: "Open Check sender",
      trigger: "button[name='action_open_mail_sender_check']",
      run: "click",
    },
    {
      content: "Type a sender of the company's domain",
      trigger: ".modal .o_field_widget[name='email_from'] input",
      run: "edit ann@tour.test && press Tab",
    },
    {
      content: "Check DNS for this sender",
      trigger: ".modal button[name='action_check_dns']",
      run: "click",
    },
    {
      content: "The DMARC line says what Gmail would do",
      trigger:
        ".modal .o_field_widget[name='dmarc']:contains('Gmail would reject this mail unless it carries a DKIM signature of tour.test')",
    },
    {
      content: "A missing selector is no failed DKIM",
      trigger:
        ".modal .o_field_widget[name='dmarc']:contains('DKIM not checked: no selector entered for tour.test'):not(:contains('Warning'))",
    },
    {
      content: "DMARC aligned: not ticked, but 'Could not be checked'",
      trigger:
        ".modal .o_field_widget[name='dmarc_state']:contains('Could not be checked')",
    },
  ],
});
