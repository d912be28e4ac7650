"""The grants' money rules at their edges (money rule 5: payments, the advance's share, the
final payment and the repayment; reversals; an amendment of the plan below what was paid):
equal allowed, one cent over refused, each refusal's code and its figures as the coordinator
reads them, in Latvian and in English.

These are the changes to ``grants.settlement`` that ``make mutation`` showed no test noticed.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from competitions.models import Competition
from grants import services as grant_services
from grants import settlement
from grants.models import Grant, Payment, PlanVersion

from .amounts import spaced
from .factories import coordinator, decided_grant, grant_in_progress
from .test_grants_settlement import TODAY, codes, figures, pay, submitted, text
from .test_money_state_machine import scaled

pytestmark = pytest.mark.django_db


def refused(act, *, language="lv") -> ValidationError:
    with translation.override(language), pytest.raises(ValidationError) as error:
        act()
    return error.value


def reverse(payment, boss, reference="KOR-1", note="Kļūda"):
    return settlement.payment_reverse(
        payment=payment, by=boss, paid_on=TODAY, reference=reference, note=note
    )


def sums(grant) -> tuple[Decimal, Decimal]:
    return figures(grant)[0]


@pytest.fixture
def valka():
    """Valka's grant of 5 000 € in progress (an advance of 50 %), its staff, its coordinator."""
    grant = grant_in_progress("valkas-novads", amount=Decimal("5000.00"))
    return grant, grant.municipality.staff.get(), coordinator("coordinator-valka-2")


def settled_below(grant, staff, boss, *, paid_in_full: bool):
    """Valka's accepted final spending of 4 000 €, after 2 500 € (the advance) or 5 000 € (the
    advance and an interim payment) was paid."""
    pay(grant, boss, "advance", "2500.00")
    if paid_in_full:
        interim = submitted(grant, staff, ["1000.00", "500.00"], kind="interim")
        settlement.report_accept(report=interim, by=boss)
        pay(grant, boss, "interim", "2500.00")
    settlement.report_accept(report=submitted(grant, staff, ["2500.00", "1500.00"]), by=boss)
    grant.refresh_from_db()
    return grant


# --- the amount and the kind ----------------------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    [100.0, 100, "100.00", Decimal("NaN"), Decimal("Infinity"), Decimal("0.001"), Decimal("-0.01")],
)
def test_an_amount_that_is_not_a_positive_sum_in_cents_is_refused(valka, amount):
    grant, _staff, boss = valka
    error = refused(
        lambda: settlement.payment_record(
            grant=grant, by=boss, kind="advance", amount=amount, paid_on=TODAY, reference="MU-1"
        )
    )
    assert codes(error) == ["invalid_amount"]
    assert "ne vairāk kā divām zīmēm aiz komata" in text(error)
    assert not Payment.objects.exists()


def test_one_cent_is_paid_and_the_reference_and_note_are_kept_without_their_spaces(valka):
    grant, _staff, boss = valka
    payment = settlement.payment_record(
        grant=grant,
        by=boss,
        kind="advance",
        amount=Decimal("0.01"),
        paid_on=date(2026, 11, 30),
        reference="  MU-77 ",
        note=" Pirmā daļa ",
    )
    payment.refresh_from_db()
    assert (payment.amount, payment.reference, payment.note, payment.paid_on) == (
        Decimal("0.01"),
        "MU-77",
        "Pirmā daļa",
        date(2026, 11, 30),
    )
    assert (payment.recorded_by, payment.recorded_at is not None) == (boss, True)
    assert sums(grant) == (Decimal("0.01"), Decimal("0.00"))
    assert grant.history.first().history_user == boss  # the grant's sums changed by whom


def test_an_unknown_kind_of_payment_is_refused_naming_it(valka):
    grant, _staff, boss = valka
    error = refused(lambda: pay(grant, boss, "bonus", "10.00"))
    assert codes(error) == ["unknown_kind"]
    assert text(error) == "Nezināms maksājuma veids “bonus”."


def test_a_reviewer_or_staff_cannot_record_a_payment_told_in_both_languages(valka):
    grant, staff, _boss = valka
    assert text(refused(lambda: pay(grant, staff, "advance", "10.00"))) == (
        "Tikai koordinators var reģistrēt maksājumu."
    )
    assert text(refused(lambda: pay(grant, staff, "advance", "10.00"), language="en")) == (
        "Only a coordinator can record a payment."
    )


def test_nothing_is_paid_before_the_agreement_is_signed_naming_the_grant_and_its_status():
    grant = decided_grant("valkas-novads")
    boss = coordinator("coordinator-valka-3")
    latvian = refused(lambda: pay(grant, boss, "advance", "10.00"))
    english = refused(lambda: pay(grant, boss, "advance", "10.00"), language="en")
    assert codes(latvian) == codes(english) == ["not_payable"]
    assert text(latvian) == (
        "Maksājumus reģistrē no līguma parakstīšanas līdz finansējuma slēgšanai; "
        "finansējuma (Valkas novads) statuss: plāna saskaņošana."
    )
    assert text(english) == (
        "Payments are recorded once the agreement is signed and until the grant is closed; "
        "the grant of Valkas novads is plan being agreed."
    )
    assert not Payment.objects.exists()


def test_a_payment_recorded_without_a_note_has_none(valka):
    grant, _staff, boss = valka
    payment = pay(grant, boss, "advance", "10.00")
    payment.refresh_from_db()
    assert payment.note == ""


# --- the advance's share --------------------------------------------------------------------


def test_the_advance_up_to_its_share_exactly_is_paid_and_one_cent_more_refused_in_full(valka):
    grant, _staff, boss = valka
    pay(grant, boss, "advance", "2000.00")
    error = refused(lambda: pay(grant, boss, "advance", "500.01"))
    assert codes(error) == ["advance_over_share"]
    assert text(error) == spaced(
        "Avanss nepārsniedz 50 % no saskaņotās kopsummas, t. i., 2 500,00 €; jau izmaksāti "
        "2 000,00 €, tāpēc 500,01 € ir par 0,01 € par daudz."
    )
    error = refused(lambda: pay(grant, boss, "advance", "500.01"), language="en")
    assert text(error) == (
        "The advance is at most 50 % of the agreed total, €2,500.00; €2,000.00 is paid "
        "already, so €500.01 is more by €0.01."
    )
    pay(grant, boss, "advance", "500.00")
    assert sums(grant) == (Decimal("2500.00"), Decimal("0.00"))


def test_the_advance_limit_is_its_share_rounded_down_to_the_cent_and_a_share_may_have_decimals(
    valka,
):
    grant, _staff, boss = valka
    # 12,5 % of 5 000,01 € is 625,00125 €: 625,00 € may be paid, 625,01 € may not.
    Competition.objects.filter(pk=grant.competition.pk).update(advance_share=Decimal("12.5"))
    Grant.objects.filter(pk=grant.pk).update(agreed_total=Decimal("5000.01"))
    grant.refresh_from_db()
    assert settlement.advance_limit(grant) == Decimal("625.00")
    error = refused(lambda: pay(grant, boss, "advance", "625.01"))
    assert spaced("nepārsniedz 12,5 % no saskaņotās kopsummas, t. i., 625,00 €") in text(error)
    pay(grant, boss, "advance", "625.00")
    # 12,5 % of 5 000,07 € is 625,00875 €: rounded down still, not to the nearest cent.
    grant.agreed_total = Decimal("5000.07")
    assert settlement.advance_limit(grant) == Decimal("625.00")


# --- the agreed total -----------------------------------------------------------------------


def test_paying_one_cent_past_the_agreed_total_names_every_figure_in_both_languages(valka):
    grant, staff, boss = valka
    pay(grant, boss, "advance", "2500.00")
    settlement.report_accept(
        report=submitted(grant, staff, ["1000.00", "500.00"], kind="interim"), by=boss
    )
    pay(grant, boss, "interim", "1000.00")
    error = refused(lambda: pay(grant, boss, "interim", "1500.01"))
    assert codes(error) == ["over_agreed_total"]
    assert text(error) == spaced(
        "Izmaksājot 1 500,01 €, pašvaldībai (Valkas novads) izmaksātā summa sasniegtu "
        "5 000,01 €, kas par 0,01 € pārsniedz saskaņoto kopsummu 5 000,00 €; var izmaksāt ne "
        "vairāk kā 1 500,00 €."
    )
    error = refused(lambda: pay(grant, boss, "interim", "1500.01"), language="en")
    assert text(error) == (
        "Paying €1,500.01 would bring what Valkas novads holds to €5,000.01, more than the "
        "agreed total of €5,000.00 by €0.01; at most €1,500.00 can be paid."
    )
    pay(grant, boss, "interim", "1500.00")
    assert sums(grant) == (Decimal("5000.00"), Decimal("0.00"))


def test_a_call_without_an_interim_report_has_no_interim_payments(valka):
    grant, _staff, boss = valka
    Competition.objects.filter(pk=grant.competition.pk).update(interim_report_due_on=None)
    error = refused(lambda: pay(grant, boss, "interim", "10.00"), language="en")
    assert codes(error) == ["no_interim_payments"]
    assert text(error) == "This call has no interim report, and so no interim payments."


# --- the final payment and the repayment ----------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "what_lv", "what_en"),
    [("final", "noslēguma maksājums", "final payment"), ("repayment", "atmaksa", "repayment")],
)
def test_the_final_payment_and_the_repayment_wait_for_the_accepted_final_report(
    valka, kind, what_lv, what_en
):
    grant, _staff, boss = valka
    pay(grant, boss, "advance", "2500.00")
    error = refused(lambda: pay(grant, boss, kind, "10.00"))
    assert codes(error) == ["final_report_not_accepted"]
    assert f"({what_lv})" in text(error)
    error = refused(lambda: pay(grant, boss, kind, "10.00"), language="en")
    assert f"The {what_en} is worked out" in text(error)
    assert sums(grant) == (Decimal("2500.00"), Decimal("0.00"))


def test_the_final_payment_is_what_remains_of_the_accepted_spending_to_the_cent(valka):
    grant, staff, boss = valka
    grant = settled_below(grant, staff, boss, paid_in_full=False)
    assert grant.to_pay == Decimal("1500.00")
    error = refused(lambda: pay(grant, boss, "final", "1500.01"))
    assert codes(error) == ["final_over_accepted"]
    assert text(error) == spaced(
        "Noslēguma maksājums nepārsniedz apstiprinātās izmaksas 4 000,00 €, atskaitot "
        "pašvaldībai (Valkas novads) jau izmaksāto 2 500,00 €: 1 500,00 €, nevis 1 500,01 €."
    )
    error = refused(lambda: pay(grant, boss, "final", "1500.01"), language="en")
    assert text(error) == (
        "The final payment is at most the accepted spending of €4,000.00 less what Valkas "
        "novads holds, €2,500.00: €1,500.00, not €1,500.01."
    )
    pay(grant, boss, "final", "1500.00")
    assert sums(grant) == (Decimal("4000.00"), Decimal("0.00"))


def test_a_repayment_after_the_whole_total_was_paid_returns_exactly_what_is_due(valka):
    """What was paid above the accepted spending comes back even when the whole agreed total
    was paid: a repayment is not a payment against the agreed total."""
    grant, staff, boss = valka
    grant = settled_below(grant, staff, boss, paid_in_full=True)
    assert grant.to_repay == Decimal("1000.00")
    error = refused(lambda: pay(grant, boss, "repayment", "1000.01"))
    assert codes(error) == ["repayment_over_due"]
    assert text(error) == spaced(
        "Pašvaldībai (Valkas novads) izmaksāti 5 000,00 €, bet apstiprinātās izmaksas ir "
        "4 000,00 €: atmaksājami 1 000,00 €, nevis 1 000,01 €."
    )
    error = refused(lambda: pay(grant, boss, "repayment", "1000.01"), language="en")
    assert text(error) == (
        "Valkas novads holds €5,000.00 against accepted spending of €4,000.00: €1,000.00 is "
        "to be repaid, not €1,000.01."
    )
    pay(grant, boss, "repayment", "1000.00")
    assert sums(grant) == (Decimal("5000.00"), Decimal("1000.00"))
    assert figures(grant)[1] == (Decimal("5000.00"), Decimal("1000.00"))


# --- reversals ------------------------------------------------------------------------------


def test_a_reversal_needs_both_the_reference_and_the_reason(valka):
    grant, _staff, boss = valka
    wrong = pay(grant, boss, "advance", "100.00")
    for reference, note in (("  ", "Kļūda"), ("KOR-1", "  ")):
        error = refused(lambda r=reference, n=note: reverse(wrong, boss, r, n))
        assert codes(error) == ["reason_required"]
        assert text(error) == "Norādiet labojuma dokumenta numuru un iemeslu."
    error = refused(lambda: reverse(wrong, boss, "", ""), language="en")
    assert text(error) == "Give the reference of the correcting document and the reason."
    reversal = reverse(wrong, boss, " KOR-1 ", " Nepareizs konts ")
    assert (reversal.reference, reversal.note) == ("KOR-1", "Nepareizs konts")
    assert (reversal.paid_on, reversal.recorded_by) == (TODAY, boss)
    latest = grant.history.first()
    assert (latest.paid_total, latest.history_user) == (Decimal("0.00"), boss)


def test_a_reversal_is_the_coordinators_and_is_not_itself_reversed(valka):
    grant, staff, boss = valka
    wrong = pay(grant, boss, "advance", "100.00")
    error = refused(lambda: reverse(wrong, staff), language="en")
    assert text(error) == "Only a coordinator can reverse a payment."
    reversal = reverse(wrong, boss)
    error = refused(lambda: reverse(reversal, boss))
    assert codes(error) == ["reversal_of_reversal"]
    assert text(error) == "Stornējumu nevar stornēt; tā vietā reģistrējiet maksājumu vēlreiz."
    error = refused(lambda: reverse(reversal, boss), language="en")
    assert text(error) == (
        "A reversal cannot itself be reversed; record the payment again instead."
    )
    error = refused(lambda: reverse(wrong, boss), language="en")
    assert codes(error) == ["already_reversed"]
    assert text(error) == "This payment of €100.00 has already been reversed."
    assert sums(grant) == (Decimal("0.00"), Decimal("0.00"))


def test_reversing_a_payment_that_would_leave_a_cent_less_paid_than_repaid_is_refused(valka):
    grant, staff, boss = valka
    first = pay(grant, boss, "advance", "2000.01")
    second = pay(grant, boss, "advance", "499.99")
    settlement.report_accept(report=submitted(grant, staff, ["1500.00", "500.00"]), by=boss)
    pay(grant, boss, "repayment", "500.00")
    # 2 500 € paid less 2 000,01 € would leave 499,99 €, a cent less than the 500 € repaid.
    error = refused(lambda: reverse(first, boss), language="en")
    assert codes(error) == ["reversal_below_repaid"]
    assert text(error) == (
        "Reversing €2,000.01 would leave less paid than repaid (€500.00); reverse the "
        "repayment first."
    )
    error = refused(lambda: reverse(first, boss))
    assert spaced("Stornējot 2 000,01 €") in text(error)
    assert spaced("(500,00 €)") in text(error)
    reverse(second, boss)
    assert sums(grant) == (Decimal("2000.01"), Decimal("500.00"))


def test_reversing_a_payment_down_to_exactly_what_was_repaid_is_allowed(valka):
    grant, staff, boss = valka
    first = pay(grant, boss, "advance", "2000.00")
    pay(grant, boss, "advance", "500.00")
    settlement.report_accept(report=submitted(grant, staff, ["1500.00", "500.00"]), by=boss)
    pay(grant, boss, "repayment", "500.00")
    # 2 500 € paid less the 2 000 € reversed leaves 500 €, exactly the 500 € repaid.
    reverse(first, boss)
    assert sums(grant) == (Decimal("500.00"), Decimal("500.00"))
    assert figures(grant)[1] == sums(grant)


def test_reversing_a_repayment_gives_the_money_back_only_within_the_agreed_total(valka):
    grant, staff, boss = valka
    grant = settled_below(grant, staff, boss, paid_in_full=True)
    repayment = pay(grant, boss, "repayment", "1000.00")
    # Undone exactly to the agreed total: allowed, and the repaid sum goes back to nothing.
    reverse(repayment, boss)
    assert sums(grant) == (Decimal("5000.00"), Decimal("0.00"))
    assert figures(grant)[1] == sums(grant)
    again = pay(grant, boss, "repayment", "1000.00", reference="MU-9")
    pay(grant, boss, "interim", "0.01", reference="MU-10")
    error = refused(lambda: reverse(again, boss), language="en")
    assert codes(error) == ["over_agreed_total"]
    assert "more than the agreed total of €5,000.00 by €0.01" in text(error)
    assert sums(grant) == (Decimal("5000.01"), Decimal("1000.00"))


def test_a_closed_grants_ledger_is_final(valka):
    grant, staff, boss = valka
    advance = pay(grant, boss, "advance", "2500.00")
    settlement.report_accept(report=submitted(grant, staff, ["3000.00", "2000.00"]), by=boss)
    pay(grant, boss, "final", "2500.00")
    settlement.grant_close(grant=grant, by=boss)
    error = refused(lambda: reverse(advance, boss), language="en")
    assert codes(error) == ["grant_closed"]
    assert text(error) == "The grant is closed; its ledger is final."
    assert sums(grant) == (Decimal("5000.00"), Decimal("0.00"))


# --- amending the plan ----------------------------------------------------------------------


def amended(grant, staff, total):
    lines = scaled(settlement.approved_plan(grant), Decimal(total))
    draft = grant_services.plan_save_draft(grant=grant, by=staff, lines=lines)
    return grant_services.plan_propose(version=draft, by=staff)


def test_an_amendment_may_lower_the_plan_to_what_was_paid_and_not_a_cent_under(valka):
    grant, staff, boss = valka
    pay(grant, boss, "advance", "2500.00")
    error = refused(lambda: amended(grant, staff, "2499.99"))
    assert codes(error) == ["below_paid"]
    assert text(error) == spaced(
        "Plāna kopsumma 2 499,99 € ir par 0,01 € mazāka nekā pašvaldībai (Valkas novads) jau "
        "izmaksātie 2 500,00 €; plāna kopsummai jābūt vismaz 2 500,00 €."
    )
    error = refused(lambda: amended(grant, staff, "2499.99"), language="en")
    assert text(error) == (
        "The plan's total of €2,499.99 is less than the €2,500.00 already paid to Valkas "
        "novads, by €0.01; the plan's total must be at least €2,500.00."
    )
    assert grant.plan_versions.latest("number").status == PlanVersion.Status.DRAFT  # not proposed
    version = amended(grant, staff, "2500.00")
    grant_services.plan_approve(version=version, by=boss)
    grant.refresh_from_db()
    assert (grant.agreed_total, grant.application.awarded_amount) == (
        Decimal("2500.00"),
        Decimal("2500.00"),
    )


def test_a_proposed_amendment_is_not_approved_below_what_was_paid_since(valka):
    grant, staff, boss = valka
    version = amended(grant, staff, "2000.00")
    pay(grant, boss, "advance", "2000.01")
    error = refused(lambda: grant_services.plan_approve(version=version, by=boss), language="en")
    assert codes(error) == ["below_paid"]
    assert "by €0.01" in text(error)
    grant.refresh_from_db()
    assert (grant.agreed_total, grant.status) == (Decimal("5000.00"), Grant.Status.IN_PROGRESS)
