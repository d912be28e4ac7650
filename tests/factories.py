from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.utils import timezone

from applications.models import Application, PlannedActivity
from competitions import roles
from competitions.models import ActivityCategory, Competition, Municipality, ScoringCriterion


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.lv")
    password = factory.django.Password("correct horse battery staple")


def municipality(slug: str = "smiltenes-novads") -> Municipality:
    """The reference data already holds every municipality of the region."""
    return Municipality.objects.get(slug=slug)


def staff_of(municipality_slug: str, username: str | None = None):
    user = UserFactory(username=username or f"staff-{municipality_slug}")
    user.groups.add(Group.objects.get(name=roles.MUNICIPAL_STAFF))
    municipality(municipality_slug).staff.add(user)
    return user


def reviewer(username: str = "reviewer"):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=roles.REVIEWERS))
    return user


def coordinator(username: str = "coordinator"):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=roles.COORDINATORS))
    return user


class CompetitionFactory(factory.django.DjangoModelFactory):
    """A published call, open now, with the source case's pool and cap, every municipality
    eligible, every category and three weighted criteria."""

    class Meta:
        model = Competition
        skip_postgeneration_save = True

    title_lv = factory.Sequence(lambda n: f"Remigrācijas sekmēšanas pakalpojumi pašvaldībās {n}")
    title_en = factory.Sequence(lambda n: f"Remigration promotion services in municipalities {n}")
    slug = factory.Sequence(lambda n: f"remigration-{n}")
    opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=10))
    closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=20))
    pool_amount = Decimal("40000.00")
    max_award_amount = Decimal("10000.00")
    partial_awards_allowed = True
    status = Competition.Status.PUBLISHED
    signatory_name = "Guntis Gailītis"
    signatory_position = "Administrācijas vadītājs"
    # What the award letters and agreements print: the end of implementation, the reports.
    implementation_ends_on = factory.LazyAttribute(
        lambda call: timezone.localdate(call.closes_at) + timedelta(days=300)
    )
    interim_report_due_on = factory.LazyAttribute(
        lambda call: timezone.localdate(call.closes_at) + timedelta(days=150)
    )
    report_due_on = factory.LazyAttribute(
        lambda call: timezone.localdate(call.closes_at) + timedelta(days=330)
    )

    @factory.post_generation
    def setup(competition, create, extracted, **kwargs):
        if not create:
            return
        competition.eligible_municipalities.set(Municipality.objects.all())
        competition.categories.set(ActivityCategory.objects.all())
        for order, (name, max_points, weight) in enumerate(
            [
                ("Aktivitāšu atbilstība remigrācijas mērķiem", 10, Decimal("0.50")),
                ("Izmaksu pamatotība", 10, Decimal("0.30")),
                ("Ietekme un ilgtspēja", 5, Decimal("0.20")),
            ],
            start=1,
        ):
            ScoringCriterion.objects.create(
                competition=competition,
                name_lv=name,
                max_points=max_points,
                weight=weight,
                order=order,
            )


#: The smallest file that is a PDF by its content.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def document_of(application, *, by=None):
    """A PDF attached to the application, past the service (which refuses a submitted one)."""
    return application.documents.create(
        file=ContentFile(PDF, name="tame.pdf"),
        original_name="tāme.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256="0" * 64,
        uploaded_by=by,
    )


def category(code: str = "informative-material") -> ActivityCategory:
    return ActivityCategory.objects.get(code=code)


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application

    competition = factory.SubFactory(CompetitionFactory)
    municipality = factory.LazyFunction(municipality)
    contact_name = "Ilze Bērziņa"
    contact_email = "ilze.berzina@example.lv"
    contact_phone = "+371 64700000"
    goals = "Sekmēt remigrāciju un atbalstīt atgriezušās ģimenes."
    target_groups = "Diaspora, remigranti, pašvaldības speciālisti."
    summary = "Informatīvā brošūra un vizītes pie diasporas."


class PlannedActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlannedActivity

    application = factory.SubFactory(ApplicationFactory)
    category = factory.LazyFunction(category)
    title = factory.Sequence(lambda n: f"Informatīvā brošūra {n}")
    description = "Brošūra par dzīvi novadā: skolas, darbs, uzņēmējdarbības atbalsts."
    starts_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=30))
    ends_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=120))
    target_group = "Remigranti"
    expected_result = "500 eksemplāri un elektroniska versija"
    cost = Decimal("1000.00")


def call_with_reviewed_applications(size: int, *, reviewers=(), competition=None) -> Competition:
    """A call with ``size`` submitted applications, each scored by every reviewer on every
    criterion, written in bulk. The region has 26 municipalities and a call takes one
    application from each, so every application gets a municipality of its own."""
    from applications.models import CriterionScore, Review

    competition = competition or CompetitionFactory()
    reviewers = list(reviewers) or [UserFactory(), UserFactory()]
    competition.reviewers.add(*reviewers)
    criteria = list(competition.criteria.all())
    first = Municipality.objects.count()
    places = Municipality.objects.bulk_create(
        Municipality(name=f"Pašvaldība {first + i}", slug=f"pasvaldiba-{first + i}")
        for i in range(size)
    )
    moment = timezone.now()
    applications = Application.objects.bulk_create(
        Application(
            competition=competition,
            municipality=place,
            status=Application.Status.SUBMITTED,
            reference=f"REM-B{competition.pk}-{i:04d}",
            submitted_at=moment - timedelta(minutes=size - i),
            snapshot={},
            requested_amount=Decimal(1000 + 10 * i),
        )
        for i, place in enumerate(places)
    )
    PlannedActivity.objects.bulk_create(
        PlannedActivity(
            application=application,
            category=category(),
            title="Brošūra",
            cost=application.requested_amount,
        )
        for application in applications
    )
    reviews = Review.objects.bulk_create(
        Review(application=application, reviewer=person, score=Decimal((i * 7 + j * 13) % 100))
        for i, application in enumerate(applications)
        for j, person in enumerate(reviewers)
    )
    CriterionScore.objects.bulk_create(
        CriterionScore(review=review, criterion=criterion, points=1)
        for review in reviews
        for criterion in criteria
    )
    # Written past the review service, which keeps them: the scores of each application.
    competition.applications.refresh_scores()
    return competition


def submitted_application(competition, place, *, requested: Decimal, reference: str):
    """An application of ``place`` submitted when the call opened, without its activities."""
    return ApplicationFactory(
        competition=competition,
        municipality=place,
        status=Application.Status.SUBMITTED,
        reference=reference,
        submitted_at=competition.opens_at,
        snapshot={"activities": "as submitted"},
        snapshot_sha256="0" * 64,
        requested_amount=requested,
    )


def decided_grants(awards: dict, *, competition: Competition | None = None, by=None) -> dict:
    """Grants opened by a decision, through the services. ``awards`` maps a municipality's
    slug to (requested, awarded); each application has two activities (60 % and 40 % of the
    request). The call (closed a minute ago, unless given) is decided. Returns the grants by
    slug."""
    from applications import services

    competition = competition or CompetitionFactory(
        opens_at=timezone.now() - timedelta(days=20),
        closes_at=timezone.now() - timedelta(minutes=1),
    )
    by = by or coordinator(f"coordinator-{competition.pk}")
    applications = {}
    for slug, (requested, awarded) in awards.items():
        place = municipality(slug)
        application = submitted_application(
            competition, place, requested=requested, reference=f"REM-G{competition.pk}-{place.pk}"
        )
        first = (requested * Decimal("0.6")).quantize(Decimal("0.01"))
        PlannedActivityFactory(application=application, cost=first, title="Informatīvā brošūra")
        PlannedActivityFactory(
            application=application,
            cost=requested - first,
            title="Vizīte pie diasporas",
            category=category("diaspora-visits"),
            order=1,
        )
        services.allocation_set(application=application, amount=awarded, by=by, reason="Piešķīrums")
        applications[slug] = application
    services.competition_decide(competition=competition, by=by, rejection_reason="Nepietiek")
    return {slug: Application.objects.get(pk=a.pk).grant for slug, a in applications.items()}


def decided_grant(
    slug: str = "cesu-novads",
    *,
    requested: Decimal = Decimal("7500.00"),
    awarded: Decimal = Decimal("4000.00"),
    competition: Competition | None = None,
    by=None,
):
    """One grant opened by a decision (``decided_grants``): ``slug``'s request of
    ``requested`` awarded ``awarded``."""
    return decided_grants({slug: (requested, awarded)}, competition=competition, by=by)[slug]


def grant_in_progress(
    slug: str = "gulbenes-novads",
    *,
    amount: Decimal = Decimal("5000.00"),
    competition: Competition | None = None,
    by=None,
):
    """A grant whose agreement both sides have signed, through the services: ``slug``'s request
    of ``amount`` awarded in full, its plan (two lines, 60 % and 40 %) approved as submitted,
    the agreement accepted by a signatory of the municipality and countersigned."""
    return grants_in_progress([slug], amount=amount, competition=competition, by=by)[slug]


def grants_in_progress(
    slugs, *, amount: Decimal = Decimal("5000.00"), competition=None, by=None
) -> dict:
    """``grant_in_progress`` for several municipalities of one call."""
    from grants import services

    by = by or coordinator(f"coordinator-{slugs[0]}")
    grants = decided_grants(dict.fromkeys(slugs, (amount, amount)), competition=competition, by=by)
    for slug, grant in grants.items():
        staff = staff_of(slug, f"{slug}-staff")
        grant.municipality.signatories.add(staff)
        version = services.plan_propose(version=grant.plan_versions.get(), by=staff)
        services.plan_approve(version=version, by=by)
        agreement = grant.agreements.current().get()
        services.agreement_accept(
            agreement=agreement, by=staff, sha256=agreement.sha256, client_address=None
        )
        services.agreement_countersign(agreement=agreement, by=by)
        grant.refresh_from_db()
    return grants


def decided_call_in_bulk(
    size: int, *, reason: str = "Nepietiek līdzekļu.", with_grants: bool = True
):
    """A decided call of ``size`` applications written in bulk: of each four, one funded in
    full, one in part, one not funded (with ``reason``), one whose award was declined; a grant
    for each award and declined award."""
    from grants.models import Grant

    competition = call_with_reviewed_applications(size)
    applications = list(competition.applications.order_by("pk"))
    for index, application in enumerate(applications):
        kind = index % 4
        application.status = [
            Application.Status.AWARDED,
            Application.Status.AWARDED,
            Application.Status.REJECTED,
            Application.Status.DECLINED,
        ][kind]
        application.awarded_amount = {
            0: application.requested_amount,
            1: (application.requested_amount / 2).quantize(Decimal("0.01")),
        }.get(kind, Decimal("0.00"))
        application.decision_reason = reason if kind == 2 else ""
    Application.objects.bulk_update(
        applications, ["status", "awarded_amount", "decision_reason"], batch_size=500
    )
    Competition.objects.filter(pk=competition.pk).update(
        status=Competition.Status.DECIDED, decided_at=timezone.now()
    )
    if with_grants:
        Grant.objects.bulk_create(
            Grant(
                application=application,
                opened_at=timezone.now(),
                status=Grant.Status.DECLINED if index % 4 == 3 else Grant.Status.AGREEING,
                declined_at=timezone.now() if index % 4 == 3 else None,
                decline_reason="Atteicās" if index % 4 == 3 else "",
            )
            for index, application in enumerate(applications)
            if index % 4 != 2
        )
    competition.refresh_from_db()
    return competition
