"""Each money rule at its boundary: equal, one cent under, one cent over; each refusal's code,
and its figures as the coordinator reads them, in Latvian and in English.

These are the changes to the rules that once passed every test (mutation testing,
``make mutation``): a rule that refused too much, a figure in a refusal off by some euros, a
limit that could still change after the decision, a publication without a signatory's
position."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from applications import services
from applications.models import AllocationEvent, Application, ApplicationStatus
from competitions.models import Competition
from competitions.services import competition_publish

from ..amounts import spaced
from ..factories import CompetitionFactory
from ..source_case import build_source_case
from .common import codes, limits, refused, text

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")


def award(case, slug, amount, reason="Pamatots"):
    return services.allocation_set(
        application=case.applications[slug], amount=amount, by=case.coordinator, reason=reason
    )


def stored(case, slug) -> Decimal:
    return Application.objects.get(pk=case.applications[slug].pk).awarded_amount


# --- the request, the cap and the pool at their edges -------------------------------------------


def test_the_request_is_allowed_exactly_and_one_cent_over_is_refused_by_a_cent():
    case = build_source_case()
    award(case, "gulbenes-novads", Decimal("6200.00"))
    assert stored(case, "gulbenes-novads") == Decimal("6200.00")
    error = refused(lambda: award(case, "gulbenes-novads", Decimal("6200.01")))
    assert codes(error) == ["above_request"]
    assert spaced("pārsniedz pieprasīto summu par 0,01 €") in text(error)
    error = refused(lambda: award(case, "gulbenes-novads", Decimal("6200.01")), language="en")
    assert "more than the request by €0.01" in text(error)


def test_the_cap_is_allowed_exactly_and_the_excess_named_to_the_cent():
    case = build_source_case()
    Application.objects.filter(pk=case.applications["smiltenes-novads"].pk).update(
        requested_amount=Decimal("12000")
    )
    award(case, "smiltenes-novads", Decimal("10000.00"))
    error = refused(lambda: award(case, "smiltenes-novads", Decimal("10300.00")), language="en")
    assert codes(error) == ["over_cap"]
    assert (
        "An award of €10,300.00 exceeds the maximum per municipality of €10,000.00 by €300.00."
        in (text(error))
    )


def test_the_pool_can_be_filled_to_the_cent_and_an_excess_names_what_remains_and_by_how_much():
    case = build_source_case()
    for slug, amount in [
        ("smiltenes-novads", "10000"),
        ("valkas-novads", "10000"),
        ("valmieras-pilseta", "9800"),
        ("gulbenes-novads", "6200"),
    ]:
        award(case, slug, Decimal(amount))
    # 36 000 allocated: 4 000 remain for Cēsis, to the cent.
    award(case, "cesu-novads", Decimal("4000.00"), reason="Fonda atlikums")
    assert sum(a.awarded_amount for a in Application.objects.all()) == Decimal("40000.00")

    award(case, "cesu-novads", Decimal("3500.00"), reason="Fonda atlikums")
    error = refused(lambda: award(case, "cesu-novads", Decimal("4000.01"), reason="Atlikums"))
    assert codes(error) == ["over_pool"]
    message = text(error)
    for figure in ["40 000,00 €", "36 000,00 €", "4 000,00 €", "0,01 €"]:
        assert spaced(figure) in message
    error = refused(
        lambda: award(case, "cesu-novads", Decimal("4300.00"), reason="Atlikums"), language="en"
    )
    assert text(error) == (
        "An award of €4,300.00 would exceed the pool of €40,000.00: €36,000.00 is already "
        "allocated to other applications, so at most €4,000.00 remains; the award is over by "
        "€300.00."
    )
    assert stored(case, "cesu-novads") == Decimal("3500.00")


def test_a_negative_award_is_refused_naming_it():
    case = build_source_case()
    error = refused(lambda: award(case, "valkas-novads", -CENT), language="en")
    assert codes(error) == ["negative_amount"]
    assert text(error) == "The awarded amount cannot be negative (-€0.01)."


# --- partial awards ------------------------------------------------------------------------------


def test_a_call_without_partial_awards_allows_the_full_request_and_nothing():
    case = build_source_case(partial_awards_allowed=False)
    award(case, "gulbenes-novads", Decimal("6200.00"))
    assert stored(case, "gulbenes-novads") == Decimal("6200.00")
    award(case, "gulbenes-novads", Decimal("0"))
    assert stored(case, "gulbenes-novads") == 0
    assert AllocationEvent.objects.count() == 2


@pytest.mark.parametrize("amount", ["6199.99", "0.01"])
def test_a_call_without_partial_awards_refuses_anything_between(amount):
    case = build_source_case(partial_awards_allowed=False)
    error = refused(lambda: award(case, "gulbenes-novads", Decimal(amount)), language="en")
    assert codes(error) == ["partial_not_allowed"]
    assert "€6,200.00" in text(error)
    assert f"€{Decimal(amount):,.2f}" in text(error)
    assert stored(case, "gulbenes-novads") == 0


def test_a_partial_award_needs_a_reason_of_its_own_but_a_full_one_takes_the_hint():
    case = build_source_case()
    hint = "Izmaiņu pamatojums"  # the screen's hint in an empty reason field
    award(case, "gulbenes-novads", Decimal("6200.00"), reason=hint)
    error = refused(lambda: award(case, "gulbenes-novads", Decimal("6199.99"), reason=hint))
    assert codes(error) == ["partial_reason_required"]
    assert spaced("6 199,99 €") in text(error)
    award(case, "gulbenes-novads", Decimal("6199.99"), reason="Daļa izmaksu nav attiecināmas")
    assert stored(case, "gulbenes-novads") == Decimal("6199.99")


# --- who may hold an award -----------------------------------------------------------------------


def test_a_withdrawn_application_can_be_cleared_but_not_given_a_cent():
    case = build_source_case()
    cesis = case.applications["cesu-novads"]
    award(case, "cesu-novads", Decimal("1000"))
    services.application_withdraw(application=cesis, by=case.staff["cesu-novads"])
    assert stored(case, "cesu-novads") == 0

    award(case, "cesu-novads", Decimal("0"))  # clearing what is already clear is no refusal
    error = refused(lambda: award(case, "cesu-novads", CENT))
    assert codes(error) == ["not_submitted"]
    assert cesis.reference in text(error)


# --- the call's limits ---------------------------------------------------------------------------


def test_a_cap_equal_to_the_pool_is_allowed_and_one_cent_above_it_is_refused():
    case = build_source_case()
    limits(case, "40000", "40000.00")
    assert Competition.objects.get().max_award_amount == Decimal("40000.00")
    error = refused(lambda: limits(case, "40000", "40000.01"), language="en")
    assert codes(error) == ["cap_above_pool"]
    assert "(€40,000.01) cannot exceed the pool (€40,000.00)" in text(error)


def test_a_cap_of_nothing_is_refused_by_the_rule_not_by_the_database():
    case = build_source_case()
    error = refused(lambda: limits(case, "40000", "0"))
    assert codes(error) == ["cap_not_positive"]
    assert spaced("0,00 €") in text(error)


def test_the_pool_can_come_down_to_what_is_allocated_but_not_a_cent_below():
    case = build_source_case()
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    limits(case, "40000.00", "10000")
    error = refused(lambda: limits(case, "39999.99", "10000"), language="en")
    assert codes(error) == ["pool_below_allocated"]
    assert "€40,000.00 is already allocated, €0.01 more than that" in text(error)


def test_the_cap_can_come_down_to_the_highest_award_but_not_a_cent_below():
    case = build_source_case()
    award(case, "valmieras-pilseta", Decimal("9800"))
    limits(case, "40000", "9800.00")
    error = refused(lambda: limits(case, "40000", "9799.99"))
    assert codes(error) == ["cap_below_award"]
    assert spaced("9 799,99 €") in text(error)
    assert spaced("9 800,00 €") in text(error)


def test_the_partial_award_switch_is_saved_both_ways():
    case = build_source_case()
    limits(case, "40000", "10000", partial=False)
    assert Competition.objects.get().partial_awards_allowed is False
    limits(case, "40000", "10000", partial=True)
    assert Competition.objects.get().partial_awards_allowed is True


def test_partial_awards_cannot_be_switched_off_while_one_is_funded_in_part():
    case = build_source_case()
    award(case, "cesu-novads", Decimal("4000"), reason="Fonda atlikums")
    error = refused(lambda: limits(case, "40000", "10000", partial=False))
    assert codes(error) == ["partial_awards_exist"]
    assert Competition.objects.get().partial_awards_allowed is True
    # An award of the whole request is not partial: the switch can go off then.
    award(case, "cesu-novads", Decimal("7500"), reason="Pilnā apjomā")
    limits(case, "40000", "10000", partial=False)


def test_a_decided_calls_limits_are_locked():
    case = build_source_case()
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    services.competition_decide(
        competition=case.competition, by=case.coordinator, rejection_reason="Nepietiek"
    )
    error = refused(lambda: limits(case, "50000", "10000"))
    assert codes(error) == ["allocation_locked"]
    assert Competition.objects.get().pool_amount == Decimal("40000.00")


# --- the decision --------------------------------------------------------------------------------


def test_a_call_never_published_cannot_be_decided():
    call = CompetitionFactory(
        status=Competition.Status.DRAFT, closes_at=timezone.now() - timedelta(minutes=1)
    )
    case = build_source_case()
    error = refused(
        lambda: services.competition_decide(
            competition=call, by=case.coordinator, rejection_reason="x"
        )
    )
    assert codes(error) == ["not_published"]
    assert Competition.objects.get(pk=call.pk).status == Competition.Status.DRAFT


def test_the_decision_is_stamped_on_the_call_and_on_each_application_it_decides():
    case = build_source_case()
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    moment = timezone.now().replace(microsecond=0) + timedelta(hours=1)
    with time_machine.travel(moment, tick=False):
        services.competition_decide(
            competition=case.competition, by=case.coordinator, rejection_reason="Nepietiek"
        )
    assert Competition.objects.get().decided_at == moment
    decided = Application.objects.exclude(status=ApplicationStatus.SUBMITTED)
    assert decided.count() == 5
    assert {a.decided_at for a in decided} == {moment}


# --- publishing a call ---------------------------------------------------------------------------


def draft_call(case, **overrides):
    call = CompetitionFactory(status=Competition.Status.DRAFT, **overrides)
    call.reviewers.set(case.reviewers)
    return call


def test_a_call_with_a_signatory_but_no_position_is_not_published():
    case = build_source_case()
    call = draft_call(case, signatory_position="")
    error = refused(lambda: competition_publish(competition=call, by=case.coordinator))
    assert codes(error) == ["incomplete_call"]
    assert "parakstītāj" in text(error)
    error = refused(
        lambda: competition_publish(competition=call, by=case.coordinator), language="en"
    )
    assert (
        text(error)
    ) == "The call cannot be published without: the letter signatory and position."
    assert Competition.objects.get(pk=call.pk).status == Competition.Status.DRAFT


def test_a_refusal_to_publish_lists_everything_missing():
    case = build_source_case()
    call = draft_call(case, signatory_name="")
    call.criteria.all().delete()
    call.reviewers.clear()
    error = refused(
        lambda: competition_publish(competition=call, by=case.coordinator), language="en"
    )
    assert text(error) == (
        "The call cannot be published without: scoring criteria, reviewers, "
        "the letter signatory and position."
    )


def test_a_call_whose_deadline_passed_is_not_published():
    case = build_source_case()
    call = draft_call(case)
    with time_machine.travel(call.closes_at, tick=False):
        error = refused(lambda: competition_publish(competition=call, by=case.coordinator))
    assert codes(error) == ["deadline_passed"]
    with time_machine.travel(call.closes_at - timedelta(seconds=1), tick=False):
        competition_publish(competition=call, by=case.coordinator)
    assert Competition.objects.get(pk=call.pk).status == Competition.Status.PUBLISHED


def test_publishing_is_recorded_with_its_author_and_time():
    case = build_source_case()
    call = draft_call(case)
    moment = timezone.now().replace(microsecond=0)
    with time_machine.travel(moment, tick=False):
        competition_publish(competition=call, by=case.coordinator)
    call.refresh_from_db()
    assert call.published_at == moment
    latest = call.history.order_by("-history_id").first()
    assert latest.history_user == case.coordinator
    assert latest.status == Competition.Status.PUBLISHED


def test_a_published_call_is_not_published_again():
    case = build_source_case()
    error = refused(
        lambda: competition_publish(competition=case.competition, by=case.coordinator),
        language="en",
    )
    assert codes(error) == ["not_draft"]
    assert "Published" in text(error) or "published" in text(error)


@pytest.mark.parametrize(
    ("pool", "cap", "named"),
    [("40000.005", "10000", "The pool"), ("40000", "9999.999", "The maximum award")],
)
def test_a_limit_that_is_not_an_amount_in_cents_is_refused_naming_the_limit(pool, cap, named):
    case = build_source_case()
    error = refused(lambda: limits(case, pool, cap), language="en")
    assert codes(error) == ["invalid_amount"]
    assert text(error) == f"{named} must be an amount in euros with at most two decimal places."
    call = Competition.objects.get()
    assert (call.pool_amount, call.max_award_amount) == (Decimal("40000.00"), Decimal("10000.00"))


def test_a_reason_typed_for_one_rejection_is_enough_without_a_default():
    case = build_source_case()
    cesis = case.applications["cesu-novads"]
    for slug in ["smiltenes-novads", "valkas-novads", "valmieras-pilseta", "gulbenes-novads"]:
        award(case, slug, Application.objects.get(pk=case.applications[slug].pk).requested_amount)
    services.decision_reasons_set(
        competition=case.competition,
        reasons={cesis.pk: "Vērtējums zem slieksņa"},
        by=case.coordinator,
    )
    services.competition_decide(competition=case.competition, by=case.coordinator)
    cesis.refresh_from_db()
    assert (cesis.status, cesis.decision_reason) == (
        ApplicationStatus.REJECTED,
        "Vērtējums zem slieksņa",
    )


def test_a_decision_without_reasons_names_each_application_it_would_reject():
    case = build_source_case()
    valka, cesis = case.applications["valkas-novads"], case.applications["cesu-novads"]
    for slug in ["smiltenes-novads", "valmieras-pilseta", "gulbenes-novads"]:
        award(case, slug, Application.objects.get(pk=case.applications[slug].pk).requested_amount)

    def decide():
        services.competition_decide(competition=case.competition, by=case.coordinator)

    error = refused(decide, language="en")
    assert codes(error) == ["reason_required"]
    assert text(error) in {
        f"Give a reason for rejecting applications {first}, {second}."
        for first, second in [
            (valka.reference, cesis.reference),
            (cesis.reference, valka.reference),
        ]
    }
    award(case, "valkas-novads", Decimal("10000"))
    assert text(refused(decide, language="en")) == (
        f"Give a reason for rejecting application {cesis.reference}."
    )
    assert Competition.objects.get().status == Competition.Status.PUBLISHED


def test_a_reason_typed_for_a_partial_award_is_the_one_recorded_and_the_decision_has_its_author():
    case = build_source_case()
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    cesis = case.applications["cesu-novads"]
    services.decision_reasons_set(
        competition=case.competition,
        reasons={cesis.pk: "Fonda atlikums: 4 000 € no pieprasītajiem 7 500 €"},
        by=case.coordinator,
    )
    services.competition_decide(
        competition=case.competition, by=case.coordinator, rejection_reason="Nepietiek"
    )
    cesis.refresh_from_db()
    assert cesis.status == ApplicationStatus.AWARDED
    assert cesis.decision_reason == "Fonda atlikums: 4 000 € no pieprasītajiem 7 500 €"
    assert cesis.history.order_by("-history_id").first().history_user == case.coordinator
    call = Competition.objects.get()
    assert call.history.order_by("-history_id").first().history_user == case.coordinator
