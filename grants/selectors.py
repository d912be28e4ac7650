"""Reads that span the grants' models."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone

from applications.models import AllocationEvent

from .models import (
    Grant,
    GrantStatus,
    PlanLine,
    PlanVersion,
    PlanVersionStatus,
    Report,
    ReportKind,
    ReportStatus,
)

#: The fields of a line whose change a comparison reports, in the order shown.
COMPARED_FIELDS = ["category", "title", "description", "cost"]


@dataclass(frozen=True)
class LineChange:
    before: PlanLine
    after: PlanLine
    fields: list[str]

    @property
    def cost_before(self) -> Decimal:
        return self.before.cost

    @property
    def cost_after(self) -> Decimal:
        return self.after.cost

    @property
    def difference(self) -> Decimal:
        return self.after.cost - self.before.cost


@dataclass(frozen=True)
class PlanChanges:
    """What a plan version changed against the version before it (none for version 1)."""

    version: PlanVersion
    previous: PlanVersion | None
    added: list[PlanLine] = field(default_factory=list)
    removed: list[PlanLine] = field(default_factory=list)
    changed: list[LineChange] = field(default_factory=list)

    @property
    def total_before(self) -> Decimal | None:
        return self.previous.total if self.previous else None

    @property
    def total_after(self) -> Decimal:
        return self.version.total

    @property
    def difference(self) -> Decimal:
        return self.version.total - (self.previous.total if self.previous else Decimal("0.00"))

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def plan_changes(version: PlanVersion) -> PlanChanges:
    """Compare a version with the one numbered before it, line by line through their keys:
    a key in both is the same line (changed or not), a key in one only was added or removed.

    Two queries: the previous version, and the lines of both.
    """
    previous = (
        PlanVersion.objects.filter(grant_id=version.grant_id, number=version.number - 1).first()
        if version.number > 1
        else None
    )
    lines = PlanLine.objects.filter(
        version_id__in=[version.pk] + ([previous.pk] if previous else [])
    ).select_related("category")
    return _compare(version, previous, lines)


def plan_history(grant) -> list[PlanChanges]:
    """Every version of a grant, newest first, each compared with the one before it.

    Two queries, whatever the number of versions and lines: the versions (with who proposed
    and decided them), and all their lines. Each version's ``lines`` are set on it, in order.
    """
    versions = list(
        PlanVersion.objects.filter(grant=grant)
        .select_related("proposed_by", "decided_by", "created_by")
        .order_by("number")
    )
    lines = list(
        PlanLine.objects.filter(version__grant=grant)
        .select_related("category")
        .order_by("position", "id")
    )
    by_version: dict[int, list[PlanLine]] = {version.pk: [] for version in versions}
    for line in lines:
        by_version[line.version_id].append(line)
    history = []
    previous = None
    for version in versions:
        version.ordered_lines = by_version[version.pk]
        shared = version.ordered_lines + (by_version[previous.pk] if previous else [])
        history.append(_compare(version, previous, shared))
        previous = version
    return list(reversed(history))


def _compare(version: PlanVersion, previous: PlanVersion | None, lines) -> PlanChanges:
    """The changes of ``version`` against ``previous``, from the lines of both."""
    before = {line.key: line for line in lines if previous and line.version_id == previous.pk}
    after = {line.key: line for line in lines if line.version_id == version.pk}
    ordered_after = sorted(after.values(), key=lambda line: line.position)
    changed = []
    for line in ordered_after:
        old = before.get(line.key)
        if old is None:
            continue
        fields = [
            name
            for name in COMPARED_FIELDS
            if getattr(old, name if name != "category" else "category_id")
            != getattr(line, name if name != "category" else "category_id")
        ]
        if fields:
            changed.append(LineChange(before=old, after=line, fields=fields))
    return PlanChanges(
        version=version,
        previous=previous,
        added=[line for line in ordered_after if previous and line.key not in before],
        removed=sorted(
            (line for key, line in before.items() if key not in after),
            key=lambda line: line.position,
        ),
        changed=changed,
    )


# --- what comes next ------------------------------------------------------------------------


@dataclass(frozen=True)
class NextStep:
    """What is to be done next on a grant, by whom, since when and by when; the pages word it.

    ``code`` is one of: ``propose`` (the municipality revises its draft and proposes it),
    ``revise`` (the plan was returned: correct it and propose again), ``awaiting`` (the
    coordinator is to approve or return the proposed plan), ``agreement`` (the plan is agreed;
    the agreement is next), ``implement``, ``interim_report`` and ``final_report`` (a report
    is due), ``report_returned`` (a report came back for correction), ``report_review`` (the
    coordinator reviews a submitted report), ``report`` (the final report is under review),
    ``settle`` (the final report is accepted: the final payment or the repayment, then the
    close), ``repay`` (the municipality owes a repayment), ``closed``, ``declined``,
    ``terminated``.
    """

    code: str
    municipality_acts: bool
    since: datetime | None = None
    due: date | None = None
    report: Report | None = None

    @property
    def report_due(self) -> bool:
        """The due date is a report's."""
        return self.code in REPORT_STEPS

    @property
    def overdue(self) -> bool:
        return self.report_due and self.due is not None and self.due < timezone.localdate()


#: The steps whose due date is a report's: past it, the step is overdue.
REPORT_STEPS = {"interim_report", "final_report", "report_returned"}


def return_being_answered(versions: list[PlanVersion]) -> PlanVersion | None:
    """The returned version the municipality is to answer, from the versions newest first: the
    latest if it was returned, or the one just before the draft that answers it. No query."""
    if versions and versions[0].status == PlanVersionStatus.RETURNED:
        return versions[0]
    if (
        len(versions) > 1
        and versions[0].status == PlanVersionStatus.DRAFT
        and versions[1].status == PlanVersionStatus.RETURNED
    ):
        return versions[1]
    return None


def grant_next_step(
    grant: Grant,
    latest: PlanVersion | None,
    returned: PlanVersion | None = None,
    reports: list[Report] | None = None,
) -> NextStep:
    """The next step of a grant, from its status, its latest plan version, the returned
    version it answers (``return_being_answered``) and its reports (every version, any
    order). No query."""
    competition = grant.application.competition
    ends = competition.implementation_ends_on
    if grant.status in (GrantStatus.IN_PROGRESS, GrantStatus.REPORTING) and reports is not None:
        return _reporting_step(grant, reports)
    if grant.status == GrantStatus.AGREEING and latest is not None:
        if latest.status == PlanVersionStatus.PROPOSED:
            return NextStep("awaiting", False, latest.proposed_at, ends)
        if returned is not None:
            return NextStep("revise", True, returned.decided_at, ends)
        return NextStep("propose", True, grant.opened_at, ends)
    if grant.status == GrantStatus.SIGNING:
        return NextStep("agreement", True, latest.decided_at if latest else None, ends)
    if grant.status == GrantStatus.IN_PROGRESS:
        return NextStep("implement", True, None, ends)
    if grant.status == GrantStatus.REPORTING:
        return NextStep("report", False, None, competition.report_due_on)
    if grant.status == GrantStatus.DECLINED:
        return NextStep("declined", False, grant.declined_at)
    return NextStep(grant.status, False)


def award_as_decided(grant: Grant) -> Decimal:
    """The award as the decision made it: before the first change after the decision (a plan
    agreed for less, or the award declined), or the award itself when it never changed. One
    query."""
    application = grant.application
    decided_at = application.competition.decided_at or grant.opened_at
    first_change = (
        AllocationEvent.objects.filter(application=application, at__gt=decided_at)
        .order_by("at", "id")
        .values_list("amount_before", flat=True)
        .first()
    )
    return application.awarded_amount if first_change is None else first_change


def _latest_reports(reports: list[Report]) -> dict[str, Report]:
    latest: dict[str, Report] = {}
    for report in reports:
        if report.kind not in latest or report.number > latest[report.kind].number:
            latest[report.kind] = report
    return latest


def _reporting_step(grant: Grant, reports: list[Report]) -> NextStep:
    """The next step of a grant in progress or reporting, from its reports."""
    competition = grant.application.competition
    latest = _latest_reports(reports)
    final = latest.get(ReportKind.FINAL)
    interim = latest.get(ReportKind.INTERIM)
    final_sent = final is not None and (final.status != ReportStatus.DRAFT or final.number > 1)
    for report in (final, interim):
        if report is None:
            continue
        if report.status == ReportStatus.SUBMITTED:
            return NextStep("report_review", False, report.submitted_at, None, report)
        if report.status == ReportStatus.RETURNED or (
            report.status == ReportStatus.DRAFT and report.number > 1
        ):
            return NextStep("report_returned", True, report.decided_at, report.due_on, report)
    if final is not None and final.status == ReportStatus.ACCEPTED:
        if grant.status == GrantStatus.CLOSED:
            return NextStep("closed", False)
        if grant.to_repay > 0:
            return NextStep("repay", True, final.decided_at, None, final)
        return NextStep("settle", False, final.decided_at, None, final)
    if (
        competition.interim_report_due_on
        and not final_sent
        and (interim is None or interim.status == ReportStatus.DRAFT)
    ):
        return NextStep("interim_report", True, None, competition.interim_report_due_on, interim)
    return NextStep("final_report", True, None, competition.report_due_on, final)


# --- payments -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentProposal:
    """A payment due on a grant as the rules work it out; the coordinator records it."""

    kind: str
    amount: Decimal
    label: str


def payment_proposals(grant: Grant) -> list[PaymentProposal]:
    """What is due: the advance (its share of the agreed total, less any advance paid), an
    interim payment (the accepted interim spending less what was paid), the final payment
    (the accepted spending less what the municipality holds), or the repayment claim (what it
    holds above the accepted spending). Three queries at most."""
    from .models import Payment, PaymentKind
    from .settlement import ACTIVE, advance_limit

    if grant.status not in ACTIVE or grant.agreed_total is None:
        return []
    proposals = []
    ledger = Payment.objects.filter(grant=grant)
    advance = advance_limit(grant) - ledger.filter(kind=PaymentKind.ADVANCE).signed_sum(
        repayments=False
    )
    if advance > 0 and grant.accepted_total is None:
        proposals.append(PaymentProposal(PaymentKind.ADVANCE, advance, PaymentKind.ADVANCE.label))
    if grant.application.competition.interim_report_due_on and grant.accepted_total is None:
        interim = (
            Report.objects.filter(
                grant=grant, kind=ReportKind.INTERIM, status=ReportStatus.ACCEPTED
            )
            .values_list("accepted_total", flat=True)
            .first()
        )
        if interim is not None and interim > grant.net_paid:
            proposals.append(
                PaymentProposal(
                    PaymentKind.INTERIM, interim - grant.net_paid, PaymentKind.INTERIM.label
                )
            )
    if grant.to_pay > 0:
        proposals.append(PaymentProposal(PaymentKind.FINAL, grant.to_pay, PaymentKind.FINAL.label))
    if grant.to_repay > 0:
        proposals.append(
            PaymentProposal(PaymentKind.REPAYMENT, grant.to_repay, PaymentKind.REPAYMENT.label)
        )
    return proposals


def grants_with_next_steps(user, *, open_only: bool = False) -> list[Grant]:
    """The grants of the user's municipalities, newest call first, each with ``next_step``:
    two queries whatever their number. ``open_only`` leaves out the grants whose life is over
    (closed, declined, terminated), as the dashboard shows them."""
    grants = Grant.objects.of_municipality_staff(user)
    if open_only:
        grants = grants.exclude(
            status__in=[GrantStatus.CLOSED, GrantStatus.DECLINED, GrantStatus.TERMINATED]
        )
    grants = list(
        grants.select_related("application__competition", "application__municipality")
        .prefetch_related(
            Prefetch(
                "plan_versions",
                queryset=PlanVersion.objects.defer("frozen").order_by("number"),
                to_attr="versions",
            ),
            Prefetch(
                "reports",
                queryset=Report.objects.defer("snapshot", "summary"),
                to_attr="all_reports",
            ),
        )
        .order_by("-application__competition__decided_at", "application__municipality__name")
    )
    for grant in grants:
        newest_first = grant.versions[::-1]
        grant.next_step = grant_next_step(
            grant,
            newest_first[0] if newest_first else None,
            return_being_answered(newest_first),
            grant.all_reports,
        )
    return grants
