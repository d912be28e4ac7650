"""Each predicate of ``competitions.roles`` asked directly, for every way a role is held or
withheld: the permissions it needs on an active account that may enter the admin, a superuser,
a municipality's staff and signatories. The screens ask these (tests/test_roles.py); here each
answer is checked on its own, so that a predicate that says yes too often or too rarely fails
by name."""

import pytest
from django.apps import apps as installed_apps
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db.migrations.state import ProjectState

from competitions import roles
from competitions.models import Competition, Municipality

from .factories import (
    CompetitionFactory,
    UserFactory,
    coordinator,
    municipality,
    reviewer,
    staff_of,
)

pytestmark = pytest.mark.django_db

PREDICATES = (
    roles.works_in_admin,
    roles.is_coordinator,
    roles.can_allocate,
    roles.can_decide,
    roles.can_issue_letters,
    roles.is_reviewer,
    roles.holds_authority,
)


def with_permissions(username, permissions, **fields):
    user = UserFactory(username=username, **{"is_staff": True, **fields})
    for code in permissions:
        app_label, codename = code.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return type(user).objects.get(pk=user.pk)


def answers(user) -> tuple[bool, ...]:
    return tuple(predicate(user) for predicate in PREDICATES)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        # works_in_admin, coordinator, allocate, decide, letters, reviewer, authority
        (lambda: AnonymousUser(), (False,) * 7),
        (lambda: coordinator("boss"), (True, True, True, True, True, False, True)),
        (
            lambda: with_permissions("reader", roles.COORDINATOR_PERMISSIONS),
            (True, True, False, False, False, False, True),
        ),
        (
            lambda: with_permissions("allocator", roles.ALLOCATOR_PERMISSIONS),
            (True, True, True, False, False, False, True),
        ),
        (
            lambda: with_permissions("decider", roles.DECIDER_PERMISSIONS),
            (True, True, True, True, False, False, True),
        ),
        (
            lambda: with_permissions("issuer", roles.LETTER_ISSUER_PERMISSIONS),
            (True, True, False, False, True, False, True),
        ),
        (
            lambda: with_permissions("half", roles.COORDINATOR_PERMISSIONS[:1]),
            (True, False, False, False, False, False, False),
        ),
        (lambda: reviewer("judge"), (True, False, False, False, False, True, True)),
        (
            lambda: with_permissions("outside", roles.DECIDER_PERMISSIONS, is_staff=False),
            (False, False, False, False, False, False, False),
        ),
        (
            lambda: with_permissions("asleep", roles.DECIDER_PERMISSIONS, is_active=False),
            (False, False, False, False, False, False, False),
        ),
        (
            lambda: UserFactory(username="root", is_staff=True, is_superuser=True),
            (True, True, True, True, True, True, True),
        ),
        (
            lambda: UserFactory(username="root-outside", is_staff=False, is_superuser=True),
            (False, False, False, False, False, False, True),
        ),
        (lambda: staff_of("cesu-novads", "clerk"), (False,) * 7),
    ],
)
def test_each_predicate_of_each_kind_of_user(make, expected):
    assert answers(make()) == expected


@pytest.mark.parametrize(
    ("is_staff", "is_superuser", "permissions", "expected"),
    [
        (False, True, set(), True),
        (True, False, set(roles.COORDINATOR_PERMISSIONS), True),
        (True, False, set(roles.REVIEWER_PERMISSIONS), True),
        (True, False, {*roles.DECIDER_PERMISSIONS, "grants.view_grant"}, True),
        (True, False, {roles.COORDINATOR_PERMISSIONS[1], roles.REVIEWER_PERMISSIONS[1]}, False),
        (True, False, set(), False),
        (False, False, set(roles.DECIDER_PERMISSIONS) | set(roles.REVIEWER_PERMISSIONS), False),
    ],
)
def test_an_account_being_edited_would_hold_authority(
    is_staff, is_superuser, permissions, expected
):
    assert (
        roles.grants_authority(
            is_staff=is_staff, is_superuser=is_superuser, permissions=permissions
        )
        is expected
    )


def test_acting_for_a_municipality_needs_an_active_account_on_its_staff():
    cesis, valka = municipality("cesu-novads"), municipality("valkas-novads")
    clerk = staff_of("cesu-novads", "clerk")
    asleep = staff_of("cesu-novads", "asleep")
    asleep.is_active = False
    asleep.save()
    both = staff_of("cesu-novads", "both")
    valka.staff.add(both)
    anonymous = AnonymousUser()
    assert (roles.acts_for(clerk, cesis), roles.acts_for(clerk, valka)) == (True, False)
    assert (roles.acts_for(asleep, cesis), roles.acts_for(anonymous, cesis)) == (False, False)
    assert list(roles.municipalities_of(clerk)) == [cesis]
    assert set(roles.municipalities_of(both)) == {cesis, valka}
    assert not roles.municipalities_of(asleep).exists()
    assert not roles.municipalities_of(anonymous).exists()
    assert (roles.is_municipal_staff(clerk), roles.is_municipal_staff(asleep)) == (True, False)
    assert not roles.is_municipal_staff(coordinator("boss"))
    assert list(roles.staff_of(cesis).order_by("username")) == [both, clerk]
    assert list(roles.staff_of_any([cesis, valka]).order_by("username")) == [both, clerk]
    # The same people by municipality, for the mail of many applications at once: each place
    # asked for (once, however often named), its active staff only, none for a place without.
    quiet = municipality("smiltenes-novads")
    by_place = roles.staff_by_municipality([cesis.pk, valka.pk, cesis.pk, quiet.pk])
    assert {place: sorted(u.username for u in people) for place, people in by_place.items()} == {
        cesis.pk: ["both", "clerk"],
        valka.pk: ["both"],
        quiet.pk: [],
    }
    assert roles.staff_by_municipality([]) == {}
    mine = Municipality.objects.filter(roles.acting_for(both, municipality_id="pk"))
    assert set(mine) == {cesis, valka}
    assert not Municipality.objects.filter(roles.acting_for(anonymous, municipality_id="pk"))


def test_only_a_staff_member_named_among_the_signatories_signs():
    cesis = municipality("cesu-novads")
    signer, clerk = staff_of("cesu-novads", "signer"), staff_of("cesu-novads", "clerk")
    outsider = UserFactory(username="outsider")
    cesis.signatories.add(signer, outsider)
    assert roles.may_sign_for(signer, cesis)
    assert not roles.may_sign_for(clerk, cesis)
    assert not roles.may_sign_for(outsider, cesis)


def test_a_reviewer_reviews_only_the_calls_that_name_them():
    mine, other = CompetitionFactory(), CompetitionFactory()
    judge, idle = reviewer("judge"), reviewer("idle")
    listed_without_role = UserFactory(username="listed")
    mine.reviewers.add(judge, listed_without_role)
    assert (roles.reviews_call(judge, mine), roles.reviews_call(judge, other)) == (True, False)
    assert not roles.reviews_call(idle, mine)
    assert not roles.reviews_call(listed_without_role, mine)
    reviewed = Competition.objects.filter(roles.reviewing(judge, competition_id="pk"))
    assert list(reviewed) == [mine]
    assert not Competition.objects.filter(roles.reviewing(idle, competition_id="pk")).exists()
    assert not Competition.objects.filter(
        roles.reviewing(listed_without_role, competition_id="pk")
    ).exists()


def test_the_people_of_a_role_are_the_active_accounts_the_predicates_say_yes_to():
    boss, judge = coordinator("boss"), reviewer("judge")
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    reader = with_permissions("reader", roles.COORDINATOR_PERMISSIONS)
    with_permissions("half", roles.COORDINATOR_PERMISSIONS[:1])
    with_permissions("outside", roles.DECIDER_PERMISSIONS, is_staff=False)
    with_permissions("asleep", roles.DECIDER_PERMISSIONS, is_active=False)
    staff_of("cesu-novads", "clerk")
    assert set(roles.coordinators()) == {boss, root, reader}
    assert set(roles.reviewers()) == {judge, root}


def test_the_role_groups_are_given_exactly_their_listed_permissions_again():
    Group.objects.get(name=roles.REVIEWERS).delete()
    coordinators = Group.objects.get(name=roles.COORDINATORS)
    coordinators.permissions.add(Permission.objects.get(codename="delete_competition"))
    # A permission missing from the database is made again; one of the same codename in
    # another app is not taken for it.
    Permission.objects.get(content_type__app_label="grants", codename="add_payment").delete()
    Permission.objects.create(
        content_type=ContentType.objects.get_for_model(Group),
        codename="view_competition",
        name="A decoy of the same codename",
    )
    roles.sync_role_groups(ProjectState.from_apps(installed_apps).apps)
    for role, codes in roles.ROLE_PERMISSIONS.items():
        held = Group.objects.get(name=role).permissions.values_list(
            "content_type__app_label", "codename"
        )
        assert {f"{app}.{codename}" for app, codename in held} == set(codes), role
