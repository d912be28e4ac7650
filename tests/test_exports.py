"""The CSV and XLSX export of a call's applications with activities, scores and awards:
what a coordinator downloads from the admin, with formula-looking text escaped."""

import csv
import io
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from applications import exports, services, tasks
from applications.models import PlannedActivity
from competitions import jobs, spreadsheets
from competitions.jobs import done_so_far
from competitions.models import JobRun

from .factories import (
    ApplicationFactory,
    call_with_reviewed_applications,
    coordinator,
    municipality,
)
from .source_case import build_source_case

pytestmark = pytest.mark.django_db

FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tTab"]


@pytest.fixture
def case():
    case = build_source_case()
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    return case


def export_url(competition, export_format) -> str:
    return reverse("admin:competitions_competition_export", args=[competition.pk, export_format])


def body(response) -> bytes:
    """A download's bytes: every export is streamed, never held whole in a response."""
    return b"".join(response.streaming_content)


def read_csv(content: bytes) -> list[dict[str, str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_csv_has_one_row_per_activity_in_rank_order_with_scores_and_awards(case, client):
    client.force_login(case.coordinator)
    response = client.get(export_url(case.competition, "csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="{case.competition.slug}-applications.csv"'
    )
    rows = read_csv(body(response))
    assert len(rows) == 10  # five applications, two activities each
    first = rows[0]
    assert first["Vieta"] == "1"
    assert first["Pašvaldība"] == "Smiltenes novads"
    assert first["Statuss"] == "iesniegts"
    assert first["Pieprasītā summa (EUR)"] == "10000.00"
    assert first["Vidējais svērtais vērtējums (0–100)"] == "94.50"
    assert first["Ieskaitītie vērtējumi"] == "2"
    assert (first["Zemākais vērtējums"], first["Augstākais vērtējums"]) == ("92.00", "97.00")
    criterion = case.competition.criteria.first()
    assert first[f"{criterion.name} (vidēji no 0–10)"] == "9.50"
    assert first["Aktivitāte"] == "Informatīvā brošūra"
    assert first["Izmaksas (EUR)"] == "6000.00"
    awards = {row["Pašvaldība"]: row["Piešķirtā summa (EUR)"] for row in rows}
    assert awards == {
        "Smiltenes novads": "10000.00",
        "Valkas novads": "10000.00",
        "Valmieras pilsēta": "9800.00",
        "Gulbenes novads": "6200.00",
        "Cēsu novads": "4000.00",
    }
    assert [row["Vieta"] for row in rows] == ["1", "1", "2", "2", "3", "3", "4", "4", "5", "5"]


def test_formula_looking_text_is_escaped_in_csv(case, client):
    smiltene = case.applications["smiltenes-novads"]
    activities = list(smiltene.activities.all())
    PlannedActivity.objects.filter(pk=activities[0].pk).update(
        title=FORMULAS[0], description=FORMULAS[1], target_group=FORMULAS[2]
    )
    PlannedActivity.objects.filter(pk=activities[1].pk).update(
        title=FORMULAS[3], expected_result=FORMULAS[4]
    )
    client.force_login(case.coordinator)
    rows = read_csv(body(client.get(export_url(case.competition, "csv"))))
    assert rows[0]["Aktivitāte"] == "'" + FORMULAS[0]
    assert rows[0]["Apraksts"] == "'+1+1"
    assert rows[0]["Mērķa grupa"] == "'-2+3"
    assert rows[1]["Aktivitāte"] == "'@SUM(A1)"
    assert rows[1]["Sagaidāmais rezultāts"] == "'\tTab"
    # Plain text and amounts are left as they are.
    assert rows[2]["Aktivitāte"] == "Informatīvā brošūra"
    assert rows[0]["Izmaksas (EUR)"] == "6000.00"


def test_xlsx_holds_typed_amounts_scores_and_reviews_and_never_a_formula(case, client):
    smiltene = case.applications["smiltenes-novads"]
    PlannedActivity.objects.filter(pk=smiltene.activities.first().pk).update(title=FORMULAS[0])
    services.review_record(
        application=case.applications["cesu-novads"],
        reviewer=case.reviewers[0],
        scores={},
        conflict_of_interest=True,
        conflict_note="=1+1",
    )
    client.force_login(case.coordinator)
    response = client.get(export_url(case.competition, "xlsx"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    content = body(response)
    workbook = load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["Pieteikumi un aktivitātes", "Vērtējumi"]

    sheet = workbook["Pieteikumi un aktivitātes"]
    header = [cell.value for cell in sheet[1]]
    first = dict(zip(header, sheet[2], strict=True))
    assert first["Vieta"].value == 1
    assert first["Pieprasītā summa (EUR)"].value == 10000
    assert first["Pieprasītā summa (EUR)"].number_format == '#,##0.00 "€"'
    assert first["Vidējais svērtais vērtējums (0–100)"].value == pytest.approx(94.5)
    assert first["Iesniegts"].is_date
    awarded = [
        row[header.index("Piešķirtā summa (EUR)")].value for row in sheet.iter_rows(min_row=2)
    ]
    assert sum(Decimal(str(value)) for value in awarded[::2]) == Decimal("40000")

    title = first["Aktivitāte"]
    assert title.value == FORMULAS[0]  # shown as typed ...
    assert title.data_type == "s"  # ... stored as text ...
    assert title.quotePrefix  # ... and marked so that a spreadsheet never evaluates it
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        for name in package.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in package.read(name)

    reviews = workbook["Vērtējumi"]
    review_rows = list(reviews.iter_rows(min_row=2, values_only=True))
    assert len(review_rows) == 10
    review_header = [cell.value for cell in reviews[1]]
    conflicted = next(
        dict(zip(review_header, row, strict=True))
        for row in review_rows
        if row[review_header.index("Interešu konflikts")] == "jā"
    )
    assert conflicted["Pašvaldība"] == "Cēsu novads"
    assert conflicted["Svērtais vērtējums (0–100)"] is None
    assert conflicted["Interešu konflikta skaidrojums"] == "=1+1"


def test_drafts_are_left_out_and_withdrawn_applications_come_last_without_a_rank():
    case = build_source_case(close=False)
    services.application_withdraw(
        application=case.applications["valkas-novads"], by=case.staff["valkas-novads"]
    )
    ApplicationFactory(competition=case.competition, municipality=municipality("apes-novads"))
    rows = read_csv(exports.export_csv(case.competition))
    assert "Apes novads" not in {row["Pašvaldība"] for row in rows}
    assert (rows[-1]["Pašvaldība"], rows[-1]["Vieta"], rows[-1]["Statuss"]) == (
        "Valkas novads",
        "",
        "atsaukts",
    )
    assert [row["Vieta"] for row in rows[:-2]] == ["1", "1", "2", "2", "3", "3", "4", "4"]


def test_the_export_takes_the_same_queries_for_any_number_of_applications_in_a_chunk(
    django_assert_num_queries,
):
    """The criteria, the categories, the applications; then per chunk their activities, their
    points and (in the XLSX) their reviews."""
    small, large = call_with_reviewed_applications(5), call_with_reviewed_applications(40)
    for call in (small, large):
        with django_assert_num_queries(5):
            rows = read_csv(exports.export_csv(call))
        assert len(rows) in {5, 40}
        with django_assert_num_queries(6):
            exports.export_xlsx(call)


def test_the_export_reads_a_chunk_of_applications_at_a_time(monkeypatch, django_assert_num_queries):
    call = call_with_reviewed_applications(40)
    monkeypatch.setattr(exports, "CHUNK_SIZE", 10)
    with django_assert_num_queries(3 + 2 * 4):
        rows = read_csv(exports.export_csv(call))
    assert [row["Vieta"] for row in rows] == [str(rank) for rank in range(1, 41)]
    with django_assert_num_queries(3 + 3 * 4):
        workbook = load_workbook(io.BytesIO(exports.export_xlsx(call)))
    assert workbook["Vērtējumi"].max_row == 1 + 40 * 2  # two reviewers


def test_the_export_is_for_coordinators_only(case, client):
    assert client.get(export_url(case.competition, "csv")).status_code == 302  # to the login
    client.force_login(case.reviewers[0])
    assert client.get(export_url(case.competition, "xlsx")).status_code == 403
    client.force_login(case.coordinator)
    assert client.get(export_url(case.competition, "pdf")).status_code == 404


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("=1+1", "'=1+1"),
        ("+371 64700000", "'+371 64700000"),
        ("-", "'-"),
        ("@home", "'@home"),
        ("Cēsis = 1", "Cēsis = 1"),
        ("", ""),
    ],
)
def test_escape_formula(text, escaped):
    assert spreadsheets.escape_formula(text) == escaped


# --- streaming ------------------------------------------------------------------------------


def test_the_csv_is_streamed_and_written_before_the_call_is_read_whole(case, client, monkeypatch):
    """Each piece of the response is a chunk of applications: the first rows go out when one
    chunk is read, and the next chunk's activities are asked for only after that."""
    call = call_with_reviewed_applications(500)
    monkeypatch.setattr(exports, "CHUNK_SIZE", 100)
    client.force_login(case.coordinator)
    response = client.get(export_url(call, "csv"))
    assert isinstance(response, StreamingHttpResponse)
    assert "no-store" in response["Cache-Control"]
    pieces = iter(response.streaming_content)
    with CaptureQueriesContext(connection) as queries:
        heading = next(pieces)
        first_chunk = next(pieces)
    activities_read = [q for q in queries if 'FROM "applications_plannedactivity"' in q["sql"]]
    assert len(activities_read) == 1  # of the first chunk alone
    assert len(read_csv(heading + first_chunk)) == 100
    with CaptureQueriesContext(connection) as queries:
        rest = list(pieces)
    assert len(rest) == 4
    assert len([q for q in queries if 'FROM "applications_plannedactivity"' in q["sql"]]) == 4
    assert len(read_csv(heading + first_chunk + b"".join(rest))) == 500


@pytest.mark.postgres
def test_the_applications_are_read_from_a_server_side_cursor(case, client, monkeypatch):
    call = call_with_reviewed_applications(30)
    monkeypatch.setattr(exports, "CHUNK_SIZE", 10)
    client.force_login(case.coordinator)
    pieces = iter(client.get(export_url(call, "csv")).streaming_content)
    next(pieces)
    next(pieces)  # the first chunk is out: the cursor holds the rest
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_cursors WHERE name LIKE '_django_curs_%%'")
        open_cursors = [statement for (statement,) in cursor.fetchall()]
    assert len(open_cursors) == 1
    assert 'FROM "applications_application"' in open_cursors[0]
    assert len(list(pieces)) == 2


# --- a file too big for a request: the background job ------------------------------------------


def job_download_url(job) -> str:
    return reverse("admin:competitions_jobrun_download", args=[job.pk])


@pytest.fixture
def small_inline_limit(settings):
    settings.EXPORT_INLINE_MAX_ROWS = {"csv": 4, "xlsx": 4}  # the source case has ten rows


def test_a_big_export_is_offered_as_a_job_and_downloaded_from_its_page(
    case, client, small_inline_limit
):
    client.force_login(case.coordinator)
    offer = client.get(export_url(case.competition, "csv"))
    assert offer.status_code == 200
    page = offer.content.decode()
    assert "Šī konkursa CSV failā ir 10 rindu" in page
    assert "Sagatavot CSV failu" in page
    assert 'method="post"' in page

    response = client.post(export_url(case.competition, "csv"))
    job = JobRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:competitions_jobrun_change", args=[job.pk])
    assert (job.status, job.done, job.total, job.started_by) == (
        JobRun.Status.DONE,
        10,
        10,
        case.coordinator,
    )
    assert job.file.name == f"jobs/{job.pk}/{case.competition.slug}-applications.csv"

    page = client.get(response["Location"]).content.decode()
    assert f'href="{job_download_url(job)}"' in page
    assert "Lejupielādēt failu" in page
    assert '<meta http-equiv="refresh"' not in page

    download = client.get(job_download_url(job))
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert "no-store" in download["Cache-Control"]
    assert (
        download["Content-Disposition"]
        == f'attachment; filename="{case.competition.slug}-applications.csv"'
    )
    assert body(download) == exports.export_csv(case.competition)


def test_a_job_writes_the_xlsx_with_english_headings_when_started_in_english(
    case, client, small_inline_limit
):
    client.force_login(case.coordinator)
    url = export_url(case.competition, "xlsx")
    with translation.override("en"):
        english_url = reverse(
            "admin:competitions_competition_export", args=[case.competition.pk, "xlsx"]
        )
    assert english_url.startswith("/en/")
    assert english_url != url
    assert "10 rows: too many" in client.get(english_url).content.decode()
    client.post(english_url)
    job = JobRun.objects.get()
    assert "(XLSX, en)" in job.title
    workbook = load_workbook(io.BytesIO(body(client.get(job_download_url(job)))))
    assert workbook.sheetnames == ["Applications and activities", "Reviews"]
    sheet = workbook["Applications and activities"]
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["Rank", "Reference", "Municipality"]
    first = dict(zip(header, sheet[2], strict=True))
    assert first["Municipality"].value == "Smiltenes novads"
    assert first["Requested amount (EUR)"].number_format == '#,##0.00 "€"'
    assert sheet.max_row == 11
    assert workbook["Reviews"].max_row == 11


def test_the_job_counts_its_progress_a_chunk_at_a_time(case, monkeypatch, small_inline_limit):
    call = call_with_reviewed_applications(40)
    monkeypatch.setattr(exports, "CHUNK_SIZE", 10)
    seen = []
    chunks = exports.CallExport.chunks

    def watched(self, **options):
        for chunk in chunks(self, **options):
            seen.append(done_so_far(JobRun.objects.get()))
            yield chunk

    monkeypatch.setattr(exports.CallExport, "chunks", watched)
    job = tasks.export_job(
        competition=call, by=case.coordinator, export_format="xlsx", language="lv"
    )
    assert seen == [0, 10, 20, 30]
    assert (job.status, job.done, job.total) == (JobRun.Status.DONE, 40, 40)


def test_a_running_export_job_shows_its_count_and_no_link_yet(case, client):
    job = JobRun.objects.create(
        title="Eksports", started_by=case.coordinator, total=50, status=JobRun.Status.RUNNING
    )
    cache.set(f"job-progress:{job.pk}", 20)
    client.force_login(case.coordinator)
    page = client.get(reverse("admin:competitions_jobrun_change", args=[job.pk])).content.decode()
    assert "20 no 50" in page
    assert '<meta http-equiv="refresh" content="3">' in page
    assert job_download_url(job) not in page
    assert client.get(job_download_url(job)).status_code == 404


def test_the_file_is_its_starters_alone(case, client, small_inline_limit):
    client.force_login(case.coordinator)
    client.post(export_url(case.competition, "csv"))
    job = JobRun.objects.get()
    url = job_download_url(job)
    other = coordinator("another-coordinator")
    client.force_login(other)
    page = client.get(reverse("admin:competitions_jobrun_change", args=[job.pk])).content.decode()
    assert url not in page  # the job is seen, its file is not offered
    assert client.get(url).status_code == 403
    client.force_login(case.reviewers[0])
    assert client.get(url).status_code == 403
    client.force_login(case.staff["valkas-novads"])
    assert client.get(url).status_code == 302  # to the admin's login: not staff
    client.logout()
    assert client.get(url).status_code == 302
    # A starter who is no longer a coordinator no longer downloads it.
    case.coordinator.groups.clear()
    client.force_login(case.coordinator)
    assert client.get(url).status_code == 403


def test_a_reviewer_can_neither_see_nor_start_an_export(case, client, small_inline_limit):
    client.force_login(case.reviewers[0])
    assert client.get(export_url(case.competition, "csv")).status_code == 403
    assert client.post(export_url(case.competition, "csv")).status_code == 403
    assert not JobRun.objects.exists()


def test_files_of_jobs_older_than_the_limit_are_removed_and_the_job_kept(
    case, settings, small_inline_limit
):
    settings.JOB_FILE_DAYS = 7
    old, recent = (
        tasks.export_job(
            competition=case.competition, by=case.coordinator, export_format="csv", language="lv"
        )
        for _ in range(2)
    )
    now = timezone.now()
    JobRun.objects.filter(pk=old.pk).update(finished_at=now - timedelta(days=7, minutes=1))
    JobRun.objects.filter(pk=recent.pk).update(finished_at=now - timedelta(days=6))
    old_name = old.file.name
    storage = old.file.storage
    assert storage.exists(old_name)
    assert jobs.job_files_remove_expired(now=now) == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert not old.file
    assert not storage.exists(old_name)
    assert recent.file
    assert storage.exists(recent.file.name)
    assert jobs.job_files_remove_expired(now=now) == 0
