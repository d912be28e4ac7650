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

A call may have thousands of applications, so neither file is ever held whole in memory: the
applications are read from a server-side cursor in rank order, ``CHUNK_SIZE`` at a time, with
three more queries a chunk (their activities, their reviews' points, and for the XLSX the
reviews); the CSV is written out chunk by chunk as it is read, and the XLSX is written by
openpyxl's write-only mode to a file. A file too big to be written within a request is built
by a background job (``applications.tasks.export_job``) and downloaded from the job's page.
"""

import io
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import IO, Any, NamedTuple

from django.db.models import Case, Count, F, IntegerField, QuerySet, Sum, Value, When, Window
from django.db.models.functions import RowNumber
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from competitions.models import ActivityCategory, Competition
from competitions.spreadsheets import (
    csv_pieces,
    escape_formula,
    looks_like_formula,
)

from .models import (
    RANKED_STATUSES,
    Application,
    ApplicationStatus,
    CriterionScore,
    PlannedActivity,
    Review,
    ranking_order,
)

CENT = Decimal("0.01")

#: How many applications are read from the cursor at a time (with their activities and
#: reviews, about three times as many rows): the most an export holds in memory at once. Each
#: chunk's points are summed by one query that reads the whole table of points whatever the
#: chunk's size (PostgreSQL finds a hash join cheaper than a look-up per review), so fewer,
#: larger chunks are faster: 1 000 holds about 10 MB more than 500 at the peak of a call of
#: 10 000 and writes its CSV about 14 % faster.
CHUNK_SIZE = 1000


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = "text"  # text, money, score, number, datetime, date, yes_no
    width: int = 14


def _criterion_columns(criteria, label: str, kind: str) -> list[Column]:
    return [
        Column(label % {"criterion": criterion.name, "max": criterion.max_points}, kind, 14)
        for criterion in criteria
    ]


def applications_columns(criteria) -> list[Column]:
    return [
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


def reviews_columns(criteria) -> list[Column]:
    return [
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


# --- the rows, read a chunk at a time -----------------------------------------------------------

APPLICATION_FIELDS = [
    "pk",
    "call_rank",
    "status",
    "reference",
    "municipality__name",
    "submitted_at",
    "requested_amount",
    "score_mean",
    "review_count",
    "score_min",
    "score_max",
    "awarded_amount",
    "decision_reason",
]
ACTIVITY_FIELDS = [
    "application_id",
    "category_id",
    "title",
    "description",
    "starts_on",
    "ends_on",
    "target_group",
    "expected_result",
    "cost",
]
REVIEW_FIELDS = [
    "application_id",
    "pk",
    "reviewer__first_name",
    "reviewer__last_name",
    "reviewer__username",
    "conflict_of_interest",
    "conflict_note",
    "score",
    "comment",
    "updated_at",
]


def exported_applications(competition: Competition) -> QuerySet:
    """Every application of the call except drafts (which are the municipality's own), ranked
    ones in rank order with their rank, then the withdrawn ones by reference."""
    withdrawn = Case(
        When(status__in=RANKED_STATUSES, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    # The rank is the ranking's (``selectors.ranks_within_calls``): the withdrawn are numbered
    # apart, and their numbers are not shown.
    return (
        Application.objects.filter(competition=competition)
        .exclude(status=ApplicationStatus.DRAFT)
        .annotate(
            withdrawn=withdrawn,
            call_rank=Window(RowNumber(), partition_by=[withdrawn], order_by=ranking_order()),
        )
        .order_by(
            "withdrawn",
            Case(When(withdrawn=1, then=F("reference"))).asc(),
            *ranking_order(),
        )
    )


def export_row_count(competition: Competition) -> int:
    """How many rows the applications' table has: one per planned activity. One query."""
    return (
        PlannedActivity.objects.filter(application__competition=competition)
        .exclude(application__status=ApplicationStatus.DRAFT)
        .count()
    )


def _mean(total: int, count: int) -> Decimal:
    return (Decimal(total) / count).quantize(CENT)


def _quantized(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(CENT)


class ExportedApplication(NamedTuple):
    """One application's share of the export: its row head (its own columns, the same on each
    of its rows), one tail per planned activity (the activity's columns), and its reviews'
    rows. A row of the applications' table is ``head + tail``."""

    head: tuple
    activities: list[tuple]
    reviews: list[tuple]


class CallExport:
    """The tables of a call's export in the active language, a chunk of applications at a
    time."""

    def __init__(self, competition: Competition):
        self.competition = competition
        self.criteria = list(competition.criteria.all())
        # Names and labels in the active language, read once rather than on every row.
        self.categories = {pk: c.name for pk, c in ActivityCategory.objects.in_bulk().items()}
        self.statuses = {status.value: str(status.label) for status in ApplicationStatus}

    def chunks(self, *, reviews: bool) -> Iterator[list[ExportedApplication]]:
        """The applications in the export's order, a chunk at a time; their reviews only with
        ``reviews``."""
        applications = (
            exported_applications(self.competition)
            .values_list(*APPLICATION_FIELDS)
            .iterator(chunk_size=CHUNK_SIZE)
        )
        while chunk := list(islice(applications, CHUNK_SIZE)):
            yield self._chunk(chunk, reviews=reviews)

    def _chunk(self, chunk: list[tuple], *, reviews: bool) -> list[ExportedApplication]:
        ids = [application[0] for application in chunk]
        activities = defaultdict(list)  # application -> its activities' tails, numbered
        for application_id, category_id, *details in (
            PlannedActivity.objects.filter(application_id__in=ids)
            .order_by("application_id", "order", "id")
            .values_list(*ACTIVITY_FIELDS)
        ):
            tails = activities[application_id]
            tails.append((len(tails) + 1, self.categories[category_id], *details))
        means = defaultdict(dict)  # application -> criterion -> mean points
        points = defaultdict(dict)  # review -> criterion -> points
        scores = CriterionScore.objects.filter(review__application_id__in=ids).order_by()
        if reviews:
            # Each review's points; the means are counted below from the reviews' rows, which
            # say whose they are and whether they count.
            for review_id, criterion_id, value in scores.values_list(
                "review_id", "criterion_id", "points"
            ):
                points[review_id][criterion_id] = value
        else:
            # Without the reviews' own rows, only the sums and counts are read.
            for application_id, criterion_id, total, count in (
                scores.filter(review__conflict_of_interest=False)
                .values("review__application_id", "criterion_id")
                .annotate(total=Sum("points"), count=Count("pk"))
                .values_list("review__application_id", "criterion_id", "total", "count")
            ):
                means[application_id][criterion_id] = _mean(total, count)
        by_application = defaultdict(list)
        if reviews:
            counted = defaultdict(lambda: defaultdict(list))  # application -> criterion -> points
            for review in (
                Review.objects.filter(application_id__in=ids)
                .order_by("application_id", "created_at", "id")
                .values_list(*REVIEW_FIELDS)
            ):
                application_id, review_id, conflict = review[0], review[1], review[5]
                by_application[application_id].append(review)
                if not conflict:
                    for criterion_id, value in points[review_id].items():
                        counted[application_id][criterion_id].append(value)
            for application_id, criteria in counted.items():
                for criterion_id, values in criteria.items():
                    means[application_id][criterion_id] = _mean(sum(values), len(values))
        exported = []
        for application in chunk:
            pk, rank, status, reference, municipality, *figures = application
            submitted_at, requested, mean, count, lowest, highest, awarded, reason = figures
            mean_points = means[pk]
            head = (
                rank if status in RANKED_STATUSES else None,
                reference,
                municipality,
                self.statuses[status],
                submitted_at,
                requested,
                _quantized(mean),
                count,
                lowest,
                highest,
                *(mean_points.get(criterion.pk) for criterion in self.criteria),
                awarded,
                reason,
            )
            exported.append(
                ExportedApplication(
                    head,
                    activities[pk],
                    [
                        self._review_row(reference, municipality, review, points[review[1]])
                        for review in by_application[pk]
                    ],
                )
            )
        return exported

    def _review_row(self, reference, municipality, review, points) -> tuple:
        _application, _pk, first, last, username, conflict, note, score, comment, at = review
        return (
            reference,
            municipality,
            f"{first} {last}".strip() or username,  # User.get_full_name() or its username
            conflict,
            note,
            *(points.get(criterion.pk) for criterion in self.criteria),
            score,
            comment,
            at,
        )


# --- CSV ------------------------------------------------------------------------------------


#: The types the CSV writer is given as they are: it writes ``None`` as an empty field, an
#: integer as its digits and a date as ``str(date)``, its ISO form (``2019-08-30``).
CSV_WRITTEN_AS_IS = frozenset({type(None), int, date})


def _csv_formats() -> dict[type, Callable[[Any], str]]:
    """How a value of each other type is written: amounts and scores with two decimals and a
    point, times in Riga time, text escaped (``_csv_value`` for any other type)."""
    here = timezone.get_current_timezone()
    return {
        str: escape_formula,
        Decimal: lambda value: f"{value:.2f}",
        datetime: lambda value: value.astimezone(here).strftime("%Y-%m-%d %H:%M"),
    }


def _csv_value(value: Any) -> str:
    return escape_formula(str(value))


def csv_chunks(competition: Competition, *, progress: Callable[[int], None] | None = None):
    """The applications and their activities (the first table of the XLSX) as CSV text, a
    chunk of applications at a time, the first piece with the byte order mark and the
    headings. ``progress`` is told how many rows each chunk wrote."""
    export = CallExport(competition)
    formats = _csv_formats()

    def cells(values) -> list[Any]:
        # Text, the most frequent, is escaped without the look-up; a value the writer writes
        # as the export would is handed on as it is.
        return [
            value
            if (kind := type(value)) in CSV_WRITTEN_AS_IS
            else escape_formula(value)
            if kind is str
            else formats.get(kind, _csv_value)(value)
            for value in values
        ]

    def rows(chunk: list[ExportedApplication]):
        # Made as the writer asks for them and dropped once written: none outlives its line,
        # so the collector has no chunk of rows to walk again and again.
        for application in chunk:
            head = cells(application.head)  # written once, on each of its activities' rows
            for activity in application.activities:
                yield (*head, *cells(activity))

    def batches():
        yield [[escape_formula(column.label) for column in applications_columns(export.criteria)]]
        for chunk in export.chunks(reviews=False):
            yield rows(chunk)
            if progress:
                progress(sum(len(application.activities) for application in chunk))

    return csv_pieces(batches())


def write_csv(
    competition: Competition, file: IO[bytes], *, progress: Callable[[int], None] | None = None
) -> None:
    for text in csv_chunks(competition, progress=progress):
        file.write(text.encode("utf-8"))


def export_csv(competition: Competition) -> bytes:
    """The whole CSV at once, for a small call (the tests)."""
    return "".join(csv_chunks(competition)).encode("utf-8")


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


class _StyledCell(Cell):
    """A cell of a write-only sheet written again with each value of one number format: its
    style's number in the workbook is found on the first value, where openpyxl would look it
    up (hashing the style) for every value written."""

    __slots__ = ("_style_number",)

    def __init__(self, sheet, number_format: str):
        super().__init__(sheet, row=1, column=1)
        self.number_format = number_format
        self._style_number = None

    @property
    def style_id(self) -> int:
        if self._style_number is None:
            self._style_number = super().style_id
        return self._style_number


class _XlsxSheet:
    """A write-only sheet with its headings, widths, frozen panes and filter.

    A value is appended as itself and written in a cell styled by its column: one cell of each
    number format is made once and written again with each value of that kind, rather than a
    styled ``Cell`` made for each value. openpyxl (3.1.5) takes a prepared ``Cell`` in a row
    only after trying it as a value and failing (an exception with the cell's description, and
    a fresh cell after it), a fifth of the time of a workbook; so the sheet's rows
    are turned into cells here (``_row_cells``, in place of openpyxl's ``_values_to_row``)."""

    def __init__(self, workbook: Workbook, title: str, columns: list[Column]):
        self.sheet = workbook.create_sheet(title.translate(SHEET_TITLE_FORBIDDEN)[:31])
        self.kinds = [column.kind for column in columns]
        self.rows = 1
        self.here = timezone.get_current_timezone()
        self.yes_no = (_("no"), _("yes"))
        # Widths and panes come before the first row: a write-only sheet writes them first.
        for index, column in enumerate(columns, start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = column.width
        self.sheet.freeze_panes = "C2"
        headings = []
        for column in columns:
            cell = WriteOnlyCell(self.sheet, column.label)
            if looks_like_formula(column.label):
                cell.data_type = "s"
                cell.quotePrefix = True
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            headings.append(cell)
        self.sheet.append(headings)
        # Each column's cell for a value that is not text: styled with the number format of
        # its kind, or plain; each is written before the next value is put in it.
        plain = WriteOnlyCell(self.sheet)
        styled = {
            kind: _StyledCell(self.sheet, number_format)
            for kind, number_format in NUMBER_FORMATS.items()
        }
        self.number_cells = [styled.get(kind, plain) for kind in self.kinds]
        self.text_cell = plain
        self.quoted_cell = WriteOnlyCell(self.sheet)
        self.quoted_cell.quotePrefix = True
        self.sheet._values_to_row = self._row_cells

    def _row_cells(self, values, row: int) -> Iterator[Cell]:
        """The cells of one row of values, each written before the next is made (as openpyxl's
        own ``_values_to_row``): none for ``None`` or empty text; text as text, kept from being
        read as a formula where it looks like one; yes or no in a column of that kind; any
        other value with its column's number format, a time in Riga time (spreadsheets have
        no time zones: the cell holds Riga time, as everything shown). The headings' row is of
        cells of their own."""
        for column, value in enumerate(values, start=1):
            if isinstance(value, str):
                if not value:
                    continue
                if looks_like_formula(value):
                    cell = self.quoted_cell
                    cell.value = value
                    cell.data_type = "s"
                else:
                    cell = self.text_cell
                    cell.value = value
            elif value is None:
                continue
            elif isinstance(value, Cell):
                cell = value
            elif self.kinds[column - 1] == "yes_no":
                cell = self.text_cell
                cell.value = self.yes_no[bool(value)]
            else:
                if isinstance(value, datetime):
                    value = value.astimezone(self.here).replace(tzinfo=None)
                cell = self.number_cells[column - 1]
                cell.value = value
            cell.column = column
            cell.row = row
            yield cell

    def append(self, values: tuple) -> None:
        self.sheet.append(values)
        self.rows += 1

    def close(self) -> None:
        self.sheet.auto_filter.ref = f"A1:{get_column_letter(len(self.kinds))}{self.rows}"


def write_xlsx(
    competition: Competition, file: IO[bytes], *, progress: Callable[[int], None] | None = None
) -> None:
    """Both tables as a workbook written to ``file``, a chunk of applications at a time; each
    write-only sheet keeps its rows in a temporary file of its own until the workbook is
    saved. ``progress`` is told how many rows of the applications' table each chunk wrote."""
    export = CallExport(competition)
    workbook = Workbook(write_only=True)
    workbook.properties.creator = competition.organiser
    workbook.properties.title = competition.title
    applications = _XlsxSheet(
        workbook, _("Applications and activities"), applications_columns(export.criteria)
    )
    reviews = _XlsxSheet(workbook, _("Reviews"), reviews_columns(export.criteria))
    for chunk in export.chunks(reviews=True):
        rows = 0
        for application in chunk:
            for activity in application.activities:
                applications.append(application.head + activity)
            for review in application.reviews:
                reviews.append(review)
            rows += len(application.activities)
        if progress:
            progress(rows)
    applications.close()
    reviews.close()
    workbook.save(file)


def export_xlsx(competition: Competition) -> bytes:
    """The whole workbook at once, for a small call (the tests)."""
    buffer = io.BytesIO()
    write_xlsx(competition, buffer)
    return buffer.getvalue()


# --- the formats and the response --------------------------------------------------------------


@dataclass(frozen=True)
class ExportFormat:
    write: Callable[..., None]  # (competition, file, *, progress) writes the whole file
    content_type: str
    extension: str


EXPORT_FORMATS = {
    "csv": ExportFormat(write_csv, "text/csv; charset=utf-8", "csv"),
    "xlsx": ExportFormat(
        write_xlsx,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
    ),
}


def export_filename(competition: Competition, export_format: str) -> str:
    return f"{competition.slug}-applications.{EXPORT_FORMATS[export_format].extension}"


def export_response(competition: Competition, export_format: str):
    """The export as a download within the request: the CSV streamed as it is read from the
    database, the XLSX written to a temporary file first (a workbook is a zip whose index
    comes last) and sent from it. Neither is ever held whole in memory."""
    export = EXPORT_FORMATS[export_format]
    filename = export_filename(competition, export_format)
    if export_format == "csv":
        response = StreamingHttpResponse(csv_chunks(competition), content_type=export.content_type)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=filename
        )
    else:
        file = tempfile.TemporaryFile()  # noqa: SIM115 (the response closes it, and it is gone)
        export.write(competition, file)
        file.seek(0)
        response = FileResponse(
            file, as_attachment=True, filename=filename, content_type=export.content_type
        )
    response["Cache-Control"] = "private, no-store"
    return response
