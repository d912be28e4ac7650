"""The benchmarks' data: calls of 100, 1 000 and 10 000 applications, decided calls of 200 (for
the letters) and of 10 000, and the deadline rush's staff and their drafts, written in bulk
into a database of their own.

Each call is keyed by its slug (``bench-100``…) and generated once: a call that is already
there with all its applications is reused, so only the first run pays for it. ``--rebuild``
drops the database and starts again. The rows are written with ``bulk_create``, without
history rows and without the services: the services are what is measured, not what makes the
data. Amounts, scores and statuses still keep every rule and constraint of the models.
"""

import os
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import psycopg2
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connections, transaction
from django.db.models import F
from django.utils import timezone
from psycopg2 import sql

from applications import demo
from applications.models import (
    Application,
    CriterionScore,
    PlannedActivity,
    Review,
    snapshot_digest,
)
from applications.services.drafts import build_snapshot
from applications.services.reviews import weighted_score
from competitions import roles
from competitions.models import ActivityCategory, Competition, Municipality, ScoringCriterion

#: The calls' sizes; ``BENCH_SIZES=100`` runs a quick check at the smallest alone.
SIZES = tuple(int(size) for size in os.environ.get("BENCH_SIZES", "100,1000,10000").split(","))
LETTER_CALL_SIZE = 200
ACTIVITIES = 5
REVIEWERS = 3
POOL_PER_APPLICATION = Decimal("4000.00")
CAP = Decimal("10000.00")

# Texts of the length a municipality writes: they travel with every application read whole.
GOALS = (
    "Sekmēt remigrāciju un atbalstīt atgriezušās ģimenes: informēt diasporu par darba, "
    "mājokļa un izglītības iespējām novadā, uzrunāt to personīgi un palīdzēt pirmajos mēnešos."
)
SUMMARY = (
    "Informatīvā brošūra latviešu un angļu valodā, vizītes pie diasporas, seminārs "
    "pašvaldības speciālistiem, konsultācijas atgriezušos ģimenēm un publicitāte."
)
DESCRIPTION = "Brošūra par dzīvi novadā: skolas, darbs, uzņēmējdarbības atbalsts, mājokļi."

COORDINATOR = "bench-coordinator"
STAFF = "bench-staff"
LETTER_CALL = "bench-letters"
OPEN_CALL = "bench-open"
#: The decided calls whose public results and application pages are measured, by size.
DECIDED_SIZES = (LETTER_CALL_SIZE, max(SIZES))
#: The deadline rush: this many municipal users, each acting for this many municipalities
#: with a draft on the rush's open call.
RUSH_STAFF = 50
RUSH_DRAFTS_EACH = 4


def decided_slug(size: int) -> str:
    """The decided call of ``size``: the letters' call of 200, or ``bench-decided-<n>``."""
    return LETTER_CALL if size == LETTER_CALL_SIZE else f"bench-decided-{size}"


def rush_username(n: int) -> str:
    return f"bench-rush-{n:02d}"


def call_slug(size: int) -> str:
    return f"bench-{size}"


@dataclass(frozen=True)
class BenchUsers:
    coordinator: object
    reviewers: list
    staff: object


# --- the database ---------------------------------------------------------------------------


def _server_connection():
    """A connection to the server's maintenance database, for CREATE and DROP DATABASE."""
    params = settings.DATABASES["default"]
    connection = psycopg2.connect(
        dbname="postgres",
        user=params["USER"],
        password=params["PASSWORD"] or None,
        host=params["HOST"] or None,
        port=params["PORT"] or None,
    )
    connection.autocommit = True
    return connection


def ensure_database(*, rebuild: bool, log) -> None:
    """Create the benchmarks' database if it is missing (dropping it first with ``rebuild``),
    and migrate it."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit("The benchmarks run on PostgreSQL: set DATABASE_URL=postgres://...")
    name = settings.DATABASES["default"]["NAME"]
    connections.close_all()
    server = _server_connection()
    try:
        with server.cursor() as cursor:
            if rebuild:
                log(f"dropping database {name}")
                cursor.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                log(f"creating database {name}")
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        server.close()
    call_command("migrate", verbosity=0, interactive=False)


# --- people ---------------------------------------------------------------------------------


def _user(username: str, group: str, *, is_staff: bool):
    user, _created = get_user_model().objects.get_or_create(
        username=username, defaults={"is_staff": is_staff, "email": f"{username}@example.lv"}
    )
    if _created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get(name=group))
    return user


def ensure_users() -> BenchUsers:
    return BenchUsers(
        coordinator=_user(COORDINATOR, roles.COORDINATORS, is_staff=True),
        reviewers=[
            _user(f"bench-reviewer-{n}", roles.REVIEWERS, is_staff=True)
            for n in range(1, REVIEWERS + 1)
        ],
        staff=_user(STAFF, roles.MUNICIPAL_STAFF, is_staff=False),
    )


def ensure_municipalities(count: int) -> list[Municipality]:
    """``count`` synthetic municipalities, shared by the calls: a call takes one application
    from each municipality, so the largest call needs as many as it has applications."""
    existing = {m.slug: m for m in Municipality.objects.filter(slug__startswith="bench-")}
    wanted = [f"bench-{n:05d}" for n in range(1, count + 1)]
    missing = [slug for slug in wanted if slug not in existing]
    if missing:
        created = Municipality.objects.bulk_create(
            Municipality(name=f"Etalona novads {slug[6:]}", slug=slug) for slug in missing
        )
        existing.update({m.slug: m for m in created})
    return [existing[slug] for slug in wanted]


# --- calls ----------------------------------------------------------------------------------


def _competition(slug: str, size: int, *, status: str, closed: bool, users: BenchUsers):
    now = timezone.now()
    competition = Competition.objects.create(
        slug=slug,
        title_lv=f"Etalona konkurss: {size} pieteikumi",
        title_en=f"Benchmark call: {size} applications",
        opens_at=now - timedelta(days=60),
        closes_at=now - timedelta(days=30) if closed else now + timedelta(days=30),
        pool_amount=max(POOL_PER_APPLICATION * size, CAP),
        max_award_amount=CAP,
        status=status,
        published_at=now - timedelta(days=60),
        signatory_name="Guntis Gailītis",
        signatory_position="Administrācijas vadītājs",
        implementation_ends_on=date(now.year + 1, 12, 15),
        report_due_on=date(now.year + 2, 1, 15),
    )
    competition.categories.set(ActivityCategory.objects.all())
    competition.reviewers.set(users.reviewers)
    ScoringCriterion.objects.bulk_create(demo.criteria(competition))
    return competition


def _filled(competition, municipality, *, rng, moment, categories) -> tuple[Application, list]:
    """An application with every field a submission needs, and its activities (unsaved)."""
    application = Application(
        competition=competition,
        municipality=municipality,
        contact_name="Ilze Bērziņa",
        contact_email="ilze.berzina@example.lv",
        contact_phone="+371 64700000",
        goals=GOALS,
        target_groups="Diaspora, remigranti, pašvaldības speciālisti.",
        summary=SUMMARY,
    )
    own = [
        PlannedActivity(
            category=categories[k % len(categories)],
            title=f"Aktivitāte {k + 1}: informatīvā brošūra un vizīte pie diasporas",
            description=DESCRIPTION,
            starts_on=moment.date() + timedelta(days=30),
            ends_on=moment.date() + timedelta(days=120),
            target_group="Remigranti",
            expected_result="500 eksemplāri un elektroniska versija",
            cost=Decimal(rng.randrange(200, 2000)),
            order=k + 1,
        )
        for k in range(ACTIVITIES)
    ]
    application.requested_amount = sum(activity.cost for activity in own)
    return application, own


def _applications(competition, municipalities, *, users: BenchUsers, decided: bool, seed: int):
    """One submitted application per municipality, with its activities and reviews; in a
    decided call, the first ones by score awarded and the rest rejected, within the pool."""
    rng = random.Random(seed)
    categories = list(ActivityCategory.objects.order_by("order"))
    criteria = list(competition.criteria.all())
    moment = competition.closes_at - timedelta(days=1)
    size = len(municipalities)
    applications, activities = [], []
    for n, municipality in enumerate(municipalities):
        application, own = _filled(
            competition, municipality, rng=rng, moment=moment, categories=categories
        )
        application.status = Application.Status.SUBMITTED
        # At most 20 characters: ``BENCH-10000-00001``, ``BENCH-D10000-00001``.
        prefix = competition.slug.upper().replace("DECIDED-", "D")
        application.reference = f"{prefix}-{n:05d}"
        application.submitted_at = moment - timedelta(seconds=size - n)
        application.submitted_by = users.staff
        # Frozen as the submission service freezes it: the whole application, with a digest.
        application.snapshot = build_snapshot(application, own, [])
        application.snapshot_sha256 = snapshot_digest(application.snapshot)
        applications.append(application)
        activities.append(own)
    applications = Application.objects.bulk_create(applications)
    for application, own in zip(applications, activities, strict=True):
        for activity in own:
            activity.application = application
    PlannedActivity.objects.bulk_create(activity for own in activities for activity in own)
    points = [
        [
            {criterion.pk: rng.randint(0, criterion.max_points) for criterion in criteria}
            for _reviewer in users.reviewers
        ]
        for _application in applications
    ]
    reviews = Review.objects.bulk_create(
        Review(
            application=application,
            reviewer=reviewer,
            score=weighted_score(criteria, points[n][j]),
            comment="Pamatots pieteikums.",
        )
        for n, application in enumerate(applications)
        for j, reviewer in enumerate(users.reviewers)
    )
    CriterionScore.objects.bulk_create(
        CriterionScore(
            review=review,
            criterion=criterion,
            points=points[n // REVIEWERS][n % REVIEWERS][criterion.pk],
        )
        for n, review in enumerate(reviews)
        for criterion in criteria
    )
    # Written past the review service, which keeps them: the scores of each application.
    competition.applications.refresh_scores()
    if decided:
        _decide(competition)


def _decide(competition) -> None:
    """Award the better half of the call in full and reject the rest, as a decision would."""
    now = timezone.now()
    ranked = [
        application.pk
        for application in Application.objects.filter(competition=competition)
        .with_rank()
        .order_by("rank")
    ]
    awarded = ranked[: len(ranked) // 2]
    Application.objects.filter(pk__in=awarded).update(
        status=Application.Status.AWARDED,
        # Every request is within the cap (five activities of at most 1 999 €) and half of
        # the call within its pool of 4 000 € an application.
        awarded_amount=F("requested_amount"),
        decided_at=now,
    )
    Application.objects.filter(competition=competition).exclude(pk__in=awarded).update(
        status=Application.Status.REJECTED,
        decision_reason="Konkursa finansējums ir sadalīts pilnībā.",
        decided_at=now,
    )
    Competition.objects.filter(pk=competition.pk).update(
        status=Competition.Status.DECIDED, decided_at=now
    )


def _ensure_call(slug, size, municipalities, *, users, status, closed, decided, log) -> Competition:
    existing = Competition.objects.filter(slug=slug).first()
    if existing is not None and existing.applications.count() == size:
        return existing
    if existing is not None:
        raise SystemExit(f"{slug} has not {size} applications; run make bench BENCH_ARGS=--rebuild")
    log(f"generating {slug}: {size} applications")
    with transaction.atomic():
        competition = _competition(slug, size, status=status, closed=closed, users=users)
        _applications(competition, municipalities[:size], users=users, decided=decided, seed=size)
    return competition


def ensure_data(*, log) -> dict[str, Competition]:
    """Every call the benchmarks use, by slug; what exists is reused."""
    users = ensure_users()
    municipalities = ensure_municipalities(max(*SIZES, LETTER_CALL_SIZE))
    # The dashboard's municipal staff member acts for the first municipality: it applied to
    # every call, and one call is open to it.
    municipalities[0].staff.add(users.staff)
    calls = {}
    for slug, size, decided in [
        *((call_slug(size), size, False) for size in SIZES),
        *((decided_slug(size), size, True) for size in DECIDED_SIZES),
    ]:
        calls[slug] = _ensure_call(
            slug,
            size,
            municipalities,
            users=users,
            status=Competition.Status.PUBLISHED,
            closed=True,
            decided=decided,
            log=log,
        )
    open_call = Competition.objects.filter(slug=OPEN_CALL).first()
    if open_call is None:
        open_call = _competition(
            OPEN_CALL, 0, status=Competition.Status.PUBLISHED, closed=False, users=users
        )
        open_call.eligible_municipalities.set(Municipality.objects.all())
    calls[OPEN_CALL] = open_call
    ensure_rush_staff()
    with connections["default"].cursor() as cursor:
        # What autovacuum does soon after: the planner gets the tables' statistics, and the
        # visibility map lets counts read an index without the table.
        cursor.execute("VACUUM ANALYZE")
    return calls


def ensure_grants(competition: Competition, *, log) -> int:
    """A grant for every application of a call, for the portfolio's benchmark: in progress,
    its agreed total the request, half of it paid as the advance; every tenth one closed
    with its spending accepted, every seventh owing a repayment. Written in bulk past the
    services (no ledger rows: the portfolio reads the sums the grant keeps). Made once."""
    from grants.models import Grant

    applications = list(
        Application.objects.filter(competition=competition, grant__isnull=True).values_list(
            "pk", "requested_amount"
        )
    )
    if not applications:
        return Grant.objects.filter(application__competition=competition).count()
    log(f"generating the grants of {competition.slug}: {len(applications)}")
    now = timezone.now()
    rows = []
    for index, (pk, amount) in enumerate(applications):
        half = (amount / 2).quantize(Decimal("0.01"))
        grant = Grant(
            application_id=pk,
            status=Grant.Status.IN_PROGRESS,
            opened_at=now,
            agreed_total=amount,
            paid_total=half,
        )
        if index % 10 == 0:
            grant.status = Grant.Status.CLOSED
            grant.paid_total = grant.accepted_total = amount
            grant.closed_at = now
        elif index % 7 == 0:
            grant.status = Grant.Status.REPORTING
            grant.accepted_total = half - Decimal("100.00")
        rows.append(grant)
    with transaction.atomic():
        Grant.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


# --- the deadline rush ----------------------------------------------------------------------


def rush_municipalities():
    """The municipalities of the rush's staff (``bench-r000``…), which no other call has."""
    return list(Municipality.objects.filter(slug__startswith="bench-r").order_by("slug"))


def ensure_rush_staff() -> None:
    """``RUSH_STAFF`` municipal users, each acting for ``RUSH_DRAFTS_EACH`` municipalities of
    its own."""
    wanted = RUSH_STAFF * RUSH_DRAFTS_EACH
    if len(rush_municipalities()) < wanted:
        Municipality.objects.bulk_create(
            Municipality(name=f"Steidzības novads {n:03d}", slug=f"bench-r{n:03d}")
            for n in range(len(rush_municipalities()), wanted)
        )
    own = rush_municipalities()
    for n in range(RUSH_STAFF):
        user = _user(rush_username(n), roles.MUNICIPAL_STAFF, is_staff=False)
        for municipality in own[n * RUSH_DRAFTS_EACH : (n + 1) * RUSH_DRAFTS_EACH]:
            municipality.staff.add(user)


def new_rush_call(*, log) -> tuple[Competition, dict[str, list[int]]]:
    """A new open call with one complete draft (five activities, every field a submission
    needs) for each of the rush's municipalities, and the drafts' ids by rush user. Calls of
    earlier runs are closed first, so that no page lists them as open."""
    now = timezone.now()
    Competition.objects.filter(slug__startswith="bench-rush-", closes_at__gt=now).update(
        closes_at=now - timedelta(seconds=1)
    )
    users = ensure_users()
    number = Competition.objects.filter(slug__startswith="bench-rush-").count() + 1
    municipalities = rush_municipalities()
    with transaction.atomic():
        competition = _competition(
            f"bench-rush-{number}",
            len(municipalities),
            status=Competition.Status.PUBLISHED,
            closed=False,
            users=users,
        )
        competition.eligible_municipalities.set(municipalities)
        rng = random.Random(number)
        categories = list(ActivityCategory.objects.order_by("order"))
        drafts = [
            _filled(competition, municipality, rng=rng, moment=now, categories=categories)
            for municipality in municipalities
        ]
        created = Application.objects.bulk_create(application for application, _own in drafts)
        for application, (_unsaved, own) in zip(created, drafts, strict=True):
            for activity in own:
                activity.application = application
        PlannedActivity.objects.bulk_create(activity for _a, own in drafts for activity in own)
    acting = dict(
        Municipality.staff.through.objects.filter(
            user__username__startswith="bench-rush-"
        ).values_list("municipality_id", "user__username")
    )
    by_user: dict[str, list[int]] = {}
    for application in created:
        by_user.setdefault(acting[application.municipality_id], []).append(application.pk)
    log(f"  {competition.slug}: {len(created)} drafts of {len(by_user)} users")
    return competition, by_user
