"""The rules of issuing decision letters, each refusal with its code and its exact message in
Latvian and in English; the letter's number and date, its issuer and its mail; and the counter
that numbers letters without gaps."""

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
import weasyprint
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from applications import services
from applications.models import ApplicationStatus, AwardLetter, NumberSequence
from competitions.models import Competition

from .factories import (
    ApplicationFactory,
    CompetitionFactory,
    coordinator,
    municipality,
    staff_of,
)
from .services.common import codes, save, text
from .test_letters import issue, pdf_text, stored_bytes

pytestmark = pytest.mark.django_db

RIGA = ZoneInfo("Europe/Riga")


def refused(language: str, attempt) -> ValidationError:
    with translation.override(language), pytest.raises(ValidationError) as error:
        attempt()
    return error.value


# --- refusals ---------------------------------------------------------------------------------


def test_a_letter_in_an_unknown_language_is_refused_naming_the_language(decided_call):
    for language, message in [
        ("lv", "Vēstules raksta latviski vai angliski, nevis valodā “de”."),
        ("en", "Letters are written in Latvian or English, not in “de”."),
    ]:
        error = refused(language, lambda: issue(decided_call, "smiltenes-novads", "de"))
        assert codes(error) == ["unknown_language"]
        assert text(error) == message
    assert not AwardLetter.objects.exists()


def test_a_letter_before_the_decision_is_refused_naming_the_status():
    application = ApplicationFactory()
    by = coordinator()
    for language, message in [
        ("lv", "Vēstuli izdod tikai pēc lēmuma pieņemšanas; pieteikuma statuss: melnraksts."),
        ("en", "A letter is issued only after the decision; the application is draft."),
    ]:
        error = refused(language, lambda: services.letter_issue(application=application, by=by))
        assert codes(error) == ["not_decided"]
        assert text(error) == message
    assert not AwardLetter.objects.exists()


def test_an_award_letter_is_refused_naming_every_missing_field_of_the_call(decided_call):
    Competition.objects.filter(pk=decided_call.competition.pk).update(
        signatory_name="", implementation_ends_on=None
    )
    for language, message in [
        (
            "lv",
            "Pirms vēstuļu izdošanas konkursā jānorāda: "
            "vēstules parakstītājs; aktivitāšu īstenošanas beigu datums.",
        ),
        (
            "en",
            "Fill in the call's letter signatory; activities to be completed by "
            "before its letters are issued.",
        ),
    ]:
        error = refused(language, lambda: issue(decided_call, "smiltenes-novads"))
        assert codes(error) == ["call_incomplete"]
        assert text(error) == message
    assert not AwardLetter.objects.exists()


def test_a_whole_call_is_refused_once_per_distinct_problem(decided_call):
    """Five award letters and one rejection letter lack the same signatory's position; the
    award letters lack their report date too: two problems, each said once."""
    Competition.objects.filter(pk=decided_call.competition.pk).update(
        signatory_position="", report_due_on=None
    )
    error = refused(
        "en",
        lambda: services.competition_issue_letters(
            competition=decided_call.competition, by=decided_call.coordinator
        ),
    )
    assert codes(error) == ["call_incomplete", "call_incomplete"]
    assert sorted(error.messages) == [
        "Fill in the call's signatory's position before its letters are issued.",
        "Fill in the call's signatory's position; report due on before its letters are issued.",
    ]
    assert not AwardLetter.objects.exists()
    assert not NumberSequence.objects.filter(key__startswith="letter:").exists()


def test_a_call_not_yet_decided_is_refused_naming_the_call():
    competition = CompetitionFactory(
        title_lv="Remigrācijas atbalsts 2020", title_en="Remigration support 2020"
    )
    by = coordinator()
    for language, message in [
        (
            "lv",
            "Konkursā “Remigrācijas atbalsts 2020” lēmums vēl nav pieņemts; vēstules izdod "
            "pēc lēmuma.",
        ),
        (
            "en",
            "The call “Remigration support 2020” has not been decided yet; its letters "
            "follow the decision.",
        ),
    ]:
        error = refused(
            language,
            lambda: services.competition_issue_letters(competition=competition, by=by),
        )
        assert codes(error) == ["call_not_decided"]
        assert text(error) == message


def test_a_failed_rendering_is_logged_with_the_number_of_letters(decided_call, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise OSError("WeasyPrint failed")

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", broken)
    with caplog.at_level(logging.ERROR, logger="applications.services"):
        error = refused("en", lambda: issue(decided_call, "smiltenes-novads"))
    assert codes(error) == ["render_failed"]
    [record] = [r for r in caplog.records if r.name == "applications.services"]
    assert record.getMessage() == "Rendering 1 letter(s) failed"
    assert record.exc_info[1].args == ("WeasyPrint failed",)


# --- the letter issued ------------------------------------------------------------------------


def test_the_letter_is_mailed_to_its_municipality_once_issued(
    decided_call, mailoutbox, django_capture_on_commit_callbacks
):
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        letter = issue(decided_call, "smiltenes-novads")
    application = decided_call.applications["smiltenes-novads"]
    [mail] = mailoutbox
    assert mail.to == [decided_call.staff["smiltenes-novads"].email]
    assert mail.subject == (
        f"Lēmuma vēstule Nr. {letter.number} par pieteikumu {application.reference}"
    )
    assert f"izdota lēmuma vēstule Nr. {letter.number}." in mail.body


def test_a_letter_issued_at_the_last_instant_of_the_year_is_dated_and_numbered_in_that_year(
    decided_call, monkeypatch
):
    """The date printed and the year in the number are those of the moment recorded as the
    letter's issue, even when the clock passes midnight while the letter is being made."""
    last_instant = datetime(2019, 12, 31, 23, 59, 59, 999999, tzinfo=RIGA)
    moments = iter([last_instant])
    monkeypatch.setattr(timezone, "now", lambda: next(moments, last_instant + timedelta(seconds=1)))
    letter = issue(decided_call, "smiltenes-novads")
    assert letter.issued_at == last_instant
    assert letter.number == "VPR/2019/remigration-2019/001"
    assert "31.12.2019. Nr. VPR/2019/remigration-2019/001" in pdf_text(stored_bytes(letter))


# --- the deadline in Riga time ----------------------------------------------------------------


def test_a_late_submission_names_the_deadline_not_the_moment_of_trying():
    smiltene = staff_of("smiltenes-novads")
    deadline = datetime(2019, 8, 30, 17, 0, tzinfo=RIGA)
    call = CompetitionFactory(opens_at=deadline - timedelta(days=25), closes_at=deadline)
    with time_machine.travel(deadline - timedelta(days=1), tick=False):
        application = services.application_start(
            competition=call, municipality=municipality("smiltenes-novads"), by=smiltene
        )
        save(application, smiltene, ["100"])
    with time_machine.travel(deadline + timedelta(days=2, hours=3), tick=False):
        for language, message in [
            (
                "lv",
                "Konkursa pieteikumu iesniegšanas termiņš beidzās 30.08.2019. 17:00 (pēc Rīgas "
                "laika).",
            ),
            ("en", "The deadline of the call passed on 30 Aug 2019, 17:00 (Riga time)."),
        ]:
            error = refused(
                language,
                lambda: services.application_submit(application=application, by=smiltene),
            )
            assert codes(error) == ["deadline_passed"]
            assert text(error) == message
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DRAFT
