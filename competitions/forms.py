"""Forms of the competitions app's admin."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Municipality


class MunicipalityForm(forms.ModelForm):
    class Meta:
        model = Municipality
        fields = ["name", "slug", "staff", "signatories"]

    def clean(self):
        cleaned = super().clean()
        staff = set(cleaned.get("staff") or [])
        outsiders = [user for user in cleaned.get("signatories") or [] if user not in staff]
        if outsiders:
            self.add_error(
                "signatories",
                ValidationError(
                    _("Only the municipality's staff can sign for it; not staff: %(users)s."),
                    code="signatory_not_staff",
                    params={"users": ", ".join(user.get_username() for user in outsiders)},
                ),
            )
        return cleaned
