"""The call's limits and its decision as the coordinator meets them: each refusal's code and its
whole message, with its figures, in Latvian and in English; each limit at its edge; the reasons
saved for the decision, what the decision stamps and records, and whom it tells.

These are the changes to the rules of the limits and the decision that once passed every test
(``make mutation``): a refusal whose text was lost or garbled, a cap of one cent refused, a call
decided the very second its deadline passed refused, a count of saved reasons off by one."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from applications import services
from applications.models import AllocationEvent, Application, ApplicationStatus
from competitions.models import Competition
from grants.models import PlanVersion

from ..amounts import spaced
from ..factories import CompetitionFactory, municipality, staff_of
from ..source_case import build_source_case, close_call
from .common import codes, limits, refused, text

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")
RIGA = ZoneInfo("Europe/Riga")


def said(act, code) -> tuple[str, str]:
    """The refusal's message in Latvian and in English, once its code is the one expected."""
    messages = []
    for language in ("lv", "en"):
        error = refused(act, language=language)
        assert codes(error) == [code]
        messages.append(text(error))
    return messages[0], messages[1]


def award(case, slug, amount, reason="Pamatots"):
    return services.allocation_set(
        application=case.applications[slug],
        amount=Decimal(amount),
        by=case.coordinator,
        reason=reason,
    )


def decide(case, **reasons):
    return services.competition_decide(
        competition=case.competition, by=case.coordinator, rejection_reason="Nepietiek", **reasons
    )


def reasons_set(case, reasons):
    return services.decision_reasons_set(
        competition=case.competition, reasons=reasons, by=case.coordinator
    )


def call():
    return Competition.objects.get()


# --- the call's limits ---------------------------------------------------------------------------


def test_a_decided_calls_limits_are_refused_saying_why():
    case = build_source_case()
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    decide(case)
    assert said(lambda: limits(case, "50000", "10000"), "allocation_locked") == (
        "Konkursā jau ir pieņemts lēmums; kopējo finansējumu un maksimālo summu vairs nevar "
        "mainīt.",
        "The call has been decided; its pool and cap can no longer change.",
    )


def test_a_cap_of_one_cent_is_allowed_and_a_cap_of_nothing_is_refused_naming_it():
    case = build_source_case()
    limits(case, "40000", "0.01")
    assert call().max_award_amount == CENT
    limits(case, "40000", "1.00")
    assert call().max_award_amount == Decimal("1.00")
    assert said(lambda: limits(case, "40000", "0"), "cap_not_positive") == (
        spaced("Maksimālajam finansējumam jābūt lielākam par nulli, nevis 0,00 €."),
        "The maximum award must be more than zero, not €0.00.",
    )
    assert call().max_award_amount == Decimal("1.00")


def test_a_cap_above_the_pool_is_refused_with_both_figures():
    case = build_source_case()
    assert said(lambda: limits(case, "40000", "40000.01"), "cap_above_pool") == (
        spaced(
            "Maksimālais finansējums (40 000,01 €) nedrīkst pārsniegt kopējo finansējumu "
            "(40 000,00 €)."
        ),
        "The maximum award (€40,000.01) cannot exceed the pool (€40,000.00).",
    )


def test_a_pool_below_what_is_allocated_is_refused_naming_the_cent_it_misses():
    case = build_source_case()
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    limits(case, "40000.00", "10000")
    assert said(lambda: limits(case, "39999.99", "10000"), "pool_below_allocated") == (
        spaced(
            "Kopējo finansējumu nevar samazināt līdz 39 999,99 €: jau piešķirti "
            "40 000,00 €, par 0,01 € vairāk."
        ),
        "The pool cannot be lowered to €39,999.99: €40,000.00 is already allocated, "
        "€0.01 more than that.",
    )
    assert call().pool_amount == Decimal("40000.00")


def test_a_cap_below_the_highest_award_is_refused_naming_both():
    case = build_source_case()
    award(case, "valmieras-pilseta", "9800")
    limits(case, "40000", "9800.00")
    assert said(lambda: limits(case, "40000", "9799.99"), "cap_below_award") == (
        spaced(
            "Maksimālo finansējumu nevar samazināt līdz 9 799,99 €: kādam pieteikumam jau "
            "piešķirti 9 800,00 €."
        ),
        "The maximum award cannot be lowered to €9,799.99: an application is already "
        "allocated €9,800.00.",
    )
    assert call().max_award_amount == Decimal("9800.00")


def test_switching_partial_awards_off_while_one_is_funded_in_part_is_refused_saying_why():
    case = build_source_case()
    award(case, "cesu-novads", "4000", reason="Fonda atlikums")
    assert said(lambda: limits(case, "40000", "10000", partial=False), "partial_awards_exist") == (
        "Daļēju finansējumu nevar aizliegt: dažiem pieteikumiem tas jau piešķirts daļēji.",
        "Partial awards cannot be switched off: some applications are funded in part.",
    )
    assert call().partial_awards_allowed is True


def test_a_change_of_the_limits_is_kept_in_the_calls_history_with_its_author():
    case = build_source_case()
    limits(case, "45000", "9000", partial=False)
    latest = call().history.order_by("-history_id").first()
    assert latest.history_user == case.coordinator
    assert (latest.pool_amount, latest.max_award_amount, latest.partial_awards_allowed) == (
        Decimal("45000.00"),
        Decimal("9000.00"),
        False,
    )


# --- what stops a decision -----------------------------------------------------------------------


def test_a_call_decided_once_is_not_decided_again_and_says_so():
    case = build_source_case()
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    decide(case)
    assert said(lambda: decide(case), "already_decided") == (
        "Konkursā jau ir pieņemts lēmums.",
        "The call has already been decided.",
    )


def test_a_draft_call_cannot_be_decided_and_says_why():
    case = build_source_case()
    Competition.objects.filter(pk=case.competition.pk).update(status=Competition.Status.DRAFT)
    assert said(lambda: decide(case), "not_published") == (
        "Lēmumu var pieņemt tikai izsludinātā konkursā.",
        "Only a published call can be decided.",
    )
    assert call().status == Competition.Status.DRAFT


def test_a_call_can_be_decided_from_its_deadline_on_not_a_second_before():
    case = build_source_case()
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    deadline = datetime(2031, 3, 31, 17, 30, tzinfo=RIGA)
    Competition.objects.filter(pk=case.competition.pk).update(closes_at=deadline)
    with time_machine.travel(deadline - timedelta(seconds=1), tick=False):
        lv, en = said(lambda: decide(case), "call_still_open")
    assert lv == (
        "Konkurss vēl ir atvērts līdz 31.03.2031. 17:30 (pēc Rīgas laika); lēmumu var pieņemt "
        "pēc termiņa beigām."
    )
    assert en == (
        "The call is still open until 31 Mar 2031, 17:30 (Riga time); decide after the deadline."
    )
    assert call().status == Competition.Status.PUBLISHED
    with time_machine.travel(deadline, tick=False):
        decide(case)
    assert (call().status, call().decided_at) == (Competition.Status.DECIDED, deadline)


# --- what the decision records -------------------------------------------------------------------


def test_a_partial_award_states_the_reason_the_ledger_lists_last():
    """The ledger lists its rows by time ("at", then id): a row written later with an earlier
    clock (another server's) is not the latest, and the decision takes the latest."""
    case = build_source_case()
    start = datetime(2031, 5, 4, 10, 0, tzinfo=RIGA)
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        award(case, "cesu-novads", "3500", reason="Fonda atlikums")
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        award(case, "cesu-novads", "4000", reason="Daļa izmaksu nav attiecināmas")
    for slug in ["smiltenes-novads", "valkas-novads", "valmieras-pilseta"]:
        award(case, slug, "10000" if slug != "valmieras-pilseta" else "9800")
    award(case, "gulbenes-novads", "2000", reason="Gulbenes pamatojums")
    decide(case)
    cesis = Application.objects.get(pk=case.applications["cesu-novads"].pk)
    assert cesis.status == ApplicationStatus.AWARDED
    assert AllocationEvent.objects.filter(application=cesis).last().reason == "Fonda atlikums"
    assert cesis.decision_reason == "Fonda atlikums"
    gulbene = Application.objects.get(pk=case.applications["gulbenes-novads"].pk)
    assert gulbene.decision_reason == "Gulbenes pamatojums"
    # A full award states no reason: the request is granted.
    valka = Application.objects.get(pk=case.applications["valkas-novads"].pk)
    assert (valka.status, valka.decision_reason) == (ApplicationStatus.AWARDED, "")


def test_of_two_ledger_rows_written_in_the_same_instant_the_later_gives_the_reason():
    case = build_source_case()
    with time_machine.travel(datetime(2031, 5, 4, 10, 0, tzinfo=RIGA), tick=False):
        award(case, "cesu-novads", "3500", reason="Fonda atlikums")
        award(case, "cesu-novads", "4000", reason="Daļa izmaksu nav attiecināmas")
    for slug, amount in [
        ("smiltenes-novads", "10000"),
        ("valkas-novads", "10000"),
        ("valmieras-pilseta", "9800"),
        ("gulbenes-novads", "6200"),
    ]:
        award(case, slug, amount)
    decide(case)
    cesis = Application.objects.get(pk=case.applications["cesu-novads"].pk)
    assert cesis.decision_reason == "Daļa izmaksu nav attiecināmas"


def test_a_partial_award_with_no_row_in_the_ledger_is_decided_without_an_invented_reason():
    """An amount the ledger does not explain (written before the ledger kept it) is awarded
    with no reason rather than a made-up one."""
    case = build_source_case()
    for slug, amount in [
        ("smiltenes-novads", "10000"),
        ("valkas-novads", "10000"),
        ("valmieras-pilseta", "9800"),
    ]:
        award(case, slug, amount)
    gulbene = case.applications["gulbenes-novads"]
    Application.objects.filter(pk=gulbene.pk).update(awarded_amount=Decimal("3000.00"))
    assert not AllocationEvent.objects.filter(application=gulbene).exists()
    decide(case)
    gulbene.refresh_from_db()
    assert (gulbene.status, gulbene.awarded_amount, gulbene.decision_reason) == (
        ApplicationStatus.AWARDED,
        Decimal("3000.00"),
        "",
    )


def test_the_decision_opens_each_grant_in_the_coordinators_name_and_writes_to_each_municipality(
    django_capture_on_commit_callbacks,
):
    case = build_source_case()
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        decide(case)
    versions = PlanVersion.objects.filter(grant__application__competition=case.competition)
    assert versions.count() == 5
    assert {version.created_by for version in versions} == {case.coordinator}
    assert len(mail.outbox) == 5
    title = case.competition.title_lv
    for message in mail.outbox:
        assert f"Konkursā “{title}” ir pieņemts lēmums" in message.body, message.body


# --- the reasons saved before the decision -------------------------------------------------------


def test_saving_reasons_returns_how_many_changed_strips_them_and_keeps_each_change():
    case = build_source_case()
    valka, cesis = case.applications["valkas-novads"], case.applications["cesu-novads"]
    rows = Application.history.count()
    assert reasons_set(case, {valka.pk: "  Vērtējums zem slieksņa\n", cesis.pk: "Nepietiek"}) == 2
    assert Application.history.count() == rows + 2
    valka.refresh_from_db()
    assert valka.decision_reason == "Vērtējums zem slieksņa"
    latest = valka.history.order_by("-history_id").first()
    assert (latest.history_user, latest.decision_reason) == (
        case.coordinator,
        "Vērtējums zem slieksņa",
    )
    # The same reasons again, whitespace aside: nothing changes, no history row is written.
    assert reasons_set(case, {valka.pk: "Vērtējums zem slieksņa ", cesis.pk: "Nepietiek"}) == 0
    assert Application.history.count() == rows + 2
    assert reasons_set(case, {valka.pk: "Vērtējums zem slieksņa", cesis.pk: "Cits"}) == 1
    assert Application.history.count() == rows + 3


def test_reasons_cannot_change_after_the_decision():
    case = build_source_case()
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    decide(case)
    valka = case.applications["valkas-novads"]
    assert said(lambda: reasons_set(case, {valka.pk: "Vēlāk"}), "already_decided") == (
        "Konkursā lēmums jau ir pieņemts; pamatojumus vairs nevar mainīt.",
        "The call has been decided; its reasons can no longer change.",
    )


def test_a_reason_for_applications_no_longer_submitted_is_refused_listing_them_in_order():
    case = build_source_case()
    valka, cesis = case.applications["valkas-novads"], case.applications["cesu-novads"]
    for slug in ["valkas-novads", "cesu-novads"]:
        services.application_withdraw(application=case.applications[slug], by=case.staff[slug])
    first, second = sorted([valka.reference, cesis.reference])
    gulbene = case.applications["gulbenes-novads"]
    lv, en = said(
        lambda: reasons_set(case, {cesis.pk: "A", gulbene.pk: "B", valka.pk: "C"}),
        "not_submitted",
    )
    assert lv == (
        "Lēmuma pamatojumu var saglabāt tikai šī konkursa iesniegtam pieteikumam, ne šādiem: "
        f"{first}, {second}."
    )
    assert en == (
        "A reason for the decision can be saved only for a submitted application of this call, "
        f"not for: {first}, {second}."
    )
    gulbene.refresh_from_db()
    assert gulbene.decision_reason == ""


def test_a_reason_for_a_draft_is_refused_naming_the_draft():
    case = build_source_case(close=False)
    draft = services.application_start(
        competition=case.competition,
        municipality=municipality("aluksnes-novads"),
        by=staff_of("aluksnes-novads"),
    )
    close_call(case.competition)
    lv, en = said(lambda: reasons_set(case, {draft.pk: "Melnrakstam"}), "not_submitted")
    assert lv.endswith("ne šādiem: šis melnraksts.")
    assert en.endswith("not for: this draft.")


def test_a_reason_for_an_application_of_another_call_is_refused_saying_so():
    case = build_source_case()
    valka = case.applications["valkas-novads"]
    other = services.application_start(
        competition=CompetitionFactory(),
        municipality=municipality("valkas-novads"),
        by=case.staff["valkas-novads"],
    )
    lv, en = said(
        lambda: reasons_set(case, {valka.pk: "Pamatots", other.pk: "Svešs"}), "not_submitted"
    )
    assert lv == (
        "Lēmuma pamatojumu var saglabāt tikai šī konkursa iesniegtam pieteikumam, ne šādiem: "
        "cita konkursa pieteikums."
    )
    assert en == (
        "A reason for the decision can be saved only for a submitted application of this call, "
        "not for: an application of another call."
    )
    valka.refresh_from_db()
    assert valka.decision_reason == ""
