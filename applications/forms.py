from django import forms
from django.core.exceptions import ValidationError
from django.forms import BaseInlineFormSet, inlineformset_factory
from django.utils.text import capfirst, format_lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from competitions.forms import BOOTSTRAP_FIELDS, MoneyField

from .models import ACTIVITY_DETAIL_FIELDS, Application, PlannedActivity
from .services import (
    ACTIVITY_REQUIRED_TO_SUBMIT,
    NEEDED_TO_SAVE,
    REQUIRED_TO_SUBMIT,
    ActivityData,
    ApplicationDetails,
)
from .uploads import ACCEPTED, MAX_DOCUMENT_BYTES, check_document

DATES = {"starts_on", "ends_on"}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def mark_required_to_submit(fields, names) -> None:
    """Mark the fields a submission needs, though a draft may leave them empty, as the form
    marks the fields it requires itself (crispy's "*"). Done once on the form class's
    ``base_fields``: each form copies them with the labels already marked."""
    for name in names:
        field = fields[name]
        if not field.required:
            field.label = format_lazy("{}*", field.label)


class ApplicationForm(forms.ModelForm):
    """The general part. A draft may leave it incomplete; submission names what is missing."""

    default_renderer = BOOTSTRAP_FIELDS

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
        """What to save: each valid field as typed; a field in error keeps its saved value
        (the page shows what was typed, with the error beside it)."""
        cleaned = getattr(self, "cleaned_data", {})
        return ApplicationDetails(
            **{field: cleaned[field] for field in self.Meta.fields if field in cleaned},
            keep=frozenset(field for field in self.Meta.fields if field not in cleaned),
        )

    def _post_clean(self):
        # The service saves the draft; the form only reads the input, each field checked by its
        # form field. The application's own rules (its constraints) concern its status, amounts
        # and scores, which this form does not touch.
        pass


mark_required_to_submit(ApplicationForm.base_fields, REQUIRED_TO_SUBMIT)


class ReadChoiceField(forms.ModelChoiceField):
    """A choice of a row the page has already read (``rows``, by the text of their id): taken
    from there rather than with a query of its own, as a formset would for each of its forms.
    Any other id is looked up as ``ModelChoiceField`` does, and refused the same way."""

    def __init__(self, *args, rows: dict[str, object] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows or {}

    def to_python(self, value):
        if isinstance(value, str) and value in self.rows:
            return self.rows[value]
        return super().to_python(value)


class ActivityForm(forms.ModelForm):
    default_renderer = BOOTSTRAP_FIELDS
    # data-cost: the page's script adds the rows' costs up as they are typed.
    cost = MoneyField(
        label=_("Cost (EUR)"),
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "autocomplete": "off", "data-cost": "1"}
        ),
    )

    # One of the call's categories by its id, from the choices the formset read once for all
    # its rows (a model choice would copy and filter its queryset for each row); the service
    # checks it against the call's categories again, under the draft's lock.
    category = forms.TypedChoiceField(
        label=capfirst(PlannedActivity._meta.get_field("category").verbose_name),
        coerce=int,
        empty_value=None,
    )

    class Meta:
        model = PlannedActivity
        fields = ["category", *ACTIVITY_DETAIL_FIELDS, "cost"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "expected_result": forms.Textarea(attrs={"rows": 2}),
            "starts_on": DateInput(),
            "ends_on": DateInput(),
        }

    def __init__(self, *args, category_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices

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
            # The dates go together: neither is saved while the pair is reversed.
            cleaned.pop("starts_on", None)
        return cleaned

    def activity_data(self) -> ActivityData | None:
        """The row as the service saves it: each valid field as typed, each field in error
        kept as saved. None for a new row that lacks what any activity needs (its category,
        title and cost): it is not saved, and the page shows it as typed."""
        cleaned = getattr(self, "cleaned_data", {})
        fields = {"category_id": "category", **{f: f for f in ACTIVITY_DETAIL_FIELDS}}
        keep = {name for name, field in {**fields, "cost": "cost"}.items() if field not in cleaned}
        if keep & DATES:
            keep |= DATES  # a date saved beside the other one as saved could reverse the pair
        # A row saved before, shown again with its id (a new row saved by a partial save
        # carries the id it was given, so that saving again does not add it twice).
        existing = cleaned.get("id") or self.instance
        pk = existing.pk if existing is not None else None
        if pk is None and keep & NEEDED_TO_SAVE:
            return None
        return ActivityData(
            id=pk,
            category_id=cleaned.get("category"),
            **{field: cleaned.get(field) for field in ACTIVITY_DETAIL_FIELDS},
            cost=cleaned.get("cost"),
            keep=frozenset(keep),
        )

    def _post_clean(self):
        # The service validates and saves the activity; the formset only reads the input.
        pass

    def has_changed(self):
        # Whether a row was typed in matters only for a new one (an empty new row is left
        # out). A saved activity is always read, as changed: the service compares it with its
        # row field by field. The formset asks every form, and comparing here parsed each
        # field a second time.
        return self.instance.pk is not None or super().has_changed()


#: The rendered empty rows of ``BaseActivityFormSet.empty_row``, at most this many in a process.
EMPTY_ROWS_KEPT = 256
_EMPTY_ROWS: dict[tuple, str] = {}


class BaseActivityFormSet(BaseInlineFormSet):
    # The formset (its factory is given the renderer), its forms and its errors render with
    # Jinja2; ``{{ formset }}`` writes the activities' cards.
    template_name = "applications/activities.html"

    def __init__(self, *args, categories=(), activities=None, **kwargs):
        # The call's categories, read once for every row's choice.
        self.category_choices = [("", "---------"), *((c.pk, c.name) for c in categories)]
        # The draft's activities where the caller has read them (``services.DraftForEditing``),
        # in their order: the rows, instead of reading the queryset.
        self._activities = activities
        self._read_rows = None
        super().__init__(*args, **kwargs)

    def get_queryset(self):
        if self._activities is not None:
            return self._activities
        return super().get_queryset()

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "category_choices": self.category_choices}

    def add_fields(self, form, index):
        super().add_fields(form, index)
        # Each row's id is one of the activities the formset has read: found there, not
        # queried once a row (an id of another application is still looked up, and refused
        # by the service).
        if self._read_rows is None:
            self._read_rows = {str(activity.pk): activity for activity in self.get_queryset()}
        field = form.fields[self._pk_field.name]
        form.fields[self._pk_field.name] = ReadChoiceField(
            field.queryset,
            rows=self._read_rows,
            initial=field.initial,
            required=False,
            widget=field.widget,
        )

    @property
    def empty_form(self):
        form = self.form(
            auto_id=self.auto_id,
            prefix=self.add_prefix("__prefix__"),
            empty_permitted=True,
            use_required_attribute=False,
            category_choices=self.category_choices,
        )
        self.add_fields(form, None)
        return form

    def get_context(self):
        return self._rows_context([(form, number) for number, form in enumerate(self, 1)])

    def _rows_context(self, rows) -> dict:
        # The texts and the fields' labels in the page's language, translated once for all
        # the rows rather than once for each of them.
        return {
            "rows": rows,
            # The rows' hidden field of the draft's id, which the cards leave out.
            "draft_field": self.fk.name,
            "text": {"activity": str(_("Activity")), "remove": str(_("Remove this activity"))},
            "labels": {name: str(field.label) for name, field in self.form.base_fields.items()},
        }

    def empty_row(self) -> str:
        """The empty form's card, with no number: the row the page's script copies for a new
        activity. It is the same for every draft of a call in a language (it holds no draft's
        id: the cards leave the formset's foreign key out), so each process renders it once
        for its prefix, language and categories (their ids and names)."""
        key = (self.prefix, get_language(), tuple(self.category_choices))
        html = _EMPTY_ROWS.get(key)
        if html is None:
            html = self.render(context=self._rows_context([(self.empty_form, "")]))
            if len(_EMPTY_ROWS) >= EMPTY_ROWS_KEPT:
                _EMPTY_ROWS.clear()
            _EMPTY_ROWS[key] = html
        return html

    def add_non_form_error(self, error: ValidationError) -> None:
        """A refusal about the activities as a whole, shown above them: ``add_error(None, ...)``
        of a form, for the formset."""
        self.non_form_errors().extend(error.error_list)

    def activities(self) -> list[tuple[int, ActivityData]] | None:
        """The rows to keep, in the order shown, as the service takes them, each with its
        form's index; a new row that cannot be saved yet is left out (the page shows it as
        typed). None when the formset itself cannot be read: its rows are then not known,
        and none may be deleted for it."""
        if not self.management_form.is_valid():
            return None
        rows = []
        for index, form in enumerate(self.forms):
            if form.instance.pk is None and not form.has_changed():
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            if (data := form.activity_data()) is not None:
                rows.append((index, data))
        return rows


ActivityFormSet = inlineformset_factory(
    Application,
    PlannedActivity,
    form=ActivityForm,
    formset=BaseActivityFormSet,
    extra=0,
    can_delete=True,
    renderer=BOOTSTRAP_FIELDS,
)
# On the factory's form class, whose fields are its own: those of ActivityForm are not used.
mark_required_to_submit(ActivityFormSet.form.base_fields, ACTIVITY_REQUIRED_TO_SUBMIT)


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
        # Read when a document to remove is checked or the form is shown: a save that removes
        # none does not read them (``documents`` may be a queryset not yet read).
        self.fields["remove_documents"].choices = lambda: [
            (d.pk, d.original_name) for d in documents
        ]
