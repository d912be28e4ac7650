"""``manage.py issue_letters``: the letters of a whole call, as a job (here, without a broker;
tests/test_workers.py runs it on Celery workers)."""

import hashlib
import io
import re

import pytest
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from applications import letters
from applications.models import AwardLetter
from competitions.models import JobRun

from .factories import reviewer
from .source_case import build_source_case

pytestmark = pytest.mark.django_db


CALL = "remigration-2019"


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_letters", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def assert_issued_without_gaps(first: int, last: int) -> None:
    numbers = sorted(AwardLetter.objects.values_list("number", flat=True))
    assert numbers == [f"VPR/2019/{CALL}/{n:03d}" for n in range(first, last + 1)]
    for letter in AwardLetter.objects.select_related("application__municipality"):
        with letter.file.open("rb") as handle:
            pdf = handle.read()
        assert hashlib.sha256(pdf).hexdigest() == letter.sha256
        text = " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
        assert letter.number in text
        assert letters.latvian_genitive(letter.application.municipality.name) in text


def test_command_issues_the_letters_of_a_call_with_a_progress_bar(decided_call):
    out, err = run(CALL, "--by", "coordinator")
    assert_issued_without_gaps(1, 6)
    assert "Issued 6 letter(s) in remigration-2019 (lv, here; job " in out
    assert re.search(r"^VPR/2019/remigration-2019/00[1-6]\trejection\tCesvaines novads$", out, re.M)
    assert "6/6" in err  # the progress bar, finished


def test_command_issues_nothing_twice_unless_asked_to_reissue(decided_call):
    run(CALL, "--by", "coordinator")
    out, _err = run(CALL, "--by", "coordinator")
    assert "No letters to issue" in out
    assert AwardLetter.objects.count() == 6
    run(CALL, "--by", "coordinator", "--reissue")
    assert_issued_without_gaps(1, 12)
    assert AwardLetter.objects.current().count() == 6
    assert AwardLetter.objects.filter(replaced_by__isnull=False).count() == 6


def test_command_issues_english_letters_beside_the_latvian_ones(decided_call):
    run(CALL, "--by", "coordinator")
    out, _err = run(CALL, "--by", "coordinator", "--language", "en")
    assert "(en, here; job " in out
    assert AwardLetter.objects.current().filter(language="en").count() == 6
    assert AwardLetter.objects.current().filter(language="lv").count() == 6


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-call", "--by", "coordinator"], "There is no call with the slug"),
        ([CALL, "--by", "nobody"], "is not an active user who may issue letters"),
        ([CALL, "--by", "reviewer3"], "is not an active user who may issue letters"),
    ],
)
def test_command_refuses_what_it_cannot_do(decided_call, args, message):
    reviewer("reviewer3")
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not AwardLetter.objects.exists()
    assert not JobRun.objects.exists()


def test_command_refuses_a_call_not_yet_decided():
    case = build_source_case()
    with pytest.raises(CommandError, match="lēmums vēl nav pieņemts"):
        run(case.competition.slug, "--by", case.coordinator.username)
    assert not AwardLetter.objects.exists()


def test_command_records_the_job_and_a_refused_one_names_why():
    case = build_source_case()
    with pytest.raises(CommandError, match="lēmums vēl nav pieņemts"):
        run(case.competition.slug, "--by", case.coordinator.username)
    job = JobRun.objects.get()
    assert job.status == JobRun.Status.FAILED
    assert job.done == 0
    assert "lēmums vēl nav pieņemts" in job.failures[0]
