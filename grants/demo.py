"""The source case after the decision, as demo data: the plans agreed to the awards and the
agreements signed, on their days of 2019; then the grants played on through 2020 (``SETTLEMENT``):
every advance paid; Smiltene and Valka reported, paid in full and closed; Valmiera's final
report returned once and submitted again, awaiting review; Gulbene's interim report accepted
and its final report overdue; Cēsis spent less than agreed and owes a repayment.

The press release gives the awards only: every figure after the agreements (the dates, the
actual costs, the indicators, the payment orders) is illustrative, and the demo's texts say so.

Cēsis asked for 7 500 € and was awarded the 4 000 € left in the pool; its plan is revised to
exactly 4 000 € (two visits instead of three, a smaller print run of the brochure) and
approved. The four full awards keep their plans as submitted. Every agreement is issued with
its plan's approval, accepted on the portal by the municipality's signatory (the demo's staff
user) and countersigned by the coordinator. The dates are illustrative, like the others of
the demo (see ``applications.demo``).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.files.base import ContentFile

from applications.demo import CALL_SLUG, riga
from competitions.models import Competition

from . import services, settlement
from .models import Agreement, Grant, PlanVersion, ReportKind
from .services import PlanLineData
from .settlement import LineDecision, ReportLineData


@dataclass(frozen=True)
class DemoLine:
    """A revised line: the submitted activity it continues (by title), and what changes."""

    activity: str
    cost: Decimal
    description: str


@dataclass(frozen=True)
class DemoSigning:
    municipality: str  # slug
    username: str
    proposed_at: datetime
    approved_at: datetime
    accepted_at: datetime
    countersigned_at: datetime
    #: The plan as revised; empty: the submitted activities, as they are.
    revised: tuple[DemoLine, ...] = ()


SIGNINGS = [
    DemoSigning(
        municipality="smiltenes-novads",
        username="smiltene",
        proposed_at=riga(2019, 9, 24, 10, 0),
        approved_at=riga(2019, 9, 26, 11, 0),
        accepted_at=riga(2019, 9, 27, 9, 30),
        countersigned_at=riga(2019, 9, 30, 14, 0),
    ),
    DemoSigning(
        municipality="valkas-novads",
        username="valka",
        proposed_at=riga(2019, 9, 24, 14, 0),
        approved_at=riga(2019, 9, 26, 11, 15),
        accepted_at=riga(2019, 9, 27, 13, 0),
        countersigned_at=riga(2019, 9, 30, 14, 10),
    ),
    DemoSigning(
        municipality="valmieras-pilseta",
        username="valmiera",
        proposed_at=riga(2019, 9, 25, 9, 0),
        approved_at=riga(2019, 9, 26, 11, 30),
        accepted_at=riga(2019, 9, 30, 10, 0),
        countersigned_at=riga(2019, 9, 30, 14, 20),
    ),
    DemoSigning(
        municipality="gulbenes-novads",
        username="gulbene",
        proposed_at=riga(2019, 9, 25, 15, 0),
        approved_at=riga(2019, 9, 26, 11, 45),
        accepted_at=riga(2019, 10, 1, 9, 0),
        countersigned_at=riga(2019, 10, 1, 15, 0),
    ),
    DemoSigning(
        municipality="cesu-novads",
        username="cesis",
        proposed_at=riga(2019, 10, 2, 10, 0),
        approved_at=riga(2019, 10, 4, 10, 0),
        accepted_at=riga(2019, 10, 7, 11, 0),
        countersigned_at=riga(2019, 10, 8, 9, 30),
        revised=(
            DemoLine(
                activity="Vizītes pie diasporas",
                cost=Decimal("2000.00"),
                description=(
                    "Pašvaldības pārstāvju vizītes pie latviešu kopienām ārzemēs: divas vizītes "
                    "trīs iecerēto vietā."
                ),
            ),
            DemoLine(
                activity="Informatīvā brošūra remigrantiem",
                cost=Decimal("2000.00"),
                description="Brošūra par dzīvi Cēsu novadā, 500 eksemplāros.",
            ),
        ),
    ),
]


def play(*, users: dict, travel) -> list[Agreement]:
    """Agree each plan of the 2019 call and sign its agreement, on the days above, through the
    services; ``travel(moment)`` moves the clock there. A grant already past the agreement of
    its plan is left as it is, so that the demo can be loaded again."""
    call = Competition.objects.get(slug=CALL_SLUG)
    grants = {
        grant.application.municipality.slug: grant
        for grant in Grant.objects.filter(application__competition=call).select_related(
            "application__municipality"
        )
    }
    coordinator = users["coordinator"]
    signed = []
    for entry in SIGNINGS:
        grant = grants.get(entry.municipality)
        if grant is None or grant.status != Grant.Status.AGREEING:
            continue
        staff = users[entry.username]
        version = grant.plan_versions.get(status=PlanVersion.Status.DRAFT)
        with travel(entry.proposed_at):
            if entry.revised:
                version = services.plan_save_draft(
                    grant=grant, by=staff, lines=_revised(version, entry.revised)
                )
            version = services.plan_propose(version=version, by=staff)
        with travel(entry.approved_at):
            services.plan_approve(version=version, by=coordinator)
        agreement = grant.agreements.current().get()
        with travel(entry.accepted_at):
            services.agreement_accept(
                agreement=agreement, by=staff, sha256=agreement.sha256, client_address=None
            )
        with travel(entry.countersigned_at):
            signed.append(services.agreement_countersign(agreement=agreement, by=coordinator))
    return signed


def _revised(version: PlanVersion, revised: tuple[DemoLine, ...]) -> list[PlanLineData]:
    lines = {line.title: line for line in version.lines.select_related("category")}
    return [
        PlanLineData(
            key=lines[change.activity].key,
            category=lines[change.activity].category,
            title=change.activity,
            description=change.description,
            cost=change.cost,
        )
        for change in revised
    ]


# --- 2020: payments, reports, the close (illustrative) ------------------------------------

#: Said in every report and payment of the demo: the press release gives none of it.
ILLUSTRATIVE = "Ilustratīvs piemērs (demonstrācijas dati)"
#: The smallest file that is a PDF by its content: the demo's "invoice".
INVOICE = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass(frozen=True)
class DemoReport:
    """A report of the demo: each line's share of its agreed cost actually spent, and when it
    was submitted (and answered)."""

    kind: str
    submitted_at: datetime
    spent: Decimal = Decimal("1")  # the share of each line's agreed cost
    accepted_at: datetime | None = None
    returned_at: datetime | None = None
    resubmitted_at: datetime | None = None
    return_comment: str = ""
    done: str = "Aktivitāte īstenota, kā plānots."


@dataclass(frozen=True)
class DemoSettlement:
    municipality: str  # slug
    username: str
    advance_on: datetime
    reports: tuple[DemoReport, ...] = ()
    final_payment_on: datetime | None = None
    closed_at: datetime | None = None


SETTLEMENT = [
    DemoSettlement(
        "smiltenes-novads",
        "smiltene",
        riga(2019, 10, 14, 10, 0),
        (
            DemoReport(
                ReportKind.FINAL, riga(2020, 9, 21, 11, 0), accepted_at=riga(2020, 9, 28, 10, 0)
            ),
        ),
        final_payment_on=riga(2020, 10, 5, 10, 0),
        closed_at=riga(2020, 10, 6, 9, 0),
    ),
    DemoSettlement(
        "valkas-novads",
        "valka",
        riga(2019, 10, 14, 10, 5),
        (
            DemoReport(
                ReportKind.FINAL, riga(2020, 9, 25, 14, 0), accepted_at=riga(2020, 10, 1, 10, 0)
            ),
        ),
        final_payment_on=riga(2020, 10, 8, 10, 0),
        closed_at=riga(2020, 10, 9, 9, 0),
    ),
    DemoSettlement(
        "valmieras-pilseta",
        "valmiera",
        riga(2019, 10, 14, 10, 10),
        (
            DemoReport(
                ReportKind.FINAL,
                riga(2020, 9, 29, 16, 0),
                returned_at=riga(2020, 10, 5, 11, 0),
                return_comment=(
                    "Pievienojiet semināra rēķinu un norādiet dalībnieku skaitu. " + ILLUSTRATIVE
                ),
                resubmitted_at=riga(2020, 10, 9, 10, 0),
            ),
        ),
    ),
    DemoSettlement(
        "gulbenes-novads",
        "gulbene",
        riga(2019, 10, 15, 9, 0),
        (
            DemoReport(
                ReportKind.INTERIM,
                riga(2020, 2, 26, 15, 0),
                spent=Decimal("0.4"),
                accepted_at=riga(2020, 3, 3, 10, 0),
                done="Darbs sākts; daļa aktivitāšu jau īstenota.",
            ),
        ),
    ),
    DemoSettlement(
        "cesu-novads",
        "cesis",
        riga(2019, 10, 15, 9, 10),
        (
            DemoReport(
                ReportKind.FINAL,
                riga(2020, 9, 30, 12, 0),
                spent=Decimal("0.4"),
                accepted_at=riga(2020, 10, 7, 10, 0),
                done=(
                    "Notika viena vizīte no divām; otra atcelta Covid-19 ierobežojumu dēļ. "
                    "Brošūra izdota mazākā tirāžā."
                ),
            ),
        ),
    ),
]


def play_settlement(*, users: dict, travel) -> list[Grant]:
    """Play each grant of the 2019 call on through 2020, through the services, on the days
    above. A grant that has any payment is left as it is, so that the demo can be loaded
    again."""
    call = Competition.objects.get(slug=CALL_SLUG)
    grants = {
        grant.application.municipality.slug: grant
        for grant in Grant.objects.filter(application__competition=call).select_related(
            "application__municipality"
        )
    }
    coordinator = users["coordinator"]
    played = []
    for entry in SETTLEMENT:
        grant = grants.get(entry.municipality)
        if grant is None or grant.status != Grant.Status.IN_PROGRESS or grant.payments.exists():
            continue
        staff = users[entry.username]
        with travel(entry.advance_on):
            settlement.payment_record(
                grant=grant,
                by=coordinator,
                kind="advance",
                amount=settlement.advance_limit(grant),
                paid_on=entry.advance_on.date(),
                reference=f"MU-2019-{grant.pk:03d}-A",
                note=ILLUSTRATIVE,
            )
        for report in entry.reports:
            _play_report(grant, report, staff=staff, coordinator=coordinator, travel=travel)
        grant.refresh_from_db()
        if entry.final_payment_on and grant.to_pay:
            with travel(entry.final_payment_on):
                settlement.payment_record(
                    grant=grant,
                    by=coordinator,
                    kind="final",
                    amount=grant.to_pay,
                    paid_on=entry.final_payment_on.date(),
                    reference=f"MU-2020-{grant.pk:03d}-N",
                    note=ILLUSTRATIVE,
                )
        if entry.closed_at:
            with travel(entry.closed_at):
                settlement.grant_close(grant=grant, by=coordinator)
        played.append(grant)
    return played


def _play_report(grant: Grant, entry: DemoReport, *, staff, coordinator, travel) -> None:
    plan = settlement.approved_plan(grant)
    lines = [
        ReportLineData(
            plan_line=line,
            done=entry.done,
            actual_cost=(line.cost * entry.spent).quantize(Decimal("0.01")),
            people_reached=120,
            events_held=2,
            materials_produced=300,
        )
        for line in plan.lines.order_by("position")
    ]
    with travel(entry.submitted_at):
        report = settlement.report_save_draft(
            grant=grant, kind=entry.kind, by=staff, summary=ILLUSTRATIVE, lines=lines
        )
        settlement.report_document_add(
            report=report,
            by=staff,
            file=ContentFile(INVOICE, name="rekins.pdf"),
            description="Rēķins. " + ILLUSTRATIVE,
        )
        report = settlement.report_submit(report=report, by=staff)
    if entry.returned_at:
        first = report.lines.order_by("position").first()
        with travel(entry.returned_at):
            settlement.report_return(
                report=report,
                by=coordinator,
                comment="",
                line_comments={first.pk: entry.return_comment},
            )
        with travel(entry.resubmitted_at):
            report = settlement.report_save_draft(
                grant=grant,
                kind=entry.kind,
                by=staff,
                summary=ILLUSTRATIVE,
                lines=[
                    ReportLineData(**{**line.__dict__, "done": line.done + " Rēķins pievienots."})
                    for line in lines
                ],
            )
            report = settlement.report_submit(report=report, by=staff)
    if entry.accepted_at:
        with travel(entry.accepted_at):
            settlement.report_accept(
                report=report,
                by=coordinator,
                decisions={line.pk: LineDecision(line.actual_cost) for line in report.lines.all()},
            )
