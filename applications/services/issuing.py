"""Issuing the decision letters: numbered, rendered, stored with their SHA-256, replaced."""

import hashlib
from collections.abc import Callable, Sequence
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from competitions.models import Competition
from competitions.rules import refusal

from .. import letters, notifications
from ..models import (
    Application,
    ApplicationStatus,
    AwardLetter,
)
from ..selectors import letters_to_issue
from .common import lock_application, lock_competition, logger, next_number

#: The letter each decision gets.
LETTER_KINDS = {
    ApplicationStatus.AWARDED: AwardLetter.Kind.AWARD,
    ApplicationStatus.REJECTED: AwardLetter.Kind.REJECTION,
}


def _letter_problems(application: Application, language: str) -> list[ValidationError]:
    """Why this application cannot have a letter in ``language`` now; nothing if it can."""
    if language not in dict(settings.LANGUAGES):
        return [
            refusal(
                _("Letters are written in Latvian or English, not in “%(language)s”."),
                "unknown_language",
                language=language,
            )
        ]
    if application.status not in LETTER_KINDS:
        return [
            refusal(
                _("A letter is issued only after the decision; the application is %(status)s."),
                "not_decided",
                status=application.get_status_display(),
            )
        ]
    competition = application.competition
    needed = ["signatory_name", "signatory_position"]
    if application.status == ApplicationStatus.AWARDED:
        # An award letter states the conditions: until when, and the report's deadline.
        needed += ["implementation_ends_on", "report_due_on"]
    missing = [
        str(Competition._meta.get_field(field).verbose_name)
        for field in needed
        if not getattr(competition, field)
    ]
    if missing:
        return [
            refusal(
                _("Fill in the call's %(fields)s before its letters are issued."),
                "call_incomplete",
                fields="; ".join(missing),
            )
        ]
    return []


@contextmanager
def files_removed_on_failure():
    """Collects the files a letter service stores; if its transaction does not commit, they
    are deleted again, so that a failure leaves neither rows nor files behind."""
    files = []
    try:
        yield files
    except BaseException:
        for file in files:
            file.delete(save=False)
        raise


def _rendered(contents):
    """The letters' PDFs, one by one; a renderer that fails becomes a refusal to issue, so the
    coordinator reads what happened and the transaction rolls back everything of the issue."""
    try:
        yield from map(letters.render_letter, contents)
    except Exception as error:
        logger.exception("Rendering %d letter(s) failed", len(contents))
        raise refusal(
            _(
                "The PDF of the letter could not be made, so nothing was issued. Try again; "
                "if it fails again, tell the portal's administrator."
            ),
            "render_failed",
        ) from error


def _issue_letters(
    applications: Sequence[Application],
    *,
    by: User,
    language: str,
    files: list,
    progress: Callable[[AwardLetter], None] | None = None,
) -> list[AwardLetter]:
    """Number, render and store one letter per application, in the caller's transaction,
    with the applications' rows locked by the caller.

    The number is printed in the letter, so it is taken before rendering, from the counter
    of the call and year, which stays locked until the caller commits. A letter that fails to
    render or to store rolls back its number with everything else (and its file is deleted
    by ``files_removed_on_failure``), so numbers stay unique and without gaps and a failed
    issue can simply be tried again. Each letter is rendered before its row and file are
    written.
    """
    problems = {}
    for application in applications:
        for problem in _letter_problems(application, language):
            problems.setdefault(tuple(problem.messages), problem)
    if problems:
        raise ValidationError(list(problems.values()))

    issued_at = timezone.now()
    issued_on = timezone.localdate(issued_at)
    contents = []
    for application in applications:
        prefix = letters.letter_number_prefix(
            competition=application.competition, issued_on=issued_on
        )
        contents.append(
            letters.letter_data(
                application,
                kind=LETTER_KINDS[application.status],
                number=f"{prefix}/{next_number(f'letter:{prefix}'):03d}",
                language=language,
                issued_on=issued_on,
            )
        )
    pdfs = _rendered(contents)

    issued = []
    for application, content, pdf in zip(
        applications,
        contents,
        pdfs,
        strict=True,  # pragma: no mutate: pdfs is rendered from contents, one per application
    ):
        letter = AwardLetter(
            application=application,
            number=content.number,
            kind=content.kind,
            language=language,
            sha256=hashlib.sha256(pdf).hexdigest(),
            issued_by=by,
            issued_at=issued_at,
        )
        letter.file.save(
            f"{content.number.replace('/', '-')}.pdf",
            ContentFile(pdf),
            save=False,  # pragma: no mutate: None is as false; the row is saved just below
        )
        files.append(letter.file)
        letter.save()
        previous = application.letters.current().filter(language=language).exclude(pk=letter.pk)
        for replaced in previous:
            replaced.replaced_by = letter
            # Just read in this transaction: saving every field writes the others as they are.
            replaced.save(update_fields=["replaced_by"])  # pragma: no mutate: the others unchanged
        issued.append(letter)
        if progress is not None:
            progress(letter)
    # The municipality hears of its letter once the letter is there for it to download.
    transaction.on_commit(lambda: notifications.letters_issued(issued))
    return issued


def letter_issue(*, application: Application, by: User, language: str = "lv") -> AwardLetter:
    """Issue the decision letter of a decided application: an award letter, or a rejection
    letter that gives the reason. A letter it already has in that language is kept, marked
    as replaced by the new one."""
    with files_removed_on_failure() as files, transaction.atomic():
        # Two coordinators issuing the same application's letter at once would both replace
        # the same current letter and leave two current ones; the row lock makes them queue.
        application = lock_application(application.pk)
        return _issue_letters([application], by=by, language=language, files=files)[0]


def competition_issue_letters(
    *,
    competition: Competition,
    by: User,
    language: str = "lv",
    reissue: bool = False,
    progress: Callable[[AwardLetter], None] | None = None,
) -> list[AwardLetter]:
    """Issue the letters of a decided call: to every decided application without a current
    letter in ``language``, or to all of them with ``reissue``. All of them or none.

    Each issued letter is passed to ``progress`` once it is stored. A whole call's letters are
    issued on a worker (``applications.tasks.issue_call_letters``); numbers stay unique and
    without gaps with any number of workers, since each is taken under the counter's row lock
    (``next_number``), held until the issue commits.
    """

    with files_removed_on_failure() as files, transaction.atomic():
        # Two coordinators issuing a call's letters at once would both find the same
        # applications without a letter and issue two each: locking the applications alone
        # does not help, since the letters are rows of another table. The call's row lock
        # makes them queue, and the second then reads (below, under the lock) the letters the
        # first committed.
        competition = lock_competition(competition.pk)
        if not competition.is_decided:
            raise refusal(
                _("The call “%(call)s” has not been decided yet; its letters follow the decision."),
                "call_not_decided",
                call=competition.title,
            )
        applications = list(
            # Locked as in letter_issue, for the same reason.
            letters_to_issue(competition=competition, language=language, reissue=reissue)
            # Row locks exist on PostgreSQL only, where tests/test_concurrency.py holds them; the
            # mutation run is on SQLite, which ignores them.
            .select_for_update(of=("self",))  # pragma: no mutate: SQLite takes no row locks
            .select_related("competition", "municipality")  # pragma: no mutate (a query saved)
        )
        return _issue_letters(
            applications,
            by=by,
            language=language,
            files=files,
            progress=progress,
        )
