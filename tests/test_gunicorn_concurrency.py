"""The pool and the cap hold across processes: gunicorn with two workers on loopback, one
PostgreSQL, coordinators posting allocations on the admin's allocation screen at once.

gunicorn's access log names the process that served each request, so each test shows that
both workers served the posts at once, not one of them all."""

import http.client
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from applications.models import AllocationEvent, Application
from competitions.models import Municipality

from .amounts import spaced
from .factories import ApplicationFactory, CompetitionFactory, coordinator

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Server:
    port: int
    access_log: Path


@pytest.fixture
def server(tmp_path):
    """gunicorn, two worker processes of four threads, serving the test database.

    Each process holds at most six connections at once, so that the simultaneous posts of a
    test (eight or twelve) cannot all land in one of them.
    """
    settings = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{settings['USER'] or 'postgres'}@{settings['HOST'] or '127.0.0.1'}:"
            f"{settings['PORT'] or 5432}/{settings['NAME']}"
        ),
        "DJANGO_DEBUG": "1",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    with start_gunicorn(tmp_path, env=env, workers=2, threads=4) as running:
        yield running


@contextmanager
def start_gunicorn(tmp_path: Path, *, env: dict, workers: int, threads: int):
    """gunicorn serving the portal with ``env``, once every worker answers; stopped after."""
    port = free_port()
    access_log = tmp_path / "access.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "remigration_portal.wsgi",
            "--workers",
            str(workers),
            # Threads in each process, so that every process holds several transactions open
            # at once, as a busy production server does.
            "--threads",
            str(threads),
            "--worker-connections",
            "6",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            # Which process (%(p)s) served which request.
            "--access-logfile",
            str(access_log),
            "--access-logformat",
            "%(p)s %(m)s %(U)s %(s)s",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("gunicorn did not start")
            time.sleep(0.2)
    running = Server(port, access_log)
    # The master opens the socket before the workers have imported Django, and the first
    # worker up would take every waiting connection: wait until all of them answer.
    while len(set(served(running, "GET", "/admin/login/"))) < workers:
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail("gunicorn's workers did not all start")
        threads_ = [
            threading.Thread(target=get, args=(port, "/admin/login/")) for _ in range(2 * workers)
        ]
        for thread in threads_:
            thread.start()
        for thread in threads_:
            thread.join(timeout=30)
    try:
        yield running
    finally:
        process.terminate()
        process.wait(timeout=30)


def get(port: int, path: str) -> None:
    http = http_client(port)
    http.request("GET", path, headers={"Host": "127.0.0.1"})
    http.getresponse().read()
    http.close()


def served(server: Server, method: str, path: str) -> list[str]:
    """The process of each answer to ``method path``, from gunicorn's access log."""
    if not server.access_log.exists():
        return []
    lines = [line.split() for line in server.access_log.read_text().splitlines() if line.strip()]
    return [pid for pid, *request in lines if request[:2] == [method, path]]


def processes_that_served(server: Server, path: str, posts: int) -> set[str]:
    """The worker processes that answered the posts to ``path``. A worker writes its line
    just after sending the answer, so wait for all of them."""
    deadline = time.monotonic() + 30
    while len(pids := served(server, "POST", path)) < posts and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(pids) == posts, pids
    return set(pids)


def session_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def post_together(port: int, posts: list[tuple[str, str, dict]]) -> list[int]:
    """POST each (session, path, form) at the same instant, each on its own connection."""
    barrier = threading.Barrier(len(posts))
    statuses = [None] * len(posts)

    def send(index, session, path, form):
        token = secrets.token_hex(16)
        body = urlencode({**form, "csrfmiddlewaretoken": token})
        http = http_client(port)
        barrier.wait()
        http.request(
            "POST",
            path,
            body=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"sessionid={session}; csrftoken={token}",
                "Host": "127.0.0.1",
            },
        )
        statuses[index] = http.getresponse().status
        http.close()

    threads = [threading.Thread(target=send, args=(i, *post)) for i, post in enumerate(posts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def http_client(port):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=60)


def submitted(call, place, requested):
    return ApplicationFactory(
        competition=call,
        municipality=place,
        status=Application.Status.SUBMITTED,
        reference=f"REM-G-{place.pk}",
        submitted_at=call.opens_at,
        snapshot={},
        requested_amount=requested,
    )


def test_coordinators_on_two_processes_never_exceed_the_pool(server):
    call = CompetitionFactory()
    places = list(Municipality.objects.order_by("slug")[:12])
    applications = [submitted(call, place, Decimal("10000.00")) for place in places]
    path = reverse("admin:competitions_competition_allocation", args=[call.pk])
    posts = [
        (
            session_of(coordinator(f"coordinator{index}")),
            path,
            {
                "application": application.pk,
                "amount": spaced("10 000,00"),
                "reason": "Pilnā apjomā",
            },
        )
        for index, application in enumerate(applications)
    ]

    statuses = post_together(server.port, posts)

    assert len(processes_that_served(server, path, len(posts))) == 2
    # A change that went through redirects back to the screen; a refusal shows it again.
    assert sorted(statuses) == [200] * 8 + [302] * 4, statuses
    total = Application.objects.filter(competition=call).aggregate(total=Sum("awarded_amount"))[
        "total"
    ]
    assert total == call.pool_amount == Decimal("40000.00")
    assert AllocationEvent.objects.filter(competition=call).count() == statuses.count(302)


def test_coordinators_on_two_processes_never_pass_the_cap_of_one_application(server):
    call = CompetitionFactory()
    application = submitted(call, Municipality.objects.get(slug="cesu-novads"), Decimal("12000.00"))
    path = reverse("admin:competitions_competition_allocation", args=[call.pk])
    amounts = [
        "9 000",
        "10 000",
        spaced("10 000,01"),
        "11 000",
        "9 500",
        "8 000",
        "12 000",
        "7 000",
    ]
    posts = [
        (
            session_of(coordinator(f"coordinator{i}")),
            path,
            {"application": application.pk, "amount": amount, "reason": "Labojums"},
        )
        for i, amount in enumerate(amounts)
    ]

    statuses = post_together(server.port, posts)

    assert len(processes_that_served(server, path, len(posts))) == 2
    over_cap = {spaced("10 000,01"), "11 000", "12 000"}
    assert [
        status for amount, status in zip(amounts, statuses, strict=True) if amount in over_cap
    ] == [200] * 3
    application.refresh_from_db()
    assert application.awarded_amount <= call.max_award_amount
    events = list(AllocationEvent.objects.filter(application=application).order_by("id"))
    assert len(events) == statuses.count(302)
    previous = Decimal("0.00")
    for event in events:
        assert event.amount_before == previous
        previous = event.amount_after
    assert previous == application.awarded_amount
