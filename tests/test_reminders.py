"""``send_reminders`` over time: each reminder once across repeated runs, to exactly the right
people, each in their language."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from applications import services
from applications.demo import OPEN_CALL_SLUG
from competitions.languages import language_record
from competitions.models import Competition
from conversations import services as conversation_services

from .source_case import build_source_case

pytestmark = pytest.mark.django_db


def run(capture, times: int = 2) -> list:
    """``send_reminders`` run ``times`` times; the mail it sent, one (subject, address) each."""
    before = len(mail.outbox)
    for _ in range(times):
        with capture(execute=True):
            call_command("send_reminders", stdout=io.StringIO())
    return sorted(
        (message.subject, address) for message in mail.outbox[before:] for address in message.to
    )


@pytest.fixture
def open_call():
    call_command("load_demo", "--force", stdout=io.StringIO())
    return Competition.objects.get(slug=OPEN_CALL_SLUG)


def test_on_the_demos_open_call_the_outreach_and_the_deadline_reach_the_right_staff_once(
    open_call, django_capture_on_commit_callbacks
):
    def run_for_call(capture):
        """The reminders about the open call (the demo's 2019 grants have theirs too: Gulbene's
        overdue report)."""
        titles = (open_call.title_lv, open_call.title_en)
        return [sent for sent in run(capture) if any(title in sent[0] for title in titles)]

    users = {user.username: user for user in get_user_model().objects.all()}
    for name in ("valmiera", "cesis"):
        services.application_start(
            competition=open_call, municipality=users[name].municipalities.get(), by=users[name]
        )
    language_record(user=users["cesis"], language="en")
    language_record(user=users["gulbene"], language="en")
    closes = open_call.closes_at
    call = open_call.title_lv
    deadline = timezone.localtime(closes).strftime("%d.%m.%Y")

    with time_machine.travel(closes - timedelta(days=15), tick=False):
        assert run_for_call(django_capture_on_commit_callbacks) == []

    # Two weeks before: the municipalities that have not started, each in its language.
    with time_machine.travel(closes - timedelta(days=14) + timedelta(hours=1), tick=False):
        assert run_for_call(django_capture_on_commit_callbacks) == sorted(
            [
                (
                    f"Pieteikumus konkursā “{call}” pieņem līdz {deadline}.",
                    "smiltene@demo.invalid",
                ),
                (
                    f"Pieteikumus konkursā “{call}” pieņem līdz {deadline}.",
                    "valka@demo.invalid",
                ),
                (
                    f"Applications to the call “{open_call.title_en}” are accepted until {deadline}",
                    "gulbene@demo.invalid",
                ),
            ]
        )

    # A week before: the drafts not submitted.
    with time_machine.travel(closes - timedelta(days=6), tick=False):
        assert run_for_call(django_capture_on_commit_callbacks) == sorted(
            [
                (f"Jūsu pieteikums konkursā “{call}” vēl nav iesniegts", "valmiera@demo.invalid"),
                (
                    f"Your draft in the call “{open_call.title_en}” is not submitted",
                    "cesis@demo.invalid",
                ),
            ]
        )
    # A week and a day later, the last day: the 1-day reminder, to the same drafts.
    with time_machine.travel(closes - timedelta(hours=20), tick=False):
        assert sorted(
            address for _subject, address in run_for_call(django_capture_on_commit_callbacks)
        ) == [
            "cesis@demo.invalid",
            "valmiera@demo.invalid",
        ]
    with time_machine.travel(closes + timedelta(hours=1), tick=False):
        assert run_for_call(django_capture_on_commit_callbacks) == []


def test_a_submitted_application_gets_no_deadline_reminder(django_capture_on_commit_callbacks):
    case = build_source_case(close=False)
    with time_machine.travel(case.competition.closes_at - timedelta(days=3), tick=False):
        sent = run(django_capture_on_commit_callbacks)
    addresses = {address for _subject, address in sent}
    # Only outreach, to none of the five that applied (their staff have submitted).
    assert not addresses & {user.email for user in case.staff.values()}


def test_requests_are_reminded_the_day_before_and_once_overdue(
    django_capture_on_commit_callbacks,
):
    case = build_source_case(close=False)
    application = case.applications["valmieras-pilseta"]
    staff = case.staff["valmieras-pilseta"]
    due = timezone.localdate() + timedelta(days=5)
    request = conversation_services.message_post(
        application=application, by=case.coordinator, body="Rēķins?", due_on=due
    )
    answered = conversation_services.message_post(
        application=case.applications["valkas-novads"],
        by=case.coordinator,
        body="Tāme?",
        due_on=due,
    )
    conversation_services.message_post(
        application=answered.application,
        by=case.staff["valkas-novads"],
        body="Pievienota.",
        answer_to=answered,
    )
    mail.outbox.clear()
    reference = application.reference
    noon = timezone.make_aware(timezone.datetime.combine(due, timezone.datetime.min.time()))
    with time_machine.travel(noon - timedelta(days=1, hours=-12), tick=False):
        assert run(django_capture_on_commit_callbacks, times=3) == [
            (f"Termiņš rīt: precizējuma pieprasījums par pieteikumu {reference}", staff.email)
        ]
    with time_machine.travel(noon + timedelta(hours=12), tick=False):
        assert run(django_capture_on_commit_callbacks) == []  # due today: said yesterday
    with time_machine.travel(noon + timedelta(days=1, hours=12), tick=False):
        assert run(django_capture_on_commit_callbacks, times=3) == [
            (f"Nokavēts: precizējuma pieprasījums par pieteikumu {reference}", staff.email)
        ]
    with time_machine.travel(noon + timedelta(days=9), tick=False):
        assert run(django_capture_on_commit_callbacks) == []
    assert request.answers.count() == 0
