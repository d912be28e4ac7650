"""Mail of the plan's agreement, in the portal's bilingual format (``applications.notifications``).

Called through ``transaction.on_commit`` by the services, so that nobody is told about a change
that was rolled back; a mail server that fails is logged and does not undo what was committed.
Recipients come from the role predicates: the municipality's staff (``acts_for``) and the
coordinators (``is_coordinator``).
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse

from applications.notifications import bilingual, emails, link, send
from competitions.roles import COORDINATORS, acts_for, is_coordinator

from .models import PlanVersion


def _coordinators() -> list:
    candidates = (
        get_user_model()
        .objects.filter(Q(groups__name=COORDINATORS) | Q(is_superuser=True), is_active=True)
        .distinct()
    )
    return [user for user in candidates if is_coordinator(user)]


def _staff(grant) -> list:
    return [user for user in grant.municipality.staff.all() if acts_for(user, grant.municipality)]


def _mail(template: str, version: PlanVersion, path: str, recipients: list[str], **context):
    subject, body = bilingual(
        template,
        {"version": version, "grant": version.grant, "link": link(path), **context},
    )
    send([(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)])


def plan_proposed(version: PlanVersion) -> None:
    """To the coordinators, linking the approval screen in the admin."""
    _mail(
        "emails/grants/plan_proposed.txt",
        version,
        reverse("admin:grants_planversion_approve", args=[version.pk]),
        emails(_coordinators()),
    )


def plan_returned(version: PlanVersion) -> None:
    """To the municipality's staff, with the coordinator's comment and the grant's page."""
    _mail(
        "emails/grants/plan_returned.txt",
        version,
        version.grant.get_absolute_url(),
        emails(_staff(version.grant)),
    )


def plan_approved(version: PlanVersion, *, award_before) -> None:
    """To the municipality's staff: the agreed total, and the award as it now stands."""
    _mail(
        "emails/grants/plan_approved.txt",
        version,
        version.grant.get_absolute_url(),
        emails(_staff(version.grant)),
        award_before=award_before,
    )
