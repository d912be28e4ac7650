"""Payments, reports and the close of a grant: money rules 5, 6 and 7, each both ways, with
the refusal's code and the amounts in its message, and the database constraints behind them.

The rules are the services', so they run on SQLite too (the mutation run's database); only
the triggers that keep the ledger append-only are PostgreSQL's."""

from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import translation

from applications.models import snapshot_digest
from grants import settlement
from grants.models import Grant, Payment, Report, ReportDocument
from grants.settlement import LineDecision, ReportLineData

from .amounts import spaced
from .factories import PDF, coordinator, grant_in_progress, staff_of

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 1)


def codes(error: ValidationError) -> list[str]:
    return [problem.code for problem in error.error_list]


def text(error: ValidationError) -> str:
    return " ".join(error.messages)


def refused(act, *, language="lv") -> ValidationError:
    with translation.override(language), pytest.raises(ValidationError) as error:
        act()
    return error.value


def told(act) -> tuple[list[str], str, str]:
    """The refusal's codes, and its message as the Latvian and the English reader see it."""
    latvian, english = refused(act), refused(act, language="en")
    return codes(latvian), text(latvian), text(english)


@pytest.fixture
def gulbene():
    """Gulbene's grant of 5 000 € in progress: lines of 3 000 € and 2 000 €, an advance of
    50 %, a tolerance of 10 % per line."""
    grant = grant_in_progress("gulbenes-novads", amount=Decimal("5000.00"))
    staff = grant.municipality.staff.get()
    boss = coordinator("coordinator-gulbene-2")
    return grant, staff, boss


def pay(grant, boss, kind, amount, reference="MU-1"):
    return settlement.payment_record(
        grant=grant, by=boss, kind=kind, amount=Decimal(amount), paid_on=TODAY, reference=reference
    )


def lines_of(grant, costs, done="Izdota brošūra"):
    plan = settlement.approved_plan(grant)
    return [
        ReportLineData(
            plan_line=line,
            done=done,
            actual_cost=Decimal(cost),
            people_reached=120,
            events_held=2,
            materials_produced=500,
        )
        for line, cost in zip(plan.lines.order_by("position"), costs, strict=True)
    ]


def filed(grant, staff, costs, kind="final", *, with_invoice=True) -> Report:
    report = settlement.report_save_draft(
        grant=grant, kind=kind, by=staff, summary="Paveikts", lines=lines_of(grant, costs)
    )
    if with_invoice:
        settlement.report_document_add(
            report=report,
            by=staff,
            file=SimpleUploadedFile("rekins.pdf", PDF),
            description="Rēķins",
        )
    return report


def submitted(grant, staff, costs, kind="final") -> Report:
    return settlement.report_submit(report=filed(grant, staff, costs, kind), by=staff)


def figures(grant) -> tuple:
    grant = Grant.objects.get(pk=grant.pk)
    ledger = Payment.objects.filter(grant=grant)
    return (
        (grant.paid_total, grant.repaid_total),
        (ledger.signed_sum(repayments=False), ledger.signed_sum(repayments=True)),
    )


# --- money rule 5: payments -----------------------------------------------------------------


def test_the_advance_up_to_its_share_is_recorded_and_the_staff_are_told(
    gulbene, django_capture_on_commit_callbacks
):
    grant, staff, boss = gulbene
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        payment = pay(grant, boss, "advance", "2500.00")
    grant.refresh_from_db()
    assert (payment.kind, grant.paid_total, grant.net_paid) == (
        "advance",
        Decimal("2500.00"),
        Decimal("2500.00"),
    )
    assert mail.outbox[0].to == [staff.email]
    assert spaced("2 500,00 €") in mail.outbox[0].body


def test_an_advance_above_its_share_is_refused_with_the_share_and_the_excess(gulbene):
    grant, _staff, boss = gulbene
    pay(grant, boss, "advance", "2000.00")
    with pytest.raises(ValidationError) as refused:
        pay(grant, boss, "advance", "600.00")
    assert codes(refused.value) == ["advance_over_share"]
    assert spaced("2 500,00 €") in text(refused.value)  # the share of 5 000 €
    assert spaced("100,00 €") in text(refused.value)  # the excess
    assert figures(grant)[0] == (Decimal("2000.00"), Decimal("0.00"))


def test_paying_more_than_the_agreed_total_is_refused_naming_the_room_left(gulbene):
    grant, staff, boss = gulbene
    pay(grant, boss, "advance", "2500.00")
    report = submitted(grant, staff, ["1000.00", "500.00"], kind="interim")
    settlement.report_accept(report=report, by=boss)
    with pytest.raises(ValidationError) as refused:
        pay(grant, boss, "interim", "2500.01")
    assert codes(refused.value) == ["over_agreed_total"]
    assert spaced("5 000,00 €") in text(refused.value)
    assert spaced("2 500,00 €") in text(refused.value)  # at most this can be paid
    assert spaced("0,01 €") in text(refused.value)  # the excess
    pay(grant, boss, "interim", "2500.00")
    assert figures(grant)[0] == (Decimal("5000.00"), Decimal("0.00"))


def test_interim_payments_wait_for_the_accepted_interim_report(gulbene):
    grant, _staff, boss = gulbene
    with pytest.raises(ValidationError) as refused:
        pay(grant, boss, "interim", "100.00")
    assert codes(refused.value) == ["interim_report_not_accepted"]


def test_payments_are_the_coordinators_and_need_a_reference_and_an_amount(gulbene):
    grant, staff, boss = gulbene
    with pytest.raises(ValidationError) as refused:
        pay(grant, staff, "advance", "100.00")
    assert codes(refused.value) == ["not_coordinator"]
    with pytest.raises(ValidationError) as refused:
        pay(grant, boss, "advance", "100.00", reference="  ")
    assert codes(refused.value) == ["reference_required"]
    assert text(refused.value) == "Norādiet maksājuma uzdevuma numuru."
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        pay(grant, boss, "advance", "100.00", reference="  ")
    assert text(refused.value) == "Give the payment order's reference."
    with pytest.raises(ValidationError) as refused:
        pay(grant, boss, "advance", "0.00")
    assert codes(refused.value) == ["invalid_amount"]
    assert text(refused.value) == (
        "Summai jābūt lielākai par nulli eiro, ar ne vairāk kā divām zīmēm aiz komata."
    )
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        pay(grant, boss, "advance", "0.00")
    assert text(refused.value) == (
        "The amount must be more than zero euros, with at most two decimal places."
    )
    assert not Payment.objects.exists()


def test_a_mistaken_row_is_reversed_by_a_new_row_and_the_sums_follow_the_ledger(gulbene):
    grant, _staff, boss = gulbene
    wrong = pay(grant, boss, "advance", "2500.00", reference="MU-7")
    reversal = settlement.payment_reverse(
        payment=wrong, by=boss, paid_on=TODAY, reference="KOR-1", note="Nepareizs konts"
    )
    assert (reversal.reverses, reversal.amount, reversal.kind) == (wrong, wrong.amount, "advance")
    wrong.refresh_from_db()
    assert wrong.amount == Decimal("2500.00")  # the mistaken row is kept as it was
    with pytest.raises(ValidationError) as refused:
        settlement.payment_reverse(
            payment=wrong, by=boss, paid_on=TODAY, reference="KOR-2", note="Atkārtoti"
        )
    assert codes(refused.value) == ["already_reversed"]
    pay(grant, boss, "advance", "2500.00", reference="MU-8")  # the share is free again
    ledger_sums, grant_sums = figures(grant)[1], figures(grant)[0]
    assert ledger_sums == grant_sums == (Decimal("2500.00"), Decimal("0.00"))


def test_the_database_refuses_a_ledger_row_of_no_amount(gulbene):
    grant, _staff, boss = gulbene
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            grant=grant,
            kind="advance",
            amount=Decimal("0.00"),
            paid_on=TODAY,
            reference="X",
            recorded_by=boss,
            recorded_at=grant.opened_at,
        )


def test_the_database_refuses_to_change_a_ledger_row(gulbene):
    grant, _staff, boss = gulbene
    row = pay(grant, boss, "advance", "100.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=row.pk).update(amount=Decimal("1000.00"))
    assert Payment.objects.get(pk=row.pk).amount == Decimal("100.00")


@pytest.mark.postgres
def test_the_database_refuses_to_delete_a_ledger_row(gulbene):
    grant, _staff, boss = gulbene
    row = pay(grant, boss, "advance", "100.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=row.pk).delete()
    assert Payment.objects.filter(pk=row.pk).exists()


def test_the_database_refuses_a_reversal_of_another_grants_row(gulbene):
    grant, _staff, boss = gulbene
    other = grant_in_progress("valkas-novads", by=boss)
    theirs = pay(other, boss, "advance", "100.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            grant=grant,
            kind="advance",
            amount=Decimal("100.00"),
            paid_on=TODAY,
            reference="X",
            reverses=theirs,
            recorded_by=boss,
            recorded_at=grant.opened_at,
        )
    # The same row reversed on its own grant is accepted by the database.
    with transaction.atomic():
        Payment.objects.create(
            grant=other,
            kind="advance",
            amount=Decimal("100.00"),
            paid_on=TODAY,
            reference="X",
            reverses=theirs,
            recorded_by=boss,
            recorded_at=grant.opened_at,
        )


def test_the_database_refuses_a_grant_paid_above_its_agreed_total(gulbene):
    grant, _staff, _boss = gulbene
    with pytest.raises(IntegrityError), transaction.atomic():
        Grant.objects.filter(pk=grant.pk).update(paid_total=Decimal("5000.01"))
    Grant.objects.filter(pk=grant.pk).update(paid_total=Decimal("5000.00"))


# --- money rule 6: reports ------------------------------------------------------------------


def test_a_line_over_its_tolerance_is_refused_naming_the_line_and_the_amounts(gulbene):
    grant, staff, _boss = gulbene
    report = filed(grant, staff, ["3300.01", "1000.00"])
    assert told(lambda: settlement.report_submit(report=report, by=staff)) == (
        ["line_over_tolerance"],
        spaced(
            "“Informatīvā brošūra”: faktiskās izmaksas 3 300,01 € par 0,01 € pārsniedz "
            "saskaņotās izmaksas 3 000,00 € ar konkursā pieļauto novirzi 10 % "
            "(ne vairāk kā 3 300,00 €)."
        ),
        "“Informatīvā brošūra”: the actual cost of €3,300.01 is more than the agreed "
        "€3,000.00 with the call's tolerance of 10 % (at most €3,300.00) by €0.01.",
    )
    report.refresh_from_db()
    assert report.status == Report.Status.DRAFT  # kept as typed
    assert report.claimed_total == Decimal("4300.01")


def test_a_line_within_its_tolerance_is_submitted_frozen_with_its_sha256(gulbene):
    grant, staff, _boss = gulbene
    report = submitted(grant, staff, ["3300.00", "1700.00"])
    assert report.status == Report.Status.SUBMITTED
    assert len(report.sha256) == 64
    assert report.snapshot["lines"][0]["actual_cost"] == "3300.00"
    assert report.snapshot["documents"][0]["name"] == "rekins.pdf"
    grant.refresh_from_db()
    assert grant.status == Grant.Status.REPORTING


def test_a_submitted_report_is_frozen_whole_each_field_under_its_own_name(gulbene):
    """The snapshot is what the SHA-256 is taken of, so it must hold every field of the report
    and of each line, each under its own name: figures that differ from field to field, so
    that two swapped or misnamed keys show."""
    grant, staff, _boss = gulbene
    plan = list(settlement.approved_plan(grant).lines.order_by("position"))
    lines = [
        ReportLineData(
            plan_line=line,
            done=f"Paveikts {position}",
            actual_cost=Decimal(cost),
            people_reached=100 + position,
            events_held=10 + position,
            materials_produced=1000 + position,
        )
        for position, (line, cost) in enumerate(zip(plan, ["2900.00", "1950.50"], strict=True))
    ]
    report = settlement.report_save_draft(
        grant=grant, kind="final", by=staff, summary="Paveiktais kopumā", lines=lines
    )
    settlement.report_document_add(
        report=report, by=staff, file=SimpleUploadedFile("rekins.pdf", PDF), description="Rēķins"
    )
    report = settlement.report_submit(report=report, by=staff)
    document = report.documents.get()
    expected = {
        "grant": grant.pk,
        "application": grant.application.reference,
        "kind": "final",
        "version": report.number,
        "summary": "Paveiktais kopumā",
        "claimed_total": "4850.50",
        "lines": [
            {
                "plan_line": line.key,
                "title": line.title,
                "category": line.category.code,
                "agreed_cost": str(line.cost),
                "done": f"Paveikts {position}",
                "actual_cost": cost,
                "people_reached": 100 + position,
                "events_held": 10 + position,
                "materials_produced": 1000 + position,
            }
            for position, (line, cost) in enumerate(zip(plan, ["2900.00", "1950.50"], strict=True))
        ],
        "documents": [{"name": "rekins.pdf", "description": "Rēķins", "sha256": document.sha256}],
    }
    assert report.snapshot == expected
    report.refresh_from_db()
    assert report.snapshot == expected
    assert report.sha256 == snapshot_digest(expected)


def test_a_total_above_the_agreed_total_is_refused_with_the_excess(gulbene):
    grant, staff, _boss = gulbene
    report = filed(grant, staff, ["3300.00", "2200.00"])
    # Each line is within the call's tolerance (10 %); only the total is over, by 500 €.
    assert told(lambda: settlement.report_submit(report=report, by=staff)) == (
        ["over_agreed_total"],
        spaced(
            "Kopā faktiskās izmaksas 5 500,00 € par 500,00 € pārsniedz saskaņoto kopsummu "
            "5 000,00 €."
        ),
        "The actual cost in total, €5,500.00, is more than the agreed total of €5,000.00 "
        "by €500.00.",
    )
    report.refresh_from_db()
    assert report.status == Report.Status.DRAFT


def test_the_final_report_needs_its_evidence(gulbene):
    grant, staff, _boss = gulbene
    report = filed(grant, staff, ["3000.00", "2000.00"], with_invoice=False)
    with pytest.raises(ValidationError) as refused:
        settlement.report_submit(report=report, by=staff)
    assert codes(refused.value) == ["documents_required"]
    assert text(refused.value) == (
        "Pirms noslēguma pārskata iesniegšanas pievienojiet izlietojumu pamatojošos dokumentus "
        "(rēķinus, fotoattēlus, publicētos materiālus)."
    )
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        settlement.report_submit(report=report, by=staff)
    assert text(refused.value) == (
        "Attach the evidence of the spending (invoices, photos, published materials) before "
        "submitting the final report."
    )
    report.refresh_from_db()
    assert (report.status, report.sha256) == ("draft", "")


def test_an_upload_that_is_not_what_it_claims_is_refused_and_nothing_is_stored(gulbene):
    grant, staff, _boss = gulbene
    report = filed(grant, staff, ["3000.00", "2000.00"], with_invoice=False)
    with pytest.raises(ValidationError) as refused:
        settlement.report_document_add(
            report=report, by=staff, file=SimpleUploadedFile("rekins.pdf", b"MZ not a pdf")
        )
    assert codes(refused.value) == ["file_type_not_accepted"]
    assert not ReportDocument.objects.exists()


def test_a_returned_report_is_kept_and_the_next_save_starts_a_new_version(gulbene):
    grant, staff, boss = gulbene
    first = submitted(grant, staff, ["3000.00", "2000.00"])
    line = first.lines.order_by("position")[1]
    mail.outbox.clear()
    with pytest.raises(ValidationError) as refused:
        settlement.report_return(report=first, by=boss, comment="")
    assert codes(refused.value) == ["comment_required"]
    settlement.report_return(
        report=first, by=boss, comment="", line_comments={line.pk: "Pievienojiet rēķinu"}
    )
    second = settlement.report_save_draft(
        grant=grant,
        kind="final",
        by=staff,
        summary="Labots",
        lines=lines_of(grant, ["3000", "2000"]),
    )
    assert (second.number, second.status) == (2, Report.Status.DRAFT)
    assert second.documents.get().file.name == first.documents.get().file.name
    first.refresh_from_db()
    assert first.status == Report.Status.RETURNED
    assert first.lines.get(pk=line.pk).comment == "Pievienojiet rēķinu"


def test_accepting_less_than_claimed_needs_the_reason_which_the_municipality_sees(
    gulbene, django_capture_on_commit_callbacks
):
    grant, staff, boss = gulbene
    report = submitted(grant, staff, ["3000.00", "2000.00"])
    line = report.lines.order_by("position")[0]
    with pytest.raises(ValidationError) as refused:
        settlement.report_accept(
            report=report, by=boss, decisions={line.pk: LineDecision(Decimal("2800.00"))}
        )
    assert codes(refused.value) == ["reason_required"]
    assert spaced("2 800,00 €") in text(refused.value)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        settlement.report_accept(
            report=report,
            by=boss,
            decisions={line.pk: LineDecision(Decimal("2800.00"), "Viens rēķins nav attiecināms")},
        )
    grant.refresh_from_db()
    assert grant.accepted_total == Decimal("4800.00")
    assert "Viens rēķins nav attiecināms" in mail.outbox[0].body


# --- money rule 7: closing ------------------------------------------------------------------


def test_closing_with_a_difference_is_refused_naming_it_and_the_final_payment_settles_it(
    gulbene,
):
    grant, staff, boss = gulbene
    pay(grant, boss, "advance", "2500.00")
    settlement.report_accept(report=submitted(grant, staff, ["3000.00", "2000.00"]), by=boss)
    with pytest.raises(ValidationError) as refused:
        settlement.grant_close(grant=grant, by=boss)
    assert codes(refused.value) == ["not_settled"]
    assert spaced("2 500,00 €") in text(refused.value)
    with pytest.raises(ValidationError) as refused:
        pay(grant, boss, "final", "2500.01")
    assert codes(refused.value) == ["final_over_accepted"]
    pay(grant, boss, "final", "2500.00")
    closed = settlement.grant_close(grant=grant, by=boss)
    assert closed.status == Grant.Status.CLOSED
    with pytest.raises(ValidationError) as refused:
        pay(grant, boss, "final", "1.00")
    assert codes(refused.value) == ["not_payable"]


def test_spending_below_what_was_paid_is_closed_by_a_repayment(gulbene):
    grant, staff, boss = gulbene
    pay(grant, boss, "advance", "2500.00")
    settlement.report_accept(report=submitted(grant, staff, ["1500.00", "500.00"]), by=boss)
    grant.refresh_from_db()
    assert grant.to_repay == Decimal("500.00")
    with pytest.raises(ValidationError) as refused:
        settlement.grant_close(grant=grant, by=boss)
    assert codes(refused.value) == ["not_settled"]
    assert "atmaksu" in text(refused.value)  # the repayment is what settles it
    with pytest.raises(ValidationError) as refused:
        pay(grant, boss, "repayment", "500.01")
    assert codes(refused.value) == ["repayment_over_due"]
    pay(grant, boss, "repayment", "500.00")
    settlement.grant_close(grant=grant, by=boss)
    grant.refresh_from_db()
    assert (grant.paid_total, grant.repaid_total, grant.accepted_total) == (
        Decimal("2500.00"),
        Decimal("500.00"),
        Decimal("2000.00"),
    )
    assert figures(grant)[0] == figures(grant)[1]


def test_the_database_refuses_a_closed_grant_that_is_not_settled(gulbene):
    grant, staff, boss = gulbene
    pay(grant, boss, "advance", "2500.00")
    settlement.report_accept(report=submitted(grant, staff, ["3000.00", "2000.00"]), by=boss)
    with pytest.raises(IntegrityError), transaction.atomic():
        Grant.objects.filter(pk=grant.pk).update(status="closed", closed_at=grant.opened_at)


def test_other_municipalities_staff_cannot_report(gulbene):
    grant, _staff, _boss = gulbene
    stranger = staff_of("valkas-novads", "valka-staff")
    with pytest.raises(ValidationError) as refused:
        settlement.report_save_draft(
            grant=grant, kind="final", by=stranger, summary="", lines=lines_of(grant, ["1", "1"])
        )
    assert codes(refused.value) == ["not_municipality_staff"]
