"""The money door after the decision: an award comes down (a plan agreed for less, an award
declined) but never goes up, a rejection stays a rejection, and only an objection upheld
revises the decision itself, up or down, within the same rules. Each refusal with its code and
its figures as the coordinator reads them, in Latvian and in English."""

from decimal import Decimal

import pytest

from applications import services
from applications.models import AllocationEvent, Application, ApplicationStatus
from applications.services.money import award_made

from ..amounts import spaced
from ..source_case import build_source_case
from .common import codes, refused, text

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")


def award(case, slug, amount, reason="Plāns saskaņots par mazāku summu"):
    return services.allocation_set(
        application=case.applications[slug], amount=amount, by=case.coordinator, reason=reason
    )


def reconsider(case, slug, amount, reason="Iebildums atzīts par pamatotu"):
    return services.allocation_reconsider(
        application=case.applications[slug], amount=amount, by=case.coordinator, reason=reason
    )


def stored(case, slug) -> Application:
    return Application.objects.get(pk=case.applications[slug].pk)


def decided_case():
    """The source case decided: four awarded as proposed, Cēsis rejected (its 4 000 cleared
    before the decision), 36 000 of the 40 000 allocated."""
    case = build_source_case()
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    award(case, "cesu-novads", Decimal("0"), reason="Projekts neatbilst konkursa mērķim")
    services.competition_decide(
        competition=case.competition, by=case.coordinator, rejection_reason="Fonda nepietiek"
    )
    assert stored(case, "cesu-novads").status == ApplicationStatus.REJECTED
    assert stored(case, "gulbenes-novads").awarded_amount == Decimal("6200.00")
    return case


def test_an_award_comes_down_after_the_decision_and_setting_it_again_writes_nothing():
    case = decided_case()
    award(case, "gulbenes-novads", Decimal("6000.00"))
    assert stored(case, "gulbenes-novads").awarded_amount == Decimal("6000.00")
    rows = AllocationEvent.objects.count()
    # The same amount again is no raise: no refusal, and no ledger row for a change not made.
    award(case, "gulbenes-novads", Decimal("6000.00"))
    assert AllocationEvent.objects.count() == rows
    assert stored(case, "gulbenes-novads").status == ApplicationStatus.AWARDED


def test_an_award_raised_by_a_cent_after_the_decision_is_refused_naming_the_cent():
    case = decided_case()
    award(case, "gulbenes-novads", Decimal("6000.00"))

    error = refused(lambda: award(case, "gulbenes-novads", Decimal("6000.01")), language="en")
    assert codes(error) == ["raise_after_decision"]
    assert text(error) == (
        "The call has been decided: an award can be lowered but never raised; €6,000.01 is "
        "more than the award of €6,000.00 by €0.01."
    )
    error = refused(lambda: award(case, "gulbenes-novads", Decimal("6100.00")))
    assert text(error) == spaced(
        "Par konkursu ir pieņemts lēmums: piešķirto finansējumu var samazināt, bet ne "
        "palielināt; 6 100,00 € ir par 100,00 € vairāk nekā piešķirtie 6 000,00 €."
    )
    assert stored(case, "gulbenes-novads").awarded_amount == Decimal("6000.00")


def test_a_rejected_application_gets_nothing_after_the_decision_but_through_an_objection():
    case = decided_case()
    error = refused(lambda: award(case, "cesu-novads", Decimal("1000.00")), language="en")
    assert codes(error) == ["allocation_locked"]
    assert text(error) == "The call has been decided; its allocation is locked."
    error = refused(lambda: award(case, "cesu-novads", CENT))
    assert text(error) == "Konkursā jau ir pieņemts lēmums; finansējuma sadalījums ir slēgts."
    assert stored(case, "cesu-novads").awarded_amount == 0
    assert stored(case, "cesu-novads").status == ApplicationStatus.REJECTED


def test_an_objection_upheld_overturns_a_rejection_from_the_first_cent():
    case = decided_case()
    reconsider(case, "cesu-novads", Decimal("0.50"))
    cesis = stored(case, "cesu-novads")
    assert (cesis.status, cesis.awarded_amount) == (ApplicationStatus.AWARDED, Decimal("0.50"))
    event = AllocationEvent.objects.filter(application=cesis).latest("id")
    assert (event.amount_before, event.amount_after) == (0, Decimal("0.50"))
    assert event.reason == "Iebildums atzīts par pamatotu"


def test_an_objection_rejected_at_nothing_leaves_the_rejection_as_it_was():
    case = decided_case()
    rows = AllocationEvent.objects.count()
    reconsider(case, "cesu-novads", Decimal("0"))
    cesis = stored(case, "cesu-novads")
    assert (cesis.status, cesis.awarded_amount) == (ApplicationStatus.REJECTED, 0)
    assert AllocationEvent.objects.count() == rows


def test_an_objection_upheld_raises_an_award_within_the_request_and_the_pool():
    case = decided_case()
    award(case, "gulbenes-novads", Decimal("6000.00"))
    reconsider(case, "gulbenes-novads", Decimal("6200.00"))
    gulbene = stored(case, "gulbenes-novads")
    assert (gulbene.status, gulbene.awarded_amount) == (ApplicationStatus.AWARDED, 6200)
    # The same rules as before the decision: the request is the ceiling.
    error = refused(lambda: reconsider(case, "gulbenes-novads", Decimal("6200.01")))
    assert codes(error) == ["above_request"]


def test_lowering_an_award_to_nothing_after_the_decision_declines_it_and_only_then():
    case = decided_case()
    award(case, "gulbenes-novads", CENT)
    assert stored(case, "gulbenes-novads").status == ApplicationStatus.AWARDED
    award(case, "gulbenes-novads", Decimal("0"), reason="Pašvaldība atteicās no finansējuma")
    gulbene = stored(case, "gulbenes-novads")
    assert (gulbene.status, gulbene.awarded_amount) == (ApplicationStatus.DECLINED, 0)


@pytest.mark.parametrize("reason", ["", "   \n"])
def test_a_change_of_an_award_without_a_reason_is_refused_in_both_languages(reason):
    case = build_source_case()
    error = refused(
        lambda: award(case, "valkas-novads", Decimal("100"), reason=reason), language="en"
    )
    assert codes(error) == ["reason_required"]
    assert text(error) == "Give a reason for the change of the awarded amount."
    error = refused(lambda: award(case, "valkas-novads", Decimal("100"), reason=reason))
    assert text(error) == "Norādiet piešķirtās summas izmaiņas pamatojumu."
    assert stored(case, "valkas-novads").awarded_amount == 0


def test_an_award_in_fractions_of_a_cent_is_refused_naming_the_field():
    case = build_source_case()
    error = refused(lambda: award(case, "valkas-novads", Decimal("100.005")), language="en")
    assert codes(error) == ["invalid_amount"]
    assert text(error) == (
        "The awarded amount must be an amount in euros with at most two decimal places."
    )
    error = refused(lambda: award(case, "valkas-novads", "simts"))
    assert (
        text(error) == "Piešķirtā summa jānorāda euro ar ne vairāk kā diviem cipariem aiz komata."
    )


def test_the_proposal_applied_after_the_decision_moves_nothing():
    case = decided_case()
    award(case, "gulbenes-novads", Decimal("6000.00"))
    rows = AllocationEvent.objects.count()
    # Before the decision the proposal gave Gulbene its 6 200 and Cēsis its 4 000; after it
    # the decision stands, and only an objection upheld revises it.
    proposal = services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    assert proposal.rows == []
    assert AllocationEvent.objects.count() == rows
    assert stored(case, "gulbenes-novads").awarded_amount == Decimal("6000.00")
    assert stored(case, "cesu-novads").status == ApplicationStatus.REJECTED


def test_an_award_made_reports_the_calls_total_after_it():
    """What the proposal carries from one award to the next, so that each is judged against
    the pool as the awards before it left it."""
    case = build_source_case()
    valka = case.applications["valkas-novads"]
    write = award_made(
        competition=case.competition,
        application=valka,
        amount=Decimal("2500.00"),
        by=case.coordinator,
        reason="Pamatots",
        allocated_total=Decimal("30000.00"),
    )
    assert write.total == Decimal("32500.00")
    assert (write.event.amount_before, write.event.amount_after) == (0, Decimal("2500.00"))
    lower = award_made(
        competition=case.competition,
        application=valka,
        amount=Decimal("1000.00"),
        by=case.coordinator,
        reason="Pamatots",
        allocated_total=write.total,
    )
    assert lower.total == Decimal("31000.00")
