"""The source case after the decision, as demo data: the plans agreed to the awards and the
agreements signed, on their days of 2019.

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

from applications.demo import CALL_SLUG, riga
from competitions.models import Competition

from . import services
from .models import Agreement, Grant, PlanVersion
from .services import PlanLineData


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
