"""Applications from the first draft to their submission or withdrawal, with their
activities and supporting documents."""

import dataclasses
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from competitions.formatting import MONEY_LIMIT
from competitions.history import changed_by
from competitions.models import ActivityCategory, Competition, Municipality
from competitions.rules import refusal, refuse_if_any

from .. import notifications
from ..models import (
    ACTIVITY_DETAIL_FIELDS,
    Application,
    ApplicationStatus,
    PlannedActivity,
    SupportingDocument,
    snapshot_digest,
)
from ..uploads import MAX_DOCUMENTS_PER_APPLICATION, check_document
from .common import (
    as_money,
    editable_draft,
    ensure_accepting,
    ensure_acts_for,
    ensure_eligible,
    lock_acted_for,
    lock_competition,
    next_number,
    over_cap_refusal,
    riga_time,
    share_competition,
    share_competition_of,
    single_errors,
)
from .money import allocated_total, award_set


@dataclass(frozen=True, kw_only=True)
class ApplicationDetails:
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    goals: str = ""
    target_groups: str = ""
    summary: str = ""
    #: Fields this save leaves as they were saved (what was typed in them was not valid).
    keep: frozenset[str] = frozenset()


@dataclass(frozen=True, kw_only=True)
class ActivityData:
    category_id: int | None
    title: str
    cost: Decimal | None
    description: str = ""
    starts_on: date | None = None
    ends_on: date | None = None
    target_group: str = ""
    expected_result: str = ""
    id: int | None = None  # an existing activity of the application, to be updated
    #: Fields this save leaves as they were saved (what was typed in them was not valid); a
    #: new activity leaves them empty, so its category, title and cost cannot be kept.
    keep: frozenset[str] = frozenset()


@dataclass(frozen=True, kw_only=True)
class MissingToSubmit:
    """What a draft still lacks for its submission, by field, so that a page can mark each
    field where it is: the application's own fields, and each activity's by its id."""

    fields: tuple[str, ...] = ()
    activity_fields: dict[int, tuple[str, ...]] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class DraftForEditing:
    """A draft as ``application_edit`` reads it under its row lock, for the form of the edit
    to be read from: the application with its call and municipality, its activities in their
    order and its call's categories."""

    application: Application
    activities: list[PlannedActivity]
    categories: list[ActivityCategory]


@dataclass(frozen=True, kw_only=True)
class DraftChanges:
    """What the form of an edit asks to save, as ``application_save_draft`` takes it;
    ``complete`` if every field of the form could be read (an incomplete form is saved as far
    as it goes, and never submitted)."""

    details: ApplicationDetails
    activities: Sequence[ActivityData] | None
    new_files: Sequence = ()
    removed_document_ids: Sequence[int] = ()
    complete: bool = True


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

#: What a new activity must have to be saved at all, in a draft.
NEEDED_TO_SAVE = frozenset({"category_id", "title", "cost"})


def application_start(
    *, competition: Competition, municipality: Municipality, by: User
) -> Application:
    """Open a draft application of a municipality in a call."""
    with transaction.atomic():
        competition = Competition.objects.get(pk=competition.pk)
        ensure_acts_for(by, municipality)
        ensure_accepting(competition, timezone.now())
        ensure_eligible(competition, municipality)
        try:
            with transaction.atomic():
                application = Application(
                    competition=competition, municipality=municipality, created_by=by
                )
                changed_by(application, by).save()
        except IntegrityError:
            raise refusal(
                _("%(municipality)s already has an application in this call."),
                "already_exists",
                municipality=municipality.name,
            ) from None
        return application


def application_update_draft(
    *,
    application: Application,
    by: User,
    details: ApplicationDetails,
    activities: Sequence[ActivityData] | None,
) -> Application:
    """Save a draft and its activities; ``requested_amount`` becomes the sum of the costs.

    Activities not in ``activities`` are deleted; those with an ``id`` are updated. A total
    over the call's cap is saved: a draft may be over it while it is being written, and the
    submission refuses it (``over_cap_problems`` says so to the form meanwhile).
    """
    with transaction.atomic():
        draft = _draft_for_editing(application.pk, by)
        return _draft_updated(draft, by, details, activities)[0]


def _draft_for_editing(
    application_id: int, by: User, *, submitting: bool = False
) -> DraftForEditing:
    """The draft under its row lock, if ``by`` acts for its municipality and it is still a
    draft, with its activities and its call's categories; inside a transaction that the
    caller holds. ``submitting``: the call's shared lock is taken first, as every change of
    the call's state takes the call's lock before an application's."""
    call = share_competition_of(application_id) if submitting else None
    application = editable_draft(application_id, by, call=call)
    return DraftForEditing(
        application=application,
        activities=list(application.activities.all()),
        categories=list(application.competition.categories.all()),
    )


def _draft_updated(
    draft: DraftForEditing,
    by: User,
    details: ApplicationDetails,
    activities: Sequence[ActivityData] | None,
) -> tuple[Application, list[PlannedActivity] | None]:
    """``application_update_draft`` of a draft read by ``_draft_for_editing``, in its
    transaction. Returns the draft and its activities as saved, each with its category (None
    if they were left as they were)."""
    application = draft.application
    competition = application.competition
    ensure_accepting(competition, timezone.now())
    if activities is None:
        # The activities could not be read at all (a form broken on its way): they stay.
        _draft_saved(
            application,
            details,
            total=application.requested_amount,
            planned=(),
            removed=(),
            saved={},  # pragma: no mutate: with nothing planned it is not read
            by=by,
        )
        return application, None
    unclaimed = {activity.pk: activity for activity in draft.activities}
    saved = {pk: _activity_values(activity) for pk, activity in unclaimed.items()}
    categories = {category.pk: category for category in draft.categories}
    planned, problems = [], []
    for position, data in enumerate(activities, start=1):
        activity, activity_problems = _activity_planned(
            application, position, data, unclaimed=unclaimed, categories=categories
        )
        planned.append(activity)
        problems.extend(activity_problems)
    # Without the start the sum of no activities is the integer 0, stored as 0.00 all the same.
    total = sum((activity.cost for activity in planned), Decimal("0.00"))  # pragma: no mutate
    refuse_if_any([*problems, *_total_problems(total)])
    for activity in planned:
        # The categories read above, rather than one query a row when the submission's
        # snapshot names them. A row kept with a category the call has dropped since (its
        # category was not posted) reads its own.
        if activity.category_id in categories:
            activity.category = categories[activity.category_id]
    _draft_saved(
        application,
        details,
        total=total,
        planned=planned,
        removed=unclaimed.values(),
        saved=saved,
        by=by,
    )
    return application, planned


def _activity_planned(
    application: Application,
    position: int,
    data: ActivityData,
    *,
    unclaimed: dict[int, PlannedActivity],
    categories: Collection[int],
) -> tuple[PlannedActivity, list[ValidationError]]:
    """The activity at ``position`` as it will be saved, and what is wrong with it.

    An existing activity is taken out of ``unclaimed``: what is left there once every
    activity is planned is deleted. An activity of another application, or a cost that is
    not an amount, is refused at once.
    """
    if data.id is not None and data.id not in unclaimed:
        raise refusal(
            _("Activity %(number)s does not belong to this application."),
            "unknown_activity",
            number=position,
        )
    if data.id is None and data.keep & NEEDED_TO_SAVE:
        raise refusal(
            _("Activity %(number)s: a new activity needs its category, title and cost."),
            "activity_incomplete",
            number=position,
        )
    activity = (
        unclaimed.pop(data.id) if data.id is not None else PlannedActivity(application=application)
    )
    problems = []
    if "category_id" not in data.keep:
        problems = _category_problems(position, data.category_id, categories)
        activity.category_id = data.category_id
    for field in ACTIVITY_DETAIL_FIELDS:
        if field not in data.keep:
            setattr(activity, field, getattr(data, field))
    if "cost" not in data.keep:
        activity.cost = as_money(
            data.cost, field=_("The cost of activity %(number)s") % {"number": position}
        )
    activity.order = position
    return activity, [*problems, *_activity_row_problems(position, activity)]


def _category_problems(position: int, category_id: int, categories: Collection[int]) -> list:
    if category_id in categories:
        return []
    return [
        refusal(
            _("Activity %(number)s: its category is not one of this call's categories."),
            "category_not_in_call",
            number=position,
        )
    ]


def _activity_row_problems(position: int, activity: PlannedActivity) -> list[ValidationError]:
    """The rules of one activity's row (``PlannedActivity.clean`` and its fields), each named
    with the activity's number."""
    try:
        # The constraints are checked in Python below: ``full_clean`` would ask the database
        # once for each constraint of each row.
        activity.full_clean(
            exclude=[
                "application",  # pragma: no mutate: the draft's own; checking it is a query
                "category",  # checked against the call's categories
            ],
            validate_constraints=False,  # pragma: no mutate: None, the change, is as false
        )
    except ValidationError as error:
        problems = single_errors(error)
        # full_clean's errors are always by field.
        in_error = frozenset(error.error_dict)
    else:
        problems, in_error = [], frozenset()
    return [
        refusal(
            _("Activity %(number)s: %(problem)s"),
            problem.code or "invalid",
            number=position,
            # A single error: one message.
            problem=problem.messages[0],
        )
        for problem in [*problems, *activity.constraint_errors(exclude=in_error)]
    ]


def _total_problems(total: Decimal) -> list[ValidationError]:
    """The activities' total must fit in an amount (the call's cap is the submission's)."""
    if total > MONEY_LIMIT:
        return [
            refusal(
                _("The total of the activities is too large: at most %(limit)s."),
                "amount_too_large",
                limit=MONEY_LIMIT,
            )
        ]
    return []


def over_cap_problems(application: Application) -> list[ValidationError]:
    """A draft's total over its call's cap, by how much: saved, but not to be submitted so."""
    cap = application.competition.max_award_amount
    if application.requested_amount > cap:
        return [over_cap_refusal(application.requested_amount, cap)]
    return []


#: What an activity's row holds that a save may change.
ACTIVITY_SAVED_FIELDS = ("category_id", *ACTIVITY_DETAIL_FIELDS, "cost", "order")


def _activity_values(activity: PlannedActivity) -> dict:
    return {field: getattr(activity, field) for field in ACTIVITY_SAVED_FIELDS}


def _draft_saved(
    application: Application,
    details: ApplicationDetails,
    *,
    total: Decimal,
    planned: Sequence[PlannedActivity],
    removed: Iterable[PlannedActivity],
    saved: dict[int, dict],
    by: User,
) -> None:
    """Write what changed, and only that: the application's row if any of its fields did, the
    activities created, updated or removed (each with its history row, as ``by``'s); an
    activity saved as it was is not written again."""
    values = {
        **{
            field: value
            for field, value in vars(details).items()
            if field != "keep" and field not in details.keep
        },
        "requested_amount": total,
    }
    changed = [field for field, value in values.items() if getattr(application, field) != value]
    for field in changed:
        setattr(application, field, values[field])
    if changed:
        recorded = changed_by(application, by)
        # The draft was read under its lock: saving every field writes the same values.
        recorded.save(update_fields=[*changed, "updated_at"])  # pragma: no mutate
    for activity in removed:
        changed_by(activity, by).delete()
    created = [activity for activity in planned if activity.pk is None]
    updated, fields = [], set()
    for activity in planned:
        if activity.pk is None:
            continue
        before, now = saved[activity.pk], _activity_values(activity)
        if changed_fields := {name for name in ACTIVITY_SAVED_FIELDS if now[name] != before[name]}:
            updated.append(activity)
            # The field's name, not its column's; bulk_update takes either.
            names = {name.removesuffix("_id") for name in changed_fields}  # pragma: no mutate
            fields |= names
    if created:
        bulk_create_with_history(created, PlannedActivity, default_user=by)
    if updated:
        # One UPDATE of the fields that changed in any of them, and one INSERT of their history.
        bulk_update_with_history(updated, PlannedActivity, sorted(fields), default_user=by)


def _missing_for_submission(application: Application, activities) -> MissingToSubmit:
    return MissingToSubmit(
        fields=tuple(name for name in REQUIRED_TO_SUBMIT if not getattr(application, name)),
        activity_fields={
            activity.pk: names
            for activity in activities
            if (names := tuple(n for n in ACTIVITY_REQUIRED_TO_SUBMIT if not getattr(activity, n)))
        },
    )


def _missing_labels(missing: MissingToSubmit, activities) -> list[str]:
    """The missing fields as the refusal names them: ``kopsavilkums``, ``1. aktivitāte:
    apraksts``."""
    labels = [str(REQUIRED_TO_SUBMIT[name]) for name in missing.fields]
    for number, activity in enumerate(activities, start=1):
        labels.extend(
            _("activity %(number)s: %(field)s")
            % {"number": number, "field": ACTIVITY_REQUIRED_TO_SUBMIT[name]}
            for name in missing.activity_fields.get(activity.pk, ())
        )
    return labels


def _as_json(value):
    """A date as ISO text (``2019-09-01``), anything else as it is."""
    return value.isoformat() if isinstance(value, date) else value


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
                **{field: _as_json(getattr(activity, field)) for field in ACTIVITY_DETAIL_FIELDS},
                "cost": str(activity.cost),
            }
            for activity in activities
        ],
        "documents": [
            {"name": document.original_name, "size": document.size, "sha256": document.sha256}
            for document in documents
        ],
    }


def application_submit(*, application: Application, by: User) -> Application:
    """Submit a draft: freeze its snapshot with a SHA-256 and give it a reference number."""
    with transaction.atomic():
        # A submission racing the decision could land after the call was decided, and then
        # never be decided nor withdrawn: the call's lock first, as every state change takes
        # it (shared with other submissions), then the application's.
        competition = share_competition(application.competition_id)
        application = lock_acted_for(application.pk, by)
        if not application.is_draft:
            raise refusal(
                _("Application %(reference)s has already been submitted."),
                "not_draft",
                reference=application.reference,
            )
        now = timezone.now()
        activities = _submittable_activities(application, competition, now)
        return _submitted(application, competition, activities, by=by, now=now)


class SubmissionRefused(ValidationError):
    """``application_save_and_submit`` saved the draft but could not submit it: the reasons,
    and the draft as saved (``application``)."""

    def __init__(self, error: ValidationError, application: Application):
        super().__init__(error.error_list)
        self.application = application


def application_save_and_submit(
    *,
    application: Application,
    by: User,
    details: ApplicationDetails,
    activities: Sequence[ActivityData] | None,
    new_files: Sequence = (),
    removed_document_ids: Sequence[int] = (),
) -> Application:
    """Save the draft as the form holds it and submit it, in one transaction: what is
    submitted is what was typed, with no other save in between.

    A refused save saves nothing (``ValidationError``, as ``application_save_draft``). A
    refused submission keeps the save: ``SubmissionRefused`` carries its reasons and the
    draft as saved. The submission's checks all come before its first write, so the save
    commits without it.
    """
    changes = DraftChanges(
        details=details,
        activities=activities,
        new_files=new_files,
        removed_document_ids=removed_document_ids,
    )
    return _edit_as_given(application, by, changes, submit=True)


def _edit_as_given(application: Application, by: User, changes: DraftChanges, *, submit: bool):
    """``application_edit`` of changes already read, whatever the draft's rows."""
    return application_edit(
        application_id=application.pk, by=by, submit=submit, read=lambda _draft: changes
    )


def application_edit(
    *,
    application_id: int,
    by: User,
    submit: bool,
    read: Callable[[DraftForEditing], DraftChanges],
) -> Application:
    """Save a draft as the form of an edit holds it and, with ``submit`` and a complete form,
    submit it, in one transaction. The form is read (``read``) from the draft as its lock
    read it, and the save reads none of it again.

    Refused as ``application_save_draft`` (nothing saved) and ``application_save_and_submit``
    (a refused submission keeps the save: ``SubmissionRefused``); a draft that is not ``by``'s
    to edit, or no longer a draft, is refused before ``read`` is called.
    """
    with transaction.atomic():
        draft = _draft_for_editing(application_id, by, submitting=submit)
        changes = read(draft)
        application, saved = _draft_and_documents_saved(draft, by, changes)
        if not (submit and changes.complete):
            return application
        # The call as ``_draft_for_editing`` read it under the call's shared lock.
        competition = application.competition
        now = timezone.now()
        try:
            submittable = _submittable_activities(application, competition, now, saved)
        except ValidationError as error:
            refused = SubmissionRefused(error, application)
        else:
            return _submitted(application, competition, submittable, by=by, now=now)
    raise refused


def _submittable_activities(
    application: Application, competition, now, activities: list | None = None
) -> list:
    """The draft's activities, if the draft may be submitted now; refused otherwise. Checks
    only: nothing is written. ``activities``: the draft's, with their categories, as the
    caller has just saved them in this transaction; read here if None."""
    ensure_accepting(competition, now)
    if now < competition.opens_at:
        raise refusal(
            _("The call opens for submissions on %(opens)s (Riga time)."),
            "call_not_open_yet",
            opens=riga_time(competition.opens_at),
        )
    ensure_eligible(competition, application.municipality)
    if activities is None:
        # Joined only to save a query for each activity's category.
        joined = application.activities.select_related("category")  # pragma: no mutate
        activities = list(joined)
    refuse_if_any(_submission_problems(application, activities))
    return activities


def _submitted(application: Application, competition, activities, *, by: User, now):
    """Give the checked draft its reference number and its frozen snapshot."""
    year = timezone.localtime(competition.opens_at).year
    application.reference = f"REM-{year}-{next_number(f'application:{year}'):03d}"
    application.status = ApplicationStatus.SUBMITTED
    application.submitted_at = now
    application.submitted_by = by
    application.snapshot = build_snapshot(application, activities, application.documents.all())
    application.snapshot_sha256 = snapshot_digest(application.snapshot)
    changed_by(application, by).save()
    # Written and sent by a worker once the submission is committed: never in the
    # submitter's request, and never for a submission that was rolled back.
    transaction.on_commit(
        lambda: notifications.later(notifications.application_submitted_mail, application.pk)
    )
    return application


def _submission_problems(application: Application, activities) -> list[ValidationError]:
    """What keeps a draft from being submitted: no activities, fields left empty, a request
    over the cap."""
    problems = []
    if not activities:
        problems.append(
            refusal(_("Add at least one planned activity before submitting."), "no_activities")
        )
    missing = _missing_for_submission(application, activities)
    if missing.fields or missing.activity_fields:
        # ``missing`` says which fields, for the form to mark; the message names them.
        problems.append(
            refusal(
                _("Fill in before submitting: %(fields)s."),
                "incomplete",
                fields="; ".join(_missing_labels(missing, activities)),
                missing=missing,
            )
        )
    cap = application.competition.max_award_amount
    if application.requested_amount > cap:
        problems.append(over_cap_refusal(application.requested_amount, cap))
    return problems


def application_withdraw(*, application: Application, by: User) -> Application:
    """Withdraw a submitted application before the decision; any allocation returns to the pool."""
    with transaction.atomic():
        competition = lock_competition(application.competition_id)
        application = lock_acted_for(application.pk, by)
        if competition.is_decided:
            raise refusal(
                _(
                    "The call has been decided; application %(reference)s can no longer be "
                    "withdrawn."
                ),
                "decided",
                reference=application.reference,
            )
        if application.status != ApplicationStatus.SUBMITTED:
            raise refusal(
                _("Only a submitted application can be withdrawn; this one is %(status)s."),
                "not_submitted",
                status=application.get_status_display(),
            )
        if application.awarded_amount:
            award_set(
                competition=competition,
                application=application,
                amount=Decimal("0.00"),
                by=by,
                reason=_("The municipality withdrew the application."),
                allocated_total=allocated_total(competition),
            )
        application.status = ApplicationStatus.WITHDRAWN
        application.withdrawn_at = timezone.now()
        recorded = changed_by(application, by)
        # The row was read under its lock above and the award saved on this same instance:
        # saving every field writes the same values.
        recorded.save(update_fields=["status", "withdrawn_at", "updated_at"])  # pragma: no mutate
        return application


def application_delete_draft(*, application: Application, by: User) -> None:
    """Discard a draft that was never submitted, with its activities and documents."""
    with transaction.atomic():
        application = editable_draft(application.pk, by)
        files = [document.file for document in application.documents.all()]
        changed_by(application, by).delete()
        # The files go only once the rows are gone for good (from storage: no row to update).
        transaction.on_commit(lambda: [file.storage.delete(file.name) for file in files])


# --- supporting documents -------------------------------------------------------------------


def document_add(*, application: Application, by: User, file: File) -> SupportingDocument:
    """Attach a document to a draft; its content decides whether it is accepted."""
    with transaction.atomic():
        application = editable_draft(application.pk, by)
        ensure_accepting(application.competition, timezone.now())
        if application.documents.count() >= MAX_DOCUMENTS_PER_APPLICATION:
            raise refusal(
                _("An application may have at most %(max)s documents."),
                "too_many_documents",
                max=MAX_DOCUMENTS_PER_APPLICATION,
            )
        checked = check_document(file)
        document = SupportingDocument(
            application=application,
            # The stored name is random: it cannot collide, traverse or be guessed.
            file=File(file, name=f"{uuid.uuid4().hex}{checked.extension}"),
            original_name=checked.name,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            uploaded_by=by,
        )
        try:
            # Stores the file (FileField.pre_save), then writes the row.
            document.save()
        except Exception:
            # The row did not make it: the file must not stay behind without it. The flag is
            # whether to write the row again: False and None both leave it.
            document.file.delete(save=False)  # pragma: no mutate
            raise
        return document


def document_delete(*, document: SupportingDocument, by: User) -> None:
    """Remove a document from a draft; the file goes once the row is gone for good."""
    with transaction.atomic():
        editable_draft(document.application_id, by)
        file = document.file
        document.delete()
        transaction.on_commit(lambda: file.storage.delete(file.name))


def application_save_draft(
    *,
    application: Application,
    by: User,
    details: ApplicationDetails,
    activities: Sequence[ActivityData] | None,
    new_files: Sequence = (),
    removed_document_ids: Sequence[int] = (),
) -> Application:
    """Everything the application form saves, in one transaction: the general part, the
    activities, and the documents removed and attached. A refusal of any part saves none."""
    return _edit_as_given(
        application,
        by,
        DraftChanges(
            details=details,
            activities=activities,
            new_files=new_files,
            removed_document_ids=removed_document_ids,
        ),
        submit=False,
    )


def _draft_and_documents_saved(
    draft: DraftForEditing, by: User, changes: DraftChanges
) -> tuple[Application, list[PlannedActivity] | None]:
    """``application_save_draft`` of a draft read by ``_draft_for_editing``, in its
    transaction: the draft and its activities, as ``_draft_updated`` returns them."""
    application, saved = _draft_updated(draft, by, changes.details, changes.activities)
    # No ids to remove asks the database nothing: ``pk__in=[]`` is empty without a query.
    for document in application.documents.filter(pk__in=changes.removed_document_ids):
        document_delete(document=document, by=by)
    added = []
    try:
        for file in changes.new_files:
            added.append(document_add(application=application, by=by, file=file))
    except Exception:
        # The whole save rolls back; files already written for it must go as well.
        for document in added:
            # Whatever this writes to the row is rolled back with the rest of the save.
            document.file.delete(save=False)  # pragma: no mutate
        raise
    return application, saved
