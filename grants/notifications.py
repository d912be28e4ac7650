"""Mail about grants: the plan's agreement and the agreement's signatures.

Called through ``transaction.on_commit`` by the services, so that nobody is told about a change
that was rolled back; a mail server that fails is logged and does not undo what was committed.
Written in each recipient's language by the helpers of ``applications.notifications``, to the
people the role predicates name: the municipality's staff and the coordinators.
"""

from django.urls import reverse

from applications.notifications import mails, send
from competitions import roles

from .models import PlanVersion


def _mail(template: str, path: str, recipients, **context) -> None:
    send(mails(template, recipients, context, path=path))


# --- the plan -------------------------------------------------------------------------------


def plan_proposed(version: PlanVersion) -> None:
    """To the coordinators, linking the approval screen in the admin."""
    _mail(
        "emails/grants/plan_proposed.txt",
        reverse("admin:grants_planversion_approve", args=[version.pk]),
        roles.coordinators(),
        version=version,
        grant=version.grant,
    )


def plan_returned(version: PlanVersion) -> None:
    """To the municipality's staff, with the coordinator's comment and the grant's page."""
    _mail(
        "emails/grants/plan_returned.txt",
        version.grant.get_absolute_url(),
        roles.staff_of(version.grant.municipality),
        version=version,
        grant=version.grant,
    )


def plan_approved(version: PlanVersion, *, award_before) -> None:
    """To the municipality's staff: the agreed total, and the award as it now stands."""
    _mail(
        "emails/grants/plan_approved.txt",
        version.grant.get_absolute_url(),
        roles.staff_of(version.grant.municipality),
        version=version,
        grant=version.grant,
        award_before=award_before,
    )


# --- the agreement --------------------------------------------------------------------------


def _to_municipality(agreement, template: str) -> None:
    grant = agreement.grant
    _mail(
        template,
        reverse("grants:agreement", args=[grant.pk]),
        roles.staff_of(grant.municipality),
        agreement=agreement,
        grant=grant,
    )


def agreement_issued(agreement) -> None:
    """To the municipality's staff: the agreement is ready to be accepted or signed."""
    _to_municipality(agreement, "emails/grants/agreement_issued.txt")


def agreement_countersigned(agreement) -> None:
    """To the municipality's staff: the region has countersigned, the grant is in progress."""
    _to_municipality(agreement, "emails/grants/agreement_countersigned.txt")


def agreement_signed_by_municipality(agreement) -> None:
    """To the coordinators: the municipality has accepted or signed; countersign in the admin."""
    _mail(
        "emails/grants/agreement_signed.txt",
        reverse("admin:grants_agreement_countersign", args=[agreement.pk]),
        roles.coordinators(),
        agreement=agreement,
        grant=agreement.grant,
    )
