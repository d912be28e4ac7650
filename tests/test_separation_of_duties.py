"""Who works for the authority (coordinator, reviewer, superuser) never acts for a
municipality, and the other way round; only a superuser changes a municipality's staff, and
every change is recorded with who made it."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from competitions import roles
from competitions.forms import MunicipalityForm
from competitions.models import StaffChange
from competitions.services import municipality_set_staff

from .factories import UserFactory, coordinator, municipality, reviewer, staff_of

pytestmark = pytest.mark.django_db


def superuser(username="admin"):
    return UserFactory(username=username, is_staff=True, is_superuser=True)


def codes(error: ValidationError) -> set[str]:
    return {e.code for e in error.error_list}


def test_a_coordinator_cannot_change_a_municipalitys_staff_in_the_service():
    place = municipality("cesu-novads")
    boss = coordinator()
    with pytest.raises(ValidationError) as refused:
        municipality_set_staff(municipality=place, staff=[boss], signatories=[], by=boss)
    assert codes(refused.value) == {"staff_change_not_allowed"}
    assert not place.staff.filter(pk=boss.pk).exists()
    assert not StaffChange.objects.exists()


@pytest.mark.parametrize("who", ["coordinator", "reviewer", "superuser"])
def test_no_one_who_works_for_the_authority_can_be_put_on_a_municipalitys_staff(who):
    place = municipality("cesu-novads")
    authority = {"coordinator": coordinator, "reviewer": reviewer, "superuser": superuser}[who](
        f"the-{who}"
    )
    with pytest.raises(ValidationError) as refused:
        municipality_set_staff(
            municipality=place, staff=[authority], signatories=[], by=superuser("root")
        )
    assert codes(refused.value) == {"authority_as_staff"}
    assert f"the-{who}" in str(refused.value)
    assert not roles.acts_for(authority, place)


def test_a_superuser_changes_the_staff_and_the_change_is_recorded_with_who_made_it():
    place = municipality("cesu-novads")
    old = staff_of("cesu-novads", "old-member")
    new = UserFactory(username="new-member")
    root = superuser()
    municipality_set_staff(municipality=place, staff=[new], signatories=[new], by=root)
    assert list(place.staff.all()) == [new]
    assert list(place.signatories.all()) == [new]
    change = StaffChange.objects.get()
    assert (change.municipality, change.changed_by) == (place, root)
    assert (change.added, change.removed, change.signatories) == (
        ["new-member"],
        ["old-member"],
        ["new-member"],
    )
    assert not roles.acts_for(old, place)


def test_a_signatory_must_be_on_the_staff_in_the_service_too():
    place = municipality("cesu-novads")
    member, outsider = UserFactory(username="member"), UserFactory(username="outsider")
    with pytest.raises(ValidationError) as refused:
        municipality_set_staff(
            municipality=place, staff=[member], signatories=[outsider], by=superuser()
        )
    assert codes(refused.value) == {"signatory_not_staff"}


def test_coordinators_no_longer_hold_the_permission_to_change_municipalities():
    group = Group.objects.get(name=roles.COORDINATORS)
    assert not group.permissions.filter(codename="change_municipality").exists()
    assert group.permissions.filter(codename="view_municipality").exists()


def test_the_municipality_form_refuses_an_authority_user_on_the_staff():
    place = municipality("cesu-novads")
    boss = coordinator()
    form = MunicipalityForm(
        data={"name": place.name, "slug": place.slug, "staff": [boss.pk], "signatories": []},
        instance=place,
    )
    assert not form.is_valid()
    assert [e.code for e in form.errors.as_data()["staff"]] == ["authority_as_staff"]


def test_in_the_admin_a_coordinator_cannot_add_themselves_to_a_municipalitys_staff():
    place = municipality("cesu-novads")
    boss = coordinator()
    client = Client()
    client.force_login(boss)
    url = reverse("admin:competitions_municipality_change", args=[place.pk])
    assert client.get(url).status_code == 200  # read only
    data = {"name": place.name, "slug": place.slug, "staff": [boss.pk], "signatories": []}
    data.update({"staff_changes-TOTAL_FORMS": "0", "staff_changes-INITIAL_FORMS": "0"})
    assert client.post(url, data).status_code == 403
    assert not place.staff.filter(pk=boss.pk).exists()


def test_in_the_admin_a_superuser_changes_the_staff_through_the_service():
    place = municipality("cesu-novads")
    root, member, boss = superuser(), UserFactory(username="member"), coordinator()
    client = Client()
    client.force_login(root)
    url = reverse("admin:competitions_municipality_change", args=[place.pk])
    data = {"name": place.name, "slug": place.slug, "signatories": []}
    data.update({"staff_changes-TOTAL_FORMS": "0", "staff_changes-INITIAL_FORMS": "0"})
    refused = client.post(url, {**data, "staff": [boss.pk, member.pk]})
    assert refused.status_code == 200
    assert "authority_as_staff" in {
        e.code for e in refused.context["adminform"].form.errors.as_data()["staff"]
    }
    assert client.post(url, {**data, "staff": [member.pk]}).status_code == 302
    assert list(place.staff.all()) == [member]
    assert StaffChange.objects.get().changed_by == root


def user_form(user, **changes):
    data = {
        "username": user.username,
        "email": user.email,
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "10:00:00",
        "groups": [g.pk for g in user.groups.all()],
        "user_permissions": [],
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not False}


@pytest.mark.parametrize(
    "changes",
    [
        {"is_staff": "on", "groups": "reviewers"},
        {"is_staff": "on", "groups": "coordinators"},
        {"is_staff": "on", "is_superuser": "on"},
        {"is_staff": "on", "user_permissions": "reviewer permissions"},
    ],
    ids=["reviewer group", "coordinator group", "superuser", "reviewer permissions"],
)
def test_the_users_admin_gives_no_authority_role_to_a_municipalitys_staff(changes):
    member = staff_of("cesu-novads", "member")
    client = Client()
    client.force_login(superuser())
    if changes.get("groups") == "reviewers":
        changes["groups"] = [Group.objects.get(name=roles.REVIEWERS).pk]
    if changes.get("groups") == "coordinators":
        changes["groups"] = [Group.objects.get(name=roles.COORDINATORS).pk]
    if changes.get("user_permissions") == "reviewer permissions":
        changes["user_permissions"] = [
            Permission.objects.get(
                content_type__app_label=code.split(".")[0], codename=code.split(".")[1]
            ).pk
            for code in roles.REVIEWER_PERMISSIONS
        ]
    url = reverse("admin:auth_user_change", args=[member.pk])
    response = client.post(url, user_form(member, **changes))
    assert response.status_code == 200, response.status_code
    errors = response.context["adminform"].form.non_field_errors().as_data()
    assert [e.code for e in errors] == ["staff_as_authority"]
    member.refresh_from_db()
    assert not member.is_staff
    assert not member.is_superuser
    assert not roles.holds_authority(member)
    # Without the authority's permissions the same form saves.
    assert client.post(url, user_form(member, first_name="Anna")).status_code == 302
