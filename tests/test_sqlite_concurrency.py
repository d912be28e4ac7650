"""The embedded default under a web server: gunicorn with three worker processes on one SQLite
file, municipal staff submitting and coordinators allocating at the same instant. Every answer
is the page or a clean refusal, never a 500 "database is locked", and the pool holds.

SQLite has no row locks (``select_for_update`` is a no-op there); the settings make every
transaction take the write lock when it begins (``transaction_mode="IMMEDIATE"``) and wait for
it (a busy timeout), so writers queue instead of failing. This test brings its own SQLite file,
whatever database the rest of the suite runs on."""

import json
import os
import sqlite3
import subprocess
import sys
from decimal import Decimal

import pytest

from .test_gunicorn_concurrency import ROOT, post_together, start_gunicorn

ALLOCATIONS = 12
SUBMISSIONS = 8


def prepare() -> None:
    """Run in a process of its own against the SQLite file: a call with twelve submitted
    applications of 10 000 (the pool is 40 000) and eight complete drafts; prints the posts."""
    from django.test import Client
    from django.urls import reverse

    from applications.models import Application
    from competitions.models import Municipality

    from .factories import CompetitionFactory, PlannedActivityFactory, coordinator, staff_of
    from .test_gunicorn_concurrency import submitted
    from .test_portal_views import form_data

    def session_of(user) -> str:
        client = Client()
        client.force_login(user)
        return client.cookies["sessionid"].value

    call = CompetitionFactory()
    places = list(Municipality.objects.order_by("slug"))
    allocation = reverse("admin:competitions_competition_allocation", args=[call.pk])
    posts = [
        (
            session_of(coordinator(f"coordinator{index}")),
            allocation,
            {"application": application.pk, "amount": "10 000,00", "reason": "Pilnā apjomā"},
        )
        for index, application in enumerate(
            submitted(call, place, Decimal("10000.00")) for place in places[:ALLOCATIONS]
        )
    ]
    for place in places[ALLOCATIONS : ALLOCATIONS + SUBMISSIONS]:
        user = staff_of(place.slug)
        draft = Application.objects.create(competition=call, municipality=place)
        PlannedActivityFactory(application=draft)
        posts.append(
            (
                session_of(user),
                reverse("applications:edit", args=[draft.pk]),
                form_data(draft, [{"cost": "1000"}], action="submit"),
            )
        )
    print(json.dumps({"call": call.pk, "allocation": allocation, "posts": posts}))


@pytest.fixture
def sqlite_server(tmp_path):
    database = tmp_path / "portal.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_DEBUG": "1",
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    prepared = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from tests.test_sqlite_concurrency import prepare; "
            "prepare()",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "remigration_portal.settings"},
        check=True,
        capture_output=True,
        text=True,
    )
    plan = json.loads(prepared.stdout.strip().splitlines()[-1])
    with start_gunicorn(tmp_path, env=env, workers=3, threads=2) as server:
        yield server, database, plan


def test_submissions_and_allocations_on_sqlite_succeed_or_are_refused_cleanly(sqlite_server):
    server, database, plan = sqlite_server

    statuses = post_together(server.port, [tuple(post) for post in plan["posts"]])

    allocations, submissions = statuses[:ALLOCATIONS], statuses[ALLOCATIONS:]
    # An allocation that went through redirects back to the screen; one over the pool is
    # shown again with the refusal. Every submission goes through to its receipt.
    assert sorted(allocations) == [200] * 8 + [302] * 4, statuses
    assert submissions == [302] * SUBMISSIONS, statuses
    with sqlite3.connect(database) as db:
        awarded, allocated = db.execute(
            "SELECT SUM(awarded_amount), COUNT(*) FILTER (WHERE awarded_amount > 0) "
            "FROM applications_application WHERE competition_id = ?",
            [plan["call"]],
        ).fetchone()
        events = db.execute("SELECT COUNT(*) FROM applications_allocationevent").fetchone()[0]
        references = db.execute(
            "SELECT COUNT(DISTINCT reference) FROM applications_application "
            "WHERE competition_id = ? AND status = 'submitted'",
            [plan["call"]],
        ).fetchone()[0]
    assert Decimal(str(awarded)) == Decimal("40000")
    assert allocated == events == 4
    # Every application has its own reference: the numbering held under the concurrent writes.
    assert references == ALLOCATIONS + SUBMISSIONS


def test_the_sqlite_file_is_configured_for_a_web_server(tmp_path):
    """WAL lets readers go on while one writer writes; the busy timeout makes a writer wait for
    the lock; IMMEDIATE takes it when a transaction begins, so no transaction that has read
    can fail when it comes to write."""
    check = (
        "import django; django.setup(); from django.db import connection; "
        "connection.ensure_connection(); c = connection.cursor(); "
        "c.execute('PRAGMA journal_mode'); print(c.fetchone()[0]); "
        "c.execute('PRAGMA busy_timeout'); print(c.fetchone()[0]); "
        "print(connection.settings_dict['OPTIONS'].get('transaction_mode'))"
    )
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        "DJANGO_DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "remigration_portal.settings",
    }
    shown = subprocess.run(
        [sys.executable, "-c", check], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout.split()
    assert shown[0] == "wal"
    assert int(shown[1]) >= 5000
    assert shown[2] == "IMMEDIATE"
