"""Periodic work, run by Celery beat (``CELERY_BEAT_SCHEDULE`` in settings)."""

from celery import shared_task
from django.core.management import call_command

from .jobs import job_files_remove_expired


@shared_task
def send_reminders() -> None:
    """Every hour: the reminders that are due. Each is sent once (``competitions.reminders``),
    so a run that overlaps another, or one retried, reminds nobody twice."""
    call_command("send_reminders")


@shared_task
def remove_old_job_files() -> None:
    """Every hour: the files of jobs that ended ``JOB_FILE_DAYS`` ago (``competitions.jobs``)."""
    job_files_remove_expired()
