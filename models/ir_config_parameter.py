# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api, models
from odoo.exceptions import ValidationError

from ..tools import address_filter, mail_dns, routing_params
from ..tools.incoming import auth_policy
from ..tools.outgoing import sender_policy


class IrConfigParameter(models.Model):
    _inherit = "ir.config_parameter"

    @api.model
    def _normalize_routing_param(self, key, value):
        """Validate and normalise the values of the parameters this module reads.

        Raises ValidationError naming the parameter and the bad part, so that
        a typo is refused at save instead of silently changing routing.
        """
        if value in (False, None, ""):
            return value
        param = routing_params.PARAMS.get(key)
        if param is None:
            return value
        text = str(value).strip()
        try:
            return getattr(self, f"_normalize_routing_{param.kind}")(param, text)
        except ValueError as exc:
            reason = (
                exc.describe(self.env)
                if isinstance(exc, address_filter.InputError)
                else str(exc)
            )
            raise ValidationError(
                self.env._(
                    "%(field)s: invalid value '%(value)s': %(reason)s.",
                    field=self._routing_param_label(key),
                    value=text,
                    reason=reason,
                )
            ) from exc

    # one method a kind (tools/routing_params.KINDS): the normalised text, or
    # a ValueError saying what is wrong

    @api.model
    def _normalize_routing_filter(self, param, text):
        label = self._routing_param_label(param.key)
        return (
            self.env["ir.mail_server"]._normalize_from_filter_value(text, label=label)
            or ""
        )

    @api.model
    def _normalize_routing_default_from(self, param, text):
        sender_policy.validate_default_from(text)
        return text

    @api.model
    def _normalize_routing_display(self, param, text):
        sender_policy.validate_display_format(text)
        return text

    @api.model
    def _normalize_routing_integer(self, param, text):
        try:
            number = int(text)
        except ValueError:
            raise ValueError(self.env._("a whole number is expected")) from None
        if number < param.minimum:
            raise ValueError(
                self.env._("the smallest allowed value is %s", param.minimum)
            )
        return str(number)

    @api.model
    def _normalize_routing_choice(self, param, text):
        if text not in param.choices:
            raise ValueError(self.env._("use one of: %s", ", ".join(param.choices)))
        return text

    @api.model
    def _normalize_routing_domains(self, param, text):
        address_filter.check_domain_list(text)
        # stored in A-label form: compared with the A-labels of mail domains
        return ", ".join(
            address_filter.domain_to_ascii(item)
            for item in auth_policy.split_list(text)
        )

    @api.model
    def _normalize_routing_nameservers(self, param, text):
        return ", ".join(
            f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            for host, port in mail_dns.parse_nameservers(text)
        )

    @api.model
    def _routing_param_label(self, key):
        """The parameter as the admin sees it: "Loop threshold
        (mail.gateway.loop.threshold)"
        when a settings field shows it, else the key alone."""
        for field in self.env["res.config.settings"]._fields.values():
            if getattr(field, "config_parameter", None) == key:
                return f"{field._description_string(self.env)} ({key})"
        return key

    @api.model
    def get_param(self, key, default=False):
        # mail.thread.message_route applies the allow-list itself (wildcards,
        # IDN); core's own exact-match filtering must not run a second time.
        if key == "mail.catchall.domain.allowed" and self.env.context.get(
            "mail_routing_allowlist_applied"
        ):
            return default
        return super().get_param(key, default=default)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if "key" in vals and "value" in vals:
                vals["value"] = self._normalize_routing_param(
                    vals["key"], vals["value"]
                )
        return super().create(vals_list)

    def write(self, vals):
        if "value" in vals or "key" in vals:
            for param in self:
                key = vals.get("key", param.key)
                value = vals.get("value", param.value)
                normalized = self._normalize_routing_param(key, value)
                if normalized != value:
                    super(IrConfigParameter, param).write(dict(vals, value=normalized))
                    continue
                super(IrConfigParameter, param).write(vals)
            return True
        return super().write(vals)
