"""Mail the portal sends. Called through ``transaction.on_commit`` by the services, so that
nobody is told about a change that was rolled back; a mail server that fails is logged and
does not undo the change that was already committed.

Each mail is written in its recipient's language (``competitions.languages``: the one they last
used on the portal, Latvian when they never have): ``mails`` renders a template once per
language among the recipients, with the link in that language, and ``send`` is the one place
mail leaves the portal.
"""

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mass_mail
from django.template.loader import render_to_string
from django.urls import reverse, translate_url
from django.utils import translation

from competitions import roles
from competitions.languages import languages_of

logger = logging.getLogger(__name__)

Message = tuple[str, str, str, list[str]]


def render(template: str, context: dict, language: str) -> tuple[str, str]:
    """Subject (the template's first line) and body, written in ``language``."""
    with translation.override(language):
        text = render_to_string(template, context).strip()
    subject, _, body = text.partition("\n")
    return subject.strip(), f"{body.strip()}\n"


def mails(template: str, recipients: Iterable, context: dict, *, path: str = "") -> list[Message]:
    """The mail of ``template`` to ``recipients``: one message per language among them, each
    written in it, with ``link`` to ``path`` in that language when a path is given."""
    people = [user for user in recipients if user.is_active and user.email]
    language_of = languages_of(people)
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
    messages = [message for message in messages if message[3]]
    if not messages:
        return
    try:
        send_mass_mail(messages, fail_silently=False)
    except Exception:
        logger.exception("Could not send %d notification(s)", len(messages))


def portal_link(path: str, language: str | None = None) -> str:
    """The portal's address of ``path``, in ``language`` when given (``/en/...`` for English)."""
    if language:
        path = translate_url(path, language)
    return settings.PORTAL_BASE_URL.rstrip("/") + path


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


def competition_decided(competition, applications) -> None:
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
    linking the application's page in the portal."""
    messages = []
    for application, context in mails_to_send:
        messages += mails(
            template,
            roles.staff_of(application.municipality),
            {**context, "application": application},
            path=application.get_absolute_url(),
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
