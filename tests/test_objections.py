"""Objections to a decision: within the call's period from the decision letter, decided by a
coordinator with a reasoned reply, any change of the award through the money door."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from applications import letters
from applications import services as application_services
from applications.models import AllocationEvent, Application
from conversations import services
from conversations.models import Message, Objection

from .factories import (
    PDF,
    CompetitionFactory,
    PlannedActivityFactory,
    coordinator,
    decided_grants,
    municipality,
    staff_of,
    submitted_application,
)

pytestmark = pytest.mark.django_db


def pdf(name="atbilde.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture
def vpr():
    return coordinator("vpr")


@pytest.fixture
def decided(vpr):
    """Cēsis awarded 4 000 of its 7 500; 36 000 of the pool left."""
    grants = decided_grants({"cesu-novads": (Decimal("7500.00"), Decimal("4000.00"))}, by=vpr)
    return {"cesis": grants["cesu-novads"].application}


def issued(application, by):
    application.refresh_from_db()
    return application_services.letter_issue(application=application, by=by)


def test_the_period_runs_a_month_from_the_first_letter_and_the_letter_prints_it(decided, vpr):
    cesis = decided["cesis"]
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 1, 31, 12)), tick=False):
        letter = issued(cesis, vpr)
    assert services.objection_deadline(cesis) == timezone.datetime(2026, 2, 28).date()
    data = letters.letter_data(
        cesis, kind=letter.kind, number="X", language="lv", issued_on=letter.issued_at.date()
    )
    assert data.objection_until == timezone.datetime(2026, 2, 28).date()


def test_an_objection_lodged_after_its_period_is_refused_with_the_date_named(decided, vpr):
    cesis = decided["cesis"]
    staff = staff_of("cesu-novads", "cesis")
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 3, 2, 12)), tick=False):
        issued(cesis, vpr)
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 4, 3, 9)), tick=False):
        with pytest.raises(ValidationError) as refused:
            services.objection_lodge(application=cesis, by=staff, reasons="Nepiekrītam.")
        assert refused.value.error_list[0].code == "objection_period_over"
        assert "02.04.2026" in refused.value.messages[0]
        client = Client()
        client.force_login(staff)
        page = client.post(
            reverse("conversations:objection", args=[cesis.pk]), {"reasons": "Nepiekrītam."}
        ).content.decode()
        assert "Iebildumu termiņš beidzās 02.04.2026" in page
        assert "Nepiekrītam." in page  # what was typed is kept
    assert not Objection.objects.exists()
    assert not Message.objects.exists()
    # On the last day itself it is lodged.
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 4, 2, 23)), tick=False):
        objection = services.objection_lodge(
            application=cesis, by=staff, reasons="Nepiekrītam.", files=[pdf("pamatojums.pdf")]
        )
    assert objection.message.kind == Message.Kind.OBJECTION
    assert objection.message.attachments.count() == 1


def lodged(decided, vpr):
    """The decision letter issued, and the municipality's objection lodged."""
    application = decided["cesis"]
    staff = staff_of(application.municipality.slug, f"staff-{application.municipality.slug}")
    issued(application, vpr)
    objection = services.objection_lodge(
        application=application, by=staff, reasons="Izmaksas ir pamatotas, skat. tāmi."
    )
    return objection, staff


def test_an_upheld_objection_raising_the_award_beyond_the_pool_is_refused_like_any_allocation(
    vpr,
):
    # The pool is spent: Cēsis's 4 000 and 9 000 to each of four others.
    full = (Decimal("9000.00"), Decimal("9000.00"))
    grants = decided_grants(
        {
            "cesu-novads": (Decimal("7500.00"), Decimal("4000.00")),
            "smiltenes-novads": full,
            "valkas-novads": full,
            "valmieras-pilseta": full,
            "gulbenes-novads": full,
        },
        by=vpr,
    )
    objection, _staff = lodged({"cesis": grants["cesu-novads"].application}, vpr)
    events = AllocationEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.objection_decide(
            objection=objection,
            by=vpr,
            outcome=Objection.Outcome.UPHELD,
            reply="Iebildums pamatots.",
            document=pdf(),
            amount=Decimal("7500.00"),
        )
    assert refused.value.error_list[0].code == "over_pool"
    assert "3 500,00" in refused.value.messages[0].replace("\xa0", " ")
    objection.refresh_from_db()
    assert not objection.is_decided
    assert AllocationEvent.objects.count() == events
    assert not Message.objects.filter(kind=Message.Kind.OUTCOME).exists()


def test_an_upheld_objection_raises_the_award_through_the_money_door_and_is_on_the_record(
    decided, vpr, django_capture_on_commit_callbacks
):
    objection, staff = lodged(decided, vpr)
    client = Client()
    client.force_login(vpr)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:conversations_objection_decide", args=[objection.pk]),
            {
                "outcome": "upheld",
                "reply": "Izmaksas pamatotas; piešķīrums palielināts.",
                "document": pdf(),
                "amount": "7 500,00",
            },
        )
    assert response.status_code == 302
    cesis = Application.objects.get(pk=decided["cesis"].pk)
    assert cesis.awarded_amount == Decimal("7500.00")
    event = AllocationEvent.objects.filter(application=cesis).latest("pk")
    assert (event.amount_before, event.amount_after) == (Decimal("4000.00"), Decimal("7500.00"))
    objection.refresh_from_db()
    assert objection.outcome == "upheld"
    assert objection.reply.attachments.count() == 1
    assert staff.email in {address for message in mail.outbox for address in message.to}
    # On the application's page: the history and the thread.
    staff_client = Client()
    staff_client.force_login(staff)
    page = staff_client.get(cesis.get_absolute_url()).content.decode()
    assert "Iesniegts iebildums" in page
    assert "Iebildums apmierināts" in page
    thread = staff_client.get(reverse("conversations:thread", args=[cesis.pk])).content.decode()
    assert "Izmaksas pamatotas; piešķīrums palielināts." in thread
    assert "atbilde.pdf" in thread
    # Decided once.
    with pytest.raises(ValidationError):
        services.objection_decide(
            objection=objection, by=vpr, outcome="rejected", reply="x", document=pdf()
        )


def test_a_rejection_overturned_on_objection_awards_and_opens_the_grant(vpr):
    competition = CompetitionFactory(
        opens_at=timezone.now() - timedelta(days=20),
        closes_at=timezone.now() - timedelta(minutes=1),
    )
    valka = submitted_application(
        competition,
        municipality("valkas-novads"),
        requested=Decimal("5000.00"),
        reference="REM-O-1",
    )
    PlannedActivityFactory(application=valka, cost=Decimal("5000.00"), title="Vizīte")
    decided_grants(
        {"cesu-novads": (Decimal("7500.00"), Decimal("4000.00"))}, competition=competition, by=vpr
    )
    valka.refresh_from_db()
    assert valka.status == Application.Status.REJECTED
    objection, _staff = lodged({"cesis": valka}, vpr)
    services.objection_decide(
        objection=objection,
        by=vpr,
        outcome=Objection.Outcome.PARTLY_UPHELD,
        reply="Daļēji pamatots.",
        document=pdf(),
        amount=Decimal("3000.00"),
    )
    valka.refresh_from_db()
    assert valka.status == Application.Status.AWARDED
    assert valka.awarded_amount == Decimal("3000.00")
    assert valka.grant.plan_versions.count() == 1


def test_a_rejected_objection_leaves_the_award(decided, vpr):
    objection, _staff = lodged(decided, vpr)
    services.objection_decide(
        objection=objection, by=vpr, outcome="rejected", reply="Nav pamata.", document=pdf()
    )
    objection.refresh_from_db()
    assert objection.award_before == objection.award_after == Decimal("4000.00")
