"""Reminders of the reports a grant owes, found by ``manage.py send_reminders`` (run hourly;
docs/operations.md): a report due in 14 days, due in 3 days, and overdue, each sent once to
each of the municipality's staff (``competitions.reminders.once``, one record per grant,
report and kind).

A report is owed while no version of it is submitted or accepted; a returned report is owed
again. The interim report is no longer owed once the final report is submitted.
"""

from datetime import date, datetime

from django.db.models import Prefetch
from django.utils import timezone

from competitions.reminders import once

from . import notifications
from .models import Grant, Report, ReportKind, ReportStatus

#: The reminder's name, by how many days are left at most (overdue: fewer than none).
WINDOWS = [(-1, "overdue"), (3, "due_3"), (14, "due_14")]
#: Versions that answer the report: the municipality owes nothing while one exists.
ANSWERED = [ReportStatus.SUBMITTED, ReportStatus.ACCEPTED]


def reminder_for(due_on: date, today: date) -> str | None:
    """Which reminder is due ``today`` for a report due on ``due_on``, if any."""
    left = (due_on - today).days
    for most, name in WINDOWS:
        if left <= most:
            return name
    return None


def owed_reports(grant: Grant) -> list[tuple[str, date]]:
    """The reports a grant owes (kind, due date), from its prefetched ``answered`` reports."""
    competition = grant.application.competition
    answered = {report.kind for report in grant.answered}
    owed = []
    if (
        competition.interim_report_due_on
        and ReportKind.INTERIM not in answered
        and ReportKind.FINAL not in answered
    ):
        owed.append((ReportKind.INTERIM, competition.interim_report_due_on))
    if competition.report_due_on and ReportKind.FINAL not in answered:
        owed.append((ReportKind.FINAL, competition.report_due_on))
    return owed


def send_due(now: datetime) -> int:
    today = timezone.localdate(now)
    grants = (
        Grant.objects.filter(status__in=[Grant.Status.IN_PROGRESS, Grant.Status.REPORTING])
        .select_related("application__competition", "application__municipality")
        .prefetch_related(
            "application__municipality__staff",
            Prefetch(
                "reports",
                queryset=Report.objects.filter(status__in=ANSWERED).only("grant_id", "kind"),
                to_attr="answered",
            ),
        )
    )
    sent = 0
    for grant in grants:
        staff = [user for user in grant.application.municipality.staff.all() if user.is_active]
        for kind, due_on in owed_reports(grant):
            reminder = reminder_for(due_on, today)
            if reminder is None:
                continue
            sent += once(
                f"grants.report_{reminder}",
                f"grant:{grant.pk}:{kind}",
                staff,
                lambda users, grant=grant, kind=kind, due_on=due_on, reminder=reminder: (
                    notifications.report_due(kind, grant, due_on, reminder=reminder, users=users)
                ),
            )
    return sent
