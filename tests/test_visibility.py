"""Who may read which application: the rule every view with an id relies on."""

import pytest
from django.contrib.auth.models import AnonymousUser

from applications.models import Application

from .factories import ApplicationFactory, UserFactory, coordinator, reviewer, staff_of
from .source_case import build_source_case

pytestmark = pytest.mark.django_db


def visible(user):
    return set(Application.objects.visible_to(user).values_list("municipality__slug", flat=True))


def test_staff_see_their_own_municipality_only_drafts_included():
    case = build_source_case(close=False)
    valka = case.staff["valkas-novads"]
    draft_in_another_call = ApplicationFactory(municipality=valka.municipalities.get())
    assert draft_in_another_call.is_draft
    assert set(Application.objects.visible_to(valka)) == {
        case.applications["valkas-novads"],
        draft_in_another_call,
    }


def test_assigned_reviewers_see_submitted_applications_of_their_calls_only():
    case = build_source_case(close=False)
    assert len(visible(case.reviewers[0])) == 5
    outsider = reviewer("outsider")
    assert visible(outsider) == set()


def test_reviewers_and_coordinators_never_see_drafts_of_others():
    call_draft = ApplicationFactory()
    call_draft.competition.reviewers.add(reviewer("r"))
    assert not Application.objects.visible_to(call_draft.competition.reviewers.get()).exists()
    assert not Application.objects.visible_to(coordinator()).exists()


def test_coordinators_see_every_submitted_application():
    build_source_case(close=False)
    assert len(visible(coordinator("c2"))) == 5


def test_anonymous_inactive_and_plain_users_see_nothing():
    build_source_case(close=False)
    assert not Application.objects.visible_to(AnonymousUser()).exists()
    assert not Application.objects.visible_to(UserFactory()).exists()
    inactive = staff_of("valkas-novads", "inactive")
    inactive.is_active = False
    inactive.save()
    assert not Application.objects.visible_to(inactive).exists()
