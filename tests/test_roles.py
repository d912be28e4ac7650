"""Who may do what is decided once (``competitions.roles``), and every screen agrees with it.

Coordinators and reviewers are recognised by the model permissions their work needs, on an
active account that may enter the admin; municipal staff by being on a municipality's staff.
Each test gives a role in one way (the group, the group's permissions without the group, a
superuser) or withholds it in one way (the group without one of the permissions the role needs,
the permissions on an account that may not enter the admin, the group without the municipality),
and asks every screen of the role: the admin's lists and pages, the document download, the
portal's pages, the services and the mail. The same user is let in everywhere or nowhere.
"""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from applications import notifications, services
from applications.models import Application, SupportingDocument
from competitions import roles
from competitions.models import Competition, Municipality

from .factories import CompetitionFactory, UserFactory, document_of
from .source_case import build_source_case

pytestmark = pytest.mark.django_db


@dataclass
class World:
    call: Competition  # open, its applications submitted and reviewed
    application: Application  # Smiltene's
    document: SupportingDocument
    root: object  # a superuser, to look at the call's form


@pytest.fixture
def world() -> World:
    case = build_source_case(close=False)
    application = case.applications["smiltenes-novads"]
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    return World(case.competition, application, document_of(application), root)


def person(username: str, *, is_staff: bool = True, is_superuser: bool = False):
    return UserFactory(username=username, is_staff=is_staff, is_superuser=is_superuser)


def in_group(user, role: str):
    user.groups.add(Group.objects.get(name=role))
    return user


def with_group_permissions(user, role: str):
    """The role's group's permissions, given to the user directly."""
    user.user_permissions.set(Group.objects.get(name=role).permissions.all())
    return user


def withhold(role: str, permission: str) -> None:
    """Take one permission from the role's group."""
    app_label, codename = permission.split(".")
    Group.objects.get(name=role).permissions.remove(
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
    )


def fresh(user):
    """The user as the next request reads them, without the permissions cached on the object."""
    return type(user).objects.get(pk=user.pk)


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def succeeds(service, **arguments) -> bool:
    """Whether the service does what it is asked, rather than refusing."""
    try:
        service(**arguments)
    except ValidationError:
        return False
    return True


def assert_every_screen_says(screens: dict[str, bool], allowed: bool) -> None:
    assert screens == dict.fromkeys(screens, allowed)


def answers(client, url: str) -> bool:
    response = client.get(url)
    if response.streaming:
        response.getvalue()  # read to the end, which closes the downloaded file
    return response.status_code == 200


def lists(client, url: str, text: str) -> bool:
    response = client.get(url)
    return response.status_code == 200 and text in response.text


def mailed_on_submission(world: World, user, *, coordinators: bool) -> bool:
    """Whether the user is among the recipients of the mail about a submission: the one to
    the coordinators (linking the admin) or the one to the municipality's staff."""
    mail.outbox.clear()
    notifications.application_submitted(world.application)
    admin_link = reverse("admin:applications_application_change", args=[world.application.pk])
    return any(
        user.email in message.to
        for message in mail.outbox
        if (admin_link in message.body) == coordinators
    )


def document_url(world: World) -> str:
    return reverse(
        "applications:document_download",
        kwargs={"pk": world.application.pk, "document_pk": world.document.pk},
    )


def allocation_url(world: World) -> str:
    return reverse("admin:competitions_competition_allocation", args=[world.call.pk])


# --- coordinators ----------------------------------------------------------------------------


def application_screens(world: World, client) -> dict[str, bool]:
    """The application in the admin's list and on its admin page, and its document."""
    application = world.application
    return {
        "the admin's list of applications": lists(
            client, reverse("admin:applications_application_changelist"), application.reference
        ),
        "the application's admin page": answers(
            client, reverse("admin:applications_application_change", args=[application.pk])
        ),
        "the document download": answers(client, document_url(world)),
    }


def coordinator_screens(world: World, user) -> dict[str, bool]:
    """Every screen that shows a coordinator what only coordinators see."""
    client = client_of(user)
    return {
        **application_screens(world, client),
        "the allocation screen": answers(client, allocation_url(world)),
        "the allocation's state": answers(
            client,
            reverse("admin:competitions_competition_allocation_state", args=[world.call.pk]),
        ),
        "the export": answers(
            client, reverse("admin:competitions_competition_export", args=[world.call.pk, "csv"])
        ),
        "the allocation ledger": answers(
            client, reverse("admin:applications_allocationevent_changelist")
        ),
        "the letters' register": answers(
            client, reverse("admin:applications_awardletter_changelist")
        ),
        "every reviewer's review": lists(
            client, reverse("admin:applications_review_changelist"), "reviewer1"
        ),
        "the call's tools": lists(
            client, reverse("admin:competitions_competition_changelist"), allocation_url(world)
        ),
        "the coordinators' mail": mailed_on_submission(world, user, coordinators=True),
        "the predicate": roles.is_coordinator(fresh(user)),
    }


def allocation_screens(world: World, user) -> dict[str, bool]:
    """Every place where a coordinator changes an awarded amount."""
    client = client_of(user)
    application = world.application
    before = Application.objects.get(pk=application.pk).awarded_amount
    posted = client.post(
        allocation_url(world),
        {"application": application.pk, "amount": "1000", "reason": "Pārbaude"},
    )
    after = Application.objects.get(pk=application.pk).awarded_amount
    return {
        "the amount's field": lists(client, allocation_url(world), f"id_award_{application.pk}_"),
        "the amount posted": posted.status_code == 302 and after != before,
        "the predicate": roles.can_allocate(fresh(user)),
    }


def in_group_without(role: str, permission: str):
    """A way to make a user: in the role's group, from which ``permission`` was taken."""

    def make(username: str):
        withhold(role, permission)
        return in_group(person(username), role)

    return make


def in_group_outside_the_admin(role: str):
    return lambda username: in_group(person(username, is_staff=False), role)


def in_the_group(role: str):
    return lambda username: in_group(person(username), role)


def given_the_groups_permissions(role: str):
    return lambda username: with_group_permissions(person(username), role)


def a_superuser(username: str):
    return person(username, is_superuser=True)


def given(role: str) -> dict:
    """The ways to give a user an admin role."""
    return {
        "in the group": in_the_group(role),
        "given the group's permissions without the group": given_the_groups_permissions(role),
        "a superuser": a_superuser,
    }


def withheld(role: str, permissions: list[str]) -> dict:
    """The ways to withhold an admin role: the group without each of ``permissions``, or on
    an account that may not enter the admin."""
    ways = {f"in the group without {p}": in_group_without(role, p) for p in permissions}
    ways["in the group, on an account that may not enter the admin"] = in_group_outside_the_admin(
        role
    )
    return ways


#: How the role is given or withheld: (a way to make the user, sees as a coordinator, allocates)
COORDINATORS = {
    **{way: (make, True, True) for way, make in given(roles.COORDINATORS).items()},
    **{
        way: (make, False, False)
        for way, make in withheld(
            roles.COORDINATORS,
            ["applications.view_application", "applications.view_allocationevent"],
        ).items()
    },
    "in the group without applications.change_application": (
        in_group_without(roles.COORDINATORS, "applications.change_application"),
        True,
        False,
    ),
}


@pytest.mark.parametrize("way", COORDINATORS)
def test_every_screen_agrees_on_who_is_a_coordinator(world, way):
    make, sees, allocates = COORDINATORS[way]
    user = make("person")
    assert_every_screen_says(coordinator_screens(world, user), sees)
    assert_every_screen_says(allocation_screens(world, user), allocates)


# --- reviewers -------------------------------------------------------------------------------


def reviewer_screens(world: World, user) -> dict[str, bool]:
    """Every screen of a reviewer assigned to the call."""
    client = client_of(user)
    application = world.application
    review_url = reverse("admin:applications_application_review", args=[application.pk])
    call_form = client_of(world.root).get(reverse("admin:competitions_competition_add"))
    return {
        **application_screens(world, client),
        "the review form": lists(client, review_url, 'id="review-form"'),
        "the review service": succeeds(
            services.review_record,
            application=application,
            reviewer=fresh(user),
            scores={c.pk: c.max_points for c in world.call.criteria.all()},
        ),
        "the call in the admin": lists(
            client, reverse("admin:competitions_competition_changelist"), world.call.title_lv
        ),
        "the call form's choice of reviewers": user
        in call_form.context["adminform"].form.fields["reviewers"].queryset,
        "the predicate": roles.reviews_call(fresh(user), world.call),
    }


#: How the role is given or withheld: (a way to make the user, reviews the call)
REVIEWERS = {
    **{way: (make, True) for way, make in given(roles.REVIEWERS).items()},
    **{
        way: (make, False)
        for way, make in withheld(
            roles.REVIEWERS, ["applications.add_review", "applications.view_application"]
        ).items()
    },
}


@pytest.mark.parametrize("way", REVIEWERS)
def test_every_screen_agrees_on_who_reviews_a_call(world, way):
    make, reviews = REVIEWERS[way]
    user = make("person")
    world.call.reviewers.add(user)
    assert_every_screen_says(reviewer_screens(world, user), reviews)


# --- municipal staff ---------------------------------------------------------------------------


def staff_screens(world: World, user) -> dict[str, bool]:
    """Every page, service and mail of the staff of the application's municipality."""
    client = client_of(user)
    application = world.application
    smiltene = application.municipality
    return {
        "the dashboard": lists(client, reverse("applications:dashboard"), application.reference),
        "the menu": lists(client, reverse("home"), f'href="{reverse("applications:dashboard")}"'),
        "the application's page": answers(client, application.get_absolute_url()),
        "the receipt": answers(client, reverse("applications:receipt", args=[application.pk])),
        "the withdrawal": answers(client, reverse("applications:withdraw", args=[application.pk])),
        "the document download": answers(client, document_url(world)),
        "the services": succeeds(
            services.application_start,
            competition=CompetitionFactory(),
            municipality=smiltene,
            by=fresh(user),
        ),
        "the staff's mail": mailed_on_submission(world, user, coordinators=False),
        "the predicate": roles.acts_for(fresh(user), smiltene),
    }


def on_staff(user):
    Municipality.objects.get(slug="smiltenes-novads").staff.add(user)
    return user


STAFF = {
    # How the role is given or withheld: (a way to make the user, acts for Smiltene)
    "on the municipality's staff, in the group": (
        lambda username: on_staff(in_group_outside_the_admin(roles.MUNICIPAL_STAFF)(username)),
        True,
    ),
    "on the municipality's staff, without the group": (
        lambda username: on_staff(person(username, is_staff=False)),
        True,
    ),
    "in the group, not on the municipality's staff": (
        in_group_outside_the_admin(roles.MUNICIPAL_STAFF),
        False,
    ),
}


@pytest.mark.parametrize("way", STAFF)
def test_every_screen_agrees_on_who_acts_for_a_municipality(world, way):
    make, acts = STAFF[way]
    assert_every_screen_says(staff_screens(world, make("person")), acts)
