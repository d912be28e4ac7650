"""The demo that `make run` loads: the source case, complete, and an open call."""

import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from applications.models import AllocationEvent, Application, AwardLetter, Review
from competitions.models import Competition
from grants.models import Agreement, Grant, PlanVersion

from .amounts import spaced, squeezed

pytestmark = pytest.mark.django_db

AWARDS = {
    "Smiltenes novads": Decimal("10000.00"),
    "Valkas novads": Decimal("10000.00"),
    "Valmieras pilsēta": Decimal("9800.00"),
    "Gulbenes novads": Decimal("6200.00"),
    "Cēsu novads": Decimal("4000.00"),
}


@pytest.fixture
def demo():
    call_command("load_demo", "--force", stdout=io.StringIO())
    return Competition.objects.get(slug="remigration-2019")


def state():
    return {
        "applications": sorted(
            Application.objects.values_list(
                "reference",
                "municipality__name",
                "status",
                "requested_amount",
                "awarded_amount",
                "snapshot_sha256",
            )
        ),
        "events": AllocationEvent.objects.count(),
        "reviews": Review.objects.count(),
        "letters": sorted(AwardLetter.objects.values_list("number", "sha256")),
        "calls": sorted(Competition.objects.values_list("slug", "status")),
        "grants": sorted(Grant.objects.values_list("pk", "status", "agreed_total")),
        "plans": sorted(PlanVersion.objects.values_list("pk", "status", "total", "sha256")),
        "agreements": sorted(
            Agreement.objects.values_list("number", "sha256", "accepted_at", "countersigned_at")
        ),
        "users": sorted(get_user_model().objects.values_list("username", "password")),
    }


def test_the_demo_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("load_demo")
    assert not Competition.objects.exists()


def test_the_demo_plays_the_source_case_to_its_decision(demo):
    assert demo.status == Competition.Status.DECIDED
    awarded = dict(
        Application.objects.filter(competition=demo).values_list(
            "municipality__name", "awarded_amount"
        )
    )
    assert awarded == AWARDS
    assert sum(awarded.values()) == demo.pool_amount
    assert set(Application.objects.values_list("status", flat=True)) == {"awarded"}
    references = sorted(
        Application.objects.filter(competition=demo).values_list("reference", flat=True)
    )
    assert references == [f"REM-2019-{n:03d}" for n in range(1, 6)]
    assert Review.objects.filter(application__competition=demo).count() == 10
    assert AllocationEvent.objects.filter(competition=demo).count() == 5
    letters = AwardLetter.objects.filter(application__competition=demo)
    assert sorted(letters.values_list("number", flat=True)) == [
        f"VPR/2019/remigration-2019/{n:03d}" for n in range(1, 6)
    ]
    assert {letter.issued_at.date().isoformat() for letter in letters} == {"2019-09-20"}
    assert demo.eligible_municipalities.count() == 26
    assert "ilustratīvi" in demo.description_lv
    assert "illustrative" in demo.description_en


def test_the_demo_plays_on_cesis_fits_its_plan_to_4000_and_all_five_agreements_are_signed(demo):
    grants = {
        grant.application.municipality.name: grant
        for grant in Grant.objects.select_related("application__municipality")
    }
    assert set(grants) == set(AWARDS)
    # Played on through 2020 (tests/test_demo.py: the stage after the agreements).
    assert {grant.status for grant in grants.values()} == {
        Grant.Status.IN_PROGRESS,
        Grant.Status.REPORTING,
        Grant.Status.CLOSED,
    }
    # Every award was already what the plan needed: nothing returns to the pool.
    assert {name: grant.agreed_total for name, grant in grants.items()} == AWARDS
    cesis = grants["Cēsu novads"]
    assert cesis.application.requested_amount == Decimal("7500.00")
    approved = cesis.plan_versions.get(status=PlanVersion.Status.APPROVED)
    assert approved.total == Decimal("4000.00")
    assert [line.cost for line in approved.lines.all()] == [Decimal("2000.00")] * 2
    # The four full awards keep their plans as submitted.
    for name in ("Smiltenes novads", "Valkas novads", "Valmieras pilsēta", "Gulbenes novads"):
        plan = grants[name].plan_versions.get()
        assert plan.status == PlanVersion.Status.APPROVED
        assert [(line.title, line.cost) for line in plan.lines.all()] == [
            (activity.title, activity.cost)
            for activity in grants[name].application.activities.all()
        ]
    agreements = Agreement.objects.select_related("accepted_by", "grant__application__municipality")
    assert sorted(agreements.values_list("number", flat=True)) == [
        f"VPR/2019/remigration-2019/L-{n:03d}" for n in range(1, 6)
    ]
    for agreement in agreements:
        assert agreement.accepted_sha256 == agreement.sha256
        assert agreement.accepted_by in agreement.grant.application.municipality.signatories.all()
        assert agreement.countersigned_by.username == "coordinator"
        assert agreement.generated_at.year == agreement.accepted_at.year == 2019
        assert agreement.countersigned_at > agreement.accepted_at > agreement.generated_at
    assert AllocationEvent.objects.filter(competition=demo).count() == 5
    assert sum(a.awarded_amount for a in Application.objects.filter(competition=demo)) == Decimal(
        "40000.00"
    )


def test_every_application_requests_the_sum_of_its_activities(demo):
    for application in Application.objects.filter(competition=demo).prefetch_related("activities"):
        assert application.requested_amount == sum(a.cost for a in application.activities.all())
        assert application.activities.count() >= 2


def test_the_demo_has_an_open_call_to_try(demo):
    open_call = Competition.objects.get(slug="remigration-open")
    assert open_call.is_open()


def test_running_the_demo_twice_leaves_the_same_data(demo):
    before = state()
    call_command("load_demo", "--force", stdout=io.StringIO())
    assert state() == before


def test_each_demo_staff_user_sees_only_their_own_application(client, demo):
    for username, name in [
        ("smiltene", "Smiltenes novads"),
        ("valka", "Valkas novads"),
        ("valmiera", "Valmieras pilsēta"),
        ("gulbene", "Gulbenes novads"),
        ("cesis", "Cēsu novads"),
    ]:
        client.force_login(get_user_model().objects.get(username=username))
        page = client.get(reverse("applications:dashboard")).text
        others = [other for other in AWARDS if other != name]
        assert name in page
        assert not any(other in page for other in others), username
        mine = Application.objects.get(municipality__name=name)
        assert client.get(mine.get_absolute_url()).status_code == 200
        theirs = Application.objects.exclude(pk=mine.pk).first()
        assert client.get(theirs.get_absolute_url()).status_code == 404
        letter = mine.letters.get()
        download = client.get(reverse("applications:letter_download", args=[mine.pk, letter.pk]))
        assert download.status_code == 200
        assert download["Content-Type"] == "application/pdf"
        assert b"".join(download.streaming_content).startswith(b"%PDF")
        their_letter = theirs.letters.get()
        assert (
            client.get(
                reverse("applications:letter_download", args=[theirs.pk, their_letter.pk])
            ).status_code
            == 404
        )


def test_results_page_of_the_demo(client, demo):
    page = squeezed(client.get(reverse("results:detail", kwargs={"slug": demo.slug})).text)
    assert "pieteikumus iesniedza 5 no 26 pašvaldībām" in page
    assert "Pilnā apjomā finansējumu saņem 4 pašvaldības." in page
    assert "Daļēju finansējumu saņem 1 pašvaldība." in page
    assert spaced("piešķirti 40 000,00 EUR") in page


def test_the_demo_plays_the_grants_on_through_every_stage_after_the_agreements(demo):
    """Advances paid; Smiltene and Valka closed; Valmiera's report returned once and awaiting
    review; Gulbene's final report overdue; Cēsis owes a repayment."""
    from grants.models import Payment, Report

    grants = {
        grant.application.municipality.slug: grant
        for grant in Grant.objects.select_related("application__municipality")
    }
    advances = Payment.objects.filter(kind="advance")
    assert {payment.grant.application.municipality.slug for payment in advances} == set(grants)
    assert {payment.paid_on.year for payment in advances} == {2019}
    for slug in ("smiltenes-novads", "valkas-novads"):
        grant = grants[slug]
        assert grant.status == Grant.Status.CLOSED
        assert grant.paid_total == grant.accepted_total == grant.agreed_total
    valmiera = Report.objects.filter(grant=grants["valmieras-pilseta"]).order_by("number")
    assert [r.status for r in valmiera] == [Report.Status.RETURNED, Report.Status.SUBMITTED]
    gulbene = grants["gulbenes-novads"]
    assert gulbene.status == Grant.Status.IN_PROGRESS
    assert not gulbene.reports.filter(kind="final").exists()
    cesis = grants["cesu-novads"]
    assert (cesis.accepted_total, cesis.to_repay) == (Decimal("1600.00"), Decimal("400.00"))
    assert "Ilustratīvs" in Payment.objects.first().note
