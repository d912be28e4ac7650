"""Objections upheld at the same moment keep the pool (PostgreSQL row locks: the call's row,
then the objection's)."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum

from applications import services as application_services
from applications.models import Application
from conversations import services
from conversations.models import Objection

from .factories import PDF, coordinator, decided_grants, staff_of
from .test_concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_objections_upheld_at_once_cannot_together_exceed_the_pool():
    # 37 000 of 40 000 awarded: room for one raise of 3 000, not two.
    vpr = coordinator("vpr")
    grants = decided_grants(
        {
            "cesu-novads": (Decimal("7500.00"), Decimal("4500.00")),
            "valkas-novads": (Decimal("7500.00"), Decimal("4500.00")),
            "smiltenes-novads": (Decimal("10000.00"), Decimal("10000.00")),
            "valmieras-pilseta": (Decimal("10000.00"), Decimal("10000.00")),
            "gulbenes-novads": (Decimal("8000.00"), Decimal("8000.00")),
        },
        by=vpr,
    )
    objections = []
    for slug in ("cesu-novads", "valkas-novads"):
        application = grants[slug].application
        application_services.letter_issue(application=application, by=vpr)
        objections.append(
            services.objection_lodge(
                application=application, by=staff_of(slug), reasons="Lūdzam pārskatīt."
            )
        )
    people = [coordinator(f"vpr-{i}") for i in range(2)]

    outcomes = run_together(
        [
            lambda objection=objection, person=person: services.objection_decide(
                objection=objection,
                by=person,
                outcome=Objection.Outcome.UPHELD,
                reply="Pamatots.",
                document=SimpleUploadedFile("atbilde.pdf", PDF),
                amount=Decimal("7500.00"),
            )
            for objection, person in zip(objections, people, strict=True)
        ]
    )

    assert sorted(outcomes) == ["accepted", "over_pool"]
    total = Application.objects.aggregate(total=Sum("awarded_amount"))["total"]
    assert total == Decimal("40000.00")
    assert Objection.objects.exclude(outcome="").count() == 1
