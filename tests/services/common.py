"""What the tests of the services share: reading a refusal, saving a draft."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

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


def refused(act, *, language="lv") -> ValidationError:
    """The refusal ``act`` meets, read in ``language``."""
    with translation.override(language), pytest.raises(ValidationError) as error:
        act()
    return error.value


def limits(case, pool, cap, partial=True):
    """Set the source case's pool, cap and partial-award rule as its coordinator."""
    return services.competition_set_limits(
        competition=case.competition,
        pool_amount=Decimal(pool),
        max_award_amount=Decimal(cap),
        partial_awards_allowed=partial,
        by=case.coordinator,
    )
