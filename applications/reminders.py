"""Reminders of a call's deadline, found by ``manage.py send_reminders`` (each sent once, see
``competitions.reminders``):

- 14 days before the deadline, to the staff of each eligible municipality that has not started
  an application (``applications.outreach_14``);
- 7 days and 1 day before it, to the staff of each municipality whose draft is not submitted
  (``applications.deadline_7``, ``applications.deadline_1``).

A run that comes late still sends what is due: a draft opened 3 days before the deadline gets
the 7-day reminder at the next run, and the 1-day one on the last day.
"""

from datetime import timedelta

from django.urls import reverse

from competitions import roles
from competitions.models import Competition
from competitions.reminders import once

from . import notifications
from .models import Application, ApplicationStatus

OUTREACH = timedelta(days=14)
DEADLINE_REMINDERS = (
    ("applications.deadline_1", timedelta(days=1)),
    ("applications.deadline_7", timedelta(days=7)),
)


def send_due(now) -> int:
    sent = 0
    calls = Competition.objects.open_at(now).filter(closes_at__lte=now + OUTREACH)
    for competition in calls.prefetch_related("eligible_municipalities"):
        sent += _outreach(competition)
        sent += _deadline(competition, now)
    return sent


def _outreach(competition: Competition) -> int:
    started = Application.objects.filter(competition=competition).values("municipality_id")
    sent = 0
    for municipality in competition.eligible_municipalities.exclude(pk__in=started):
        sent += once(
            "applications.outreach_14",
            f"competition:{competition.pk}",
            roles.staff_of(municipality),
            lambda users, competition=competition: notifications.send(
                notifications.mails(
                    "emails/reminders/outreach.txt",
                    users,
                    {"competition": competition},
                    path=competition.get_absolute_url(),
                )
            ),
        )
    return sent


def _deadline(competition: Competition, now) -> int:
    """The nearest reminder whose moment has come: the 1-day one on the last day, the 7-day
    one in the week before it."""
    kind = next(
        (kind for kind, before in DEADLINE_REMINDERS if now >= competition.closes_at - before),
        None,
    )
    if kind is None:
        return 0
    sent = 0
    drafts = Application.objects.filter(
        competition=competition, status=ApplicationStatus.DRAFT
    ).select_related("municipality", "competition")
    for application in drafts:
        sent += once(
            kind,
            f"application:{application.pk}",
            roles.staff_of(application.municipality),
            lambda users, application=application: notifications.send(
                notifications.mails(
                    "emails/reminders/deadline.txt",
                    users,
                    {"application": application, "competition": application.competition},
                    path=reverse("applications:edit", args=[application.pk]),
                )
            ),
        )
    return sent
