"""Every write with a rule after the decision: opening grants, agreeing the plan to the award,
declining the award.

Each service runs in one transaction, opened as its first statement, and takes plain,
keyword-only arguments. A refusal is a ``ValidationError`` with a ``code`` and a message that
names the rule and the amounts. Locks are taken in one order, so that two services never wait
for each other: the call's row first (its pool), then the grant's.

An award changes only through ``applications.services.allocation_set`` (money rule 4): it
may be lowered after the decision, never raised.
"""

import hashlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from applications.models import Application, PlannedActivity, snapshot_digest
from applications.services import allocation_set, files_removed_on_failure, next_number
from applications.services.common import lock_competition, riga_time
from competitions.formatting import CENT, format_money
from competitions.history import BULK_BATCH, changed_by
from competitions.models import ActivityCategory, Competition
from competitions.roles import acts_for, is_coordinator, may_sign_for
from competitions.rules import refusal

from . import agreements, notifications
from .models import Agreement, Grant, PlanLine, PlanVersion
from .signatures import check_signed_agreement

logger = logging.getLogger("grants.services")

# --- shared pieces --------------------------------------------------------------------------


def _lock_grant(grant_id: int) -> Grant:
    """The grant, locked, after its call.

    The call's row first: every change of a call's money (an allocation, the decision, a plan
    approved or an award declined in another grant of the call) takes it, so the pool is read
    and changed by one transaction at a time, in the same order everywhere.
    """
    competition_id = (
        Grant.objects.filter(pk=grant_id).values_list("application__competition_id").get()[0]
    )
    lock_competition(competition_id)
    # Joined only to save the queries of the refusals and letters that name them.
    joins = ("application__municipality", "application__competition")  # pragma: no mutate
    # Two tabs of the municipality saving the plan, a proposal racing the coordinator's
    # approval, a decline racing an approval: each would read the plan's state before the
    # other's write. With the grant's row locked they take turns and re-read it. (SQLite takes
    # no row locks: only the PostgreSQL tests can tell what is locked.)
    locked = Grant.objects.select_for_update(of=("self",))  # pragma: no mutate
    return locked.select_related(*joins).get(pk=grant_id)


#: The grant, locked after its call: for the services of ``grants.settlement``, which take the
#: locks in the same order.
lock_grant = _lock_grant


def _ensure_staff_of(grant: Grant, by: User) -> None:
    if not acts_for(by, grant.municipality):
        raise refusal(
            _("Only staff of %(municipality)s can do this."),
            "not_municipality_staff",
            municipality=grant.municipality.name,
        )


def _ensure_coordinator(by: User) -> None:
    if not is_coordinator(by):
        raise refusal(_("Only a coordinator can approve or return a plan."), "not_coordinator")


def _ensure_plan_editable(grant: Grant) -> None:
    """A plan is agreed before the agreement and amended during implementation; a declined,
    terminated or closed grant's plan stays as it is."""
    if grant.status not in (Grant.Status.AGREEING, Grant.Status.IN_PROGRESS):
        raise refusal(
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
        # A call of 10 000 opens its grants in a few dozen statements, each row with its
        # history row, as one save each would write.
        grants = bulk_create_with_history(
            [Grant(application=application, opened_at=moment) for application in awarded],
            Grant,
            batch_size=BULK_BATCH,  # pragma: no mutate: statements, not rows
            default_user=by,
        )
        activities = {grant.application_id: [] for grant in grants}
        for activity in PlannedActivity.objects.filter(application__in=list(activities)).order_by(
            "application_id",  # pragma: no mutate: grouped by application below all the same
            "order",
            "id",  # pragma: no mutate: a tie in the order, which the database breaks by id too
        ):
            activities[activity.application_id].append(activity)
        versions = bulk_create_with_history(
            [
                PlanVersion(
                    grant=grant,
                    number=1,
                    created_by=by,
                    # A submitted application has activities: the start is never what is stored.
                    total=sum(
                        (activity.cost for activity in activities[grant.application_id]),
                        Decimal("0.00"),  # pragma: no mutate
                    ),
                )
                for grant in grants
            ],
            PlanVersion,
            batch_size=BULK_BATCH,  # pragma: no mutate: statements, not rows
            default_user=by,
        )
        PlanLine.objects.bulk_create(
            (
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
                for version in versions
                for position, activity in enumerate(
                    activities[version.grant.application_id], start=1
                )
            ),
            batch_size=BULK_BATCH,  # pragma: no mutate: statements, not rows
        )
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
    # values_list(flat=True) without a field name gives the id too: the name is for the reader.
    allowed = set(grant.competition.categories.values_list("pk", flat=True))  # pragma: no mutate
    known = set(PlanLine.objects.filter(version__grant=grant).values_list("key", flat=True))
    seen = set()
    for number, line in enumerate(lines, start=1):
        if not line.title.strip():
            problems.append(
                refusal(_("Line %(line)s: give its title."), "line_title_required", line=number)
            )
        cost = line.cost
        if not isinstance(cost, Decimal) or not cost.is_finite() or cost != cost.quantize(CENT):
            problems.append(
                refusal(
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
                refusal(
                    _("Line %(line)s: the cost must be more than zero, not %(cost)s."),
                    "line_cost_not_positive",
                    line=number,
                    cost=cost,
                )
            )
        if line.category.pk not in allowed:
            problems.append(
                refusal(
                    _("Line %(line)s: the category “%(category)s” is not one of this call's."),
                    "category_not_in_call",
                    line=number,
                    category=line.category.name,
                )
            )
        if line.key and (line.key not in known or line.key in seen):
            problems.append(
                refusal(
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
            raise refusal(
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
        start = Decimal("0.00")
        # Without the start the sum of no lines is the integer 0, stored as 0.00 all the same.
        version.total = sum((line.cost for line in lines), start)  # pragma: no mutate
        changed_by(version, by).save()
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
            raise refusal(
                _("Plan version %(number)s is %(status)s; only a draft can be proposed."),
                "not_draft",
                number=version.number,
                status=version.get_status_display(),
            )
        _ensure_plan_editable(grant)
        if not version.lines.exists():
            raise refusal(_("A plan without lines cannot be proposed."), "plan_empty")
        _ensure_within_award(grant, version)
        _ensure_not_below_paid(grant, version)
        version.status = PlanVersion.Status.PROPOSED
        version.proposed_at = timezone.now()
        version.proposed_by = by
        recorded = changed_by(version, by)
        # Read under the grant's lock: saving every field writes the same values to the others.
        recorded.save(update_fields=["status", "proposed_at", "proposed_by"])  # pragma: no mutate
        transaction.on_commit(lambda: notifications.plan_proposed(version))
        return version


def _ensure_within_award(grant: Grant, version: PlanVersion) -> None:
    """Money rule 4: the plan's total is at most the award."""
    award = grant.application.awarded_amount
    if version.total > award:
        raise refusal(
            _(
                "The plan's total of %(total)s is more than the award of %(award)s by "
                "%(excess)s; reduce the plan to at most %(award)s."
            ),
            "over_award",
            total=version.total,
            award=award,
            excess=version.total - award,
        )


def _ensure_not_below_paid(grant: Grant, version: PlanVersion) -> None:
    """Money rule 5 for an amendment: the agreed total never falls below what the municipality
    already holds (paid less repaid)."""
    held = grant.net_paid
    if version.total < held:
        raise refusal(
            _(
                "The plan's total of %(total)s is less than the %(held)s already paid to "
                "%(municipality)s, by %(shortfall)s; the plan's total must be at least %(held)s."
            ),
            "below_paid",
            total=version.total,
            held=held,
            municipality=grant.municipality.name,
            shortfall=held - version.total,
        )


def plan_frozen(version: PlanVersion) -> dict:
    """The version as approved, in plain JSON values: what its SHA-256 is taken of."""
    # Joined only to save two queries a line.
    lines = version.lines.select_related("category")  # pragma: no mutate
    lines = lines.order_by("position")
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
    and lower the award to it where it is less, so that the difference returns to the pool;
    then issue the agreement of the approved plan, in the same transaction (a plan is never
    approved without its agreement, nor an agreement issued for a plan not approved)."""
    with transaction.atomic():
        grant, version = _lock_version(version)
        _ensure_coordinator(by)
        if version.status != PlanVersion.Status.PROPOSED:
            raise refusal(
                _("Plan version %(number)s is %(status)s; only a proposed plan can be approved."),
                "not_proposed",
                number=version.number,
                status=version.get_status_display(),
            )
        # The grant may have been declined, or the award lowered, since the proposal.
        _ensure_plan_editable(grant)
        _ensure_within_award(grant, version)
        # Payments may have been recorded since the proposal.
        _ensure_not_below_paid(grant, version)
        now = timezone.now()
        for earlier in grant.plan_versions.filter(status=PlanVersion.Status.APPROVED):
            # An amendment: the plan approved before stays frozen as it was, and is kept.
            earlier.status = PlanVersion.Status.SUPERSEDED
            superseded = changed_by(earlier, by)
            # Read under the grant's lock just above: saving every field writes the same values.
            superseded.save(update_fields=["status"])  # pragma: no mutate
        version.frozen = plan_frozen(version)
        version.sha256 = snapshot_digest(version.frozen)
        version.status = PlanVersion.Status.APPROVED
        version.decided_at = now
        version.decided_by = by
        approved = changed_by(version, by)
        # Read under the grant's lock: saving every field writes the same values to the others.
        approved.save(  # pragma: no mutate: the other fields are as read under the lock
            update_fields=["frozen", "sha256", "status", "decided_at", "decided_by"]
        )
        award = grant.application.awarded_amount
        # An award equal to the total is left as it is; allocation_set would write nothing.
        if version.total < award:  # pragma: no mutate: <= sets the same amount, a no-op
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
        recorded = changed_by(grant, by)
        # The grant was read under its lock: saving every field writes the same values.
        recorded.save(update_fields=["agreed_total", "status", "updated_at"])  # pragma: no mutate
        transaction.on_commit(lambda: notifications.plan_approved(version, award_before=award))
        agreement_issue(grant=grant, by=by)
        return version


def plan_return(*, version: PlanVersion, by: User, comment: str) -> PlanVersion:
    """Return a proposed plan to the municipality with a comment (a coordinator)."""
    with transaction.atomic():
        _grant, version = _lock_version(version)
        _ensure_coordinator(by)
        if version.status != PlanVersion.Status.PROPOSED:
            raise refusal(
                _("Plan version %(number)s is %(status)s; only a proposed plan can be returned."),
                "not_proposed",
                number=version.number,
                status=version.get_status_display(),
            )
        if not comment.strip():
            raise refusal(
                _("Say what the municipality should change in the plan."), "comment_required"
            )
        version.status = PlanVersion.Status.RETURNED
        version.return_comment = comment.strip()
        version.decided_at = timezone.now()
        version.decided_by = by
        recorded = changed_by(version, by)
        # The version was read under the grant's lock just above: saving every field writes the
        # same values to the others.
        recorded.save(  # pragma: no mutate: the other fields are as read under the lock
            update_fields=["status", "return_comment", "decided_at", "decided_by"]
        )
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
            raise refusal(_("Give the reason for declining the award."), "reason_required")
        signed = (
            Agreement.objects.filter(grant=grant)
            .exclude(accepted_at__isnull=True, signed_file="")
            .exists()
        )
        if grant.status not in (Grant.Status.AGREEING, Grant.Status.SIGNING) or signed:
            raise refusal(
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
        recorded = changed_by(grant, by)
        # The grant was read under its lock (the award's change writes the application, not the
        # grant): saving every field writes the same values to the others.
        recorded.save(  # pragma: no mutate: the other fields are as read under the lock
            update_fields=["status", "declined_at", "declined_by", "decline_reason", "updated_at"]
        )
        transaction.on_commit(lambda: notifications.grant_declined(grant, amount=award))
        return grant


# --- the agreement --------------------------------------------------------------------------

#: Who may issue and countersign agreements: the coordinators' permission, checked by the admin.
AGREEMENT_PERMISSION = "grants.add_agreement"


def _ensure_coordinator_for(by: User, what: str) -> None:
    if not is_coordinator(by):
        raise refusal(_("Only a coordinator can %(what)s."), "not_coordinator", what=what)


def _ensure_call_ready_for_agreement(competition: Competition) -> None:
    needed = ["signatory_name", "signatory_position", "implementation_ends_on", "report_due_on"]
    missing = [
        str(Competition._meta.get_field(field).verbose_name)
        for field in needed
        if not getattr(competition, field)
    ]
    if missing:
        raise refusal(
            _("Fill in the call's %(fields)s before its agreements are issued."),
            "call_incomplete",
            fields="; ".join(missing),
        )


def _issue(grant: Grant, *, by: User, language: str, files: list) -> Agreement:
    """Number, render and store the agreement of the grant's approved plan, in the caller's
    transaction with the grant locked; the agreement it had is kept, replaced by this one."""
    if language not in dict(settings.LANGUAGES):
        raise refusal(
            _("Agreements are written in Latvian or English, not in “%(language)s”."),
            "unknown_language",
            language=language,
        )
    if grant.status != Grant.Status.SIGNING:
        raise refusal(
            _(
                "An agreement is issued once the plan is approved and until it is signed; the "
                "grant of %(municipality)s is %(status)s."
            ),
            "not_signing",
            municipality=grant.municipality.name,
            status=grant.get_status_display(),
        )
    _ensure_call_ready_for_agreement(grant.competition)
    version = grant.plan_versions.get(status=PlanVersion.Status.APPROVED)
    previous = grant.agreements.current().first()
    generated_at = timezone.now()
    # The date of the same instant, read once so that the date and the time printed agree at
    # midnight; read again, it is the same day in any test.
    issued_on = timezone.localdate(generated_at)  # pragma: no mutate
    prefix = agreements.agreement_number_prefix(grant=grant, issued_on=issued_on)
    # The number is printed in the PDF, so it is taken before rendering; the counter stays
    # locked until commit, and a failed rendering gives the number back (no gaps).
    number = f"{prefix}-{next_number(f'agreement:{prefix}'):03d}"
    content = agreements.agreement_data(
        grant,
        version,
        number=number,
        language=language,
        issued_on=issued_on,
        replaces=previous.number if previous else "",
    )
    try:
        pdf = agreements.render_agreement(content)
    except Exception as error:
        logger.exception("Rendering agreement %s failed", number)
        raise refusal(
            _(
                "The PDF of the agreement could not be made, so nothing was issued. Try again; "
                "if it fails again, tell the portal's administrator."
            ),
            "render_failed",
        ) from error
    agreement = Agreement(
        grant=grant,
        plan_version=version,
        number=number,
        language=language,
        sha256=hashlib.sha256(pdf).hexdigest(),
        generated_at=generated_at,
        generated_by=by,
    )
    name = f"{number.replace('/', '-')}.pdf"
    # The row is written once, just below, by its coordinator: False and None (the change) both
    # leave it to that.
    agreement.pdf.save(name, ContentFile(pdf), save=False)  # pragma: no mutate
    files.append(agreement.pdf)
    changed_by(agreement, by).save()
    # One current agreement per grant, kept so by the grant's lock: the one it had points to
    # the new one, and stays as it was signed (or not).
    if previous is not None:
        previous.replaced_by = agreement
        recorded = changed_by(previous, by)
        # Read under the grant's lock: saving every field writes the same values.
        recorded.save(update_fields=["replaced_by"])  # pragma: no mutate
    transaction.on_commit(lambda: notifications.agreement_issued(agreement))
    return agreement


def agreement_issue(*, grant: Grant, by: User, language: str = "lv") -> Agreement:
    """Issue the agreement of a grant whose plan is approved (a coordinator): a numbered PDF
    stored with its SHA-256. Issued again (a correction, another language), the new document
    replaces the current one, which is kept and stays downloadable; the municipality then
    accepts or signs the new one."""
    with files_removed_on_failure() as files, transaction.atomic():
        grant = _lock_grant(grant.pk)
        _ensure_coordinator_for(by, _("issue an agreement"))
        return _issue(grant, by=by, language=language, files=files)


def _lock_agreement(agreement: Agreement) -> tuple[Grant, Agreement]:
    grant = _lock_grant(agreement.grant_id)
    # Read again under the grant's lock, which every write to its agreements takes first: an
    # acceptance racing a re-issue, or two signatories accepting at once, take turns.
    agreement = Agreement.objects.get(pk=agreement.pk)
    agreement.grant = grant
    return grant, agreement


def _ensure_open_for_municipality(grant: Grant, agreement: Agreement, by: User) -> None:
    if not may_sign_for(by, grant.municipality):
        raise refusal(
            _(
                "Only a person whom %(municipality)s has named as authorised to sign can accept "
                "or sign its agreement."
            ),
            "not_signatory",
            municipality=grant.municipality.name,
        )
    if agreement.replaced_by_id is not None:
        raise refusal(
            _("Agreement %(number)s has been replaced by %(replacement)s; open the new one."),
            "agreement_replaced",
            number=agreement.number,
            replacement=agreement.replaced_by.number,
        )
    if agreement.municipality_signed:
        raise refusal(
            _("Agreement %(number)s has already been accepted or signed for %(municipality)s."),
            "already_signed",
            number=agreement.number,
            municipality=grant.municipality.name,
        )
    if grant.status != Grant.Status.SIGNING:
        raise refusal(
            _("Agreement %(number)s cannot be signed: the grant is %(status)s."),
            "not_signing",
            number=agreement.number,
            status=grant.get_status_display(),
        )


def _stored_pdf(agreement: Agreement) -> bytes:
    """The generated PDF as stored, refused if it is no longer what was generated."""
    with agreement.pdf.open("rb") as stored:
        pdf = stored.read()
    if hashlib.sha256(pdf).hexdigest() != agreement.sha256:
        raise refusal(
            _(
                "The stored file of agreement %(number)s no longer matches its SHA-256; tell "
                "the coordinator, who will issue it again."
            ),
            "agreement_file_changed",
            number=agreement.number,
        )
    return pdf


def agreement_accept(
    *, agreement: Agreement, by: User, sha256: str, client_address: str | None
) -> Agreement:
    """The municipality's signatory accepts the agreement on the portal. ``sha256`` is the
    digest the confirmation page showed: if the agreement is no longer that document, nothing
    is accepted. Records who, when, from which address, and the SHA-256 accepted."""
    with transaction.atomic():
        grant, agreement = _lock_agreement(agreement)
        _ensure_open_for_municipality(grant, agreement, by)
        if sha256.strip().lower() != agreement.sha256:
            raise refusal(
                _(
                    "The agreement is no longer the document you were shown (SHA-256 "
                    "%(shown)s); read agreement %(number)s again and accept it then."
                ),
                "document_changed",
                shown=sha256.strip() or "—",
                number=agreement.number,
            )
        _stored_pdf(agreement)
        agreement.accepted_at = timezone.now()
        agreement.accepted_by = by
        agreement.accepted_from = client_address
        agreement.accepted_sha256 = agreement.sha256
        changed_by(agreement, by).save(
            update_fields=[  # pragma: no mutate: the rest is as read under the lock
                "accepted_at",
                "accepted_by",
                "accepted_from",
                "accepted_sha256",
            ]
        )
        transaction.on_commit(lambda: notifications.agreement_signed_by_municipality(agreement))
        return agreement


def agreement_upload_signed(*, agreement: Agreement, by: User, file) -> Agreement:
    """The municipality's signatory uploads the agreement signed with a secure electronic
    signature (an ASiC-E container or a signed PDF holding exactly the generated agreement),
    stored with its SHA-256 beside the generated one."""
    with files_removed_on_failure() as files, transaction.atomic():
        grant, agreement = _lock_agreement(agreement)
        _ensure_open_for_municipality(grant, agreement, by)
        signed = _store_signed(agreement, agreement.signed_file, file, files=files)
        agreement.signed_file_sha256 = signed.sha256
        agreement.signed_file_kind = signed.kind
        agreement.signed_file_uploaded_at = timezone.now()
        agreement.signed_file_uploaded_by = by
        changed_by(agreement, by).save(
            update_fields=[  # pragma: no mutate: the rest is as read under the lock
                "signed_file",
                "signed_file_sha256",
                "signed_file_kind",
                "signed_file_uploaded_at",
                "signed_file_uploaded_by",
            ]
        )
        transaction.on_commit(lambda: notifications.agreement_signed_by_municipality(agreement))
        return agreement


def _store_signed(agreement: Agreement, field, file, *, files: list, suffix: str = ""):
    """Check that ``file`` is the agreement's own PDF signed (an ASiC-E container or a signed
    PDF), store it in ``field`` under the agreement's number, and return what the check found.
    The file joins ``files``, so that a rolled-back transaction removes it."""
    signed = check_signed_agreement(file, pdf=_stored_pdf(agreement), number=agreement.number)
    name = f"{agreement.number.replace('/', '-')}_{uuid.uuid4().hex[:8]}{suffix}{signed.extension}"
    # The row is saved by the caller, under its lock: False and None (the change) both skip it.
    field.save(name, file, save=False)  # pragma: no mutate
    files.append(field)
    return signed


def agreement_countersign(*, agreement: Agreement, by: User, file=None) -> Agreement:
    """A coordinator countersigns the agreement once the municipality has accepted or signed
    it, optionally uploading the countersigned file (checked as the municipality's is); the
    grant is then in progress."""
    with files_removed_on_failure() as files, transaction.atomic():
        grant, agreement = _lock_agreement(agreement)
        _ensure_coordinator_for(by, _("countersign an agreement"))
        if agreement.replaced_by_id is not None:
            raise refusal(
                _("Agreement %(number)s has been replaced by %(replacement)s."),
                "agreement_replaced",
                number=agreement.number,
                replacement=agreement.replaced_by.number,
            )
        if agreement.countersigned_at is not None:
            raise refusal(
                _("Agreement %(number)s was already countersigned on %(when)s."),
                "already_countersigned",
                number=agreement.number,
                when=riga_time(agreement.countersigned_at),
            )
        if not agreement.municipality_signed:
            raise refusal(
                _(
                    "Agreement %(number)s is countersigned after %(municipality)s has accepted "
                    "or signed it, and it has not yet."
                ),
                "municipality_not_signed",
                number=agreement.number,
                municipality=grant.municipality.name,
            )
        if grant.status != Grant.Status.SIGNING:
            raise refusal(
                _("Agreement %(number)s cannot be countersigned: the grant is %(status)s."),
                "not_signing",
                number=agreement.number,
                status=grant.get_status_display(),
            )
        if file is not None:
            signed = _store_signed(
                agreement, agreement.countersigned_file, file, files=files, suffix="_vpr"
            )
            agreement.countersigned_file_sha256 = signed.sha256
        agreement.countersigned_at = timezone.now()
        agreement.countersigned_by = by
        changed_by(agreement, by).save(
            update_fields=[  # pragma: no mutate: the rest is as read under the lock
                "countersigned_at",
                "countersigned_by",
                "countersigned_file",
                "countersigned_file_sha256",
            ]
        )
        grant.status = Grant.Status.IN_PROGRESS
        recorded = changed_by(grant, by)
        # The grant was read under its lock: saving every field writes the same values.
        recorded.save(update_fields=["status", "updated_at"])  # pragma: no mutate
        transaction.on_commit(lambda: notifications.agreement_countersigned(agreement))
        return agreement
