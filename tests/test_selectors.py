from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from applications import selectors, services
from applications.models import Application, Review
from applications.selectors import ProposalReason
from competitions.models import Municipality

from .amounts import spaced
from .factories import ApplicationFactory, CompetitionFactory, UserFactory, municipality
from .source_case import build_source_case

pytestmark = pytest.mark.django_db

ORDER = ["smiltenes-novads", "valkas-novads", "valmieras-pilseta", "gulbenes-novads", "cesu-novads"]


def test_ranking_of_the_source_case_puts_cesis_last():
    case = build_source_case()
    ranking = selectors.application_ranking(competition=case.competition)
    assert [a.municipality.slug for a in ranking] == ORDER
    assert [a.rank for a in ranking] == [1, 2, 3, 4, 5]
    assert all(a.review_count == 2 for a in ranking)
    smiltene = ranking[0]
    # reviewer 1: 100*(0.5*10/10 + 0.3*9/10 + 0.2*5/5) = 97; reviewer 2: 92
    assert smiltene.score_mean == pytest.approx(Decimal("94.5"))
    assert (smiltene.score_min, smiltene.score_max) == (Decimal("92.00"), Decimal("97.00"))


def test_proposal_reproduces_the_source_case_with_nothing_left():
    case = build_source_case()
    proposal = selectors.allocation_proposal(competition=case.competition)
    assert [(row.application.municipality.slug, row.amount) for row in proposal.rows] == [
        ("smiltenes-novads", Decimal("10000.00")),
        ("valkas-novads", Decimal("10000.00")),
        ("valmieras-pilseta", Decimal("9800.00")),
        ("gulbenes-novads", Decimal("6200.00")),
        ("cesu-novads", Decimal("4000.00")),
    ]
    assert [row.reason for row in proposal.rows] == [ProposalReason.FULL] * 4 + [
        ProposalReason.PARTIAL
    ]
    assert proposal.total == Decimal("40000.00")
    assert proposal.remaining == Decimal("0.00")
    assert spaced("4 000,00 €") in proposal.rows[-1].explanation
    # Proposing writes nothing.
    assert set(Application.objects.values_list("awarded_amount", flat=True)) == {Decimal("0.00")}


def test_proposal_without_partial_awards_gives_cesis_nothing():
    case = build_source_case(partial_awards_allowed=False)
    proposal = selectors.allocation_proposal(competition=case.competition)
    cesis = proposal.rows[-1]
    assert cesis.application.municipality.slug == "cesu-novads"
    assert (cesis.amount, cesis.reason) == (
        Decimal("0.00"),
        ProposalReason.SKIPPED_PARTIAL_NOT_ALLOWED,
    )
    assert proposal.remaining == Decimal("4000.00")


def test_without_partial_awards_the_walk_goes_on_to_a_smaller_request():
    case = build_source_case(partial_awards_allowed=False)
    services.competition_set_limits(
        competition=case.competition,
        pool_amount=Decimal("36000"),
        max_award_amount=Decimal("10000"),
        partial_awards_allowed=False,
        by=case.coordinator,
    )
    # Cēsis (7 500 requested) now scores 75 and ranks fourth, ahead of Gulbene (71). After the
    # first three 6 200 is left: Cēsis cannot be funded in full and is skipped, Gulbene fits.
    criteria = list(case.competition.criteria.all())
    for person in case.reviewers:
        services.review_record(
            application=case.applications["cesu-novads"],
            reviewer=person,
            scores={criteria[0].pk: 7, criteria[1].pk: 8, criteria[2].pk: 4},
        )
    case.competition.refresh_from_db()
    rows = selectors.allocation_proposal(competition=case.competition).rows
    assert [(row.application.municipality.slug, row.amount, row.reason) for row in rows][3:] == [
        ("cesu-novads", Decimal("0.00"), ProposalReason.SKIPPED_PARTIAL_NOT_ALLOWED),
        ("gulbenes-novads", Decimal("6200.00"), ProposalReason.FULL),
    ]


def test_conflicted_reviews_are_left_out_of_the_ranking():
    case = build_source_case()
    # Reviewer 1 declares a conflict on Smiltene: only reviewer 2's 92 counts.
    services.review_record(
        application=case.applications["smiltenes-novads"],
        reviewer=case.reviewers[0],
        scores={},
        conflict_of_interest=True,
    )
    smiltene = selectors.application_ranking(competition=case.competition)[0]
    assert smiltene.review_count == 1
    assert smiltene.score_mean == pytest.approx(Decimal("92"))


def test_unscored_applications_rank_last_and_get_nothing():
    case = build_source_case()
    Review.objects.filter(application=case.applications["smiltenes-novads"]).delete()
    case.competition.applications.refresh_scores()
    proposal = selectors.allocation_proposal(competition=case.competition)
    last = proposal.rows[-1]
    assert last.application.municipality.slug == "smiltenes-novads"
    assert (last.amount, last.reason) == (Decimal("0.00"), ProposalReason.NOT_SCORED)


def test_ties_go_to_the_earlier_submission():
    call = CompetitionFactory()
    now = timezone.now()
    reviewer = UserFactory()
    criteria = list(call.criteria.all())
    applications = []
    for minutes, slug in [(30, "valkas-novads"), (10, "cesu-novads"), (20, "apes-novads")]:
        application = submitted(
            call, slug, submitted_at=now - timedelta(hours=1) + timedelta(minutes=minutes)
        )
        review = Review.objects.create(
            application=application, reviewer=reviewer, score=Decimal("70")
        )
        for criterion in criteria:
            review.scores.create(criterion=criterion, points=1)
        applications.append(application)
    call.applications.refresh_scores()
    ranking = selectors.application_ranking(competition=call)
    assert [a.municipality.slug for a in ranking] == ["cesu-novads", "apes-novads", "valkas-novads"]


def submitted(call, slug, **fields):
    return ApplicationFactory(
        competition=call,
        municipality=municipality(slug),
        status=Application.Status.SUBMITTED,
        reference=f"REM-T-{slug}",
        submitted_at=fields.pop("submitted_at", timezone.now()),
        snapshot={},
        requested_amount=Decimal("1000"),
        **fields,
    )


def test_pool_state_counts_what_is_allocated_and_what_remains():
    case = build_source_case()
    services.allocation_set(
        application=case.applications["valmieras-pilseta"],
        amount=Decimal("9800"),
        by=case.coordinator,
        reason="x",
    )
    state = selectors.pool_state(competition=case.competition)
    assert (state.pool, state.cap, state.allocated, state.remaining) == (
        Decimal("40000.00"),
        Decimal("10000.00"),
        Decimal("9800.00"),
        Decimal("30200.00"),
    )


def populated_call(n: int):
    """A call with ``n`` submitted applications, two reviews each with a score per criterion.

    The region has 26 municipalities and a call takes one application from each, so larger
    calls get municipalities of their own.
    """
    call = CompetitionFactory()
    reviewers = [UserFactory(), UserFactory()]
    criteria = list(call.criteria.all())
    for index in range(n):
        place = Municipality.objects.create(name=f"Pašvaldība {index}", slug=f"test-{index}")
        application = submitted(call, place.slug)
        for person in reviewers:
            review = Review.objects.create(
                application=application, reviewer=person, score=Decimal(index % 100)
            )
            for criterion in criteria:
                review.scores.create(criterion=criterion, points=1)
    call.applications.refresh_scores()
    return call


@pytest.mark.parametrize("n", [5, 50])
def test_ranking_and_proposal_take_the_same_queries_at_5_and_50_applications(
    n, django_assert_num_queries
):
    call = populated_call(n)
    with django_assert_num_queries(1):
        ranking = selectors.application_ranking(competition=call)
        assert len(ranking) == n
    with django_assert_num_queries(1):
        proposal = selectors.allocation_proposal(competition=call)
        assert len(proposal.rows) == n
        # Reading what the rows show must not query either.
        assert all(row.application.municipality.name for row in proposal.rows)
    with django_assert_num_queries(1):
        selectors.pool_state(competition=call)
