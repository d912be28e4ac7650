"""The benchmark cases, each timed beside its baseline in the same run, and the table.

Each function takes the calls of bench/data.py, how many runs to make and a logger, and
returns figures: milliseconds (``_ms``), ratios of a case to its baseline (``_ratio``), query
counts (``_queries``) and rates (``_per_s``, ``_rps``).
"""

import io
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
)
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape, strip_tags
from weasyprint import CSS, HTML

from applications import letters, selectors, services
from applications.models import Application, AwardLetter

from . import data

ROOT = Path(__file__).resolve().parent.parent
#: How long wrk loads each URL in each round, and how many rounds.
HTTP_SECONDS = 5
HTTP_ROUNDS = 3
#: Runs of the bulk command with each number of processes (each issues 200 letters).
BULK_RUNS = 3


# --- measuring ------------------------------------------------------------------------------


def interleaved(case, baseline, runs: int) -> tuple[float, float]:
    """Median seconds of ``case`` and of ``baseline``, run in turns (which goes first
    alternates), after one warm-up run of each."""
    case()
    baseline()
    timings = ([], [])
    for run in range(runs):
        order = [(case, timings[0]), (baseline, timings[1])]
        if run % 2:
            order.reverse()
        for function, into in order:
            started = time.perf_counter()
            function()
            into.append(time.perf_counter() - started)
    return statistics.median(timings[0]), statistics.median(timings[1])


def count_queries(function) -> int:
    count = 0

    def counted(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counted):
        function()
    return count


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def ratio(case: float, baseline: float) -> float:
    return round(case / baseline, 2)


def timed_pair(name: str, case, baseline, runs: int) -> dict[str, float]:
    case_s, baseline_s = interleaved(case, baseline, runs)
    prefix, _, size = name.partition(":")
    suffix = f"_{size}" if size else ""
    return {
        f"{prefix}_ms{suffix}": ms(case_s),
        f"{prefix}_baseline_ms{suffix}": ms(baseline_s),
        f"{prefix}_ratio{suffix}": ratio(case_s, baseline_s),
    }


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


def allocation(*, calls, runs: int, log) -> dict[str, float]:
    """The ranking and the allocation proposal of a whole call, against reading the same
    fields of the same applications in the order of submission, without ranks or amounts."""
    figures = {}
    fields = [name for name in selectors.RANKED_FIELDS if name != "rank"]
    for size in data.SIZES:
        call = calls[data.call_slug(size)]
        proposal = selectors.allocation_proposal(competition=call)
        if len(proposal.rows) != size:
            raise RuntimeError(f"the proposal of {call.slug} has {len(proposal.rows)} rows")
        figures.update(
            timed_pair(
                f"allocation:{size}",
                lambda call=call: selectors.allocation_proposal(competition=call),
                lambda call=call: list(
                    Application.objects.filter(
                        competition=call, status=Application.Status.SUBMITTED
                    )
                    .order_by("submitted_at", "id")
                    .values_list(*fields)
                ),
                runs,
            )
        )
        log(f"  {size}: {figures[f'allocation_ms_{size}']} ms")
    return figures


def remove_letters(competition) -> None:
    """Every letter of the call, rows and files, so that each run issues the same letters."""
    issued = AwardLetter.objects.filter(application__competition=competition)
    files = list(issued.values_list("file", flat=True))
    issued.update(replaced_by=None)
    issued.delete()
    for name in files:
        default_storage.delete(name)


def plain_pdf(body: str):
    """WeasyPrint rendering ``body`` with the letter's font and nothing else of its style, the
    font configuration and stylesheet made once, as the letters' are."""
    font = (letters.STATIC_DIR / "fonts" / "NotoSerif-Regular-latin.ttf").as_uri()
    font_config, _stylesheet, fetcher = letters._renderer.tools()
    stylesheet = CSS(
        string=f'@font-face {{ font-family: "One"; src: url("{font}"); }} '
        'html { font-family: "One"; }',
        font_config=font_config,
        url_fetcher=fetcher,
    )

    def render() -> bytes:
        html = HTML(string=body, url_fetcher=fetcher)
        return html.write_pdf(stylesheets=[stylesheet], font_config=font_config)

    return render


def one_line_pdf():
    """The baseline of a letter: a one-line HTML page with the letter's font."""
    return plain_pdf("<p>Vidzemes plānošanas reģions</p>")


def same_words_pdf(content):
    """The words of a letter as plain paragraphs with its font, without its layout (no
    letterhead, table, justification or page footer): what its text alone costs to set."""
    with translation.override(content.language):
        html = render_to_string(f"letters/letter_{content.language}.html", {"letter": content})
    lines = (line.strip() for line in strip_tags(html).splitlines())
    return plain_pdf("".join(f"<p>{escape(line)}</p>" for line in lines if line))


def letters_case(*, calls, runs: int, log) -> dict[str, float]:
    """Issuing one award letter (numbered, rendered, stored with its SHA-256, through the
    service) and rendering one, against a one-line page with the same font."""
    competition = calls[data.LETTER_CALL]
    remove_letters(competition)
    coordinator = user(data.COORDINATOR)
    application = (
        Application.objects.filter(competition=competition, status=Application.Status.AWARDED)
        .select_related("competition", "municipality")
        .order_by("pk")
        .first()
    )
    baseline = one_line_pdf()
    figures = timed_pair(
        "letter",
        lambda: services.letter_issue(application=application, by=coordinator, language="lv"),
        baseline,
        runs,
    )
    with translation.override("lv"):
        content = letters.letter_data(
            application,
            kind=AwardLetter.Kind.AWARD,
            number="VPR/2026/bench-letters/001",
            language="lv",
            issued_on=timezone.localdate(application.decided_at),
        )
    render = timed_pair("letter_render", lambda: letters.render_letter(content), baseline, runs)
    figures.update(render)
    figures.update(timed_pair("letter_words", same_words_pdf(content), baseline, runs))
    remove_letters(competition)
    return figures


def bulk(*, calls, runs: int, log) -> dict[str, float]:
    """``manage.py issue_letters`` on the 200 decided applications of a call, with one and
    with two processes, in turns."""
    competition = calls[data.LETTER_CALL]
    seconds = {1: [], 2: []}
    for run in range(BULK_RUNS):
        for processes in (1, 2) if run % 2 == 0 else (2, 1):
            remove_letters(competition)
            started = time.perf_counter()
            call_command(
                "issue_letters",
                competition.slug,
                by=data.COORDINATOR,
                processes=processes,
                verbosity=0,
                stdout=io.StringIO(),
            )
            seconds[processes].append(time.perf_counter() - started)
            issued = AwardLetter.objects.filter(application__competition=competition).count()
            if issued != data.LETTER_CALL_SIZE:
                raise RuntimeError(f"issue_letters issued {issued} letters")
            log(f"  {processes} process(es): {seconds[processes][-1]:.1f} s")
    remove_letters(competition)
    rate = {p: round(data.LETTER_CALL_SIZE / statistics.median(s), 2) for p, s in seconds.items()}
    return {
        "letters_per_s_bulk_1": rate[1],
        "letters_per_s_bulk_2": rate[2],
        "letters_per_s_bulk": max(rate.values()),
        "bulk_speedup_2": round(rate[2] / rate[1], 2),
    }


def staff_session_cookie() -> str:
    """A session of the dashboard's staff member, made in the database as a login would."""
    staff = user(data.STAFF)
    session = SessionStore()
    session[SESSION_KEY] = str(staff.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = staff.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_served(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def get_status(url: str, cookie: str) -> int:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    request = urllib.request.Request(url, headers={"Cookie": cookie})  # noqa: S310 (loopback)
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def wrk(url: str, cookie: str, seconds: int) -> float:
    """Requests per second wrk measured; any answer but 2xx fails the benchmark."""
    wrk_path = shutil.which("wrk")
    output = subprocess.run(  # noqa: S603
        [wrk_path, "-t1", "-c4", f"-d{seconds}s", "-H", f"Cookie: {cookie}", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk got answers other than 2xx from {url}:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def http(*, calls, runs: int, log) -> dict[str, float]:
    """Requests per second of the dashboard and of the bare view, served by gunicorn with two
    workers on loopback, loaded by wrk in turns with the same settings."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    cookie = staff_session_cookie()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    urls = {
        "dashboard": base + reverse("applications:dashboard"),
        "baseline": base + "/bench/bare/",
    }
    server_log = ROOT / "var" / "bench" / "gunicorn.log"
    server_log.parent.mkdir(parents=True, exist_ok=True)
    with server_log.open("w") as output:
        server = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "gunicorn",
                "remigration_portal.wsgi:application",
                "--workers=2",
                f"--bind=127.0.0.1:{port}",
                "--log-level=warning",
                f"--chdir={ROOT}",
            ],
            env=os.environ.copy(),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_served(urls["baseline"])
            for name, url in urls.items():
                status = get_status(url, cookie)
                if status != 200:
                    raise RuntimeError(f"{name} answered {status} under gunicorn, not 200")
                wrk(url, cookie, 1)  # warm-up: both workers connected and templates loaded
            rates = {name: [] for name in urls}
            for round_ in range(HTTP_ROUNDS):
                for name in urls if round_ % 2 == 0 else reversed(urls):
                    rates[name].append(wrk(urls[name], cookie, HTTP_SECONDS))
                    log(f"  {name}: {rates[name][-1]:.0f} requests/s")
        finally:
            server.terminate()
            server.wait(timeout=30)
    dashboard_rps = statistics.median(rates["dashboard"])
    baseline_rps = statistics.median(rates["baseline"])
    return {
        "http_rps_dashboard": round(dashboard_rps, 1),
        "http_rps_baseline": round(baseline_rps, 1),
        "http_rps_ratio": round(dashboard_rps / baseline_rps, 2),
    }


#: The cases by the names ``--only`` takes, in the order they run.
CASES = {
    "changelist": changelist,
    "portfolio": portfolio,
    "dashboard": dashboard,
    "allocation": allocation,
    "letters": letters_case,
    "bulk": bulk,
    "http": http,
}


def postgres_version() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0].split()[0]


# --- the table ------------------------------------------------------------------------------


def table(figures: dict[str, float]) -> str:
    """The figures as a table: each case beside its baseline and their ratio, and the
    targets with whether they hold."""
    rows = [("figure", "case", "baseline", "ratio", "target")]

    def pair(label, prefix, suffix="", unit="ms", target=""):
        case = figures.get(f"{prefix}_{unit}{suffix}")
        if case is None:
            return
        rows.append(
            (
                label,
                f"{case:g}",
                f"{figures[f'{prefix}_baseline_{unit}{suffix}']:g}",
                f"{figures[f'{prefix}_ratio{suffix}']:.2f}",
                target,
            )
        )

    def by_size(label, prefix, target, check):
        """One row a size; the target is the largest size's."""
        for size in data.SIZES:
            verdict = ""
            if size == max(data.SIZES) and check(size) is not None:
                verdict = holds(check(size), target)
            pair(f"{label} {size} (ms)", prefix, f"_{size}", target=verdict)

    def at_most(name, limit):
        return lambda size: (
            figures[f"{name}_{size}"] <= limit if f"{name}_{size}" in figures else None
        )

    by_size("changelist", "changelist", "ratio <= 2", at_most("changelist_ratio", 2))
    if "changelist_queries_100" in figures:
        counts = [figures[f"changelist_queries_{size}"] for size in data.SIZES]
        baseline = [figures[f"changelist_baseline_queries_{size}"] for size in data.SIZES]
        rows.append(
            (
                "changelist queries (100/1000/10000)",
                "/".join(f"{c:g}" for c in counts),
                "/".join(f"{c:g}" for c in baseline),
                "",
                holds(len(set(counts)) == 1, "same at every size"),
            )
        )
    by_size("portfolio", "portfolio", "ratio <= 3", at_most("portfolio_ratio", 3))
    if f"portfolio_queries_{data.SIZES[0]}" in figures:
        counts = [figures[f"portfolio_queries_{size}"] for size in data.SIZES]
        baseline = [figures[f"portfolio_baseline_queries_{size}"] for size in data.SIZES]
        rows.append(
            (
                "portfolio queries (" + "/".join(map(str, data.SIZES)) + ")",
                "/".join(f"{c:g}" for c in counts),
                "/".join(f"{c:g}" for c in baseline),
                "",
                holds(len(set(counts)) == 1, "same at every size"),
            )
        )
    if "dashboard_ratio" in figures:
        pair(
            "dashboard (ms)",
            "dashboard",
            target=holds(figures["dashboard_ratio"] <= 2, "ratio <= 2"),
        )
        rows.append(
            (
                "dashboard queries",
                f"{figures['dashboard_queries']:g}",
                f"{figures['dashboard_baseline_queries']:g}",
                "",
                "",
            )
        )
        pair("floor: login + layout (ms)", "dashboard_floor")
    by_size("allocation", "allocation", "<= 500 ms", at_most("allocation_ms", 500))
    if "letter_ratio" in figures:
        pair(
            "letter issued (ms)", "letter", target=holds(figures["letter_ratio"] <= 2, "ratio <= 2")
        )
        pair("letter rendered (ms)", "letter_render")
        pair("floor: its words, plain (ms)", "letter_words")
    if "letters_per_s_bulk" in figures:
        rows.append(
            (
                "bulk letters/s (2 processes | 1)",
                f"{figures['letters_per_s_bulk_2']:g}",
                f"{figures['letters_per_s_bulk_1']:g}",
                f"{figures['bulk_speedup_2']:.2f}",
                holds(figures["bulk_speedup_2"] > 1, "grows with processes"),
            )
        )
    if "http_rps_ratio" in figures:
        rows.append(
            (
                "http requests/s (dashboard | bare)",
                f"{figures['http_rps_dashboard']:g}",
                f"{figures['http_rps_baseline']:g}",
                f"{figures['http_rps_ratio']:.2f}",
                "",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for number, row in enumerate(rows):
        cells = [
            row[0].ljust(widths[0]),
            *(cell.rjust(w) for cell, w in zip(row[1:4], widths[1:4], strict=True)),
            row[4],
        ]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("-" * len(lines[0]))
    return "\n".join(lines)


def holds(condition: bool, target: str) -> str:
    return f"{target}: {'holds' if condition else 'DOES NOT HOLD'}"
