"""Forms and form fields of the competitions app, and the money field every app shares."""

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BoundField
from django.forms.renderers import Jinja2
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from markupsafe import Markup, escape

from .formatting import MONEY_LIMIT, format_money
from .models import Municipality
from .rules import staff_problems

# Digits with spaces between groups of three, or plain digits; then a comma or a dot and at
# most two decimals: 1500, 1500,50, 1 500,50, 1500.50. Spaces include the no-break kinds
# that office programs put into copied numbers.
AMOUNT = re.compile(r"^(?:\d{1,3}(?: \d{3})+|\d+)(?:[.,]\d{1,2})?$", re.ASCII)
SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})


#: Django's widget templates that write one ``<input>``.
INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in ("input", "text", "email", "url", "number", "date", "hidden", "checkbox")
)


def _attributes(values: dict) -> str:
    """The attributes as Django's ``attrs.html`` writes them: ``True`` as the name alone,
    ``False`` left out."""
    return "".join(
        f" {name}" if value is True else f' {name}="{escape(value)}"'
        for name, value in values.items()
        if value is not False
    )


def control(field: BoundField, css: str | None = None) -> str:
    """``field``'s control, as ``field.as_widget(attrs={"class": css})`` renders it with
    Django's Jinja2 widget templates, the same HTML written without them: each of those is a
    template render of its own, with an include for the attributes and one for each option,
    and the application form's activities repeat them dozens of times. Widgets of other
    templates (and selects with groups) are rendered by Django. ``tests/test_form_controls.py``
    checks every control of the application form against Django's."""
    widget = field.field.widget
    attrs = field.build_widget_attrs({"class": css} if css else {}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    context = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    template, name = context["template_name"], escape(context["name"])
    attributes = _attributes(context["attrs"])
    if template in INPUT_TEMPLATES:
        value = context["value"]
        shown = "" if value is None else f' value="{escape(value)}"'
        html = f'<input type="{escape(context["type"])}" name="{name}"{shown}{attributes}>'
    elif template == "django/forms/widgets/textarea.html":
        value = escape(context["value"]) if context["value"] else ""
        html = f'<textarea name="{name}"{attributes}>\n{value}</textarea>'
    elif template == "django/forms/widgets/select.html" and not any(
        group for group, _options, _index in context["optgroups"]
    ):
        options = "".join(
            f'\n  <option value="{escape(option["value"])}"{_attributes(option["attrs"])}>'
            f"{escape(option['label'])}</option>"
            for _group, group_options, _index in context["optgroups"]
            for option in group_options
        )
        html = f'<select name="{name}"{attributes}>{options}\n</select>'
    else:
        return field.as_widget(attrs={"class": css} if css else None)
    # Every value written into ``html`` above is escaped (``escape`` here and in _attributes).
    return Markup(html)  # noqa: S704


class BootstrapFieldRenderer(Jinja2):
    """Django's Jinja2 form renderer, with the portal's Bootstrap 5 markup.

    For the forms whose fields a page repeats many times (the application's activities):
    there, rendering each field through crispy-forms' templates and Django's widget templates
    took most of the edit page's time. One Jinja2 field group
    (``competitions/jinja2/forms/bootstrap_field.html``, crispy's bootstrap5 field) around
    ``control`` (the markup of Django's own widget templates) writes the same HTML in a
    fraction of it. A template shows such a field with ``{{ form.<name>.as_field_group }}``;
    a formset's own Jinja2 template includes the field group for each of its fields.
    """

    field_template_name = "forms/bootstrap_field.html"

    @cached_property
    def engine(self):
        engine = super().engine
        engine.env.globals["control"] = control
        return engine


#: One renderer for every form that uses it: it holds the compiled templates.
BOOTSTRAP_FIELDS = BootstrapFieldRenderer()


class MoneyField(forms.CharField):
    """An amount in euros as people write it in Latvian (``1 500,50``), as a Decimal."""

    default_error_messages = {
        "invalid": _("Enter an amount in euros, for example 1500 or 1 500,50."),
        "negative": _("The amount must be more than zero."),
        "too_large": _("The amount is too large."),
    }

    def __init__(self, *, min_value=Decimal("0.01"), **kwargs):
        self.min_value = min_value
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
        )
        super().__init__(**kwargs)
        if min_value <= 0:
            # Zero is a real answer here (an award taken back), so only below zero is wrong.
            self.error_messages["negative"] = _("The amount cannot be negative.")

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        text = value.translate(SPACES).strip()
        text = re.sub(r" +", " ", text)
        if text.startswith("-") and text != "-":
            raise ValidationError(self.error_messages["negative"], code="negative")
        if text.endswith(("€", "EUR")):
            text = text.removesuffix("EUR").removesuffix("€").strip()
        if not AMOUNT.match(text):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            amount = Decimal(text.replace(" ", "").replace(",", "."))
        except InvalidOperation:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        if amount < self.min_value:
            raise ValidationError(self.error_messages["negative"], code="negative")
        if amount > MONEY_LIMIT:
            raise ValidationError(self.error_messages["too_large"], code="too_large")
        return amount.quantize(Decimal("0.01"))

    def prepare_value(self, value):
        if isinstance(value, Decimal):
            # The field reads amounts written the Latvian way, so it shows them so in any language.
            return format_money(value, unit="", language="lv")
        return value


class MunicipalityForm(forms.ModelForm):
    """A municipality with its staff and signatories, checked by the rule the service applies
    (``rules.staff_problems``); the admin saves the two lists through the service."""

    class Meta:
        model = Municipality
        fields = ["name", "slug", "staff", "signatories"]

    FIELD_OF = {"authority_as_staff": "staff", "signatory_not_staff": "signatories"}

    def clean(self):
        cleaned = super().clean()
        problems = staff_problems(
            staff=list(cleaned.get("staff") or []),
            signatories=list(cleaned.get("signatories") or []),
        )
        for problem in problems:
            self.add_error(self.FIELD_OF[problem.code], problem)
        return cleaned
