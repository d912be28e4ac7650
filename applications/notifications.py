"""Mail the portal sends. Called through ``transaction.on_commit`` by the services, so that
nobody is told about a change that was rolled back; a mail server that fails is logged and
does not undo the change that was already committed."""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from competitions.roles import COORDINATORS

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


def emails(users) -> list[str]:
    return sorted({user.email for user in users if user.is_active and user.email})


def send(messages: list[tuple[str, str, str, list[str]]]) -> None:
    messages = [message for message in messages if message[3]]
    if not messages:
        return
    try:
        send_mass_mail(messages, fail_silently=False)
    except Exception:
        logger.exception("Could not send %d notification(s)", len(messages))


def link(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def application_submitted(application) -> None:
    """One mail to the municipality's staff, linking the portal's page of the application, and
    one to the coordinators, linking its page in the admin (the portal's is the staff's own)."""
    coordinators = get_user_model().objects.filter(groups__name=COORDINATORS)
    links = {
        application.get_absolute_url(): emails(application.municipality.staff.all()),
        reverse("admin:applications_application_change", args=[application.pk]): emails(
            coordinators
        ),
    }
    messages = []
    for path, recipients in links.items():
        subject, body = bilingual(
            "emails/application_submitted.txt", {"application": application, "link": link(path)}
        )
        messages.append((subject, body, settings.DEFAULT_FROM_EMAIL, recipients))
    send(messages)


def competition_decided(competition, applications) -> None:
    messages = []
    for application in applications:
        subject, body = bilingual(
            "emails/application_decided.txt",
            {
                "application": application,
                "competition": competition,
                "link": link(application.get_absolute_url()),
            },
        )
        messages.append(
            (
                subject,
                body,
                settings.DEFAULT_FROM_EMAIL,
                emails(application.municipality.staff.all()),
            )
        )
    send(messages)
