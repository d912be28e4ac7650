"""The source case, built through the services as the people of the story would have done it:
five municipalities apply, two reviewers score, the call closes."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import time_machine
from django.utils import timezone

from applications import demo, services
from applications.models import Application
from competitions.models import Competition

from .factories import CompetitionFactory, coordinator, reviewer, staff_of

# The demo's requests (Cēsis's 7 500 is illustrative: more than the 4 000 left for it) and
# each reviewer's points on the three criteria (max 10, 10, 5), which rank Cēsis last.
REQUESTS = {application.municipality: application.requested for application in demo.APPLICATIONS}
POINTS = {application.municipality: application.points for application in demo.APPLICATIONS}


@dataclass
class SourceCase:
    competition: Competition
    applications: dict[str, Application]
    staff: dict
    reviewers: list
    coordinator: object


def activities_costing(total: Decimal, category_id: int) -> list[services.ActivityData]:
    """Two complete activities whose costs add up to ``total``."""
    first = (total * Decimal("0.6")).quantize(Decimal("0.01"))
    today = timezone.localdate()
    return [
        services.ActivityData(
            category_id=category_id,
            title=title,
            cost=cost,
            description="Apraksts",
            starts_on=today + timedelta(days=30),
            ends_on=today + timedelta(days=200),
            target_group="Remigranti",
            expected_result="Rezultāts",
        )
        for title, cost in (("Informatīvā brošūra", first), ("Vizīte pie diasporas", total - first))
    ]


DETAILS = services.ApplicationDetails(
    contact_name="Ilze Bērziņa",
    contact_email="ilze@example.lv",
    goals="Sekmēt remigrāciju.",
    target_groups="Diaspora un remigranti.",
    summary="Brošūra un vizītes.",
)


def build_source_case(*, partial_awards_allowed: bool = True, close: bool = True) -> SourceCase:
    competition = CompetitionFactory(partial_awards_allowed=partial_awards_allowed)
    category_id = competition.categories.first().pk
    reviewers = [reviewer("reviewer1"), reviewer("reviewer2")]
    competition.reviewers.set(reviewers)
    staff, applications = {}, {}
    for slug, requested in REQUESTS.items():
        staff[slug] = staff_of(slug)
        application = services.application_start(
            competition=competition, municipality=staff[slug].municipalities.get(), by=staff[slug]
        )
        services.application_update_draft(
            application=application,
            by=staff[slug],
            details=DETAILS,
            activities=activities_costing(requested, category_id),
        )
        applications[slug] = services.application_submit(application=application, by=staff[slug])
    criteria = list(competition.criteria.all())
    for slug, per_reviewer in POINTS.items():
        for person, points in zip(reviewers, per_reviewer, strict=True):
            services.review_record(
                application=applications[slug],
                reviewer=person,
                scores={c.pk: p for c, p in zip(criteria, points, strict=True)},
            )
    if close:
        close_call(competition)
    return SourceCase(competition, applications, staff, reviewers, coordinator())


def close_call(competition: Competition) -> None:
    """Move the deadline into the past, as the passing of time would."""
    Competition.objects.filter(pk=competition.pk).update(
        closes_at=timezone.now() - timedelta(minutes=1)
    )
    competition.refresh_from_db()


def after_deadline(competition: Competition):
    return time_machine.travel(competition.closes_at + timedelta(seconds=1), tick=False)
