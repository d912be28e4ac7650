import multiprocessing
import os

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from tqdm import tqdm

from applications import services
from applications.selectors import letters_to_issue
from competitions import roles
from competitions.models import Competition

#: From this many letters on, they are rendered in several processes.
MANY_LETTERS = 8
#: The most processes chosen without --processes.
MAX_PROCESSES = 4


class Command(BaseCommand):
    help = (
        "Issue the decision letters of a decided call: to every decided application without a "
        "current letter in the language, or to all of them with --reissue. All or none: a "
        "refusal or a failure leaves no letter, no number and no file behind."
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
            "--processes",
            type=int,
            metavar="N",
            help=f"render in N processes (default: 1 below {MANY_LETTERS} letters, "
            f"otherwise one per CPU, at most {MAX_PROCESSES})",
        )
        parser.add_argument(
            "--reissue",
            action="store_true",
            help="issue new letters also where one exists; the old ones are kept, marked replaced",
        )

    def handle(self, *args, call, by, language, processes, reissue, verbosity, **options):
        competition = Competition.objects.filter(slug=call).first()
        if competition is None:
            raise CommandError(f"There is no call with the slug {call!r}.")
        user = get_user_model().objects.filter(username=by, is_active=True).first()
        if user is None or not roles.can_issue_letters(user):
            raise CommandError(f"{by!r} is not an active user who may issue letters.")
        # Counted for the progress bar and the choice of processes; the service decides
        # (under its locks) what is issued, and refuses a call that is not decided.
        count = letters_to_issue(
            competition=competition, language=language, reissue=reissue
        ).count()
        if processes is None:
            processes = min(os.cpu_count() or 1, MAX_PROCESSES) if count >= MANY_LETTERS else 1
        if processes < 1:
            raise CommandError("--processes must be 1 or more.")
        processes = max(1, min(processes, count))

        arguments = {
            "competition": competition,
            "by": user,
            "language": language,
            "reissue": reissue,
        }
        with tqdm(
            total=count, desc=call, unit="letter", file=_Raw(self.stderr), disable=verbosity == 0
        ) as bar:
            try:
                if processes == 1:
                    issued = services.competition_issue_letters(
                        **arguments, progress=lambda letter: bar.update()
                    )
                else:
                    issued = self._issue_in_processes(processes, bar, arguments)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
        if not issued:
            self.stdout.write(
                f"No letters to issue in {call}: no decided application is without a current "
                f"letter in {language!r} (--reissue replaces current letters)."
            )
            return
        for letter in issued:
            self.stdout.write(f"{letter.number}\t{letter.kind}\t{letter.application.municipality}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Issued {len(issued)} letter(s) in {call} ({language}, {processes} process(es))."
            )
        )

    def _issue_in_processes(self, processes: int, bar, arguments: dict):
        # A forked worker would share the parent's database connections, and one closing its
        # copy would end the parent's session; so they are closed before forking (the parent
        # opens a new one when it next needs it). The workers only render.
        connections.close_all()
        with multiprocessing.get_context("fork").Pool(
            processes, initializer=_worker_started
        ) as pool:
            return services.competition_issue_letters(
                **arguments, render_map=pool.imap, progress=lambda letter: bar.update()
            )


#: Database connections a worker found open when it started (see _worker_started).
_inherited_connections = []


def _worker_started() -> None:
    # The parent closes its connections before forking, so a worker should find none open. If
    # it ever does, it must not close it: that would end the parent's session on the socket
    # they share. It only lets go of it (keeping a reference, so that it is never finalised
    # here), and would open its own connection if it ever needed one.
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None:
            _inherited_connections.append(connection.connection)
            connection.connection = None


class _Raw:
    """The command's stderr for tqdm: its redraws written as they are, with no newline or
    colour added."""

    def __init__(self, output):
        self.output = output

    def write(self, text: str) -> None:
        self.output.write(text, style_func=str, ending="")

    def flush(self) -> None:
        self.output.flush()
