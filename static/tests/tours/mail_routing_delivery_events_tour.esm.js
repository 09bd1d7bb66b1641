// Copyright 2026 mail_routing_policy developers
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import {registry} from "@web/core/registry";

// An admin reads what the relay service reported: a bounce applied as a
// bounce by mail, and one whose effect failed; mends it and applies it again.
registry.category("web_tour.tours").add("mail_routing_policy_delivery_events", {
  checkDelay: 100,
  steps: () => [
    {
      content: "The applied bounce is listed with its partner",
      trigger:
        ".o_data_row:has(.o_field_badge[name='state']:contains('Applied')) .o_data_cell[name='partner_ids']:contains('Dead Address')",
    },
    {
      content: "Open the filters",
      trigger: ".o_control_panel .o_searchview_dropdown_toggler",
      run: "click",
    },
    {
      content: "Only the failed ones",
      trigger: ".o_filter_menu .o_menu_item:contains('Failed')",
      run: "click",
    },
    {
      content: "The applied one is filtered out",
      trigger:
        ".o_list_view:not(:has(.o_field_badge[name='state']:contains('Applied')))",
    },
    {
      content: "Open the failed event",
      trigger:
        ".o_data_row:has(.o_field_badge[name='state']:contains('Failed')) .o_data_cell[name='recipient']",
      run: "click",
    },
    {
      content: "It says why it failed",
      trigger: ".o_field_widget[name='result_text']:contains('an override failed')",
    },
    {
      content: "Its data are shown as the provider sent them",
      trigger: ".o_field_widget[name='payload_text']:contains('sg-tour-0')",
    },
    {
      content: "Apply it again",
      trigger: ".o_form_statusbar button[name='action_apply_again']",
      run: "click",
    },
    {
      content: "It is applied now",
      trigger: ".o_statusbar_status button[aria-checked='true']:contains('Applied')",
    },
    {
      content: "and links the mail it was about",
      trigger: ".o_field_widget[name='mail_message_id']:contains('Quotation thread')",
    },
  ],
});
