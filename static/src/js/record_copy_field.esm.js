/* Copyright 2026 mail_routing_policy developers
 * License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */
import {Component, xml} from "@odoo/owl";
import {CopyButton} from "@web/core/copy_button/copy_button";
import {_t} from "@web/core/l10n/translation";
import {registry} from "@web/core/registry";
import {standardFieldProps} from "@web/views/fields/standard_field_props";

/**
 * A DNS record to publish, whole: wrapped in its column (never cut) and with
 * a copy button, in the list as in the form (core's CopyClipboardChar cuts the
 * text to one line).
 */
export class RecordCopyField extends Component {
  static template = xml`
    <div class="d-flex align-items-start gap-1 o_mail_routing_record_copy" t-if="value">
      <code class="flex-grow-1 text-break text-wrap text-body" style="white-space: pre-wrap" t-esc="value"/>
      <CopyButton className="'btn-sm btn-secondary o_clipboard_button'" content="value" icon="'fa-clone'" successText="successText"/>
    </div>`;
  static components = {CopyButton};
  static props = {...standardFieldProps};

  setup() {
    this.successText = _t("Copied");
  }

  get value() {
    return this.props.record.data[this.props.name] || "";
  }
}

registry.category("fields").add("mail_routing_record_copy", {
  component: RecordCopyField,
  supportedTypes: ["char", "text"],
});
