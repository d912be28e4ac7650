"""Mail the portal sends. Called through ``transaction.on_commit`` by the services, so that
nobody is told about a change that was rolled back. ``send`` is the one place mail leaves the
portal: it queues the ``send_mail`` task, which a worker retries while the SMTP server fails;
a mail server that fails never undoes the change that was already committed. A mail costly to
write (the submission's, in the deadline rush; a decision's, one per application of the call)
is queued whole with ``later``: the task reads the committed rows and writes the mail on a
worker, not in the request that made the change.

Each mail is written in its recipient's language (``competitions.languages``: the one they last
used on the portal, Latvian when they never have): ``mails`` renders a template once per
language among the recipients, with the link in that language.
"""

import logging
import smtplib
import threading
from collections.abc import Iterable, Mapping
from itertools import islice

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import close_old_connections
from django.template.loader import render_to_string
from django.urls import reverse, translate_url
from django.utils import translation

from competitions import roles
from competitions.languages import languages_of
from competitions.models import Competition

from .models import Application

logger = logging.getLogger(__name__)

#: What a mail server's failure looks like: refused, dropped, or not answering.
SMTP_FAILURES = (smtplib.SMTPException, OSError)

Message = tuple[str, str, str, list[str]]


def render(template: str, context: dict, language: str) -> tuple[str, str]:
    """Subject (the template's first line) and body, written in ``language``."""
    with translation.override(language):
        text = render_to_string(template, context).strip()
    subject, _, body = text.partition("\n")
    return subject.strip(), f"{body.strip()}\n"


def mails(
    template: str,
    recipients: Iterable,
    context: dict,
    *,
    path: str = "",
    languages: Mapping[int, str] | None = None,
) -> list[Message]:
    """The mail of ``template`` to ``recipients``: one message per language among them, each
    written in it, with ``link`` to ``path`` in that language when a path is given.
    ``languages`` (``languages_of`` the recipients) saves its query when many mails go."""
    people = [user for user in recipients if user.is_active and user.email]
    language_of = languages_of(people) if languages is None else languages
    addresses: dict[str, set[str]] = {}
    for user in people:
        addresses.setdefault(language_of[user.pk], set()).add(user.email)
    messages = []
    for language, emails in sorted(addresses.items()):
        extra = {"link": portal_link(path, language)} if path else {}
        subject, body = render(template, {**context, **extra}, language)
        messages.append((subject, body, settings.DEFAULT_FROM_EMAIL, sorted(emails)))
    return messages


def emails_of(users) -> list[str]:
    return sorted({user.email for user in users if user.is_active and user.email})


def send(messages: list[tuple[str, str, str, list[str]]]) -> None:
    """Hand ``(subject, body, sender, recipients)`` messages to the mail task: sent by a worker,
    and tried again there while the SMTP server fails (without a broker, or with one that
    cannot be reached: sent here, now). Messages without recipients are dropped."""
    messages = [
        [str(subject), str(body), str(sender), [str(address) for address in recipients]]
        for subject, body, sender, recipients in messages
        if recipients
    ]
    if not messages:
        return
    try:
        send_mail.delay(messages)
    except Exception:
        # The broker is down: the change is committed already and must stay, and its mail is
        # not dropped: it is sent from here, now, once (a failure then is logged).
        logger.exception(
            "Could not queue %d notification(s) to %s; sending them now",
            len(messages),
            "; ".join(", ".join(message[3]) for message in messages),
        )
        send_mail.apply(args=[messages])


@shared_task(bind=True, acks_late=True)
def send_mail(self, messages: list[list]) -> int:
    """Send the messages over one SMTP connection. When the server fails, the batch is tried
    again later, each time after twice as long (``MAIL_RETRY_BACKOFF``, at most an hour,
    ``MAIL_MAX_RETRIES`` times); only then is it given up, and logged with its recipients."""
    batch = [(subject, body, sender, list(to)) for subject, body, sender, to in messages]
    try:
        return send_mass_mail(batch, fail_silently=False)
    except SMTP_FAILURES as error:
        if self.request.is_eager or self.request.retries >= settings.MAIL_MAX_RETRIES:
            # In the process (no broker) nobody is there to try again later: logged.
            logger.exception(
                "Could not send %d notification(s) to %s",
                len(batch),
                "; ".join(", ".join(to) for *_, to in batch),
            )
            return 0
        countdown = min(settings.MAIL_RETRY_BACKOFF * 2**self.request.retries, 60 * 60)
        logger.warning("The mail server failed (%s); trying again in %d s", error, countdown)
        raise self.retry(exc=error, countdown=countdown) from error


def portal_link(path: str, language: str | None = None) -> str:
    """The portal's address of ``path``, in ``language`` when given (``/en/...`` for English)."""
    if language:
        path = translate_url(path, language)
    return settings.PORTAL_BASE_URL.rstrip("/") + path


#: Without a broker, the tasks ``later`` keeps for the end of this thread's request.
_after_response = threading.local()


def later(task, *args) -> None:
    """Queue ``task`` with ``args``, for a worker to write and send its mail outside the request
    that committed the change. Without a broker it runs in this process once the response has
    been sent (``request_finished``), or now outside a request; with a broker that cannot be
    reached, here and now, as ``send`` does."""
    pending = getattr(_after_response, "tasks", None)
    if settings.CELERY_TASK_ALWAYS_EAGER and pending is not None:
        pending.append((task, args))
        return
    try:
        task.delay(*args)
    except Exception:
        logger.exception("Could not queue %s%r; running it now", task.name, args)
        task.apply(args=args)


def request_started(**_signal) -> None:
    run_after_response()  # anything a request left behind (its response was never closed)
    _after_response.tasks = []


def run_after_response(**_signal) -> None:
    """The tasks kept by ``later`` during the request, run once its response is out; a
    failure of one is logged, never raised to a response that is already sent."""
    tasks, _after_response.tasks = getattr(_after_response, "tasks", None) or [], None
    for task, args in tasks:
        try:
            task.apply(args=args, throw=True)
        except Exception:
            logger.exception("%s%r failed after the response", task.name, args)
    if tasks:
        # The request's database connection was let go before these ran: so is theirs.
        close_old_connections()


@shared_task(acks_late=True)
def application_submitted_mail(application_id: int) -> None:
    """The mails of a submission, written where the task runs (``later``): the application is
    read there, as committed."""
    application_submitted(
        Application.objects.select_related("competition", "municipality").get(pk=application_id)
    )


def application_submitted(application) -> None:
    """One mail to the municipality's staff, linking the portal's page of the application, and
    one to the coordinators, linking its page in the admin (the portal's is the staff's own)."""
    links = {
        application.get_absolute_url(): roles.staff_of(application.municipality),
        reverse("admin:applications_application_change", args=[application.pk]): (
            roles.coordinators()
        ),
    }
    messages = []
    for path, recipients in links.items():
        messages += mails(
            "emails/application_submitted.txt", recipients, {"application": application}, path=path
        )
    send(messages)


#: Applications whose decision mails are written and handed to ``send`` at a time: the
#: queries and the mail task's batch of a decision stay bounded, whatever the size of the call.
DECIDED_MAIL_BATCH = 500


@shared_task(acks_late=True)
def competition_decided_mail(competition_id: int) -> None:
    """The mails of a call's decision, written where the task runs (``later``): the
    applications the decision awarded or rejected are read there, as committed, a batch at a
    time."""
    competition = Competition.objects.get(pk=competition_id)
    decided = (
        competition.applications.filter(
            decided_at=competition.decided_at,
            status__in=[Application.Status.AWARDED, Application.Status.REJECTED],
        )
        .order_by("pk")
        .iterator(chunk_size=DECIDED_MAIL_BATCH)
    )
    while batch := list(islice(decided, DECIDED_MAIL_BATCH)):
        competition_decided(competition, batch)


def competition_decided(competition, applications) -> None:
    """One mail per decided application to its municipality's staff: awarded (how much, of
    how much requested) or not funded (and why), linking the application's page."""
    _to_each_municipality(
        "emails/application_decided.txt",
        [(application, {"competition": competition}) for application in applications],
    )


def letters_issued(letters) -> None:
    """One mail per issued letter to its municipality's staff, linking the application's page
    where the letter is downloaded (the letter itself stays behind the portal's login)."""
    _to_each_municipality(
        "emails/letter_issued.txt", [(letter.application, {"letter": letter}) for letter in letters]
    )


def _to_each_municipality(template: str, mails_to_send) -> None:
    """One mail per (application, context) to the staff of the application's municipality,
    linking the application's page in the portal. A few queries for all of them: a decision
    writes to every municipality of the call."""
    staff = roles.staff_by_municipality(
        application.municipality_id for application, _context in mails_to_send
    )
    languages = languages_of([user for people in staff.values() for user in people])
    messages = []
    for application, context in mails_to_send:
        messages += mails(
            template,
            staff.get(application.municipality_id, []),
            {**context, "application": application},
            path=application.get_absolute_url(),
            languages=languages,
        )
    send(messages)


# --- a call's life ---------------------------------------------------------------------------


def call_published(*, competition, **_signal) -> None:
    """To the staff of every eligible municipality: the call is open, with its page."""
    staff = roles.staff_of_any(competition.eligible_municipalities.all())
    send(
        mails(
            "emails/call_published.txt",
            staff,
            {"competition": competition},
            path=competition.get_absolute_url(),
        )
    )


def deadline_changed(*, competition, closes_before=None, **_signal) -> None:
    """To the staff of each municipality with a draft in the call: the new deadline."""
    drafts = competition.applications.filter(status="draft").select_related("municipality")
    messages = []
    for application in drafts:
        messages += mails(
            "emails/deadline_changed.txt",
            roles.staff_of(application.municipality),
            {
                "competition": competition,
                "application": application,
                "closes_before": closes_before,
            },
            path=reverse("applications:edit", args=[application.pk]),
        )
    send(messages)
