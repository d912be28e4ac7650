"""The thread's forms: a message (with a request's due date in the admin, an answer on the
portal), an objection, and an objection's outcome."""

from django import forms
from django.utils.formats import date_format
from django.utils.text import Truncator, format_lazy
from django.utils.translation import gettext_lazy as _

from applications.forms import DateInput, DocumentsField
from applications.uploads import MAX_DOCUMENT_BYTES
from competitions.forms import MoneyField

from .models import Outcome

FILES_HINT = format_lazy(
    _("PDF, DOCX, XLSX, ODT, JPG or PNG, at most {max} MB each."),
    max=MAX_DOCUMENT_BYTES // 1024 // 1024,
)


class MessageForm(forms.Form):
    """The municipality's message, or its answer to one of the open requests."""

    answer_to = forms.TypedChoiceField(
        label=_("This message answers"), required=False, coerce=int, empty_value=None
    )
    body = forms.CharField(
        label=_("Message"), widget=forms.Textarea(attrs={"rows": 5}), max_length=10000
    )
    files = DocumentsField(label=_("Attach documents"), help_text=FILES_HINT)

    def __init__(self, *args, open_requests=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["answer_to"].choices = [("", _("— no request (a new message) —"))] + [
            (
                request.pk,
                _("the request due %(due)s: %(text)s")
                % {
                    "due": date_format(request.due_on, "SHORT_DATE_FORMAT"),
                    "text": Truncator(request.body).chars(60),
                },
            )
            for request in open_requests
        ]
        if not open_requests:
            del self.fields["answer_to"]


class AuthorityMessageForm(forms.Form):
    """A coordinator's or reviewer's message; a coordinator may make it a request with a due
    date."""

    body = forms.CharField(
        label=_("Message"), widget=forms.Textarea(attrs={"rows": 5}), max_length=10000
    )
    files = DocumentsField(label=_("Attach documents"), help_text=FILES_HINT)
    is_request = forms.BooleanField(
        label=_("A request for clarification: the municipality must answer"), required=False
    )
    due_on = forms.DateField(label=_("Answer due on"), required=False, widget=DateInput())

    def __init__(self, *args, may_request: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_request:
            del self.fields["is_request"]
            del self.fields["due_on"]

    def clean(self):
        data = super().clean()
        if data.get("is_request") and not data.get("due_on"):
            self.add_error("due_on", _("A request needs the date by which it is to be answered."))
        if not data.get("is_request"):
            data["due_on"] = None
        return data


class ObjectionForm(forms.Form):
    reasons = forms.CharField(
        label=_("Reasons for the objection"),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=20000,
    )
    files = DocumentsField(label=_("Supporting documents"), help_text=FILES_HINT)


class ObjectionDecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=Outcome.choices, widget=forms.RadioSelect
    )
    reply = forms.CharField(
        label=_("Reasons for the outcome"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=20000,
    )
    document = DocumentsField(
        label=_("Reasoned reply document"), required=True, help_text=FILES_HINT
    )
    amount = MoneyField(
        label=_("New awarded amount"),
        required=False,
        help_text=_(
            "Only when the objection is upheld and the award changes; it goes through the same "
            "rules as any allocation (the request, the cap, the pool)."
        ),
    )

    def clean_document(self):
        files = self.cleaned_data["document"]
        if len(files) != 1:
            raise forms.ValidationError(_("Attach one reply document."), code="one_document")
        return files[0]
