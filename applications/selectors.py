"""Reads that span models: the state of a call's pool, the ranking and the allocation proposal.

Each is a fixed number of queries, however many applications and reviews a call has.
"""

import hashlib
import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import reduce
from typing import NamedTuple

from django.core.cache import cache
from django.db import models
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    Subquery,
    Sum,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils.translation import gettext_lazy as _

from competitions import results_cache, roles
from competitions.formatting import format_money
from competitions.models import Competition

from .models import (
    DECIDED_STATUSES,
    RANKED_STATUSES,
    AllocationEvent,
    Application,
    ApplicationStatus,
    AwardLetter,
    PlannedActivity,
    Review,
    ranking_order,
)

ZERO = Decimal("0.00")
#: The fields of an application that hold its texts, left unread by lists that show none.
APPLICATION_TEXTS = ("snapshot", "goals", "target_groups", "summary", "decision_reason")


@dataclass(frozen=True)
class PoolState:
    pool: Decimal
    cap: Decimal
    allocated: Decimal
    remaining: Decimal


def pool_state(*, competition: Competition) -> PoolState:
    """One query: what has been allocated in the call and what remains."""
    allocated = (
        Application.objects.filter(competition=competition).aggregate(total=Sum("awarded_amount"))[
            "total"
        ]
        or ZERO
    )
    return PoolState(
        pool=competition.pool_amount,
        cap=competition.max_award_amount,
        allocated=allocated,
        remaining=competition.pool_amount - allocated,
    )


@dataclass(frozen=True)
class RankedMunicipality:
    pk: int
    name: str
    slug: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class RankedApplication:
    """An application as a ranking shows it: plain values read in one query. A call of
    10 000 applications is read this way in a sixth of the time that building its models
    and their municipalities takes, and a ranking needs none of their behaviour."""

    pk: int
    competition_id: int
    reference: str
    municipality: RankedMunicipality
    status: str
    requested_amount: Decimal
    awarded_amount: Decimal
    submitted_at: datetime
    score_mean: Decimal | None
    review_count: int
    score_min: Decimal | None
    score_max: Decimal | None
    rank: int

    @property
    def is_partial_award(self) -> bool:
        return ZERO < self.awarded_amount < self.requested_amount


#: What ``application_ranking`` reads of each application.
RANKED_FIELDS = (
    "pk",
    "competition_id",
    "reference",
    "municipality_id",
    "municipality__name",
    "municipality__slug",
    "status",
    "requested_amount",
    "awarded_amount",
    "submitted_at",
    "score_mean",
    "review_count",
    "score_min",
    "score_max",
    "rank",
)


def _ranked(row: dict, rank: int | None = None) -> RankedApplication:
    """A ranking's row from the values of RANKED_FIELDS (``rank`` given apart or read)."""
    if rank is not None:
        row["rank"] = rank
    return RankedApplication(
        municipality=RankedMunicipality(
            pk=row.pop("municipality_id"),
            name=row.pop("municipality__name"),
            slug=row.pop("municipality__slug"),
        ),
        **row,
    )


def application_ranking(*, competition: Competition, statuses=None) -> list[RankedApplication]:
    """One query: the call's applications under review, best first, each with its ``rank``.

    The scores are those of the reviews without a conflict of interest (kept on each
    application by the review service); unscored applications come last; ties go to the
    earlier submission.
    """
    statuses = statuses or [ApplicationStatus.SUBMITTED]
    rows = (
        Application.objects.filter(competition=competition, status__in=statuses)
        .with_rank()
        # The window's own order, not "rank": the database then sorts the rows once, not twice.
        .order_by(*ranking_order())
        .values(*RANKED_FIELDS)
    )
    return [_ranked(row) for row in rows]


def ranking_order_of(*, competition: Competition, statuses) -> list[int]:
    """One query: the ids of the call's applications in ``statuses``, best first (a rank is
    its place in this list, counted from 1)."""
    return list(
        Application.objects.filter(competition=competition, status__in=statuses)
        .order_by(*ranking_order())
        .values_list("pk", flat=True)
    )


def ranked_applications(*, pks: list[int], ranks: Mapping[int, int]) -> list[RankedApplication]:
    """One query: the applications ``pks`` (a page of a ranking), in that order, each with its
    rank in the whole call from ``ranks``."""
    rows = Application.objects.filter(pk__in=pks).values(*RANKED_FIELDS[:-1])
    built = {row["pk"]: _ranked(row, rank=ranks[row["pk"]]) for row in rows}
    return [built[pk] for pk in pks if pk in built]


class ProposalReason(models.TextChoices):
    FULL = "full", _("funded in full")
    PARTIAL = "partial", _("partial: the pool is exhausted")
    SKIPPED_PARTIAL_NOT_ALLOWED = "skipped", _("skipped: partial awards are not allowed")
    POOL_EXHAUSTED = "pool_exhausted", _("not funded: nothing is left in the pool")
    NOT_SCORED = "not_scored", _("not funded: no review without a conflict of interest")


class ProposedAmount(NamedTuple):
    """One step of the proposal's walk down the ranking: an application's id and amount, and
    the application itself where the proposal was read with it (``allocation_proposal``). A
    tuple: a call of 10 000 is walked in ten thousand of them."""

    pk: int
    rank: int
    requested: Decimal
    amount: Decimal
    reason: ProposalReason
    remaining_after: Decimal
    application: RankedApplication | None = None
    score: Decimal | None = None

    @property
    def explanation(self) -> str:
        text = str(ProposalReason(self.reason).label)
        if self.reason == ProposalReason.PARTIAL:
            return f"{text} ({format_money(self.amount)} / {format_money(self.requested)})"
        return text


@dataclass(frozen=True)
class Proposal:
    competition: Competition
    rows: list[ProposedAmount]  # each with its application from allocation_proposal
    pool: Decimal
    total: Decimal
    remaining: Decimal

    @property
    def digest(self) -> str:
        """What the coordinator saw, in 64 characters: every id and amount in rank order."""
        return proposal_digest(self.rows)

    def by_pk(self) -> dict[int, ProposedAmount]:
        return {row.pk: row for row in self.rows}


def proposal_digest(rows: Iterable[ProposedAmount]) -> str:
    # The amounts are read from the database with their two decimals, and so is each
    # remainder: str() writes them as the screen and the service both read them.
    text = "\n".join(f"{row.pk}:{row.amount}" for row in rows)
    return hashlib.sha256(text.encode()).hexdigest()


def _walk(
    competition: Competition, ranking: Iterable[tuple[int, Decimal, bool]]
) -> tuple[list[ProposedAmount], Decimal]:
    """Walk the ranking, ``(id, requested, scored)`` best first, and give each
    ``min(requested, cap, remaining pool)``; return the steps and what is left.

    Where partial awards are not allowed, an application that cannot be funded in full is
    skipped and the walk goes on to the next.
    """
    remaining = competition.pool_amount
    cap, partial_allowed = competition.max_award_amount, competition.partial_awards_allowed
    steps = []
    for rank, (pk, requested, scored) in enumerate(ranking, start=1):
        wanted = min(requested, cap)
        if not scored:
            amount, reason = ZERO, ProposalReason.NOT_SCORED
        elif wanted <= remaining:
            amount, reason = wanted, ProposalReason.FULL
        elif remaining <= 0:
            amount, reason = ZERO, ProposalReason.POOL_EXHAUSTED
        elif partial_allowed:
            amount, reason = remaining, ProposalReason.PARTIAL
        else:
            amount, reason = ZERO, ProposalReason.SKIPPED_PARTIAL_NOT_ALLOWED
        remaining -= amount
        steps.append(ProposedAmount(pk, rank, requested, amount, reason, remaining))
    return steps, remaining


def _proposal(competition: Competition, rows: list, remaining: Decimal) -> Proposal:
    return Proposal(
        competition=competition,
        rows=rows,
        pool=competition.pool_amount,
        total=competition.pool_amount - remaining,
        remaining=remaining,
    )


def proposal_walk(*, competition: Competition) -> Proposal:
    """One query: the whole call's proposal as ids and amounts, without the applications.

    It reads two values and a flag of each application, so a call of 10 000 is walked in a
    fraction of the time reading its ranking whole takes; a screen then reads the
    applications of the page it shows (``ranked_applications``).
    """
    ranking = (
        Application.objects.filter(competition=competition, status=ApplicationStatus.SUBMITTED)
        .annotate(
            scored=ExpressionWrapper(Q(score_mean__isnull=False), output_field=BooleanField())
        )
        .order_by(*ranking_order())
        .values_list("pk", "requested_amount", "scored")
    )
    steps, remaining = _walk(competition, ranking)
    return _proposal(competition, steps, remaining)


def allocation_proposal(*, competition: Competition) -> Proposal:
    """The proposal with each application read whole (``application_ranking``): the walk of
    ``proposal_walk``, each step with its application. Nothing is written."""
    ranking = application_ranking(competition=competition)
    steps, remaining = _walk(
        competition, ((a.pk, a.requested_amount, a.score_mean is not None) for a in ranking)
    )
    rows = [
        step._replace(application=application, score=application.score_mean)
        for step, application in zip(steps, ranking, strict=True)
    ]
    return _proposal(competition, rows, remaining)


#: The kinds of rejection the decision gives a default reason for: the proposal's reasons
#: that end in nothing.
REJECTION_KINDS = (
    ProposalReason.POOL_EXHAUSTED,
    ProposalReason.NOT_SCORED,
    ProposalReason.SKIPPED_PARTIAL_NOT_ALLOWED,
)


def rejection_kind(step: ProposedAmount) -> ProposalReason:
    """Why an application left without an amount is rejected, as the proposal's walk sees
    it: no review that counts, skipped because partial awards are not allowed, or else ranked
    below the funded ones (nothing left in the pool for it, or its proposed amount taken
    away by the coordinator)."""
    if step.reason in (ProposalReason.NOT_SCORED, ProposalReason.SKIPPED_PARTIAL_NOT_ALLOWED):
        return ProposalReason(step.reason)
    return ProposalReason.POOL_EXHAUSTED


def last_allocation_event(*, competition: Competition) -> int | None:
    """One query: the id of the call's newest ledger row, or None before the first."""
    return (
        AllocationEvent.objects.filter(competition=competition)
        .order_by("-at", "-id")
        .values_list("pk", flat=True)
        .first()
    )


# --- public results -------------------------------------------------------------------------


@dataclass(frozen=True)
class ResultRow:
    municipality: str
    reference: str
    requested: Decimal
    awarded: Decimal
    categories: list[str]
    # Awarded by the decision, then turned down by the municipality (its award is 0 again).
    declined: bool = False
    # The decision's reason, said on the page for an application left without funding.
    reason: str = ""

    @property
    def not_funded(self) -> bool:
        return self.awarded == 0 and not self.declined

    @property
    def funded_in_full(self) -> bool:
        return self.awarded > 0 and self.awarded >= self.requested

    @property
    def funded_in_part(self) -> bool:
        return Decimal("0") < self.awarded < self.requested


@dataclass(frozen=True)
class Results:
    competition: Competition
    eligible: int
    rows: list[ResultRow]
    pool: Decimal
    total_requested: Decimal
    total_awarded: Decimal

    @property
    def applied(self) -> int:
        return len(self.rows)

    @property
    def funded_in_full(self) -> int:
        return sum(row.funded_in_full for row in self.rows)

    @property
    def funded_in_part(self) -> int:
        return sum(row.funded_in_part for row in self.rows)

    @property
    def not_funded(self) -> int:
        return sum(row.not_funded for row in self.rows)

    @property
    def declined(self) -> int:
        return sum(row.declined for row in self.rows)


def decided_applications(*, competition: Competition) -> models.QuerySet[Application]:
    """The applications the results show, in their order: most money first (then the
    municipality's name, then the application, so that a page of them is always the same)."""
    return (
        Application.objects.filter(competition=competition, status__in=DECIDED_STATUSES)
        .select_related("municipality")
        .prefetch_related(
            Prefetch(
                "activities",
                queryset=PlannedActivity.objects.select_related("category").order_by(
                    "category__order"
                ),
            )
        )
        .order_by("-awarded_amount", "-requested_amount", "municipality__name", "pk")
    )


def result_row(application: Application) -> ResultRow:
    """One row of the results, from an application of ``decided_applications``."""
    return ResultRow(
        municipality=application.municipality.name,
        reference=application.reference,
        requested=application.requested_amount,
        awarded=application.awarded_amount,
        categories=list(
            dict.fromkeys(activity.category.name for activity in application.activities.all())
        ),
        declined=application.status == ApplicationStatus.DECLINED,
        reason=application.decision_reason,
    )


def competition_results(*, competition: Competition) -> Results:
    """What the public sees after the decision: every decided application, most money first.

    Three queries: the eligible count, the applications, their activities' categories.
    """
    rows = [
        result_row(application) for application in decided_applications(competition=competition)
    ]
    return Results(
        competition=competition,
        eligible=competition.eligible_municipalities.count(),
        rows=rows,
        pool=competition.pool_amount,
        total_requested=sum((row.requested for row in rows), ZERO),
        total_awarded=sum((row.awarded for row in rows), ZERO),
    )


#: Each outcome of a decided application, as ``ResultRow`` tells it, as a condition in SQL.
RESULT_OUTCOMES = {
    "funded_in_full": Q(awarded_amount__gt=0, awarded_amount__gte=F("requested_amount")),
    "funded_in_part": Q(awarded_amount__gt=0, awarded_amount__lt=F("requested_amount")),
    "not_funded": Q(awarded_amount=0) & ~Q(status=ApplicationStatus.DECLINED),
    "declined": Q(status=ApplicationStatus.DECLINED),
}


@dataclass(frozen=True)
class OutcomeTotals:
    outcome: str
    count: int
    requested: Decimal
    awarded: Decimal


@dataclass(frozen=True)
class ResultsOverview:
    """The figures of the whole call that the results page states above and below a page of
    its table: ``Results``' counts and totals, read as sums in the database."""

    competition: Competition
    eligible: int
    applied: int
    pool: Decimal
    total_requested: Decimal
    total_awarded: Decimal
    outcomes: dict[str, OutcomeTotals]

    @property
    def funded_in_full(self) -> int:
        return self.outcomes["funded_in_full"].count

    @property
    def funded_in_part(self) -> int:
        return self.outcomes["funded_in_part"].count

    @property
    def not_funded(self) -> int:
        return self.outcomes["not_funded"].count

    @property
    def declined(self) -> int:
        return self.outcomes["declined"].count


def results_overview(*, competition: Competition) -> ResultsOverview:
    """Two queries whatever the size of the call: the eligible count, and the decided
    applications' counts and sums, each outcome's apart."""
    sums = {
        "applied": Count("pk"),
        "total_requested": Coalesce(Sum("requested_amount"), ZERO),
        "total_awarded": Coalesce(Sum("awarded_amount"), ZERO),
    }
    for outcome, condition in RESULT_OUTCOMES.items():
        sums[f"{outcome}_count"] = Count("pk", filter=condition)
        sums[f"{outcome}_requested"] = Coalesce(Sum("requested_amount", filter=condition), ZERO)
        sums[f"{outcome}_awarded"] = Coalesce(Sum("awarded_amount", filter=condition), ZERO)
    figures = Application.objects.filter(
        competition=competition, status__in=DECIDED_STATUSES
    ).aggregate(**sums)
    return ResultsOverview(
        competition=competition,
        eligible=competition.eligible_municipalities.count(),
        applied=figures["applied"],
        pool=competition.pool_amount,
        total_requested=figures["total_requested"],
        total_awarded=figures["total_awarded"],
        outcomes={
            outcome: OutcomeTotals(
                outcome=outcome,
                count=figures[f"{outcome}_count"],
                requested=figures[f"{outcome}_requested"],
                awarded=figures[f"{outcome}_awarded"],
            )
            for outcome in RESULT_OUTCOMES
        },
    )


@dataclass(frozen=True)
class RankPlace:
    rank: int
    of: int


def application_rank(
    *, application: Application, statuses: Iterable[str] = RANKED_STATUSES
) -> RankPlace | None:
    """One query: the application's place in its call's ranking among the applications of
    ``statuses`` (as ``application_ranking(statuses=...)`` numbers it), and how many the
    ranking has, without reading the ranking: the applications that sort before it in
    ``ranking_order()`` are counted, the key of each term compared to the application's own
    (read by a subquery, so that the order is defined once). None for an application outside
    ``statuses``."""
    statuses = list(statuses)
    if application.status not in statuses:
        return None
    terms = ranking_order()
    keys = {f"ranking_key_{index}": term.expression for index, term in enumerate(terms)}
    own = Application.objects.filter(pk=application.pk).order_by().annotate(**keys)
    before, tied = [], Q()
    for name, term in zip(keys, terms, strict=True):
        value = Subquery(own.values(name)[:1])
        before.append(tied & Q(**{f"{name}__{'gt' if term.descending else 'lt'}": value}))
        tied &= Q(**{name: value})
    counts = (
        Application.objects.filter(competition_id=application.competition_id, status__in=statuses)
        .alias(**keys)
        .aggregate(of=Count("pk"), before=Count("pk", filter=reduce(operator.or_, before)))
    )
    return RankPlace(rank=counts["before"] + 1, of=counts["of"])


def decided_rank(*, application: Application) -> RankPlace | None:
    """``application_rank`` among ``RANKED_STATUSES`` of an application of a decided call, as
    its municipality's page shows it: counted once, then kept in the cache under the call's
    results version (``competitions.results_cache``), which anything that could move it
    changes (an application's status, award or scores, the call itself), as the results
    pages are. Counting is a pass over the whole call: at 10 000 applications it was the
    page's dearest part, for a figure that hardly ever changes after the decision."""
    version = results_cache.results_version(application.competition_id)
    key = f"results:rank:{application.pk}:{version}"
    kept = cache.get(key)
    if kept is not None:
        return RankPlace(*kept) if kept else None
    place = application_rank(application=application, statuses=RANKED_STATUSES)
    cache.set(key, (place.rank, place.of) if place else (), results_cache.page_timeout())
    return place


# --- the review and allocation screens of the admin --------------------------------------------

#: Reviewers disagree on an application when their weighted scores (0-100) lie further apart
#: than this share of the maximum score.
DISAGREEMENT_SHARE = Decimal("0.20")
SCORE_MAXIMUM = Decimal("100")


def reviewers_disagree(*, score_min: Decimal | None, score_max: Decimal | None) -> bool:
    """Whether the spread between the lowest and highest counted review is too wide."""
    if score_min is None or score_max is None:
        return False
    return score_max - score_min > DISAGREEMENT_SHARE * SCORE_MAXIMUM


def ranks_within_calls(*, competition_ids: Iterable[int]) -> dict[int, int]:
    """One query: the place of every ranked application in its own call's ranking.

    A list filtered by status, municipality or a search still shows each application's rank
    in the whole call: the ranks are read here, apart from the list's filters. The order is
    ``ApplicationQuerySet.with_rank()``'s, partitioned by call.
    """
    ranked = (
        Application.objects.filter(competition_id__in=list(competition_ids))
        .ranked()
        .annotate(
            call_rank=Window(
                RowNumber(), partition_by=[F("competition_id")], order_by=ranking_order()
            )
        )
    )
    return dict(ranked.values_list("pk", "call_rank"))


def allocation_ledger(
    *, competition: Competition, limit: int | None = None
) -> list[AllocationEvent]:
    """One query: the call's ledger, newest first."""
    events = (
        AllocationEvent.objects.filter(competition=competition)
        .select_related("application__municipality", "by")
        .order_by("-at", "-id")
    )
    return list(events[:limit] if limit else events)


def letters_to_issue(
    *, competition: Competition, language: str, reissue: bool = False
) -> models.QuerySet[Application]:
    """The decided applications of a call that are to get a letter in ``language``: those
    without a current letter in it, or all of them when letters are re-issued."""
    applications = Application.objects.filter(
        competition=competition,
        status__in=[ApplicationStatus.AWARDED, ApplicationStatus.REJECTED],
    ).order_by("municipality__name", "pk")
    if not reissue:
        current = AwardLetter.objects.current().filter(
            application=models.OuterRef("pk"), language=language
        )
        applications = applications.exclude(models.Exists(current))
    return applications


def awaiting_score(user) -> models.QuerySet[Application]:
    """The submitted applications of the calls ``user`` reviews that still await the user's
    score: none of the user's reviews yet, and not of a municipality the user acts for."""
    return Application.objects.filter(
        roles.reviewing(user),
        ~roles.acting_for(user),
        ~models.Exists(Review.objects.filter(application=models.OuterRef("pk"), reviewer=user)),
        status=ApplicationStatus.SUBMITTED,
    )


# --- the decision ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionSummary:
    """The whole call as the decision would record it now."""

    awarded: int
    partial: int
    awarded_total: Decimal
    #: Rejections by kind (``REJECTION_KINDS``), and those of each kind without a reason of
    #: their own, which the kind's default reason is given.
    rejected: dict[str, int]
    without_reason: dict[str, int]
    #: Applications with a reason typed for the decision.
    typed: int

    @property
    def rejected_count(self) -> int:
        return sum(self.rejected.values())


def decision_summary(*, competition: Competition, walk: Proposal) -> DecisionSummary:
    """One query: the amounts and typed reasons of the call's submitted applications, each
    rejection counted by its kind in ``walk`` (``proposal_walk``)."""
    kinds = {step.pk: rejection_kind(step) for step in walk.rows}
    rows = (
        Application.objects.filter(competition=competition, status=ApplicationStatus.SUBMITTED)
        .annotate(typed=ExpressionWrapper(~Q(decision_reason=""), output_field=BooleanField()))
        .values_list("pk", "awarded_amount", "requested_amount", "typed")
    )
    awarded = partial = typed_count = 0
    awarded_total = ZERO
    rejected = dict.fromkeys(REJECTION_KINDS, 0)
    without_reason = dict.fromkeys(REJECTION_KINDS, 0)
    for pk, amount, requested, typed in rows:
        typed_count += typed
        if amount:
            awarded += 1
            partial += amount < requested
            awarded_total += amount
            continue
        kind = kinds[pk]
        rejected[kind] += 1
        without_reason[kind] += not typed
    return DecisionSummary(
        awarded=awarded,
        partial=partial,
        awarded_total=awarded_total,
        rejected={kind: count for kind, count in rejected.items() if count},
        without_reason={kind: count for kind, count in without_reason.items() if count},
        typed=typed_count,
    )
