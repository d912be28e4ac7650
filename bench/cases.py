"""The cases by the names ``--only`` takes, and the in-process ones: the coordinators' lists
and the dashboard, timed through Django's test client against the production settings.

Each function takes the calls of bench/data.py, how many runs to make and a logger, and
returns figures: milliseconds (``_ms``), ratios of a case to its baseline (``_ratio``), query
counts (``_queries``), sizes (``_kb``), form fields (``_fields``) and rates (``_per_s``,
``_rps``). The cases through HTTP are in served.py and rush.py, the letters in
letter_cases.py.
"""

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.urls import reverse

from . import data, letter_cases, rush, served
from .measure import count_queries, timed_pair


def user(username: str):
    return get_user_model().objects.get(username=username)


def fetch(client: Client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}, not 200")


# --- the cases ------------------------------------------------------------------------------


def changelist(*, calls, runs: int, log) -> dict[str, float]:
    """The coordinators' application list of one call (scores, spread, rank, filters with
    counts) against a bare admin changelist of the same applications."""
    client = Client()
    client.force_login(user(data.COORDINATOR))
    figures = {}
    for size in data.SIZES:
        call = calls[data.call_slug(size)]
        query = f"?competition__id__exact={call.pk}"
        portal = reverse("admin:applications_application_changelist") + query
        bare = reverse("bench_admin:applications_application_changelist") + query
        figures.update(
            timed_pair(
                f"changelist:{size}",
                lambda url=portal: fetch(client, url),
                lambda url=bare: fetch(client, url),
                runs,
            )
        )
        figures[f"changelist_queries_{size}"] = count_queries(lambda url=portal: fetch(client, url))
        figures[f"changelist_baseline_queries_{size}"] = count_queries(
            lambda url=bare: fetch(client, url)
        )
        log(f"  {size}: {figures[f'changelist_ms_{size}']} ms")
    return figures


def portfolio(*, calls, runs: int, log) -> dict[str, float]:
    """The coordinators' portfolio of one call's grants (stage, amounts, reported, to repay,
    overdue reports, filters, the call's totals) against a bare admin changelist of the same
    grants."""
    client = Client()
    client.force_login(user(data.COORDINATOR))
    figures = {}
    for size in data.SIZES:
        call = calls[data.call_slug(size)]
        data.ensure_grants(call, log=log)
        query = f"?application__competition__id__exact={call.pk}"
        portal = reverse("admin:grants_grant_changelist") + query
        bare = reverse("bench_admin:grants_grant_changelist") + query
        figures.update(
            timed_pair(
                f"portfolio:{size}",
                lambda url=portal: fetch(client, url),
                lambda url=bare: fetch(client, url),
                runs,
            )
        )
        figures[f"portfolio_queries_{size}"] = count_queries(lambda url=portal: fetch(client, url))
        figures[f"portfolio_baseline_queries_{size}"] = count_queries(
            lambda url=bare: fetch(client, url)
        )
        log(f"  {size}: {figures[f'portfolio_ms_{size}']} ms")
    return figures


def dashboard(*, calls, runs: int, log) -> dict[str, float]:
    """The municipal staff's dashboard against a bare view: one query, one small template,
    behind the same middleware."""
    client = Client()
    client.force_login(user(data.STAFF))
    portal = reverse("applications:dashboard")
    bare = reverse("bench_bare")
    figures = timed_pair(
        "dashboard",
        lambda: fetch(client, portal),
        lambda: fetch(client, bare),
        max(runs * 5, 30),  # a few milliseconds each: more runs for a steady median
    )
    figures["dashboard_queries"] = count_queries(lambda: fetch(client, portal))
    figures["dashboard_baseline_queries"] = count_queries(lambda: fetch(client, bare))
    # What any signed-in page costs before its own work, against the same bare view: the part
    # of the dashboard's ratio that no dashboard could avoid.
    floor = timed_pair(
        "dashboard_floor",
        lambda: fetch(client, reverse("bench_floor")),
        lambda: fetch(client, bare),
        max(runs * 5, 30),
    )
    figures.update(floor)
    figures["dashboard_floor_queries"] = count_queries(
        lambda: fetch(client, reverse("bench_floor"))
    )
    return figures


#: The cases by the names ``--only`` takes, in the order they run.
CASES = {
    "changelist": changelist,
    "portfolio": portfolio,
    "dashboard": dashboard,
    "allocation": served.allocation,
    "decision": served.decision,
    "results": served.results,
    "application": served.application,
    "csv": served.csv_export,
    "xlsx": served.xlsx_export,
    "rush": rush.rush_case,
    "letters": letter_cases.letters_case,
    "bulk": letter_cases.bulk,
    "http": served.http_case,
}


def postgres_version() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0].split()[0]
