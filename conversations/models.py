"""Messages between the region and a municipality about one application (and its grant, which
continues it): requests for clarification and their answers, and objections to a decision.

Messages are append-only: never changed or deleted, a correction is a new message. Who read
each message, and when, is recorded apart (``MessageRead``)."""

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.models import Application
from competitions.models import MONEY


class Side(models.TextChoices):
    AUTHORITY = "authority", _("the region")
    MUNICIPALITY = "municipality", _("the municipality")


class Kind(models.TextChoices):
    MESSAGE = "message", _("message")
    REQUEST = "request", _("request for clarification")
    ANSWER = "answer", _("answer")
    OBJECTION = "objection", _("objection")
    OUTCOME = "outcome", _("outcome of an objection")


class MessageQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Messages are append-only.")

    def delete(self):
        raise TypeError("Messages are append-only.")

    def read_by(self, user):
        return self.filter(Exists(MessageRead.objects.filter(message=OuterRef("pk"), user=user)))

    def unread_by(self, user, *, side: str):
        """Messages of the other side that ``user`` (on ``side``) has not opened yet."""
        return self.exclude(side=side).exclude(
            Exists(MessageRead.objects.filter(message=OuterRef("pk"), user=user))
        )

    def open_requests(self):
        """Requests for clarification no answer has closed."""
        return self.filter(kind=Kind.REQUEST).exclude(
            Exists(Message.objects.filter(answer_to=OuterRef("pk")))
        )


class Message(models.Model):
    Side = Side
    Kind = Kind

    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        related_name="messages",
        on_delete=models.PROTECT,
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        related_name="+",
        on_delete=models.PROTECT,
    )
    side = models.CharField(_("side"), max_length=20, choices=Side.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.MESSAGE)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now, db_index=True)
    body = models.TextField(_("message"))
    due_on = models.DateField(_("answer due on"), null=True, blank=True)
    answer_to = models.ForeignKey(
        "self",
        verbose_name=_("answer to"),
        related_name="answers",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["sent_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.CheckConstraint(
                condition=Q(side__in=Side.values) & Q(kind__in=Kind.values),
                name="message_side_and_kind_valid",
                violation_error_message=_("Unknown side or kind of message."),
            ),
            models.CheckConstraint(
                condition=(Q(kind=Kind.REQUEST, due_on__isnull=False, side=Side.AUTHORITY))
                | (~Q(kind=Kind.REQUEST) & Q(due_on__isnull=True)),
                name="message_request_has_due_date",
                violation_error_message=_(
                    "A request for clarification is the region's and has a due date; no other "
                    "message has one."
                ),
            ),
            models.CheckConstraint(
                condition=Q(kind=Kind.ANSWER, answer_to__isnull=False, side=Side.MUNICIPALITY)
                | (~Q(kind=Kind.ANSWER) & Q(answer_to__isnull=True)),
                name="message_answer_answers_a_request",
                violation_error_message=_("An answer is the municipality's, to one request."),
            ),
            models.UniqueConstraint(
                fields=["answer_to"],
                condition=Q(answer_to__isnull=False),
                name="message_one_answer_per_request",
                violation_error_message=_("This request has been answered already."),
            ),
            models.CheckConstraint(
                condition=~Q(body=""),
                name="message_not_empty",
                violation_error_message=_("A message cannot be empty."),
            ),
        ]

    def __str__(self):
        return f"{self.application} · {self.sent_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise TypeError("Messages are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Messages are append-only.")

    @property
    def is_request(self) -> bool:
        return self.kind == Kind.REQUEST


def attachment_upload_path(attachment: "Attachment", filename: str) -> str:
    # The service names the file with a random token; the user's name is kept apart.
    return f"messages/{attachment.message.application_id}/{filename}"


class Attachment(models.Model):
    message = models.ForeignKey(
        Message, verbose_name=_("message"), related_name="attachments", on_delete=models.PROTECT
    )
    file = models.FileField(_("file"), upload_to=attachment_upload_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)

    class Meta:
        ordering = ["message", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        constraints = [
            models.CheckConstraint(
                condition=Q(size__gt=0),
                name="attachment_not_empty",
                violation_error_message=_("A document cannot be empty."),
            ),
        ]

    def __str__(self):
        return self.original_name


class MessageRead(models.Model):
    """Who opened a message, and when: the first time only."""

    message = models.ForeignKey(
        Message, verbose_name=_("message"), related_name="reads", on_delete=models.CASCADE
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("read by"),
        related_name="+",
        on_delete=models.CASCADE,
    )
    read_at = models.DateTimeField(_("read at"), default=timezone.now)

    class Meta:
        ordering = ["read_at", "id"]
        verbose_name = _("read receipt")
        verbose_name_plural = _("read receipts")
        constraints = [
            models.UniqueConstraint(fields=["message", "user"], name="message_read_once_per_user")
        ]

    def __str__(self):
        return f"{self.message_id} · {self.user}"


class Outcome(models.TextChoices):
    UPHELD = "upheld", _("upheld")
    PARTLY_UPHELD = "partly_upheld", _("partly upheld")
    REJECTED = "rejected", _("rejected")


class Objection(models.Model):
    """A municipality's objection to the decision on its application, and the coordinators'
    outcome. Lodged once per application, within the call's objection period."""

    Outcome = Outcome

    application = models.OneToOneField(
        Application,
        verbose_name=_("application"),
        related_name="objection",
        on_delete=models.PROTECT,
    )
    message = models.OneToOneField(
        Message,
        verbose_name=_("the objection's message"),
        related_name="objection",
        on_delete=models.PROTECT,
    )
    lodged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lodged by"),
        related_name="+",
        on_delete=models.PROTECT,
    )
    lodged_at = models.DateTimeField(_("lodged at"), default=timezone.now)
    deadline = models.DateField(_("last day to object"))
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reply = models.OneToOneField(
        Message,
        verbose_name=_("the reasoned reply"),
        related_name="objection_replied",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    award_before = models.DecimalField(_("award before"), **MONEY, null=True, blank=True)
    award_after = models.DecimalField(_("award after"), **MONEY, null=True, blank=True)

    class Meta:
        ordering = ["-lodged_at", "-id"]
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="", decided_at__isnull=True, reply__isnull=True)
                | Q(
                    outcome__in=Outcome.values,
                    decided_at__isnull=False,
                    decided_by__isnull=False,
                    reply__isnull=False,
                ),
                name="objection_decided_with_reply",
                violation_error_message=_(
                    "An objection's outcome is recorded with who decided, when, and the reply."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.application} · {self.get_outcome_display() or _('awaiting the outcome')}"

    @property
    def is_decided(self) -> bool:
        return bool(self.outcome)
