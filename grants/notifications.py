"""Mail about grants: the plan's agreement, the agreement's signatures, the payments and the
reports, a declined award and a closed grant.

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


def grant_declined(grant, *, amount) -> None:
    """To the coordinators: the municipality has declined its award of ``amount`` (returned to
    the call's pool), with its reason, linking the grant in the admin."""
    _mail(
        "emails/grants/grant_declined.txt",
        reverse("admin:grants_grant_change", args=[grant.pk]),
        roles.coordinators(),
        grant=grant,
        amount=amount,
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


# --- payments and reports -------------------------------------------------------------------


def payment_recorded(payment) -> None:
    """To the municipality's staff: a payment made to it, or its repayment received."""
    grant = payment.grant
    _mail(
        "emails/grants/payment_recorded.txt",
        grant.get_absolute_url(),
        roles.staff_of(grant.municipality),
        payment=payment,
        grant=grant,
    )


def report_submitted(report) -> None:
    """To the coordinators, linking the review screen in the admin."""
    _mail(
        "emails/grants/report_submitted.txt",
        reverse("admin:grants_report_review", args=[report.pk]),
        roles.coordinators(),
        report=report,
        grant=report.grant,
    )


def _report_to_municipality(report, template: str) -> None:
    grant = report.grant
    _mail(
        template,
        reverse("grants:report", args=[grant.pk, report.kind]),
        roles.staff_of(grant.municipality),
        report=report,
        grant=grant,
        lines=list(report.lines.select_related("plan_line").order_by("position")),
    )


def report_returned(report) -> None:
    """To the municipality's staff, with the coordinator's comments."""
    _report_to_municipality(report, "emails/grants/report_returned.txt")


def report_accepted(report) -> None:
    """To the municipality's staff: what was accepted, with the reasons where less."""
    _report_to_municipality(report, "emails/grants/report_accepted.txt")


def grant_closed(grant) -> None:
    """To the municipality's staff: the grant is closed, with its settled totals."""
    _mail(
        "emails/grants/grant_closed.txt",
        grant.get_absolute_url(),
        roles.staff_of(grant.municipality),
        grant=grant,
    )


def report_due(report_kind: str, grant, due_on, *, reminder: str, users) -> None:
    """A reminder (``grants.reminders``): the report is due in 14 or 3 days, or overdue."""
    _mail(
        f"emails/grants/report_{reminder}.txt",
        reverse("grants:report", args=[grant.pk, report_kind]),
        users,
        grant=grant,
        kind=report_kind,
        due_on=due_on,
    )
