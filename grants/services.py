"""Every write with a rule after the decision: opening grants, agreeing the plan to the award,
declining the award.

Each service runs in one transaction, opened as its first statement, and takes plain,
keyword-only arguments. A refusal is a ``ValidationError`` with a ``code`` and a message that
names the rule and the amounts. Locks are taken in one order, so that two services never wait
for each other: the call's row first (its pool), then the grant's.

An award changes only through ``applications.services.allocation_set`` (money rule 4): it
may be lowered after the decision, never raised.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import Application, snapshot_digest
from applications.services import allocation_set
from competitions.formatting import CENT, format_money
from competitions.models import ActivityCategory, Competition
from competitions.roles import acts_for, is_coordinator

from . import notifications
from .models import Agreement, Grant, PlanLine, PlanVersion

# --- shared pieces --------------------------------------------------------------------------


def _refuse(message: str, code: str, **params) -> ValidationError:
    """A refusal whose amounts are written the Latvian way (``9 800,00 €``)."""
    shown = {
        key: format_money(value) if isinstance(value, Decimal) else value
        for key, value in params.items()
    }
    return ValidationError(message, code=code, params=shown)


def _lock_grant(grant_id: int) -> Grant:
    """The grant, locked, after its call.

    The call's row first: every change of a call's money (an allocation, the decision, a plan
    approved or an award declined in another grant of the call) takes it, so the pool is read
    and changed by one transaction at a time, in the same order everywhere.
    """
    competition_id = (
        Grant.objects.filter(pk=grant_id).values_list("application__competition_id").get()[0]
    )
    Competition.objects.select_for_update().get(pk=competition_id)
    # Two tabs of the municipality saving the plan, a proposal racing the coordinator's
    # approval, a decline racing an approval: each would read the plan's state before the
    # other's write. With the grant's row locked they take turns and re-read it.
    return (
        Grant.objects.select_for_update(of=("self",))
        .select_related("application__municipality", "application__competition")
        .get(pk=grant_id)
    )


def _ensure_staff_of(grant: Grant, by: User) -> None:
    if not acts_for(by, grant.municipality):
        raise _refuse(
            _("Only staff of %(municipality)s can do this."),
            "not_municipality_staff",
            municipality=grant.municipality.name,
        )


def _ensure_coordinator(by: User) -> None:
    if not is_coordinator(by):
        raise _refuse(_("Only a coordinator can approve or return a plan."), "not_coordinator")


def _ensure_plan_editable(grant: Grant) -> None:
    """A plan is agreed before the agreement and amended during implementation; a declined,
    terminated or closed grant's plan stays as it is."""
    if grant.status not in (Grant.Status.AGREEING, Grant.Status.IN_PROGRESS):
        raise _refuse(
            _("The plan of %(municipality)s can no longer be changed: the grant is %(status)s."),
            "plan_not_editable",
            municipality=grant.municipality.name,
            status=grant.get_status_display(),
        )


def _open_version(grant: Grant) -> PlanVersion | None:
    return grant.plan_versions.filter(
        status__in=[PlanVersion.Status.DRAFT, PlanVersion.Status.PROPOSED]
    ).first()


def _new_key() -> str:
    return uuid.uuid4().hex


# --- opening the grants with the decision ---------------------------------------------------


def grants_open_on_decision(
    *, competition: Competition, awarded: Sequence[Application], by: User, **kwargs
) -> list[Grant]:
    """Receiver of ``applications.signals.competition_decided``: open the grants."""
    return grants_open(competition=competition, awarded=awarded, by=by)


def grants_open(
    *, competition: Competition, awarded: Sequence[Application], by: User
) -> list[Grant]:
    """Open a grant for every awarded application, with plan version 1: a draft copied from
    the submitted activities, which the municipality revises and proposes.

    Called in the decision's transaction (the call is locked by it), so that a call is never
    decided without its grants.
    """
    with transaction.atomic():
        moment = competition.decided_at or timezone.now()
        grants = []
        for application in awarded:
            grant = Grant(application=application, opened_at=moment)
            grant._history_user = by
            grant.save()
            version = PlanVersion(grant=grant, number=1, created_by=by)
            version._history_user = by
            version.save()
            activities = list(application.activities.order_by("order", "id"))
            PlanLine.objects.bulk_create(
                PlanLine(
                    version=version,
                    position=position,
                    key=_new_key(),
                    category_id=activity.category_id,
                    title=activity.title,
                    description=activity.description,
                    cost=activity.cost,
                    activity=activity,
                )
                for position, activity in enumerate(activities, start=1)
            )
            version.total = sum((activity.cost for activity in activities), Decimal("0.00"))
            version.save(update_fields=["total"])
            grants.append(grant)
        return grants


# --- the plan -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanLineData:
    """One line of a plan as the municipality's form gives it. ``key`` is the key of the line
    it continues from an earlier version, or empty for a new line."""

    category: ActivityCategory
    title: str
    cost: Decimal
    description: str = ""
    key: str = ""


def _check_lines(grant: Grant, lines: Sequence[PlanLineData]) -> None:
    problems = []
    allowed = set(grant.competition.categories.values_list("pk", flat=True))
    known = set(PlanLine.objects.filter(version__grant=grant).values_list("key", flat=True))
    seen = set()
    for number, line in enumerate(lines, start=1):
        if not line.title.strip():
            problems.append(
                _refuse(_("Line %(line)s: give its title."), "line_title_required", line=number)
            )
        cost = line.cost
        if not isinstance(cost, Decimal) or not cost.is_finite() or cost != cost.quantize(CENT):
            problems.append(
                _refuse(
                    _(
                        "Line %(line)s: the cost must be an amount in euros with at most two "
                        "decimal places."
                    ),
                    "invalid_amount",
                    line=number,
                )
            )
        elif cost <= 0:
            problems.append(
                _refuse(
                    _("Line %(line)s: the cost must be more than zero, not %(cost)s."),
                    "line_cost_not_positive",
                    line=number,
                    cost=cost,
                )
            )
        if line.category.pk not in allowed:
            problems.append(
                _refuse(
                    _("Line %(line)s: the category “%(category)s” is not one of this call's."),
                    "category_not_in_call",
                    line=number,
                    category=line.category.name,
                )
            )
        if line.key and (line.key not in known or line.key in seen):
            problems.append(
                _refuse(
                    _("Line %(line)s does not continue a line of this grant's plan."),
                    "unknown_line",
                    line=number,
                )
            )
        seen.add(line.key)
    if problems:
        raise ValidationError(problems)


def plan_save_draft(*, grant: Grant, by: User, lines: Sequence[PlanLineData]) -> PlanVersion:
    """Save the municipality's plan as a draft and return the draft version.

    The draft's lines are replaced by ``lines``. Where the plan has no draft (the last version
    was returned, or an approved plan is amended during implementation), a new version is
    started, so that every proposed version stays as it was proposed. A draft may be over the
    award (the page shows by how much); proposing it is refused.
    """
    with transaction.atomic():
        grant = _lock_grant(grant.pk)
        _ensure_staff_of(grant, by)
        _ensure_plan_editable(grant)
        _check_lines(grant, lines)
        version = _open_version(grant)
        if version is not None and version.status == PlanVersion.Status.PROPOSED:
            raise _refuse(
                _(
                    "Plan version %(number)s is proposed and awaits the coordinator's answer; it "
                    "cannot be changed until then."
                ),
                "plan_awaiting_decision",
                number=version.number,
            )
        previous = {
            line.key: line
            for line in PlanLine.objects.filter(version__grant=grant).order_by("version__number")
        }
        if version is None:
            latest = grant.plan_versions.aggregate(latest=Max("number"))["latest"] or 0
            version = PlanVersion(grant=grant, number=latest + 1, created_by=by)
        else:
            version.lines.all().delete()
        version.total = sum((line.cost for line in lines), Decimal("0.00"))
        version._history_user = by
        version.save()
        PlanLine.objects.bulk_create(
            PlanLine(
                version=version,
                position=position,
                key=line.key or _new_key(),
                category=line.category,
                title=line.title.strip(),
                description=line.description.strip(),
                cost=line.cost,
                # A line continued from the submitted activities keeps its link to it.
                activity_id=previous[line.key].activity_id if line.key else None,
            )
            for position, line in enumerate(lines, start=1)
        )
        return version


def _lock_version(version: PlanVersion) -> tuple[Grant, PlanVersion]:
    grant = _lock_grant(version.grant_id)
    # Read again under the grant's lock, which every write to its plan takes first.
    version = PlanVersion.objects.get(pk=version.pk)
    version.grant = grant
    return grant, version


def plan_propose(*, version: PlanVersion, by: User) -> PlanVersion:
    """Propose a draft to the coordinator; refused over the award or with no lines."""
    with transaction.atomic():
        grant, version = _lock_version(version)
        _ensure_staff_of(grant, by)
        if version.status != PlanVersion.Status.DRAFT:
            raise _refuse(
                _("Plan version %(number)s is %(status)s; only a draft can be proposed."),
                "not_draft",
                number=version.number,
                status=version.get_status_display(),
            )
        _ensure_plan_editable(grant)
        if not version.lines.exists():
            raise _refuse(_("A plan without lines cannot be proposed."), "plan_empty")
        _ensure_within_award(grant, version)
        version.status = PlanVersion.Status.PROPOSED
        version.proposed_at = timezone.now()
        version.proposed_by = by
        version._history_user = by
        version.save(update_fields=["status", "proposed_at", "proposed_by"])
        transaction.on_commit(lambda: notifications.plan_proposed(version))
        return version


def _ensure_within_award(grant: Grant, version: PlanVersion) -> None:
    """Money rule 4: the plan's total is at most the award."""
    award = grant.application.awarded_amount
    if version.total > award:
        raise _refuse(
            _(
                "The plan's total of %(total)s is more than the award of %(award)s by "
                "%(excess)s; reduce the plan to at most %(award)s."
            ),
            "over_award",
            total=version.total,
            award=award,
            excess=version.total - award,
        )


def plan_frozen(version: PlanVersion) -> dict:
    """The version as approved, in plain JSON values: what its SHA-256 is taken of."""
    lines = version.lines.select_related("category").order_by("position")
    return {
        "grant": version.grant_id,
        "application": version.grant.application.reference,
        "version": version.number,
        "total": str(version.total),
        "lines": [
            {
                "key": line.key,
                "position": line.position,
                "category": line.category.code,
                "category_name": line.category.name_lv,
                "title": line.title,
                "description": line.description,
                "cost": str(line.cost),
                "activity": line.activity_id,
            }
            for line in lines
        ],
    }


def plan_approve(*, version: PlanVersion, by: User) -> PlanVersion:
    """Approve a proposed plan (a coordinator): freeze it with its SHA-256, agree its total,
    and lower the award to it where it is less, so that the difference returns to the pool."""
    with transaction.atomic():
        grant, version = _lock_version(version)
        _ensure_coordinator(by)
        if version.status != PlanVersion.Status.PROPOSED:
            raise _refuse(
                _("Plan version %(number)s is %(status)s; only a proposed plan can be approved."),
                "not_proposed",
                number=version.number,
                status=version.get_status_display(),
            )
        # The grant may have been declined, or the award lowered, since the proposal.
        _ensure_plan_editable(grant)
        _ensure_within_award(grant, version)
        now = timezone.now()
        for earlier in grant.plan_versions.filter(status=PlanVersion.Status.APPROVED):
            # An amendment: the plan approved before stays frozen as it was, and is kept.
            earlier.status = PlanVersion.Status.SUPERSEDED
            earlier._history_user = by
            earlier.save(update_fields=["status"])
        version.frozen = plan_frozen(version)
        version.sha256 = snapshot_digest(version.frozen)
        version.status = PlanVersion.Status.APPROVED
        version.decided_at = now
        version.decided_by = by
        version._history_user = by
        version.save(update_fields=["frozen", "sha256", "status", "decided_at", "decided_by"])
        award = grant.application.awarded_amount
        if version.total < award:
            allocation_set(
                application=grant.application,
                amount=version.total,
                by=by,
                reason=_(
                    "Plan version %(number)s agreed at %(total)s; the award of %(award)s "
                    "is lowered by %(difference)s."
                )
                % {
                    "number": version.number,
                    "total": format_money(version.total),
                    "award": format_money(award),
                    "difference": format_money(award - version.total),
                },
            )
        grant.agreed_total = version.total
        # The agreement of the approved plan (a new one for an amendment) awaits both sides.
        grant.status = Grant.Status.SIGNING
        grant._history_user = by
        grant.save(update_fields=["agreed_total", "status", "updated_at"])
        transaction.on_commit(lambda: notifications.plan_approved(version, award_before=award))
        return version


def plan_return(*, version: PlanVersion, by: User, comment: str) -> PlanVersion:
    """Return a proposed plan to the municipality with a comment (a coordinator)."""
    with transaction.atomic():
        _grant, version = _lock_version(version)
        _ensure_coordinator(by)
        if version.status != PlanVersion.Status.PROPOSED:
            raise _refuse(
                _("Plan version %(number)s is %(status)s; only a proposed plan can be returned."),
                "not_proposed",
                number=version.number,
                status=version.get_status_display(),
            )
        if not comment.strip():
            raise _refuse(
                _("Say what the municipality should change in the plan."), "comment_required"
            )
        version.status = PlanVersion.Status.RETURNED
        version.return_comment = comment.strip()
        version.decided_at = timezone.now()
        version.decided_by = by
        version._history_user = by
        version.save(update_fields=["status", "return_comment", "decided_at", "decided_by"])
        transaction.on_commit(lambda: notifications.plan_returned(version))
        return version


# --- declining the award --------------------------------------------------------------------


def grant_decline(*, grant: Grant, by: User, reason: str) -> Grant:
    """The municipality turns the award down before its agreement is signed; the whole award
    returns to the call's pool."""
    with transaction.atomic():
        grant = _lock_grant(grant.pk)
        _ensure_staff_of(grant, by)
        if not reason.strip():
            raise _refuse(_("Give the reason for declining the award."), "reason_required")
        signed = (
            Agreement.objects.filter(grant=grant)
            .exclude(accepted_at__isnull=True, signed_file="")
            .exists()
        )
        if grant.status not in (Grant.Status.AGREEING, Grant.Status.SIGNING) or signed:
            raise _refuse(
                _(
                    "The award can be declined only before the agreement is signed; the grant is "
                    "%(status)s."
                ),
                "not_declinable",
                status=grant.get_status_display(),
            )
        award = grant.application.awarded_amount
        allocation_set(
            application=grant.application,
            amount=Decimal("0.00"),
            by=by,
            reason=_("%(municipality)s declined the award of %(award)s: %(reason)s")
            % {
                "municipality": grant.municipality.name,
                "award": format_money(award),
                "reason": reason.strip(),
            },
        )
        grant.status = Grant.Status.DECLINED
        grant.declined_at = timezone.now()
        grant.declined_by = by
        grant.decline_reason = reason.strip()
        grant._history_user = by
        grant.save(
            update_fields=["status", "declined_at", "declined_by", "decline_reason", "updated_at"]
        )
        return grant
