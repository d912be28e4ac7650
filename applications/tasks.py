"""Work the portal hands to its Celery workers: the letters of a whole call. (Mail is the
task ``notifications.send_mail``.)

Without a broker (``CELERY_BROKER_URL`` unset) each task runs in the process that queues it.
"""

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from competitions.jobs import job_run, job_start
from competitions.models import Competition, JobRun

from . import services
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
