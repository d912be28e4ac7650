"""Mail about the thread: a message or a request to the other side, an answer, an objection
and its outcome. Sent after the transaction commits, each in its recipient's language, through
the one door of ``applications.notifications``."""

from django.urls import reverse

from applications.notifications import mails, send
from competitions import roles

from .models import Kind, Message, Objection, Side


def portal_thread(message: Message) -> str:
    return reverse("conversations:thread", args=[message.application_id])


def admin_thread(message: Message) -> str:
    return reverse("admin:conversations_message_thread", args=[message.application_id])


def message_posted(message: Message) -> None:
    """The region's message or request to the municipality's staff; the municipality's message
    or answer to the coordinators (and to the request's author, whoever they are)."""
    application = message.application
    context = {"message": message, "application": application}
    if message.side == Side.AUTHORITY:
        send(
            mails(
                "emails/conversations/message.txt",
                roles.staff_of(application.municipality),
                context,
                path=portal_thread(message),
            )
        )
        return
    recipients = set(roles.coordinators())
    if message.kind == Kind.ANSWER:
        recipients.add(message.answer_to.author)
    send(
        mails(
            "emails/conversations/message.txt",
            sorted(recipients, key=lambda user: user.pk),
            context,
            path=admin_thread(message),
        )
    )


def objection_lodged(objection: Objection) -> None:
    send(
        mails(
            "emails/conversations/objection_lodged.txt",
            roles.coordinators(),
            {"objection": objection, "application": objection.application},
            path=reverse("admin:conversations_objection_decide", args=[objection.pk]),
        )
    )


def objection_decided(objection: Objection) -> None:
    send(
        mails(
            "emails/conversations/objection_decided.txt",
            roles.staff_of(objection.application.municipality),
            {"objection": objection, "application": objection.application},
            path=reverse("conversations:thread", args=[objection.application_id]),
        )
    )
