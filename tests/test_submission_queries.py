"""What one save-and-submit costs the database: the same number of queries whatever the number
of activities, and only the activities that changed written (each with its history row); and
what the edit page costs it."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications import services
from applications.models import Application, PlannedActivity

from .factories import CompetitionFactory, UserFactory, category, municipality, staff_of
from .test_portal_views import edit_url, form_data

pytestmark = pytest.mark.django_db

#: Queries of one save-and-submit through the form, whatever the number of activities (61
#: with 3 activities and 328 with 30 when every row was validated with its own queries and
#: saved again, each with a history row; 30 while the save and the submission were two
#: transactions, each locking and reading the draft; 24 while the form read the documents
#: whether or not one was removed; 23 while the draft's lock and the staff check were two
#: queries and the submission read the activities just saved again; 21 while the view read the
#: draft, its activities and the call's categories before the service read them again under
#: the lock; 18 while the counter was read under its lock and then updated). Exactly so:
#: fewer would mean a check left out.
SAVE_AND_SUBMIT_QUERIES = 17

#: Queries of the edit page of a draft (GET), whatever the number of activities.
EDIT_PAGE_QUERIES = 6

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
    assert counts[0] == SAVE_AND_SUBMIT_QUERIES, counts


def edit_page_queries(client, user, count: int) -> tuple[int, str]:
    application = draft_with(user, count)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(edit_url(application))
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_edit_page_takes_the_same_queries_for_3_and_30_activities_menu_included(client):
    """The user, the draft with its call and municipality, the call's categories, the
    activities and the documents: the menu of a municipality's staff is shown without asking
    again whether the user is on one's staff."""
    user = staff_of("smiltenes-novads")
    client.force_login(user)
    (few, page), (many, _page) = (edit_page_queries(client, user, n) for n in (3, 30))
    assert few == many == EDIT_PAGE_QUERIES, (few, many)
    menu = page.split('id="main-nav"')[1].split("</ul>")[0]
    assert reverse("applications:dashboard") in menu
    assert reverse("grants:list") in menu


def test_other_pages_still_ask_whether_the_user_acts_for_a_municipality(client):
    client.force_login(staff_of("smiltenes-novads"))
    menu = client.get(reverse("home")).content.decode().split('id="main-nav"')[1]
    assert reverse("applications:dashboard") in menu.split("</ul>")[0]
    client.force_login(UserFactory(username="neviens"))
    menu = client.get(reverse("home")).content.decode().split('id="main-nav"')[1]
    assert reverse("applications:dashboard") not in menu.split("</ul>")[0]


#: Queries of ``application_submit`` of a saved draft (a year's counter already made) and of
#: ``application_withdraw`` of the submitted application: the user's place on the
#: municipality's staff is read with the application's lock, not after it; the counter is
#: incremented and read in one statement (it was two).
SUBMIT_QUERIES, WITHDRAW_QUERIES = 10, 6


def test_a_submission_and_a_withdrawal_take_their_queries_whatever_the_activities(client):
    user = staff_of("smiltenes-novads")
    services.application_submit(application=draft_with(user, 1), by=user)
    counted = []
    for count in (3, 30):
        draft = draft_with(user, count)
        with CaptureQueriesContext(connection) as submitting:
            submitted = services.application_submit(application=draft, by=user)
        with CaptureQueriesContext(connection) as withdrawing:
            services.application_withdraw(application=submitted, by=user)
        counted.append((len(submitting), len(withdrawing)))
    assert counted == [(SUBMIT_QUERIES, WITHDRAW_QUERIES)] * 2, counted


# --- only what changed is written --------------------------------------------------------------


def history_rows(application) -> tuple[int, list[tuple[str, str]]]:
    """How many history rows the application has, and its activities' as (type, title)."""
    activities = PlannedActivity.history.filter(application_id=application.pk)
    return application.history.count(), [
        (row.history_type, row.title) for row in activities.order_by("history_id")
    ]


def test_saving_again_unchanged_writes_nothing(client):
    user = staff_of("smiltenes-novads")
    client.force_login(user)
    application = draft_with(user, 3)
    before = history_rows(application)
    updated_at = Application.objects.get(pk=application.pk).updated_at
    response = client.post(edit_url(application), form_data(application, [{"cost": "10,00"}] * 3))
    assert response.status_code == 302
    assert history_rows(application) == before
    assert Application.objects.get(pk=application.pk).updated_at == updated_at


def test_a_save_writes_the_changed_added_and_removed_activities_each_with_its_history(client):
    user = staff_of("smiltenes-novads")
    client.force_login(user)
    application = draft_with(user, 4)
    applications_before, activities_before = history_rows(application)
    rows = [
        {"cost": "10,00"},
        {"cost": "10,00", "title": "Jauns nosaukums"},  # changed
        {"cost": "10,00"},  # the fourth is left out: removed
        {"cost": "7,50", "title": "Pievienota"},  # a new row
    ]
    removed = list(application.activities.order_by("order"))[3]
    data = form_data(application, rows)
    # Three rows shown as saved, the fourth is a new one (``form_data`` numbers them all as
    # the saved ones).
    data["activities-INITIAL_FORMS"] = "3"
    del data["activities-3-id"]
    response = client.post(edit_url(application), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    applications_after, activities_after = history_rows(application)
    # The total changed (30,00 + 7,50 instead of 40,00): one history row of the application.
    assert applications_after == applications_before + 1
    assert sorted(activities_after[len(activities_before) :]) == sorted(
        [("~", "Jauns nosaukums"), ("+", "Pievienota"), ("-", removed.title)]
    )
    history = PlannedActivity.history.filter(application_id=application.pk)
    assert {row.history_user for row in history} == {user}
    application.refresh_from_db()
    assert [a.title for a in application.activities.order_by("order")] == [
        "Aktivitāte 1",
        "Jauns nosaukums",
        "Aktivitāte 3",
        "Pievienota",
    ]
    assert application.requested_amount == Decimal("37.50")


# --- the activities' constraints, checked without the database ---------------------------------


@pytest.mark.parametrize(
    ("cost", "starts_on", "ends_on"),
    [
        (Decimal("10.00"), date(2027, 1, 1), date(2027, 2, 1)),
        (Decimal("10.00"), date(2027, 2, 1), date(2027, 1, 1)),
        (Decimal("10.00"), date(2027, 1, 1), date(2027, 1, 1)),
        (Decimal("0.00"), None, date(2027, 1, 1)),
        (Decimal("-5.00"), date(2027, 2, 1), None),
        (Decimal("0.01"), None, None),
    ],
)
def test_the_constraints_checked_in_python_say_what_the_database_says(cost, starts_on, ends_on):
    row = PlannedActivity(cost=cost, starts_on=starts_on, ends_on=ends_on, title="A")
    assert set(PlannedActivity.CONSTRAINT_CHECKS) == {
        constraint.name for constraint in PlannedActivity._meta.constraints
    }
    in_python = [(error.code, error.messages) for error in row.constraint_errors()]
    in_database = []
    for constraint in PlannedActivity._meta.constraints:
        try:
            constraint.validate(PlannedActivity, row)  # a query
        except ValidationError as error:
            in_database.append((error.code, error.messages))
    assert in_python == in_database
    assert bool(in_python) == (cost <= 0 or bool(starts_on and ends_on and ends_on < starts_on))
