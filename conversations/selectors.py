"""Reads of the threads: a thread with its attachments and read receipts, unread counts and the
open requests, for the portal's dashboard and the admin."""

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from applications.models import Application
from competitions import roles

from .models import Attachment, Message, MessageRead, Side


def thread(application: Application) -> list[Message]:
    """The application's messages, oldest first, each with its attachments and who read it."""
    return list(
        application.messages.select_related("author", "answer_to")
        .prefetch_related(
            Prefetch("attachments", queryset=Attachment.objects.order_by("id")),
            Prefetch("reads", queryset=MessageRead.objects.select_related("user")),
            "answers",
        )
        .order_by("sent_at", "id")
    )


def staff_messages(user) -> QuerySet[Message]:
    """Messages on the applications of the municipalities ``user`` acts for."""
    return Message.objects.filter(
        roles.acting_for(user, municipality_id="application__municipality_id")
    )


def authority_messages(user) -> QuerySet[Message]:
    """Messages on the applications the coordinator or reviewer ``user`` may read."""
    return Message.objects.filter(application__in=Application.objects.visible_to(user))


def unread_by_application(user, *, side: str) -> dict[int, int]:
    """How many messages of the other side ``user`` has not read, by application."""
    messages = staff_messages(user) if side == Side.MUNICIPALITY else authority_messages(user)
    rows = (
        messages.unread_by(user, side=side)
        .order_by()
        .values("application_id")
        .annotate(unread=Count("pk"))
    )
    return {row["application_id"]: row["unread"] for row in rows}


def open_requests(messages: QuerySet[Message]) -> list[Message]:
    """The open requests among ``messages``, the earliest due first, each marked ``overdue``."""
    today = timezone.localdate()
    requests = list(
        messages.open_requests()
        .select_related("application__competition", "application__municipality")
        .order_by("due_on", "sent_at")
    )
    for request in requests:
        request.overdue = request.due_on < today
    return requests


def open_request_counts() -> QuerySet:
    """Per application, its open requests and how many of them are overdue (for lists)."""
    today = timezone.localdate()
    return (
        Message.objects.open_requests()
        .order_by()
        .values("application_id")
        .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(due_on__lt=today)))
    )


def admin_inbox(user) -> dict:
    """For the admin's index: the municipalities' messages ``user`` has not read, and the open
    requests (overdue ones apart), of the applications the user may read."""
    messages = authority_messages(user)
    today = timezone.localdate()
    requests = messages.open_requests()
    return {
        "unread": messages.unread_by(user, side=Side.AUTHORITY).count(),
        "open_requests": requests.count(),
        "overdue": requests.filter(due_on__lt=today).count(),
    }
