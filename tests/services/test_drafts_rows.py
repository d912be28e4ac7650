"""Each activity of a draft as the save reads it: one of another application, a new one that
lacks what every activity needs, a category outside the call, a cost that is not an amount,
a row that breaks its own rules. Each refusal names the activity by its number, with its code
and its whole message in Latvian and in English, and saves nothing; what a row keeps as saved
stays as it was.

These are the changes to ``applications/services/drafts.py`` (``_activity_planned``,
``_category_problems``, ``_activity_row_problems``) that passed every test of the mutation
run of 4 December 2026."""

import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest

from applications import services
from applications.models import ACTIVITY_DETAIL_FIELDS, PlannedActivity
from competitions.models import ActivityCategory

from ..factories import category, municipality, staff_of
from ..source_case import DETAILS, activities_costing
from .common import codes, refused, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def saved(draft, smiltene):
    """The draft saved with two complete activities (6 000 and 4 000 €)."""
    services.application_update_draft(
        application=draft,
        by=smiltene,
        details=DETAILS,
        activities=activities_costing(Decimal("10000.00"), category().pk),
    )
    return draft


def rows(application) -> list[services.ActivityData]:
    """The draft's activities as the form posts them back unchanged, each with its id."""
    return [
        services.ActivityData(
            id=activity.pk,
            category_id=activity.category_id,
            cost=activity.cost,
            **{field: getattr(activity, field) for field in ACTIVITY_DETAIL_FIELDS},
        )
        for activity in application.activities.order_by("order")
    ]


def stored(application) -> list[tuple]:
    return list(
        application.activities.order_by("order").values_list(
            "id", "category_id", "title", "cost", "starts_on", "ends_on", "order"
        )
    )


def update(application, user, activities):
    return lambda: services.application_update_draft(
        application=application, by=user, details=DETAILS, activities=activities
    )


def assert_refused(act, code, lv, en):
    error = refused(act, language="lv")
    assert codes(error) == [code]
    assert text(error) == lv
    assert text(refused(act, language="en")) == en


def test_an_activity_of_another_application_is_refused_by_its_number_and_nothing_is_saved(
    saved, smiltene, call
):
    other_staff = staff_of("valkas-novads")
    other = services.application_start(
        competition=call, municipality=municipality("valkas-novads"), by=other_staff
    )
    services.application_update_draft(
        application=other,
        by=other_staff,
        details=DETAILS,
        activities=activities_costing(Decimal("5000.00"), category().pk),
    )
    before = stored(saved)
    first, _second = rows(saved)
    foreign = dataclasses.replace(rows(other)[0], title="Svešā aktivitāte")
    assert_refused(
        update(saved, smiltene, [first, foreign]),
        "unknown_activity",
        "2. aktivitāte nepieder šim pieteikumam.",
        "Activity 2 does not belong to this application.",
    )
    assert stored(saved) == before
    assert other.activities.filter(title="Svešā aktivitāte").count() == 0


def test_a_new_activity_without_its_title_is_refused_by_its_number(saved, smiltene):
    before = stored(saved)
    new = dataclasses.replace(rows(saved)[0], id=None, keep=frozenset({"title"}))
    assert_refused(
        update(saved, smiltene, [*rows(saved), new]),
        "activity_incomplete",
        "3. aktivitāte: jaunai aktivitātei jānorāda kategorija, nosaukums un izmaksas.",
        "Activity 3: a new activity needs its category, title and cost.",
    )
    assert stored(saved) == before


def test_a_saved_activity_keeps_its_category_title_and_cost_when_they_were_not_read(
    saved, smiltene
):
    """A field in error on the form is kept as saved, whatever the row posted for it."""
    outside = ActivityCategory.objects.create(code="not-in-call", name_lv="Ārpus konkursa")
    first, second = rows(saved)
    kept = dataclasses.replace(
        second,
        category_id=outside.pk,
        title="",
        cost=Decimal("0.001"),
        target_group="Jauniešiem",
        keep=frozenset({"category_id", "title", "cost"}),
    )
    services.application_update_draft(
        application=saved, by=smiltene, details=DETAILS, activities=[first, kept]
    )
    row = PlannedActivity.objects.get(pk=second.id)
    assert (row.category_id, row.title, row.cost) == (
        second.category_id,
        second.title,
        second.cost,
    )
    assert row.target_group == "Jauniešiem"


def test_a_category_that_does_not_exist_is_refused_once_as_outside_the_call(saved, smiltene):
    before = stored(saved)
    first, second = rows(saved)
    missing = ActivityCategory.objects.order_by("-pk").first().pk + 1000
    assert_refused(
        update(saved, smiltene, [first, dataclasses.replace(second, category_id=missing)]),
        "category_not_in_call",
        "2. aktivitāte: tās kategorija nav starp šī konkursa kategorijām.",
        "Activity 2: its category is not one of this call's categories.",
    )
    assert stored(saved) == before


def test_a_category_outside_the_call_is_refused_by_the_activitys_number(saved, smiltene):
    outside = ActivityCategory.objects.create(code="not-in-call", name_lv="Ārpus konkursa")
    before = stored(saved)
    first, second = rows(saved)
    assert_refused(
        update(saved, smiltene, [first, dataclasses.replace(second, category_id=outside.pk)]),
        "category_not_in_call",
        "2. aktivitāte: tās kategorija nav starp šī konkursa kategorijām.",
        "Activity 2: its category is not one of this call's categories.",
    )
    assert stored(saved) == before


def test_a_cost_in_fractions_of_a_cent_is_refused_naming_the_activitys_cost(saved, smiltene):
    before = stored(saved)
    first, second = rows(saved)
    assert_refused(
        update(saved, smiltene, [first, dataclasses.replace(second, cost=Decimal("4000.001"))]),
        "invalid_amount",
        "2. aktivitātes izmaksas jānorāda euro ar ne vairāk kā diviem cipariem aiz komata.",
        "The cost of activity 2 must be an amount in euros with at most two decimal places.",
    )
    assert stored(saved) == before


def test_an_activity_ending_before_it_starts_is_refused_by_its_number(saved, smiltene):
    before = stored(saved)
    first, second = rows(saved)
    reversed_dates = dataclasses.replace(second, ends_on=second.starts_on - timedelta(days=1))
    assert_refused(
        update(saved, smiltene, [first, reversed_dates]),
        "invalid",
        "2. aktivitāte: Aktivitāte nevar beigties pirms tās sākuma.",
        "Activity 2: An activity cannot end before it starts.",
    )
    assert stored(saved) == before


def test_the_activities_are_saved_in_the_order_given_each_numbered_from_one(saved, smiltene):
    first, second = rows(saved)
    new = dataclasses.replace(first, id=None, title="Seminārs", cost=Decimal("1.00"))
    services.application_update_draft(
        application=saved, by=smiltene, details=DETAILS, activities=[second, new, first]
    )
    assert [(title, order) for _id, _c, title, _cost, _s, _e, order in stored(saved)] == [
        (second.title, 1),
        ("Seminārs", 2),
        (first.title, 3),
    ]
    assert saved.activities.get(title="Seminārs").starts_on == first.starts_on


def test_a_second_draft_of_the_same_municipality_is_refused_naming_it(draft, smiltene, call):
    place = draft.municipality
    act = lambda: services.application_start(  # noqa: E731
        competition=call, municipality=place, by=smiltene
    )
    assert_refused(
        act,
        "already_exists",
        f"Pašvaldībai “{place.name}” šajā konkursā jau ir pieteikums.",
        f"{place.name} already has an application in this call.",
    )


def test_an_application_submitted_once_is_not_submitted_again_naming_its_reference(saved, smiltene):
    submitted = services.application_submit(application=saved, by=smiltene)
    act = lambda: services.application_submit(application=submitted, by=smiltene)  # noqa: E731
    assert_refused(
        act,
        "not_draft",
        f"Pieteikums {submitted.reference} jau ir iesniegts.",
        f"Application {submitted.reference} has already been submitted.",
    )


def test_two_activities_changed_in_different_fields_are_both_saved_each_with_its_author(
    saved, smiltene
):
    first, second = rows(saved)
    other = ActivityCategory.objects.exclude(pk=first.category_id).first()
    services.application_update_draft(
        application=saved,
        by=smiltene,
        details=DETAILS,
        activities=[
            dataclasses.replace(first, title="Jauns nosaukums"),
            dataclasses.replace(second, category_id=other.pk, cost=Decimal("1999.99")),
        ],
    )
    assert stored(saved) == [
        (
            first.id,
            first.category_id,
            "Jauns nosaukums",
            first.cost,
            first.starts_on,
            first.ends_on,
            1,
        ),
        (
            second.id,
            other.pk,
            second.title,
            Decimal("1999.99"),
            second.starts_on,
            second.ends_on,
            2,
        ),
    ]
    for activity in saved.activities.all():
        assert activity.history.first().history_user == smiltene


def test_the_snapshot_names_each_activitys_category_also_one_the_call_has_dropped_since(
    saved, smiltene, call
):
    """Saved and submitted at once, the snapshot names the categories of the rows as saved:
    one posted, and one kept as saved though the call no longer lists it."""
    first, second = rows(saved)
    dropped = ActivityCategory.objects.get(pk=first.category_id)
    added = ActivityCategory.objects.create(code="konsultacijas", name_lv="Konsultācijas")
    call.categories.add(added)
    call.categories.remove(dropped)
    submitted = services.application_save_and_submit(
        application=saved,
        by=smiltene,
        details=DETAILS,
        activities=[
            dataclasses.replace(first, keep=frozenset({"category_id"})),
            dataclasses.replace(second, category_id=added.pk),
        ],
    )
    submitted.refresh_from_db()
    assert [row["category"] for row in submitted.snapshot["activities"]] == [
        dropped.code,
        "konsultacijas",
    ]
    assert [row["title"] for row in submitted.snapshot["activities"]] == [
        first.title,
        second.title,
    ]


@pytest.mark.parametrize("act", ["save", "submit"])
def test_a_staff_member_whose_account_is_closed_can_neither_save_nor_submit(saved, smiltene, act):
    smiltene.is_active = False
    smiltene.save()
    if act == "save":
        attempt = update(saved, smiltene, rows(saved))
    else:
        attempt = lambda: services.application_submit(application=saved, by=smiltene)  # noqa: E731
    assert_refused(
        attempt,
        "not_municipality_staff",
        "To var darīt tikai pašvaldības “Smiltenes novads” darbinieki.",
        "Only staff of Smiltenes novads can do this.",
    )
    saved.refresh_from_db()
    assert saved.is_draft
