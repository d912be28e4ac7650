"""Mail about grants, sent through ``transaction.on_commit`` by the services (so that nobody
hears of a change that was rolled back), in Latvian and English, by the same helpers and to
the same roles as ``applications.notifications``."""

from django.conf import settings
from django.urls import reverse

from applications.notifications import bilingual, emails_of, portal_link, send
from competitions import roles


def _to_municipality(agreement, template: str) -> None:
    grant = agreement.grant
    subject, body = bilingual(
        template,
        {
            "agreement": agreement,
            "grant": grant,
            "link": portal_link(reverse("grants:agreement", args=[grant.pk])),
        },
    )
    recipients = emails_of(roles.staff_of(grant.application.municipality))
    send([(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)])


def agreement_issued(agreement) -> None:
    """To the municipality's staff: the agreement is ready to be accepted or signed."""
    _to_municipality(agreement, "emails/agreement_issued.txt")


def agreement_countersigned(agreement) -> None:
    """To the municipality's staff: the region has countersigned, the grant is in progress."""
    _to_municipality(agreement, "emails/agreement_countersigned.txt")


def agreement_signed_by_municipality(agreement) -> None:
    """To the coordinators: the municipality has accepted or signed; countersign in the admin."""
    coordinators = roles.coordinators()
    subject, body = bilingual(
        "emails/agreement_signed.txt",
        {
            "agreement": agreement,
            "grant": agreement.grant,
            "link": portal_link(reverse("admin:grants_agreement_countersign", args=[agreement.pk])),
        },
    )
    send([(subject, body, settings.DEFAULT_FROM_EMAIL, emails_of(coordinators))])
