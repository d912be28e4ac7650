"""The payment register of a call for the accountant, as CSV and XLSX: one row per ledger row
(municipality, agreement number, kind, amount, date, payment order), reversals with a minus.

Written as ``applications.exports`` writes the applications: CSV for programs (UTF-8 with a
byte order mark, amounts with a decimal point, ISO dates), XLSX for people (typed amount and
date cells). Every text cell goes through ``competitions.spreadsheets`` so that a reference
or a name typed as ``=...`` is never evaluated as a formula.
"""

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from competitions.models import Competition
from competitions.spreadsheets import escape_formula, looks_like_formula

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


def register_rows(competition: Competition) -> list[RegisterRow]:
    """The call's ledger in the order of payment. One query."""
    current_agreement = Agreement.objects.filter(
        grant=OuterRef("grant"), replaced_by__isnull=True
    ).values("number")[:1]
    payments = (
        Payment.objects.filter(grant__application__competition=competition)
        .select_related("grant__application__municipality", "reverses")
        .annotate(agreement_number=Subquery(current_agreement))
        .order_by("paid_on", "id")
    )
    return [
        RegisterRow(
            municipality=payment.grant.application.municipality.name,
            agreement=payment.agreement_number or "",
            kind=payment.get_kind_display(),
            amount=payment.signed_amount,
            paid_on=payment.paid_on,
            reference=payment.reference,
            reverses=payment.reverses.reference if payment.reverses_id else "",
        )
        for payment in payments
    ]


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


def register_csv(competition: Competition) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([escape_formula(heading) for heading in _headings()])
    for row in register_rows(competition):
        writer.writerow(
            [
                escape_formula(row.municipality),
                escape_formula(row.agreement),
                escape_formula(row.kind),
                f"{row.amount:.2f}",
                row.paid_on.isoformat(),
                escape_formula(row.reference),
                escape_formula(row.reverses),
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _text(cell, value: str) -> None:
    cell.value = value
    if looks_like_formula(value):
        cell.data_type = "s"
        cell.quotePrefix = True


def register_xlsx(competition: Competition) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Payments")[:31]
    for index, heading in enumerate(_headings(), start=1):
        _text(sheet.cell(row=1, column=index), heading)
        sheet.cell(row=1, column=index).font = Font(bold=True)
    for number, row in enumerate(register_rows(competition), start=2):
        _text(sheet.cell(row=number, column=1), row.municipality)
        _text(sheet.cell(row=number, column=2), row.agreement)
        _text(sheet.cell(row=number, column=3), row.kind)
        amount = sheet.cell(row=number, column=4, value=row.amount)
        amount.number_format = '#,##0.00 "€"'
        paid_on = sheet.cell(row=number, column=5, value=row.paid_on)
        paid_on.number_format = "dd.mm.yyyy"
        _text(sheet.cell(row=number, column=6), row.reference)
        _text(sheet.cell(row=number, column=7), row.reverses)
    for letter, width in zip("ABCDEFG", [24, 34, 18, 14, 12, 20, 20], strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


#: format -> (writer, content type)
REGISTER_FORMATS = {
    "csv": (register_csv, "text/csv; charset=utf-8"),
    "xlsx": (
        register_xlsx,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
}
