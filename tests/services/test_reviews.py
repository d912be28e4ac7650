"""The rules of ``applications/services/reviews.py``: who may review what, and the scores kept."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from applications import services
from applications.models import Review

from ..factories import CompetitionFactory, municipality, reviewer
from .common import codes, save, text

pytestmark = pytest.mark.django_db


# --- reviews ----------------------------------------------------------------------------------


@pytest.fixture
def submitted(draft, smiltene):
    save(draft, smiltene, ["100"])
    return services.application_submit(application=draft, by=smiltene)


def full_marks(call):
    return {c.pk: c.max_points for c in call.criteria.all()}


def test_review_records_scores_and_the_weighted_score(submitted, call):
    person = reviewer()
    call.reviewers.add(person)
    criteria = list(call.criteria.all())  # max 10, 10, 5; weights 0.5, 0.3, 0.2
    review = services.review_record(
        application=submitted,
        reviewer=person,
        scores={criteria[0].pk: 8, criteria[1].pk: 5, criteria[2].pk: 5},
        comment="Labi pamatots.",
    )
    # 100 * (0.5*8/10 + 0.3*5/10 + 0.2*5/5) / 1.0 = 75
    assert review.score == Decimal("75.00")
    assert sorted(review.scores.values_list("points", flat=True)) == [5, 5, 8]

    changed = services.review_record(
        application=submitted,
        reviewer=person,
        scores={criteria[0].pk: 10, criteria[1].pk: 10, criteria[2].pk: 5},
    )
    assert changed.pk == review.pk
    assert changed.score == Decimal("100.00")
    assert Review.objects.count() == 1


def test_review_by_a_reviewer_not_assigned_to_the_call_is_refused(submitted, call):
    with pytest.raises(ValidationError) as error:
        services.review_record(application=submitted, reviewer=reviewer(), scores=full_marks(call))
    assert codes(error.value) == ["not_assigned"]


def test_review_by_a_member_of_the_applicant_municipality_is_refused(submitted, call):
    person = reviewer()
    call.reviewers.add(person)
    municipality("smiltenes-novads").staff.add(person)
    with pytest.raises(ValidationError) as error:
        services.review_record(application=submitted, reviewer=person, scores=full_marks(call))
    assert codes(error.value) == ["own_municipality"]
    assert not Review.objects.exists()


def test_review_of_a_draft_is_refused(draft, call):
    person = reviewer()
    call.reviewers.add(person)
    with pytest.raises(ValidationError) as error:
        services.review_record(application=draft, reviewer=person, scores=full_marks(call))
    assert codes(error.value) == ["not_reviewable"]


def test_review_points_outside_the_range_and_missing_scores_are_refused(submitted, call):
    person = reviewer()
    call.reviewers.add(person)
    criteria = list(call.criteria.all())
    with pytest.raises(ValidationError) as error:
        services.review_record(
            application=submitted,
            reviewer=person,
            scores={criteria[0].pk: 11, criteria[1].pk: -1},
        )
    assert codes(error.value) == ["points_out_of_range", "points_out_of_range", "missing_score"]
    assert "11 punkti ir ārpus robežām 0–10" in text(error.value)
    assert not Review.objects.exists()


def test_review_with_a_criterion_of_another_call_is_refused(submitted, call):
    person = reviewer()
    call.reviewers.add(person)
    foreign = CompetitionFactory().criteria.first()
    with pytest.raises(ValidationError) as error:
        services.review_record(
            application=submitted, reviewer=person, scores={**full_marks(call), foreign.pk: 1}
        )
    assert codes(error.value) == ["unknown_criterion"]


def test_review_with_a_conflict_of_interest_records_no_score(submitted, call):
    person = reviewer()
    call.reviewers.add(person)
    services.review_record(application=submitted, reviewer=person, scores=full_marks(call))
    review = services.review_record(
        application=submitted,
        reviewer=person,
        scores={},
        conflict_of_interest=True,
        conflict_note="Radniecība ar projekta vadītāju.",
    )
    assert review.score is None
    assert not review.scores.exists()


def test_every_review_keeps_the_applications_scores(submitted, call):
    """The mean, count, lowest and highest of the counted reviews are stored on the
    application by the review service, and follow a change of mind and a conflict."""
    first, second = reviewer("reviewer1"), reviewer("reviewer2")
    call.reviewers.add(first, second)
    criteria = list(call.criteria.all())  # max 10, 10, 5; weights 0.5, 0.3, 0.2

    def scores():
        submitted.refresh_from_db()
        return (
            submitted.review_count,
            submitted.score_mean,
            submitted.score_min,
            submitted.score_max,
        )

    assert scores() == (0, None, None, None)
    services.review_record(application=submitted, reviewer=first, scores=full_marks(call))
    assert scores() == (1, Decimal("100"), Decimal("100"), Decimal("100"))
    services.review_record(
        application=submitted,
        reviewer=second,
        scores={criteria[0].pk: 8, criteria[1].pk: 5, criteria[2].pk: 5},  # 75
    )
    assert scores() == (2, Decimal("87.5"), Decimal("75"), Decimal("100"))
    services.review_record(
        application=submitted,
        reviewer=first,
        scores={criteria[0].pk: 7, criteria[1].pk: 3, criteria[2].pk: 1},  # 48
    )
    assert scores() == (2, Decimal("61.5"), Decimal("48"), Decimal("75"))
    services.review_record(
        application=submitted, reviewer=second, scores={}, conflict_of_interest=True
    )
    assert scores() == (1, Decimal("48"), Decimal("48"), Decimal("48"))
    services.review_record(
        application=submitted, reviewer=first, scores={}, conflict_of_interest=True
    )
    assert scores() == (0, None, None, None)
