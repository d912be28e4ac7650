"""Every write on messages and objections. Each service runs in one transaction, takes plain
keyword-only arguments, and refuses with ``competitions.rules.refusal``. Mail goes after the
transaction commits (``notifications``)."""

import datetime
import uuid
from collections.abc import Sequence
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from applications.models import Application, ApplicationStatus, AwardLetter
from applications.services import allocation_reconsider, files_removed_on_failure
from applications.services.common import as_money, lock_application
from applications.uploads import check_document
from competitions import roles
from competitions.rules import refusal, refuse_if_any
from grants.models import Grant
from grants.services import grants_open

from . import notifications
from .models import Attachment, Kind, Message, MessageRead, Objection, Outcome, Side

MAX_ATTACHMENTS_PER_MESSAGE = 10


def side_of(user, application: Application) -> str | None:
    """Which side ``user`` writes for on ``application``'s thread; None when they may not:
    the municipality's staff, and of the region its coordinators and the call's reviewers."""
    if roles.acts_for(user, application.municipality):
        return Side.MUNICIPALITY
    if roles.is_coordinator(user) or roles.reviews_call(user, application.competition):
        return Side.AUTHORITY
    return None


def thread_open(application: Application) -> bool:
    """A draft has no thread: the region sees an application once it is submitted."""
    return application.status != ApplicationStatus.DRAFT


def message_post(
    *,
    application: Application,
    by: User,
    body: str,
    files: Sequence[File] = (),
    due_on: datetime.date | None = None,
    answer_to: Message | None = None,
    kind: str = Kind.MESSAGE,
) -> Message:
    """Write a message on the application's thread, with its attachments.

    ``due_on`` makes it a request for clarification (coordinators only); ``answer_to`` makes it
    the municipality's answer to an open request, which closes it.
    """
    with files_removed_on_failure() as stored, transaction.atomic():
        message = _message_write(
            stored,
            application=application,
            by=by,
            body=body,
            files=files,
            due_on=due_on,
            answer_to=answer_to,
            kind=kind,
        )
        transaction.on_commit(lambda: notifications.message_posted(message))
        return message


def _message_write(
    stored: list, *, application, by, body, files, due_on, answer_to, kind
) -> Message:
    """The message and its files, in the caller's transaction; refused with every problem.
    The files stored are added to ``stored``, which the caller removes if it does not commit."""
    # A request answered twice at once: the request's row lock makes the second answer wait
    # and find the first (the unique constraint backs it up).
    if answer_to is not None:
        answer_to = Message.objects.select_for_update().get(pk=answer_to.pk)
        kind = Kind.ANSWER
    elif due_on is not None:
        kind = Kind.REQUEST
    side = side_of(by, application)
    today = timezone.localdate()
    problems = []
    if side is None:
        raise refusal(_("You cannot write on this application's thread."), "not_a_party")
    if not thread_open(application):
        raise refusal(
            _("Messages can be written once the application is submitted."), "thread_not_open"
        )
    if not body.strip():
        problems.append(refusal(_("Write the message."), "empty_message"))
    if kind == Kind.REQUEST:
        if not roles.is_coordinator(by):
            problems.append(
                refusal(_("Only a coordinator can request clarification."), "not_coordinator")
            )
        elif due_on < today:
            problems.append(
                refusal(
                    _("The answer cannot be due before today (%(today)s)."),
                    "due_in_the_past",
                    today=date_format(today, "SHORT_DATE_FORMAT"),
                )
            )
    if kind == Kind.ANSWER:
        if side != Side.MUNICIPALITY:
            problems.append(
                refusal(_("Only the municipality answers a request."), "not_municipality")
            )
        elif answer_to.application_id != application.pk or answer_to.kind != Kind.REQUEST:
            problems.append(refusal(_("This is not a request of this thread."), "not_a_request"))
        elif answer_to.answers.exists():
            problems.append(
                refusal(_("This request has been answered already."), "already_answered")
            )
    if len(files) > MAX_ATTACHMENTS_PER_MESSAGE:
        problems.append(
            refusal(
                _("A message may have at most %(max)s attachments."),
                "too_many_attachments",
                max=MAX_ATTACHMENTS_PER_MESSAGE,
            )
        )
    checked = []
    for file in files:
        try:
            checked.append((file, check_document(file)))
        except ValidationError as error:
            problems.append(error)
    refuse_if_any(problems)
    message = Message.objects.create(
        application=application,
        author=by,
        side=side,
        kind=kind,
        body=body.strip(),
        due_on=due_on if kind == Kind.REQUEST else None,
        answer_to=answer_to,
    )
    for file, document in checked:
        attachment = Attachment(
            message=message,
            original_name=document.name,
            content_type=document.content_type,
            size=document.size,
            sha256=document.sha256,
        )
        # The stored name is random: it cannot collide, traverse or be guessed. Through the
        # storage's API only: the files may live in an object store.
        attachment.file.save(f"{uuid.uuid4().hex}{document.extension}", file, save=False)
        stored.append(attachment.file)
        attachment.save()
    return message


def thread_mark_read(*, application: Application, user: User) -> int:
    """Record that ``user`` has read every message of the thread written by the other side;
    the first reading is kept. Returns how many were new to them."""
    side = side_of(user, application)
    if side is None:
        return 0
    unread = list(application.messages.unread_by(user, side=side).values_list("pk", flat=True))
    now = timezone.now()
    MessageRead.objects.bulk_create(
        [MessageRead(message_id=pk, user=user, read_at=now) for pk in unread],
        ignore_conflicts=True,
    )
    return len(unread)


# --- objections -------------------------------------------------------------------------------


def decision_letter(application: Application) -> AwardLetter | None:
    """The first decision letter issued on the application: the objection period runs from it."""
    return application.letters.order_by("issued_at", "id").first()


def objection_deadline(application: Application) -> datetime.date | None:
    """The last day to object to the decision, or None while no letter has been issued."""
    letter = decision_letter(application)
    if letter is None:
        return None
    return application.competition.objection_deadline(timezone.localdate(letter.issued_at))


def objection_problems(
    application: Application, *, today: datetime.date, deadline=None, lodged=None
) -> list:
    """Why the municipality cannot object now; nothing if it can. A page that has read the
    deadline and whether one is lodged passes them."""
    if application.status not in (ApplicationStatus.AWARDED, ApplicationStatus.REJECTED):
        return [refusal(_("Only a decided application can be objected to."), "not_decided")]
    deadline = deadline or objection_deadline(application)
    if deadline is None:
        return [
            refusal(
                _(
                    "The decision letter has not been issued yet; the objection period starts with it."
                ),
                "no_letter",
            )
        ]
    if lodged if lodged is not None else Objection.objects.filter(application=application).exists():
        return [refusal(_("An objection to this decision has been lodged already."), "lodged")]
    if today > deadline:
        return [
            refusal(
                _(
                    "The objection period ended on %(deadline)s; an objection can no longer be lodged."
                ),
                "objection_period_over",
                deadline=date_format(deadline, "SHORT_DATE_FORMAT"),
            )
        ]
    return []


def objection_state(application: Application) -> dict:
    """What a page shows of the objection: the one lodged, the last day, whether one may be
    lodged today."""
    if application.status not in (ApplicationStatus.AWARDED, ApplicationStatus.REJECTED):
        return {"objection": None, "objection_deadline": None, "may_object": False}
    objection = Objection.objects.filter(application=application).first()
    deadline = objection_deadline(application)
    problems = objection_problems(
        application,
        today=timezone.localdate(),
        deadline=deadline,
        lodged=objection is not None,
    )
    return {"objection": objection, "objection_deadline": deadline, "may_object": not problems}


def objection_lodge(
    *, application: Application, by: User, reasons: str, files: Sequence[File] = ()
) -> Objection:
    """The municipality objects to the decision, with its reasons and documents, within the
    call's objection period. The objection is a message of the thread too."""
    with files_removed_on_failure() as stored, transaction.atomic():
        # Two colleagues objecting at once would both find none lodged yet.
        application = lock_application(application.pk)
        if not roles.acts_for(by, application.municipality):
            raise refusal(_("Only the municipality's staff can object."), "not_staff")
        refuse_if_any(objection_problems(application, today=timezone.localdate()))
        message = _message_write(
            stored,
            application=application,
            by=by,
            body=reasons,
            files=files,
            due_on=None,
            answer_to=None,
            kind=Kind.OBJECTION,
        )
        objection = Objection.objects.create(
            application=application,
            message=message,
            lodged_by=by,
            lodged_at=message.sent_at,
            deadline=objection_deadline(application),
        )
        transaction.on_commit(lambda: notifications.objection_lodged(objection))
        return objection


def objection_decide(
    *,
    objection: Objection,
    by: User,
    outcome: str,
    reply: str,
    document: File | None,
    amount: Decimal | None = None,
) -> Objection:
    """A coordinator records the outcome with a reasoned reply document. Where it is upheld
    and changes the award, the new award goes through the money door like any allocation: over
    the pool, the cap or the request it is refused, and nothing is recorded."""
    with files_removed_on_failure() as stored, transaction.atomic():
        # Two coordinators recording an outcome at once would both find it undecided.
        objection = Objection.objects.select_for_update().get(pk=objection.pk)
        application = objection.application
        problems = []
        if not roles.is_coordinator(by):
            raise refusal(_("Only a coordinator decides an objection."), "not_coordinator")
        if objection.is_decided:
            raise refusal(_("The outcome of this objection is recorded already."), "decided")
        if outcome not in Outcome.values:
            problems.append(refusal(_("Choose the outcome."), "no_outcome"))
        if document is None:
            problems.append(
                refusal(_("Attach the reasoned reply document."), "reply_document_required")
            )
        if outcome == Outcome.REJECTED and amount is not None:
            problems.append(
                refusal(
                    _("A rejected objection leaves the award as it is."), "rejected_with_amount"
                )
            )
        refuse_if_any(problems)
        reply_message = _message_write(
            stored,
            application=application,
            by=by,
            body=reply,
            files=[document],
            due_on=None,
            answer_to=None,
            kind=Kind.OUTCOME,
        )
        before = application.awarded_amount
        after = before
        if amount is not None:
            amount = as_money(amount, field=_("The awarded amount"))
            if amount < before:
                raise refusal(
                    _(
                        "An objection upheld does not lower the award: %(amount)s is less than "
                        "the award of %(awarded)s."
                    ),
                    "objection_lowers_award",
                    amount=amount,
                    awarded=before,
                )
            if amount != before:
                was_rejected = application.status == ApplicationStatus.REJECTED
                application = allocation_reconsider(
                    application=application,
                    amount=amount,
                    by=by,
                    reason=_("Objection %(outcome)s: %(reply)s")
                    % {"outcome": Outcome(outcome).label, "reply": reply.strip()},
                )
                after = application.awarded_amount
                if was_rejected and not Grant.objects.filter(application=application).exists():
                    grants_open(competition=application.competition, awarded=[application], by=by)
        objection.outcome = outcome
        objection.decided_by = by
        objection.decided_at = reply_message.sent_at
        objection.reply = reply_message
        objection.award_before = before
        objection.award_after = after
        objection.save(
            update_fields=[
                "outcome",
                "decided_by",
                "decided_at",
                "reply",
                "award_before",
                "award_after",
            ]
        )
        transaction.on_commit(lambda: notifications.objection_decided(objection))
        return objection
