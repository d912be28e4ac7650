import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BaseInlineFormSet, inlineformset_factory
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from competitions.formatting import format_money

from .models import Application, PlannedActivity
from .services import MONEY_LIMIT, ActivityData, ApplicationDetails
from .uploads import ACCEPTED, MAX_DOCUMENT_BYTES, check_document

# Digits with spaces between groups of three, or plain digits; then a comma or a dot and at
# most two decimals: 1500, 1500,50, 1 500,50, 1500.50. Spaces include the no-break kinds
# that office programs put into copied numbers.
AMOUNT = re.compile(r"^(?:\d{1,3}(?: \d{3})+|\d+)(?:[.,]\d{1,2})?$", re.ASCII)
SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})


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
            return format_money(value, unit="")
        return value


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class ApplicationForm(forms.ModelForm):
    """The general part. A draft may leave it incomplete; submission names what is missing."""

    class Meta:
        model = Application
        fields = [
            "contact_name",
            "contact_email",
            "contact_phone",
            "goals",
            "target_groups",
            "summary",
        ]
        widgets = {
            "goals": forms.Textarea(attrs={"rows": 3}),
            "target_groups": forms.Textarea(attrs={"rows": 2}),
            "summary": forms.Textarea(attrs={"rows": 4}),
        }

    def details(self) -> ApplicationDetails:
        return ApplicationDetails(**{field: self.cleaned_data[field] for field in self.Meta.fields})


class ActivityForm(forms.ModelForm):
    cost = MoneyField(label=_("Cost (EUR)"))

    class Meta:
        model = PlannedActivity
        fields = [
            "category",
            "title",
            "description",
            "starts_on",
            "ends_on",
            "target_group",
            "expected_result",
            "cost",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "expected_result": forms.Textarea(attrs={"rows": 2}),
            "starts_on": DateInput(),
            "ends_on": DateInput(),
        }

    def __init__(self, *args, categories=None, category_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        if categories is not None:
            self.fields["category"].queryset = categories
        if category_choices is not None:
            # Read once by the formset: otherwise every row's select queries the categories.
            self.fields["category"].choices = category_choices
        self.fields["cost"].widget.attrs["data-cost"] = "1"

    def clean(self):
        cleaned = super().clean()
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error(
                "ends_on",
                ValidationError(
                    _("An activity cannot end before it starts."), code="ends_before_start"
                ),
            )
        return cleaned

    def _post_clean(self):
        # The service validates and saves the activity; the formset only reads the input.
        pass


class BaseActivityFormSet(BaseInlineFormSet):
    def __init__(self, *args, categories=None, **kwargs):
        self.categories = categories
        self.category_choices = None
        if categories is not None:
            self.category_choices = [("", "---------")] + [(c.pk, c.name) for c in categories]
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {
            **super().get_form_kwargs(index),
            "categories": self.categories,
            "category_choices": self.category_choices,
        }

    @property
    def empty_form(self):
        form = self.form(
            auto_id=self.auto_id,
            prefix=self.add_prefix("__prefix__"),
            empty_permitted=True,
            use_required_attribute=False,
            categories=self.categories,
            category_choices=self.category_choices,
        )
        self.add_fields(form, None)
        return form

    def add_non_form_error(self, error: ValidationError) -> None:
        """A refusal about the activities as a whole, shown above them: ``add_error(None, ...)``
        of a form, for the formset."""
        self.non_form_errors().extend(error.error_list)

    def activities(self) -> list[ActivityData]:
        """The rows to keep, in the order shown, as the service takes them."""
        rows = []
        for form in self.forms:
            if not form.has_changed() and form.instance.pk is None:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            data = form.cleaned_data
            rows.append(
                ActivityData(
                    id=form.instance.pk,
                    category_id=data["category"].pk,
                    title=data["title"],
                    description=data["description"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                    target_group=data["target_group"],
                    expected_result=data["expected_result"],
                    cost=data["cost"],
                )
            )
        return rows


ActivityFormSet = inlineformset_factory(
    Application,
    PlannedActivity,
    form=ActivityForm,
    formset=BaseActivityFormSet,
    extra=0,
    can_delete=True,
)


def shown_data(*forms) -> dict:
    """What a browser would post for these unbound forms as they are shown: each field's
    value as rendered (for a formset, pass its management form and its forms).

    Forms bound to it show the same page and can take errors on their fields; Django marks a
    field invalid (``aria-invalid``) only on a bound form.
    """
    return {field.html_name: field.value() for form in forms for field in form}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class DocumentsField(forms.FileField):
    """Several files at once; each is checked by its content before anything is saved."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(
                attrs={"accept": ",".join(ext for exts, _type in ACCEPTED.values() for ext in exts)}
            ),
        )
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        errors, cleaned = [], []
        for file in files:
            try:
                check_document(file)
                cleaned.append(super().clean(file, initial))
            except ValidationError as error:
                errors.extend(error.error_list)
        if errors:
            raise ValidationError(errors)
        return cleaned


class DocumentsForm(forms.Form):
    new_documents = DocumentsField(
        label=_("Attach documents"),
        help_text=format_lazy(
            _("PDF, DOCX, XLSX, ODT, JPG or PNG, at most {max} MB each."),
            max=MAX_DOCUMENT_BYTES // 1024 // 1024,
        ),
    )
    remove_documents = forms.TypedMultipleChoiceField(
        label=_("Remove"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, documents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["remove_documents"].choices = [(d.pk, d.original_name) for d in documents]
