"""Closing a grant (money rule 7), returning a report, deleting a report's document, and the
municipality's signed agreement: who may, from which state, each refusal's code and its exact
message with its figures in Latvian and in English, what is stored, the history row, the mail.

These are the changes to ``grants.settlement`` and ``grants.services`` that ``make mutation``
showed no test noticed. Each grant in progress renders its agreement PDF: one grant a test.
"""

import dataclasses
import hashlib
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.utils import timezone

from competitions import roles
from competitions.languages import language_record
from grants import services as grant_services
from grants import settlement
from grants.models import Grant, Report, ReportDocument

from .amounts import spaced
from .factories import PDF, coordinator, decided_grant, grant_in_progress, staff_of
from .test_agreements import approved, asice, stored, upload
from .test_grants_settlement import (
    codes,
    figures,
    filed,
    lines_of,
    pay,
    refused,
    submitted,
    text,
    told,
)

pytestmark = pytest.mark.django_db


def both(act) -> tuple[str, str]:
    """The refusal's message as the Latvian and the English reader see it."""
    return text(refused(act)), text(refused(act, language="en"))


def stored_files() -> list[str]:
    """Every file on the default storage, by its name (the tests' media folder is their own)."""
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def recent(moment) -> bool:
    return moment is not None and timezone.now() - moment < timedelta(minutes=1)


@pytest.fixture
def valka():
    """Valka's grant of 5 000 € in progress (lines of 3 000 € and 2 000 €, an advance of 50 %),
    its staff, its coordinator."""
    grant = grant_in_progress("valkas-novads", amount=Decimal("5000.00"))
    return grant, grant.municipality.staff.get(), coordinator("coordinator-valka-rules")


def close(grant, by):
    return settlement.grant_close(grant=grant, by=by)


def closed_mails(grant, *, accepted, paid, repaid, english=None):
    """The close's mail as ``(to, subject, body)``: Latvian to Valka's staff, English to
    ``english``; the amounts as each reader writes them (``(lv, en)``)."""
    reference, call = grant.application.reference, grant.competition
    latvian = (
        [grant.municipality.staff.exclude(pk=getattr(english, "pk", None)).get().email],
        f"{reference}: finansējums slēgts",
        spaced(
            "Koordinators ir slēdzis jūsu pašvaldības finansējumu konkursā "
            f"“{call.title_lv}”: noslēguma pārskats ir apstiprināts un norēķini ir pabeigti.\n"
            "\n"
            f"Apstiprinātās izmaksas: {accepted[0]}\n"
            f"Izmaksāts: {paid[0]}\n"
            f"Atmaksāts: {repaid[0]}\n"
            "\n"
            "Finansējuma lapa:\n"
            f"http://127.0.0.1:8000/grants/{grant.pk}/\n"
        ),
    )
    if english is None:
        return [latvian]
    return [
        (
            [english.email],
            f"{reference}: grant closed",
            f"The coordinator has closed your grant in the call “{call.title_en}”: the final "
            "report is accepted and the payments are settled.\n"
            "\n"
            f"Accepted spending: {accepted[1]}\n"
            f"Paid: {paid[1]}\n"
            f"Repaid: {repaid[1]}\n"
            "\n"
            "The grant's page:\n"
            f"http://127.0.0.1:8000/en/grants/{grant.pk}/\n",
        ),
        latvian,
    ]


def sent() -> list:
    return [(message.to, message.subject, message.body) for message in mail.outbox]


def unchanged(grant, status) -> None:
    grant = Grant.objects.get(pk=grant.pk)
    assert (grant.status, grant.closed_at, grant.closed_by) == (status, None, None)


# --- closing a grant (money rule 7) ---------------------------------------------------------


def test_a_grant_closes_only_by_a_coordinator_and_only_once_its_final_report_is_accepted(valka):
    grant, staff, boss = valka
    assert both(lambda: close(grant, staff)) == (
        "Tikai koordinators var slēgt finansējumu.",
        "Only a coordinator can close a grant.",
    )
    assert codes(refused(lambda: close(grant, staff))) == ["not_coordinator"]
    # In progress: no final report at all.
    assert codes(refused(lambda: close(grant, boss))) == ["final_report_not_accepted"]
    assert both(lambda: close(grant, boss)) == (
        "Finansējumu slēdz pēc noslēguma pārskata apstiprināšanas; finansējuma (Valkas novads) "
        "statuss: īstenošana.",
        "A grant closes once its final report is accepted; the stage of the grant of Valkas "
        "novads is: in progress.",
    )
    unchanged(grant, Grant.Status.IN_PROGRESS)
    # Reporting: the final report is submitted, not yet accepted, nothing to compare with.
    submitted(grant, staff, ["3000.00", "2000.00"])
    grant.refresh_from_db()
    assert (grant.status, grant.accepted_total) == (Grant.Status.REPORTING, None)
    assert codes(refused(lambda: close(grant, boss))) == ["final_report_not_accepted"]
    assert both(lambda: close(grant, boss)) == (
        "Finansējumu slēdz pēc noslēguma pārskata apstiprināšanas; finansējuma (Valkas novads) "
        "statuss: noslēguma pārskats iesniegts.",
        "A grant closes once its final report is accepted; the stage of the grant of Valkas "
        "novads is: final report submitted.",
    )
    unchanged(grant, Grant.Status.REPORTING)


def test_a_cent_left_to_pay_refuses_the_close_naming_it_and_paying_it_closes_the_grant(
    valka, django_capture_on_commit_callbacks
):
    grant, staff, boss = valka
    pay(grant, boss, "advance", "2500.00")
    settlement.report_accept(report=submitted(grant, staff, ["3000.00", "2000.00"]), by=boss)
    pay(grant, boss, "final", "2499.99", reference="MU-2")
    english = staff_of("valkas-novads", "valka-staff-en")
    language_record(user=english, language="en")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        error = refused(lambda: close(grant, boss))
    assert codes(error) == ["not_settled"]
    assert mail.outbox == []  # a refused close tells no one
    assert both(lambda: close(grant, boss)) == (
        spaced(
            "Izmaksātā summa, atskaitot atmaksāto (4 999,99 €), par 0,01 € ir mazāka nekā "
            "apstiprinātās izmaksas 5 000,00 €: vispirms reģistrējiet noslēguma maksājumu "
            "0,01 € pašvaldībai (Valkas novads)."
        ),
        "Paid minus repaid, €4,999.99, is less than the accepted spending of €5,000.00 by "
        "€0.01: record the final payment of €0.01 to Valkas novads first.",
    )
    unchanged(grant, Grant.Status.REPORTING)
    pay(grant, boss, "final", "0.01", reference="MU-3")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        closed = close(grant, boss)
    grant = Grant.objects.get(pk=grant.pk)
    assert (grant.status, grant.closed_by) == (Grant.Status.CLOSED, boss)
    assert recent(grant.closed_at)
    assert closed.closed_at == grant.closed_at
    latest = grant.history.first()
    assert (latest.status, latest.closed_by, latest.history_user) == (
        Grant.Status.CLOSED,
        boss,
        boss,
    )
    assert figures(grant) == ((Decimal("5000.00"), Decimal("0.00")),) * 2
    assert grant.accepted_total == grant.net_paid == Decimal("5000.00")
    # The municipality's staff are told, each in their language: one mail a language.
    assert sent() == closed_mails(
        grant,
        accepted=("5 000,00 €", "€5,000.00"),
        paid=("5 000,00 €", "€5,000.00"),
        repaid=("0,00 €", "€0.00"),
        english=english,
    )


def test_a_cent_held_above_the_accepted_spending_refuses_the_close_until_it_is_repaid(
    valka, django_capture_on_commit_callbacks
):
    grant, staff, boss = valka
    pay(grant, boss, "advance", "2500.00")
    settlement.report_accept(report=submitted(grant, staff, ["2000.00", "499.99"]), by=boss)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        error = refused(lambda: close(grant, boss))
    assert codes(error) == ["not_settled"]
    assert mail.outbox == []
    assert both(lambda: close(grant, boss)) == (
        spaced(
            "Izmaksātā summa, atskaitot atmaksāto (2 500,00 €), par 0,01 € pārsniedz "
            "apstiprinātās izmaksas 2 499,99 €: vispirms reģistrējiet pašvaldības (Valkas "
            "novads) atmaksu 0,01 €."
        ),
        "Paid minus repaid, €2,500.00, is more than the accepted spending of €2,499.99 by "
        "€0.01: record the repayment of €0.01 by Valkas novads first.",
    )
    unchanged(grant, Grant.Status.REPORTING)
    pay(grant, boss, "repayment", "0.01", reference="AT-1")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        close(grant, boss)
    grant = Grant.objects.get(pk=grant.pk)
    assert (grant.status, grant.closed_by) == (Grant.Status.CLOSED, boss)
    assert figures(grant) == ((Decimal("2500.00"), Decimal("0.01")),) * 2
    assert sent() == closed_mails(
        grant, accepted=("2 499,99 €",), paid=("2 500,00 €",), repaid=("0,01 €",)
    )


# --- returning a report ---------------------------------------------------------------------


def give_back(report, by, comment="", line_comments=None):
    return settlement.report_return(
        report=report, by=by, comment=comment, line_comments=line_comments
    )


def test_a_submitted_report_is_returned_by_a_coordinator_with_a_comment_and_the_staff_told(
    valka, django_capture_on_commit_callbacks
):
    grant, staff, boss = valka
    draft = filed(grant, staff, ["3000.00", "2000.00"])
    # A draft is not returned.
    error = refused(lambda: give_back(draft, boss, "Labojiet"))
    assert codes(error) == ["not_submitted"]
    assert both(lambda: give_back(draft, boss, "Labojiet")) == (
        "Pārskata (noslēguma pārskats) 1. versijas statuss: melnraksts; apstiprināt vai atdot "
        "var tikai iesniegtu pārskatu.",
        "Version 1 of the final report is draft; only a submitted report is accepted or returned.",
    )
    report = settlement.report_submit(report=draft, by=staff)
    first, second = report.lines.order_by("position")
    # Only a coordinator returns a report.
    assert codes(refused(lambda: give_back(report, staff, "Labojiet"))) == ["not_coordinator"]
    assert both(lambda: give_back(report, staff, "Labojiet")) == (
        "Tikai koordinators var atdot pārskatu.",
        "Only a coordinator can return a report.",
    )
    # Blank comments say nothing.
    blank = lambda: give_back(report, boss, "  ", {first.pk: " ", second.pk: ""})  # noqa: E731
    assert told(blank) == (
        ["comment_required"],
        "Norādiet, kas jālabo: komentārs par pārskatu vai par rindu.",
        "Say what is to be corrected: a comment on the report or on a line.",
    )
    report.refresh_from_db()
    assert (report.status, report.decided_at, report.decided_by) == (
        Report.Status.SUBMITTED,
        None,
        None,
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        give_back(report, boss, "  Trūkst rēķina  ", {second.pk: " Pievienojiet rēķinu "})
    report.refresh_from_db()
    assert (report.status, report.return_comment, report.decided_by) == (
        Report.Status.RETURNED,
        "Trūkst rēķina",
        boss,
    )
    assert recent(report.decided_at)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.comment, second.comment) == ("", "Pievienojiet rēķinu")
    latest = report.history.first()
    assert (latest.status, latest.decided_by, latest.history_user) == (
        Report.Status.RETURNED,
        boss,
        boss,
    )
    [message] = mail.outbox
    assert message.to == [staff.email]
    assert "Trūkst rēķina" in message.body
    assert "Informatīvā brošūra" not in message.body  # the line without a comment
    assert ": Pievienojiet rēķinu" in message.body
    # Returned already: not returned twice.
    error = refused(lambda: give_back(report, boss, "Vēlreiz"), language="en")
    assert codes(error) == ["not_submitted"]
    assert text(error) == (
        "Version 1 of the final report is returned; only a submitted report is accepted or "
        "returned."
    )


def test_a_document_is_added_with_its_description_trimmed_or_none_when_not_given(valka):
    grant, staff, _boss = valka
    report = filed(grant, staff, ["3000.00", "2000.00"])
    described, bare = (
        settlement.report_document_add(report=report, by=staff, file=upload, **description)
        for upload, description in (
            (SimpleUploadedFile("foto.pdf", PDF), {"description": "  Foto no semināra  "}),
            (SimpleUploadedFile("akts.pdf", PDF), {}),
        )
    )
    described.refresh_from_db()
    bare.refresh_from_db()
    assert (described.original_name, described.description) == ("foto.pdf", "Foto no semināra")
    assert (bare.original_name, bare.description) == ("akts.pdf", "")


def test_a_document_is_stored_under_a_random_name_with_its_checked_type_size_and_digest(
    valka,
):
    grant, staff, _boss = valka
    report = filed(grant, staff, ["3000.00", "2000.00"])
    document = settlement.report_document_add(
        report=report, by=staff, file=SimpleUploadedFile("../../foto.pdf", PDF, "image/png")
    )
    document.refresh_from_db()
    # The name given by the upload is kept for show only; the stored one is the service's.
    assert document.original_name == "foto.pdf"
    assert re.fullmatch(rf"grants/{grant.pk}/reports/[0-9a-f]{{32}}\.pdf", document.file.name)
    # The type is what the content is, not what the browser said.
    assert document.content_type == "application/pdf"
    assert (document.size, document.sha256) == (len(PDF), hashlib.sha256(PDF).hexdigest())
    with default_storage.open(document.file.name) as stored_file:
        assert stored_file.read() == PDF


def test_a_document_whose_row_cannot_be_saved_leaves_no_file_behind(valka, monkeypatch):
    grant, staff, _boss = valka
    report = filed(grant, staff, ["3000.00", "2000.00"])
    before = stored_files()
    checked = settlement.check_document

    def checked_with_a_size_the_table_refuses(file):
        return dataclasses.replace(checked(file), size=-1)

    monkeypatch.setattr(settlement, "check_document", checked_with_a_size_the_table_refuses)
    with pytest.raises(IntegrityError):
        settlement.report_document_add(
            report=report, by=staff, file=SimpleUploadedFile("foto.pdf", PDF)
        )
    assert stored_files() == before
    assert report.documents.count() == 1


def test_a_reports_twentieth_document_is_accepted_and_the_twenty_first_refused(valka):
    grant, staff, _boss = valka
    report = filed(grant, staff, ["3000.00", "2000.00"])
    invoice = report.documents.get()
    for number in range(18):
        ReportDocument.objects.create(
            report=report,
            file=invoice.file.name,
            original_name=f"rekins-{number}.pdf",
            content_type=invoice.content_type,
            size=invoice.size,
            sha256=invoice.sha256,
            uploaded_by=staff,
            uploaded_at=timezone.now(),
        )

    def add(name):
        return settlement.report_document_add(
            report=report, by=staff, file=SimpleUploadedFile(name, PDF)
        )

    add("divdesmitais.pdf")
    assert report.documents.count() == 20
    error = refused(lambda: add("vel.pdf"))
    assert codes(error) == ["too_many_documents"]
    assert text(error) == "Pārskatam var pievienot ne vairāk kā 20 dokumentus."
    assert text(refused(lambda: add("vel.pdf"), language="en")) == (
        "A report may have at most 20 documents."
    )
    assert report.documents.count() == 20


# --- which reports may be filed -------------------------------------------------------------


def draft_of(grant, staff, kind, costs):
    return draft_of_lines(grant, staff, lines_of(grant, costs), kind=kind)


def draft_of_lines(grant, staff, lines, *, kind="final"):
    return settlement.report_save_draft(
        grant=grant, kind=kind, by=staff, summary="Paveikts", lines=lines
    )


def test_a_report_of_an_unknown_kind_is_refused_naming_it(valka):
    grant, staff, _boss = valka

    def annual():
        return draft_of(grant, staff, "annual", ["1000.00", "500.00"])

    assert told(annual) == (
        ["unknown_kind"],
        "Nezināms pārskata veids “annual”.",
        "Unknown kind of report “annual”.",
    )
    assert not Report.objects.filter(grant=grant).exists()


def test_a_report_is_filed_only_once_the_agreement_is_signed():
    grant = decided_grant("cesu-novads")
    staff = staff_of("cesu-novads", "cesis-staff-reporting")

    def early():
        return settlement.report_save_draft(
            grant=grant, kind="final", by=staff, summary="Paveikts", lines=[]
        )

    assert told(early) == (
        ["not_reporting"],
        "Pārskatus iesniedz pēc līguma parakstīšanas; finansējuma statuss: plāna saskaņošana.",
        "Reports are filed once the agreement is signed; the grant is plan being agreed.",
    )
    assert not Report.objects.exists()


def test_a_call_without_an_interim_report_takes_the_final_one_only(valka):
    grant, staff, _boss = valka
    type(grant.competition).objects.filter(pk=grant.competition.pk).update(
        interim_report_due_on=None
    )

    def interim():
        return draft_of(grant, staff, "interim", ["1000.00", "500.00"])

    assert told(interim) == (
        ["no_interim_report"],
        "Šajā konkursā starpposma pārskats nav jāiesniedz.",
        "This call asks for no interim report.",
    )
    assert draft_of(grant, staff, "final", ["1000.00", "500.00"]).kind == "final"


def test_a_submitted_report_cannot_be_changed_until_the_coordinator_answers(valka):
    grant, staff, _boss = valka
    report = submitted(grant, staff, ["3000.00", "2000.00"])

    def change():
        return draft_of(grant, staff, "final", ["2900.00", "2000.00"])

    assert told(change) == (
        ["report_awaiting_decision"],
        "Pārskata (noslēguma pārskats) 1. versija ir iesniegta un gaida koordinatora lēmumu; "
        "līdz tam to nevar mainīt.",
        "Version 1 of the final report is submitted and awaits the coordinator; it cannot be "
        "changed until then.",
    )
    assert [line.actual_cost for line in report.lines.order_by("position")] == [
        Decimal("3000.00"),
        Decimal("2000.00"),
    ]


def test_a_line_with_spending_is_submitted_only_saying_what_was_done(valka):
    grant, staff, _boss = valka
    spent, unspent = lines_of(grant, ["3000.00", "0.00"], done="")
    report = draft_of_lines(grant, staff, [spent, unspent])
    settlement.report_document_add(report=report, by=staff, file=SimpleUploadedFile("r.pdf", PDF))

    def submit():
        return settlement.report_submit(report=report, by=staff)

    # A line that spent nothing need not say anything; one that spent must.
    assert codes(refused(submit)) == ["line_done_required"]
    title = spent.plan_line.title
    assert both(submit) == (
        spaced(f"“{title}”: norādiet, kas paveikts (faktiskās izmaksas ir 3 000,00 €)."),
        f"“{title}”: say what was done (the actual cost is €3,000.00).",
    )
    report.refresh_from_db()
    assert (report.status, report.sha256) == ("draft", "")


def test_an_interim_report_is_filed_while_the_final_is_a_draft_and_refused_once_it_is_not(valka):
    grant, staff, _boss = valka
    final = filed(grant, staff, ["3000.00", "2000.00"])
    interim = draft_of(grant, staff, "interim", ["1000.00", "500.00"])
    assert (interim.kind, interim.status) == ("interim", "draft")
    settlement.report_submit(report=final, by=staff)

    def again():
        return draft_of(grant, staff, "interim", ["1200.00", "500.00"])

    assert told(again) == (
        ["final_report_submitted"],
        "Noslēguma pārskats ir iesniegts; starpposma pārskats vairs nav jāiesniedz.",
        "The final report is submitted; the interim report is no longer filed.",
    )
    interim.refresh_from_db()
    assert interim.lines.order_by("plan_line__position").first().actual_cost == Decimal("1000.00")


def test_an_accepted_report_is_not_filed_again_and_the_refusal_names_its_kind(valka):
    grant, staff, boss = valka
    settlement.report_accept(
        report=submitted(grant, staff, ["1000.00", "500.00"], kind="interim"), by=boss
    )

    def again():
        return draft_of(grant, staff, "interim", ["1200.00", "500.00"])

    assert told(again) == (
        ["report_accepted"],
        "Pārskats (starpposma pārskats) jau ir apstiprināts.",
        "The interim report is already accepted.",
    )
    assert Report.objects.filter(grant=grant).count() == 1


def test_each_report_line_that_cannot_be_read_is_named_with_what_is_wrong_and_nothing_saved(
    valka,
):
    grant, staff, _boss = valka
    other = grant_in_progress("cesu-novads", amount=Decimal("4000.00"))
    first, second = lines_of(grant, ["0.00", "0.00"])
    foreign = lines_of(other, ["1.00", "1.00"])[0]
    names = first.plan_line.title, second.plan_line.title, foreign.plan_line.title
    lines = [
        # Zero is an amount and a count: the boundary of both rules, accepted.
        dataclasses.replace(first, people_reached=0, events_held=0, materials_produced=0),
        dataclasses.replace(second, actual_cost=Decimal("-0.01"), events_held=-1),
        dataclasses.replace(first, actual_cost=Decimal("10.005")),
        dataclasses.replace(first, actual_cost=Decimal("Infinity")),
        dataclasses.replace(second, actual_cost=Decimal("NaN"), materials_produced=1.5),
        dataclasses.replace(foreign, actual_cost=1.5, people_reached=-1, events_held=-1),
    ]

    def save():
        return draft_of_lines(grant, staff, lines)

    error = refused(save)
    assert codes(error) == [
        "invalid_amount",
        "invalid_indicator",
        "invalid_amount",
        "invalid_amount",
        "invalid_amount",
        "invalid_indicator",
        "unknown_line",
        "invalid_amount",
        "invalid_indicator",
    ]
    one, two, three = names
    assert error.messages == [
        f"“{two}”: faktiskās izmaksas nevar būt negatīvas.",
        f"“{two}”: rādītāji ir veseli skaitļi, nulle vai vairāk.",
        f"“{one}”: faktiskās izmaksas jānorāda eiro ar centiem.",
        f"“{one}”: faktiskās izmaksas jānorāda eiro ar centiem.",
        f"“{two}”: faktiskās izmaksas jānorāda eiro ar centiem.",
        f"“{two}”: rādītāji ir veseli skaitļi, nulle vai vairāk.",
        f"“{three}” nav apstiprinātā plāna rinda.",
        f"“{three}”: faktiskās izmaksas jānorāda eiro ar centiem.",
        f"“{three}”: rādītāji ir veseli skaitļi, nulle vai vairāk.",
    ]
    assert refused(save, language="en").messages == [
        f"“{two}”: the actual cost cannot be negative.",
        f"“{two}”: the indicators are whole numbers, zero or more.",
        f"“{one}”: the actual cost must be an amount in euros with cents.",
        f"“{one}”: the actual cost must be an amount in euros with cents.",
        f"“{two}”: the actual cost must be an amount in euros with cents.",
        f"“{two}”: the indicators are whole numbers, zero or more.",
        f"“{three}” is not a line of the approved plan.",
        f"“{three}”: the actual cost must be an amount in euros with cents.",
        f"“{three}”: the indicators are whole numbers, zero or more.",
    ]
    assert not Report.objects.filter(grant=grant).exists()
    # The first line alone, at zero everywhere, is a draft that can be saved.
    report = draft_of_lines(grant, staff, lines[:1])
    assert report.status == "draft"
    assert report.lines.get(plan_line=first.plan_line).actual_cost == Decimal("0.00")


# --- deleting a report's document -----------------------------------------------------------


def delete(document, by):
    return settlement.report_document_delete(document=document, by=by)


def test_a_drafts_document_is_deleted_by_its_staff_and_its_file_once_committed(
    valka, django_capture_on_commit_callbacks
):
    grant, staff, boss = valka
    report = filed(grant, staff, ["3000.00", "2000.00"])
    photo = settlement.report_document_add(
        report=report, by=staff, file=SimpleUploadedFile("foto.pdf", PDF), description="Foto"
    )
    invoice = report.documents.exclude(pk=photo.pk).get()
    stranger = staff_of("gulbenes-novads", "gulbene-staff-rules")
    for someone in (stranger, boss):
        error = refused(lambda s=someone: delete(photo, s))
        assert codes(error) == ["not_municipality_staff"]
        assert text(error) == "To var darīt tikai pašvaldības “Valkas novads” darbinieki."
        error = refused(lambda s=someone: delete(photo, s), language="en")
        assert text(error) == "Only staff of Valkas novads can do this."
    name = photo.file.name
    assert default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        delete(photo, staff)
        assert default_storage.exists(name)  # until the transaction commits
    assert not default_storage.exists(name)
    assert list(report.documents.all()) == [invoice]
    assert default_storage.exists(invoice.file.name)


def test_a_submitted_versions_document_stays_and_its_file_outlives_the_next_drafts_copy(
    valka, django_capture_on_commit_callbacks
):
    grant, staff, boss = valka
    first = submitted(grant, staff, ["3000.00", "2000.00"])
    kept = first.documents.get()
    error = refused(lambda: delete(kept, staff))
    assert codes(error) == ["not_draft"]
    assert both(lambda: delete(kept, staff)) == (
        "Pārskata (noslēguma pārskats) 1. versijas statuss: iesniegts; mainīt var tikai melnrakstu.",
        "Version 1 of the final report is submitted; only a draft can be changed.",
    )
    give_back(first, boss, "Labojiet")
    second = settlement.report_save_draft(
        grant=grant,
        kind="final",
        by=staff,
        summary="Labots",
        lines=lines_of(grant, ["3000.00", "2000.00"]),
    )
    copy = second.documents.get()
    assert copy.file.name == kept.file.name
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        delete(copy, staff)
    assert callbacks == []  # nothing to remove: the submitted version keeps the file
    assert not second.documents.exists()
    assert ReportDocument.objects.get().pk == kept.pk
    assert default_storage.exists(kept.file.name)


# --- the municipality's signed agreement ----------------------------------------------------


def test_the_signed_agreement_is_stored_under_its_number_and_the_history_names_the_signatory():
    grant = decided_grant("cesu-novads")
    signatory = staff_of("cesu-novads", "cesis-signatory-rules")
    grant.municipality.signatories.add(signatory)
    agreement = approved(grant, Decimal("4000.00"))
    grant_services.agreement_upload_signed(
        agreement=agreement, by=signatory, file=upload("līgums.asice", asice(stored(agreement)))
    )
    agreement.refresh_from_db()
    number = re.escape(agreement.number.replace("/", "-"))
    assert re.fullmatch(
        rf"grants/{grant.pk}/agreements/{number}_[0-9a-f]{{8}}\.asice", agreement.signed_file.name
    )
    latest = agreement.history.first()
    assert (latest.signed_file, latest.history_user) == (agreement.signed_file.name, signatory)


# --- submitting a report --------------------------------------------------------------------


def test_a_final_report_submitted_moves_the_grant_to_reporting_and_tells_the_coordinators(
    valka, django_capture_on_commit_callbacks
):
    grant, staff, boss = valka
    report = filed(grant, staff, ["3000.00", "2000.00"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        settlement.report_submit(report=report, by=staff)

    report.refresh_from_db()
    assert (report.status, report.submitted_by) == (Report.Status.SUBMITTED, staff)
    assert recent(report.submitted_at)
    latest = report.history.first()
    assert (latest.status, latest.history_user) == (Report.Status.SUBMITTED, staff)
    grant.refresh_from_db()
    assert grant.status == Grant.Status.REPORTING
    latest = grant.history.first()
    assert (latest.status, latest.history_user) == (Grant.Status.REPORTING, staff)
    coordinators = sorted(user.email for user in roles.coordinators())
    assert boss.email in coordinators
    assert sorted(address for message in mail.outbox for address in message.to) == coordinators
    reference = grant.application.reference
    assert {message.subject for message in mail.outbox} == {
        f"{reference}: iesniegts pārskats (noslēguma pārskats, 1. versija)"
    }


def test_an_interim_report_submitted_leaves_the_grant_in_progress(valka):
    grant, staff, _boss = valka
    settlement.report_submit(report=filed(grant, staff, ["1000.00", "500.00"], "interim"), by=staff)
    grant.refresh_from_db()
    assert grant.status == Grant.Status.IN_PROGRESS


def test_a_line_of_one_euro_must_say_what_was_done(valka):
    grant, staff, _boss = valka
    report = draft_of_lines(grant, staff, lines_of(grant, ["1.00", "0.00"], done=""))
    settlement.report_document_add(report=report, by=staff, file=SimpleUploadedFile("r.pdf", PDF))
    title = settlement.approved_plan(grant).lines.order_by("position").first().title
    assert told(lambda: settlement.report_submit(report=report, by=staff)) == (
        ["line_done_required"],
        spaced(f"“{title}”: norādiet, kas paveikts (faktiskās izmaksas ir 1,00 €)."),
        f"“{title}”: say what was done (the actual cost is €1.00).",
    )


def test_a_final_report_of_one_euro_needs_its_evidence_and_one_of_nothing_does_not(valka):
    grant, staff, _boss = valka
    report = filed(grant, staff, ["1.00", "0.00"], with_invoice=False)
    assert codes(refused(lambda: settlement.report_submit(report=report, by=staff))) == [
        "documents_required"
    ]
    nothing = filed(grant, staff, ["0.00", "0.00"], with_invoice=False)
    assert settlement.report_submit(report=nothing, by=staff).status == Report.Status.SUBMITTED


def test_a_lines_limit_with_the_tolerance_is_rounded_down_to_the_cent():
    # 1 234,56 € and 10 % is 1 358,016 €: the limit is 1 358,01 €, not a cent that was not agreed.
    assert settlement.line_limit(Decimal("1234.56"), Decimal("10")) == Decimal("1358.01")
    assert settlement.line_limit(Decimal("0.05"), Decimal("10")) == Decimal("0.05")
    assert settlement.line_limit(Decimal("3000.00"), Decimal("10")) == Decimal("3300.00")
    assert settlement.line_limit(Decimal("3000.00"), Decimal("0")) == Decimal("3000.00")


def test_a_new_report_is_due_on_the_calls_date_for_its_kind_or_today_and_names_its_author(valka):
    grant, staff, _boss = valka
    call = grant.competition
    assert call.interim_report_due_on != call.report_due_on
    interim = draft_of(grant, staff, "interim", ["1000.00", "500.00"])
    final = draft_of(grant, staff, "final", ["3000.00", "2000.00"])
    assert (interim.due_on, final.due_on) == (call.interim_report_due_on, call.report_due_on)
    for report in (interim, final):
        report.refresh_from_db()
        assert (report.number, report.created_by) == (1, staff)
        assert {record.history_user for record in report.history.all()} == {staff}
    # A call without a report date: the report is due from the day it is started.
    type(call).objects.filter(pk=call.pk).update(report_due_on=None)
    grant.competition.refresh_from_db()
    Report.objects.filter(pk=final.pk).delete()
    assert draft_of(grant, staff, "final", ["3000.00", "2000.00"]).due_on == timezone.localdate()


def test_a_returned_reports_next_version_carries_its_documents_over_as_they_were(valka):
    grant, staff, boss = valka
    first = filed(grant, staff, ["3000.00", "2000.00"])
    settlement.report_document_add(
        report=first,
        by=staff,
        file=SimpleUploadedFile("foto.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
        description="Pasākuma foto",
    )
    give_back(settlement.report_submit(report=first, by=staff), boss, "Precizējiet izmaksas")
    second = filed(grant, staff, ["2900.00", "2000.00"], with_invoice=False)
    assert (second.number, second.pk != first.pk) == (2, True)

    def kept(report):
        return [
            (
                document.file.name,
                document.original_name,
                document.description,
                document.content_type,
                document.size,
                document.sha256,
                document.uploaded_by,
                document.uploaded_at,
            )
            for document in report.documents.order_by("id")
        ]

    assert len(kept(first)) == 2
    assert kept(second) == kept(first)


def test_a_draft_saved_again_keeps_one_row_per_plan_line_numbered_from_one(valka):
    grant, staff, _boss = valka
    plan_lines = list(settlement.approved_plan(grant).lines.order_by("position"))
    first = draft_of(grant, staff, "final", ["1000.00", "500.00"])
    rows = [line.pk for line in first.lines.order_by("position")]
    # Saved again with the second line left out: it is kept, emptied.
    [given, _left_out] = lines_of(grant, ["2900.00", "0.00"], done="  Izdots ")
    again = draft_of_lines(grant, staff, [given])
    assert again.pk == first.pk
    assert [
        (line.pk, line.position, line.plan_line_id, line.done, line.actual_cost)
        for line in again.lines.order_by("position")
    ] == [
        (rows[0], 1, plan_lines[0].pk, "Izdots", Decimal("2900.00")),
        (rows[1], 2, plan_lines[1].pk, "", Decimal("0.00")),
    ]
    again.refresh_from_db()
    assert again.claimed_total == Decimal("2900.00")
