"""Every named database constraint, both ways: ``full_clean()`` raises ``ValidationError``
and a save that skips validation is stopped by the database with ``IntegrityError``."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from applications.models import (
    AllocationEvent,
    Application,
    AwardLetter,
    CriterionScore,
    Review,
    SupportingDocument,
)
from competitions.models import ScoringCriterion

from .amounts import spaced
from .factories import (
    ApplicationFactory,
    CompetitionFactory,
    PlannedActivityFactory,
    UserFactory,
    municipality,
)

pytestmark = pytest.mark.django_db

RIGA = ZoneInfo("Europe/Riga")


def submitted_application(**fields):
    defaults = {
        "status": Application.Status.SUBMITTED,
        "reference": f"REM-2019-{Application.objects.count() + 1:03d}",
        "submitted_at": datetime(2019, 8, 20, 14, 30, tzinfo=RIGA),
        "snapshot": {"reference": "REM-2019-001"},
        "requested_amount": Decimal("9800.00"),
    }
    return ApplicationFactory.build(competition=CompetitionFactory(), **{**defaults, **fields})


def competition(**fields):
    return CompetitionFactory.build(**fields)


def criterion(**fields):
    return ScoringCriterion(
        **{"competition": CompetitionFactory(), "name_lv": "Kritērijs", "max_points": 10, **fields}
    )


def activity(**fields):
    application = ApplicationFactory()
    return PlannedActivityFactory.build(application=application, **fields)


def review(**fields):
    application = submitted_application()
    application.save()
    return Review(application=application, reviewer=UserFactory(), **fields)


def score(points):
    r = review(score=Decimal("50.00"))
    r.save()
    return CriterionScore(
        review=r, criterion=r.application.competition.criteria.first(), points=points
    )


def event(**fields):
    application = submitted_application()
    application.save()
    return AllocationEvent(
        competition=application.competition,
        application=application,
        by=UserFactory(),
        reason="Piešķīrums",
        **fields,
    )


def letter(**fields):
    application = submitted_application()
    application.save()
    return AwardLetter(
        application=application,
        number="VPR/2019/remigration/001",
        language="lv",
        file="letters/2019/x.pdf",
        sha256="0" * 64,
        issued_by=UserFactory(),
        issued_at=datetime(2019, 10, 1, 9, 0, tzinfo=RIGA),
        **fields,
    )


def document(**fields):
    return SupportingDocument(
        application=ApplicationFactory(),
        file="documents/1/x.pdf",
        original_name="budzets.pdf",
        content_type="application/pdf",
        sha256="0" * 64,
        **fields,
    )


CHECK_CASES = [
    (
        "competition_closes_after_opening",
        lambda: competition(
            opens_at=CompetitionFactory.opens_at.function(),
            closes_at=CompetitionFactory.opens_at.function() - timedelta(hours=1),
        ),
    ),
    ("competition_cap_positive", lambda: competition(max_award_amount=Decimal("0"))),
    ("competition_cap_within_pool", lambda: competition(max_award_amount=Decimal("40000.01"))),
    ("competition_status_valid", lambda: competition(status="archived")),
    ("criterion_max_points_positive", lambda: criterion(max_points=0)),
    ("criterion_weight_positive", lambda: criterion(weight=Decimal("0"))),
    (
        "application_awarded_not_negative",
        lambda: submitted_application(awarded_amount=Decimal("-0.01")),
    ),
    (
        "application_awarded_within_request",
        lambda: submitted_application(awarded_amount=Decimal("9800.01")),
    ),
    ("application_status_valid", lambda: submitted_application(status="lost")),
    ("application_submitted_has_reference", lambda: submitted_application(reference=None)),
    (
        "application_award_only_when_in_play",
        lambda: submitted_application(
            status=Application.Status.WITHDRAWN, awarded_amount=Decimal("100")
        ),
    ),
    (
        "application_awarded_has_amount",
        lambda: submitted_application(status=Application.Status.AWARDED),
    ),
    (
        "application_scores_consistent",
        lambda: submitted_application(review_count=1),
    ),
    (
        "application_scores_consistent",
        lambda: submitted_application(
            review_count=2,
            score_min=Decimal("60.00"),
            score_mean=Decimal("59.999999"),
            score_max=Decimal("70.00"),
        ),
    ),
    ("activity_cost_positive", lambda: activity(cost=Decimal("0"))),
    (
        "activity_ends_after_it_starts",
        lambda: activity(starts_on=date(2019, 9, 2), ends_on=date(2019, 9, 1)),
    ),
    ("document_not_empty", lambda: document(size=0)),
    (
        "review_scored_unless_conflicted",
        lambda: review(conflict_of_interest=True, score=Decimal("10")),
    ),
    ("review_score_between_0_and_100", lambda: review(score=Decimal("100.01"))),
    ("score_points_not_negative", lambda: score(-1)),
    (
        "allocation_event_amounts_not_negative",
        lambda: event(amount_before=Decimal("-1"), amount_after=Decimal("0")),
    ),
    (
        "allocation_event_changes_the_amount",
        lambda: event(amount_before=Decimal("5"), amount_after=Decimal("5")),
    ),
    ("letter_kind_valid", lambda: letter(kind="memo")),
]


def named(instance, name):
    (constraint,) = [c for c in instance._meta.constraints if c.name == name]
    return constraint


@pytest.mark.parametrize(("constraint", "make"), CHECK_CASES, ids=[c for c, _ in CHECK_CASES])
def test_check_constraint_is_a_validation_error_in_full_clean(constraint, make):
    instance = make()
    with pytest.raises(ValidationError):
        instance.full_clean()
    # The constraint itself refuses, not only a field validator or clean() before it (which
    # full_clean() lets skip the constraints on that field).
    with pytest.raises(ValidationError) as error:
        instance.validate_constraints()
    assert named(instance, constraint).get_violation_error_message() in error.value.messages


@pytest.mark.parametrize(("constraint", "make"), CHECK_CASES, ids=[c for c, _ in CHECK_CASES])
def test_check_constraint_is_an_integrity_error_in_the_database(constraint, make):
    instance = make()
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        instance.save()


def test_valid_rows_pass_full_clean_and_save():
    """The builders above make valid rows but for the one field each case changes."""
    for instance in [
        competition(),
        criterion(),
        submitted_application(awarded_amount=Decimal("9800.00")),
        submitted_application(
            reference="REM-2019-101",
            review_count=2,
            score_min=Decimal("60.00"),
            score_mean=Decimal("65.005000"),
            score_max=Decimal("70.01"),
        ),
        activity(),
        document(size=10),
        review(score=Decimal("55.50")),
        event(amount_before=Decimal("0"), amount_after=Decimal("5")),
    ]:
        instance.full_clean()
        instance.save()


def test_letter_cannot_replace_itself():
    first = letter(kind="award")
    first.save()
    first.replaced_by = first
    with pytest.raises(ValidationError):
        first.full_clean()
    with pytest.raises(IntegrityError, match="letter_not_replaced_by_itself"), transaction.atomic():
        first.save()


UNIQUE_CASES = [
    "application_one_per_call_and_municipality",
    "review_one_per_reviewer_and_application",
    "score_one_per_review_and_criterion",
    "criterion_name_unique_per_call",
]


def _duplicate(constraint):
    if constraint == "application_one_per_call_and_municipality":
        first = ApplicationFactory()
        return Application(competition=first.competition, municipality=first.municipality)
    if constraint == "review_one_per_reviewer_and_application":
        first = review(score=Decimal("1"))
        first.save()
        return Review(application=first.application, reviewer=first.reviewer, score=Decimal("2"))
    if constraint == "score_one_per_review_and_criterion":
        first = score(3)
        first.save()
        return CriterionScore(review=first.review, criterion=first.criterion, points=4)
    first = criterion()
    first.save()
    return ScoringCriterion(competition=first.competition, name_lv=first.name_lv, max_points=5)


@pytest.mark.parametrize("constraint", UNIQUE_CASES)
def test_unique_constraint_both_ways(constraint):
    duplicate = _duplicate(constraint)
    with pytest.raises(ValidationError) as error:
        duplicate.full_clean()
    assert named(duplicate, constraint).get_violation_error_message() in error.value.messages
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_criterion_points_above_its_maximum_are_refused_by_clean():
    row = score(11)
    with pytest.raises(ValidationError) as error:
        row.full_clean()
    assert error.value.error_dict["points"][0].code == "points_out_of_range"


def test_allocation_ledger_is_append_only():
    row = event(amount_before=Decimal("0"), amount_after=Decimal("100"))
    row.save()
    row.amount_after = Decimal("1")
    with pytest.raises(TypeError):
        row.save()
    with pytest.raises(TypeError):
        row.delete()
    with pytest.raises(TypeError):
        AllocationEvent.objects.update(reason="x")
    with pytest.raises(TypeError):
        AllocationEvent.objects.all().delete()
    assert AllocationEvent.objects.get().amount_after == Decimal("100.00")


def test_localized_fields_fall_back_to_latvian(settings):
    from django.utils import translation

    call = competition(title_lv="Konkurss", title_en="")
    with translation.override("en"):
        assert call.title == "Konkurss"
        call.title_en = "Call"
        assert call.title == "Call"
    with translation.override("lv"):
        assert call.title == "Konkurss"


def test_municipality_reference_data_names_are_latvian():
    assert municipality("cesu-novads").name == "Cēsu novads"


def test_a_cap_above_the_pool_is_named_in_amounts_as_people_write_them():
    call = competition(pool_amount=Decimal("40000"), max_award_amount=Decimal("40000.01"))
    with pytest.raises(ValidationError) as error:
        call.full_clean()
    assert error.value.message_dict["max_award_amount"] == [
        spaced(
            "Maksimālais finansējums (40 000,01 €) nedrīkst pārsniegt kopējo finansējumu (40 000,00 €)."
        )
    ]
