import {registry} from "@web/core/registry";

// An admin opens the gateway log from its action, reads why a mail was
// refused, processes it again and follows the link to the created record.
registry.category("web_tour.tours").add("mail_routing_policy_process_again", {
  checkDelay: 100,
  steps: () => [
    {
      content: "Open the refused mail",
      trigger: ".o_data_row .o_data_cell[name='subject']:contains('Tour refused')",
      run: "click",
    },
    {
      content: "Details say why, in plain words",
      trigger:
        ".o_field_widget[name='explanation']:contains('1 record from this sender in the last')",
    },
    {
      content: "Its state is a badge, not a pipeline",
      trigger: ".o_field_widget.o_field_badge[name='status']:contains('Refused')",
    },
    {
      content: "Process it again",
      trigger: ".o_form_statusbar button[name='action_confirm_process_again']",
      run: "click",
    },
    {
      content: "Before confirming, it says what processing again would do",
      trigger:
        ".modal .o_field_widget[name='preview']:contains('create a new Contact through alias')",
    },
    {
      content: "Confirm: the check that stopped it is bypassed",
      trigger: ".modal-footer button[name='action_process_again']",
      run: "click",
    },
    {
      content: "The entry says what it did",
      trigger:
        ".o_field_widget[name='result']:contains('Processed again: created Contact')",
    },
    {
      content: "the badge shows the new state",
      trigger:
        ".o_field_widget.o_field_badge[name='status']:contains('Processed again')",
    },
    {
      content: "and links the created record",
      trigger: ".o_field_widget[name='result_record']:contains('Tour refused')",
    },
    {
      content: "Back to the log",
      trigger: ".o_breadcrumb .breadcrumb-item a:contains('Gateway log')",
      run: "click",
    },
    {
      content: "Open the mail whose alias was deleted since",
      trigger: ".o_data_row .o_data_cell[name='subject']:contains('Tour gone')",
      run: "click",
    },
    {
      content: "Process it again",
      trigger: ".o_form_statusbar button[name='action_confirm_process_again']",
      run: "click",
    },
    {
      content: "The dialog says it would be refused again, and why",
      trigger:
        ".modal .alert-warning .o_field_widget[name='preview']:contains('Would be refused: no alias')",
    },
    {
      content: "It offers the fix",
      trigger:
        ".modal-footer button[name='action_open_aliases']:contains('Open aliases')",
    },
    {
      content: "Its other button says what processing again will do",
      trigger:
        ".modal-footer button[name='action_process_again']:contains('Process again: stays refused')",
      run: "click",
    },
    {
      content: "The entry says why, in plain words",
      trigger:
        ".o_field_widget[name='result']:contains('Refused again: no alias, catchall address')",
    },
    {
      content: "and its badge says refused again",
      trigger: ".o_field_widget.o_field_badge[name='status']:contains('Refused again')",
    },
  ],
});
