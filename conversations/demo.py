"""The demo's threads, played by ``manage.py load_demo`` after every other stage (the command
finds ``play_on_top`` in each app's ``demo`` module): Valmiera answered a request about its 2019
application with a file, and Gulbene has a request open now. Safe to run again: a call whose
threads exist is left as it is."""

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from applications.demo import CALL_SLUG, riga
from applications.models import Application

from . import services
from .models import Message

#: The smallest file that is a PDF by its content: the demo's attachment.
DEMO_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def play_on_top(*, users: dict, travel) -> str:
    applications = Application.objects.filter(competition__slug=CALL_SLUG)
    if Message.objects.filter(application__in=applications).exists():
        return f"The threads of {CALL_SLUG} are already there; left as they are."
    valmiera = applications.get(municipality__slug="valmieras-pilseta")
    gulbene = applications.get(municipality__slug="gulbenes-novads")
    with travel(riga(2019, 9, 9, 10, 30)):
        request = services.message_post(
            application=valmiera,
            by=users["coordinator"],
            body=(
                "Lūdzu iesūtiet 2. aktivitātes (diasporas vizīte) izmaksu tāmi ar cenu "
                "aptaujas rezultātiem."
            ),
            due_on=riga(2019, 9, 13, 0, 0).date(),
        )
    with travel(riga(2019, 9, 11, 14, 5)):
        services.thread_mark_read(application=valmiera, user=users["valmiera"])
        services.message_post(
            application=valmiera,
            by=users["valmiera"],
            body="Pievienojam tāmi un trīs cenu piedāvājumus.",
            files=[SimpleUploadedFile("tame-vizite.pdf", DEMO_PDF)],
            answer_to=request,
        )
    services.message_post(
        application=gulbene,
        by=users["coordinator"],
        body="Lūdzu atsūtiet informatīvā bukleta maketu pirms tā nodošanas drukā.",
        due_on=timezone.localdate() + timedelta(days=45),
    )
    return f"The threads of {CALL_SLUG}: a request answered by Valmiera, one open to Gulbene."
