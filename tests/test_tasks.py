"""The task queue without a broker (as `make run` and `make test` run it) and its schedule:
tasks run in the process, a failing mail server is logged and undoes nothing, the reminders
are scheduled hourly."""

import logging
import smtplib

import pytest
from django.core import mail

from applications import notifications
from competitions import tasks as competition_tasks
from remigration_portal.celery import app

pytestmark = pytest.mark.django_db

MESSAGE = ("Temats / Subject", "Teksts", "granti@vidzeme.lv", ["ilze@example.lv"])


def test_without_a_broker_a_mail_is_sent_in_the_process(settings):
    assert settings.CELERY_TASK_ALWAYS_EAGER
    notifications.send([MESSAGE, ("Bez adresāta", "x", "granti@vidzeme.lv", [])])
    assert [(m.subject, m.to) for m in mail.outbox] == [("Temats / Subject", ["ilze@example.lv"])]


def test_without_a_broker_a_failing_mail_server_is_logged_and_raises_nothing(monkeypatch, caplog):
    def refuse(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(notifications, "send_mass_mail", refuse)
    with caplog.at_level(logging.ERROR, logger="applications.notifications"):
        notifications.send([MESSAGE])
    assert "Could not send 1 notification(s) to ilze@example.lv" in caplog.text


def test_a_broker_that_cannot_be_reached_is_logged_and_the_mail_sent_from_the_process(
    settings, caplog
):
    before = {"broker_url": app.conf.broker_url, "task_always_eager": app.conf.task_always_eager}
    app.conf.update(
        broker_url="redis://127.0.0.1:1/0",
        task_always_eager=False,
        broker_connection_retry=False,
        broker_connection_max_retries=0,
        task_publish_retry=False,
    )
    app._pool, app.amqp._producer_pool = None, None
    try:
        with caplog.at_level(logging.ERROR, logger="applications.notifications"):
            notifications.send([MESSAGE])
    finally:
        app.conf.update(before)
        app._pool, app.amqp._producer_pool = None, None
    assert "Could not queue 1 notification(s) to ilze@example.lv; sending them now" in caplog.text
    assert [m.to for m in mail.outbox] == [["ilze@example.lv"]]


def test_the_reminders_are_scheduled_every_hour_on_the_beat(monkeypatch):
    entry = app.conf.beat_schedule["send-reminders-hourly"]
    assert entry["schedule"] == 60 * 60
    assert entry["task"] in app.tasks
    ran = []
    monkeypatch.setattr(competition_tasks, "call_command", lambda *args: ran.append(args))
    app.tasks[entry["task"]].delay()
    assert ran == [("send_reminders",)]
