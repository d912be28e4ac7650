"""The one door to an awarded amount as the coordinator meets it: each refusal of an award with
its exact words and figures, in Latvian and in English; the partial award's edges (a cent, a
euro, a cent under the request, nothing); who is recorded as having set an amount, by hand, by
the proposal or on an objection upheld.

These are the changes to the award rules that once passed every test (``make mutation``)."""

from decimal import Decimal

import pytest
from django.utils import translation

from applications import services
from applications.models import AllocationEvent, Application, ApplicationStatus
from competitions.models import Competition

from ..amounts import spaced
from ..factories import staff_of
from ..source_case import build_source_case
from .common import codes, refused, text

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")
HINT_LV = "Izmaiņu pamatojums"  # what the allocation screen puts in an empty reason field
HINT_EN = "Reason for the change"


def award(case, slug, amount, reason="Pamatots"):
    return services.allocation_set(
        application=case.applications[slug],
        amount=Decimal(amount),
        by=case.coordinator,
        reason=reason,
    )


def stored(case, slug) -> Decimal:
    return Application.objects.get(pk=case.applications[slug].pk).awarded_amount


def latest_history_user(application):
    return application.history.order_by("-history_id").first().history_user


# --- above the request: the municipality named --------------------------------------------------


def test_an_award_above_the_request_names_the_municipality_and_every_figure():
    case = build_source_case()
    error = refused(lambda: award(case, "gulbenes-novads", "6200.01"))
    assert codes(error) == ["above_request"]
    assert text(error) == spaced(
        "Gulbenes novads pieprasīja 6 200,00 €; piešķīrums 6 200,01 € pārsniedz pieprasīto "
        "summu par 0,01 €."
    )
    error = refused(lambda: award(case, "gulbenes-novads", "6200.01"), language="en")
    assert text(error) == (
        "Gulbenes novads requested €6,200.00; an award of €6,200.01 is more than the request "
        "by €0.01."
    )
    assert stored(case, "gulbenes-novads") == 0


# --- a call without partial awards ---------------------------------------------------------------


def test_a_call_without_partial_awards_says_so_naming_the_municipality_and_both_amounts():
    case = build_source_case(partial_awards_allowed=False)
    error = refused(lambda: award(case, "gulbenes-novads", "6199.99"))
    assert codes(error) == ["partial_not_allowed"]
    assert text(error) == spaced(
        "Šajā konkursā daļējs finansējums nav atļauts: pašvaldībai “Gulbenes novads” var "
        "piešķirt visu pieprasīto summu 6 200,00 € vai neko, bet ne 6 199,99 €."
    )
    error = refused(lambda: award(case, "gulbenes-novads", "0.01"), language="en")
    assert text(error) == (
        "This call does not allow partial awards: Gulbenes novads can get the full €6,200.00 "
        "or nothing, not €0.01."
    )
    # The full request and nothing are the two amounts it takes.
    award(case, "gulbenes-novads", "6200.00")
    award(case, "gulbenes-novads", "0")
    assert stored(case, "gulbenes-novads") == 0


# --- a partial award must say why ----------------------------------------------------------------


@pytest.mark.parametrize("amount", ["0.01", "1.00", "6199.99"])
@pytest.mark.parametrize("hint", [HINT_LV, HINT_EN])
def test_any_award_between_nothing_and_the_request_needs_more_than_the_hint(amount, hint):
    case = build_source_case()
    error = refused(lambda: award(case, "gulbenes-novads", amount, reason=f"  {hint.upper()} "))
    assert codes(error) == ["partial_reason_required"]
    assert stored(case, "gulbenes-novads") == 0
    award(case, "gulbenes-novads", amount, reason="Daļa izmaksu nav attiecināmas")
    assert stored(case, "gulbenes-novads") == Decimal(amount)


@pytest.mark.parametrize("hint", [HINT_LV, HINT_EN])
def test_the_full_request_and_nothing_take_the_hint_as_their_reason(hint):
    case = build_source_case()
    award(case, "gulbenes-novads", "6200.00", reason=hint)
    award(case, "gulbenes-novads", "0.00", reason=hint)  # taking an award back is no partial one
    assert stored(case, "gulbenes-novads") == 0
    assert [e.amount_after for e in AllocationEvent.objects.order_by("id")] == [
        Decimal("6200.00"),
        Decimal("0.00"),
    ]


def test_the_refusal_of_a_partial_award_without_its_reason_reads_in_full():
    case = build_source_case()
    error = refused(lambda: award(case, "gulbenes-novads", "6199.99", reason=HINT_LV))
    assert text(error) == spaced(
        "Piešķīrums 6 199,99 € ir mazāks par pieprasītajiem 6 200,00 €: norādiet pamatojumu, "
        "ko pašvaldība lasīs lēmuma vēstulē (piemēram, kuras izmaksas nav attiecināmas vai ka "
        "konkursa kopējais finansējums ir izsmelts)."
    )
    error = refused(lambda: award(case, "gulbenes-novads", "1.00", reason=HINT_EN), language="en")
    assert text(error) == (
        "An award of €1.00 is less than the €6,200.00 requested: give the reason the "
        "municipality will read in its letter (for example, which costs are not eligible or "
        "that the pool is exhausted)."
    )


# --- only a submitted application holds money ----------------------------------------------------


def test_a_withdrawn_application_is_refused_money_naming_it_and_its_status():
    case = build_source_case()
    cesis = case.applications["cesu-novads"]
    services.application_withdraw(application=cesis, by=case.staff["cesu-novads"])
    error = refused(lambda: award(case, "cesu-novads", CENT))
    assert codes(error) == ["not_submitted"]
    assert text(error) == (
        f"Finansējumu var piešķirt tikai iesniegtam pieteikumam; {cesis.reference} statuss: "
        "atsaukts."
    )
    error = refused(lambda: award(case, "cesu-novads", CENT), language="en")
    assert text(error) == (
        f"Only a submitted application can be awarded money; {cesis.reference} is withdrawn."
    )
    award(case, "cesu-novads", "0")  # clearing it is no refusal
    assert stored(case, "cesu-novads") == 0


def test_a_draft_is_refused_money_as_this_draft():
    case = build_source_case(close=False)
    staff = staff_of("apes-novads")
    draft = services.application_start(
        competition=case.competition, municipality=staff.municipalities.get(), by=staff
    )

    def give():
        services.allocation_set(application=draft, amount=CENT, by=case.coordinator, reason="x")

    error = refused(give)
    assert codes(error) == ["not_submitted"]
    assert text(error) == (
        "Finansējumu var piešķirt tikai iesniegtam pieteikumam; šis melnraksts statuss: melnraksts."
    )
    assert text(refused(give, language="en")) == (
        "Only a submitted application can be awarded money; this draft is draft."
    )
    assert Application.objects.get(pk=draft.pk).awarded_amount == 0


# --- who set the amount --------------------------------------------------------------------------


def test_an_amount_set_by_hand_is_recorded_as_the_coordinators():
    case = build_source_case()
    award(case, "valkas-novads", "10000", reason="Pilnā apjomā")
    valka = Application.objects.get(pk=case.applications["valkas-novads"].pk)
    assert latest_history_user(valka) == case.coordinator
    assert valka.history.order_by("-history_id").first().awarded_amount == Decimal("10000.00")
    event = AllocationEvent.objects.get()
    assert (event.application, event.by, event.reason) == (valka, case.coordinator, "Pilnā apjomā")


def test_the_proposal_applied_writes_each_amount_with_its_rank_reason_and_author():
    case = build_source_case()
    with translation.override("lv"):
        services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    events = {
        event.application.municipality.slug: event
        for event in AllocationEvent.objects.select_related("application__municipality")
    }
    assert {slug: (e.amount_before, e.amount_after) for slug, e in events.items()} == {
        "smiltenes-novads": (0, Decimal("10000.00")),
        "valkas-novads": (0, Decimal("10000.00")),
        "valmieras-pilseta": (0, Decimal("9800.00")),
        "gulbenes-novads": (0, Decimal("6200.00")),
        "cesu-novads": (0, Decimal("4000.00")),
    }
    assert {e.by for e in events.values()} == {case.coordinator}
    full = "finansēts pilnā apjomā"
    assert {slug: e.reason for slug, e in events.items()} == {
        "smiltenes-novads": f"Piemērots sadalījuma priekšlikums (1. vieta): {full}",
        "valkas-novads": f"Piemērots sadalījuma priekšlikums (2. vieta): {full}",
        "valmieras-pilseta": f"Piemērots sadalījuma priekšlikums (3. vieta): {full}",
        "gulbenes-novads": f"Piemērots sadalījuma priekšlikums (4. vieta): {full}",
        "cesu-novads": spaced(
            "Piemērots sadalījuma priekšlikums (5. vieta): daļēji: kopējais finansējums ir "
            "izsmelts (4 000,00 € / 7 500,00 €)"
        ),
    }
    for slug, application in case.applications.items():
        application.refresh_from_db()
        assert application.awarded_amount == events[slug].amount_after
        assert latest_history_user(application) == case.coordinator


# --- an objection upheld ---------------------------------------------------------------------------


def decided_with_cesis_rejected(case):
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    award(case, "cesu-novads", "0", reason="Atteikums")
    services.competition_decide(
        competition=case.competition, by=case.coordinator, rejection_reason="Nepietiek"
    )
    cesis = Application.objects.get(pk=case.applications["cesu-novads"].pk)
    assert cesis.status == ApplicationStatus.REJECTED
    return cesis


def test_an_objection_upheld_awards_a_rejected_application_what_remains_of_the_pool():
    case = build_source_case()
    cesis = decided_with_cesis_rejected(case)

    def reconsider(amount):
        return services.allocation_reconsider(
            application=cesis,
            amount=Decimal(amount),
            by=case.coordinator,
            reason="Iebilde pamatota",
        )

    # 36 000 of the 40 000 are awarded to the others: 4 000 remain, not a cent more.
    error = refused(lambda: reconsider("4000.01"))
    assert codes(error) == ["over_pool"]
    reconsider("4000.00")
    cesis.refresh_from_db()
    assert (cesis.status, cesis.awarded_amount) == (ApplicationStatus.AWARDED, Decimal("4000.00"))
    assert latest_history_user(cesis) == case.coordinator
    event = AllocationEvent.objects.filter(application=cesis).latest("id")
    assert (event.amount_before, event.amount_after, event.by, event.reason) == (
        Decimal("0.00"),
        Decimal("4000.00"),
        case.coordinator,
        "Iebilde pamatota",
    )


def test_without_an_objection_a_rejected_application_stays_without_money():
    case = build_source_case()
    decided_with_cesis_rejected(case)
    error = refused(lambda: award(case, "cesu-novads", CENT))
    assert codes(error) == ["allocation_locked"]
    assert stored(case, "cesu-novads") == 0


# --- switching partial awards off: what counts as partial ----------------------------------------


def switch_partial_off(case):
    return services.competition_set_limits(
        competition=case.competition,
        pool_amount=Decimal("40000"),
        max_award_amount=Decimal("10000"),
        partial_awards_allowed=False,
        by=case.coordinator,
    )


@pytest.mark.parametrize("amount", ["0.01", "1.00", "6199.99"])
def test_an_award_of_a_cent_a_euro_or_a_cent_under_the_request_is_partial(amount):
    case = build_source_case()
    award(case, "gulbenes-novads", amount, reason="Daļa izmaksu nav attiecināmas")
    error = refused(lambda: switch_partial_off(case))
    assert codes(error) == ["partial_awards_exist"]
    assert Competition.objects.get().partial_awards_allowed is True


def test_nothing_and_the_whole_request_are_not_partial():
    case = build_source_case()
    award(case, "gulbenes-novads", "6200.00")
    award(case, "valkas-novads", "10000.00")
    award(case, "valkas-novads", "0.00")
    switch_partial_off(case)
    assert Competition.objects.get().partial_awards_allowed is False
