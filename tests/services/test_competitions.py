"""The rules of ``competitions/services.py``: publishing a call."""

import pytest
from django.core.exceptions import ValidationError

from competitions.models import Competition
from competitions.services import competition_publish

from ..factories import CompetitionFactory, UserFactory
from .common import codes, text

pytestmark = pytest.mark.django_db


# --- publishing -------------------------------------------------------------------------------


def test_publishing_an_incomplete_call_names_what_is_missing():
    call = CompetitionFactory(status=Competition.Status.DRAFT, signatory_name="")
    call.criteria.all().delete()
    with pytest.raises(ValidationError) as error:
        competition_publish(competition=call, by=UserFactory())
    assert codes(error.value) == ["incomplete_call"]
    assert "vērtēšanas kritēriji" in text(error.value)
    assert "vērtētāji" in text(error.value)


def test_publishing_a_complete_call(case):
    call = CompetitionFactory(status=Competition.Status.DRAFT)
    call.reviewers.add(case.reviewers[0])
    published = competition_publish(competition=call, by=case.coordinator)
    assert published.status == Competition.Status.PUBLISHED
    assert published.published_at is not None
    with pytest.raises(ValidationError) as error:
        competition_publish(competition=call, by=case.coordinator)
    assert codes(error.value) == ["not_draft"]
