"""What one save-and-submit costs the database: the same number of queries whatever the number
of activities, and only the activities that changed written (each with its history row)."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from applications import services
from applications.models import Application

from .factories import CompetitionFactory, category, municipality, staff_of
from .test_portal_views import edit_url, form_data

pytestmark = pytest.mark.django_db

#: Queries of one save-and-submit through the form on PostgreSQL, whatever the number of
#: activities (61 with 3 activities and 328 with 30 when every row was validated with its
#: own queries and saved again, each with a history row).
SAVE_AND_SUBMIT_QUERIES = 30

#: The general part as ``form_data`` posts it: saved so, the user changes only an activity.
GENERAL = services.ApplicationDetails(
    contact_name="Ilze Bērziņa",
    contact_email="ilze@example.lv",
    contact_phone="+371 64700000",
    goals="Sekmēt remigrāciju.",
    target_groups="Diaspora",
    summary="Brošūra",
)


def draft_with(user, count: int) -> Application:
    """A draft of its own call with ``count`` complete activities of 10 € each, saved as
    ``form_data`` posts them."""
    application = services.application_start(
        competition=CompetitionFactory(), municipality=municipality("smiltenes-novads"), by=user
    )
    services.application_update_draft(
        application=application,
        by=user,
        details=GENERAL,
        activities=[
            services.ActivityData(
                category_id=category().pk,
                title=f"Aktivitāte {i + 1}",
                description="Apraksts",
                starts_on=date(2026, 12, 1),
                ends_on=date(2027, 3, 1),
                target_group="Remigranti",
                expected_result="Rezultāts",
                cost=Decimal("10.00"),
            )
            for i in range(count)
        ],
    )
    return application


def one_cost_changed(application, count: int, action: str = "submit") -> dict:
    """What the form posts when the user changed the cost of the first activity only."""
    rows = [{"cost": "10,00"} for _ in range(count)]
    rows[0]["cost"] = "25,00"
    return form_data(application, rows, action=action)


def save_and_submit_queries(client, user, count: int) -> int:
    application = draft_with(user, count)
    data = one_cost_changed(application, count)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(edit_url(application), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    assert application.requested_amount == Decimal("10.00") * (count - 1) + Decimal("25.00")
    return len(queries)


def test_save_and_submit_takes_the_same_queries_for_3_and_30_activities(client):
    user = staff_of("smiltenes-novads")
    client.force_login(user)
    # The first submission of a year creates its reference counter (three queries more).
    save_and_submit_queries(client, user, 1)
    counts = [save_and_submit_queries(client, user, count) for count in (3, 30)]
    assert counts[0] == counts[1], counts
    assert counts[0] <= SAVE_AND_SUBMIT_QUERIES, counts
