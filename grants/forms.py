"""The municipality's forms after the decision: the plan's lines, the award declined, the
agreement accepted or uploaded signed.

Forms check the format of what was typed; the services decide (money rule 4, the categories of
the call, the lines' keys) and their refusals come back into the form.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BaseFormSet, formset_factory
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from applications.uploads import MAX_DOCUMENT_BYTES
from competitions.forms import MoneyField
from competitions.models import ActivityCategory

from .models import PlanLine, PlanVersion
from .services import PlanLineData
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
