"""The municipality's forms after the decision: the plan's lines, the award declined, the
agreement accepted or uploaded signed.

Forms check the format of what was typed; the services decide (money rule 4, the categories of
the call, the lines' keys) and their refusals come back into the form.
"""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BaseFormSet, formset_factory
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from applications.uploads import ACCEPTED_NAMES, MAX_DOCUMENT_BYTES
from competitions.forms import MoneyField
from competitions.models import ActivityCategory

from .models import PaymentKind, PlanLine, PlanVersion
from .services import PlanLineData
from .settlement import ReportLineData
from .signatures import SIGNED_KIND_NAMES

LINES_PREFIX = "lines"


class PlanLineForm(forms.Form):
    """One line of the plan. ``key`` carries the line from version to version, so that the
    comparison tells a changed line from a new one; a new line has none."""

    key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=32)
    category = forms.ChoiceField(label=_("Category"))
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    cost = MoneyField(label=_("Cost (EUR)"))

    def __init__(self, *args, categories: dict[str, ActivityCategory], choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.categories = categories
        self.fields["category"].choices = choices
        self.fields["cost"].widget.attrs["data-cost"] = "1"

    def clean_category(self) -> ActivityCategory:
        return self.categories[self.cleaned_data["category"]]


class BasePlanLineFormSet(BaseFormSet):
    def __init__(self, *args, categories=(), **kwargs):
        # Read once here, so that a row's select does not query the categories again.
        self.categories = {str(category.pk): category for category in categories}
        self.choices = [("", "---------")] + [
            (pk, category.name) for pk, category in self.categories.items()
        ]
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {
            **super().get_form_kwargs(index),
            "categories": self.categories,
            "choices": self.choices,
        }

    def add_non_form_error(self, error: ValidationError) -> None:
        """A refusal about the plan as a whole (a service's), shown above the lines."""
        self.non_form_errors().extend(error.error_list)

    def lines(self) -> list[PlanLineData]:
        """The lines to keep, in the order shown, as the service takes them. A row added and
        left empty is not a line."""
        kept = []
        for form in self.forms:
            if form.empty_permitted and not form.has_changed():
                continue
            if self._should_delete_form(form):
                continue
            data = form.cleaned_data
            kept.append(
                PlanLineData(
                    key=data["key"],
                    category=data["category"],
                    title=data["title"],
                    description=data["description"],
                    cost=data["cost"],
                )
            )
        return kept


PlanLineFormSet = formset_factory(
    PlanLineForm, formset=BasePlanLineFormSet, extra=0, can_delete=True
)


def plan_formset(
    version: PlanVersion, categories, data=None, *, add_row: bool = False
) -> BasePlanLineFormSet:
    """The plan's lines as a formset: bound to what was posted, or showing ``version``'s."""
    if data is not None:
        return PlanLineFormSet(data, categories=categories, prefix=LINES_PREFIX)
    lines: list[PlanLine] = list(version.lines.order_by("position", "id"))
    formset = PlanLineFormSet(
        initial=[
            {
                "key": line.key,
                "category": str(line.category_id),
                "title": line.title,
                "description": line.description,
                "cost": line.cost,
            }
            for line in lines
        ],
        categories=categories,
        prefix=LINES_PREFIX,
    )
    if add_row or not lines:
        formset.extra = 1
    return formset


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Why does the municipality decline the award?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class ReturnForm(forms.Form):
    """The coordinator's comment on a plan returned for revision."""

    comment = forms.CharField(
        label=_("What should the municipality change?"),
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        max_length=4000,
    )


class AcceptAgreementForm(forms.Form):
    """The confirmation: it carries back the SHA-256 of the document the page showed, so that
    a document changed in between is not accepted unseen."""

    sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)


class SignedAgreementForm(forms.Form):
    file = forms.FileField(label=_("Signed agreement"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = gettext(
            "%(kinds)s, at most %(size)s MB: the agreement's PDF signed with a secure electronic "
            "signature, in an .edoc or .asice container or as a signed PDF."
        ) % {"kinds": SIGNED_KIND_NAMES, "size": MAX_DOCUMENT_BYTES // 1024 // 1024}


# --- reports --------------------------------------------------------------------------------


class ReportLineForm(forms.Form):
    """What was done and spent on one line of the approved plan, with the call's indicators."""

    done = forms.CharField(
        label=_("What was done"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    actual_cost = MoneyField(label=_("Actual cost (EUR)"), min_value=Decimal("0"), required=False)
    people_reached = forms.IntegerField(label=_("People reached"), min_value=0, required=False)
    events_held = forms.IntegerField(label=_("Events held"), min_value=0, required=False)
    materials_produced = forms.IntegerField(
        label=_("Materials produced"), min_value=0, required=False
    )

    def __init__(self, *args, plan_line: PlanLine, **kwargs):
        super().__init__(*args, prefix=f"line-{plan_line.pk}", **kwargs)
        self.plan_line = plan_line

    def line(self) -> ReportLineData:
        data = self.cleaned_data
        return ReportLineData(
            plan_line=self.plan_line,
            done=data["done"],
            actual_cost=data["actual_cost"] or Decimal("0.00"),
            people_reached=data["people_reached"] or 0,
            events_held=data["events_held"] or 0,
            materials_produced=data["materials_produced"] or 0,
        )


def report_line_forms(plan_lines, report=None, data=None) -> list[ReportLineForm]:
    """A form per line of the approved plan: bound to what was posted, or showing the lines
    of ``report`` (the draft, or the returned version the next draft starts from)."""
    if data is not None:
        return [ReportLineForm(data, plan_line=line) for line in plan_lines]
    saved = {line.plan_line_id: line for line in report.lines.all()} if report else {}
    forms_ = []
    for plan_line in plan_lines:
        line = saved.get(plan_line.pk)
        initial = (
            {
                "done": line.done,
                "actual_cost": line.actual_cost,
                "people_reached": line.people_reached,
                "events_held": line.events_held,
                "materials_produced": line.materials_produced,
            }
            if line
            else {}
        )
        form = ReportLineForm(initial=initial, plan_line=plan_line)
        form.saved = line
        forms_.append(form)
    return forms_


class ReportForm(forms.Form):
    summary = forms.CharField(
        label=_("Summary of what was done"),
        required=False,
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    document = forms.FileField(label=_("Evidence document"), required=False)
    document_description = forms.CharField(
        label=_("What the document shows"), required=False, max_length=200
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document"].help_text = gettext(
            "%(kinds)s, at most %(size)s MB: invoices, photos, published materials."
        ) % {"kinds": ACCEPTED_NAMES, "size": MAX_DOCUMENT_BYTES // 1024 // 1024}


# --- the coordinator's forms ---------------------------------------------------------------


#: The browser's date picker, which reads and sends ISO dates whatever the page's language.
DATE_INPUT = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class PaymentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=PaymentKind.choices)
    amount = MoneyField(label=_("Amount (EUR)"))
    paid_on = forms.DateField(label=_("Date"), widget=DATE_INPUT)
    reference = forms.CharField(label=_("Payment order"), max_length=100)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 60})
    )


class ReversalForm(forms.Form):
    paid_on = forms.DateField(label=_("Date"), widget=DATE_INPUT)
    reference = forms.CharField(label=_("Correcting document"), max_length=100)
    note = forms.CharField(
        label=_("Why is the payment reversed?"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
    )
