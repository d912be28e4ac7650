"""Reviewers' reviews and the weighted score kept with each."""

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from competitions import roles
from competitions.formatting import CENT
from competitions.history import changed_by
from competitions.rules import refusal, refuse_if_any

from ..letters import municipality_authority
from ..models import (
    Application,
    ApplicationStatus,
    CriterionScore,
    Review,
)
from .common import lock_competition


def weighted_score(criteria, points_by_criterion: Mapping[int, int]) -> Decimal:
    """A review's score out of 100: each criterion's share of its maximum, weighted."""
    total_weight = sum(criterion.weight for criterion in criteria)
    earned = sum(
        criterion.weight * Decimal(points_by_criterion[criterion.pk]) / criterion.max_points
        for criterion in criteria
    )
    return (Decimal(100) * earned / total_weight).quantize(CENT, rounding=ROUND_HALF_UP)


def review_problems(*, application: Application, reviewer: User) -> list[ValidationError]:
    """Why ``reviewer`` cannot record a review of ``application`` now; nothing if they can.
    The first rule broken is the one named. The review screen asks it before it offers its
    form; ``review_record`` asks it again under the call's lock."""
    competition = application.competition
    if not roles.reviews_call(reviewer, competition):
        return [
            refusal(
                _("You are not a reviewer of the call “%(call)s”."),
                "not_assigned",
                call=competition.title,
            )
        ]
    if roles.acts_for(reviewer, application.municipality):
        return [
            refusal(
                _("You act for %(municipality)s and cannot review its application."),
                "own_municipality",
                municipality=municipality_authority(application.municipality.name),
            )
        ]
    if application.status != ApplicationStatus.SUBMITTED:
        return [
            refusal(
                _(
                    "Only submitted applications awaiting a decision can be reviewed; this one is %(status)s."
                ),
                "not_reviewable",
                status=application.get_status_display(),
            )
        ]
    return []


def _points_read(
    criteria, scores: Mapping[int, int]
) -> tuple[dict[int, int], list[ValidationError]]:
    """The points given per criterion id, read from ``scores``, and what is wrong with them:
    criteria of another call, a criterion not scored, points outside its range, a call
    without criteria."""
    known = {criterion.pk for criterion in criteria}
    problems = []
    if set(scores) - known:
        problems.append(
            refusal(_("Scores were given for criteria of another call."), "unknown_criterion")
        )
    points: dict[int, int] = {}
    for criterion in criteria:
        value, problem = _points_for(criterion, scores.get(criterion.pk))
        if problem is None:
            points[criterion.pk] = value
        else:
            problems.append(problem)
    if not criteria:
        problems.append(refusal(_("This call has no scoring criteria yet."), "no_criteria"))
    return points, problems


def _points_for(criterion, given) -> tuple[int | None, ValidationError | None]:
    """The points given to one criterion, or why they cannot count."""
    if given is None or given == "":
        return None, refusal(
            _("%(criterion)s: not scored."), "missing_score", criterion=criterion.name
        )
    try:
        value = int(given)
    except (TypeError, ValueError):
        value = -1
    if not 0 <= value <= criterion.max_points:
        return None, refusal(
            _("%(criterion)s: %(points)s points is outside 0–%(max)s."),
            "points_out_of_range",
            criterion=criterion.name,
            points=given,
            max=criterion.max_points,
        )
    return value, None


def review_record(
    *,
    application: Application,
    reviewer: User,
    scores: Mapping[int, int],
    comment: str = "",
    conflict_of_interest: bool = False,
    conflict_note: str = "",
) -> Review:
    """Record (or change) a reviewer's review of a submitted application.

    ``scores`` maps each of the call's criterion ids to points. A declared conflict of
    interest records no scores and leaves the review out of the ranking.
    """
    with transaction.atomic():
        # The decision reads every review of the call; the same lock keeps a late review out.
        competition = lock_competition(application.competition_id)
        application = Application.objects.select_related("municipality").get(pk=application.pk)
        application.competition = competition
        refuse_if_any(review_problems(application=application, reviewer=reviewer))
        criteria = list(competition.criteria.all())
        points: dict[int, int] = {}
        if not conflict_of_interest:
            points, problems = _points_read(criteria, scores)
            refuse_if_any(problems)
        review = (
            Review.objects.select_for_update()
            .filter(application=application, reviewer=reviewer)
            .first()
        ) or Review(application=application, reviewer=reviewer)
        review.conflict_of_interest = conflict_of_interest
        review.conflict_note = conflict_note
        review.comment = comment
        review.score = None if conflict_of_interest else weighted_score(criteria, points)
        changed_by(review, reviewer).save()
        _scores_saved(review, points, by=reviewer)
        Application.objects.filter(pk=application.pk).refresh_scores()
        return review


def _scores_saved(review: Review, points: Mapping[int, int], *, by: User) -> None:
    """The review's criterion scores become ``points``: those not given are deleted, the
    changed ones saved."""
    existing = {score.criterion_id: score for score in review.scores.all()}
    for criterion_id, score in existing.items():
        if criterion_id not in points:
            changed_by(score, by).delete()
    for criterion_id, value in points.items():
        score = existing.get(criterion_id) or CriterionScore(
            review=review, criterion_id=criterion_id
        )
        if score.pk is None or score.points != value:
            score.points = value
            changed_by(score, by).save()
