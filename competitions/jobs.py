"""Work in bulk on a Celery worker, followed in the admin: a ``JobRun`` row per job.

A view starts a job with :func:`job_start` and queues its task with the job's id; the task
calls :func:`job_run`, which marks the row running, counts progress in the shared cache (the
page reads it while the job's own transaction is still open), and records the end: done,
the total, and one line per failure naming what failed and why. Without a broker the task runs
in the request, and the page shows the finished job at once.
"""

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files import File
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import JobRun

logger = logging.getLogger(__name__)

#: How long a running job's count stays in the cache: longer than any job runs.
PROGRESS_SECONDS = 24 * 60 * 60

#: What a job does: given a function to call after each item (or after several, with how many),
#: it returns how many items were done and one line per item that failed.
Work = Callable[[Callable[..., None]], tuple[int, list[str]]]


def _progress_key(job_id: int) -> str:
    return f"job-progress:{job_id}"


def job_start(*, title: str, by, total: int) -> JobRun:
    return JobRun.objects.create(title=title, started_by=by, total=total)


def job_run(job_id: int, work: Work) -> JobRun:
    """Do ``work`` as the job ``job_id`` and record how it went. A refusal or an error ends the
    job as failed with its message; it is not raised again, so the queue does not retry work
    that a person has to look at first."""
    job = JobRun.objects.get(pk=job_id)
    job.status = JobRun.Status.RUNNING
    job.save(update_fields=["status"])
    done = 0

    def progress(count: int = 1) -> None:
        nonlocal done
        done += count
        cache.set(_progress_key(job_id), done, PROGRESS_SECONDS)

    try:
        done, failures = work(progress)
    except ValidationError as error:
        done, failures = 0, [" ".join(error.messages)]
    except Exception as error:
        logger.exception("Job %s (%s) failed", job_id, job.title)
        done, failures = 0, [_("Unexpected error: %(error)s") % {"error": error}]
    job.done = done
    job.total = max(job.total, done)
    job.failures = failures
    job.status = JobRun.Status.FAILED if failures else JobRun.Status.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["done", "total", "failures", "status", "finished_at"])
    cache.delete(_progress_key(job_id))
    return job


def done_so_far(job: JobRun) -> int:
    """How many of the job's items are done: from the cache while it runs."""
    if job.status == JobRun.Status.RUNNING:
        return min(cache.get(_progress_key(job.pk), job.done), job.total or job.done)
    return job.done


def job_attach_file(*, job_id: int, name: str, file: File) -> None:
    """Keep the file a job wrote, in the default storage, for its starter to download."""
    job = JobRun.objects.get(pk=job_id)
    job.file.save(name, file, save=False)
    job.save(update_fields=["file"])


def job_files_remove_expired(*, now=None) -> int:
    """Remove the files of the jobs that ended more than ``JOB_FILE_DAYS`` ago (an export is
    a copy of what the portal shows, taken once: kept for a few days, not for ever). The job
    stays, without its file. Returns how many files were removed."""
    now = now or timezone.now()
    expired = JobRun.objects.filter(
        finished_at__lt=now - timedelta(days=settings.JOB_FILE_DAYS)
    ).exclude(file="")
    removed = 0
    for job in expired:
        job.file.delete(save=False)
        job.save(update_fields=["file"])
        removed += 1
    return removed
