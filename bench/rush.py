"""The deadline rush: ``RUSH_STAFF`` municipal users at once, each saving and submitting its
drafts on one open call (GET the form, POST "save", POST "submit", as the browser posts them),
against three gunicorn workers; and the same number of the same requests to a bare view on
the same server, before and after. Afterwards every submission is checked in the database:
each draft submitted once, the references one run of numbers without gaps.
"""

import statistics
import threading
import time

from django.urls import reverse
from django.utils import timezone

from applications.models import Application, NumberSequence
from remigration_portal.celery import app as celery_app

from . import data, web
from .measure import ms, ratio

WORKERS = 3


def edit_path(pk: int) -> str:
    return reverse("applications:edit", args=[pk])


def portal_flow(client: web.Client, pk: int, number: int) -> float:
    """Save and submit one draft as its page posts it; the submit request's seconds."""
    page = web.expect(client.get(edit_path(pk)), 200, "the edit form")
    form = next(
        f for f in web.forms(page.text) if any(c[1]["name"] == "summary" for c in f.controls)
    )
    fields = [
        (name, f"{value} ({number})" if name == "summary" else value)
        for name, value in form.fields()
    ]
    saved = client.post(edit_path(pk), [*fields, ("action", "save")])
    web.expect(saved, 302, "the save")
    submitted = client.post(edit_path(pk), [*fields, ("action", "submit")])
    web.expect(submitted, 302, "the submission")
    if "/receipt/" not in submitted.location:
        raise RuntimeError(f"the submission led to {submitted.location}, not the receipt")
    return submitted.seconds


def bare_flow(client: web.Client, _pk: int, number: int) -> float:
    """The same three requests to a bare form: GET it, POST it twice with its CSRF token."""
    path = reverse("bench_bare_form")
    page = web.expect(client.get(path), 200, "the bare form")
    fields = [*web.forms(page.text)[0].fields(), ("text", str(number))]
    web.expect(client.post(path, fields), 302, "the bare save")
    return web.expect(client.post(path, fields), 302, "the bare submit").seconds


def rush(server, flow, work: dict[str, list[int]], cookies: dict[str, dict]):
    """Every user in a thread of its own, all starting together, each running ``flow`` on
    each of its drafts: (seconds in all, flows done, submit request seconds, failures)."""
    start = threading.Barrier(len(work) + 1)
    submits, failures, lock = [], [], threading.Lock()

    def user(username, pks):
        client = web.Client(server.base, dict(cookies[username]))
        start.wait()
        for number, pk in enumerate(pks):
            try:
                took = flow(client, pk, number)
            except Exception as error:  # counted and reported
                with lock:
                    failures.append(f"{username}: {error}")
            else:
                with lock:
                    submits.append(took)

    threads = [threading.Thread(target=user, args=item) for item in work.items()]
    for thread in threads:
        thread.start()
    start.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, len(submits), submits, failures


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def check_submissions(competition, drafts: int, counter_before: int) -> dict[str, float]:
    """Each draft submitted once, and the references the next numbers of the counter, none
    skipped and none twice."""
    applications = Application.objects.filter(competition=competition)
    submitted = list(
        applications.filter(status=Application.Status.SUBMITTED).values_list("reference", flat=True)
    )
    numbers = sorted(int(reference.rsplit("-", 1)[1]) for reference in submitted)
    expected = list(range(counter_before + 1, counter_before + len(numbers) + 1))
    return {
        "rush_submitted": len(submitted),
        "rush_drafts": drafts,
        "rush_references_ok": int(numbers == expected and len(set(submitted)) == len(submitted)),
        "rush_kept_once": int(
            len(submitted) == drafts
            and not applications.exclude(snapshot_sha256="")
            .filter(status=Application.Status.DRAFT)
            .exists()
        ),
    }


def rush_case(*, calls, runs: int, log) -> dict[str, float]:
    competition, work = data.new_rush_call(log=log)
    drafts = sum(map(len, work.values()))
    year = timezone.localtime(competition.opens_at).year
    counter = NumberSequence.objects.filter(key=f"application:{year}").first()
    counter_before = counter.last_value if counter else 0
    cookies = {username: web.session_cookie(username) for username in work}
    bare = {"flows": 0, "seconds": 0.0, "submits": []}
    with web.gunicorn(workers=WORKERS, name="rush") as server:
        # Warm every worker: templates, translations, the database connection.
        warm = web.Client(server.base, dict(next(iter(cookies.values()))))
        for _ in range(WORKERS * 2):
            web.expect(warm.get(edit_path(next(iter(work.values()))[0])), 200, "the edit form")
            web.expect(warm.get(reverse("bench_bare_form")), 200, "the bare form")
        for phase in ("bare", "portal", "bare"):
            flow = portal_flow if phase == "portal" else bare_flow
            seconds, done, submits, failures = rush(server, flow, work, cookies)
            if failures:
                log(f"  {phase}: {len(failures)} flows failed, the first: {failures[0]}")
            log(f"  {phase}: {done} flows in {seconds:.1f} s ({done / seconds:.1f}/s)")
            if phase == "portal":
                portal = {"flows": done, "seconds": seconds, "submits": submits}
                portal_failures = len(failures)
            else:
                bare["flows"] += done
                bare["seconds"] += seconds
                bare["submits"] += submits
    # The mail the submissions queued for a worker that this benchmark does not run.
    celery_app.control.purge()
    portal_rate = portal["flows"] / portal["seconds"]
    bare_rate = bare["flows"] / bare["seconds"]
    figures = {
        "rush_flows_per_s": round(portal_rate, 2),
        "rush_baseline_flows_per_s": round(bare_rate, 2),
        "rush_rate_ratio": ratio(portal_rate, bare_rate),
        "rush_submit_p99_ms": ms(p99(portal["submits"])) if len(portal["submits"]) > 1 else 0,
        "rush_baseline_submit_p99_ms": ms(p99(bare["submits"])),
        "rush_failed": portal_failures,
        "rush_users": len(work),
    }
    if figures["rush_submit_p99_ms"]:
        figures["rush_p99_ratio"] = ratio(
            figures["rush_submit_p99_ms"], figures["rush_baseline_submit_p99_ms"]
        )
    figures.update(check_submissions(competition, drafts, counter_before))
    return figures
