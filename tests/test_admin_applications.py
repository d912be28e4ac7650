"""The coordinators' application list in the admin: per call, with scores, their spread, the
rank in the call and the award; filters with counts, search; the same number of queries for 10
and for 200 applications. And the selectors behind it."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications import selectors, services
from applications.admin import OccurringFilter
from applications.models import Application

from .amounts import spaced
from .factories import call_with_reviewed_applications, coordinator, reviewer
from .source_case import build_source_case

pytestmark = pytest.mark.django_db

ORDER = ["Smiltenes novads", "Valkas novads", "Valmieras pilsēta", "Gulbenes novads", "Cēsu novads"]


def changelist(**params) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return reverse("admin:applications_application_changelist") + (f"?{query}" if query else "")


@pytest.fixture
def case():
    case = build_source_case()
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    return case


def rows_of(response, table_rows) -> list[dict[str, str]]:
    header, *rows = table_rows(response.text, "result_list")
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_the_list_of_a_call_is_ranked_with_scores_spread_rank_and_awards(case, client, table_rows):
    client.force_login(case.coordinator)
    response = client.get(changelist(competition__id__exact=case.competition.pk))
    assert response.status_code == 200
    rows = rows_of(response, table_rows)
    assert [row["Pašvaldība"] for row in rows] == ORDER
    assert [row["Vieta"] for row in rows] == ["1", "2", "3", "4", "5"]
    assert [row["Piešķirtā summa"] for row in rows] == [
        spaced("10 000,00 €"),
        spaced("10 000,00 €"),
        spaced("9 800,00 €"),
        spaced("6 200,00 €"),
        spaced("4 000,00 €"),
    ]
    smiltene = rows[0]
    # Reviewer 1 gave 97, reviewer 2 gave 92 (tests/test_selectors.py works them out).
    assert smiltene["Vidējais svērtais vērtējums"] == "94,50"
    assert smiltene["Vērtējumi"] == "2"
    assert smiltene["Izkliede"] == "5,00"
    assert smiltene["Pieprasītā summa"] == spaced("10 000,00 €")
    assert smiltene["Statuss"] == "iesniegts"
    assert rows[-1]["Reģistrācijas numurs"] == case.applications["cesu-novads"].reference
    # The call is the list's subject: its pool is shown above it, not in every row.
    assert "Konkurss" not in rows[0]
    assert spaced("40 000,00 €") in response.text


def test_a_wide_spread_between_reviewers_is_flagged(case, client, table_rows):
    criteria = list(case.competition.criteria.all())
    services.review_record(
        application=case.applications["gulbenes-novads"],
        reviewer=case.reviewers[1],
        scores={criteria[0].pk: 2, criteria[1].pk: 2, criteria[2].pk: 1},
    )  # 20 against reviewer 1's 72: 52 points apart
    client.force_login(case.coordinator)
    response = client.get(changelist(competition__id__exact=case.competition.pk))
    spread = {row["Pašvaldība"]: row["Izkliede"] for row in rows_of(response, table_rows)}
    assert spread["Gulbenes novads"] == "⚠ 52,00"
    assert spread["Valkas novads"] == "1,00"
    assert 'class="review-disagreement"' in response.text


def test_ranks_stay_the_ranks_within_the_call_when_the_list_is_filtered_or_searched(
    case, client, table_rows
):
    client.force_login(case.coordinator)
    by_municipality = client.get(
        changelist(
            competition__id__exact=case.competition.pk,
            municipality__id__exact=case.applications["gulbenes-novads"].municipality_id,
        )
    )
    assert [(r["Pašvaldība"], r["Vieta"]) for r in rows_of(by_municipality, table_rows)] == [
        ("Gulbenes novads", "4")
    ]
    searched = client.get(changelist(q="Cēsu"))
    assert [(r["Pašvaldība"], r["Vieta"]) for r in rows_of(searched, table_rows)] == [
        ("Cēsu novads", "5")
    ]


def test_filters_show_counts_and_search_finds_activity_titles(case, client, table_rows):
    other = call_with_reviewed_applications(2)
    client.force_login(case.coordinator)
    text = client.get(changelist()).text
    # Facet counts next to each choice.
    assert f"{case.competition} (5)" in text
    assert f"{other} (2)" in text
    assert "iesniegts (7)" in text
    text = client.get(changelist(competition__id__exact=case.competition.pk)).text
    assert "iesniegts (5)" in text
    assert "Cēsu novads (1)" in text
    assert f"{other} (2)" in text  # the other call's count stays, for switching calls

    Application.objects.filter(pk=case.applications["valkas-novads"].pk).update(
        status=Application.Status.REJECTED, awarded_amount=0
    )
    response = client.get(changelist(status__exact="rejected"))
    assert [r["Pašvaldība"] for r in rows_of(response, table_rows)] == ["Valkas novads"]

    # Every application of the source case has a "Vizīte pie diasporas"; the search matches
    # activity titles without multiplying the review counts by the activities.
    response = client.get(changelist(q="diasporas"))
    rows = rows_of(response, table_rows)
    assert len(rows) == 5  # the other call's activities are called "Brošūra"
    assert {row["Vērtējumi"] for row in rows} == {"2"}


def test_the_list_does_not_show_drafts_to_coordinators(case, client, table_rows):
    from .factories import ApplicationFactory, municipality

    ApplicationFactory(competition=case.competition, municipality=municipality("apes-novads"))
    client.force_login(case.coordinator)
    response = client.get(changelist())
    assert "Apes novads" not in [r["Pašvaldība"] for r in rows_of(response, table_rows)]


def test_conflicted_reviews_are_left_out_of_the_scores_in_the_list(case, client, table_rows):
    services.review_record(
        application=case.applications["smiltenes-novads"],
        reviewer=case.reviewers[0],
        scores={},
        conflict_of_interest=True,
    )
    client.force_login(case.coordinator)
    rows = rows_of(client.get(changelist(competition__id__exact=case.competition.pk)), table_rows)
    smiltene = next(r for r in rows if r["Pašvaldība"] == "Smiltenes novads")
    assert (smiltene["Vērtējumi"], smiltene["Vidējais svērtais vērtējums"]) == ("1", "92,00")
    assert smiltene["Izkliede"] == "—"


def test_the_changelist_takes_the_same_queries_for_10_and_for_200_applications(client):
    person = coordinator()
    small = call_with_reviewed_applications(10)
    large = call_with_reviewed_applications(200)
    client.force_login(person)

    counts = {}
    for call in (small, large):
        for params in ({"competition__id__exact": call.pk}, {}):
            client.get(changelist(**params))  # the session and the permissions cached alike
            with CaptureQueriesContext(connection) as queries:
                response = client.get(changelist(**params))
            assert response.status_code == 200
            counts[(call.pk, bool(params))] = len(queries)
    assert counts[(small.pk, True)] == counts[(large.pk, True)]
    assert counts[(small.pk, False)] == counts[(large.pk, False)]
    assert max(counts.values()) <= 16, counts


def test_the_changelist_query_count_is_pinned(client, django_assert_max_num_queries):
    person = coordinator()
    call = call_with_reviewed_applications(30)
    client.force_login(person)
    client.get(changelist(competition__id__exact=call.pk))
    with django_assert_max_num_queries(13):
        response = client.get(changelist(competition__id__exact=call.pk))
    assert len(response.context["cl"].result_list) == 30


def test_the_list_reads_no_review(client):
    """The scores are kept on each application by the review service: neither the list nor
    its counts aggregate the reviews of a call of thousands."""
    person = coordinator()
    call = call_with_reviewed_applications(30)
    client.force_login(person)
    client.get(changelist(competition__id__exact=call.pk))
    with CaptureQueriesContext(connection) as queries:
        client.get(changelist(competition__id__exact=call.pk))
    with_reviews = [q["sql"] for q in queries.captured_queries if "applications_review" in q["sql"]]
    assert with_reviews == []


def test_a_call_of_more_municipalities_than_can_be_listed_points_to_the_search(client, table_rows):
    person = coordinator()
    size = OccurringFilter.max_listed + 1
    call = call_with_reviewed_applications(size)
    client.force_login(person)
    response = client.get(changelist(competition__id__exact=call.pk))
    assert response.status_code == 200
    text = response.text
    first = call.applications.order_by("pk").first().municipality
    assert f"{first.name} (1)" not in text  # no link for each municipality
    assert f"Sarakstā ir {size}: par daudz, lai parādītu; meklējiet pēc nosaukuma." in text

    # A municipality chosen from a link still filters, is shown as chosen, and its rank is
    # its rank in the whole call.
    chosen = call.applications.get(municipality=first)
    response = client.get(
        changelist(competition__id__exact=call.pk, municipality__id__exact=first.pk)
    )
    rows = rows_of(response, table_rows)
    ranks = selectors.ranks_within_calls(competition_ids=[call.pk])
    assert [(r["Pašvaldība"], r["Vieta"]) for r in rows] == [(first.name, str(ranks[chosen.pk]))]
    assert (
        f'<li class="selected">\n    <a href="?competition__id__exact={call.pk}&amp;municipality__id__exact={first.pk}">{first.name} (1)</a>'
        in response.text
    )


def test_a_small_call_lists_its_municipalities_only(client):
    """With a call chosen, the municipality filter offers the municipalities that applied to
    it, not those of the other calls."""
    case = build_source_case()
    other = call_with_reviewed_applications(3)
    client.force_login(case.coordinator)
    text = client.get(changelist(competition__id__exact=case.competition.pk)).text
    assert "Cēsu novads (1)" in text
    assert other.applications.first().municipality.name not in text
    text = client.get(changelist()).text
    assert other.applications.first().municipality.name in text


@pytest.mark.postgres
def test_a_call_of_thousands_of_municipalities_is_listed_on_postgresql(client):
    """A facet count for each of them would put more than 1 664 columns in one query, which
    PostgreSQL refuses."""
    person = coordinator()
    call = call_with_reviewed_applications(1700, reviewers=[reviewer("first")])
    client.force_login(person)
    for params in ({"competition__id__exact": call.pk}, {}):
        response = client.get(changelist(**params))
        assert response.status_code == 200
        assert "1700: par daudz" in response.text


def test_ranks_on_a_later_page_are_the_ranks_within_the_call(client, table_rows):
    person = coordinator()
    call = call_with_reviewed_applications(130)
    client.force_login(person)
    ranking = {a.reference: a.rank for a in selectors.application_ranking(competition=call)}
    seen = []
    for page in (1, 2):
        rows = rows_of(client.get(changelist(competition__id__exact=call.pk, p=page)), table_rows)
        seen += [(row["Reģistrācijas numurs"], row["Vieta"]) for row in rows]
    assert seen == [
        (reference, str(rank))
        for reference, rank in sorted(ranking.items(), key=lambda item: item[1])
    ]


@pytest.mark.parametrize("column", range(1, 10))
def test_the_list_of_a_call_sorts_by_every_column(case, client, table_rows, column):
    client.force_login(case.coordinator)
    for order in (column, -column):
        response = client.get(changelist(competition__id__exact=case.competition.pk, o=order))
        assert response.status_code == 200
        rows = rows_of(response, table_rows)
        assert len(rows) == 5
        # Sorted any way, each row keeps its rank in the call.
        assert {(r["Pašvaldība"], r["Vieta"]) for r in rows} == {
            (name, str(rank)) for rank, name in enumerate(ORDER, start=1)
        }


def test_reviewers_list_takes_the_same_queries_at_any_size(client):
    person = reviewer()
    small = call_with_reviewed_applications(5, reviewers=[person, reviewer("second")])
    large = call_with_reviewed_applications(60, reviewers=[person, reviewer("second")])
    client.force_login(person)
    counts = []
    for call in (small, large):
        url = changelist(competition__id__exact=call.pk)
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- the selectors behind the list ------------------------------------------------------------


def test_ranks_within_calls_agree_with_the_ranking_of_each_call():
    first = build_source_case()
    second = call_with_reviewed_applications(7)
    ranks = selectors.ranks_within_calls(competition_ids=[first.competition.pk, second.pk])
    for call in (first.competition, second):
        ranking = selectors.application_ranking(competition=call)
        assert [ranks[a.pk] for a in ranking] == [a.rank for a in ranking]
    assert len(ranks) == 12


def test_ranks_within_calls_leave_out_drafts_and_withdrawn_applications():
    case = build_source_case(close=False)
    services.application_withdraw(
        application=case.applications["valkas-novads"], by=case.staff["valkas-novads"]
    )
    ranks = selectors.ranks_within_calls(competition_ids=[case.competition.pk])
    assert case.applications["valkas-novads"].pk not in ranks
    assert sorted(ranks.values()) == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("low", "high", "disagree"),
    [
        (None, None, False),
        (Decimal("60"), Decimal("80"), False),
        (Decimal("60"), Decimal("80.01"), True),
    ],
)
def test_reviewers_disagree_past_a_fifth_of_the_maximum(low, high, disagree):
    assert selectors.reviewers_disagree(score_min=low, score_max=high) is disagree


def test_allocation_ledger_is_newest_first_and_limited(case):
    services.allocation_set(
        application=case.applications["cesu-novads"],
        amount=Decimal("3000"),
        by=case.coordinator,
        reason="Labojums",
    )
    ledger = selectors.allocation_ledger(competition=case.competition, limit=2)
    assert ledger[0].reason == "Labojums"
    assert len(ledger) == 2
    assert len(selectors.allocation_ledger(competition=case.competition)) == 6


def test_a_past_version_in_the_history_is_shown_and_never_saved_back(decided_call, client):
    """django-simple-history would save a POST to a version's page as the object itself:
    the awarded application back to a draft, its award gone without a ledger row."""
    application = decided_call.applications["smiltenes-novads"]
    competition = decided_call.competition
    first = application.history.order_by("history_id").first()
    assert first.status == Application.Status.DRAFT
    pages = [
        reverse("admin:applications_application_simple_history", args=[application.pk, first.pk]),
        reverse(
            "admin:competitions_competition_simple_history",
            args=[competition.pk, competition.history.order_by("history_id").first().pk],
        ),
    ]
    before = sorted(Application.objects.values_list("pk", "status", "awarded_amount", "reference"))
    for person in (decided_call.reviewers[0], decided_call.coordinator):
        client.force_login(person)
        for page in pages:
            assert client.get(page).status_code == 200
            assert client.post(page, {"title_lv": "Cits"}).status_code == 405
            assert client.post(page, {"_change_history": "1"}).status_code == 405
    after = sorted(Application.objects.values_list("pk", "status", "awarded_amount", "reference"))
    assert after == before
    competition.refresh_from_db()
    assert competition.title_lv != "Cits"
