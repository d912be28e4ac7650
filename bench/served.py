"""The cases measured through HTTP, under gunicorn with the benchmark's settings: the pages of
a whole call, the exports, the deadline rush and the dashboard under load.

Each page is timed against one fixed baseline: the bare admin list of the call of 100
(``bench/admin/``), measured in turns with it, so the baseline does not grow with the size of
the call being measured. Every request is built by one small function below (``*_request``):
if a URL changes, that function is the one place to change.
"""

import http.client
import io
import re
import shutil
import statistics
import subprocess
import threading
import time
from contextlib import contextmanager, suppress

from django.db import connection, transaction
from django.urls import reverse
from openpyxl import Workbook

from competitions.models import JobRun

from . import data, web
from .measure import ms, ratio

#: Each size of a page is timed in turns with the baseline until this many runs are done or
#: this many seconds have passed (at least ``MIN_RUNS``), after one warm-up of each.
PAGE_SECONDS = 15
MIN_RUNS = 3
#: The exports at the largest size: runs (the first on a fresh worker, for its memory).
EXPORT_RUNS = 3
#: wrk on the dashboard: seconds a round, rounds.
HTTP_SECONDS = 5
HTTP_ROUNDS = 3


class Failed(Exception):
    """A request that did not answer: a worker killed at its timeout, or a 5xx."""


# --- the requests ---------------------------------------------------------------------------


def baseline_request(client, calls):
    """The fixed baseline: the bare admin list of the call of 100."""
    call = calls[data.call_slug(min(data.SIZES))]
    return client.get(
        reverse("bench_admin:applications_application_changelist")
        + f"?competition__id__exact={call.pk}"
    )


def allocation_request(client, call):
    return client.get(reverse("admin:competitions_competition_allocation", args=[call.pk]))


def decision_request(client, call):
    """The decision screen of a closed call: the page of the ranking where the coordinator
    types the reasons, the whole call's totals and the final form of default reasons."""
    return client.get(reverse("admin:competitions_competition_decision", args=[call.pk]))


def results_request(client, call):
    return client.get(reverse("results:detail", args=[call.slug]))


def application_request(client, call):
    """The application of the dashboard's municipality (the first one, which applied to
    every call) in ``call``."""
    application = call.applications.get(municipality__slug="bench-00001")
    return client.get(reverse("applications:detail", args=[application.pk]))


def export_request(client, call, export_format):
    return client.get(
        reverse("admin:competitions_competition_export", args=[call.pk, export_format])
    )


# --- timing ---------------------------------------------------------------------------------


def answered(answer, what):
    if answer.status >= 500:
        raise Failed(f"{what} answered {answer.status}")
    if answer.status not in (200, 302):
        raise RuntimeError(f"{what} answered {answer.status}: {answer.text[:300]}")
    return answer


def paired(case, baseline, *, runs: int, seconds: float = PAGE_SECONDS, warm: bool = True):
    """Medians of the case's and the baseline's request times, in turns (which goes first
    alternates), and the case's last answer. ``case`` returns the seconds it took and an
    answer; a failure (timeout, 5xx) ends the series and is returned as ``None``."""
    if warm:
        case()
        baseline()
    timings, last = ([], []), None
    started = time.monotonic()
    for run in range(runs):
        order = [(case, timings[0]), (baseline, timings[1])]
        if run % 2:
            order.reverse()
        for function, into in order:
            took, answer = function()
            into.append(took)
            if function is case:
                last = answer
        if run + 1 >= MIN_RUNS and time.monotonic() - started > seconds:
            break
    return statistics.median(timings[0]), statistics.median(timings[1]), last, len(timings[0])


def timed(request, what):
    """A case for ``paired``: one request, its time and its answer."""

    def run():
        try:
            answer = answered(request(), what)
        except (OSError, http.client.HTTPException) as error:
            raise Failed(f"{what}: {error}") from error
        return answer.seconds, answer

    return run


def page_figures(name, suffix, case, baseline, *, server, runs, log, fields=False):
    """A page against the baseline: ms, ratio, KB of HTML and (``fields``) the most fields
    any of its forms posts. A failure is recorded as ``<name>_failed<suffix>``, and whether
    it was a worker killed at its timeout as ``<name>_timeout<suffix>``."""
    timeouts = server.timeouts()
    try:
        case_s, baseline_s, answer, done = paired(case, baseline, runs=runs)
    except Failed as error:
        log(f"  {name}{suffix}: {error}")
        return {
            f"{name}_failed{suffix}": 1,
            f"{name}_timeout{suffix}": int(server.timeouts() > timeouts),
        }
    figures = {
        f"{name}_ms{suffix}": ms(case_s),
        f"{name}_baseline_ms{suffix}": ms(baseline_s),
        f"{name}_ratio{suffix}": ratio(case_s, baseline_s),
        f"{name}_kb{suffix}": round(len(answer.body) / 1024, 1),
        f"{name}_runs{suffix}": done,
    }
    if fields:
        figures[f"{name}_fields{suffix}"] = web.largest_post(answer.text)
    log(
        f"  {name}{suffix}: {figures[f'{name}_ms{suffix}']} ms "
        f"({figures[f'{name}_ratio{suffix}']}x), {figures[f'{name}_kb{suffix}']} KB"
    )
    return figures


@contextmanager
def page_server():
    with web.gunicorn(workers=2, name="pages") as server:
        yield server


def clients(server):
    coordinator = web.Client(server.base, web.session_cookie(data.COORDINATOR))
    staff = web.Client(server.base, web.session_cookie(data.STAFF))
    anonymous = web.Client(server.base)
    return coordinator, staff, anonymous


# --- the pages of a whole call --------------------------------------------------------------


def page_case(name: str, *, sizes, call_of, request, client_of, fields: bool = False):
    """A case timing the page ``request(client, call)`` of each size's call against the
    baseline, under its own gunicorn."""

    def case(*, calls, runs: int, log) -> dict[str, float]:
        figures = {}
        with page_server() as server:
            coordinator, staff, anonymous = clients(server)
            client = {"coordinator": coordinator, "staff": staff, "anonymous": anonymous}[client_of]
            baseline = timed(lambda: baseline_request(coordinator, calls), "the bare list")
            for size in sizes:
                call = calls[call_of(size)]
                figures.update(
                    page_figures(
                        name,
                        f"_{size}",
                        timed(lambda c=call: request(client, c), f"{name} {size}"),
                        baseline,
                        server=server,
                        runs=runs,
                        log=log,
                        fields=fields,
                    )
                )
        return figures

    case.__doc__ = f"The {name} page at each size against the bare list of the call of 100."
    return case


#: The allocation screen of each undecided call, as the coordinator opens it.
allocation = page_case(
    "allocation",
    sizes=data.SIZES,
    call_of=data.call_slug,
    request=allocation_request,
    client_of="coordinator",
    fields=True,
)
#: The decision screen of each undecided call (the form the coordinator fills in).
decision = page_case(
    "decision",
    sizes=data.SIZES,
    call_of=data.call_slug,
    request=decision_request,
    client_of="coordinator",
    fields=True,
)
#: The public results of each decided call, for an anonymous visitor, repeated.
results = page_case(
    "results",
    sizes=data.DECIDED_SIZES,
    call_of=data.decided_slug,
    request=results_request,
    client_of="anonymous",
)
#: A municipality's application page in each decided call, for its staff.
application = page_case(
    "application",
    sizes=data.DECIDED_SIZES,
    call_of=data.decided_slug,
    request=application_request,
    client_of="staff",
)


# --- the exports ----------------------------------------------------------------------------


def export_rows_sql(call) -> tuple[str, list]:
    """The CSV export's rows in one statement: one row per activity with its application's
    rank, scores, criterion means and award, in rank order."""
    criteria = list(call.criteria.order_by("order", "id").values_list("pk", flat=True))
    # The criteria's ids are integers read from the database, not user input.
    pivot = "".join(
        f", max(mean) FILTER (WHERE criterion_id = {int(pk)}) AS c{n}"
        for n, pk in enumerate(criteria)
    )
    means = "".join(f"means.c{n}, " for n in range(len(criteria)))
    statement = f"""
        WITH ranked AS (
            SELECT a.id, rank() OVER (
                ORDER BY a.score_mean DESC NULLS LAST, a.submitted_at, a.id
            ) AS call_rank
            FROM applications_application a
            WHERE a.competition_id = %s AND a.status <> 'draft'
        ), by_criterion AS (
            SELECT r.application_id, s.criterion_id, round(avg(s.points), 2) AS mean
            FROM applications_review r
            JOIN applications_criterionscore s ON s.review_id = r.id
            JOIN applications_application a ON a.id = r.application_id
            WHERE a.competition_id = %s AND NOT r.conflict_of_interest
            GROUP BY 1, 2
        ), means AS (
            SELECT application_id{pivot}
            FROM by_criterion GROUP BY 1
        )
        SELECT ranked.call_rank, a.reference, m.name, a.status,
            date_trunc('minute', a.submitted_at AT TIME ZONE 'Europe/Riga'),
            a.requested_amount, round(a.score_mean, 2), a.review_count, a.score_min,
            a.score_max, {means}a.awarded_amount, a.decision_reason, p."order" + 1,
            c.name_lv, p.title, p.description, p.starts_on, p.ends_on, p.target_group,
            p.expected_result, p.cost
        FROM applications_application a
        JOIN ranked ON ranked.id = a.id
        JOIN competitions_municipality m ON m.id = a.municipality_id
        LEFT JOIN means ON means.application_id = a.id
        JOIN applications_plannedactivity p ON p.application_id = a.id
        JOIN competitions_activitycategory c ON c.id = p.category_id
        ORDER BY ranked.call_rank, a.reference, p."order"
    """  # noqa: S608
    return statement, [call.pk, call.pk]


REVIEWS_SQL = """
    SELECT a.reference, m.name, u.username, r.conflict_of_interest, r.conflict_note,
        array_agg(s.points ORDER BY s.criterion_id), r.score, r.comment,
        r.updated_at AT TIME ZONE 'Europe/Riga'
    FROM applications_review r
    JOIN applications_application a ON a.id = r.application_id
    JOIN competitions_municipality m ON m.id = a.municipality_id
    JOIN auth_user u ON u.id = r.reviewer_id
    LEFT JOIN applications_criterionscore s ON s.review_id = r.id
    WHERE a.competition_id = %s AND a.status <> 'draft'
    GROUP BY r.id, a.reference, m.name, u.username
    ORDER BY a.reference, r.created_at, r.id
"""


def copy_csv(call) -> int:
    """PostgreSQL writing the same rows as CSV (``COPY ... TO STDOUT``): bytes written."""
    statement, params = export_rows_sql(call)
    with connection.cursor() as cursor:
        query = cursor.mogrify(statement, params).decode()
        sink = io.BytesIO()
        cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)", sink)
    return sink.tell()


def write_only_xlsx(call) -> int:
    """openpyxl's write-only mode writing the same two sheets' values, read from the database
    with a cursor as they are written: bytes of the file."""
    statement, params = export_rows_sql(call)
    workbook = Workbook(write_only=True)
    for title, sql, sql_params in (
        ("Applications", statement, params),
        ("Reviews", REVIEWS_SQL, [call.pk]),
    ):
        sheet = workbook.create_sheet(title)
        with (
            transaction.atomic(),  # a server-side cursor lives in a transaction
            connection.connection.cursor(name=f"bench_{title.lower()}") as cursor,
        ):
            cursor.itersize = 2000
            cursor.execute(sql, sql_params)
            for row in cursor:
                sheet.append(
                    [
                        ", ".join(map(str, value)) if isinstance(value, list) else value
                        for value in row
                    ]
                )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.tell()


def in_process(function, *args):
    def run():
        connection.ensure_connection()  # open before the clock starts
        started = time.perf_counter()
        function(*args)
        return time.perf_counter() - started, None

    return run


def export_case(client, call, export_format, server=None, peak=None):
    """One export as the coordinator gets it: the file in the answer, or (a file built in the
    background) the redirect to its job, followed and polled until the job has finished.
    With ``peak``, the worker's largest resident memory seen meanwhile is kept there."""

    def run():
        started = time.perf_counter()
        try:
            with watch_memory(server, peak):
                answer = answered(export_request(client, call, export_format), "the export")
        except (OSError, http.client.HTTPException) as error:
            raise Failed(f"the export: {error}") from error
        if answer.status == 200 and answer.headers.get("content-type", "").startswith("text/html"):
            # Too big for a request: the page offers the background job; the coordinator
            # starts it (a POST) and waits on the job's page.
            path = reverse("admin:competitions_competition_export", args=[call.pk, export_format])
            answer = client.post(path, client.csrf_fields())
            if answer.status != 302:
                raise Failed(f"starting the export's job answered {answer.status}")
        if answer.status == 302:
            follow_job(client, answer.location)
        return time.perf_counter() - started, answer

    return run


@contextmanager
def watch_memory(server, peak):
    """Read the worker's resident memory every 0.1 s while the block runs, keeping the
    largest in ``peak`` (which survives a worker killed at its timeout)."""
    if server is None or peak is None:
        yield
        return
    done = threading.Event()

    def watch():
        while not done.is_set():
            with suppress(OSError, ValueError):  # the worker killed meanwhile
                peak["VmRSS"] = max(peak["VmRSS"], server.worker_memory()["VmRSS"])
            done.wait(0.1)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


def follow_job(client, location: str) -> None:
    """Follow the redirects to a job's page and wait until the job has finished (read from
    its row, as its page shows it)."""
    for _hop in range(5):
        job = re.search(r"/jobrun/(\d+)/", location)
        if job:
            break
        answer = client.get(location)
        if answer.status != 302:
            raise RuntimeError(f"the export led to {location}, which is no job's page")
        location = answer.location
    else:
        raise RuntimeError("the export redirected too many times")
    client.get(location)
    deadline = time.monotonic() + 600
    while not JobRun.objects.get(pk=job[1]).is_finished:
        if time.monotonic() > deadline:
            raise Failed("the export's job did not finish in 10 minutes")
        time.sleep(0.2)
    if JobRun.objects.get(pk=job[1]).status == JobRun.Status.FAILED:
        raise Failed("the export's job failed")


def export_case_of(export_format: str, baseline):
    """CSV against ``COPY`` of the same rows, XLSX against openpyxl's write-only mode, under a
    gunicorn of one worker started afresh (and a Celery worker, for a file built in the
    background); the worker's memory before and after the first export of the largest call,
    which runs first."""

    def case(*, calls, runs: int, log) -> dict[str, float]:
        return export_figures(export_format, baseline, calls=calls, runs=runs, log=log)

    return case


def export_figures(export_format, baseline, *, calls, runs: int, log) -> dict[str, float]:
    from .letter_cases import celery_worker

    figures = {}
    largest = max(data.SIZES)
    with (
        web.gunicorn(workers=1, name=f"export-{export_format}") as server,
        celery_worker(concurrency=1, name=f"export-{export_format}"),
    ):
        client = web.Client(server.base, web.session_cookie(data.COORDINATOR))
        smallest = calls[data.call_slug(min(data.SIZES))]
        export_case(client, smallest, export_format)()  # templates, imports, translations
        for size in sorted(data.SIZES, reverse=True):
            call = calls[data.call_slug(size)]
            name, suffix = f"{export_format}", f"_{size}"
            before = server.worker_memory() if size == largest else None
            peak = {"VmRSS": 0.0}
            timeouts = server.timeouts()
            try:
                case_s, baseline_s, answer, done = paired(
                    export_case(client, call, export_format, server, peak),
                    in_process(baseline, call),
                    runs=EXPORT_RUNS if size == largest else runs,
                    seconds=PAGE_SECONDS,
                    warm=False,  # the worker is warm from the call of 100 exported first
                )
            except Failed as error:
                log(f"  {name}{suffix}: {error}")
                figures[f"{name}_failed{suffix}"] = 1
                figures[f"{name}_timeout{suffix}"] = int(server.timeouts() > timeouts)
                figures[f"{name}_baseline_ms{suffix}"] = ms(in_process(baseline, call)()[0])
                if before is not None:
                    figures[f"{name}_rss_before_mb"] = round(before["VmRSS"], 1)
                    figures[f"{name}_rss_peak_mb"] = round(peak["VmRSS"], 1)
                continue
            figures.update(
                {
                    f"{name}_ms{suffix}": ms(case_s),
                    f"{name}_baseline_ms{suffix}": ms(baseline_s),
                    f"{name}_ratio{suffix}": ratio(case_s, baseline_s),
                    f"{name}_kb{suffix}": round(len(answer.body) / 1024, 1),
                    f"{name}_runs{suffix}": done,
                }
            )
            if before is not None:
                after = server.worker_memory()
                if after["pid"] == before["pid"]:
                    figures[f"{name}_rss_before_mb"] = round(before["VmRSS"], 1)
                    figures[f"{name}_rss_after_mb"] = round(after["VmRSS"], 1)
                    figures[f"{name}_hwm_mb"] = round(after["VmHWM"], 1)
                    figures[f"{name}_rss_ratio"] = ratio(after["VmRSS"], before["VmRSS"])
                figures[f"{name}_rss_peak_mb"] = round(peak["VmRSS"], 1)
            log(
                f"  {name}{suffix}: {figures[f'{name}_ms{suffix}']} ms, "
                f"{figures[f'{name}_ratio{suffix}']}x the baseline"
            )
    return figures


csv_export = export_case_of("csv", copy_csv)
xlsx_export = export_case_of("xlsx", write_only_xlsx)


# --- the dashboard under load ---------------------------------------------------------------


def wrk(url: str, cookie: str, seconds: int) -> float:
    """Requests per second wrk measured; any answer but 2xx fails the benchmark."""
    output = subprocess.run(  # noqa: S603
        [shutil.which("wrk"), "-t1", "-c4", f"-d{seconds}s", "-H", f"Cookie: {cookie}", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk got answers other than 2xx from {url}:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def http_case(*, calls, runs: int, log) -> dict[str, float]:
    """Requests per second of the dashboard and of the bare view, served by gunicorn with two
    workers on loopback, loaded by wrk in turns with the same settings."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    cookies = web.session_cookie(data.STAFF)
    cookie = "; ".join(f"{key}={value}" for key, value in cookies.items())
    with web.gunicorn(workers=2, name="http") as server:
        urls = {
            "dashboard": server.base + reverse("applications:dashboard"),
            "baseline": server.base + reverse("bench_bare"),
        }
        client = web.Client(server.base, cookies)
        for name, url in urls.items():
            web.expect(client.get(url.removeprefix(server.base)), 200, name)
            wrk(url, cookie, 1)  # warm-up: both workers connected and templates loaded
        rates = {name: [] for name in urls}
        for round_ in range(HTTP_ROUNDS):
            for name in urls if round_ % 2 == 0 else reversed(urls):
                rates[name].append(wrk(urls[name], cookie, HTTP_SECONDS))
                log(f"  {name}: {rates[name][-1]:.0f} requests/s")
    dashboard_rps = statistics.median(rates["dashboard"])
    baseline_rps = statistics.median(rates["baseline"])
    return {
        "http_rps_dashboard": round(dashboard_rps, 1),
        "http_rps_baseline": round(baseline_rps, 1),
        "http_rps_ratio": round(dashboard_rps / baseline_rps, 2),
    }
