"""Grant agreements (līgumi) as PDF: what an agreement says, and the letters' machinery turning
it into an A4 document.

``render_agreement`` is a pure function from an ``AgreementData`` to PDF bytes, and
``agreement_data`` reads a grant and its approved plan into one. Numbering, storing, accepting
and countersigning are the services' (``grants.services``); what a signed file must be to count
as this agreement signed is ``grants.signatures``'.

The PDF is made by ``applications.letters.html_to_pdf``: the same shipped fonts, the same
letter stylesheet, and the same URL fetcher, which gives WeasyPrint nothing but the files under
``static/letters/`` and ``static/fonts/``. The agreement's own rules are in
``static/letters/agreement.css``, linked from its template and served by that fetcher.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

from django.template.loader import render_to_string
from django.utils import timezone, translation

from applications.letters import (
    amount_in_words,
    html_to_pdf,
    latvian_genitive,
    letter_number_prefix,
)
from competitions.formatting import CENT

from .models import Agreement, Grant, PlanVersion

#: The counter's part of an agreement number, after the call: ``VPR/2019/<call>/L-001``.
NUMBER_MARK = "L"


# --- what an agreement says -----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AgreementLine:
    title: str
    category: str
    description: str
    cost: Decimal


@dataclass(frozen=True, kw_only=True)
class AgreementData:
    """Everything printed in one agreement, in plain values: rendered without a database."""

    number: str
    language: str
    issued_on: date
    #: The number of the agreement this one replaces (an amendment or a re-issue), if any.
    replaces: str = ""
    organiser: str
    organiser_details: str = ""
    organiser_signatory_name: str
    organiser_signatory_position: str
    municipality: str
    call_title: str
    application_reference: str
    decided_on: date | None
    award: Decimal
    plan_version: int
    plan_sha256: str
    lines: tuple[AgreementLine, ...]
    total: Decimal
    advance_share: Decimal
    implementation_ends_on: date
    interim_report_due_on: date | None
    report_due_on: date
    cost_tolerance: Decimal

    @property
    def advance(self) -> Decimal:
        return advance_amount(self.total, self.advance_share)

    @property
    def final_payment(self) -> Decimal:
        return self.total - self.advance

    @property
    def total_in_words(self) -> str:
        return amount_in_words(self.total, self.language)

    @property
    def municipality_genitive_lv(self) -> str:
        """``Cēsu novada``, as in ``Cēsu novada pašvaldība``."""
        return latvian_genitive(self.municipality)

    @property
    def organiser_genitive_lv(self) -> str:
        return latvian_genitive(self.organiser)

    @property
    def percent(self) -> str:
        """The advance share as people write it: ``50``, ``33,33``."""
        return _percent(self.advance_share, self.language)

    @property
    def tolerance(self) -> str:
        return _percent(self.cost_tolerance, self.language)


def _percent(value: Decimal, language: str) -> str:
    text = f"{value.normalize():f}"
    return text.replace(".", ",") if language == "lv" else text


def advance_amount(total: Decimal, share: Decimal) -> Decimal:
    """The advance: ``share`` percent of the agreed total, rounded down to the cent, so that it
    never exceeds its share (money rule 5)."""
    return (total * share / Decimal(100)).quantize(CENT, rounding=ROUND_DOWN)


def agreement_number_prefix(*, grant: Grant, issued_on: date) -> str:
    """``VPR/2019/remigration-2019/L``: the letters' prefix of the call and the year of issue,
    and the agreements' mark. An agreement's number is this and its place in the counter of
    that prefix: ``VPR/2019/remigration-2019/L-001``."""
    prefix = letter_number_prefix(competition=grant.application.competition, issued_on=issued_on)
    return f"{prefix}/{NUMBER_MARK}"


def agreement_data(
    grant: Grant,
    version: PlanVersion,
    *,
    number: str,
    language: str,
    issued_on: date,
    replaces: str = "",
) -> AgreementData:
    """Read a grant, its call and the approved plan version into what its agreement prints."""
    application = grant.application
    competition = application.competition
    with translation.override(language):
        organiser = competition.organiser
        call_title = competition.title
        lines = tuple(
            AgreementLine(
                title=line.title,
                category=line.category.name,
                description=line.description,
                cost=line.cost,
            )
            for line in version.lines.select_related("category").order_by("position")
        )
    return AgreementData(
        number=number,
        language=language,
        issued_on=issued_on,
        replaces=replaces,
        organiser=organiser,
        organiser_details=competition.organiser_details,
        organiser_signatory_name=competition.signatory_name,
        organiser_signatory_position=competition.signatory_position,
        municipality=application.municipality.name,
        call_title=call_title,
        application_reference=application.reference or "",
        decided_on=timezone.localdate(application.decided_at) if application.decided_at else None,
        award=application.awarded_amount,
        plan_version=version.number,
        plan_sha256=version.sha256,
        lines=lines,
        total=version.total,
        advance_share=competition.advance_share,
        implementation_ends_on=competition.implementation_ends_on,
        interim_report_due_on=competition.interim_report_due_on,
        report_due_on=competition.report_due_on,
        cost_tolerance=competition.cost_tolerance,
    )


def download_name(agreement: Agreement, suffix: str = "") -> str:
    """``VPR-2019-remigration-2019-L-001_Cēsu_novads.pdf``; a signed file keeps its own
    ending (``…_parakstits.edoc``)."""
    municipality = "_".join(agreement.grant.application.municipality.name.split())
    return f"{agreement.number.replace('/', '-')}_{municipality}{suffix}"


# --- the PDF --------------------------------------------------------------------------------


def render_agreement(agreement: AgreementData) -> bytes:
    """The agreement as PDF bytes, in its language."""
    with translation.override(agreement.language):
        html = render_to_string(
            f"agreements/agreement_{agreement.language}.html", {"agreement": agreement}
        )
    return html_to_pdf(html)
