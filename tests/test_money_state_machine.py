"""One call's money under random sequences of what coordinators and municipalities do.

Hypothesis drives a ``RuleBasedStateMachine`` over the source case (five submitted
applications, pool 40 000, cap 10 000): setting awards through the money door, applying the
proposal, changing the call's limits, withdrawing, deciding, and after the decision lowering
and trying to raise awards. After every step the invariants of money rules 1-4 hold, and every
refused step leaves the database exactly as it was.

A second machine drives one grant in progress (5 000 €, an advance of 50 %): paying each kind,
reversing, accepting interim and final reports, amending the plan (approved and signed again).
After every step the ledger sums to the grant's sums, what the municipality holds stays within
the agreed total and the agreed total within the award, and a refused step changes nothing.
"""

from dataclasses import replace
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from applications import services
from applications.models import AllocationEvent, Application, ApplicationStatus
from competitions.models import Competition
from grants import services as grant_services
from grants import settlement
from grants.models import Grant, Payment, PlanVersion

from .factories import coordinator, grant_in_progress
from .source_case import build_source_case
from .test_grants_plan import lines_of
from .test_grants_settlement import TODAY, submitted

pytestmark = pytest.mark.django_db

SLUGS = ["smiltenes-novads", "valkas-novads", "valmieras-pilseta", "gulbenes-novads", "cesu-novads"]

cents = st.decimals(min_value=Decimal("0"), max_value=Decimal("12000"), places=2)
#: The amounts where the rules turn: the cap and the requests, and a cent either side.
edges = st.sampled_from(
    [Decimal(x) for x in ("0", "0.01", "4000", "6200", "7500", "9800", "9999.99", "10000")]
    + [Decimal("10000.01"), Decimal("40000"), Decimal("-0.01")]
)
amounts = st.one_of(edges, cents)


def snapshot():
    """Everything money rules touch, to compare before and after a refused step."""
    call = Competition.objects.values(
        "pool_amount", "max_award_amount", "partial_awards_allowed", "status", "decided_at"
    ).get()
    rows = list(
        Application.objects.order_by("pk").values_list(
            "pk", "status", "awarded_amount", "decision_reason", "decided_at"
        )
    )
    events = list(AllocationEvent.objects.order_by("pk").values_list("pk", "amount_after"))
    return call, rows, events


class CallMoney(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # Each example runs in a savepoint of the test's transaction, rolled back at its end.
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.case = None
        self.awarded_at_decision = {}

    def teardown(self):
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    @initialize()
    def source_case(self):
        self.case = build_source_case()

    @property
    def call(self) -> Competition:
        return Competition.objects.get(pk=self.case.competition.pk)

    def application(self, index: int) -> Application:
        return Application.objects.get(pk=self.case.applications[SLUGS[index]].pk)

    def attempt(self, act):
        """Run ``act``; if it is refused, nothing may have changed."""
        before = snapshot()
        try:
            act()
        except ValidationError as error:
            refusal = error
        else:
            return True
        assert all(e.code for e in refusal.error_list), "a refusal names its rule"
        assert snapshot() == before, "a refused step changed the database"
        return False

    # --- what people do --------------------------------------------------------------------

    @rule(index=st.integers(0, 4), amount=amounts, reason=st.sampled_from(["Pamatots", "", " "]))
    def set_award(self, index, amount, reason):
        application = self.application(index)
        before = application.awarded_amount
        done = self.attempt(
            lambda: services.allocation_set(
                application=application, amount=amount, by=self.case.coordinator, reason=reason
            )
        )
        if done:
            assert self.application(index).awarded_amount == amount
        if self.call.is_decided and amount > before:
            assert not done, "an award was raised after the decision"
        if not reason.strip():
            assert not done, "an award changed without a reason"

    @precondition(lambda self: self.case and not self.call.is_decided)
    @rule()
    def apply_proposal(self):
        self.attempt(
            lambda: services.allocation_apply_proposal(
                competition=self.call, by=self.case.coordinator
            )
        )

    @rule(pool=amounts.map(lambda a: a * 4), cap=amounts, partial=st.booleans())
    def set_limits(self, pool, cap, partial):
        decided = self.call.is_decided
        done = self.attempt(
            lambda: services.competition_set_limits(
                competition=self.call,
                pool_amount=pool,
                max_award_amount=cap,
                partial_awards_allowed=partial,
                by=self.case.coordinator,
            )
        )
        if decided:
            assert not done, "a decided call's limits changed"
        if done:
            call = self.call
            assert (call.pool_amount, call.max_award_amount, call.partial_awards_allowed) == (
                pool,
                cap,
                partial,
            )

    @rule(index=st.integers(0, 4))
    def withdraw(self, index):
        application = self.application(index)
        staff = self.case.staff[SLUGS[index]]
        if self.attempt(lambda: services.application_withdraw(application=application, by=staff)):
            withdrawn = self.application(index)
            assert withdrawn.status == ApplicationStatus.WITHDRAWN
            assert withdrawn.awarded_amount == 0

    @precondition(lambda self: self.case and not self.call.is_decided)
    @rule(reason=st.sampled_from(["Nepietiek līdzekļu konkursa fondā.", ""]))
    def decide(self, reason):
        submitted = set(
            Application.objects.filter(status=ApplicationStatus.SUBMITTED).values_list(
                "pk", "awarded_amount"
            )
        )
        done = self.attempt(
            lambda: services.competition_decide(
                competition=self.call, by=self.case.coordinator, rejection_reason=reason
            )
        )
        if done:
            self.awarded_at_decision = dict(Application.objects.values_list("pk", "awarded_amount"))
            for pk, amount in submitted:
                status = Application.objects.get(pk=pk).status
                assert status == (
                    ApplicationStatus.AWARDED if amount else ApplicationStatus.REJECTED
                )
        else:
            # The only refusal left to a published, closed call: a rejection without a reason.
            assert not reason, "a decision with a rejection reason for all was refused"
            assert any(amount == 0 for _, amount in submitted)

    # --- what must always hold -------------------------------------------------------------

    @invariant()
    def within_the_pool_the_cap_and_the_requests(self):
        if self.case is None:
            return
        call = self.call
        rows = list(Application.objects.all())
        assert sum(a.awarded_amount for a in rows) <= call.pool_amount
        for a in rows:
            assert (
                Decimal("0") <= a.awarded_amount <= min(call.max_award_amount, a.requested_amount)
            )
            if a.awarded_amount:
                assert a.status in (ApplicationStatus.SUBMITTED, ApplicationStatus.AWARDED)
            if not call.partial_awards_allowed and not call.is_decided:
                assert a.awarded_amount in (0, a.requested_amount)

    @invariant()
    def the_ledger_sums_to_the_stored_amounts(self):
        if self.case is None:
            return
        for a in Application.objects.all():
            events = list(AllocationEvent.objects.filter(application=a).order_by("at", "pk"))
            assert sum((e.amount_after - e.amount_before for e in events), Decimal("0")) == (
                a.awarded_amount
            )
            if events:
                assert events[-1].amount_after == a.awarded_amount

    @invariant()
    def nothing_rises_after_the_decision(self):
        for pk, amount in self.awarded_at_decision.items():
            assert Application.objects.get(pk=pk).awarded_amount <= amount


def test_a_calls_money_keeps_its_rules_under_any_sequence_of_acts():
    run_state_machine_as_test(
        CallMoney,
        settings=settings(
            max_examples=12,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


# --- a grant's money after the decision ---------------------------------------------------------

#: The amounts where the grant's rules turn for a grant of 5 000 € with an advance of 50 %.
grant_amounts = st.one_of(
    st.sampled_from(
        [Decimal(x) for x in ("0.01", "500", "1000", "2499.99", "2500", "2500.01", "5000")]
    ),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5500"), places=2),
)
#: Plan totals of an amendment: under, at and over the award of 5 000 €, and under what is paid.
plan_totals = st.sampled_from(
    [Decimal(x) for x in ("1000", "2000", "4000", "4999.99", "5000", "5000.01")]
)


def scaled(version, total: Decimal) -> list:
    """The version's lines with their costs scaled to add up to ``total``."""
    first, *others = lines_of(version)
    others = [
        replace(line, cost=(line.cost * total / version.total).quantize(Decimal("0.01")))
        for line in others
    ]
    rest = sum((line.cost for line in others), Decimal("0.00"))
    return [replace(first, cost=total - rest), *others]


def grant_snapshot(grant_pk):
    """Everything the grant's money rules touch, to compare before and after a refused step."""
    grant = Grant.objects.values(
        "status", "agreed_total", "accepted_total", "paid_total", "repaid_total"
    ).get(pk=grant_pk)
    payments = list(Payment.objects.order_by("pk").values_list("pk", "kind", "amount"))
    versions = list(PlanVersion.objects.order_by("pk").values_list("pk", "status", "total"))
    awards = list(Application.objects.order_by("pk").values_list("pk", "awarded_amount"))
    return grant, payments, versions, awards


class GrantMoney(RuleBasedStateMachine):
    """Paying, recovering, reversing, reporting and amending the plan of one grant in
    progress (``grant_pk``, made once by the test: each example starts from it in a
    savepoint)."""

    grant_pk: int

    def __init__(self):
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.boss = coordinator("coordinator-grant-machine")
        self.staff = self.grant.municipality.staff.get()

    def teardown(self):
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    @property
    def grant(self) -> Grant:
        return Grant.objects.select_related("application").get(pk=self.grant_pk)

    def attempt(self, act) -> bool:
        """Run ``act`` whole or not at all; if it is refused, nothing may have changed."""
        before = grant_snapshot(self.grant_pk)
        try:
            with transaction.atomic():
                act()
        except ValidationError as error:
            refusal = error
        else:
            return True
        assert all(e.code for e in refusal.error_list), "a refusal names its rule"
        assert grant_snapshot(self.grant_pk) == before, "a refused step changed the database"
        return False

    # --- what people do --------------------------------------------------------------------

    @rule(kind=st.sampled_from(["advance", "interim", "final", "repayment"]), amount=grant_amounts)
    def pay(self, kind, amount):
        before = self.grant
        done = self.attempt(
            lambda: settlement.payment_record(
                grant=before, by=self.boss, kind=kind, amount=amount, paid_on=TODAY, reference="M"
            )
        )
        after = self.grant
        if done and kind == "advance":
            advances = Payment.objects.filter(grant=after, kind="advance")
            assert advances.signed_sum(repayments=False) <= settlement.advance_limit(after)
        if done and kind == "final":
            assert amount <= before.to_pay
        if done and kind == "repayment":
            assert amount <= before.to_repay

    @rule(index=st.integers(0, 5))
    def reverse(self, index):
        rows = list(Payment.objects.filter(grant_id=self.grant_pk).order_by("pk"))
        if rows:
            row = rows[index % len(rows)]
            self.attempt(
                lambda: settlement.payment_reverse(
                    payment=row, by=self.boss, paid_on=TODAY, reference="K", note="Kļūda"
                )
            )

    @rule(kind=st.sampled_from(["interim", "final"]), share=st.sampled_from(["0.5", "0.8", "1"]))
    def report(self, kind, share):
        plan = settlement.approved_plan(self.grant)
        costs = [
            (line.cost * Decimal(share)).quantize(Decimal("0.01"))
            for line in plan.lines.order_by("position")
        ]

        def act():
            report = submitted(self.grant, self.staff, costs, kind=kind)
            settlement.report_accept(report=report, by=self.boss)

        if self.attempt(act) and kind == "final":
            assert self.grant.accepted_total == sum(costs, Decimal("0.00"))

    @rule(total=plan_totals)
    def amend_plan(self, total):
        """The municipality amends the plan during implementation, the coordinator approves
        it, and both sides sign the new agreement."""

        def act():
            grant = self.grant
            draft = grant_services.plan_save_draft(
                grant=grant, by=self.staff, lines=scaled(settlement.approved_plan(grant), total)
            )
            version = grant_services.plan_propose(version=draft, by=self.staff)
            grant_services.plan_approve(version=version, by=self.boss)
            agreement = grant.agreements.current().get()
            grant_services.agreement_accept(
                agreement=agreement, by=self.staff, sha256=agreement.sha256, client_address=None
            )
            grant_services.agreement_countersign(agreement=agreement, by=self.boss)

        if self.attempt(act):
            assert self.grant.agreed_total == total

    # --- what must always hold -------------------------------------------------------------

    @invariant()
    def the_ledger_sums_to_the_grants_sums(self):
        grant = self.grant
        ledger = Payment.objects.filter(grant=grant)
        assert (grant.paid_total, grant.repaid_total) == (
            ledger.signed_sum(repayments=False),
            ledger.signed_sum(repayments=True),
        )

    @invariant()
    def within_the_agreed_total_and_the_award(self):
        grant = self.grant
        assert Decimal("0") <= grant.repaid_total <= grant.paid_total
        assert grant.net_paid <= grant.agreed_total <= grant.application.awarded_amount
        if grant.accepted_total is not None:
            assert grant.accepted_total <= grant.agreed_total

    @invariant()
    def the_call_stays_within_its_pool(self):
        call = Competition.objects.get(pk=self.grant.competition.pk)
        awarded = Application.objects.filter(competition=call).values_list(
            "awarded_amount", flat=True
        )
        assert sum(awarded, Decimal("0")) <= call.pool_amount


def test_a_grants_money_keeps_its_rules_under_any_sequence_of_acts():
    GrantMoney.grant_pk = grant_in_progress("valkas-novads", amount=Decimal("5000.00")).pk
    run_state_machine_as_test(
        GrantMoney,
        settings=settings(
            max_examples=8,
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
