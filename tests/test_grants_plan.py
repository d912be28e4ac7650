"""The grants open with the decision, and the plan is agreed to the award (money rule 4)."""

import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone, translation

from applications import services as application_services
from applications.models import AllocationEvent, Application, snapshot_digest
from applications.selectors import competition_results
from applications.signals import competition_decided
from competitions.models import Competition
from grants import services
from grants.models import Grant, PlanVersion
from grants.selectors import plan_changes
from grants.services import PlanLineData

from .amounts import spaced
from .factories import (
    CompetitionFactory,
    PlannedActivityFactory,
    category,
    coordinator,
    decided_grant,
    municipality,
    reviewer,
    staff_of,
    submitted_application,
)

pytestmark = pytest.mark.django_db


def codes(error: ValidationError) -> list[str]:
    return [problem.code for problem in error.error_list]


def messages(error: ValidationError) -> list[str]:
    return list(error.messages)


def lines_of(version: PlanVersion) -> list[PlanLineData]:
    """The version's lines as the municipality's form would send them back."""
    return [
        PlanLineData(
            key=line.key,
            category=line.category,
            title=line.title,
            description=line.description,
            cost=line.cost,
        )
        for line in version.lines.select_related("category")
    ]


def remaining(competition: Competition) -> Decimal:
    allocated = competition.applications.aggregate(total=Sum("awarded_amount"))["total"]
    return competition.pool_amount - allocated


def proposed(grant: Grant, lines: list[PlanLineData]) -> PlanVersion:
    staff = staff_of(grant.municipality.slug)
    version = services.plan_save_draft(grant=grant, by=staff, lines=lines)
    return services.plan_propose(version=version, by=staff)


def fitted_to(version: PlanVersion, total: Decimal) -> list[PlanLineData]:
    """The version's lines with the first one's cost changed so that they add up to ``total``."""
    first, *others = lines_of(version)
    rest = sum((line.cost for line in others), Decimal("0.00"))
    return [
        PlanLineData(
            key=first.key,
            category=first.category,
            title=first.title,
            description=first.description,
            cost=total - rest,
        ),
        *others,
    ]


# --- opening ----------------------------------------------------------------------------------


def test_the_decision_opens_a_grant_for_each_awarded_application_and_none_for_the_rejected(
    decided_call,
):
    grants = Grant.objects.select_related("application__municipality")
    assert {grant.municipality.slug for grant in grants} == {
        "smiltenes-novads",
        "valkas-novads",
        "valmieras-pilseta",
        "gulbenes-novads",
        "cesu-novads",
    }
    assert not Grant.objects.filter(application=decided_call.applications["cesvaines-novads"])
    assert {grant.status for grant in grants} == {Grant.Status.AGREEING}
    assert {grant.opened_at for grant in grants} == {decided_call.competition.decided_at}
    # Each grant and its first plan version opened in the history by the deciding coordinator.
    opened_by = {
        (record.history_type, record.history_user)
        for grant in grants
        for record in [*grant.history.all(), *grant.plan_versions.get().history.all()]
    }
    assert opened_by == {("+", decided_call.coordinator)}


def test_plan_version_1_is_a_draft_copied_from_the_submitted_activities(decided_call):
    application = decided_call.applications["cesu-novads"]
    version = application.grant.plan_versions.get()
    assert (version.number, version.status) == (1, PlanVersion.Status.DRAFT)
    assert version.total == application.requested_amount == Decimal("7500.00")
    assert [
        (line.position, line.title, line.description, line.cost, line.category_id, line.activity_id)
        for line in version.lines.all()
    ] == [
        (
            position,
            activity.title,
            activity.description,
            activity.cost,
            activity.category_id,
            activity.pk,
        )
        for position, activity in enumerate(application.activities.all(), start=1)
    ]
    assert all(line.description for line in version.lines.all())


def test_plan_version_1_lists_the_activities_in_the_applications_order_not_as_created():
    call = CompetitionFactory(
        opens_at=timezone.now() - timedelta(days=20),
        closes_at=timezone.now() - timedelta(minutes=1),
    )
    boss = coordinator("coordinator-order")
    application = submitted_application(
        call, municipality("cesu-novads"), requested=Decimal("3000.00"), reference="REM-ORDER-1"
    )
    # Created first, listed second.
    PlannedActivityFactory(application=application, cost=Decimal("1000.00"), title="Otrā", order=2)
    PlannedActivityFactory(application=application, cost=Decimal("2000.00"), title="Pirmā", order=1)
    application_services.allocation_set(
        application=application, amount=Decimal("3000.00"), by=boss, reason="Piešķīrums"
    )
    application_services.competition_decide(competition=call, by=boss, rejection_reason="Nepietiek")
    version = Application.objects.get(pk=application.pk).grant.plan_versions.get()
    assert [(line.position, line.title) for line in version.lines.order_by("position")] == [
        (1, "Pirmā"),
        (2, "Otrā"),
    ]


def test_a_failing_grant_opening_rolls_the_whole_decision_back():
    grant = decided_grant("valkas-novads")
    call = grant.competition

    def fail(**kwargs):
        raise RuntimeError("the grants could not be opened")

    competition_decided.connect(fail, dispatch_uid="test.fail")
    try:
        with pytest.raises(RuntimeError):
            decided_grant("smiltenes-novads")
    finally:
        competition_decided.disconnect(dispatch_uid="test.fail")
    other = Application.objects.get(municipality__slug="smiltenes-novads")
    assert other.status == Application.Status.SUBMITTED
    assert other.competition.status == Competition.Status.PUBLISHED
    assert not Grant.objects.filter(application=other).exists()
    assert Grant.objects.get().competition == call


# --- money rule 4: proposing --------------------------------------------------------------------


def test_proposing_a_plan_over_the_award_is_refused_naming_the_excess_and_nothing_is_proposed():
    grant = decided_grant("cesu-novads", requested=Decimal("7500.00"), awarded=Decimal("4000.00"))
    version = grant.plan_versions.get()
    staff = staff_of("cesu-novads")
    with pytest.raises(ValidationError) as error:
        services.plan_propose(version=version, by=staff)
    assert codes(error.value) == ["over_award"]
    assert messages(error.value) == [
        spaced(
            "Plāna kopsumma 7 500,00 € pārsniedz piešķirto finansējumu 4 000,00 € par 3 500,00 €; "
            "samaziniet plānu līdz 4 000,00 €."
        )
    ]
    version.refresh_from_db()
    assert version.status == PlanVersion.Status.DRAFT
    assert version.proposed_at is None


def test_the_refusal_over_the_award_reads_in_english_too():
    grant = decided_grant("cesu-novads", requested=Decimal("7500.00"), awarded=Decimal("4000.00"))
    with translation.override("en"), pytest.raises(ValidationError) as error:
        services.plan_propose(version=grant.plan_versions.get(), by=staff_of("cesu-novads"))
    assert messages(error.value) == [
        spaced(
            "The plan's total of €7,500.00 is more than the award of €4,000.00 by €3,500.00; "
            "reduce the plan to at most €4,000.00."
        )
    ]


def test_a_draft_over_the_award_may_be_saved_and_keeps_its_total():
    grant = decided_grant("cesu-novads", requested=Decimal("7500.00"), awarded=Decimal("4000.00"))
    version = grant.plan_versions.get()
    lines = fitted_to(version, Decimal("6000.00"))
    saved = services.plan_save_draft(grant=grant, by=staff_of("cesu-novads"), lines=lines)
    assert saved.pk == version.pk
    assert saved.total == Decimal("6000.00")
    assert [line.key for line in saved.lines.all()] == [line.key for line in lines]


def test_a_plan_fitted_to_the_award_is_proposed():
    grant = decided_grant("cesu-novads", requested=Decimal("7500.00"), awarded=Decimal("4000.00"))
    before = timezone.now()
    version = proposed(grant, fitted_to(grant.plan_versions.get(), Decimal("4000.00")))
    version.refresh_from_db()
    assert version.status == PlanVersion.Status.PROPOSED
    assert version.proposed_by == staff_of("cesu-novads")
    assert version.history.first().history_user == staff_of("cesu-novads")
    assert before <= version.proposed_at <= timezone.now()
    assert version.total == Decimal("4000.00")


def test_a_plan_without_lines_is_saved_but_not_proposed():
    grant = decided_grant()
    staff = staff_of("cesu-novads")
    version = services.plan_save_draft(grant=grant, by=staff, lines=[])
    assert version.total == Decimal("0.00")
    with pytest.raises(ValidationError) as error:
        services.plan_propose(version=version, by=staff)
    assert codes(error.value) == ["plan_empty"]


def test_only_the_grants_municipality_staff_save_and_propose_its_plan():
    grant = decided_grant("cesu-novads")
    version = grant.plan_versions.get()
    outsider = staff_of("valkas-novads")
    with pytest.raises(ValidationError) as error:
        services.plan_save_draft(grant=grant, by=outsider, lines=lines_of(version))
    assert codes(error.value) == ["not_municipality_staff"]
    with pytest.raises(ValidationError) as error:
        services.plan_propose(version=version, by=coordinator("another-coordinator"))
    assert codes(error.value) == ["not_municipality_staff"]


def test_lines_are_checked_and_a_refusal_saves_nothing():
    grant = decided_grant("cesu-novads")
    version = grant.plan_versions.get()
    bad = [
        PlanLineData(category=category(), title=" ", cost=Decimal("0.00")),
        PlanLineData(category=category(), title="Plakāti", cost=Decimal("10.005")),
        PlanLineData(category=category(), title="Svešs", cost=Decimal("5.00"), key="nav-tada"),
    ]
    with pytest.raises(ValidationError) as error:
        services.plan_save_draft(grant=grant, by=staff_of("cesu-novads"), lines=bad)
    assert codes(error.value) == [
        "line_title_required",
        "line_cost_not_positive",
        "invalid_amount",
        "unknown_line",
    ]
    assert version.lines.count() == 2


def test_a_proposed_plan_cannot_be_changed_until_the_coordinator_answers():
    grant = decided_grant("cesu-novads")
    version = proposed(grant, fitted_to(grant.plan_versions.get(), Decimal("4000.00")))
    with pytest.raises(ValidationError) as error:
        services.plan_save_draft(grant=grant, by=staff_of("cesu-novads"), lines=lines_of(version))
    assert codes(error.value) == ["plan_awaiting_decision"]


# --- money rule 4: approving and returning --------------------------------------------------------


def test_approving_a_plan_under_the_award_lowers_it_and_the_pool_regains_the_difference_in_one_ledger_row(
    decided_call,
):
    call = decided_call.competition
    grant = decided_call.applications["smiltenes-novads"].grant
    before = remaining(call)
    events = AllocationEvent.objects.count()
    version = proposed(grant, fitted_to(grant.plan_versions.get(), Decimal("9500.00")))

    services.plan_approve(version=version, by=decided_call.coordinator)

    grant.refresh_from_db()
    application = Application.objects.get(pk=grant.application_id)
    assert application.awarded_amount == Decimal("9500.00")
    assert application.status == Application.Status.AWARDED
    assert remaining(call) == before + Decimal("500.00")
    assert AllocationEvent.objects.count() == events + 1
    event = AllocationEvent.objects.latest("id")
    assert (event.amount_before, event.amount_after) == (Decimal("10000.00"), Decimal("9500.00"))
    assert event.reason == (
        spaced(
            "Saskaņots plāna 1. variants par 9 500,00 €; piešķirtais finansējums 10 000,00 € "
            "samazināts par 500,00 €."
        )
    )
    assert (grant.status, grant.agreed_total) == (Grant.Status.SIGNING, Decimal("9500.00"))
    assert competition_results(competition=call).total_awarded == call.pool_amount - before - (
        Decimal("500.00")
    )


def test_approving_a_plan_equal_to_the_award_leaves_the_award_and_the_ledger_alone(decided_call):
    grant = decided_call.applications["cesu-novads"].grant
    events = AllocationEvent.objects.count()
    version = proposed(grant, fitted_to(grant.plan_versions.get(), Decimal("4000.00")))
    services.plan_approve(version=version, by=decided_call.coordinator)
    assert Application.objects.get(pk=grant.application_id).awarded_amount == Decimal("4000.00")
    assert AllocationEvent.objects.count() == events
    grant.refresh_from_db()
    assert grant.agreed_total == Decimal("4000.00")


def test_the_approved_version_is_frozen_with_the_sha256_of_its_content_and_the_snapshot_is_untouched(
    decided_call,
):
    application = decided_call.applications["cesu-novads"]
    snapshot, digest = application.snapshot, application.snapshot_sha256
    grant = application.grant
    version = proposed(grant, fitted_to(grant.plan_versions.get(), Decimal("4000.00")))
    services.plan_approve(version=version, by=decided_call.coordinator)

    version.refresh_from_db()
    assert version.status == PlanVersion.Status.APPROVED
    assert version.sha256 == snapshot_digest(version.frozen)
    # Who approved it, in the version and in the history of the version and of the grant.
    boss = decided_call.coordinator
    assert version.decided_by == boss
    assert version.history.first().history_user == boss
    assert grant.history.first().history_user == boss
    # The whole of it, each field under its own name.
    assert version.frozen == {
        "grant": grant.pk,
        "application": application.reference,
        "version": 1,
        "total": "4000.00",
        "lines": [
            {
                "key": line.key,
                "position": position,
                "category": line.category.code,
                "category_name": line.category.name_lv,
                "title": line.title,
                "description": line.description,
                "cost": str(line.cost),
                "activity": activity.pk,
            }
            for position, (line, activity) in enumerate(
                zip(version.lines.order_by("position"), application.activities.all(), strict=True),
                start=1,
            )
        ],
    }
    application.refresh_from_db()
    assert (application.snapshot, application.snapshot_sha256) == (snapshot, digest)
    assert snapshot_digest(application.snapshot) == digest


def test_only_coordinators_approve_or_return_a_plan():
    grant = decided_grant("cesu-novads")
    version = proposed(grant, fitted_to(grant.plan_versions.get(), Decimal("4000.00")))
    for person in (staff_of("cesu-novads"), reviewer("reviewer-x")):
        with pytest.raises(ValidationError) as error:
            services.plan_approve(version=version, by=person)
        assert codes(error.value) == ["not_coordinator"]
        with pytest.raises(ValidationError) as error:
            services.plan_return(version=version, by=person, comment="Labot")
        assert codes(error.value) == ["not_coordinator"]


def test_a_draft_is_neither_approved_nor_returned():
    grant = decided_grant("cesu-novads")
    version = grant.plan_versions.get()
    boss = coordinator("coordinator-x")
    with pytest.raises(ValidationError) as error:
        services.plan_approve(version=version, by=boss)
    assert codes(error.value) == ["not_proposed"]
    with pytest.raises(ValidationError) as error:
        services.plan_return(version=version, by=boss, comment="Labot")
    assert codes(error.value) == ["not_proposed"]


def test_a_return_needs_a_comment_and_the_next_save_starts_a_new_version_keeping_the_returned_one():
    grant = decided_grant("cesu-novads")
    boss = coordinator("coordinator-x")
    first = proposed(grant, fitted_to(grant.plan_versions.get(), Decimal("4000.00")))
    with pytest.raises(ValidationError) as error:
        services.plan_return(version=first, by=boss, comment="  ")
    assert codes(error.value) == ["comment_required"]

    services.plan_return(version=first, by=boss, comment="Precizējiet brošūras tirāžu.")
    first.refresh_from_db()
    assert (first.status, first.return_comment) == (
        PlanVersion.Status.RETURNED,
        "Precizējiet brošūras tirāžu.",
    )

    staff = staff_of("cesu-novads")
    second = services.plan_save_draft(
        grant=grant, by=staff, lines=fitted_to(first, Decimal("3900.00"))
    )
    assert (second.number, second.status) == (2, PlanVersion.Status.DRAFT)
    assert [(record.history_type, record.history_user) for record in second.history.all()] == [
        ("+", staff)
    ]
    first.refresh_from_db()
    assert first.status == PlanVersion.Status.RETURNED
    assert first.total == Decimal("4000.00")
    assert [line.key for line in first.lines.all()] == [line.key for line in second.lines.all()]
    # Continued lines keep their link to the submitted activity, through both saves.
    activities = [activity.pk for activity in grant.application.activities.all()]
    assert len(activities) == 2
    assert [line.activity_id for line in first.lines.all()] == activities
    assert [line.activity_id for line in second.lines.all()] == activities


def test_a_saved_draft_keeps_its_lines_in_the_order_given_numbered_from_one_and_trimmed():
    grant = decided_grant("cesu-novads")
    staff = staff_of("cesu-novads")
    first, second = lines_of(grant.plan_versions.get())
    activities = [activity.pk for activity in grant.application.activities.all()]
    added = PlanLineData(
        category=first.category,
        title="  Tikšanās ar remigrantiem  ",
        description="  Divas tikšanās Cēsīs  ",
        cost=Decimal("100.00"),
    )
    reworded = dataclasses.replace(first, description="  Tirāža 500 eksemplāru ")
    draft = services.plan_save_draft(grant=grant, by=staff, lines=[second, added, reworded])

    stored = list(draft.lines.order_by("position"))
    assert [
        (line.position, line.title, line.description, line.cost, line.activity_id)
        for line in stored
    ] == [
        (1, second.title, second.description, second.cost, activities[1]),
        (2, "Tikšanās ar remigrantiem", "Divas tikšanās Cēsīs", Decimal("100.00"), None),
        (3, first.title, "Tirāža 500 eksemplāru", first.cost, activities[0]),
    ]
    assert (stored[0].key, stored[2].key) == (second.key, first.key)
    assert stored[1].key
    assert stored[1].key not in {first.key, second.key}
    assert draft.total == second.cost + Decimal("100.00") + first.cost


def test_an_amendment_supersedes_the_approved_version_and_can_only_lower_the_award():
    grant = decided_grant("cesu-novads")
    boss = coordinator("coordinator-x")
    first = proposed(grant, fitted_to(grant.plan_versions.get(), Decimal("4000.00")))
    services.plan_approve(version=first, by=boss)
    Grant.objects.filter(pk=grant.pk).update(status=Grant.Status.IN_PROGRESS)
    staff = staff_of("cesu-novads")

    higher = services.plan_save_draft(
        grant=grant, by=staff, lines=fitted_to(first, Decimal("4100"))
    )
    with pytest.raises(ValidationError) as error:
        services.plan_propose(version=higher, by=staff)
    assert codes(error.value) == ["over_award"]

    amended = services.plan_save_draft(
        grant=grant, by=staff, lines=fitted_to(first, Decimal("3800"))
    )
    services.plan_propose(version=amended, by=staff)
    services.plan_approve(version=amended, by=boss)
    first.refresh_from_db()
    assert first.status == PlanVersion.Status.SUPERSEDED
    assert first.sha256 == snapshot_digest(first.frozen)
    # The history says who superseded it.
    latest = first.history.first()
    assert (latest.status, latest.history_user) == (PlanVersion.Status.SUPERSEDED, boss)
    assert Application.objects.get(pk=grant.application_id).awarded_amount == Decimal("3800.00")


# --- declining ------------------------------------------------------------------------------------


def test_a_declined_award_returns_whole_to_the_pool(decided_call):
    call = decided_call.competition
    grant = decided_call.applications["gulbenes-novads"].grant
    before = remaining(call)
    services.grant_decline(
        grant=grant, by=staff_of("gulbenes-novads"), reason="Dome nolēma projektu neīstenot."
    )
    grant.refresh_from_db()
    application = Application.objects.get(pk=grant.application_id)
    assert grant.status == Grant.Status.DECLINED
    assert grant.decline_reason == "Dome nolēma projektu neīstenot."
    assert (application.status, application.awarded_amount) == (
        Application.Status.DECLINED,
        Decimal("0.00"),
    )
    assert remaining(call) == before + Decimal("6200.00")
    event = AllocationEvent.objects.latest("id")
    assert (event.amount_before, event.amount_after) == (Decimal("6200.00"), Decimal("0.00"))
    results = competition_results(competition=call)
    assert (results.declined, results.not_funded) == (1, 1)  # Cesvaine is the one not funded
    # The other awards and the decision stay as they were.
    assert call.applications.filter(status=Application.Status.AWARDED).count() == 4


def test_declining_needs_a_reason_and_the_municipalitys_staff():
    grant = decided_grant("cesu-novads")
    with pytest.raises(ValidationError) as error:
        services.grant_decline(grant=grant, by=staff_of("cesu-novads"), reason=" ")
    assert codes(error.value) == ["reason_required"]
    with pytest.raises(ValidationError) as error:
        services.grant_decline(grant=grant, by=staff_of("valkas-novads"), reason="Nevēlamies")
    assert codes(error.value) == ["not_municipality_staff"]
    assert Application.objects.get(pk=grant.application_id).awarded_amount == Decimal("4000.00")


def test_a_grant_in_progress_cannot_be_declined():
    grant = decided_grant("cesu-novads")
    Grant.objects.filter(pk=grant.pk).update(
        status=Grant.Status.IN_PROGRESS, agreed_total=Decimal("4000.00")
    )
    with pytest.raises(ValidationError) as error:
        services.grant_decline(grant=grant, by=staff_of("cesu-novads"), reason="Par vēlu")
    assert codes(error.value) == ["not_declinable"]


# --- the money door after the decision ------------------------------------------------------------


def test_after_the_decision_a_rejected_application_gets_nothing(decided_call):
    with pytest.raises(ValidationError) as error:
        application_services.allocation_set(
            application=decided_call.applications["cesvaines-novads"],
            amount=Decimal("100.00"),
            by=decided_call.coordinator,
            reason="Atlikums",
        )
    assert codes(error.value) == ["allocation_locked"]


def test_raising_after_the_decision_is_refused_with_the_figures_in_english():
    grant = decided_grant("cesu-novads")
    with translation.override("en"), pytest.raises(ValidationError) as error:
        application_services.allocation_set(
            application=grant.application,
            amount=Decimal("4500.00"),
            by=coordinator("coordinator-x"),
            reason="Vairāk",
        )
    assert codes(error.value) == ["raise_after_decision"]
    assert messages(error.value) == [
        spaced(
            "The call has been decided: an award can be lowered but never raised; €4,500.00 is "
            "more than the award of €4,000.00 by €500.00."
        )
    ]


def test_lowering_after_the_decision_is_allowed_where_partial_awards_are_not():
    call = CompetitionFactory(
        partial_awards_allowed=False,
        opens_at=timezone.now() - timedelta(days=20),
        closes_at=timezone.now() - timedelta(minutes=1),
    )
    grant = decided_grant(
        "cesu-novads", requested=Decimal("5000.00"), awarded=Decimal("5000.00"), competition=call
    )
    version = proposed(grant, fitted_to(grant.plan_versions.get(), Decimal("4800.00")))
    services.plan_approve(version=version, by=coordinator("coordinator-x"))
    assert Application.objects.get(pk=grant.application_id).awarded_amount == Decimal("4800.00")


# --- comparing versions ---------------------------------------------------------------------------


def test_plan_changes_names_the_lines_added_removed_and_changed_with_their_amounts():
    grant = decided_grant("cesu-novads", requested=Decimal("7500.00"))
    first = proposed(grant, fitted_to(grant.plan_versions.get(), Decimal("4000.00")))
    services.plan_return(version=first, by=coordinator("c-x"), comment="Vizīti neplānot.")
    brochure, visit = lines_of(first)
    cheaper = PlanLineData(
        key=brochure.key,
        category=brochure.category,
        title="Informatīvā brošūra (1000 eks.)",
        description=brochure.description,
        cost=Decimal("500.00"),
    )
    seminar = PlanLineData(
        category=category("seminars-training"), title="Seminārs remigrantiem", cost=Decimal("500")
    )
    second = services.plan_save_draft(
        grant=grant, by=staff_of("cesu-novads"), lines=[cheaper, seminar]
    )

    changes = plan_changes(second)
    assert changes.previous == first
    assert [line.title for line in changes.added] == ["Seminārs remigrantiem"]
    assert [line.key for line in changes.removed] == [visit.key]
    [change] = changes.changed
    assert change.fields == ["title", "cost"]
    assert (change.cost_before, change.cost_after, change.difference) == (
        Decimal("1000.00"),
        Decimal("500.00"),
        Decimal("-500.00"),
    )
    assert (changes.total_before, changes.total_after, changes.difference) == (
        Decimal("4000.00"),
        Decimal("1000.00"),
        Decimal("-3000.00"),
    )


def test_version_1_has_nothing_to_compare_with():
    changes = plan_changes(decided_grant().plan_versions.get())
    assert changes.previous is None
    assert not changes.any


# --- who sees what --------------------------------------------------------------------------------


def test_grants_for_user_staff_see_their_own_coordinators_all_reviewers_none(decided_call):
    assert set(Grant.objects.for_user(staff_of("cesu-novads"))) == {
        decided_call.applications["cesu-novads"].grant
    }
    assert not Grant.objects.for_user(staff_of("cesvaines-novads")).exists()
    assert Grant.objects.for_user(decided_call.reviewers[0]).count() == 0
    assert Grant.objects.for_user(decided_call.coordinator).count() == 5


def test_a_declined_grants_proposed_plan_is_not_approved():
    grant = decided_grant("cesu-novads")
    version = proposed(grant, fitted_to(grant.plan_versions.get(), Decimal("4000.00")))
    services.grant_decline(grant=grant, by=staff_of("cesu-novads"), reason="Atsakāmies")
    with pytest.raises(ValidationError) as error:
        services.plan_approve(version=version, by=coordinator("coordinator-x"))
    assert codes(error.value) == ["plan_not_editable"]
    assert AllocationEvent.objects.filter(application=grant.application).count() == 2


def test_the_grants_admin_lists_each_grant_with_its_award_for_coordinators_only(
    decided_call, client
):
    client.force_login(decided_call.coordinator)
    page = client.get("/admin/grants/grant/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Cēsu novads" in text
    assert spaced("4 000,00 €") in text
    assert "plāna saskaņošana" in text
    client.force_login(decided_call.reviewers[0])
    assert client.get("/admin/grants/grant/").status_code == 403
