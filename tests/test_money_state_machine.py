"""One call's money under random sequences of what coordinators and municipalities do.

Hypothesis drives a ``RuleBasedStateMachine`` over the source case (five submitted
applications, pool 40 000, cap 10 000): setting awards through the money door, applying the
proposal, changing the call's limits, withdrawing, deciding, and after the decision lowering
and trying to raise awards. After every step the invariants of money rules 1-4 hold, and every
refused step leaves the database exactly as it was.
"""

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

from .source_case import build_source_case

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
