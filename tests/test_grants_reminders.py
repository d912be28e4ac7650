"""Report reminders: due in 14 days, in 3 days, overdue; each sent once, however often
``send_reminders`` runs (it runs hourly)."""

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from competitions.models import Competition, SentReminder
from grants import settlement

from .factories import grant_in_progress
from .test_grants_settlement import lines_of

pytestmark = pytest.mark.django_db(transaction=True)

RIGA = ZoneInfo("Europe/Riga")
DUE = date(2027, 1, 31)


def run_at(moment: datetime) -> list:
    mail.outbox.clear()
    with time_machine.travel(moment, tick=False):
        call_command("send_reminders", stdout=io.StringIO())
        call_command("send_reminders", stdout=io.StringIO())
    return list(mail.outbox)


@pytest.fixture
def grant():
    grant = grant_in_progress("gulbenes-novads", amount=Decimal("5000.00"))
    Competition.objects.filter(pk=grant.competition.pk).update(
        interim_report_due_on=None, report_due_on=DUE, implementation_ends_on=date(2027, 1, 1)
    )
    grant.refresh_from_db()
    return grant


def test_each_report_reminder_is_sent_once_on_its_day(grant):
    staff = grant.municipality.staff.get()
    assert run_at(datetime(2027, 1, 10, 9, tzinfo=RIGA)) == []  # 21 days before: nothing yet

    sent = run_at(datetime(2027, 1, 17, 9, tzinfo=RIGA))
    assert [m.to for m in sent] == [[staff.email]]
    assert "31.01.2027" in sent[0].body
    assert "14" in sent[0].body
    assert run_at(datetime(2027, 1, 17, 15, tzinfo=RIGA)) == []  # later that day: not again

    sent = run_at(datetime(2027, 1, 28, 9, tzinfo=RIGA))
    assert len(sent) == 1
    assert "3" in sent[0].body

    sent = run_at(datetime(2027, 2, 1, 9, tzinfo=RIGA))
    assert len(sent) == 1
    assert "nav iesniegts" in sent[0].body
    assert run_at(datetime(2027, 2, 8, 9, tzinfo=RIGA)) == []  # overdue is said once
    assert set(SentReminder.objects.values_list("kind", flat=True)) == {
        "grants.report_due_14",
        "grants.report_due_3",
        "grants.report_overdue",
    }


def test_a_submitted_report_is_not_reminded(grant):
    staff = grant.municipality.staff.get()
    report = settlement.report_save_draft(
        grant=grant, kind="final", by=staff, summary="", lines=lines_of(grant, ["0", "0"])
    )
    settlement.report_submit(report=report, by=staff)
    assert run_at(datetime(2027, 2, 1, 9, tzinfo=RIGA)) == []
