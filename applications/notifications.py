"""Mail the portal sends. Called through ``transaction.on_commit`` by the services, so that
nobody is told about a change that was rolled back; a mail server that fails is logged and
does not undo the change that was already committed."""

import logging

from django.conf import settings
from django.core.mail import send_mass_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from competitions import roles

logger = logging.getLogger(__name__)


def bilingual(template: str, context: dict) -> tuple[str, str]:
    """Subject and body in Latvian, then English: recipients' language is not recorded."""
    parts = []
    for language in ("lv", "en"):
        with translation.override(language):
            parts.append(render_to_string(template, context).strip())
    subject_lv, _, body_lv = parts[0].partition("\n")
    subject_en, _, body_en = parts[1].partition("\n")
    return (
        f"{subject_lv.strip()} / {subject_en.strip()}",
        f"{body_lv.strip()}\n\n---\n\n{body_en.strip()}\n",
    )


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


def portal_link(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def application_submitted(application) -> None:
    """One mail to the municipality's staff, linking the portal's page of the application, and
    one to the coordinators, linking its page in the admin (the portal's is the staff's own)."""
    links = {
        application.get_absolute_url(): emails_of(roles.staff_of(application.municipality)),
        reverse("admin:applications_application_change", args=[application.pk]): emails_of(
            roles.coordinators()
        ),
    }
    messages = []
    for path, recipients in links.items():
        subject, body = bilingual(
            "emails/application_submitted.txt",
            {"application": application, "link": portal_link(path)},
        )
        messages.append((subject, body, settings.DEFAULT_FROM_EMAIL, recipients))
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


def _to_each_municipality(template: str, mails) -> None:
    """One mail per (application, context) to the staff of the application's municipality,
    linking the application's page in the portal."""
    messages = []
    for application, context in mails:
        subject, body = bilingual(
            template,
            {
                **context,
                "application": application,
                "link": portal_link(application.get_absolute_url()),
            },
        )
        messages.append(
            (
                subject,
                body,
                settings.DEFAULT_FROM_EMAIL,
                emails_of(roles.staff_of(application.municipality)),
            )
        )
    send(messages)
