import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from applications.models import AwardLetter
from applications.selectors import letters_to_issue
from applications.tasks import call_letters_job
from competitions import roles
from competitions.jobs import done_so_far
from competitions.models import Competition, JobRun


class Command(BaseCommand):
    help = (
        "Issue the decision letters of a decided call: to every decided application without a "
        "current letter in the language, or to all of them with --reissue. All or none: a "
        "refusal or a failure leaves no letter, no number and no file behind. With a broker "
        "(CELERY_BROKER_URL) a worker issues them and this command follows the job; without "
        "one they are issued here."
    )

    def add_arguments(self, parser):
        parser.add_argument("call", help="the call's slug")
        parser.add_argument(
            "--by",
            required=True,
            metavar="USERNAME",
            help="the coordinator who issues the letters (recorded on each letter)",
        )
        parser.add_argument("--language", choices=["lv", "en"], default="lv")
        parser.add_argument(
            "--reissue",
            action="store_true",
            help="issue new letters also where one exists; the old ones are kept, marked replaced",
        )
        parser.add_argument(
            "--no-wait",
            action="store_true",
            help="queue the job and return; its page in the admin shows how far it has got",
        )

    def handle(self, *args, call, by, language, reissue, no_wait, verbosity, **options):
        competition = Competition.objects.filter(slug=call).first()
        if competition is None:
            raise CommandError(f"There is no call with the slug {call!r}.")
        user = get_user_model().objects.filter(username=by, is_active=True).first()
        if user is None or not roles.can_issue_letters(user):
            raise CommandError(f"{by!r} is not an active user who may issue letters.")
        if (
            competition.is_decided
            and not letters_to_issue(
                competition=competition, language=language, reissue=reissue
            ).exists()
        ):
            self.stdout.write(
                f"No letters to issue in {call}: no decided application is without a current "
                f"letter in {language!r} (--reissue replaces current letters)."
            )
            return
        job = call_letters_job(competition=competition, by=user, language=language, reissue=reissue)
        if no_wait and not job.is_finished:
            self.stdout.write(f"Job {job.pk} queued: {job.title}.")
            return
        with tqdm(
            total=job.total,
            desc=call,
            unit="letter",
            file=_Raw(self.stderr),
            disable=verbosity == 0,
        ) as bar:
            while True:
                bar.update(done_so_far(job) - bar.n)
                if job.is_finished:
                    break
                time.sleep(1)
                job.refresh_from_db()
        if job.status == JobRun.Status.FAILED:
            raise CommandError(" ".join(job.failures))
        issued = (
            AwardLetter.objects.filter(
                application__competition=competition,
                language=language,
                issued_by=user,
                issued_at__gte=job.created_at,
            )
            .select_related("application__municipality")
            .order_by("number")
        )
        for letter in issued:
            self.stdout.write(f"{letter.number}\t{letter.kind}\t{letter.application.municipality}")
        where = "here" if settings.CELERY_TASK_ALWAYS_EAGER else "on a worker"
        self.stdout.write(
            self.style.SUCCESS(
                f"Issued {job.done} letter(s) in {call} ({language}, {where}; job {job.pk})."
            )
        )


class _Raw:
    """The command's stderr for tqdm: its redraws written as they are, with no newline or
    colour added."""

    def __init__(self, output):
        self.output = output

    def write(self, text: str) -> None:
        self.output.write(text, style_func=str, ending="")

    def flush(self) -> None:
        self.output.flush()
