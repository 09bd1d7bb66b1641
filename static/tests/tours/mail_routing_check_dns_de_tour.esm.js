/* Copyright 2026 mail_routing_policy developers
 * License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */
import {registry} from "@web/core/registry";

// The tour mail_routing_policy_check_dns for an administrator who reads Odoo in
// German: the same path, in the words of i18n/de.po.
registry.category("web_tour.tours").add("mail_routing_policy_check_dns_de", {
  url: "/odoo/settings",
  checkDelay: 100,
  steps: () => [
    {
      content: "DNS prüfen",
      trigger: "button[name='action_check_dns']:contains('DNS prüfen')",
      run: "click",
    },
    {
      content: "Nach Domain gruppiert, aufgeklappt",
      trigger: ".o_group_header:contains('tour.test')",
    },
    {
      content: "Die SPF-Zeile sagt es als Abzeichen",
      trigger: ".o_data_row:contains('SPF') .badge:contains('Nicht bestanden')",
    },
    {
      content: "in Worten",
      trigger: ".o_data_row:contains('SPF') [name='text']:contains('SPF-Eintrag')",
    },
    {
      content: "mit dem zu veröffentlichenden Eintrag",
      trigger:
        ".o_data_row:contains('SPF') [name='record_to_publish']:contains('v=spf1 ip4:127.0.0.5 ~all')",
    },
    {
      content: "mit einer Schaltfläche zum Kopieren in der Liste",
      trigger:
        ".o_data_row:contains('SPF') [name='record_to_publish'] .o_clipboard_button",
    },
    {
      content: "Die DKIM-Zeile sagt, wo der Selektor der Alias-Domain einzutragen ist",
      trigger:
        ".o_data_row:contains('DKIM') [name='text']:contains('Für die Alias-Domain tour.test ist kein DKIM-Selektor angegeben')",
    },
    {
      content:
        "Die TLS-Zeile sagt, dass keine Verbindung möglich war, nicht „verschlüsselt“",
      trigger:
        ".o_data_row:contains('TLS') [name='text']:contains('Nicht prüfbar: keine Verbindung zu smtp.tour.test:')",
    },
    {
      content: "Zurück zu den Einstellungen",
      trigger: ".o_back_button, .breadcrumb-item a",
      run: "click",
    },
    {
      content: "Absender prüfen",
      trigger: "button[name='action_open_mail_sender_check']",
      run: "click",
    },
    {
      content: "Ein Absender der Unternehmensdomain",
      trigger: ".modal .o_field_widget[name='email_from'] input",
      run: "edit ann@tour.test && press Tab",
    },
    {
      content: "DNS für diesen Absender prüfen",
      trigger: ".modal button[name='action_check_dns']:contains('DNS prüfen')",
      run: "click",
    },
    {
      content: "Die DMARC-Zeile sagt, was Gmail täte",
      trigger:
        ".modal .o_field_widget[name='dmarc']:contains('Gmail würde diese E-Mail abweisen, sofern sie keine DKIM-Signatur von tour.test trägt')",
    },
    {
      content: "Ein fehlender Selektor ist kein gescheitertes DKIM",
      trigger:
        ".modal .o_field_widget[name='dmarc']:contains('DKIM nicht geprüft: Für tour.test ist kein Selektor eingetragen'):not(:contains('Warnung'))",
    },
    {
      content: "DMARC-konform: nicht angekreuzt, sondern „Nicht prüfbar“",
      trigger: ".modal .o_field_widget[name='dmarc_state']:contains('Nicht prüfbar')",
    },
  ],
});
