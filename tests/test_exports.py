"""The CSV and XLSX export of a call's applications with activities, scores and awards:
what a coordinator downloads from the admin, with formula-looking text escaped."""

import csv
import io
import zipfile
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from applications import exports, services
from applications.models import PlannedActivity
from competitions import spreadsheets

from .factories import ApplicationFactory, call_with_reviewed_applications, municipality
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


def test_the_export_reads_a_chunk_of_applications_at_a_time(
    monkeypatch, django_assert_num_queries
):
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
