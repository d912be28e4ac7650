"""The one door for money (``award_set``), the allocation, the call's limits and the
decision."""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Max, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext

from competitions.history import BULK_BATCH, changed_by, saved_with_history
from competitions.models import Competition
from competitions.rules import refusal, refuse_if_any

from .. import notifications, signals
from ..models import (
    AllocationEvent,
    Application,
    ApplicationStatus,
)
from ..selectors import (
    Proposal,
    allocation_proposal,
    last_allocation_event,
    proposal_walk,
    rejection_kind,
)
from .common import as_money, lock_competition, riga_time


def allocated_total(competition: Competition) -> Decimal:
    """The sum of the call's awarded amounts; current when read under the call's lock."""
    return competition.applications.aggregate(total=Sum("awarded_amount"))["total"] or Decimal(
        "0.00"
    )


# --- the one door ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Award:
    """An awarded amount asked of one application, with what the rules need to judge it."""

    competition: Competition
    application: Application
    amount: Decimal
    reason: str
    others: Decimal  # what the call's other applications are awarded
    #: An objection to the decision upheld: the award may rise after the decision, and a
    #: rejected application may be awarded, within every other rule (the pool above all).
    reconsidered: bool = False


def award_set(
    *,
    competition: Competition,
    application: Application,
    amount,
    by: User,
    reason: str,
    allocated_total: Decimal,
    reconsidered: bool = False,
) -> Decimal:
    """The one place that writes ``awarded_amount``, with its ``AllocationEvent``. Returns the
    call's new allocated total.

    It runs in the caller's transaction: the caller holds the lock of ``competition`` and
    passes the call's allocated total as read under that lock (this application's current
    award included). ``allocation_set`` is the service for one amount; the proposal and a
    withdrawal reach the door from their own services, which hold the same lock.
    """
    write = award_made(
        competition=competition,
        application=application,
        amount=amount,
        by=by,
        reason=reason,
        allocated_total=allocated_total,
        reconsidered=reconsidered,
    )
    if write is None:
        return allocated_total
    changed_by(application, by)
    # Every caller has just read the row under the call's lock: saving every field would
    # write the others as they are.
    application.save(update_fields=write.fields)  # pragma: no mutate
    write.event.save()
    return write.total


@dataclass(frozen=True)
class AwardWrite:
    """What ``award_made`` changed: the ledger row to save and the application's fields."""

    event: AllocationEvent  # not yet saved
    fields: list[str]  # the application's fields changed
    total: Decimal  # the call's allocated total after it


def award_made(
    *,
    competition: Competition,
    application: Application,
    amount,
    by: User,
    reason: str,
    allocated_total: Decimal,
    # Only the proposal leaves it out, and it moves submitted applications only, which an
    # objection's leave (a rejected one awarded) does not concern.
    reconsidered: bool = False,  # pragma: no mutate
) -> AwardWrite | None:
    """``award_set`` without the writes: judge the award by every rule, change the application
    in memory and return its ledger row unsaved (``None`` if the amount does not change).

    The caller saves both, as ``award_set`` does for one application and
    ``allocation_apply_proposal`` for the whole call in a few statements.
    """
    award = Award(
        competition=competition,
        application=application,
        amount=as_money(amount, field=_("The awarded amount")),
        reason=reason,
        others=allocated_total - application.awarded_amount,
        reconsidered=reconsidered,
    )
    refuse_if_any(award_problems(award))
    before = application.awarded_amount
    if award.amount == before:
        return None
    application.awarded_amount = award.amount
    changed = ["awarded_amount", "updated_at"]
    if application.status == ApplicationStatus.REJECTED:
        # A rejection overturned on objection, the only change the door lets through for a
        # rejected application (``_allocation_open``), and to more than its 0 (the same amount
        # is no change): the application is awarded after all.
        application.status = ApplicationStatus.AWARDED
        changed.append("status")
    if competition.is_decided and award.amount == 0:
        # An award taken back to nothing after the decision was declined: it stays decided
        # (and ranked), but no longer awarded (application_awarded_has_amount).
        application.status = ApplicationStatus.DECLINED
        changed.append("status")
    return AwardWrite(
        event=AllocationEvent(
            competition=competition,
            application=application,
            amount_before=before,
            amount_after=award.amount,
            by=by,
            reason=reason,
        ),
        fields=changed,
        total=award.others + award.amount,
    )


def award_problems(award: Award) -> list[ValidationError]:
    """Why the award cannot be made; nothing if it can. The first rule it breaks, in the order
    of ``AWARD_RULES``, is the one named."""
    for rule in AWARD_RULES:
        problem = rule(award)
        if problem is not None:
            return [problem]
    return []


def _allocation_open(award: Award) -> ValidationError | None:
    """Money rule 4: once the call is decided an award can only come down (a plan agreed for
    less, an award declined), never go up, and only an awarded application has one to lower.
    The difference returns to the call's pool."""
    if not award.competition.is_decided:
        return None
    application = award.application
    if award.reconsidered and application.status in (
        ApplicationStatus.AWARDED,
        ApplicationStatus.REJECTED,
    ):
        # An objection upheld: the decision itself is revised, up or down, within the rules.
        return None
    if application.status != ApplicationStatus.AWARDED:
        return refusal(
            _("The call has been decided; its allocation is locked."), "allocation_locked"
        )
    if award.amount > application.awarded_amount:
        return refusal(
            _(
                "The call has been decided: an award can be lowered but never raised; "
                "%(amount)s is more than the award of %(awarded)s by %(excess)s."
            ),
            "raise_after_decision",
            amount=award.amount,
            awarded=application.awarded_amount,
            excess=award.amount - application.awarded_amount,
        )
    return None


def _reason_given(award: Award) -> ValidationError | None:
    if not award.reason.strip():
        return refusal(_("Give a reason for the change of the awarded amount."), "reason_required")
    return None


#: What the allocation screen suggests in an empty reason field: a hint, not a reason.
GENERIC_REASONS = (_lazy("Reason for the change"),)


def _partial_award_explained(award: Award) -> ValidationError | None:
    """An award below the request is stated to the municipality with its reason (the decision
    and the letter read it from the ledger), so the reason must say why, not repeat the
    hint of an empty field."""
    requested = award.application.requested_amount
    if award.competition.is_decided or not (0 < award.amount < requested):
        return None
    reason = award.reason.strip().casefold()
    generic = {
        _translated(text, language).casefold()
        for text in GENERIC_REASONS
        for language in (
            # "LV", or a code with no catalogue, still reads LANGUAGE_CODE's: "lv".
            "lv",  # pragma: no mutate
            "en",
        )
    }
    if reason in generic:
        return refusal(
            _(
                "An award of %(amount)s is less than the %(requested)s requested: give the "
                "reason the municipality will read in its letter (for example, which costs are "
                "not eligible or that the pool is exhausted)."
            ),
            "partial_reason_required",
            amount=award.amount,
            requested=requested,
        )
    return None


def _translated(text, language: str) -> str:
    with translation.override(language):
        return str(text)


def _not_negative(award: Award) -> ValidationError | None:
    if award.amount < 0:
        return refusal(
            _("The awarded amount cannot be negative (%(amount)s)."),
            "negative_amount",
            amount=award.amount,
        )
    return None


def _only_to_submitted(award: Award) -> ValidationError | None:
    application = award.application
    # Awarded applications exist only after the decision, where only lowering reaches here,
    # or an objection upheld, which may award a rejected application.
    in_play = [ApplicationStatus.SUBMITTED, ApplicationStatus.AWARDED]
    if award.reconsidered:
        in_play.append(ApplicationStatus.REJECTED)
    if award.amount > 0 and application.status not in in_play:
        return refusal(
            _("Only a submitted application can be awarded money; %(reference)s is %(status)s."),
            "not_submitted",
            reference=application.reference or _("this draft"),
            status=application.get_status_display(),
        )
    return None


def _within_request(award: Award) -> ValidationError | None:
    requested = award.application.requested_amount
    if award.amount > requested:
        return refusal(
            _(
                "%(municipality)s requested %(requested)s; an award of %(amount)s is more than "
                "the request by %(excess)s."
            ),
            "above_request",
            municipality=award.application.municipality.name,
            requested=requested,
            amount=award.amount,
            excess=award.amount - requested,
        )
    return None


def _within_cap(award: Award) -> ValidationError | None:
    cap = award.competition.max_award_amount
    if award.amount > cap:
        return refusal(
            _(
                "An award of %(amount)s exceeds the maximum per municipality of %(cap)s "
                "by %(excess)s."
            ),
            "over_cap",
            amount=award.amount,
            cap=cap,
            excess=award.amount - cap,
        )
    return None


def _whole_unless_partial_allowed(award: Award) -> ValidationError | None:
    requested = award.application.requested_amount
    # After the decision an award may come down to an agreed plan's total, below the request.
    if (
        not award.competition.partial_awards_allowed
        and not award.competition.is_decided
        and 0 < award.amount < requested
    ):
        return refusal(
            _(
                "This call does not allow partial awards: %(municipality)s can get the full "
                "%(requested)s or nothing, not %(amount)s."
            ),
            "partial_not_allowed",
            municipality=award.application.municipality.name,
            requested=requested,
            amount=award.amount,
        )
    return None


def _within_pool(award: Award) -> ValidationError | None:
    pool, others = award.competition.pool_amount, award.others
    if others + award.amount > pool:
        return refusal(
            _(
                "An award of %(amount)s would exceed the pool of %(pool)s: %(others)s is already "
                "allocated to other applications, so at most %(remaining)s remains; the award is "
                "over by %(excess)s."
            ),
            "over_pool",
            amount=award.amount,
            pool=pool,
            others=others,
            remaining=pool - others,
            excess=others + award.amount - pool,
        )
    return None


#: The rules of an award, in the order they are checked.
AWARD_RULES = (
    _allocation_open,
    _reason_given,
    _not_negative,
    _only_to_submitted,
    _within_request,
    _within_cap,
    _whole_unless_partial_allowed,
    _within_pool,
    _partial_award_explained,
)


# --- the services -------------------------------------------------------------------------


def allocation_set(
    *, application: Application, amount: Decimal, by: User, reason: str
) -> Application:
    """Set the awarded amount of one application, within the request, the cap and the pool."""
    with transaction.atomic():
        competition = lock_competition(application.competition_id)
        # select_related saves a query only (a refusal reads the municipality's name).
        rows = Application.objects.select_related("municipality")  # pragma: no mutate
        application = rows.get(pk=application.pk)
        award_set(
            competition=competition,
            application=application,
            amount=amount,
            by=by,
            reason=reason,
            allocated_total=allocated_total(competition),
        )
        return application


def allocation_reconsider(
    *, application: Application, amount: Decimal, by: User, reason: str
) -> Application:
    """Set the award anew after the decision, as an objection upheld decides: through the same
    door and rules as any allocation (the request, the cap, the pool), raised or lowered.

    Runs in the caller's transaction when there is one (the objection's outcome), so that the
    outcome and the award are recorded together or not at all."""
    with transaction.atomic():
        # Another coordinator allocating, or a plan approved in the call, reads the same pool:
        # the call's lock makes them take turns.
        competition = lock_competition(application.competition_id)
        # select_related saves a query only (a refusal reads the municipality's name).
        rows = Application.objects.select_related("municipality")  # pragma: no mutate
        application = rows.get(pk=application.pk)
        award_set(
            competition=competition,
            application=application,
            amount=amount,
            by=by,
            reason=reason,
            allocated_total=allocated_total(competition),
            reconsidered=True,
        )
        return application


def allocation_apply_proposal(*, competition: Competition, by: User) -> Proposal:
    """Set every awarded amount of the call to the proposal computed under the lock; returns
    the proposal applied."""
    with transaction.atomic():
        competition = lock_competition(competition.pk)
        proposal = allocation_proposal(competition=competition)
        changes = [row for row in proposal.rows if row.amount != row.application.awarded_amount]
        # Lowering amounts first frees the pool before anything is raised, so no intermediate
        # state is ever over it.
        changes.sort(key=lambda row: row.amount - row.application.awarded_amount)
        # Read whole, in one query: their history rows copy every field. select_related saves
        # a query only (a refusal reads the municipality), and reading every call's rows would
        # find the same ones, more slowly.
        changed = Application.objects.select_related("municipality").in_bulk(  # pragma: no mutate
            [row.application.pk for row in changes]
        )
        total = allocated_total(competition)
        writes = []
        for row in changes:
            write = award_made(
                competition=competition,
                application=changed[row.application.pk],
                amount=row.amount,
                by=by,
                reason=_("Proposal applied (rank %(rank)s): %(explanation)s")
                % {"rank": row.rank, "explanation": row.explanation},
                allocated_total=total,
            )
            if write is not None:
                total = write.total
                writes.append(write)
        # Every rule was asked of each change in turn, as award_set asks it; the rows are
        # written together, in a few statements whatever the size of the call.
        saved_with_history(
            [write.event.application for write in writes],
            fields=sorted({field for write in writes for field in write.fields}),
            by=by,
        )
        AllocationEvent.objects.bulk_create(
            [write.event for write in writes],
            # Without it Django batches by the database's own limit: the same rows written.
            batch_size=BULK_BATCH,  # pragma: no mutate
        )
        return proposal


# --- the call's limits: the pool, the cap and partial awards ------------------------------


@dataclass(frozen=True)
class CallAwards:
    """What a call's applications hold of its money."""

    allocated: Decimal  # the sum of the awarded amounts
    highest: Decimal  # the largest awarded amount
    partial: bool  # some application is awarded less than its request, but not nothing


def awards_of(competition: Competition) -> CallAwards:
    """The call's awards, in one query; read under the call's row lock to be current."""
    figures = Application.objects.filter(competition=competition).aggregate(
        allocated=Sum("awarded_amount"),
        highest=Max("awarded_amount"),
        partial=Count(
            "pk", filter=Q(awarded_amount__gt=0, awarded_amount__lt=F("requested_amount"))
        ),
    )
    return CallAwards(
        allocated=figures["allocated"] or Decimal("0.00"),
        highest=figures["highest"] or Decimal("0.00"),
        partial=bool(figures["partial"]),
    )


def limits_problems(
    *,
    competition: Competition,
    pool_amount: Decimal,
    max_award_amount: Decimal,
    partial_awards_allowed: bool,
    awards: CallAwards,
) -> list[ValidationError]:
    """Why the call cannot take this pool, cap and partial-award rule now; nothing if it can.

    A decided call's limits are locked; otherwise every limit the awards already break is
    named. The call's form asks it to put each problem on its field; competition_set_limits
    asks it again under the call's lock.
    """
    if competition.is_decided:
        return [
            refusal(
                _("The call has been decided; its pool and cap can no longer change."),
                "allocation_locked",
            )
        ]
    return [
        *_cap_positive(max_award_amount),
        *_cap_within_pool(pool_amount, max_award_amount),
        *_pool_covers_awards(pool_amount, awards),
        *_cap_covers_awards(max_award_amount, awards),
        *_partial_awards_kept(partial_awards_allowed, awards),
    ]


def _cap_positive(cap: Decimal) -> list[ValidationError]:
    if cap > 0:
        return []
    return [
        refusal(
            _("The maximum award must be more than zero, not %(cap)s."),
            "cap_not_positive",
            cap=cap,
        )
    ]


def _cap_within_pool(pool: Decimal, cap: Decimal) -> list[ValidationError]:
    if cap <= pool:
        return []
    return [
        refusal(
            _("The maximum award (%(cap)s) cannot exceed the pool (%(pool)s)."),
            "cap_above_pool",
            cap=cap,
            pool=pool,
        )
    ]


def _pool_covers_awards(pool: Decimal, awards: CallAwards) -> list[ValidationError]:
    if pool >= awards.allocated:
        return []
    return [
        refusal(
            _(
                "The pool cannot be lowered to %(pool)s: %(allocated)s is already allocated, "
                "%(excess)s more than that."
            ),
            "pool_below_allocated",
            pool=pool,
            allocated=awards.allocated,
            excess=awards.allocated - pool,
        )
    ]


def _cap_covers_awards(cap: Decimal, awards: CallAwards) -> list[ValidationError]:
    if awards.highest <= cap:
        return []
    return [
        refusal(
            _(
                "The maximum award cannot be lowered to %(cap)s: an application is already "
                "allocated %(highest)s."
            ),
            "cap_below_award",
            cap=cap,
            highest=awards.highest,
        )
    ]


def _partial_awards_kept(partial_awards_allowed: bool, awards: CallAwards) -> list[ValidationError]:
    if partial_awards_allowed or not awards.partial:
        return []
    return [
        refusal(
            _("Partial awards cannot be switched off: some applications are funded in part."),
            "partial_awards_exist",
        )
    ]


def competition_set_limits(
    *,
    competition: Competition,
    pool_amount: Decimal,
    max_award_amount: Decimal,
    partial_awards_allowed: bool,
    by: User,
) -> Competition:
    """Change a call's pool, cap or partial-award rule without breaking an existing allocation
    (``limits_problems``)."""
    with transaction.atomic():
        competition = lock_competition(competition.pk)
        pool_amount = as_money(pool_amount, field=_("The pool"))
        max_award_amount = as_money(max_award_amount, field=_("The maximum award"))
        refuse_if_any(
            limits_problems(
                competition=competition,
                pool_amount=pool_amount,
                max_award_amount=max_award_amount,
                partial_awards_allowed=partial_awards_allowed,
                awards=awards_of(competition),
            )
        )
        competition.pool_amount = pool_amount
        competition.max_award_amount = max_award_amount
        competition.partial_awards_allowed = partial_awards_allowed
        recorded = changed_by(competition, by)
        # The row was read under its lock just above: saving every field writes the same values.
        recorded.save(  # pragma: no mutate
            update_fields=[
                "pool_amount",
                "max_award_amount",
                "partial_awards_allowed",
                "updated_at",
            ]
        )
        return competition


# --- the decision ---------------------------------------------------------------------------


def competition_decide(
    *,
    competition: Competition,
    by: User,
    default_reasons: Mapping[str, str] | None = None,
    rejection_reason: str = "",
) -> Competition:
    """Record the decision: every submitted application is awarded its allocated amount or
    rejected with a reason, and the call's allocation is locked.

    A rejected application is given the reason typed for it (``decision_reasons_set``), else
    the default of its kind of rejection (``default_reasons``, keyed by ``REJECTION_KINDS``:
    ranked below the funded ones, not scored, skipped because partial awards are not
    allowed), else ``rejection_reason``.
    """
    with transaction.atomic():
        competition = lock_competition(competition.pk)
        defaults = {kind: text.strip() for kind, text in (default_reasons or {}).items()}
        now = timezone.now()
        refuse_if_any(decision_problems(competition=competition, now=now))
        applications = list(
            # Row locks exist on PostgreSQL only, where the concurrency tests hold them; the
            # mutation run is on SQLite, which ignores them.
            competition.applications.select_for_update(of=("self",))  # pragma: no mutate
            .filter(status=ApplicationStatus.SUBMITTED)
            .select_related("municipality")  # pragma: no mutate (a query saved, not a rule)
        )
        # Read under the lock, as the decision will be: which kind each rejection is.
        kinds = {
            step.pk: rejection_kind(step) for step in proposal_walk(competition=competition).rows
        }
        reasons = {
            application.pk: application.decision_reason.strip()
            or (
                ""
                if application.awarded_amount
                else defaults.get(kinds[application.pk]) or rejection_reason.strip()
            )
            for application in applications
        }
        unexplained = [
            application.reference
            for application in applications
            if not application.awarded_amount and not reasons[application.pk]
        ]
        if unexplained:
            raise refusal(
                ngettext(
                    "Give a reason for rejecting application %(references)s.",
                    "Give a reason for rejecting applications %(references)s.",
                    len(unexplained),
                ),
                "reason_required",
                references=", ".join(unexplained),
            )
        recorded = _recorded_reasons(applications)
        for application in applications:
            if application.awarded_amount:
                application.status = ApplicationStatus.AWARDED
                # A partial award states its reason: the one typed now, or else the one the
                # ledger recorded when the amount was set.
                application.decision_reason = reasons[application.pk] or (
                    recorded.get(application.pk, "") if application.is_partial_award else ""
                )
            else:
                application.status = ApplicationStatus.REJECTED
                application.decision_reason = reasons[application.pk]
            application.decided_at = now
        saved_with_history(
            applications, fields=["status", "decision_reason", "decided_at", "updated_at"], by=by
        )
        competition.status = Competition.Status.DECIDED
        competition.decided_at = now
        recorded = changed_by(competition, by)
        # The row was read under its lock above: saving every field writes the same values.
        recorded.save(update_fields=["status", "decided_at", "updated_at"])  # pragma: no mutate
        # In this transaction: the grants of the awarded applications open with the decision,
        # or the decision is not recorded.
        signals.competition_decided.send(
            sender=Competition,
            competition=competition,
            awarded=[a for a in applications if a.status == ApplicationStatus.AWARDED],
            by=by,
        )
        # Its mails, one per application, are written after the response (``later``), by id.
        decided = competition.pk
        transaction.on_commit(
            lambda: notifications.later(notifications.competition_decided_mail, decided)
        )
        return competition


def _recorded_reasons(applications: list[Application]) -> dict[int, str]:
    """The reason of each application's latest ledger row: why it holds its amount."""
    latest = {}
    events = AllocationEvent.objects.filter(application__in=applications).order_by(
        "at",
        # Rows of one instant, as PostgreSQL may return them in any order; SQLite, where the
        # mutation tests run, returns them in the order written anyway.
        "id",  # pragma: no mutate
    )
    for event in events:
        latest[event.application_id] = event.reason
    return latest


def decision_problems(*, competition: Competition, now) -> list[ValidationError]:
    """Why the call cannot be decided now; the first rule it breaks is named. The decision
    screen asks it before it offers the form, the service again under the call's lock."""
    if competition.is_decided:
        return [refusal(_("The call has already been decided."), "already_decided")]
    if competition.status != Competition.Status.PUBLISHED:
        return [refusal(_("Only a published call can be decided."), "not_published")]
    if now < competition.closes_at:
        return [
            refusal(
                _(
                    "The call is still open until %(deadline)s (Riga time); decide after the "
                    "deadline."
                ),
                "call_still_open",
                deadline=riga_time(competition.closes_at),
            )
        ]
    return []


# --- the admin's allocation screen ----------------------------------------------------------


def allocation_apply_shown_proposal(
    *, competition: Competition, digest: str, last_event: int | None, by
) -> Proposal:
    """Apply the proposal only if it is still the one the coordinator saw.

    ``digest`` is ``Proposal.digest`` of the proposal on the coordinator's screen (every id
    and amount of the whole call, in rank order) and ``last_event`` the call's newest ledger
    row then. A review recorded, a request withdrawn or a limit changed since then changes
    the proposal, and an amount set meanwhile changes the ledger; applying either unseen
    would put amounts in the ledger that nobody looked at.
    """
    with transaction.atomic():
        # Taken before reading the proposal so that nothing changes between this comparison
        # and the application of the same proposal below (it re-locks the same row: a no-op).
        competition = lock_competition(competition.pk)
        if (
            proposal_walk(competition=competition).digest != digest
            or last_allocation_event(competition=competition) != last_event
        ):
            raise refusal(
                _(
                    "The proposal has changed since the page was loaded (a review, a request, "
                    "an amount or a limit of the call changed). Check the new proposal and "
                    "apply it again."
                ),
                "proposal_changed",
            )
        return allocation_apply_proposal(competition=competition, by=by)


def decision_reasons_set(*, competition: Competition, reasons: Mapping[int, str], by: User) -> int:
    """Save the reasons typed for the decision of some of the call's submitted applications
    (a page of the decision screen), before the decision; returns how many changed.

    The decision gives each rejection the reason saved here, else its kind's default. Each
    change is kept in the application's history.
    """
    with transaction.atomic():
        # The decision takes the same lock: a reason is saved before the decision reads it,
        # or refused once the call is decided.
        competition = lock_competition(competition.pk)
        if competition.is_decided:
            raise refusal(
                _("The call has been decided; its reasons can no longer change."),
                "already_decided",
            )
        chosen = competition.applications.filter(pk__in=list(reasons))
        applications = list(
            chosen.select_related("municipality")  # pragma: no mutate (a query saved, not a rule)
        )
        outside = sorted(
            application.reference or _("this draft")
            for application in applications
            if application.status != ApplicationStatus.SUBMITTED
        )
        if outside or len(applications) != len(reasons):
            raise refusal(
                _(
                    "A reason for the decision can be saved only for a submitted application "
                    "of this call, not for: %(references)s."
                ),
                "not_submitted",
                references=", ".join(outside) or _("an application of another call"),
            )
        changed = 0
        for application in applications:
            text = reasons[application.pk].strip()
            if text != application.decision_reason:
                application.decision_reason = text
                recorded = changed_by(application, by)
                # Read under the call's lock just above: saving every field writes the same.
                recorded.save(update_fields=["decision_reason", "updated_at"])  # pragma: no mutate
                changed += 1
        return changed
