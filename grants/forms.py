"""The municipality's forms of the agreement stage; the services decide."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from applications.uploads import MAX_DOCUMENT_BYTES

from .signatures import SIGNED_KIND_NAMES


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
