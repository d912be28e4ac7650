"""What the tests of the services share: reading a refusal, saving a draft."""

from decimal import Decimal

from django.core.exceptions import ValidationError

from applications import services

from ..factories import category
from ..source_case import DETAILS, activities_costing


def codes(error: ValidationError) -> list[str]:
    return [e.code for e in error.error_list]


def text(error: ValidationError) -> str:
    return " ".join(error.messages)


def save(application, user, costs):
    """Save the draft with one complete activity per cost."""
    template = activities_costing(Decimal("100"), category().pk)[0]
    activities = [services.ActivityData(**{**vars(template), "cost": Decimal(c)}) for c in costs]
    return services.application_update_draft(
        application=application, by=user, details=DETAILS, activities=activities
    )
