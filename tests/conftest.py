import importlib
import json
import os
import shutil
import sqlite3
import tempfile
from collections import Counter
from contextlib import closing
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation

from .amounts import squeezed

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# around it are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def skip_or_fail(reason: str) -> None:
    """Skip a test whose service is missing on a developer's machine; in CI, fail it."""
    if IN_CI:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


# `make mutation` runs the tests once per change, each run in a new process: migrating a new
# in-memory database every time would take most of the run. It migrates one SQLite database
# first (TEST_DATABASE_TEMPLATE), and each run works on its own copy of it.
TEST_DATABASE_TEMPLATE = os.environ.get("TEST_DATABASE_TEMPLATE")

if TEST_DATABASE_TEMPLATE:

    @pytest.fixture(scope="session")
    def django_db_setup(django_db_blocker):
        folder = Path(tempfile.mkdtemp(prefix="test-database-"))
        copy = folder / "db.sqlite3"
        # SQLite's own copy, which reads a write-ahead log the template may still have.
        with (
            closing(sqlite3.connect(TEST_DATABASE_TEMPLATE)) as source,
            closing(sqlite3.connect(copy)) as target,
        ):
            source.backup(target)
        with django_db_blocker.unblock():
            connection.close()
            settings.DATABASES["default"]["NAME"] = connection.settings_dict["NAME"] = str(copy)
        yield
        with django_db_blocker.unblock():
            connection.close()
        shutil.rmtree(folder, ignore_errors=True)


#: Under ``make mutation``, each test's whole time (its fixtures' setup and teardown with its
#: call), as mutmut's first pass ran it. mutmut records only the call: a test whose fixture
#: loads the demo or signs an agreement would look instant.
MUTATION_DURATIONS = Path("mutation-test-durations.json")
#: Under ``make mutation``, the tests that caught a change, a file for each changed function.
MUTATION_CATCHERS = Path("mutation-catchers")
_durations: dict[str, float] = {}


def _mutmut_phase() -> str:
    return os.environ.get("MUTANT_UNDER_TEST", "")


def _changed_function() -> str | None:
    # grants.settlement.x_report_accept__mutmut_12 -> grants.settlement.x_report_accept
    function, marker, _number = _mutmut_phase().partition("__mutmut_")
    return function if marker else None


def pytest_runtest_logreport(report):
    if _mutmut_phase() == "stats":
        _durations[report.nodeid] = _durations.get(report.nodeid, 0.0) + report.duration
    elif report.failed and (function := _changed_function()):
        MUTATION_CATCHERS.mkdir(exist_ok=True)
        with (MUTATION_CATCHERS / function).open("a") as catchers:
            catchers.write(report.nodeid + "\n")


def pytest_sessionfinish(session):
    # mutmut's first pass runs every test; a later run (make mutation-resume) runs only the
    # tests that are new since, whose times join those already recorded.
    if _mutmut_phase() == "stats" and _durations:
        recorded = json.loads(MUTATION_DURATIONS.read_text()) if MUTATION_DURATIONS.exists() else {}
        MUTATION_DURATIONS.write_text(json.dumps({**recorded, **_durations}))


def pytest_collection_modifyitems(config, items):
    """Under ``make mutation``, the tests most likely to catch a change run first.

    mutmut runs the tests that cover a change with ``-x`` and stops at the first failure, in the
    order collected. First come the tests that caught earlier changes to the same function (the
    changes of one function are mostly caught by the same few tests), those that catch most for
    their time first; then the rest quickest first. So a caught change costs about a second
    instead of a walk past the slow tests (the demo, agreement PDFs) to the one that fails. The
    durations are each test's whole time in mutmut's first pass, fixtures included. The tests
    that commit stay after the others (below); otherwise, as when pytest-randomly shuffles
    them, the order changes nothing: a change is caught when any of its tests fails.
    """
    function = _changed_function()
    if function is None or not MUTATION_DURATIONS.exists():
        return
    durations = json.loads(MUTATION_DURATIONS.read_text())
    caught_by = Counter()
    if (MUTATION_CATCHERS / function).exists():
        caught_by.update((MUTATION_CATCHERS / function).read_text().splitlines())

    def cost(item):
        took = durations.get(item.nodeid, float("inf"))
        caught = caught_by[item.nodeid]
        return (0, took / caught) if caught else (1, took)

    # The transactional tests last, as pytest-django has them: one empties the database when it
    # ends, and a test run after it would find no reference data (no role groups) and fail on
    # that alone, a change counted as caught that no test caught.
    items.sort(key=lambda item: (_database_order(item), cost(item)))
    _within_budget(config, items, durations)


def _within_budget(config, items, durations) -> None:
    """Under ``make mutation``'s first pass, only the tests that fit in MUTATION_TEST_BUDGET
    seconds (their first-pass times, in the order above; at least one).

    Nearly every change is caught by its first few tests; a change that survives walks all of
    them, up to four minutes for the functions every grant passes through. A change that
    survives the budget is run again with all its tests (``make mutation-resume``), so the
    scores are those of a run without it.
    """
    budget = float(os.environ.get("MUTATION_TEST_BUDGET") or 0)
    if not budget:
        return
    spent = 0.0
    for position, item in enumerate(items):
        spent += durations.get(item.nodeid, 0.0)
        if position and spent > budget:
            config.hook.pytest_deselected(items=items[position:])
            del items[position:]
            return


def _transactional(item) -> bool:
    """Whether the test commits, and so empties the database after it (pytest-django)."""
    marker = item.get_closest_marker("django_db")
    transactional = marker is not None and marker.kwargs.get("transaction", False)
    return transactional or bool({"transactional_db", "live_server"} & set(item.fixturenames))


def _database_order(item) -> int:
    """The tests that commit, and empty the database after them, after all the others (those
    in a transaction that is rolled back and those without a database, which pytest-django
    puts last, and which are mostly the quickest)."""
    return 1 if _transactional(item) else 0


def pytest_runtest_setup(item):
    # Before any fixture: the browser fixtures are session-wide and would fail first.
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        skip_or_fail("this test needs PostgreSQL (set DATABASE_URL=postgres://...)")
    if item.get_closest_marker("services"):
        from .external import REDIS_URL, redis_answers

        if connection.vendor != "postgresql":
            skip_or_fail("this test needs PostgreSQL (set DATABASE_URL=postgres://...)")
        if not redis_answers():
            skip_or_fail(f"this test needs Redis at {REDIS_URL} (apt-get install redis-server)")
    if item.get_closest_marker("browser") and not shutil.which(CHROMIUM):
        skip_or_fail(f"this test needs Chromium at {CHROMIUM} (apt-get install chromium)")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded documents and letters of a test go to its own folder, made as `make` makes
    var/media (``/readyz`` reports a media folder that is missing)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "lv-LV", "timezone_id": "Europe/Riga"}


@pytest.fixture(autouse=True)
def _reference_data_after_flush(request):
    """Transactional tests flush every table between tests, data migrations' rows included.

    Put the reference data (municipalities, categories, role groups) back so that every test
    starts from what a freshly migrated database holds.
    """
    if not _transactional(request.node):
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    from competitions.roles import sync_role_groups

    reference = importlib.import_module("competitions.migrations.0002_reference_data")
    reference.load(apps, None)
    sync_role_groups(apps)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Counts kept in the cache (password resets) start from zero in every test."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The real hasher is slow on purpose; tests hash many passwords and test no hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def page(page):
    """Every browser test fails on a JavaScript error or a Content-Security-Policy violation,
    even on a page nobody clicked into."""
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and "Content Security Policy" in message.text
            and errors.append(message.text)
        ),
    )
    yield page
    assert errors == [], f"JavaScript errors or CSP violations: {errors}"


@pytest.fixture(autouse=True)
def _latvian_by_default():
    """Each test starts in the portal's default language.

    The test client runs requests in the test's own thread, so a request to an /en/ page
    would otherwise leave English active, and ``reverse()`` in the next test would build
    English URLs.
    """
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


class _TableReader(HTMLParser):
    """The text of each row's cells in the table with a given id."""

    def __init__(self, table_id: str):
        super().__init__()
        self.table_id = table_id
        self.depth = 0  # tables open inside the wanted one, plus one for itself
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and (self.depth or dict(attrs).get("id") == self.table_id):
            self.depth += 1
        elif self.depth == 1 and tag == "tr":
            self.rows.append([])
        elif self.depth == 1 and tag in {"td", "th"}:
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table" and self.depth:
            self.depth -= 1
        elif self.depth == 1 and tag in {"td", "th"} and self.cell is not None:
            self.rows[-1].append(squeezed("".join(self.cell)))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


@pytest.fixture
def table_rows():
    """``table_rows(html, "result_list")``: the cells' text, row by row, header row included."""

    def read(html: str, table_id: str) -> list[list[str]]:
        reader = _TableReader(table_id)
        reader.feed(html)
        return reader.rows

    return read


# --- decision letters ---------------------------------------------------------------------------

REJECTION_REASON = "Konkursa finansējums ir sadalīts pilnībā; pieteikums ierindots 6. vietā."


@pytest.fixture
def decided_call(db):
    """The source case as decided in September 2019: Smiltene and Valka 10 000, Valmiera
    9 800, Gulbene 6 200 and Cēsis 4 000 of the 7 500 it asked for (funded in part); and a
    sixth applicant, Cesvaine, ranked last and rejected with a reason. The clock stays in
    September 2019 for the test, so letters are numbered VPR/2019/remigration-2019/..."""
    from datetime import date, datetime
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    import time_machine

    from applications import services
    from competitions.models import Competition

    from .factories import category, staff_of
    from .source_case import DETAILS, activities_costing, build_source_case, close_call

    with time_machine.travel(
        datetime(2019, 9, 2, 10, 0, tzinfo=ZoneInfo("Europe/Riga")), tick=True
    ):
        case = build_source_case(close=False)
        competition = case.competition
        cesvaine = staff_of("cesvaines-novads")
        application = services.application_start(
            competition=competition, municipality=cesvaine.municipalities.get(), by=cesvaine
        )
        services.application_update_draft(
            application=application,
            by=cesvaine,
            details=DETAILS,
            activities=activities_costing(Decimal("3000.00"), category().pk),
        )
        case.applications["cesvaines-novads"] = services.application_submit(
            application=application, by=cesvaine
        )
        case.staff["cesvaines-novads"] = cesvaine
        criteria = list(competition.criteria.all())
        for person, points in zip(case.reviewers, [(3, 4, 2), (4, 3, 2)], strict=True):
            services.review_record(
                application=application,
                reviewer=person,
                scores={c.pk: p for c, p in zip(criteria, points, strict=True)},
            )
        close_call(competition)
        Competition.objects.filter(pk=competition.pk).update(
            slug="remigration-2019",
            organiser_details="Jāņa Poruka iela 8-108, Cēsis, LV-4101 · vidzeme@vidzeme.lv",
            implementation_ends_on=date(2019, 12, 15),
            report_due_on=date(2020, 1, 15),
        )
        services.allocation_apply_proposal(competition=competition, by=case.coordinator)
        services.competition_decide(
            competition=competition, by=case.coordinator, rejection_reason=REJECTION_REASON
        )
    with time_machine.travel(
        datetime(2019, 9, 16, 9, 0, tzinfo=ZoneInfo("Europe/Riga")), tick=True
    ):
        competition.refresh_from_db()
        for application in case.applications.values():
            application.refresh_from_db()
        yield case
