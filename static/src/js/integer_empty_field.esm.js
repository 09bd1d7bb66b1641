import {IntegerField, integerField} from "@web/views/fields/integer/integer_field";
import {registry} from "@web/core/registry";

/**
 * An integer override whose 0 means "not set": shown empty, not as 0, so
 * that an admin sees the global value applies (alias loop limits).
 */
export class IntegerEmptyField extends IntegerField {
  get formattedValue() {
    return this.value ? super.formattedValue : "";
  }
}

registry.category("fields").add("mail_routing_integer_empty", {
  ...integerField,
  component: IntegerEmptyField,
});
