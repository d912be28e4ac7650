"""The rules of ``applications/services/money.py``: the one door to an awarded amount, the
proposal, the call's limits and the decision; each refusal names the amounts."""

from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from applications import services
from applications.models import AllocationEvent, Application
from applications.selectors import ProposalReason

from ..amounts import spaced
from ..factories import coordinator
from ..source_case import build_source_case
from .common import codes, text

pytestmark = pytest.mark.django_db


# --- money: the one door ----------------------------------------------------------------------


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
    for amount in [spaced("6 200,00 €"), spaced("6 500,00 €"), spaced("300,00 €")]:
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
    assert spaced("10 000,01 €") in text(error.value)
    assert spaced("10 000,00 €") in text(error.value)
    assert spaced("0,01 €") in text(error.value)
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
    for amount in [
        spaced("4 000,01 €"),
        spaced("40 000,00 €"),
        spaced("36 000,00 €"),
        spaced("4 000,00 €"),
        spaced("0,01 €"),
    ]:
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
    assert spaced("7 500,00 €") in text(error.value)


def test_allocation_to_a_draft_is_refused(draft):
    with pytest.raises(ValidationError) as error:
        services.allocation_set(
            application=draft, amount=Decimal("1"), by=coordinator(), reason="x"
        )
    assert codes(error.value) == ["not_submitted"]


def test_raising_an_award_after_the_decision_is_refused(case):
    # Money rule 4: after the decision an award may come down (tests/test_grants_plan.py),
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
    assert spaced("30 000,00 €") in text(error.value)
    assert spaced("40 000,00 €") in text(error.value)
    assert spaced("10 000,00 €") in text(error.value)


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
    services.decision_reasons_set(
        competition=case.competition,
        reasons={case.applications["cesu-novads"].pk: "Zemākais vērtējums."},
        by=case.coordinator,
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.competition_decide(
            competition=case.competition,
            by=case.coordinator,
            default_reasons={ProposalReason.POOL_EXHAUSTED: "Nepietika finansējuma."},
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


def decide_after_the_proposal(case, **kwargs):
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    return services.competition_decide(competition=case.competition, by=case.coordinator, **kwargs)


def test_with_a_broker_the_decision_queues_its_mails_by_the_calls_id_and_writes_none_itself(
    case, django_capture_on_commit_callbacks, monkeypatch
):
    from applications import notifications

    queued = []
    monkeypatch.setattr(notifications.competition_decided_mail, "delay", queued.append)
    monkeypatch.setattr(notifications, "render", lambda *args: pytest.fail("rendered here"))
    with django_capture_on_commit_callbacks(execute=True):
        decide_after_the_proposal(case)
    assert queued == [case.competition.pk]
    assert mail.outbox == []


def test_without_a_broker_the_decision_mails_leave_after_the_response_as_they_were_written(
    case, django_capture_on_commit_callbacks, monkeypatch
):
    """Kept during the coordinator's request, past its commit, and sent once its response is
    out: the same mails, one per application, in each recipient's language, that the decision
    wrote in the request before; read back a few applications at a time."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from applications import notifications
    from competitions.languages import language_record

    language_record(user=case.staff["cesu-novads"], language="en")
    monkeypatch.setattr(notifications, "DECIDED_MAIL_BATCH", 2)  # five applications: 3 batches
    # The test's own transaction must stay open (as in the submission's test of ``later``).
    monkeypatch.setattr(notifications, "close_old_connections", lambda: None)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        request_started.send(sender=None)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            decided = decide_after_the_proposal(case)
            assert mail.outbox == []  # not committed yet
        assert callbacks
        assert mail.outbox == []  # committed, but the response is not out yet
        request_finished.send(sender=None)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)

    def written(messages):
        return sorted((m.subject, m.body, tuple(m.to)) for m in messages)

    sent = written(mail.outbox)
    assert len(sent) == 5
    assert {to for _subject, _body, (to,) in sent} == {u.email for u in case.staff.values()}
    cesis = case.applications["cesu-novads"]
    (to_cesis,) = [m for m in sent if m[2] == (case.staff["cesu-novads"].email,)]
    assert to_cesis[0] == f"Decision on application {cesis.reference}"
    mail.outbox.clear()
    notifications.competition_decided(
        decided, Application.objects.filter(competition=decided).order_by("-pk")
    )
    assert written(mail.outbox) == sent


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


def test_partial_award_with_the_screens_hint_as_its_reason_is_refused(case):
    cesis = case.applications["cesu-novads"]
    for hint in ["Reason for the change", "  izmaiņu pamatojums "]:
        with pytest.raises(ValidationError) as error:
            services.allocation_set(
                application=cesis, amount=Decimal("4000"), by=case.coordinator, reason=hint
            )
        assert codes(error.value) == ["partial_reason_required"]
        assert spaced("4 000,00 €") in text(error.value)
        assert spaced("7 500,00 €") in text(error.value)
    # The same hint is no reason for a partial award, but the full request needs no explanation.
    services.allocation_set(
        application=cesis,
        amount=Decimal("7500"),
        by=case.coordinator,
        reason="Reason for the change",
    )


def test_decision_states_the_ledgers_reason_for_a_partial_award(case):
    cesis = case.applications["cesu-novads"]
    services.allocation_set(
        application=cesis, amount=Decimal("5000"), by=case.coordinator, reason="Pirmais"
    )
    services.allocation_set(
        application=cesis,
        amount=Decimal("4000"),
        by=case.coordinator,
        reason="Suvenīru izmaksas nav attiecināmas.",
    )
    smiltene = case.applications["smiltenes-novads"]
    services.allocation_set(
        application=smiltene, amount=Decimal("10000"), by=case.coordinator, reason="Pilnā apjomā"
    )
    services.competition_decide(
        competition=case.competition, by=case.coordinator, rejection_reason="Nepietika."
    )
    cesis.refresh_from_db()
    smiltene.refresh_from_db()
    assert cesis.decision_reason == "Suvenīru izmaksas nav attiecināmas."
    # An award in full states no reason of its own.
    assert smiltene.decision_reason == ""
