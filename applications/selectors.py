"""Reads that span models: the state of a call's pool, the ranking and the allocation proposal.

Each is a fixed number of queries, however many applications and reviews a call has.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from competitions.formatting import format_money
from competitions.models import Competition

from .models import Application, ApplicationStatus, AwardLetter

ZERO = Decimal("0.00")


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


def application_ranking(*, competition: Competition, statuses=None) -> list[Application]:
    """One query: the call's applications under review, best first, each annotated with
    ``score_mean``, ``review_count``, ``score_min``, ``score_max`` and ``rank``.

    Reviews with a declared conflict of interest are left out; unscored applications come
    last; ties go to the earlier submission.
    """
    statuses = statuses or [ApplicationStatus.SUBMITTED]
    return list(
        Application.objects.filter(competition=competition, status__in=statuses)
        .select_related("municipality")
        .with_rank()
        .order_by("rank")
    )


class ProposalReason(models.TextChoices):
    FULL = "full", _("funded in full")
    PARTIAL = "partial", _("partial: the pool is exhausted")
    SKIPPED_PARTIAL_NOT_ALLOWED = "skipped", _("skipped: partial awards are not allowed")
    POOL_EXHAUSTED = "pool_exhausted", _("not funded: nothing is left in the pool")
    NOT_SCORED = "not_scored", _("not funded: no review without a conflict of interest")


@dataclass(frozen=True)
class ProposalRow:
    application: Application
    rank: int
    score: Decimal | None
    requested: Decimal
    amount: Decimal
    reason: ProposalReason
    remaining_after: Decimal

    @property
    def explanation(self) -> str:
        text = str(ProposalReason(self.reason).label)
        if self.reason == ProposalReason.PARTIAL:
            return f"{text} ({format_money(self.amount)} / {format_money(self.requested)})"
        return text


@dataclass(frozen=True)
class Proposal:
    competition: Competition
    rows: list[ProposalRow]
    pool: Decimal
    total: Decimal
    remaining: Decimal


def allocation_proposal(*, competition: Competition) -> Proposal:
    """Walk the ranking and give each ``min(requested, cap, remaining pool)``.

    Where partial awards are not allowed, an application that cannot be funded in full is
    skipped and the walk goes on to the next. Nothing is written.
    """
    remaining = competition.pool_amount
    rows = []
    for application in application_ranking(competition=competition):
        wanted = min(application.requested_amount, competition.max_award_amount)
        if application.score_mean is None:
            amount, reason = ZERO, ProposalReason.NOT_SCORED
        elif wanted <= remaining:
            amount, reason = wanted, ProposalReason.FULL
        elif remaining <= 0:
            amount, reason = ZERO, ProposalReason.POOL_EXHAUSTED
        elif competition.partial_awards_allowed:
            amount, reason = remaining, ProposalReason.PARTIAL
        else:
            amount, reason = ZERO, ProposalReason.SKIPPED_PARTIAL_NOT_ALLOWED
        remaining -= amount
        rows.append(
            ProposalRow(
                application=application,
                rank=application.rank,
                score=application.score_mean,
                requested=application.requested_amount,
                amount=amount,
                reason=reason,
                remaining_after=remaining,
            )
        )
    return Proposal(
        competition=competition,
        rows=rows,
        pool=competition.pool_amount,
        total=competition.pool_amount - remaining,
        remaining=remaining,
    )


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
