"""Work the portal hands to its Celery workers: the letters of a whole call, and the export of
a call too big to be written within a request. (Mail is the task ``notifications.send_mail``.)

Without a broker (``CELERY_BROKER_URL`` unset) each task runs in the process that queues it.
"""

import tempfile

from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files import File
from django.utils import translation
from django.utils.translation import gettext as _

from competitions.jobs import job_attach_file, job_files_remove_expired, job_run, job_start
from competitions.models import Competition, JobRun

from . import exports, services
from .models import Application, AwardLetter
from .selectors import letters_to_issue


def call_letters_job(
    *, competition: Competition, by, language: str = "lv", reissue: bool = False
) -> JobRun:
    """Start the job that issues a call's letters and queue it; without a broker it has run
    when this returns. The count is what is to be issued now; the service decides under its
    locks what it issues, and refuses a call that is not decided."""
    total = letters_to_issue(competition=competition, language=language, reissue=reissue).count()
    job = job_start(
        title=_("Letters of the call “%(call)s” (%(language)s)")
        % {"call": competition.title, "language": language},
        by=by,
        total=total,
    )
    # Called outside a transaction (the admin's views and the command run in autocommit): the
    # job's row is committed before the task is queued, so a worker always finds it.
    issue_call_letters.delay(job.pk, competition.pk, by.pk, language, reissue)
    job.refresh_from_db()
    return job


@shared_task(acks_late=True)
def issue_call_letters(
    job_id: int, competition_id: int, by_id: int, language: str, reissue: bool
) -> None:
    """The letters of a whole call, as the job ``job_id``: all of them or none (a refusal or a
    failure is the job's failure, named on its page)."""

    def work(progress):
        competition = Competition.objects.get(pk=competition_id)
        by = get_user_model().objects.get(pk=by_id)
        issued = services.competition_issue_letters(
            competition=competition,
            by=by,
            language=language,
            reissue=reissue,
            progress=lambda letter: progress(),
        )
        return len(issued), []

    job_run(job_id, work)


def selected_letters_job(*, applications, by, language: str = "lv") -> JobRun:
    """Start the job that issues a letter in ``language`` to each of ``applications`` that has
    none yet, and queue it (called outside a transaction, as ``call_letters_job``)."""
    ids = [application.pk for application in applications]
    job = job_start(
        title=_("Letters of the selected applications (%(count)d, %(language)s)")
        % {"count": len(ids), "language": language},
        by=by,
        total=len(ids),
    )
    issue_selected_letters.delay(job.pk, ids, by.pk, language)
    job.refresh_from_db()
    return job


@shared_task(acks_late=True)
def issue_selected_letters(job_id: int, application_ids: list[int], by_id: int, language: str):
    """A letter to each application, one by one, each in its own transaction: one refused
    (the call incomplete, the application not decided) or one that has a letter already is
    named on the job's page, and the others are issued. A letter is re-issued only from its
    application's page, deliberately. Several of these jobs on several workers at once take
    their numbers from the same counter, under its row lock: unique and without gaps."""

    def work(progress):
        by = get_user_model().objects.get(pk=by_id)
        current = dict(
            AwardLetter.objects.current()
            .filter(application__in=application_ids, language=language)
            .values_list("application_id", "number")
        )
        done, failures = 0, []
        applications = Application.objects.filter(pk__in=application_ids).select_related(
            "municipality"
        )
        for application in applications.order_by("municipality__name"):
            if application.pk in current:
                failures.append(
                    _(
                        "%(application)s already has letter %(number)s; to replace it, "
                        "re-issue it on the application's page."
                    )
                    % {"application": application, "number": current[application.pk]}
                )
                continue
            try:
                services.letter_issue(application=application, by=by, language=language)
            except ValidationError as error:
                failures.append(
                    _("%(application)s: %(problem)s")
                    % {"application": application, "problem": " ".join(error.messages)}
                )
            else:
                done += 1
                progress()
        return done, failures

    job_run(job_id, work)


def export_job(*, competition: Competition, by, export_format: str, language: str) -> JobRun:
    """Start the job that writes a call's export in ``export_format`` with headings in
    ``language``, and queue it (called outside a transaction, as ``call_letters_job``). Its
    count is the rows of the applications' table."""
    job = job_start(
        title=_("Export of the call “%(call)s” (%(format)s, %(language)s)")
        % {"call": competition.title, "format": export_format.upper(), "language": language},
        by=by,
        total=exports.export_row_count(competition),
    )
    build_export.delay(job.pk, competition.pk, export_format, language)
    job.refresh_from_db()
    return job


@shared_task(acks_late=True)
def build_export(job_id: int, competition_id: int, export_format: str, language: str) -> None:
    """A call's export, as the job ``job_id``: written to a temporary file a chunk at a time,
    then kept in the default storage for the job's starter to download. The files of jobs
    older than ``JOB_FILE_DAYS`` are removed first, so that they go even where no scheduler
    runs the hourly sweep."""

    def work(progress):
        job_files_remove_expired()
        competition = Competition.objects.get(pk=competition_id)
        rows = 0

        def count(written: int) -> None:
            nonlocal rows
            rows += written
            progress(written)

        with translation.override(language), tempfile.TemporaryFile() as file:
            exports.EXPORT_FORMATS[export_format].write(competition, file, progress=count)
            file.seek(0)
            job_attach_file(
                job_id=job_id,
                name=exports.export_filename(competition, export_format),
                file=File(file),
            )
        return rows, []

    job_run(job_id, work)
