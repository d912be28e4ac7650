"""The one door for money (``_set_awarded_amount``), the allocation, the call's limits and
the decision."""

from collections.abc import Mapping
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from competitions.models import Competition

from .. import notifications, signals
from ..models import (
    AllocationEvent,
    Application,
    ApplicationStatus,
)
from ..selectors import Proposal, allocation_proposal
from ._common import (
    _as_money,
    _lock_competition,
    _refuse,
    _riga_time,
)


def _allocated_total(competition: Competition) -> Decimal:
    return competition.applications.aggregate(total=Sum("awarded_amount"))["total"] or Decimal(
        "0.00"
    )


def _ensure_lowered_after_decision(*, application: Application, amount: Decimal) -> None:
    """Money rule 4: once the call is decided an award can only come down (a plan agreed for
    less, an award declined), never go up, and only an awarded application has one to lower.
    The difference returns to the call's pool."""
    if application.status != ApplicationStatus.AWARDED:
        raise _refuse(
            _("The call has been decided; its allocation is locked."), "allocation_locked"
        )
    if amount > application.awarded_amount:
        raise _refuse(
            _(
                "The call has been decided: an award can be lowered but never raised; "
                "%(amount)s is more than the award of %(awarded)s by %(excess)s."
            ),
            "raise_after_decision",
            amount=amount,
            awarded=application.awarded_amount,
            excess=amount - application.awarded_amount,
        )


def _set_awarded_amount(
    *,
    competition: Competition,
    application: Application,
    amount,
    by: User,
    reason: str,
    allocated_total: Decimal,
) -> Decimal:
    """The one place that writes ``awarded_amount``. Returns the call's new allocated total.

    The caller holds the lock of ``competition`` and passes the call's allocated total as read
    under that lock (this application's current award included).
    """
    amount = _as_money(amount, field=_("The awarded amount"))
    if competition.is_decided:
        _ensure_lowered_after_decision(application=application, amount=amount)
    if not reason.strip():
        raise _refuse(_("Give a reason for the change of the awarded amount."), "reason_required")
    if amount < 0:
        raise _refuse(
            _("The awarded amount cannot be negative (%(amount)s)."),
            "negative_amount",
            amount=amount,
        )
    # Awarded applications exist only after the decision, where only lowering reaches here.
    if amount > 0 and application.status not in (
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.AWARDED,
    ):
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
    if (
        not competition.partial_awards_allowed
        and not competition.is_decided
        and 0 < amount < application.requested_amount
    ):
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
    changed = ["awarded_amount", "updated_at"]
    if competition.is_decided and amount == 0:
        # An award taken back to nothing after the decision was declined: it stays decided
        # (and ranked), but no longer awarded (application_awarded_has_amount).
        application.status = ApplicationStatus.DECLINED
        changed.append("status")
    application._history_user = by
    application.save(update_fields=changed)
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
def allocation_set(
    *, application: Application, amount: Decimal, by: User, reason: str
) -> Application:
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
def allocation_apply_proposal(*, competition: Competition, by: User) -> Proposal:
    """Set every awarded amount of the call to the proposal computed under the lock; returns
    the proposal applied."""

    competition = _lock_competition(competition.pk)
    proposal = allocation_proposal(competition=competition)
    changes = [row for row in proposal.rows if row.amount != row.application.awarded_amount]
    # Lowering amounts first frees the pool before anything is raised, so no intermediate
    # state is ever over it.
    changes.sort(key=lambda row: row.amount - row.application.awarded_amount)
    # Read whole, in one query: their history rows copy every field.
    changed = Application.objects.select_related("municipality").in_bulk(
        [row.application.pk for row in changes]
    )
    total = _allocated_total(competition)
    for row in changes:
        total = _set_awarded_amount(
            competition=competition,
            application=changed[row.application.pk],
            amount=row.amount,
            by=by,
            reason=_("Proposal applied (rank %(rank)s): %(explanation)s")
            % {"rank": row.rank, "explanation": row.explanation},
            allocated_total=total,
        )
    return proposal


@transaction.atomic
def competition_set_limits(
    *,
    competition: Competition,
    pool_amount: Decimal,
    max_award_amount: Decimal,
    partial_awards_allowed: bool,
    by: User,
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
    by: User,
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
    # In this transaction: the grants of the awarded applications open with the decision, or
    # the decision is not recorded.
    signals.competition_decided.send(
        sender=Competition,
        competition=competition,
        awarded=[a for a in applications if a.status == ApplicationStatus.AWARDED],
        by=by,
    )
    transaction.on_commit(lambda: notifications.competition_decided(competition, applications))
    return competition


# --- the admin's allocation screen ----------------------------------------------------------


@transaction.atomic
def allocation_apply_shown_proposal(
    *, competition: Competition, shown: Mapping[int, Decimal], by
) -> Proposal:
    """Apply the proposal only if it is still the one the coordinator saw.

    ``shown`` maps application ids to the proposed amounts on the coordinator's screen. A
    review recorded or a request withdrawn since then changes the proposal; applying the new
    one unseen would put amounts in the ledger that nobody looked at.
    """

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
