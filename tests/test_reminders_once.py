"""The shared part of ``send_reminders``: each reminder reaches each person once."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from competitions.models import SentReminder
from competitions.reminders import once

pytestmark = pytest.mark.django_db(transaction=True)


def make_user(name, **extra):
    return get_user_model().objects.create_user(name, f"{name}@example.lv", "x", **extra)


def test_a_reminder_reaches_each_person_once_across_runs():
    anna, juris = make_user("anna"), make_user("juris")
    reached = []

    assert once("test.kind", "thing:1", [anna], reached.extend) == 1
    assert once("test.kind", "thing:1", [anna, juris], reached.extend) == 1
    assert once("test.kind", "thing:1", [anna, juris], reached.extend) == 0

    assert reached == [anna, juris]
    assert SentReminder.objects.count() == 2


def test_another_kind_or_subject_is_a_new_reminder():
    anna = make_user("anna")
    reached = []
    once("test.kind", "thing:1", [anna], reached.extend)
    once("test.kind", "thing:2", [anna], reached.extend)
    once("test.other", "thing:1", [anna], reached.extend)
    assert len(reached) == 3


def test_inactive_people_and_people_without_an_address_are_not_reminded():
    reached = []
    gone = make_user("gone", is_active=False)
    silent = get_user_model().objects.create_user("silent", "", "x")
    assert once("test.kind", "thing:1", [gone, silent], reached.extend) == 0
    assert reached == []
    assert not SentReminder.objects.exists()


def test_the_command_runs_with_nothing_due(capsys):
    call_command("send_reminders")
    assert "total: 0" in capsys.readouterr().out
