"""Every view that changes something refuses to do it on a GET, and refuses a POST without a
CSRF token, leaving every table as it was."""

import pytest
from django.test import Client
from django.urls import reverse

from applications.models import (
    AllocationEvent,
    Application,
    AwardLetter,
    CriterionScore,
    PlannedActivity,
    Review,
    SupportingDocument,
)
from competitions.models import Competition

from .test_authorization_matrix import world  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def state():
    """What any of these actions would change."""
    return (
        sorted(
            Application.objects.values_list("pk", "status", "awarded_amount", "requested_amount")
        ),
        PlannedActivity.objects.count(),
        SupportingDocument.objects.count(),
        sorted(Review.objects.values_list("pk", "score", "comment")),
        CriterionScore.objects.count(),
        AllocationEvent.objects.count(),
        AwardLetter.objects.count(),
        sorted(Competition.objects.values_list("pk", "status", "pool_amount", "title_lv")),
    )


def actions(w) -> list[tuple[str, str, dict]]:
    """(who, where, what a browser would post) for every state-changing view."""
    return [
        ("own_staff", reverse("applications:start", args=[w.open_call.slug]), {}),
        ("other_staff", reverse("applications:start", args=[w.open_call.slug]), {}),
        ("own_staff", reverse("applications:edit", args=[w.draft.pk]), {"contact_name": "X"}),
        ("own_staff", reverse("applications:withdraw", args=[w.application.pk]), {}),
        ("own_staff", reverse("applications:delete", args=[w.draft.pk]), {}),
        ("own_staff", reverse("password_change"), {"old_password": "x", "new_password1": "y"}),
        ("own_staff", reverse("logout"), {}),
        (
            "reviewer_assigned",
            reverse("admin:applications_application_review", args=[w.application.pk]),
            {"comment": "Mainīts"},
        ),
        (
            "coordinator",
            reverse("admin:applications_application_issue_letter", args=[w.application.pk, "lv"]),
            {},
        ),
        (
            "coordinator",
            reverse("admin:competitions_competition_allocation", args=[w.decided.pk]),
            {"apply_proposal": "1"},
        ),
        (
            "coordinator",
            reverse("admin:competitions_competition_change", args=[w.decided.pk]),
            {"title_lv": "Cits"},
        ),
        (
            "coordinator",
            reverse("admin:applications_application_changelist"),
            {"action": "issue_letters", "_selected_action": [w.application.pk]},
        ),
        (
            "coordinator",
            reverse("admin:competitions_competition_changelist"),
            {"action": "publish", "_selected_action": [w.open_call.pk]},
        ),
    ]


def test_a_post_without_a_csrf_token_is_refused_and_changes_nothing(world):  # noqa: F811
    before = state()
    for role, url, data in actions(world):
        client = Client(enforce_csrf_checks=True)
        client.force_login(world.users[role])
        response = client.post(url, data)
        assert response.status_code == 403, (role, url, response.status_code)
        assert state() == before, (role, url)


def test_a_get_changes_nothing(world):  # noqa: F811
    before = state()
    for role, url, _data in actions(world):
        client = Client()
        client.force_login(world.users[role])
        response = client.get(url)
        assert response.status_code in {200, 302, 405}, (role, url, response.status_code)
        assert state() == before, (role, url)


def test_the_post_only_actions_answer_405_to_a_get(world):  # noqa: F811
    post_only = [
        ("own_staff", reverse("applications:start", args=[world.open_call.slug])),
        ("own_staff", reverse("logout")),
        (
            "coordinator",
            reverse(
                "admin:applications_application_issue_letter", args=[world.application.pk, "lv"]
            ),
        ),
    ]
    for role, url in post_only:
        client = Client()
        client.force_login(world.users[role])
        assert client.get(url).status_code == 405, url


def test_the_same_posts_with_a_token_do_change_something(world):  # noqa: F811
    """The refusals above are the CSRF check's: with its token, the first action goes through."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["other_staff"])
    page = client.get(reverse("competitions:detail", args=[world.open_call.slug]))
    token = page.cookies["csrftoken"].value
    before = Application.objects.count()
    response = client.post(
        reverse("applications:start", args=[world.open_call.slug]), {"csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert Application.objects.count() == before + 1
