"""The payment register of a call for the accountant, as CSV and XLSX: one row per ledger row
(municipality, agreement number, kind, amount, date, payment order), reversals with a minus.

Written as ``applications.exports`` writes the applications, streamed from a server-side
cursor and never held whole (the CSV as it is read, the XLSX in write-only mode to a
temporary file): CSV for programs (UTF-8 with a
byte order mark, amounts with a decimal point, ISO dates), XLSX for people (typed amount and
date cells). Every text cell goes through ``competitions.spreadsheets`` so that a reference
or a name typed as ``=...`` is never evaluated as a formula.
"""

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import islice
from typing import IO

from django.db.models import OuterRef, Subquery
from django.http import FileResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from competitions.models import Competition
from competitions.spreadsheets import csv_pieces, escape_formula, looks_like_formula

from .models import Agreement, Payment


@dataclass(frozen=True)
class RegisterRow:
    municipality: str
    agreement: str
    kind: str
    amount: Decimal
    paid_on: date
    reference: str
    reverses: str


#: Payments read from the cursor at a time: the register is streamed, never held whole.
CHUNK_SIZE = 2000


def register_rows(competition: Competition) -> Iterator[RegisterRow]:
    """The call's ledger in the order of payment, read from a server-side cursor. One query."""
    current_agreement = Agreement.objects.filter(
        grant=OuterRef("grant"), replaced_by__isnull=True
    ).values("number")[:1]
    payments = (
        Payment.objects.filter(grant__application__competition=competition)
        .select_related("grant__application__municipality", "reverses")
        .annotate(agreement_number=Subquery(current_agreement))
        .order_by("paid_on", "id")
    )
    for payment in payments.iterator(chunk_size=CHUNK_SIZE):
        yield RegisterRow(
            municipality=payment.grant.application.municipality.name,
            agreement=payment.agreement_number or "",
            kind=payment.get_kind_display(),
            amount=payment.signed_amount,
            paid_on=payment.paid_on,
            reference=payment.reference,
            reverses=payment.reverses.reference if payment.reverses_id else "",
        )


def _headings() -> list[str]:
    return [
        _("Municipality"),
        _("Agreement number"),
        _("Kind"),
        _("Amount (EUR)"),
        _("Date"),
        _("Payment order"),
        _("Reverses"),
    ]


def register_csv(competition: Competition) -> Iterator[str]:
    """The register as CSV text, a chunk of payments at a time."""

    def batches():
        yield [[escape_formula(heading) for heading in _headings()]]
        rows = register_rows(competition)
        while chunk := list(islice(rows, CHUNK_SIZE)):
            yield (
                [
                    escape_formula(row.municipality),
                    escape_formula(row.agreement),
                    escape_formula(row.kind),
                    f"{row.amount:.2f}",
                    row.paid_on.isoformat(),
                    escape_formula(row.reference),
                    escape_formula(row.reverses),
                ]
                for row in chunk
            )

    return csv_pieces(batches())


def _text(sheet, value: str):
    if not looks_like_formula(value):
        return value
    cell = WriteOnlyCell(sheet, value)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def _typed(sheet, value, number_format: str):
    cell = WriteOnlyCell(sheet, value)
    cell.number_format = number_format
    return cell


def register_xlsx(competition: Competition, file: IO[bytes]) -> None:
    """The register as a workbook written to ``file`` row by row (openpyxl's write-only
    mode)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Payments")[:31])
    for letter, width in zip("ABCDEFG", [24, 34, 18, 14, 12, 20, 20], strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    headings = []
    for heading in _headings():
        cell = WriteOnlyCell(sheet, heading)
        cell.font = Font(bold=True)
        headings.append(cell)
    sheet.append(headings)
    for row in register_rows(competition):
        sheet.append(
            [
                _text(sheet, row.municipality),
                _text(sheet, row.agreement),
                _text(sheet, row.kind),
                _typed(sheet, row.amount, '#,##0.00 "€"'),
                _typed(sheet, row.paid_on, "dd.mm.yyyy"),
                _text(sheet, row.reference),
                _text(sheet, row.reverses),
            ]
        )
    workbook.save(file)


def register_response(competition: Competition, export_format: str):
    """The register as a download: the CSV streamed as it is read, the XLSX from a temporary
    file."""
    filename = f"{competition.slug}-payments.{export_format}"
    if export_format == "csv":
        response = StreamingHttpResponse(
            register_csv(competition), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=filename
        )
    else:
        file = tempfile.TemporaryFile()  # noqa: SIM115 (the response closes it, and it is gone)
        register_xlsx(competition, file)
        file.seek(0)
        response = FileResponse(
            file,
            as_attachment=True,
            filename=filename,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Cache-Control"] = "private, no-store"
    return response


REGISTER_FORMATS = ("csv", "xlsx")
