"""Agreements in bulk, on a Celery worker (in the process without a broker)."""

from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from competitions.jobs import job_run, job_start
from competitions.models import JobRun

from . import services
from .models import Grant


def agreements_job(*, grants, by, language: str = "lv") -> JobRun:
    """Start the job that issues the agreement of each of ``grants`` and queue it (called
    outside a transaction: the job's row is committed before a worker looks for it)."""
    ids = [grant.pk for grant in grants]
    job = job_start(
        title=_("Agreements of the selected grants (%(count)d, %(language)s)")
        % {"count": len(ids), "language": language},
        by=by,
        total=len(ids),
    )
    issue_agreements.delay(job.pk, ids, by.pk, language)
    job.refresh_from_db()
    return job


@shared_task(acks_late=True)
def issue_agreements(job_id: int, grant_ids: list[int], by_id: int, language: str) -> None:
    """Each grant's agreement in its own transaction (``agreement_issue``: a new number, the
    current document replaced): one refused (its plan not approved yet) is named on the job's
    page and the others are issued."""

    def work(progress):
        by = get_user_model().objects.get(pk=by_id)
        done, failures = 0, []
        grants = Grant.objects.filter(pk__in=grant_ids).select_related("application__municipality")
        for grant in grants.order_by("application__municipality__name"):
            try:
                services.agreement_issue(grant=grant, by=by, language=language)
            except ValidationError as error:
                failures.append(
                    _("%(grant)s: %(problem)s")
                    % {"grant": grant, "problem": " ".join(error.messages)}
                )
            else:
                done += 1
                progress()
        return done, failures

    job_run(job_id, work)
