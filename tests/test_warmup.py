"""What each web worker does as it starts (remigration_portal/warmup.py), so that its first
users do not wait for it: the e-mail check compiled, the task queue connected."""

import logging
import subprocess
import sys

import pytest
import redis
from django.core import validators
from django.utils.functional import empty

from remigration_portal.warmup import warm_up

from .external import REDIS_URL, flush_redis, forget_connections, service_env


def test_a_starting_worker_compiles_the_e_mail_check_before_any_form_uses_it():
    pattern = validators.EmailValidator.domain_regex
    pattern._wrapped = empty  # as in a new process: compiled on first use
    warm_up()
    assert pattern._wrapped is not empty
    assert pattern.match("example.lv")


@pytest.mark.services
def test_a_starting_worker_connects_to_the_broker_and_declares_the_task_queue(tmp_path):
    """A new process loading the application as a gunicorn worker does: its queue is declared
    in Redis before any request (in this process kombu remembers declarations made by earlier
    tests, so only a new process shows what a starting worker does)."""
    from remigration_portal.celery import app

    flush_redis()
    loaded = subprocess.run(
        [sys.executable, "-c", "import remigration_portal.wsgi"],
        env=service_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    bindings = redis.Redis.from_url(REDIS_URL).smembers(
        f"_kombu.binding.{app.amqp.default_queue.name}"
    )
    flush_redis()
    assert loaded.returncode == 0, loaded.stderr
    assert "could not be reached" not in loaded.stderr
    assert bindings, "the default queue was not declared"


def test_a_worker_starts_when_the_broker_is_out_of_reach_and_says_so(settings, caplog):
    from remigration_portal.celery import app

    before = {"broker_url": app.conf.broker_url, "task_always_eager": app.conf.task_always_eager}
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # A port nothing listens on: the connection is refused at once.
    app.conf.update(broker_url="redis://127.0.0.1:1/0", task_always_eager=False)
    forget_connections(app)
    try:
        with caplog.at_level(logging.WARNING, logger="remigration_portal.warmup"):
            warm_up()
    finally:
        app.conf.update(before)
        forget_connections(app)
    (record,) = caplog.records
    assert record.getMessage().startswith(
        "The task queue could not be reached as the worker started:"
    )


def test_the_wsgi_application_warms_each_worker_up_as_it_loads(monkeypatch):
    import importlib

    import remigration_portal.warmup
    import remigration_portal.wsgi

    calls = []
    monkeypatch.setattr(remigration_portal.warmup, "warm_up", lambda: calls.append("warmed"))
    importlib.reload(remigration_portal.wsgi)
    assert calls == ["warmed"]
