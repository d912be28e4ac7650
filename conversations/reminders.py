"""Reminders of requests for clarification, found by ``manage.py send_reminders`` (each sent
once, see ``competitions.reminders``): to the municipality's staff the day before an open
request is due (``conversations.request_due``), and once it is overdue
(``conversations.request_overdue``)."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from applications.notifications import mails, send
from competitions import roles
from competitions.reminders import once

from .models import Message


def send_due(now) -> int:
    today = timezone.localdate(now)
    sent = 0
    requests = (
        Message.objects.open_requests()
        .filter(due_on__lte=today + timedelta(days=1))
        .select_related("application__municipality", "application__competition")
    )
    for request in requests:
        overdue = request.due_on < today
        if not overdue and request.due_on != today + timedelta(days=1):
            continue  # due today: reminded yesterday; overdue from tomorrow
        sent += once(
            "conversations.request_overdue" if overdue else "conversations.request_due",
            f"message:{request.pk}",
            roles.staff_of(request.application.municipality),
            lambda users, request=request, overdue=overdue: send(
                mails(
                    "emails/reminders/request.txt",
                    users,
                    {
                        "request": request,
                        "application": request.application,
                        "overdue": overdue,
                    },
                    path=reverse("conversations:thread", args=[request.application_id]),
                )
            ),
        )
    return sent
