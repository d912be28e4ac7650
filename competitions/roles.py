"""Who may do what in the portal: the three roles, and the one set of predicates that every
screen, queryset, service and mail asks.

The rule. Coordinators and reviewers work in the admin: each is recognised by the model
permissions its work needs, on an active account that may enter the admin (``is_staff``).
Their group gives them those permissions; so does a permission given to the user directly,
and a superuser holds every one, so counts as a coordinator. The group's name decides nothing.
Which objects a reviewer reaches is the call's list of reviewers (``Competition.reviewers``).

Municipal staff work in the portal's own pages, never in the admin. What lets them act for a
municipality is being on its staff (``Municipality.staff``), where a superuser puts them;
their group's model permissions are what the admin would allow them, and no page asks them.
No one is both: whoever ``holds_authority`` is never on a municipality's staff.

``competitions`` imports no other app of the portal, so the permissions of ``applications``
are named here as strings.
"""

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from .models import Competition, Municipality

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
        "grants.view_payment",
        "grants.view_report",
        "grants.add_report",
        "grants.change_report",
        "grants.view_reportline",
        "grants.change_reportline",
        "grants.view_reportdocument",
        "grants.add_reportdocument",
        "grants.delete_reportdocument",
        "conversations.view_message",
        "conversations.add_message",
        "conversations.view_objection",
        "conversations.add_objection",
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
        "conversations.view_message",
        "conversations.add_message",
    ],
    # A municipality's staff is changed by a superuser only (municipality_set_staff): a
    # coordinator who could put themselves on it could apply for it and allocate to it.
    COORDINATORS: [
        "competitions.view_municipality",
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
        "grants.view_payment",
        "grants.add_payment",
        "grants.view_report",
        "grants.change_report",
        "grants.view_reportline",
        "grants.view_reportdocument",
        "conversations.view_message",
        "conversations.add_message",
        "conversations.view_objection",
        "conversations.change_objection",
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
        # Quiet, and with the historical models, which differ from today's only mid-migration.
        create_permissions(app_config, verbosity=0, apps=apps)  # pragma: no mutate
        app_config.models_module = None  # pragma: no mutate (any false value restores it)

    # Model names are looked up without regard to case.
    group_model = apps.get_model("auth", "Group")  # pragma: no mutate
    permission_model = apps.get_model("auth", "Permission")  # pragma: no mutate
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


# --- the permissions each role's predicates read ------------------------------------------------

#: A coordinator reads every submitted application and the allocation ledger, which only
#: coordinators may read.
COORDINATOR_PERMISSIONS = ("applications.view_application", "applications.view_allocationevent")
#: Changing awarded amounts, on top of a coordinator's.
ALLOCATOR_PERMISSIONS = (*COORDINATOR_PERMISSIONS, "applications.change_application")
#: Recording a call's decision, on top of an allocator's.
DECIDER_PERMISSIONS = (*ALLOCATOR_PERMISSIONS, "competitions.change_competition")
#: Issuing decision letters, on top of a coordinator's.
LETTER_ISSUER_PERMISSIONS = (*COORDINATOR_PERMISSIONS, "applications.add_awardletter")
#: A reviewer reads the applications of their calls and records reviews of them.
REVIEWER_PERMISSIONS = ("applications.view_application", "applications.add_review")

# with_perm() must be told which backend to ask when several are configured (django-axes'
# is first and answers no permission question).
PERMISSION_BACKEND = "django.contrib.auth.backends.ModelBackend"


# --- one user ------------------------------------------------------------------------------------


def works_in_admin(user) -> bool:
    """An active account that may enter the admin."""
    return user.is_authenticated and user.is_active and user.is_staff


def _holds(user, permissions: tuple[str, ...]) -> bool:
    # Django reads a user's permissions once and keeps them on the user for the request.
    return works_in_admin(user) and user.has_perms(permissions)


def is_coordinator(user) -> bool:
    """Sees every submitted application with its scores, rank and money, and every review."""
    return _holds(user, COORDINATOR_PERMISSIONS)


def can_download_job_file(user, job) -> bool:
    """A job's file (a call's export) is its starter's, while they may still export: it holds
    what a coordinator sees, and another coordinator builds their own."""
    return job.started_by_id == user.pk and is_coordinator(user)


def can_allocate(user) -> bool:
    return _holds(user, ALLOCATOR_PERMISSIONS)


def can_decide(user) -> bool:
    return _holds(user, DECIDER_PERMISSIONS)


def can_issue_letters(user) -> bool:
    return _holds(user, LETTER_ISSUER_PERMISSIONS)


def is_reviewer(user) -> bool:
    """May review the calls they are assigned to."""
    return _holds(user, REVIEWER_PERMISSIONS)


def holds_authority(user) -> bool:
    """Works for the authority in the admin (a coordinator or a reviewer, a superuser too):
    may never act for a municipality, whose applications the authority judges."""
    return user.is_superuser or is_coordinator(user) or is_reviewer(user)


def grants_authority(*, is_staff: bool, is_superuser: bool, permissions: set[str]) -> bool:
    """Whether an account with these flags and permissions (``app_label.codename``, from its
    groups and its own) would hold an authority role: ``holds_authority`` for an account
    being edited, before it is saved."""
    if is_superuser:
        return True
    return is_staff and any(
        set(needed) <= permissions for needed in (COORDINATOR_PERMISSIONS, REVIEWER_PERMISSIONS)
    )


def reviews_call(user, competition: Competition) -> bool:
    """A reviewer assigned to this call."""
    return is_reviewer(user) and competition.reviewers.filter(pk=user.pk).exists()


def acts_for(user, municipality: Municipality, *, on_staff: bool | None = None) -> bool:
    """On the municipality's staff: may apply for it, and may not review its applications.

    ``on_staff``: whether the user is on its staff, where the caller has read that already
    (``acting_for``, with the row it locks); asked of the database otherwise."""
    if not (user.is_authenticated and user.is_active):
        return False
    if on_staff is None:
        return municipality.staff.filter(pk=user.pk).exists()
    return on_staff


def municipalities_of(user) -> QuerySet[Municipality]:
    """The municipalities the user acts for."""
    if not (user.is_authenticated and user.is_active):
        return Municipality.objects.none()
    return Municipality.objects.filter(staff=user)


def is_municipal_staff(user) -> bool:
    """Acts for at least one municipality."""
    return municipalities_of(user).exists()


# --- rows a user reaches, for querysets --------------------------------------------------------


def acting_for(user, *, municipality_id: str = "municipality_id") -> Exists:
    """Rows whose municipality (the field ``municipality_id`` names) the user acts for."""
    return Exists(
        Municipality.staff.through.objects.filter(
            municipality_id=OuterRef(municipality_id), user_id=user.pk
        )
    )


def reviewing(user, *, competition_id: str = "competition_id") -> Exists | Q:
    """Rows of the calls (the field ``competition_id`` names) the user reviews; none unless
    the user is a reviewer."""
    if not is_reviewer(user):
        return Q(pk__in=[])
    return Exists(
        Competition.reviewers.through.objects.filter(
            competition_id=OuterRef(competition_id), user_id=user.pk
        )
    )


# --- the people of a role, for mail and choices ------------------------------------------------


def _holders(permissions: tuple[str, ...]) -> QuerySet:
    users = get_user_model().objects
    # ``with_perm`` leaves inactive accounts out (its ``is_active=True``).
    holders = users.filter(is_staff=True)
    for permission in permissions:
        holders = holders.filter(
            pk__in=users.with_perm(permission, backend=PERMISSION_BACKEND).values("pk")
        )
    return holders


def coordinators() -> QuerySet:
    """Everyone ``is_coordinator`` says yes to."""
    return _holders(COORDINATOR_PERMISSIONS)


def reviewers() -> QuerySet:
    """Everyone ``is_reviewer`` says yes to: those a call may be given as its reviewers."""
    return _holders(REVIEWER_PERMISSIONS)


def staff_of(municipality: Municipality) -> QuerySet:
    """Everyone who acts for the municipality."""
    return municipality.staff.filter(is_active=True)


def staff_by_municipality(municipality_ids) -> dict[int, list]:
    """``staff_of`` each of the municipalities, by its id, in two queries."""
    places = Municipality.objects.filter(pk__in=set(municipality_ids)).prefetch_related(
        Prefetch("staff", queryset=get_user_model().objects.filter(is_active=True))
    )
    return {place.pk: list(place.staff.all()) for place in places}


def staff_of_any(municipalities) -> QuerySet:
    """Everyone who acts for any of the municipalities, each once."""
    return (
        get_user_model()
        .objects.filter(is_active=True, municipalities__in=municipalities)
        .distinct()
    )


def may_sign_for(user, municipality: Municipality) -> bool:
    """May accept or sign an agreement for the municipality: a member of its staff whom its
    record names among its signatories."""
    return acts_for(user, municipality) and municipality.signatories.filter(pk=user.pk).exists()
