"""Every rule of the services, each refusal with its code and a message naming the amounts."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from applications import services
from applications.models import AllocationEvent, Application, Review, snapshot_digest
from competitions.models import Competition
from competitions.services import competition_publish

from .factories import (
    ApplicationFactory,
    CompetitionFactory,
    PlannedActivityFactory,
    UserFactory,
    category,
    coordinator,
    municipality,
    reviewer,
    staff_of,
)
from .source_case import DETAILS, activities_costing, build_source_case, close_call

pytestmark = pytest.mark.django_db

RIGA = ZoneInfo("Europe/Riga")


def codes(error: ValidationError) -> list[str]:
    return [e.code for e in error.error_list]


def text(error: ValidationError) -> str:
    return " ".join(error.messages)


@pytest.fixture
def call():
    return CompetitionFactory()


@pytest.fixture
def smiltene():
    return staff_of("smiltenes-novads")


@pytest.fixture
def draft(call, smiltene):
    return services.application_start(
        competition=call, municipality=municipality("smiltenes-novads"), by=smiltene
    )


def save(application, user, costs):
    """Save the draft with one complete activity per cost."""
    template = activities_costing(Decimal("100"), category().pk)[0]
    activities = [services.ActivityData(**{**vars(template), "cost": Decimal(c)}) for c in costs]
    return services.application_update_draft(
        application=application, by=user, details=DETAILS, activities=activities
    )


# --- starting and saving a draft --------------------------------------------------------------


def test_start_creates_a_draft_for_the_staff_members_municipality(draft, smiltene):
    assert draft.status == Application.Status.DRAFT
    assert draft.created_by == smiltene
    assert draft.requested_amount == Decimal("0.00")


def test_start_is_refused_to_staff_of_another_municipality(call):
    valka = staff_of("valkas-novads")
    with pytest.raises(ValidationError) as error:
        services.application_start(
            competition=call, municipality=municipality("smiltenes-novads"), by=valka
        )
    assert codes(error.value) == ["not_municipality_staff"]
    assert "Smiltenes novads" in text(error.value)


def test_start_is_refused_to_a_municipality_not_eligible(call, smiltene):
    call.eligible_municipalities.remove(municipality("smiltenes-novads"))
    with pytest.raises(ValidationError) as error:
        services.application_start(
            competition=call, municipality=municipality("smiltenes-novads"), by=smiltene
        )
    assert codes(error.value) == ["not_eligible"]


def test_start_twice_is_refused_and_keeps_the_first_draft(draft, call, smiltene):
    with pytest.raises(ValidationError) as error:
        services.application_start(
            competition=call, municipality=municipality("smiltenes-novads"), by=smiltene
        )
    assert codes(error.value) == ["already_exists"]
    assert Application.objects.get() == draft


def test_start_is_refused_for_an_unpublished_call(smiltene):
    call = CompetitionFactory(status=Competition.Status.DRAFT)
    with pytest.raises(ValidationError) as error:
        services.application_start(
            competition=call, municipality=municipality("smiltenes-novads"), by=smiltene
        )
    assert codes(error.value) == ["call_not_open"]


def test_requested_amount_is_always_the_sum_of_the_activity_costs(draft, smiltene):
    application = save(draft, smiltene, ["1500.50", "2000.00", "300.25"])
    assert application.requested_amount == Decimal("3800.75")
    assert application.activities.count() == 3

    kept = list(application.activities.order_by("order"))[1]
    application = services.application_update_draft(
        application=application,
        by=smiltene,
        details=DETAILS,
        activities=[
            services.ActivityData(
                id=kept.pk,
                category_id=kept.category_id,
                title="Jauns nosaukums",
                cost=Decimal("99.99"),
            )
        ],
    )
    application.refresh_from_db()
    assert application.requested_amount == Decimal("99.99")
    assert list(application.activities.values_list("pk", "title")) == [(kept.pk, "Jauns nosaukums")]


def test_save_over_the_cap_is_refused_naming_the_cap_and_the_excess_and_keeps_the_draft(
    draft, smiltene
):
    save(draft, smiltene, ["4000.00"])
    with pytest.raises(ValidationError) as error:
        save(draft, smiltene, ["6000.00", "4500.50"])
    assert codes(error.value) == ["over_cap"]
    assert "10 500,50 €" in text(error.value)
    assert "10 000,00 €" in text(error.value)
    assert "500,50 €" in text(error.value)
    draft.refresh_from_db()
    assert draft.requested_amount == Decimal("4000.00")
    assert list(draft.activities.values_list("cost", flat=True)) == [Decimal("4000.00")]


@pytest.mark.parametrize(
    "cost", [Decimal("0"), Decimal("-5"), Decimal("1.001"), Decimal("NaN"), "abc"]
)
def test_save_with_an_invalid_cost_is_refused(draft, smiltene, cost):
    with pytest.raises(ValidationError) as error:
        services.application_update_draft(
            application=draft,
            by=smiltene,
            details=DETAILS,
            activities=[services.ActivityData(category_id=category().pk, title="X", cost=cost)],
        )
    assert set(codes(error.value)) <= {"invalid_amount", "min_value", "activity_cost_positive"}
    assert draft.activities.count() == 0


def test_save_with_a_huge_total_is_refused(draft, smiltene):
    huge = services.ActivityData(
        category_id=category().pk, title="X", cost=Decimal("9999999999.99")
    )
    with pytest.raises(ValidationError) as error:
        services.application_update_draft(
            application=draft, by=smiltene, details=DETAILS, activities=[huge, huge]
        )
    assert "amount_too_large" in codes(error.value)


def test_save_with_an_activity_ending_before_it_starts_is_refused(draft, smiltene):
    with pytest.raises(ValidationError) as error:
        services.application_update_draft(
            application=draft,
            by=smiltene,
            details=DETAILS,
            activities=[
                services.ActivityData(
                    category_id=category().pk,
                    title="X",
                    cost=Decimal("10"),
                    starts_on=date(2019, 9, 2),
                    ends_on=date(2019, 9, 1),
                )
            ],
        )
    assert text(error.value) == "1. aktivitāte: Aktivitāte nevar beigties pirms tās sākuma."


def test_save_with_a_category_outside_the_call_is_refused(draft, smiltene, call):
    call.categories.remove(category("other"))
    with pytest.raises(ValidationError) as error:
        services.application_update_draft(
            application=draft,
            by=smiltene,
            details=DETAILS,
            activities=[
                services.ActivityData(
                    category_id=category("other").pk, title="X", cost=Decimal("10")
                )
            ],
        )
    assert codes(error.value) == ["category_not_in_call"]


def test_save_of_an_activity_of_another_application_is_refused(draft, smiltene):
    foreign = PlannedActivityFactory()
    with pytest.raises(ValidationError) as error:
        services.application_update_draft(
            application=draft,
            by=smiltene,
            details=DETAILS,
            activities=[
                services.ActivityData(
                    id=foreign.pk, category_id=category().pk, title="X", cost=Decimal("10")
                )
            ],
        )
    assert codes(error.value) == ["unknown_activity"]
    foreign.refresh_from_db()
    assert foreign.title != "X"


def test_save_by_staff_of_another_municipality_is_refused(draft):
    with pytest.raises(ValidationError) as error:
        save(draft, staff_of("valkas-novads"), ["100"])
    assert codes(error.value) == ["not_municipality_staff"]


def test_save_after_the_deadline_is_refused(draft, smiltene, call):
    with time_machine.travel(call.closes_at, tick=False), pytest.raises(ValidationError) as error:
        save(draft, smiltene, ["100"])
    assert codes(error.value) == ["deadline_passed"]


# --- submitting -------------------------------------------------------------------------------


def test_submit_freezes_a_snapshot_with_its_sha256_and_gives_a_reference(draft, smiltene, call):
    save(draft, smiltene, ["6000.00", "3800.00"])
    submitted = services.application_submit(application=draft, by=smiltene)
    year = timezone.localtime(call.opens_at).year
    assert submitted.reference == f"REM-{year}-001"
    assert submitted.status == Application.Status.SUBMITTED
    assert submitted.submitted_by == smiltene
    submitted.refresh_from_db()
    assert submitted.snapshot["requested_amount"] == "9800.00"
    assert [a["cost"] for a in submitted.snapshot["activities"]] == ["6000.00", "3800.00"]
    assert submitted.snapshot_sha256 == snapshot_digest(submitted.snapshot)
    assert len(submitted.snapshot_sha256) == 64


def test_references_are_numbered_in_order_within_a_year(call):
    references = []
    for slug in ["smiltenes-novads", "valkas-novads", "cesu-novads"]:
        user = staff_of(slug)
        application = services.application_start(
            competition=call, municipality=municipality(slug), by=user
        )
        save(application, user, ["100"])
        references.append(services.application_submit(application=application, by=user).reference)
    year = timezone.localtime(call.opens_at).year
    assert references == [f"REM-{year}-001", f"REM-{year}-002", f"REM-{year}-003"]


def test_submit_without_activities_is_refused(draft, smiltene):
    services.application_update_draft(
        application=draft, by=smiltene, details=DETAILS, activities=[]
    )
    with pytest.raises(ValidationError) as error:
        services.application_submit(application=draft, by=smiltene)
    assert codes(error.value) == ["no_activities"]
    draft.refresh_from_db()
    assert draft.status == Application.Status.DRAFT
    assert draft.reference is None


def test_submit_of_an_incomplete_draft_names_what_is_missing(draft, smiltene):
    services.application_update_draft(
        application=draft,
        by=smiltene,
        details=services.ApplicationDetails(contact_name="Ilze"),
        activities=[
            services.ActivityData(category_id=category().pk, title="X", cost=Decimal("10"))
        ],
    )
    with pytest.raises(ValidationError) as error:
        services.application_submit(application=draft, by=smiltene)
    assert codes(error.value) == ["incomplete"]
    assert "kopsavilkums" in text(error.value)
    assert "1. aktivitāte: sākuma datums" in text(error.value)
    assert "kontaktpersona;" not in text(error.value)  # it was given


def test_submit_of_an_incomplete_draft_says_which_field_is_missing_for_the_form(draft, smiltene):
    services.application_update_draft(
        application=draft,
        by=smiltene,
        details=services.ApplicationDetails(contact_name="Ilze", goals="Mērķi"),
        activities=[
            *activities_costing(Decimal("100"), category().pk),
            services.ActivityData(
                category_id=category().pk, title="X", cost=Decimal("10"), description="Apraksts"
            ),
        ],
    )
    *_complete, third = draft.activities.order_by("order")
    with pytest.raises(ValidationError) as error:
        services.application_submit(application=draft, by=smiltene)
    (problem,) = error.value.error_list
    assert problem.params["missing"] == services.MissingToSubmit(
        fields=("contact_email", "target_groups", "summary"),
        activity_fields={third.pk: ("starts_on", "ends_on", "target_group", "expected_result")},
    )
    assert "3. aktivitāte: sākuma datums" in text(error.value)


def test_submit_over_the_cap_is_refused_and_keeps_the_draft(draft, smiltene):
    # Activities written past the service (as after a cap was lowered): the submission still checks.
    save(draft, smiltene, ["5000"])
    PlannedActivityFactory(application=draft, cost=Decimal("5250.00"))
    Application.objects.filter(pk=draft.pk).update(requested_amount=Decimal("10250.00"))
    with pytest.raises(ValidationError) as error:
        services.application_submit(application=draft, by=smiltene)
    assert codes(error.value) == ["over_cap"]
    assert "10 250,00 €" in text(error.value)
    assert "250,00 €" in text(error.value)
    draft.refresh_from_db()
    assert draft.is_draft
    assert draft.activities.count() == 2


def test_submit_closes_at_the_deadline_in_riga_time(smiltene):
    deadline = datetime(2019, 8, 30, 17, 0, tzinfo=RIGA)
    call = CompetitionFactory(opens_at=deadline - timedelta(days=25), closes_at=deadline)
    with time_machine.travel(deadline - timedelta(days=1), tick=False):
        application = services.application_start(
            competition=call, municipality=municipality("smiltenes-novads"), by=smiltene
        )
        save(application, smiltene, ["100"])
    with time_machine.travel(deadline - timedelta(seconds=1), tick=False):
        assert services.application_submit(application=application, by=smiltene).reference

    cesis = staff_of("cesu-novads")
    with time_machine.travel(deadline - timedelta(days=1), tick=False):
        late = services.application_start(
            competition=call, municipality=municipality("cesu-novads"), by=cesis
        )
        save(late, cesis, ["100"])
    with time_machine.travel(deadline, tick=False), pytest.raises(ValidationError) as error:
        services.application_submit(application=late, by=cesis)
    assert codes(error.value) == ["deadline_passed"]
    assert "30.08.2019. 17:00" in text(error.value)


def test_submit_before_the_call_opens_is_refused(smiltene):
    call = CompetitionFactory(
        opens_at=timezone.now() + timedelta(days=1), closes_at=timezone.now() + timedelta(days=9)
    )
    application = services.application_start(
        competition=call, municipality=municipality("smiltenes-novads"), by=smiltene
    )
    save(application, smiltene, ["100"])
    with pytest.raises(ValidationError) as error:
        services.application_submit(application=application, by=smiltene)
    assert codes(error.value) == ["call_not_open_yet"]


def test_submit_by_an_ineligible_municipality_is_refused(draft, smiltene, call):
    save(draft, smiltene, ["100"])
    call.eligible_municipalities.remove(municipality("smiltenes-novads"))
    with pytest.raises(ValidationError) as error:
        services.application_submit(application=draft, by=smiltene)
    assert codes(error.value) == ["not_eligible"]


def test_submit_by_staff_of_another_municipality_is_refused(draft, smiltene):
    save(draft, smiltene, ["100"])
    with pytest.raises(ValidationError) as error:
        services.application_submit(application=draft, by=staff_of("valkas-novads"))
    assert codes(error.value) == ["not_municipality_staff"]


def test_submit_twice_is_refused_and_changes_nothing(draft, smiltene):
    save(draft, smiltene, ["100"])
    first = services.application_submit(application=draft, by=smiltene)
    with pytest.raises(ValidationError) as error:
        services.application_submit(application=draft, by=smiltene)
    assert codes(error.value) == ["not_draft"]
    draft.refresh_from_db()
    assert draft.reference == first.reference


def test_a_submitted_application_cannot_be_edited(draft, smiltene):
    save(draft, smiltene, ["100"])
    services.application_submit(application=draft, by=smiltene)
    with pytest.raises(ValidationError) as error:
        save(draft, smiltene, ["200"])
    assert codes(error.value) == ["not_draft"]


def test_submission_mails_the_municipality_and_the_coordinators(
    draft, smiltene, django_capture_on_commit_callbacks
):
    coordinator()
    save(draft, smiltene, ["100"])
    with django_capture_on_commit_callbacks(execute=True):
        submitted = services.application_submit(application=draft, by=smiltene)
    staff_mail, coordinators_mail = mail.outbox
    assert staff_mail.to == [smiltene.email]
    assert coordinators_mail.to == ["coordinator@example.lv"]
    for message in mail.outbox:
        assert submitted.reference in message.subject
        assert submitted.snapshot_sha256 in message.body
    # Each is sent where its reader can open the application.
    assert f"http://127.0.0.1:8000/applications/{submitted.pk}/\n" in staff_mail.body
    admin_page = f"http://127.0.0.1:8000/admin/applications/application/{submitted.pk}/change/"
    assert admin_page in coordinators_mail.body
    assert admin_page not in staff_mail.body


# --- withdrawing and deleting -----------------------------------------------------------------


def test_withdraw_returns_the_allocation_to_the_pool_through_the_ledger():
    case = build_source_case(close=False)
    valka = case.applications["valkas-novads"]
    services.allocation_set(
        application=valka, amount=Decimal("10000"), by=case.coordinator, reason="x"
    )
    withdrawn = services.application_withdraw(application=valka, by=case.staff["valkas-novads"])
    assert withdrawn.status == Application.Status.WITHDRAWN
    assert withdrawn.awarded_amount == Decimal("0.00")
    last = AllocationEvent.objects.filter(application=valka).last()
    assert (last.amount_before, last.amount_after) == (Decimal("10000.00"), Decimal("0.00"))


def test_withdraw_of_a_draft_is_refused(draft, smiltene):
    with pytest.raises(ValidationError) as error:
        services.application_withdraw(application=draft, by=smiltene)
    assert codes(error.value) == ["not_submitted"]


def test_withdraw_after_the_decision_is_refused():
    case = build_source_case()
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    services.competition_decide(competition=case.competition, by=case.coordinator)
    with pytest.raises(ValidationError) as error:
        services.application_withdraw(
            application=case.applications["cesu-novads"], by=case.staff["cesu-novads"]
        )
    assert codes(error.value) == ["decided"]


def test_delete_draft_removes_it_and_refuses_a_submitted_one(draft, smiltene):
    save(draft, smiltene, ["100"])
    other = ApplicationFactory(
        competition=draft.competition, municipality=municipality("valkas-novads")
    )
    services.application_delete_draft(application=draft, by=smiltene)
    assert not Application.objects.filter(pk=draft.pk).exists()
    assert Application.objects.filter(pk=other.pk).exists()

    case = build_source_case(close=False)
    with pytest.raises(ValidationError) as error:
        services.application_delete_draft(
            application=case.applications["cesu-novads"], by=case.staff["cesu-novads"]
        )
    assert codes(error.value) == ["not_draft"]


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


# --- money: the one door ----------------------------------------------------------------------


@pytest.fixture
def case():
    return build_source_case()


def test_allocation_writes_the_amount_and_one_ledger_event(case):
    valmiera = case.applications["valmieras-pilseta"]
    services.allocation_set(
        application=valmiera, amount=Decimal("9800.00"), by=case.coordinator, reason="Pilnā apjomā"
    )
    valmiera.refresh_from_db()
    assert valmiera.awarded_amount == Decimal("9800.00")
    event = AllocationEvent.objects.get()
    assert (event.amount_before, event.amount_after, event.by) == (
        Decimal("0.00"),
        Decimal("9800.00"),
        case.coordinator,
    )
    assert event.reason == "Pilnā apjomā"


def test_allocation_to_the_same_amount_writes_no_event(case):
    cesis = case.applications["cesu-novads"]
    services.allocation_set(
        application=cesis, amount=Decimal("4000"), by=case.coordinator, reason="x"
    )
    services.allocation_set(
        application=cesis, amount=Decimal("4000.00"), by=case.coordinator, reason="x"
    )
    assert AllocationEvent.objects.count() == 1


def test_allocation_above_the_request_is_refused_naming_the_amounts(case):
    gulbene = case.applications["gulbenes-novads"]
    with pytest.raises(ValidationError) as error:
        services.allocation_set(
            application=gulbene, amount=Decimal("6500"), by=case.coordinator, reason="x"
        )
    assert codes(error.value) == ["above_request"]
    for amount in ["6 200,00 €", "6 500,00 €", "300,00 €"]:
        assert amount in text(error.value)
    gulbene.refresh_from_db()
    assert gulbene.awarded_amount == 0
    assert not AllocationEvent.objects.exists()


def test_allocation_above_the_cap_is_refused_naming_the_cap_and_the_excess(case):
    smiltene = case.applications["smiltenes-novads"]
    Application.objects.filter(pk=smiltene.pk).update(requested_amount=Decimal("12000"))
    with pytest.raises(ValidationError) as error:
        services.allocation_set(
            application=smiltene, amount=Decimal("10000.01"), by=case.coordinator, reason="x"
        )
    assert codes(error.value) == ["over_cap"]
    assert "10 000,01 €" in text(error.value)
    assert "10 000,00 €" in text(error.value)
    assert "0,01 €" in text(error.value)
    assert not AllocationEvent.objects.exists()


def test_allocation_over_the_pool_is_refused_naming_pool_allocated_remaining_and_excess(case):
    for slug in ["smiltenes-novads", "valkas-novads", "valmieras-pilseta", "gulbenes-novads"]:
        application = case.applications[slug]
        services.allocation_set(
            application=application,
            amount=application.requested_amount,
            by=case.coordinator,
            reason="x",
        )
    with pytest.raises(ValidationError) as error:
        services.allocation_set(
            application=case.applications["cesu-novads"],
            amount=Decimal("4000.01"),
            by=case.coordinator,
            reason="x",
        )
    assert codes(error.value) == ["over_pool"]
    message = text(error.value)
    for amount in ["4 000,01 €", "40 000,00 €", "36 000,00 €", "4 000,00 €", "0,01 €"]:
        assert amount in message
    assert AllocationEvent.objects.count() == 4


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (Decimal("-1"), "negative_amount"),
        (Decimal("1.005"), "invalid_amount"),
        (Decimal("Infinity"), "invalid_amount"),
        (1.1, "invalid_amount"),
        (Decimal("1E+20"), "amount_too_large"),
    ],
)
def test_allocation_of_a_bad_amount_is_refused(case, amount, code):
    with pytest.raises(ValidationError) as error:
        services.allocation_set(
            application=case.applications["cesu-novads"],
            amount=amount,
            by=case.coordinator,
            reason="x",
        )
    assert codes(error.value) == [code]


def test_allocation_needs_a_reason(case):
    with pytest.raises(ValidationError) as error:
        services.allocation_set(
            application=case.applications["cesu-novads"],
            amount=Decimal("1"),
            by=case.coordinator,
            reason=" ",
        )
    assert codes(error.value) == ["reason_required"]


def test_partial_award_is_refused_when_the_call_forbids_it():
    case = build_source_case(partial_awards_allowed=False)
    with pytest.raises(ValidationError) as error:
        services.allocation_set(
            application=case.applications["cesu-novads"],
            amount=Decimal("4000"),
            by=case.coordinator,
            reason="x",
        )
    assert codes(error.value) == ["partial_not_allowed"]
    assert "7 500,00 €" in text(error.value)


def test_allocation_to_a_draft_is_refused(draft):
    with pytest.raises(ValidationError) as error:
        services.allocation_set(
            application=draft, amount=Decimal("1"), by=coordinator(), reason="x"
        )
    assert codes(error.value) == ["not_submitted"]


def test_raising_an_award_after_the_decision_is_refused(case):
    # Money rule 4: after the decision an award may come down (tests/test_grants_money.py),
    # never go up.
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    services.competition_decide(competition=case.competition, by=case.coordinator)
    with pytest.raises(ValidationError) as error:
        services.allocation_set(
            application=case.applications["cesu-novads"],
            amount=Decimal("5000"),
            by=case.coordinator,
            reason="x",
        )
    assert codes(error.value) == ["raise_after_decision"]
    assert Application.objects.get(pk=case.applications["cesu-novads"].pk).awarded_amount == (
        Decimal("4000.00")
    )


def test_applying_the_proposal_reproduces_the_source_case(case):
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    awarded = {
        slug: Application.objects.get(pk=a.pk).awarded_amount
        for slug, a in case.applications.items()
    }
    assert awarded == {
        "smiltenes-novads": Decimal("10000.00"),
        "valkas-novads": Decimal("10000.00"),
        "valmieras-pilseta": Decimal("9800.00"),
        "gulbenes-novads": Decimal("6200.00"),
        "cesu-novads": Decimal("4000.00"),
    }
    assert AllocationEvent.objects.count() == 5
    assert sum(awarded.values()) == case.competition.pool_amount


def test_applying_the_proposal_keeps_whole_history_rows_in_a_fixed_number_of_queries(
    case, django_assert_max_num_queries
):
    """The ranking leaves the applications' texts unread; the history row of each changed
    application still copies all of them, and reading them is one query, not one per field
    and application."""
    with django_assert_max_num_queries(30):
        applied = services.allocation_apply_proposal(
            competition=case.competition, by=case.coordinator
        )
    assert [
        Application.objects.get(pk=row.application.pk).awarded_amount for row in applied.rows
    ] == [
        Decimal("10000.00"),
        Decimal("10000.00"),
        Decimal("9800.00"),
        Decimal("6200.00"),
        Decimal("4000.00"),
    ]
    for application in Application.objects.all():
        last = application.history.latest()
        assert last.awarded_amount == application.awarded_amount
        assert (last.goals, last.summary, last.snapshot) == (
            application.goals,
            application.summary,
            application.snapshot,
        )
        assert last.snapshot


def test_applying_a_proposal_over_an_existing_allocation_never_overshoots(case):
    # Cēsis first holds 7 500 (more than the proposal gives it); applying must lower it
    # before raising the others, or the pool would be over in between.
    services.allocation_set(
        application=case.applications["cesu-novads"],
        amount=Decimal("7500"),
        by=case.coordinator,
        reason="x",
    )
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    assert Application.objects.get(
        pk=case.applications["cesu-novads"].pk
    ).awarded_amount == Decimal("4000.00")


# --- the call's limits ------------------------------------------------------------------------


def test_pool_cannot_be_lowered_below_what_is_allocated(case):
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    with pytest.raises(ValidationError) as error:
        services.competition_set_limits(
            competition=case.competition,
            pool_amount=Decimal("30000"),
            max_award_amount=Decimal("10000"),
            partial_awards_allowed=True,
            by=case.coordinator,
        )
    assert codes(error.value) == ["pool_below_allocated"]
    assert "30 000,00 €" in text(error.value)
    assert "40 000,00 €" in text(error.value)
    assert "10 000,00 €" in text(error.value)


def test_cap_cannot_be_lowered_below_an_award_or_raised_above_the_pool(case):
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    with pytest.raises(ValidationError) as error:
        services.competition_set_limits(
            competition=case.competition,
            pool_amount=Decimal("40000"),
            max_award_amount=Decimal("9000"),
            partial_awards_allowed=True,
            by=case.coordinator,
        )
    assert codes(error.value) == ["cap_below_award"]
    with pytest.raises(ValidationError) as error:
        services.competition_set_limits(
            competition=case.competition,
            pool_amount=Decimal("40000"),
            max_award_amount=Decimal("50000"),
            partial_awards_allowed=False,
            by=case.coordinator,
        )
    assert codes(error.value) == ["cap_above_pool", "partial_awards_exist"]


def test_raising_the_pool_is_allowed(case):
    call = services.competition_set_limits(
        competition=case.competition,
        pool_amount=Decimal("50000"),
        max_award_amount=Decimal("12000"),
        partial_awards_allowed=True,
        by=case.coordinator,
    )
    call.refresh_from_db()
    assert (call.pool_amount, call.max_award_amount) == (Decimal("50000.00"), Decimal("12000.00"))


# --- the decision -----------------------------------------------------------------------------


def test_decision_awards_the_allocated_and_rejects_the_rest_with_a_reason(
    django_capture_on_commit_callbacks,
):
    case = build_source_case()
    for slug in ["smiltenes-novads", "valkas-novads"]:
        services.allocation_set(
            application=case.applications[slug],
            amount=Decimal("10000"),
            by=case.coordinator,
            reason="x",
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.competition_decide(
            competition=case.competition,
            by=case.coordinator,
            rejection_reason="Nepietika finansējuma.",
            reasons={case.applications["cesu-novads"].pk: "Zemākais vērtējums."},
        )
    statuses = {slug: Application.objects.get(pk=a.pk) for slug, a in case.applications.items()}
    assert statuses["smiltenes-novads"].status == Application.Status.AWARDED
    assert statuses["valmieras-pilseta"].status == Application.Status.REJECTED
    assert statuses["valmieras-pilseta"].decision_reason == "Nepietika finansējuma."
    assert statuses["cesu-novads"].decision_reason == "Zemākais vērtējums."
    case.competition.refresh_from_db()
    assert case.competition.is_decided
    assert len(mail.outbox) == 5
    assert {m.to[0] for m in mail.outbox} == {u.email for u in case.staff.values()}


def test_decision_without_a_reason_for_a_rejection_is_refused(case):
    with pytest.raises(ValidationError) as error:
        services.competition_decide(competition=case.competition, by=case.coordinator)
    assert codes(error.value) == ["reason_required"]
    assert case.applications["cesu-novads"].reference in text(error.value)
    case.competition.refresh_from_db()
    assert not case.competition.is_decided


def test_decision_before_the_deadline_is_refused():
    case = build_source_case(close=False)
    with pytest.raises(ValidationError) as error:
        services.competition_decide(
            competition=case.competition, by=case.coordinator, rejection_reason="x"
        )
    assert codes(error.value) == ["call_still_open"]


def test_decision_twice_is_refused(case):
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    services.competition_decide(competition=case.competition, by=case.coordinator)
    with pytest.raises(ValidationError) as error:
        services.competition_decide(competition=case.competition, by=case.coordinator)
    assert codes(error.value) == ["already_decided"]


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


def test_closing_the_call_helper_really_closes_it(draft, smiltene, call):
    """The tests above lean on ``close_call``; it must have the effect of a passed deadline."""
    close_call(call)
    with pytest.raises(ValidationError) as error:
        save(draft, smiltene, ["100"])
    assert codes(error.value) == ["deadline_passed"]


# --- audit ------------------------------------------------------------------------------------


def test_changes_are_kept_in_history_with_who_made_them(draft, smiltene):
    save(draft, smiltene, ["100"])
    save(draft, smiltene, ["250"])
    services.application_submit(application=draft, by=smiltene)
    history = list(draft.history.order_by("history_date"))
    assert [h.requested_amount for h in history] == [
        Decimal("0.00"),
        Decimal("100.00"),
        Decimal("250.00"),
        Decimal("250.00"),
    ]
    assert history[-1].status == Application.Status.SUBMITTED
    assert {h.history_user for h in history} == {smiltene}
    activity_history = PlannedActivityFactory._meta.model.history.filter(application_id=draft.pk)
    assert {h.history_type for h in activity_history} == {"+", "-"}
