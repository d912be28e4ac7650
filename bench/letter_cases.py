"""The letters: one letter issued and rendered, against a one-line page and against the same
letter's text converted by a warm LibreOffice (what mail-merge tools do); and a call's letters
issued in bulk by Celery workers, one and two, three runs each, medians.
"""

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import escape, strip_tags
from weasyprint import CSS, HTML

from applications import letters, services
from applications.models import Application, AwardLetter
from applications.tasks import call_letters_job
from competitions.models import JobRun
from remigration_portal.celery import app as celery_app

from . import data, web
from .measure import ratio, timed_pair

ROOT = Path(__file__).resolve().parent.parent
#: Runs of the bulk letters with each number of workers (each issues the call's 200 letters).
BULK_RUNS = 3
#: Conversions of the letter by the warm LibreOffice, after one to warm it.
OFFICE_RUNS = 7
#: The Python that has LibreOffice's UNO bridge (Debian's python3-uno).
SYSTEM_PYTHON = "/usr/bin/python3"


def user(username: str):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


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


def letter_html(content) -> str:
    with translation.override(content.language):
        return render_to_string(f"letters/letter_{content.language}.html", {"letter": content})


def same_words_pdf(content):
    """The words of a letter as plain paragraphs with its font, without its layout (no
    letterhead, table, justification or page footer): what its text alone costs to set."""
    lines = (line.strip() for line in strip_tags(letter_html(content)).splitlines())
    return plain_pdf("".join(f"<p>{escape(line)}</p>" for line in lines if line))


def office_available() -> bool:
    if shutil.which("soffice") is None or not Path(SYSTEM_PYTHON).exists():
        return False
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True)  # noqa: S603
    return probe.returncode == 0


def office_seconds(html: str, log) -> float | None:
    """Median seconds of a warm LibreOffice converting the letter's HTML to PDF: a listening
    ``soffice --headless`` and one UNO client that loads and exports the file again and again
    (bench/office_convert.py), after a first conversion that warms it."""
    if not office_available():
        log("  LibreOffice or python3-uno missing: apt-get install libreoffice-writer-nogui")
        return None
    port = web.free_port()
    with tempfile.TemporaryDirectory(prefix="bench-office-") as folder:
        source = Path(folder) / "letter.html"
        source.write_text(html, encoding="utf-8")
        office = subprocess.Popen(  # noqa: S603
            [
                shutil.which("soffice"),
                "--headless",
                "--invisible",
                "--norestore",
                "--nologo",
                f"-env:UserInstallation=file://{folder}/profile",
                f"--accept=socket,host=127.0.0.1,port={port};urp;",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: the office and its launcher
        )
        try:
            result = subprocess.run(  # noqa: S603
                [
                    SYSTEM_PYTHON,
                    str(ROOT / "bench" / "office_convert.py"),
                    str(port),
                    str(source),
                    str(OFFICE_RUNS),
                ],
                capture_output=True,
                text=True,
                timeout=180,
                check=True,
            )
        finally:
            try:
                office.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(office.pid, signal.SIGTERM)
                office.wait(timeout=20)
    seconds = json.loads(result.stdout)
    return statistics.median(seconds)


def letters_case(*, calls, runs: int, log) -> dict[str, float]:
    """Issuing one award letter (numbered, rendered, stored with its SHA-256, through the
    service) and rendering one, against a one-line page with the same font and against the
    same letter converted by a warm LibreOffice."""
    competition = calls[data.LETTER_CALL]
    remove_letters(competition)
    coordinator = user(data.COORDINATOR)
    application = (
        Application.objects.filter(competition=competition, status=Application.Status.AWARDED)
        .select_related("competition", "municipality")
        .order_by("pk")
        .first()
    )
    baseline = plain_pdf("<p>Vidzemes plānošanas reģions</p>")
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
    figures.update(
        timed_pair("letter_render", lambda: letters.render_letter(content), baseline, runs)
    )
    figures.update(timed_pair("letter_words", same_words_pdf(content), baseline, runs))
    remove_letters(competition)
    office = office_seconds(letter_html(content), log)
    if office is not None:
        render_ms = figures["letter_render_ms"]
        figures["letter_office_ms"] = round(office * 1000, 1)
        figures["letter_office_ratio"] = ratio(render_ms, figures["letter_office_ms"])
        log(f"  LibreOffice, warm: {figures['letter_office_ms']} ms; WeasyPrint {render_ms} ms")
    return figures


# --- bulk, on Celery workers ----------------------------------------------------------------


@contextmanager
def celery_worker(*, concurrency: int, name: str):
    """A Celery worker of ``concurrency`` processes on the benchmark's broker, answering a
    ping before the block starts; stopped (warm shutdown) after it."""
    log_path = ROOT / "var" / "bench" / f"celery-{name}.log"
    hostname = f"bench-{name}-{os.getpid()}@localhost"
    with log_path.open("w") as output:
        worker = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "remigration_portal",
                "worker",
                "--loglevel=WARNING",
                "--pool=prefork",
                f"--concurrency={concurrency}",
                f"--hostname={hostname}",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not any(hostname in reply for reply in celery_app.control.ping(timeout=0.5)):
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError(f"the Celery worker did not start; see {log_path}")
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def bulk(*, calls, runs: int, log) -> dict[str, float]:
    """The coordinator's "issue the call's letters" (one job, ``call_letters_job``) for the 200
    decided applications of a call, on a Celery worker of one process and on one of two,
    three runs each (each run starts with no letters); the medians."""
    competition = calls[data.LETTER_CALL]
    coordinator = user(data.COORDINATOR)
    celery_app.control.purge()
    seconds = {1: [], 2: []}
    for concurrency in (1, 2):
        with celery_worker(concurrency=concurrency, name=f"letters-{concurrency}"):
            for _run in range(BULK_RUNS):
                remove_letters(competition)
                started = time.perf_counter()
                job = call_letters_job(competition=competition, by=coordinator, language="lv")
                while not job.is_finished:
                    time.sleep(0.1)
                    job.refresh_from_db()
                seconds[concurrency].append(time.perf_counter() - started)
                if job.status == JobRun.Status.FAILED:
                    raise RuntimeError(f"the letters' job failed: {job.pk}")
                issued = AwardLetter.objects.filter(application__competition=competition).count()
                if issued != data.LETTER_CALL_SIZE:
                    raise RuntimeError(f"the letters' job issued {issued} letters")
                log(f"  {concurrency} worker(s): {seconds[concurrency][-1]:.1f} s")
    remove_letters(competition)
    rate = {n: round(data.LETTER_CALL_SIZE / statistics.median(s), 2) for n, s in seconds.items()}
    return {
        "letters_per_s_bulk_1": rate[1],
        "letters_per_s_bulk_2": rate[2],
        "bulk_speedup_2": round(rate[2] / rate[1], 2),
    }
