"""The closing statement of a grant as PDF: what was agreed, spent, paid and repaid.

Made as the agreements are (``grants.agreements``): ``statement_data`` reads a closed grant
into plain values, ``render_statement`` is a pure function from them to PDF bytes through
``applications.letters.html_to_pdf`` (the shipped fonts and the letters' stylesheet). The
statement is made on request and not stored: it only restates the ledger and the accepted
final report, which are kept and never change once the grant is closed.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import timezone, translation

from applications.letters import html_to_pdf, latvian_genitive

from .models import Grant, Report, ReportKind, ReportStatus


@dataclass(frozen=True, kw_only=True)
class StatementLine:
    title: str
    category: str
    agreed: Decimal
    claimed: Decimal
    accepted: Decimal
    reason: str


@dataclass(frozen=True, kw_only=True)
class StatementPayment:
    kind: str
    paid_on: date
    reference: str
    amount: Decimal
    reversal: bool


@dataclass(frozen=True, kw_only=True)
class StatementData:
    language: str
    organiser: str
    organiser_details: str
    municipality: str
    call_title: str
    application_reference: str
    agreement_number: str
    closed_on: date
    report_sha256: str
    lines: tuple[StatementLine, ...]
    payments: tuple[StatementPayment, ...]
    agreed: Decimal
    claimed: Decimal
    accepted: Decimal
    paid: Decimal
    repaid: Decimal

    @property
    def municipality_genitive_lv(self) -> str:
        return latvian_genitive(self.municipality)

    @property
    def date_format(self) -> str:
        return "d.m.Y." if self.language == "lv" else "j M Y"

    @property
    def net_paid(self) -> Decimal:
        return self.paid - self.repaid


def statement_data(grant: Grant, *, language: str) -> StatementData:
    """Read a closed grant, its accepted final report and its ledger."""
    application = grant.application
    competition = application.competition
    final = Report.objects.get(grant=grant, kind=ReportKind.FINAL, status=ReportStatus.ACCEPTED)
    agreement = grant.agreements.current().first()
    with translation.override(language):
        organiser = competition.organiser
        call_title = competition.title
        lines = tuple(
            StatementLine(
                title=line.plan_line.title,
                category=line.plan_line.category.name,
                agreed=line.plan_line.cost,
                claimed=line.actual_cost,
                accepted=line.accepted_amount,
                reason=line.acceptance_reason,
            )
            for line in final.lines.select_related("plan_line__category").order_by("position")
        )
        payments = tuple(
            StatementPayment(
                kind=payment.get_kind_display(),
                paid_on=payment.paid_on,
                reference=payment.reference,
                amount=payment.amount,
                reversal=payment.is_reversal,
            )
            for payment in grant.payments.order_by("paid_on", "id")
        )
    return StatementData(
        language=language,
        organiser=organiser,
        organiser_details=competition.organiser_details,
        municipality=application.municipality.name,
        call_title=call_title,
        application_reference=application.reference or "",
        agreement_number=agreement.number if agreement else "",
        closed_on=timezone.localdate(grant.closed_at),
        report_sha256=final.sha256,
        lines=lines,
        payments=payments,
        agreed=grant.agreed_total,
        claimed=final.claimed_total,
        accepted=grant.accepted_total,
        paid=grant.paid_total,
        repaid=grant.repaid_total,
    )


def render_statement(statement: StatementData) -> bytes:
    with translation.override(statement.language):
        html = render_to_string(
            f"statements/closing_{statement.language}.html", {"statement": statement}
        )
    return html_to_pdf(html)


def download_name(grant: Grant, language: str) -> str:
    """``REM-2019-003_Gulbenes_novads_noslegums.pdf``; ``…_closing.pdf`` in English."""
    municipality = "_".join(grant.application.municipality.name.split())
    suffix = "noslegums" if language == "lv" else "closing"
    return f"{grant.application.reference}_{municipality}_{suffix}.pdf"
