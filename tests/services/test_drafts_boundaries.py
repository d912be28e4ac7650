"""The rules of a draft, its withdrawal and its documents at their edges, as the municipality
reads them: each refusal's code and its whole message with its figures, in Latvian and in
English; what a withdrawal leaves in the ledger and the history; what becomes of the files.

These are the changes to ``applications/services/drafts.py`` that once passed every test
(mutation testing, ``make mutation``)."""

import dataclasses
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.utils import timezone, translation
from django.utils.formats import date_format

from applications import services, uploads
from applications.models import AllocationEvent, Application, SupportingDocument
from applications.services import drafts
from competitions.formatting import MONEY_LIMIT

from ..amounts import spaced
from ..factories import PDF, CompetitionFactory, category, document_of, municipality, staff_of
from ..source_case import DETAILS, activities_costing, build_source_case
from .common import codes, save, text

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")
MB = 1024 * 1024


def refused(act, *, language="lv") -> ValidationError:
    with translation.override(language), pytest.raises(ValidationError) as error:
        act()
    return error.value


def stored_files(settings) -> list[Path]:
    return sorted(path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file())


def pdf(name="tāme.pdf", size=None) -> SimpleUploadedFile:
    content = PDF if size is None else PDF + b"0" * (size - len(PDF))
    return SimpleUploadedFile(name, content, content_type="application/pdf")


# --- a draft over the cap -------------------------------------------------------------------


def test_a_draft_at_the_cap_is_not_over_it_and_one_cent_more_is_over_by_a_cent(draft, smiltene):
    cap = draft.competition.max_award_amount
    assert services.over_cap_problems(save(draft, smiltene, [str(cap)])) == []
    over = save(draft, smiltene, [str(cap), "0.01"])
    with translation.override("lv"):
        problems = services.over_cap_problems(over)
    assert [problem.code for problem in problems] == ["over_cap"]
    assert text(ValidationError(problems)) == spaced(
        "Pieprasītā summa 10 000,01 € pārsniedz maksimālo finansējumu vienai pašvaldībai "
        "10 000,00 € par 0,01 €."
    )
    with translation.override("en"):
        problems = services.over_cap_problems(over)
    assert text(ValidationError(problems)) == (
        "The requested amount €10,000.01 exceeds the maximum award per municipality of "
        "€10,000.00 by €0.01."
    )


# --- withdrawing ----------------------------------------------------------------------------


def test_a_withdrawal_returns_the_award_through_the_ledger_with_its_reason_and_author():
    case = build_source_case(close=False)
    valka, staff = case.applications["valkas-novads"], case.staff["valkas-novads"]
    services.allocation_set(
        application=valka, amount=Decimal("10000"), by=case.coordinator, reason="Pamatots"
    )
    moment = timezone.now() + timedelta(minutes=5)
    with time_machine.travel(moment, tick=False), translation.override("lv"):
        services.application_withdraw(application=valka, by=staff)

    stored = Application.objects.get(pk=valka.pk)
    assert stored.status == Application.Status.WITHDRAWN
    assert stored.awarded_amount == Decimal("0.00")
    assert stored.withdrawn_at == moment
    row = AllocationEvent.objects.filter(application=valka).last()
    assert (row.amount_before, row.amount_after) == (Decimal("10000.00"), Decimal("0.00"))
    assert row.reason == "Pašvaldība atsauca pieteikumu."
    assert row.by == staff
    last = stored.history.order_by("history_date", "history_id").last()
    assert (last.status, last.history_user) == (Application.Status.WITHDRAWN, staff)
    assert last.withdrawn_at == moment


def test_the_withdrawals_ledger_reason_is_written_in_the_language_of_the_request():
    case = build_source_case(close=False)
    cesis = case.applications["cesu-novads"]
    services.allocation_set(application=cesis, amount=Decimal("1"), by=case.coordinator, reason="x")
    with translation.override("en"):
        services.application_withdraw(application=cesis, by=case.staff["cesu-novads"])
    row = AllocationEvent.objects.filter(application=cesis).last()
    assert row.reason == "The municipality withdrew the application."


def test_a_withdrawal_without_an_award_writes_no_ledger_row_and_keeps_its_author():
    case = build_source_case(close=False)
    cesis, staff = case.applications["cesu-novads"], case.staff["cesu-novads"]
    before = AllocationEvent.objects.filter(application=cesis).count()
    services.application_withdraw(application=cesis, by=staff)
    assert AllocationEvent.objects.filter(application=cesis).count() == before
    stored = Application.objects.get(pk=cesis.pk)
    assert stored.withdrawn_at is not None
    last = stored.history.order_by("history_date", "history_id").last()
    assert (last.status, last.history_user) == (Application.Status.WITHDRAWN, staff)


def test_only_the_municipalitys_staff_may_withdraw():
    case = build_source_case(close=False)
    cesis = case.applications["cesu-novads"]
    for outsider in (case.staff["valkas-novads"], case.coordinator):
        error = refused(lambda u=outsider: services.application_withdraw(application=cesis, by=u))
        assert codes(error) == ["not_municipality_staff"]
    assert Application.objects.get(pk=cesis.pk).status == Application.Status.SUBMITTED


def test_a_withdrawal_after_the_decision_is_refused_naming_the_reference():
    case = build_source_case()
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    services.competition_decide(competition=case.competition, by=case.coordinator)
    cesis = Application.objects.get(pk=case.applications["cesu-novads"].pk)
    status = cesis.status

    def withdraw():
        services.application_withdraw(application=cesis, by=case.staff["cesu-novads"])

    error = refused(withdraw)
    assert codes(error) == ["decided"]
    assert text(error) == (
        f"Konkursā jau ir pieņemts lēmums; pieteikumu {cesis.reference} vairs nevar atsaukt."
    )
    error = refused(withdraw, language="en")
    assert text(error) == (
        f"The call has been decided; application {cesis.reference} can no longer be withdrawn."
    )
    assert Application.objects.get(pk=cesis.pk).status == status


def test_only_a_submitted_application_can_be_withdrawn_and_the_refusal_names_its_status(
    draft, smiltene
):
    def withdraw():
        services.application_withdraw(application=draft, by=smiltene)

    error = refused(withdraw)
    assert codes(error) == ["not_submitted"]
    assert text(error) == (
        "Atsaukt var tikai iesniegtu pieteikumu; šī pieteikuma statuss: melnraksts."
    )
    error = refused(withdraw, language="en")
    assert text(error) == "Only a submitted application can be withdrawn; this one is draft."

    case = build_source_case(close=False)
    cesis, staff = case.applications["cesu-novads"], case.staff["cesu-novads"]
    services.application_withdraw(application=cesis, by=staff)
    error = refused(lambda: services.application_withdraw(application=cesis, by=staff))
    assert codes(error) == ["not_submitted"]
    assert text(error).endswith("šī pieteikuma statuss: atsaukts.")


# --- deleting a draft -----------------------------------------------------------------------


def test_deleting_a_draft_removes_its_rows_and_then_its_files_recording_who(
    draft, smiltene, settings, django_capture_on_commit_callbacks
):
    save(draft, smiltene, ["100"])
    documents = [
        services.document_add(application=draft, by=smiltene, file=pdf(name))
        for name in ("a.pdf", "b.pdf")
    ]
    assert len(stored_files(settings)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        services.application_delete_draft(application=draft, by=smiltene)
    assert stored_files(settings) == []
    assert not SupportingDocument.objects.filter(pk__in=[d.pk for d in documents]).exists()
    assert not Application.objects.filter(pk=draft.pk).exists()
    gone = Application.history.filter(id=draft.pk, history_type="-").get()
    assert gone.history_user == smiltene


def test_a_document_removed_goes_with_its_file_once_committed_and_the_others_stay(
    draft, smiltene, settings, django_capture_on_commit_callbacks
):
    kept, removed = (
        services.document_add(application=draft, by=smiltene, file=pdf(name))
        for name in ("paliek.pdf", "iznem.pdf")
    )
    with django_capture_on_commit_callbacks() as callbacks:
        services.document_delete(document=removed, by=smiltene)
    # Until the removal is committed, the file is still there.
    assert len(stored_files(settings)) == 2
    for callback in callbacks:
        callback()
    assert stored_files(settings) == [Path(kept.file.path)]
    assert list(draft.documents.all()) == [kept]


def test_a_draft_is_deleted_only_by_its_municipalitys_staff(draft):
    error = refused(
        lambda: services.application_delete_draft(application=draft, by=staff_of("valkas-novads")),
        language="en",
    )
    assert codes(error) == ["not_municipality_staff"]
    assert text(error) == "Only staff of Smiltenes novads can do this."
    assert Application.objects.filter(pk=draft.pk).exists()


# --- documents: how many, how large, what kind, stored how ------------------------------------


def test_a_document_is_stored_under_a_random_name_with_what_the_user_sent(
    draft, smiltene, settings
):
    document = services.document_add(application=draft, by=smiltene, file=pdf("Budžets 2019.pdf"))
    document.refresh_from_db()
    assert re.fullmatch(rf"documents/{draft.pk}/[0-9a-f]{{32}}\.pdf", document.file.name)
    assert document.original_name == "Budžets_2019.pdf"
    assert document.content_type == "application/pdf"
    assert document.size == len(PDF)
    assert document.uploaded_by == smiltene
    with document.file.open("rb") as stored:
        assert stored.read() == PDF
    assert [p.name for p in stored_files(settings)] == [Path(document.file.name).name]


def test_the_twentieth_document_is_accepted_and_the_twenty_first_refused(draft, smiltene):
    assert uploads.MAX_DOCUMENTS_PER_APPLICATION == 20
    for _ in range(19):
        document_of(draft, by=smiltene)
    services.document_add(application=draft, by=smiltene, file=pdf())
    assert draft.documents.count() == 20

    def add():
        services.document_add(application=draft, by=smiltene, file=pdf("vēl.pdf"))

    error = refused(add)
    assert codes(error) == ["too_many_documents"]
    assert text(error) == "Pieteikumam var pievienot ne vairāk kā 20 dokumentus."
    error = refused(add, language="en")
    assert codes(error) == ["too_many_documents"]
    assert text(error) == "An application may have at most 20 documents."
    assert draft.documents.count() == 20


def test_a_document_of_exactly_10_mb_is_accepted_and_one_byte_more_refused(
    draft, smiltene, settings
):
    limit = uploads.MAX_DOCUMENT_BYTES
    assert limit == 10 * MB
    document = services.document_add(application=draft, by=smiltene, file=pdf("liels.pdf", limit))
    assert document.size == limit

    def add():
        services.document_add(application=draft, by=smiltene, file=pdf("liels.pdf", limit + 1))

    error = refused(add)
    assert codes(error) == ["file_too_large"]
    assert text(error) == (
        "Fails “liels.pdf” ir 10,0 MB liels; dokuments nedrīkst būt lielāks par 10 MB."
    )
    error = refused(add, language="en")
    assert text(error) == "“liels.pdf” is 10,0 MB; a document may be at most 10 MB."
    assert draft.documents.count() == 1
    assert len(stored_files(settings)) == 1


def test_a_document_whose_content_is_not_its_name_is_refused(draft, smiltene, settings):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    error = refused(
        lambda: services.document_add(
            application=draft, by=smiltene, file=SimpleUploadedFile("tāme.pdf", png)
        ),
        language="en",
    )
    assert codes(error) == ["file_type_not_accepted"]
    assert text(error) == (
        "“tāme.pdf” is not a PDF, DOCX, XLSX, ODT, JPG, PNG file (its content was checked, "
        "not only its name)."
    )
    assert stored_files(settings) == []


def test_documents_are_added_and_removed_only_while_the_application_is_a_draft(
    draft, smiltene, django_capture_on_commit_callbacks
):
    document = services.document_add(application=draft, by=smiltene, file=pdf())
    error = refused(
        lambda: services.document_add(application=draft, by=staff_of("valkas-novads"), file=pdf())
    )
    assert codes(error) == ["not_municipality_staff"]
    save(draft, smiltene, ["100"])
    services.application_submit(application=draft, by=smiltene)
    draft.refresh_from_db()
    for act in (
        lambda: services.document_add(application=draft, by=smiltene, file=pdf()),
        lambda: services.document_delete(document=document, by=smiltene),
    ):
        error = refused(act, language="en")
        assert codes(error) == ["not_draft"]
        assert text(error) == (
            f"Application {draft.reference} has been submitted and can no longer be changed."
        )
    assert list(draft.documents.all()) == [document]


def test_a_document_whose_row_cannot_be_saved_leaves_no_file_behind(
    draft, smiltene, settings, monkeypatch
):
    # A row the database refuses (its size not above 0, against the table's own check).
    checked = uploads.check_document

    def checked_as_empty(file):
        return dataclasses.replace(checked(file), size=0)

    monkeypatch.setattr(drafts, "check_document", checked_as_empty)
    with pytest.raises(IntegrityError):
        services.document_add(application=draft, by=smiltene, file=pdf())
    assert stored_files(settings) == []
    assert not draft.documents.exists()


def test_a_save_refused_on_its_second_file_removes_the_first_files_stored_copy(
    draft, smiltene, settings
):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    with pytest.raises(ValidationError) as error:
        services.application_save_draft(
            application=draft,
            by=smiltene,
            details=DETAILS,
            activities=None,
            new_files=[pdf("a.pdf"), SimpleUploadedFile("b.pdf", png)],
        )
    assert codes(error.value) == ["file_type_not_accepted"]
    assert stored_files(settings) == []
    assert not draft.documents.exists()


def test_a_removed_document_goes_with_its_file_once_the_save_is_committed(
    draft, smiltene, settings, django_capture_on_commit_callbacks
):
    kept, removed = (
        services.document_add(application=draft, by=smiltene, file=pdf(name))
        for name in ("a.pdf", "b.pdf")
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.application_save_draft(
            application=draft,
            by=smiltene,
            details=DETAILS,
            activities=None,
            removed_document_ids=[removed.pk],
        )
    assert list(draft.documents.all()) == [kept]
    assert [p.name for p in stored_files(settings)] == [Path(kept.file.name).name]


# --- the activities' total and the call's opening, at their limits -----------------------------


def test_a_total_of_exactly_the_limit_is_saved_and_a_cent_more_is_refused_naming_it(
    draft, smiltene
):
    def costing(*costs):
        return [
            services.ActivityData(category_id=category().pk, title=f"A{n}", cost=Decimal(cost))
            for n, cost in enumerate(costs, start=1)
        ]

    saved = services.application_update_draft(
        application=draft,
        by=smiltene,
        details=DETAILS,
        activities=costing("9999999999.98", "0.01"),
    )
    assert saved.requested_amount == MONEY_LIMIT
    for language, message in (
        ("lv", "Aktivitāšu kopsumma ir pārāk liela: ne vairāk kā 9 999 999 999,99 €."),
        ("en", "The total of the activities is too large: at most €9,999,999,999.99."),
    ):
        with translation.override(language), pytest.raises(ValidationError) as error:
            services.application_update_draft(
                application=draft,
                by=smiltene,
                details=DETAILS,
                activities=costing("9999999999.99", "0.01"),
            )
        assert [e.code for e in error.value.error_list] == ["amount_too_large"]
        assert error.value.messages == [spaced(message)]
    assert Application.objects.get(pk=draft.pk).requested_amount == MONEY_LIMIT


def test_a_call_takes_submissions_from_the_instant_it_opens_and_not_before(smiltene):
    # On the minute, so that the second before it is shown as another minute.
    opens = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    call = CompetitionFactory(opens_at=opens, closes_at=opens + timedelta(days=8))
    early, on_time = (
        services.application_start(competition=call, municipality=municipality(slug), by=user)
        for slug, user in (
            ("smiltenes-novads", smiltene),
            ("valkas-novads", staff_of("valkas-novads")),
        )
    )
    for application in (early, on_time):
        services.application_update_draft(
            application=application,
            by=application.created_by,
            details=DETAILS,
            activities=activities_costing(Decimal("1000"), category().pk),
        )
    for language, message in (
        ("lv", "Pieteikumu iesniegšana sāksies {opens} (pēc Rīgas laika)."),
        ("en", "The call opens for submissions on {opens} (Riga time)."),
    ):
        second_before = time_machine.travel(opens - timedelta(seconds=1), tick=False)
        with second_before, translation.override(language):
            with pytest.raises(ValidationError) as error:
                services.application_submit(application=early, by=smiltene)
            opens_shown = date_format(timezone.localtime(opens), "DATETIME_FORMAT")
        assert [e.code for e in error.value.error_list] == ["call_not_open_yet"]
        assert error.value.messages == [message.format(opens=opens_shown)]
    with time_machine.travel(opens, tick=False):
        submitted = services.application_submit(application=on_time, by=on_time.created_by)
    assert submitted.status == Application.Status.SUBMITTED
    assert submitted.submitted_at == opens
