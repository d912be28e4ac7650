"""A call's applications as CSV and XLSX, for the coordinators' own spreadsheets.

Both files hold the same table: one row per planned activity, each with its application's
rank, scores and award. The XLSX adds a sheet with every review and its points.

CSV is written for programs: comma-separated (RFC 4180), UTF-8 with a byte order mark so that
spreadsheets detect the Latvian letters, amounts with a decimal point and no grouping
(``9800.00``), times as ``2019-08-30 17:00`` Riga time. XLSX is written for people: amounts,
scores and dates are typed cells that the spreadsheet shows in its reader's own format.

Text typed by municipalities and reviewers may begin with ``=``, ``+``, ``-`` or ``@``, which a
spreadsheet would evaluate as a formula; every text cell is escaped by
``competitions.spreadsheets``, as in every other file the portal writes.
"""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from competitions.models import Competition
from competitions.spreadsheets import escape_formula, looks_like_formula

from .models import Application, ApplicationStatus, PlannedActivity, Review
from .selectors import ranks_within_calls

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = "text"  # text, money, score, number, datetime, date, yes_no
    width: int = 14


@dataclass(frozen=True)
class Sheet:
    title: str
    columns: list[Column]
    rows: list[list[Any]]


def _applications(competition: Competition) -> list[Application]:
    """Every application of the call except drafts (which are the municipality's own),
    ranked ones in rank order, then the withdrawn ones. Five queries, whatever the size."""
    applications = list(
        Application.objects.filter(competition=competition)
        .exclude(status=ApplicationStatus.DRAFT)
        .select_related("municipality")
        .prefetch_related(
            Prefetch("activities", queryset=PlannedActivity.objects.select_related("category")),
            Prefetch(
                "reviews",
                queryset=Review.objects.select_related("reviewer")
                .prefetch_related("scores")
                .order_by("created_at", "id"),
            ),
        )
    )
    ranks = ranks_within_calls(competition_ids=[competition.pk])
    for application in applications:
        application.call_rank = ranks.get(application.pk)
    return sorted(
        applications,
        key=lambda a: (a.call_rank is None, a.call_rank or 0, a.reference or ""),
    )


def _criterion_means(application: Application, criteria) -> list[Decimal | None]:
    """Each criterion's mean points over the reviews that count (no conflict of interest)."""
    points: dict[int, list[int]] = {criterion.pk: [] for criterion in criteria}
    for review in application.reviews.all():
        if review.conflict_of_interest:
            continue
        for score in review.scores.all():
            points.setdefault(score.criterion_id, []).append(score.points)
    return [
        (Decimal(sum(values)) / len(values)).quantize(CENT) if values else None
        for values in (points[criterion.pk] for criterion in criteria)
    ]


def _quantized(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(CENT)


def export_sheets(competition: Competition) -> list[Sheet]:
    """The tables of the export, in the active language."""
    criteria = list(competition.criteria.all())
    applications = _applications(competition)
    return [
        _applications_sheet(applications, criteria),
        _reviews_sheet(applications, criteria),
    ]


def _applications_sheet(applications: list[Application], criteria) -> Sheet:
    columns = [
        Column(_("Rank"), "number", 8),
        Column(_("Reference"), "text", 15),
        Column(_("Municipality"), "text", 22),
        Column(_("Status"), "text", 12),
        Column(_("Submitted at"), "datetime", 17),
        Column(_("Requested amount (EUR)"), "money", 15),
        Column(_("Weighted mean score (0–100)"), "score", 12),
        Column(_("Reviews counted"), "number", 10),
        Column(_("Lowest score"), "score", 10),
        Column(_("Highest score"), "score", 10),
        *_criterion_columns(criteria, _("%(criterion)s (mean of 0–%(max)s)"), "score"),
        Column(_("Awarded amount (EUR)"), "money", 15),
        Column(_("Reason for the decision"), "text", 30),
        Column(_("Activity no."), "number", 8),
        Column(_("Category"), "text", 24),
        Column(_("Activity"), "text", 30),
        Column(_("Description"), "text", 40),
        Column(_("Starts on"), "date", 11),
        Column(_("Ends on"), "date", 11),
        Column(_("Target group"), "text", 24),
        Column(_("Expected result"), "text", 30),
        Column(_("Cost (EUR)"), "money", 13),
    ]
    rows = []
    for application in applications:
        head = [
            application.call_rank,
            application.reference,
            application.municipality.name,
            application.get_status_display(),
            application.submitted_at,
            application.requested_amount,
            _quantized(application.score_mean),
            application.review_count,
            application.score_min,
            application.score_max,
            *_criterion_means(application, criteria),
            application.awarded_amount,
            application.decision_reason,
        ]
        rows.extend(
            [
                *head,
                number,
                activity.category.name,
                activity.title,
                activity.description,
                activity.starts_on,
                activity.ends_on,
                activity.target_group,
                activity.expected_result,
                activity.cost,
            ]
            for number, activity in enumerate(application.activities.all(), start=1)
        )
    return Sheet(_("Applications and activities"), columns, rows)


def _reviews_sheet(applications: list[Application], criteria) -> Sheet:
    columns = [
        Column(_("Reference"), "text", 15),
        Column(_("Municipality"), "text", 22),
        Column(_("Reviewer"), "text", 22),
        Column(_("Conflict of interest"), "yes_no", 12),
        Column(_("Conflict of interest explained"), "text", 30),
        *_criterion_columns(criteria, _("%(criterion)s (0–%(max)s)"), "number"),
        Column(_("Weighted score (0–100)"), "score", 12),
        Column(_("Comment"), "text", 40),
        Column(_("Last changed"), "datetime", 17),
    ]
    rows = []
    for application in applications:
        for review in application.reviews.all():
            points = {score.criterion_id: score.points for score in review.scores.all()}
            rows.append(
                [
                    application.reference,
                    application.municipality.name,
                    review.reviewer.get_full_name() or review.reviewer.get_username(),
                    review.conflict_of_interest,
                    review.conflict_note,
                    *(points.get(criterion.pk) for criterion in criteria),
                    review.score,
                    review.comment,
                    review.updated_at,
                ]
            )
    return Sheet(_("Reviews"), columns, rows)


def _criterion_columns(criteria, label: str, kind: str) -> list[Column]:
    return [
        Column(label % {"criterion": criterion.name, "max": criterion.max_points}, kind, 14)
        for criterion in criteria
    ]


# --- CSV ------------------------------------------------------------------------------------


def _csv_value(value: Any, kind: str) -> str:
    if value is None or value == "":
        return ""
    if kind == "yes_no":
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, int):
        return str(value)
    return escape_formula(str(value))


def export_csv(competition: Competition) -> bytes:
    """The applications and their activities (the first table of the XLSX) as CSV."""
    sheet = export_sheets(competition)[0]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([escape_formula(column.label) for column in sheet.columns])
    for row in sheet.rows:
        writer.writerow(
            [
                _csv_value(value, column.kind)
                for value, column in zip(row, sheet.columns, strict=True)
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# --- XLSX -----------------------------------------------------------------------------------

NUMBER_FORMATS = {
    "money": '#,##0.00 "€"',
    "score": "0.00",
    "number": "0",
    "datetime": "dd.mm.yyyy hh:mm",
    "date": "dd.mm.yyyy",
}
# Sheet titles may not hold these, nor be longer than 31 characters.
SHEET_TITLE_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", " "))


def _xlsx_cell(cell, value: Any, kind: str) -> None:
    if value is None or value == "":
        return
    if kind == "yes_no":
        cell.value = _("yes") if value else _("no")
        return
    if isinstance(value, datetime):
        # Spreadsheets have no time zones: the cell holds Riga time, as everything shown.
        value = timezone.localtime(value).replace(tzinfo=None)
    if isinstance(value, str):
        cell.value = value
        if looks_like_formula(value):
            cell.data_type = "s"
            cell.quotePrefix = True
        return
    cell.value = value
    if kind in NUMBER_FORMATS:
        cell.number_format = NUMBER_FORMATS[kind]


def export_xlsx(competition: Competition) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.creator = competition.organiser
    workbook.properties.title = competition.title
    for sheet in export_sheets(competition):
        worksheet = workbook.create_sheet(sheet.title.translate(SHEET_TITLE_FORBIDDEN)[:31])
        for index, column in enumerate(sheet.columns, start=1):
            cell = worksheet.cell(row=1, column=index)
            _xlsx_cell(cell, column.label, "text")
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            worksheet.column_dimensions[get_column_letter(index)].width = column.width
        for row_number, row in enumerate(sheet.rows, start=2):
            for index, (value, column) in enumerate(zip(row, sheet.columns, strict=True), start=1):
                _xlsx_cell(worksheet.cell(row=row_number, column=index), value, column.kind)
        worksheet.freeze_panes = "C2"
        worksheet.auto_filter.ref = worksheet.dimensions
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class ExportFormat:
    render: Callable[[Competition], bytes]
    content_type: str
    extension: str


EXPORT_FORMATS = {
    "csv": ExportFormat(export_csv, "text/csv; charset=utf-8", "csv"),
    "xlsx": ExportFormat(
        export_xlsx,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
    ),
}
