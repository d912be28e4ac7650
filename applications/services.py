"""Every write with a rule: applications, reviews, the allocation of money, the decision and
its letters.

Each service runs in one transaction and takes plain, keyword-only arguments. A refusal is a
``ValidationError`` with a ``code`` and a message that names the rule and the amounts.

Money has one door, ``_set_awarded_amount``. Everything that changes an awarded amount (an
allocation edit, an applied proposal, a withdrawal) reaches it with the call's row locked by
``_lock_competition``, re-reads the call's totals under that lock, and writes the
``AllocationEvent`` in the same transaction.
"""

import hashlib
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from competitions.formatting import format_money
from competitions.models import Competition, Municipality

from . import letters, notifications
from .models import (
    AllocationEvent,
    Application,
    ApplicationStatus,
    AwardLetter,
    CriterionScore,
    NumberSequence,
    PlannedActivity,
    Review,
    SupportingDocument,
    snapshot_digest,
)
from .uploads import MAX_DOCUMENTS_PER_APPLICATION, check_document

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
# The largest amount a DecimalField(max_digits=12, decimal_places=2) holds.
MONEY_LIMIT = Decimal("9999999999.99")


# --- shared pieces --------------------------------------------------------------------------


def _refuse(message: str, code: str, **params) -> ValidationError:
    """A refusal whose amounts are already written the Latvian way (``9 800,00 €``)."""
    shown = {
        key: format_money(value) if isinstance(value, Decimal) else value
        for key, value in params.items()
    }
    return ValidationError(message, code=code, params=shown)


def _lock_competition(competition_id: int) -> Competition:
    # Two coordinators allocating in the same call at the same moment would both read the
    # same total and together exceed the pool; a submission racing the decision could slip
    # in after the applications were decided. Every write that touches a call's money or
    # state takes this row lock first, so they queue here and each re-reads what the one
    # before it committed.
    return Competition.objects.select_for_update().get(pk=competition_id)


def _lock_application(application_id: int) -> Application:
    # Two browser tabs saving the same draft, or a save racing the submission, would
    # interleave their activity writes; the row lock makes them take turns.
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("competition", "municipality")
        .get(pk=application_id)
    )


def _editable_draft(application_id: int, by) -> Application:
    """The application, locked, if ``by`` acts for its municipality and it is still a draft."""
    application = _lock_application(application_id)
    _ensure_staff(by, application.municipality)
    if not application.is_draft:
        raise _refuse(
            _("Application %(reference)s has been submitted and can no longer be changed."),
            "not_draft",
            reference=application.reference,
        )
    return application


def _ensure_staff(user, municipality: Municipality) -> None:
    if not municipality.staff.filter(pk=user.pk).exists():
        raise _refuse(
            _("Only staff of %(municipality)s can do this."),
            "not_municipality_staff",
            municipality=municipality.name,
        )


def _ensure_eligible(competition: Competition, municipality: Municipality) -> None:
    if not competition.eligible_municipalities.filter(pk=municipality.pk).exists():
        raise _refuse(
            _("%(municipality)s is not among the municipalities eligible for this call."),
            "not_eligible",
            municipality=municipality.name,
        )


def _problems(error: ValidationError) -> list[ValidationError]:
    """The single errors inside a ValidationError, whether it holds a dict or a list."""
    if hasattr(error, "error_dict"):
        return [problem for problems in error.error_dict.values() for problem in problems]
    return error.error_list


def _riga_time(moment) -> str:
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _ensure_accepting(competition: Competition, now) -> None:
    """The call is published and its deadline has not passed."""
    if competition.status != Competition.Status.PUBLISHED:
        raise _refuse(
            _("The call “%(call)s” is not accepting applications."),
            "call_not_open",
            call=competition.title,
        )
    if now >= competition.closes_at:
        raise _refuse(
            _("The deadline of the call passed on %(deadline)s (Riga time)."),
            "deadline_passed",
            deadline=_riga_time(competition.closes_at),
        )


def next_number(key: str) -> int:
    """The next number of a counter, inside the caller's transaction.

    The counter's row stays locked until the caller commits, so two callers never get the
    same number, and a caller that rolls back gives its number back.
    """
    sequence = NumberSequence.objects.select_for_update().filter(key=key).first()
    if sequence is None:
        try:
            # A savepoint: when another transaction creates the same counter first, this
            # insert waits for it, fails on the unique key, and we lock the row it made.
            with transaction.atomic():
                sequence = NumberSequence.objects.create(key=key)
        except IntegrityError:
            sequence = NumberSequence.objects.select_for_update().get(key=key)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return sequence.last_value


def _as_money(amount, *, field: str) -> Decimal:
    """Refuse anything that is not a finite amount in whole cents."""
    try:
        value = Decimal(amount)
        finite = value.is_finite()
    except (InvalidOperation, TypeError, ValueError):
        finite = False
    if not finite or value != value.quantize(CENT, rounding=ROUND_HALF_UP):
        raise _refuse(
            _("%(field)s must be an amount in euros with at most two decimal places."),
            "invalid_amount",
            field=field,
        )
    if abs(value) > MONEY_LIMIT:
        raise _refuse(
            _("%(field)s is too large: at most %(limit)s."),
            "amount_too_large",
            field=field,
            limit=MONEY_LIMIT,
        )
    return value


def _excess_over_cap_message(requested: Decimal, cap: Decimal) -> ValidationError:
    return _refuse(
        _(
            "The requested amount %(requested)s exceeds the maximum award per municipality "
            "of %(cap)s by %(excess)s."
        ),
        "over_cap",
        requested=requested,
        cap=cap,
        excess=requested - cap,
    )


# --- applications ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ApplicationDetails:
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    goals: str = ""
    target_groups: str = ""
    summary: str = ""


@dataclass(frozen=True, kw_only=True)
class ActivityData:
    category_id: int
    title: str
    cost: Decimal
    description: str = ""
    starts_on: date | None = None
    ends_on: date | None = None
    target_group: str = ""
    expected_result: str = ""
    id: int | None = None  # an existing activity of the application, to be updated


#: What an application must have before it can be submitted (a draft may lack them).
REQUIRED_TO_SUBMIT = {
    "contact_name": gettext_lazy("contact person"),
    "contact_email": gettext_lazy("contact e-mail"),
    "goals": gettext_lazy("goals"),
    "target_groups": gettext_lazy("target groups"),
    "summary": gettext_lazy("summary"),
}
ACTIVITY_REQUIRED_TO_SUBMIT = {
    "description": gettext_lazy("description"),
    "starts_on": gettext_lazy("starts on"),
    "ends_on": gettext_lazy("ends on"),
    "target_group": gettext_lazy("target group"),
    "expected_result": gettext_lazy("expected result"),
}


@transaction.atomic
def application_start(*, competition: Competition, municipality: Municipality, by) -> Application:
    """Open a draft application of a municipality in a call."""
    competition = Competition.objects.get(pk=competition.pk)
    _ensure_staff(by, municipality)
    _ensure_accepting(competition, timezone.now())
    _ensure_eligible(competition, municipality)
    try:
        with transaction.atomic():
            application = Application(
                competition=competition, municipality=municipality, created_by=by
            )
            application._history_user = by
            application.save()
    except IntegrityError:
        raise _refuse(
            _("%(municipality)s already has an application in this call."),
            "already_exists",
            municipality=municipality.name,
        ) from None
    return application


@transaction.atomic
def application_update_draft(
    *,
    application: Application,
    by,
    details: ApplicationDetails,
    activities: Sequence[ActivityData],
) -> Application:
    """Save a draft and its activities; ``requested_amount`` becomes the sum of the costs.

    Activities not in ``activities`` are deleted; those with an ``id`` are updated.
    """
    application = _editable_draft(application.pk, by)
    competition = application.competition
    _ensure_accepting(competition, timezone.now())

    allowed_categories = set(competition.categories.values_list("pk", flat=True))
    existing = {activity.pk: activity for activity in application.activities.all()}
    errors = []
    total = Decimal("0.00")
    to_save = []
    for position, data in enumerate(activities, start=1):
        if data.id is not None and data.id not in existing:
            raise _refuse(
                _("Activity %(number)s does not belong to this application."),
                "unknown_activity",
                number=position,
            )
        if data.category_id not in allowed_categories:
            errors.append(
                _refuse(
                    _("Activity %(number)s: its category is not one of this call's categories."),
                    "category_not_in_call",
                    number=position,
                )
            )
        cost = _as_money(
            data.cost, field=_("The cost of activity %(number)s") % {"number": position}
        )
        total += cost
        activity = (
            existing.pop(data.id)
            if data.id is not None
            else PlannedActivity(application=application)
        )
        for field in (
            "category_id",
            "title",
            "description",
            "starts_on",
            "ends_on",
            "target_group",
            "expected_result",
        ):
            setattr(activity, field, getattr(data, field))
        activity.cost = cost
        activity.order = position
        try:
            activity.full_clean(exclude=["application", "category"])
        except ValidationError as error:
            errors.extend(
                _refuse(
                    _("Activity %(number)s: %(problem)s"),
                    problem.code or "invalid",
                    number=position,
                    problem=" ".join(problem.messages),
                )
                for problem in _problems(error)
            )
        to_save.append(activity)
    if total > MONEY_LIMIT:
        errors.append(
            _refuse(
                _("The total of the activities is too large: at most %(limit)s."),
                "amount_too_large",
                limit=MONEY_LIMIT,
            )
        )
    elif total > competition.max_award_amount:
        errors.append(_excess_over_cap_message(total, competition.max_award_amount))
    if errors:
        raise ValidationError(errors)

    for field, value in vars(details).items():
        setattr(application, field, value)
    application.requested_amount = total
    application._history_user = by
    application.save()
    for activity in existing.values():
        activity._history_user = by
        activity.delete()
    for activity in to_save:
        activity._history_user = by
        activity.save()
    return application


def _missing_for_submission(application: Application, activities) -> list[str]:
    missing = [
        str(label) for field, label in REQUIRED_TO_SUBMIT.items() if not getattr(application, field)
    ]
    for number, activity in enumerate(activities, start=1):
        missing.extend(
            _("activity %(number)s: %(field)s") % {"number": number, "field": label}
            for field, label in ACTIVITY_REQUIRED_TO_SUBMIT.items()
            if not getattr(activity, field)
        )
    return missing


def build_snapshot(application: Application, activities, documents) -> dict:
    """The application as submitted, in plain JSON types, for its receipt and its digest."""
    return {
        "reference": application.reference,
        "call": {
            "slug": application.competition.slug,
            "title": application.competition.title_lv,
            "max_award_amount": str(application.competition.max_award_amount),
        },
        "municipality": application.municipality.name,
        "submitted_at": application.submitted_at.isoformat(),
        "submitted_by": application.submitted_by.get_username(),
        "contact": {
            "name": application.contact_name,
            "email": application.contact_email,
            "phone": application.contact_phone,
        },
        "goals": application.goals,
        "target_groups": application.target_groups,
        "summary": application.summary,
        "requested_amount": str(application.requested_amount),
        "activities": [
            {
                "category": activity.category.code,
                "title": activity.title,
                "description": activity.description,
                "starts_on": activity.starts_on.isoformat() if activity.starts_on else None,
                "ends_on": activity.ends_on.isoformat() if activity.ends_on else None,
                "target_group": activity.target_group,
                "expected_result": activity.expected_result,
                "cost": str(activity.cost),
            }
            for activity in activities
        ],
        "documents": [
            {"name": document.original_name, "size": document.size, "sha256": document.sha256}
            for document in documents
        ],
    }


@transaction.atomic
def application_submit(*, application: Application, by) -> Application:
    """Submit a draft: freeze its snapshot with a SHA-256 and give it a reference number."""
    application = _lock_application(application.pk)
    competition = application.competition
    _ensure_staff(by, application.municipality)
    if not application.is_draft:
        raise _refuse(
            _("Application %(reference)s has already been submitted."),
            "not_draft",
            reference=application.reference,
        )
    now = timezone.now()
    _ensure_accepting(competition, now)
    if now < competition.opens_at:
        raise _refuse(
            _("The call opens for submissions on %(opens)s (Riga time)."),
            "call_not_open_yet",
            opens=_riga_time(competition.opens_at),
        )
    _ensure_eligible(competition, application.municipality)

    activities = list(application.activities.select_related("category"))
    problems = []
    if not activities:
        problems.append(
            _refuse(_("Add at least one planned activity before submitting."), "no_activities")
        )
    missing = _missing_for_submission(application, activities)
    if missing:
        problems.append(
            _refuse(
                _("Fill in before submitting: %(fields)s."),
                "incomplete",
                fields="; ".join(missing),
            )
        )
    if application.requested_amount > competition.max_award_amount:
        problems.append(
            _excess_over_cap_message(application.requested_amount, competition.max_award_amount)
        )
    if problems:
        raise ValidationError(problems)

    year = timezone.localtime(competition.opens_at).year
    application.reference = f"REM-{year}-{next_number(f'application:{year}'):03d}"
    application.status = ApplicationStatus.SUBMITTED
    application.submitted_at = now
    application.submitted_by = by
    application.snapshot = build_snapshot(application, activities, application.documents.all())
    application.snapshot_sha256 = snapshot_digest(application.snapshot)
    application._history_user = by
    application.save()
    transaction.on_commit(lambda: notifications.application_submitted(application))
    return application


@transaction.atomic
def application_withdraw(*, application: Application, by) -> Application:
    """Withdraw a submitted application before the decision; any allocation returns to the pool."""
    competition = _lock_competition(application.competition_id)
    application = _lock_application(application.pk)
    _ensure_staff(by, application.municipality)
    if competition.is_decided:
        raise _refuse(
            _("The call has been decided; application %(reference)s can no longer be withdrawn."),
            "decided",
            reference=application.reference,
        )
    if application.status != ApplicationStatus.SUBMITTED:
        raise _refuse(
            _("Only a submitted application can be withdrawn; this one is %(status)s."),
            "not_submitted",
            status=application.get_status_display(),
        )
    if application.awarded_amount:
        _set_awarded_amount(
            competition=competition,
            application=application,
            amount=Decimal("0.00"),
            by=by,
            reason=_("The municipality withdrew the application."),
            allocated_total=_allocated_total(competition),
        )
    application.status = ApplicationStatus.WITHDRAWN
    application.withdrawn_at = timezone.now()
    application._history_user = by
    application.save(update_fields=["status", "withdrawn_at", "updated_at"])
    return application


@transaction.atomic
def application_delete_draft(*, application: Application, by) -> None:
    """Discard a draft that was never submitted, with its activities and documents."""
    application = _editable_draft(application.pk, by)
    files = [document.file for document in application.documents.all()]
    application._history_user = by
    application.delete()
    # The files go only once the rows are gone for good.
    transaction.on_commit(lambda: [file.delete(save=False) for file in files])


# --- supporting documents -------------------------------------------------------------------


@transaction.atomic
def document_add(*, application: Application, by, file) -> SupportingDocument:
    """Attach a document to a draft; its content decides whether it is accepted."""
    application = _editable_draft(application.pk, by)
    _ensure_accepting(application.competition, timezone.now())
    if application.documents.count() >= MAX_DOCUMENTS_PER_APPLICATION:
        raise _refuse(
            _("An application may have at most %(max)s documents."),
            "too_many_documents",
            max=MAX_DOCUMENTS_PER_APPLICATION,
        )
    checked = check_document(file)
    document = SupportingDocument(
        application=application,
        original_name=checked.name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=by,
    )
    # The stored name is random: it cannot collide, traverse or be guessed.
    document.file.save(f"{uuid.uuid4().hex}{checked.extension}", file, save=False)
    try:
        document.save()
    except Exception:
        # The row did not make it: the file must not stay behind without it.
        document.file.delete(save=False)
        raise
    return document


@transaction.atomic
def document_delete(*, document: SupportingDocument, by) -> None:
    """Remove a document from a draft; the file goes once the row is gone for good."""
    _editable_draft(document.application_id, by)
    file = document.file
    document.delete()
    transaction.on_commit(lambda: file.delete(save=False))


@transaction.atomic
def application_save_draft(
    *,
    application: Application,
    by,
    details: ApplicationDetails,
    activities: Sequence[ActivityData],
    new_files: Sequence = (),
    removed_document_ids: Sequence[int] = (),
) -> Application:
    """Everything the application form saves, in one transaction: the general part, the
    activities, and the documents removed and attached. A refusal of any part saves none."""
    application = application_update_draft(
        application=application, by=by, details=details, activities=activities
    )
    for document in application.documents.filter(pk__in=removed_document_ids):
        document_delete(document=document, by=by)
    added = []
    try:
        for file in new_files:
            added.append(document_add(application=application, by=by, file=file))
    except Exception:
        # The whole save rolls back; files already written for it must go as well.
        for document in added:
            document.file.delete(save=False)
        raise
    return application


# --- reviews --------------------------------------------------------------------------------


def weighted_score(criteria, points_by_criterion: Mapping[int, int]) -> Decimal:
    """A review's score out of 100: each criterion's share of its maximum, weighted."""
    total_weight = sum(criterion.weight for criterion in criteria)
    earned = sum(
        criterion.weight * Decimal(points_by_criterion[criterion.pk]) / criterion.max_points
        for criterion in criteria
    )
    return (Decimal(100) * earned / total_weight).quantize(CENT, rounding=ROUND_HALF_UP)


@transaction.atomic
def review_record(
    *,
    application: Application,
    reviewer,
    scores: Mapping[int, int],
    comment: str = "",
    conflict_of_interest: bool = False,
    conflict_note: str = "",
) -> Review:
    """Record (or change) a reviewer's review of a submitted application.

    ``scores`` maps each of the call's criterion ids to points. A declared conflict of
    interest records no scores and leaves the review out of the ranking.
    """
    # The decision reads every review of the call; the same lock keeps a late review out.
    competition = _lock_competition(application.competition_id)
    application = Application.objects.select_related("municipality").get(pk=application.pk)
    if not competition.reviewers.filter(pk=reviewer.pk).exists():
        raise _refuse(
            _("You are not a reviewer of the call “%(call)s”."),
            "not_assigned",
            call=competition.title,
        )
    if application.municipality.staff.filter(pk=reviewer.pk).exists():
        raise _refuse(
            _("You act for %(municipality)s and cannot review its application."),
            "own_municipality",
            municipality=application.municipality.name,
        )
    if application.status != ApplicationStatus.SUBMITTED:
        raise _refuse(
            _(
                "Only submitted applications awaiting a decision can be reviewed; this one is %(status)s."
            ),
            "not_reviewable",
            status=application.get_status_display(),
        )

    criteria = list(competition.criteria.all())
    points: dict[int, int] = {}
    if not conflict_of_interest:
        known = {criterion.pk: criterion for criterion in criteria}
        problems = []
        unknown = set(scores) - set(known)
        if unknown:
            problems.append(
                _refuse(_("Scores were given for criteria of another call."), "unknown_criterion")
            )
        for criterion in criteria:
            value = scores.get(criterion.pk)
            if value is None or value == "":
                problems.append(
                    _refuse(
                        _("%(criterion)s: not scored."), "missing_score", criterion=criterion.name
                    )
                )
                continue
            try:
                value = int(value)
            except (TypeError, ValueError):
                value = -1
            if not 0 <= value <= criterion.max_points:
                problems.append(
                    _refuse(
                        _("%(criterion)s: %(points)s points is outside 0–%(max)s."),
                        "points_out_of_range",
                        criterion=criterion.name,
                        points=scores.get(criterion.pk),
                        max=criterion.max_points,
                    )
                )
                continue
            points[criterion.pk] = value
        if not criteria:
            problems.append(_refuse(_("This call has no scoring criteria yet."), "no_criteria"))
        if problems:
            raise ValidationError(problems)

    review = (
        Review.objects.select_for_update()
        .filter(application=application, reviewer=reviewer)
        .first()
    ) or Review(application=application, reviewer=reviewer)
    review.conflict_of_interest = conflict_of_interest
    review.conflict_note = conflict_note
    review.comment = comment
    review.score = None if conflict_of_interest else weighted_score(criteria, points)
    review._history_user = reviewer
    review.save()

    existing = {score.criterion_id: score for score in review.scores.all()}
    for criterion_id, score in existing.items():
        if criterion_id not in points:
            score._history_user = reviewer
            score.delete()
    for criterion_id, value in points.items():
        score = existing.get(criterion_id) or CriterionScore(
            review=review, criterion_id=criterion_id
        )
        if score.pk is None or score.points != value:
            score.points = value
            score._history_user = reviewer
            score.save()
    return review


# --- money ----------------------------------------------------------------------------------


def _allocated_total(competition: Competition) -> Decimal:
    return competition.applications.aggregate(total=Sum("awarded_amount"))["total"] or Decimal(
        "0.00"
    )


def _set_awarded_amount(
    *,
    competition: Competition,
    application: Application,
    amount,
    by,
    reason: str,
    allocated_total: Decimal,
) -> Decimal:
    """The one place that writes ``awarded_amount``. Returns the call's new allocated total.

    The caller holds the lock of ``competition`` and passes the call's allocated total as read
    under that lock (this application's current award included).
    """
    amount = _as_money(amount, field=_("The awarded amount"))
    if competition.is_decided:
        raise _refuse(
            _("The call has been decided; its allocation is locked."), "allocation_locked"
        )
    if not reason.strip():
        raise _refuse(_("Give a reason for the change of the awarded amount."), "reason_required")
    if amount < 0:
        raise _refuse(
            _("The awarded amount cannot be negative (%(amount)s)."),
            "negative_amount",
            amount=amount,
        )
    if amount > 0 and application.status != ApplicationStatus.SUBMITTED:
        raise _refuse(
            _("Only a submitted application can be awarded money; %(reference)s is %(status)s."),
            "not_submitted",
            reference=application.reference or _("this draft"),
            status=application.get_status_display(),
        )
    if amount > application.requested_amount:
        raise _refuse(
            _(
                "%(municipality)s requested %(requested)s; an award of %(amount)s is more than "
                "the request by %(excess)s."
            ),
            "above_request",
            municipality=application.municipality.name,
            requested=application.requested_amount,
            amount=amount,
            excess=amount - application.requested_amount,
        )
    if amount > competition.max_award_amount:
        raise _refuse(
            _(
                "An award of %(amount)s exceeds the maximum per municipality of %(cap)s "
                "by %(excess)s."
            ),
            "over_cap",
            amount=amount,
            cap=competition.max_award_amount,
            excess=amount - competition.max_award_amount,
        )
    if not competition.partial_awards_allowed and 0 < amount < application.requested_amount:
        raise _refuse(
            _(
                "This call does not allow partial awards: %(municipality)s can get the full "
                "%(requested)s or nothing, not %(amount)s."
            ),
            "partial_not_allowed",
            municipality=application.municipality.name,
            requested=application.requested_amount,
            amount=amount,
        )
    others = allocated_total - application.awarded_amount
    if others + amount > competition.pool_amount:
        raise _refuse(
            _(
                "An award of %(amount)s would exceed the pool of %(pool)s: %(others)s is already "
                "allocated to other applications, so at most %(remaining)s remains; the award is "
                "over by %(excess)s."
            ),
            "over_pool",
            amount=amount,
            pool=competition.pool_amount,
            others=others,
            remaining=competition.pool_amount - others,
            excess=others + amount - competition.pool_amount,
        )
    before = application.awarded_amount
    if amount == before:
        return allocated_total
    application.awarded_amount = amount
    application._history_user = by
    application.save(update_fields=["awarded_amount", "updated_at"])
    AllocationEvent.objects.create(
        competition=competition,
        application=application,
        amount_before=before,
        amount_after=amount,
        by=by,
        reason=reason,
    )
    return others + amount


@transaction.atomic
def allocation_set(*, application: Application, amount: Decimal, by, reason: str) -> Application:
    """Set the awarded amount of one application, within the request, the cap and the pool."""
    competition = _lock_competition(application.competition_id)
    application = Application.objects.select_related("municipality").get(pk=application.pk)
    _set_awarded_amount(
        competition=competition,
        application=application,
        amount=amount,
        by=by,
        reason=reason,
        allocated_total=_allocated_total(competition),
    )
    return application


@transaction.atomic
def allocation_apply_proposal(*, competition: Competition, by) -> list[Application]:
    """Set every awarded amount of the call to the proposal computed under the lock."""
    from .selectors import allocation_proposal

    competition = _lock_competition(competition.pk)
    proposal = allocation_proposal(competition=competition)
    # Lowering amounts first frees the pool before anything is raised, so no intermediate
    # state is ever over it.
    rows = sorted(proposal.rows, key=lambda row: row.amount - row.application.awarded_amount)
    total = _allocated_total(competition)
    for row in rows:
        total = _set_awarded_amount(
            competition=competition,
            application=row.application,
            amount=row.amount,
            by=by,
            reason=_("Proposal applied (rank %(rank)s): %(explanation)s")
            % {"rank": row.rank, "explanation": row.explanation},
            allocated_total=total,
        )
    return [row.application for row in proposal.rows]


@transaction.atomic
def competition_set_limits(
    *,
    competition: Competition,
    pool_amount: Decimal,
    max_award_amount: Decimal,
    partial_awards_allowed: bool,
    by,
) -> Competition:
    """Change a call's pool, cap or partial-award rule without breaking an existing allocation."""
    competition = _lock_competition(competition.pk)
    pool_amount = _as_money(pool_amount, field=_("The pool"))
    max_award_amount = _as_money(max_award_amount, field=_("The maximum award"))
    if competition.is_decided:
        raise _refuse(
            _("The call has been decided; its pool and cap can no longer change."),
            "allocation_locked",
        )
    allocated = _allocated_total(competition)
    problems = []
    if max_award_amount > pool_amount:
        problems.append(
            _refuse(
                _("The maximum award (%(cap)s) cannot exceed the pool (%(pool)s)."),
                "cap_above_pool",
                cap=max_award_amount,
                pool=pool_amount,
            )
        )
    if pool_amount < allocated:
        problems.append(
            _refuse(
                _(
                    "The pool cannot be lowered to %(pool)s: %(allocated)s is already allocated, "
                    "%(excess)s more than that."
                ),
                "pool_below_allocated",
                pool=pool_amount,
                allocated=allocated,
                excess=allocated - pool_amount,
            )
        )
    highest = (
        competition.applications.order_by("-awarded_amount")
        .values_list("awarded_amount", flat=True)
        .first()
    ) or Decimal("0.00")
    if highest > max_award_amount:
        problems.append(
            _refuse(
                _(
                    "The maximum award cannot be lowered to %(cap)s: an application is already "
                    "allocated %(highest)s."
                ),
                "cap_below_award",
                cap=max_award_amount,
                highest=highest,
            )
        )
    if (
        not partial_awards_allowed
        and competition.applications.filter(
            awarded_amount__gt=0, awarded_amount__lt=F("requested_amount")
        ).exists()
    ):
        problems.append(
            _refuse(
                _("Partial awards cannot be switched off: some applications are funded in part."),
                "partial_awards_exist",
            )
        )
    if problems:
        raise ValidationError(problems)
    competition.pool_amount = pool_amount
    competition.max_award_amount = max_award_amount
    competition.partial_awards_allowed = partial_awards_allowed
    competition._history_user = by
    competition.save(
        update_fields=["pool_amount", "max_award_amount", "partial_awards_allowed", "updated_at"]
    )
    return competition


# --- the decision ---------------------------------------------------------------------------


@transaction.atomic
def competition_decide(
    *,
    competition: Competition,
    by,
    rejection_reason: str = "",
    reasons: Mapping[int, str] | None = None,
) -> Competition:
    """Record the decision: every submitted application is awarded its allocated amount or
    rejected with a reason, and the call's allocation is locked.

    ``reasons`` gives a rejection reason per application id; ``rejection_reason`` is used for
    the others.
    """
    competition = _lock_competition(competition.pk)
    reasons = reasons or {}
    now = timezone.now()
    if competition.is_decided:
        raise _refuse(_("The call has already been decided."), "already_decided")
    if competition.status != Competition.Status.PUBLISHED:
        raise _refuse(_("Only a published call can be decided."), "not_published")
    if now < competition.closes_at:
        raise _refuse(
            _("The call is still open until %(deadline)s (Riga time); decide after the deadline."),
            "call_still_open",
            deadline=_riga_time(competition.closes_at),
        )
    applications = list(
        competition.applications.select_for_update(of=("self",))
        .filter(status=ApplicationStatus.SUBMITTED)
        .select_related("municipality")
    )
    unexplained = [
        application.reference
        for application in applications
        if not application.awarded_amount
        and not (reasons.get(application.pk) or rejection_reason).strip()
    ]
    if unexplained:
        raise _refuse(
            _("Give a reason for rejecting %(references)s."),
            "reason_required",
            references=", ".join(unexplained),
        )
    for application in applications:
        if application.awarded_amount:
            application.status = ApplicationStatus.AWARDED
            application.decision_reason = reasons.get(application.pk, "")
        else:
            application.status = ApplicationStatus.REJECTED
            application.decision_reason = reasons.get(application.pk) or rejection_reason
        application.decided_at = now
        application._history_user = by
        application.save(update_fields=["status", "decision_reason", "decided_at", "updated_at"])
    competition.status = Competition.Status.DECIDED
    competition.decided_at = now
    competition._history_user = by
    competition.save(update_fields=["status", "decided_at", "updated_at"])
    transaction.on_commit(lambda: notifications.competition_decided(competition, applications))
    return competition


# --- the admin's allocation screen ----------------------------------------------------------


@transaction.atomic
def allocation_apply_shown_proposal(
    *, competition: Competition, shown: Mapping[int, Decimal], by
) -> list[Application]:
    """Apply the proposal only if it is still the one the coordinator saw.

    ``shown`` maps application ids to the proposed amounts on the coordinator's screen. A
    review recorded or a request withdrawn since then changes the proposal; applying the new
    one unseen would put amounts in the ledger that nobody looked at.
    """
    from .selectors import allocation_proposal

    # Taken before reading the proposal so that nothing changes between this comparison and
    # the application of the same proposal below (it re-locks the same row: a no-op).
    competition = _lock_competition(competition.pk)
    current = {
        row.application.pk: row.amount for row in allocation_proposal(competition=competition).rows
    }
    if current != {pk: Decimal(amount) for pk, amount in shown.items()}:
        raise _refuse(
            _(
                "The proposal has changed since the page was loaded (a review, a request or a "
                "limit of the call changed). Check the new proposal and apply it again."
            ),
            "proposal_changed",
        )
    return allocation_apply_proposal(competition=competition, by=by)


# --- letters --------------------------------------------------------------------------------

#: The letter each decision gets.
LETTER_KINDS = {
    ApplicationStatus.AWARDED: AwardLetter.Kind.AWARD,
    ApplicationStatus.REJECTED: AwardLetter.Kind.REJECTION,
}


def _letter_problems(application: Application, language: str) -> list[ValidationError]:
    """Why this application cannot have a letter in ``language`` now; nothing if it can."""
    if language not in dict(settings.LANGUAGES):
        return [
            _refuse(
                _("Letters are written in Latvian or English, not in “%(language)s”."),
                "unknown_language",
                language=language,
            )
        ]
    if application.status not in LETTER_KINDS:
        return [
            _refuse(
                _("A letter is issued only after the decision; the application is %(status)s."),
                "not_decided",
                status=application.get_status_display(),
            )
        ]
    competition = application.competition
    needed = ["signatory_name", "signatory_position"]
    if application.status == ApplicationStatus.AWARDED:
        # An award letter states the conditions: until when, and the report's deadline.
        needed += ["implementation_ends_on", "report_due_on"]
    missing = [
        str(Competition._meta.get_field(field).verbose_name)
        for field in needed
        if not getattr(competition, field)
    ]
    if missing:
        return [
            _refuse(
                _("Fill in the call's %(fields)s before its letters are issued."),
                "call_incomplete",
                fields="; ".join(missing),
            )
        ]
    return []


@contextmanager
def _files_removed_on_failure():
    """Collects the files a letter service stores; if its transaction does not commit, they
    are deleted again, so that a failure leaves neither rows nor files behind."""
    files = []
    try:
        yield files
    except BaseException:
        for file in files:
            file.delete(save=False)
        raise


def _rendered(contents, render_map: Callable):
    """The letters' PDFs, one by one; a renderer that fails becomes a refusal to issue, so the
    coordinator reads what happened and the transaction rolls back everything of the issue."""
    try:
        yield from render_map(letters.render_letter, contents)
    except Exception as error:
        logger.exception("Rendering %d letter(s) failed", len(contents))
        raise _refuse(
            _(
                "The PDF of the letter could not be made, so nothing was issued. Try again; "
                "if it fails again, tell the portal's administrator."
            ),
            "render_failed",
        ) from error


def _issue_letters(
    applications: Sequence[Application],
    *,
    by,
    language: str,
    files: list,
    render_map: Callable = map,
    progress: Callable[[AwardLetter], None] | None = None,
) -> list[AwardLetter]:
    """Number, render and store one letter per application, in the caller's transaction,
    with the applications' rows locked by the caller.

    The number is printed in the letter, so it is taken before rendering, from the counter
    of the call and year, which stays locked until the caller commits. A letter that fails to
    render or to store rolls back its number with everything else (and its file is deleted
    by ``_files_removed_on_failure``), so numbers stay unique and without gaps and a failed
    issue can simply be tried again. Each letter is rendered before its row and file are
    written.
    """
    problems = {}
    for application in applications:
        for problem in _letter_problems(application, language):
            problems.setdefault(tuple(problem.messages), problem)
    if problems:
        raise ValidationError(list(problems.values()))

    issued_at = timezone.now()
    issued_on = timezone.localdate(issued_at)
    contents = []
    for application in applications:
        prefix = letters.letter_number_prefix(
            competition=application.competition, issued_on=issued_on
        )
        contents.append(
            letters.letter_data(
                application,
                kind=LETTER_KINDS[application.status],
                number=f"{prefix}/{next_number(f'letter:{prefix}'):03d}",
                language=language,
                issued_on=issued_on,
            )
        )
    pdfs = _rendered(contents, render_map)

    issued = []
    for application, content, pdf in zip(applications, contents, pdfs, strict=True):
        letter = AwardLetter(
            application=application,
            number=content.number,
            kind=content.kind,
            language=language,
            sha256=hashlib.sha256(pdf).hexdigest(),
            issued_by=by,
            issued_at=issued_at,
        )
        letter.file.save(f"{content.number.replace('/', '-')}.pdf", ContentFile(pdf), save=False)
        files.append(letter.file)
        letter.save()
        previous = application.letters.current().filter(language=language).exclude(pk=letter.pk)
        for replaced in previous:
            replaced.replaced_by = letter
            replaced.save(update_fields=["replaced_by"])
        issued.append(letter)
        if progress is not None:
            progress(letter)
    return issued


def letter_issue(*, application: Application, by, language: str = "lv") -> AwardLetter:
    """Issue the decision letter of a decided application: an award letter, or a rejection
    letter that gives the reason. A letter it already has in that language is kept, marked
    as replaced by the new one."""
    with _files_removed_on_failure() as files, transaction.atomic():
        # Two coordinators issuing the same application's letter at once would both replace
        # the same current letter and leave two current ones; the row lock makes them queue.
        application = _lock_application(application.pk)
        return _issue_letters([application], by=by, language=language, files=files)[0]


def competition_issue_letters(
    *,
    competition: Competition,
    by,
    language: str = "lv",
    reissue: bool = False,
    render_map: Callable = map,
    progress: Callable[[AwardLetter], None] | None = None,
) -> list[AwardLetter]:
    """Issue the letters of a decided call: to every decided application without a current
    letter in ``language``, or to all of them with ``reissue``. All of them or none.

    ``render_map`` maps the rendering over the letters; the built-in ``map`` renders them one
    after another, the ``issue_letters`` command passes a process pool's ``imap``. Each
    issued letter is passed to ``progress`` once it is stored.
    """
    from .selectors import letters_to_issue

    with _files_removed_on_failure() as files, transaction.atomic():
        competition = Competition.objects.get(pk=competition.pk)
        if not competition.is_decided:
            raise _refuse(
                _("The call “%(call)s” has not been decided yet; its letters follow the decision."),
                "call_not_decided",
                call=competition.title,
            )
        applications = list(
            # Locked as in letter_issue, for the same reason.
            letters_to_issue(competition=competition, language=language, reissue=reissue)
            .select_for_update(of=("self",))
            .select_related("competition", "municipality")
        )
        return _issue_letters(
            applications,
            by=by,
            language=language,
            files=files,
            render_map=render_map,
            progress=progress,
        )
