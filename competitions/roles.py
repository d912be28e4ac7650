"""The portal's three roles, as Django groups, and the model permissions each holds.

Model permissions say what a role may do at all; which objects it may do it to (its own
municipality, the calls it reviews) is checked by the views and the admin on top of them.
"""

from django.contrib.auth.models import Group

MUNICIPAL_STAFF = "Municipal staff"
REVIEWERS = "Reviewers"
COORDINATORS = "Coordinators"

ROLE_PERMISSIONS: dict[str, list[str]] = {
    MUNICIPAL_STAFF: [
        "competitions.view_competition",
        "applications.view_application",
        "applications.add_application",
        "applications.change_application",
        "applications.delete_application",
        "applications.view_plannedactivity",
        "applications.add_plannedactivity",
        "applications.change_plannedactivity",
        "applications.delete_plannedactivity",
        "applications.view_supportingdocument",
        "applications.add_supportingdocument",
        "applications.delete_supportingdocument",
        "applications.view_awardletter",
        "grants.view_grant",
        "grants.change_grant",
        "grants.view_planversion",
        "grants.add_planversion",
        "grants.change_planversion",
        "grants.view_planline",
        "grants.add_planline",
        "grants.change_planline",
        "grants.delete_planline",
        "grants.view_agreement",
        "grants.change_agreement",
    ],
    REVIEWERS: [
        "competitions.view_competition",
        "competitions.view_scoringcriterion",
        "applications.view_application",
        "applications.view_plannedactivity",
        "applications.view_supportingdocument",
        "applications.view_review",
        "applications.add_review",
        "applications.change_review",
        "applications.view_criterionscore",
    ],
    COORDINATORS: [
        "competitions.view_municipality",
        "competitions.change_municipality",
        "competitions.view_activitycategory",
        "competitions.view_competition",
        "competitions.add_competition",
        "competitions.change_competition",
        "competitions.view_scoringcriterion",
        "competitions.add_scoringcriterion",
        "competitions.change_scoringcriterion",
        "competitions.delete_scoringcriterion",
        "applications.view_application",
        "applications.change_application",
        "applications.view_plannedactivity",
        "applications.view_supportingdocument",
        "applications.view_review",
        "applications.view_criterionscore",
        "applications.view_allocationevent",
        "applications.view_awardletter",
        "applications.add_awardletter",
        "grants.view_grant",
        "grants.view_planversion",
        "grants.change_planversion",
        "grants.view_planline",
        "grants.view_agreement",
        "grants.add_agreement",
        "grants.change_agreement",
    ],
}


def sync_role_groups(apps) -> None:
    """Create the role groups and give each exactly the permissions listed above.

    Called by data migrations with their historical ``apps``; a permission whose model does
    not exist yet at that point of the migration graph is left for a later migration.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None

    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, codes in ROLE_PERMISSIONS.items():
        group, _created = group_model.objects.get_or_create(name=role)
        wanted = []
        for code in codes:
            app_label, codename = code.split(".")
            permission = permission_model.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:
                wanted.append(permission)
        group.permissions.set(wanted)


def user_has_role(user, role: str) -> bool:
    if not user.is_authenticated:
        return False
    return user.groups.filter(name=role).exists()


def add_user_to_role(user, role: str) -> None:
    user.groups.add(Group.objects.get(name=role))


def is_coordinator(user) -> bool:
    """Coordinators (and superusers) see and decide every call and every grant."""
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or user_has_role(user, COORDINATORS)


def acts_for(user, municipality) -> bool:
    """Whether the user is among the municipality's staff."""
    if not (user.is_authenticated and user.is_active):
        return False
    return municipality.staff.filter(pk=user.pk).exists()


def may_sign_for(user, municipality) -> bool:
    """Whether the user may accept or sign an agreement for the municipality: a staff member
    whom the municipality's record names among its signatories."""
    return acts_for(user, municipality) and municipality.signatories.filter(pk=user.pk).exists()
