"""Money rule 4 holds when coordinators and municipalities act at the same moment
(PostgreSQL row locks: the call's row, then the grant's)."""

from decimal import Decimal
from itertools import pairwise

import pytest
from django.db.models import Sum

from applications.models import AllocationEvent, Application
from grants import services
from grants.models import Grant, PlanVersion
from grants.services import PlanLineData

from .factories import coordinator, decided_grants, staff_of
from .test_concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def propose(grant: Grant, total: Decimal) -> PlanVersion:
    """Fit the plan to ``total`` by changing its first line, and propose it."""
    staff = staff_of(grant.municipality.slug)
    first, *others = grant.plan_versions.get().lines.select_related("category")
    rest = sum((line.cost for line in others), Decimal("0.00"))
    lines = [
        PlanLineData(key=line.key, category=line.category, title=line.title, cost=cost)
        for line, cost in [(first, total - rest), *((line, line.cost) for line in others)]
    ]
    version = services.plan_save_draft(grant=grant, by=staff, lines=lines)
    return services.plan_propose(version=version, by=staff)


def awarded_total(call_id: int) -> Decimal:
    return Application.objects.filter(competition_id=call_id).aggregate(
        total=Sum("awarded_amount")
    )["total"]


def test_two_coordinators_approving_plans_of_one_call_at_once_keep_the_pool_and_ledger():
    grants = decided_grants(
        {
            "smiltenes-novads": (Decimal("10000.00"), Decimal("10000.00")),
            "valkas-novads": (Decimal("10000.00"), Decimal("10000.00")),
            "gulbenes-novads": (Decimal("6200.00"), Decimal("6200.00")),
        }
    )
    call_id = grants["smiltenes-novads"].application.competition_id
    plans = [
        propose(grants["smiltenes-novads"], Decimal("9000.00")),
        propose(grants["valkas-novads"], Decimal("8500.00")),
        propose(grants["gulbenes-novads"], Decimal("6000.00")),
    ]
    people = [coordinator(f"coordinator-a{i}") for i in range(len(plans))]
    events = AllocationEvent.objects.count()

    outcomes = run_together(
        [
            lambda plan=plan, person=person: services.plan_approve(version=plan, by=person)
            for plan, person in zip(plans, people, strict=True)
        ]
    )

    assert outcomes == ["accepted"] * 3
    assert awarded_total(call_id) == Decimal("23500.00")
    new = list(AllocationEvent.objects.order_by("id")[events:])
    assert len(new) == 3
    assert sum((e.amount_before - e.amount_after for e in new), Decimal("0")) == Decimal("2700")
    assert {g.agreed_total for g in Grant.objects.all()} == {
        Decimal("9000.00"),
        Decimal("8500.00"),
        Decimal("6000.00"),
    }


def test_one_plan_approved_twice_at_once_lowers_the_award_once():
    grant = decided_grants({"cesu-novads": (Decimal("5000.00"), Decimal("5000.00"))})["cesu-novads"]
    plan = propose(grant, Decimal("4000.00"))
    people = [coordinator(f"coordinator-b{i}") for i in range(4)]
    events = AllocationEvent.objects.count()

    outcomes = run_together(
        [lambda person=person: services.plan_approve(version=plan, by=person) for person in people]
    )

    assert sorted(outcomes) == ["accepted", "not_proposed", "not_proposed", "not_proposed"]
    assert AllocationEvent.objects.count() == events + 1
    assert Application.objects.get(pk=grant.application_id).awarded_amount == Decimal("4000.00")


def test_a_decline_racing_an_approval_leaves_one_consistent_outcome():
    grant = decided_grants({"cesu-novads": (Decimal("5000.00"), Decimal("5000.00"))})["cesu-novads"]
    plan = propose(grant, Decimal("4500.00"))
    boss, staff = coordinator("coordinator-c"), staff_of("cesu-novads")

    outcomes = run_together(
        [
            lambda: services.plan_approve(version=plan, by=boss),
            lambda: services.grant_decline(grant=grant, by=staff, reason="Atsakāmies"),
        ]
    )

    # Declining is allowed before the agreement is signed: after an approval both succeed;
    # after a decline the approval is refused. Either way the award ends at 0 and the
    # ledger's amounts chain.
    assert outcomes in (["accepted", "accepted"], ["plan_not_editable", "accepted"])
    application = Application.objects.get(pk=grant.application_id)
    assert (application.status, application.awarded_amount) == (
        Application.Status.DECLINED,
        Decimal("0.00"),
    )
    events = list(AllocationEvent.objects.filter(application=application).order_by("id"))
    for earlier, later in pairwise(events):
        assert later.amount_before == earlier.amount_after
    assert Grant.objects.get(pk=grant.pk).status == Grant.Status.DECLINED


# --- money rule 5: payments recorded at the same instant ------------------------------------


def test_two_coordinators_paying_one_grant_at_once_never_exceed_the_agreed_total():
    from datetime import date

    from grants import settlement
    from grants.models import Payment

    from .factories import grant_in_progress
    from .test_grants_settlement import lines_of

    grant = grant_in_progress("gulbenes-novads", amount=Decimal("5000.00"))
    staff = grant.municipality.staff.get()
    boss = coordinator("coordinator-pay")
    report = settlement.report_save_draft(
        grant=grant, kind="interim", by=staff, summary="", lines=lines_of(grant, ["1000", "500"])
    )
    settlement.report_accept(report=settlement.report_submit(report=report, by=staff), by=boss)
    people = [coordinator(f"coordinator-p{i}") for i in range(3)]

    outcomes = run_together(
        [
            lambda person=person, i=i: settlement.payment_record(
                grant=grant,
                by=person,
                kind="interim",
                amount=Decimal("2000.00"),
                paid_on=date(2026, 12, 1),
                reference=f"MU-{i}",
            )
            for i, person in enumerate(people)
        ]
    )

    assert sorted(outcomes) == ["accepted", "accepted", "over_agreed_total"]
    grant.refresh_from_db()
    ledger = Payment.objects.filter(grant=grant)
    assert grant.paid_total == ledger.signed_sum(repayments=False) == Decimal("4000.00")
    assert grant.net_paid <= grant.agreed_total


def test_two_advances_recorded_at_once_stay_within_the_advances_share():
    from datetime import date

    from grants import settlement

    from .factories import grant_in_progress

    grant = grant_in_progress("valkas-novads", amount=Decimal("5000.00"))
    people = [coordinator(f"coordinator-q{i}") for i in range(2)]

    outcomes = run_together(
        [
            lambda person=person: settlement.payment_record(
                grant=grant,
                by=person,
                kind="advance",
                amount=Decimal("2500.00"),
                paid_on=date(2026, 12, 1),
                reference="MU-A",
            )
            for person in people
        ]
    )

    assert sorted(outcomes) == ["accepted", "advance_over_share"]
    grant.refresh_from_db()
    assert grant.paid_total == Decimal("2500.00")
