"""Celery workers as separate processes against the machine's Redis: a call's letters issued
on a worker, numbered without gaps; two workers issuing at once, never a number twice or
skipped; a mail that the SMTP server refuses the first time delivered on the retry."""

import email
import email.policy
import hashlib
import re
import time
from collections import Counter
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage

from applications import notifications
from applications.models import AwardLetter
from applications.tasks import call_letters_job, selected_letters_job
from competitions.models import JobRun

from .external import (
    celery_worker,
    flush_redis,
    queue_to_redis,
    service_env,
    smtp_sink,
    wait_until,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_queue(settings):
    flush_redis()
    with queue_to_redis(settings) as app:
        yield app
    flush_redis()


def worker_env(tmp_path, settings, **extra):
    # The letters go to the test's media folder, which the test reads; the other workers'
    # own folders stay empty (the multi-server test keeps even that in a bucket).
    return service_env(tmp_path, MEDIA_ROOT=str(settings.MEDIA_ROOT), **extra)


def finished(job: JobRun) -> JobRun | None:
    job.refresh_from_db()
    return job if job.is_finished else None


def numbers_of(letters) -> list[int]:
    return sorted(int(letter.number.rsplit("/", 1)[1]) for letter in letters)


def test_a_worker_issues_a_calls_letters_numbered_without_gaps(
    tmp_path, settings, redis_queue, decided_call
):
    with celery_worker(tmp_path / "w", "letters", env=worker_env(tmp_path / "w", settings)):
        job = call_letters_job(competition=decided_call.competition, by=decided_call.coordinator)
        assert job.status == JobRun.Status.QUEUED  # queued, not run in this process
        job = wait_until(lambda: finished(job), what="the letters' job")
    assert (job.status, job.done, job.total, job.failures) == (JobRun.Status.DONE, 6, 6, [])
    letters = list(AwardLetter.objects.all())
    assert numbers_of(letters) == [1, 2, 3, 4, 5, 6]
    assert len({letter.number.rsplit("/", 1)[0] for letter in letters}) == 1
    for letter in letters:
        with default_storage.open(letter.file.name, "rb") as stored:
            assert hashlib.sha256(stored.read()).hexdigest() == letter.sha256


def test_two_workers_issuing_at_once_never_duplicate_or_skip_a_number(
    tmp_path, settings, redis_queue, decided_call
):
    applications = list(decided_call.applications.values())
    with (
        celery_worker(
            tmp_path / "a", "a", env=worker_env(tmp_path / "a", settings), concurrency=2
        ) as a,
        celery_worker(
            tmp_path / "b", "b", env=worker_env(tmp_path / "b", settings), concurrency=2
        ) as b,
    ):
        # Twelve jobs of one letter each, Latvian and English, all queued at once: four
        # processes on two workers take them, and each letter takes the next number of the
        # same counter (the call's and year's) under its row lock.
        jobs = [
            selected_letters_job(
                applications=[application], by=decided_call.coordinator, language=language
            )
            for language in ("lv", "en")
            for application in applications
        ]
        for job in jobs:
            wait_until(lambda job=job: finished(job), what="every job")
        task = "applications.tasks.issue_selected_letters"
        took = {a.name: a.succeeded(task), b.name: b.succeeded(task)}
    assert all(job.status == JobRun.Status.DONE for job in jobs), [j.failures for j in jobs]
    assert sum(took.values()) == 12
    assert all(took.values()), f"one worker took every job: {took}"
    letters = list(AwardLetter.objects.all())
    assert numbers_of(letters) == list(range(1, 13))
    assert Counter((letter.application_id, letter.language) for letter in letters) == Counter(
        {(application.pk, language): 1 for application in applications for language in ("lv", "en")}
    )


def test_a_mail_the_smtp_server_refuses_once_is_delivered_on_the_retry(
    tmp_path, settings, redis_queue
):
    with smtp_sink() as (sink, port):
        env = worker_env(
            tmp_path / "w",
            settings,
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(port),
            MAIL_RETRY_BACKOFF="1",
        )
        with celery_worker(tmp_path / "w", "mail", env=env) as worker:
            started = time.monotonic()
            notifications.send(
                [
                    (
                        "Vēstule izdota / Letter issued",
                        "Teksts",
                        "granti@vidzeme.lv",
                        ["ilze@example.lv"],
                    )
                ]
            )
            wait_until(lambda: sink.received, seconds=60, what="the mail to arrive")
            log = worker.text()
    assert sink.refused == 1
    assert len(sink.received) == 1
    assert sink.received[0].rcpt_tos == ["ilze@example.lv"]
    delivered = email.message_from_bytes(sink.received[0].content, policy=email.policy.default)
    assert delivered["Subject"] == "Vēstule izdota / Letter issued"
    assert re.search(r"Task applications\.notifications\.send_mail\[[^]]+\] retry", log)
    assert time.monotonic() - started >= 1  # after the backoff, not at once


def test_a_submission_queues_its_mail_which_a_worker_writes_and_sends(
    tmp_path, settings, redis_queue
):
    from django.core import mail

    from applications import services
    from competitions.models import Municipality

    from .factories import CompetitionFactory, category, coordinator, staff_of
    from .source_case import DETAILS, activities_costing

    coordinator()
    staff = staff_of("smiltenes-novads")
    application = services.application_start(
        competition=CompetitionFactory(),
        municipality=Municipality.objects.get(slug="smiltenes-novads"),
        by=staff,
    )
    services.application_update_draft(
        application=application,
        by=staff,
        details=DETAILS,
        activities=activities_costing(Decimal("1000"), category().pk),
    )
    with smtp_sink() as (sink, port):
        env = worker_env(
            tmp_path / "w",
            settings,
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(port),
            MAIL_RETRY_BACKOFF="1",
        )
        with celery_worker(tmp_path / "w", "mail", env=env) as worker:
            submitted = services.application_submit(application=application, by=staff)
            assert mail.outbox == []  # nothing written nor sent by the submitting process
            wait_until(lambda: len(sink.received) == 2, seconds=60, what="both mails")
            log = worker.text()
    assert sorted(envelope.rcpt_tos for envelope in sink.received) == [
        ["coordinator@example.lv"],
        [staff.email],
    ]
    for envelope in sink.received:
        delivered = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert submitted.reference in delivered["Subject"]
    assert re.search(
        r"Task applications\.notifications\.application_submitted_mail\[[^]]+\] succeeded", log
    )
