"""The public results of a call of any size: a page of the table at a time, the whole call in
words, as a chart and as totals, kept in the cache for its call, language and page until
anything it shows changes; and the place of one application in its call's ranking."""

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from applications.models import RANKED_STATUSES, Application, ApplicationStatus, PlannedActivity
from applications.selectors import (
    application_rank,
    application_ranking,
    competition_results,
    results_overview,
)
from competitions import results_cache
from competitions.models import ActivityCategory
from competitions.templatetags.portal import money
from grants import services as grant_services
from grants import settlement
from grants.models import Grant, PlanLine, PlanVersion, Report, ReportLine
from grants.results import RESULTS_PAGE_SIZE, call_money, call_totals, grant_accounts

from .amounts import spaced
from .factories import (
    call_with_reviewed_applications,
    coordinator,
    decided_call_in_bulk,
    decided_grants,
    grant_in_progress,
    staff_of,
)
from .test_grants_settlement import submitted

pytestmark = pytest.mark.django_db


def results_url(call, language="", page=None):
    with translation.override("lv"):
        url = f"{language}{reverse('results:detail', kwargs={'slug': call.slug})}"
    return f"{url}?page={page}" if page else url


def rows_of(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<th scope="row">([^<]*)</th>', body)


# --- the rank of one application ---------------------------------------------------------


@pytest.fixture
def ranked_call():
    """A call with ties in the scores (and in the submission times), unscored applications,
    withdrawn ones and decided ones."""
    competition = call_with_reviewed_applications(14)
    applications = list(competition.applications.order_by("pk"))
    moment = timezone.now() - timedelta(days=1)
    tied = applications[:4]
    same = {"score_mean": Decimal("55.5"), "score_min": Decimal("50"), "score_max": Decimal("60")}
    Application.objects.filter(pk__in=[a.pk for a in tied]).update(**same, submitted_at=moment)
    Application.objects.filter(pk__in=[a.pk for a in applications[4:6]]).update(**same)
    Application.objects.filter(pk__in=[a.pk for a in applications[6:9]]).update(
        score_mean=None, review_count=0, score_min=None, score_max=None
    )
    Application.objects.filter(pk__in=[a.pk for a in applications[8:10]]).update(
        status=ApplicationStatus.WITHDRAWN
    )
    Application.objects.filter(pk=applications[10].pk).update(
        status=ApplicationStatus.AWARDED, awarded_amount=Decimal("100")
    )
    Application.objects.filter(pk=applications[11].pk).update(status=ApplicationStatus.REJECTED)
    return competition


@pytest.mark.parametrize("statuses", [RANKED_STATUSES, [ApplicationStatus.SUBMITTED]])
def test_the_rank_of_one_application_is_its_place_in_the_whole_ranking(ranked_call, statuses):
    ranking = application_ranking(competition=ranked_call, statuses=statuses)
    expected = {ranked.pk: (ranked.rank, len(ranking)) for ranked in ranking}
    assert len(expected) < ranked_call.applications.count()  # some are left out
    found = {}
    for application in ranked_call.applications.all():
        place = application_rank(application=application, statuses=statuses)
        if place is not None:
            found[application.pk] = (place.rank, place.of)
    assert found == expected


def test_the_rank_of_one_application_is_one_query(ranked_call, django_assert_num_queries):
    application = ranked_call.applications.filter(status=ApplicationStatus.SUBMITTED).last()
    with django_assert_num_queries(1):
        application_rank(application=application)


def test_the_application_page_shows_the_rank_at_a_cost_that_does_not_grow(client):
    grants = decided_grants({"cesu-novads": (Decimal("5000"), Decimal("5000"))})
    application = grants["cesu-novads"].application
    call = application.competition
    scored = {"score_mean": 80, "review_count": 1, "score_min": 80, "score_max": 80}
    Application.objects.filter(pk=application.pk).update(**scored)
    client.force_login(staff_of("cesu-novads"))
    url = reverse("applications:detail", args=[application.pk])
    client.get(url)  # the session and the user, read once

    def queries():
        with CaptureQueriesContext(connection) as context:
            page = client.get(url).text
        return len(context), page

    results_cache.bump(call.pk)  # the rank counted again, not read from the cache
    small, page = queries()
    assert "1. vieta no 1." in page
    call_with_reviewed_applications(60, competition=call)
    Application.objects.filter(competition=call, status=ApplicationStatus.SUBMITTED).update(
        status=ApplicationStatus.REJECTED
    )
    Application.objects.filter(pk=application.pk).update(**scored)  # the refresh reset it
    # Bulk updates send no signal: the product's acts do, and give the call's results a new
    # version, under which the rank is counted again.
    results_cache.bump(call.pk)
    large, page = queries()
    rank = application_rank(application=application)
    assert (rank.of, large) == (61, small)
    assert 1 < rank.rank < 61
    assert f"{rank.rank}. vieta no 61." in page


@pytest.mark.django_db(transaction=True)  # each change commits, as a request's does
def test_the_application_pages_rank_is_counted_once_and_again_when_the_ranking_changes(client):
    grants = decided_grants(
        {
            "cesu-novads": (Decimal("5000"), Decimal("5000")),
            "valkas-novads": (Decimal("4000"), Decimal("4000")),
        }
    )
    application = grants["cesu-novads"].application
    other = grants["valkas-novads"].application
    scores = {"review_count": 1, "score_min": 60, "score_max": 95}
    Application.objects.filter(pk=application.pk).update(score_mean=80, **scores)
    Application.objects.filter(pk=other.pk).update(score_mean=70, **scores)
    results_cache.bump(application.competition_id)  # the bulk updates above send no signal
    client.force_login(staff_of("cesu-novads"))
    url = reverse("applications:detail", args=[application.pk])

    def visit():
        with CaptureQueriesContext(connection) as context:
            page = client.get(url).text
        return len(context), re.search(r"(\d+)\. vieta no (\d+)\.", page).groups()

    first, place = visit()
    assert place == ("1", "2")
    again, place = visit()
    assert (again, place) == (first - 1, ("1", "2"))  # the count is not asked again
    # Another application's scores change (its review, re-scored): the rank is counted again.
    other.refresh_from_db()
    other.score_mean = Decimal("90.00")
    other.save(update_fields=["score_mean"])
    after, place = visit()
    assert (after, place) == (first, ("2", "2"))


# --- a page at a time ------------------------------------------------------------------------


def test_a_call_of_many_is_shown_a_page_at_a_time(client):
    call = decided_call_in_bulk(120)
    first = client.get(results_url(call)).text
    assert len(rows_of(first)) == RESULTS_PAGE_SIZE
    third = client.get(results_url(call, page=3)).text
    assert len(rows_of(third)) == 120 - 2 * RESULTS_PAGE_SIZE
    # Every application is on one page, in the order of the whole call.
    pages = [rows_of(client.get(results_url(call, page=n)).text) for n in (1, 2, 3)]
    everyone = [row.municipality for row in competition_results(competition=call).rows]
    assert [name for page in pages for name in page] == everyone
    assert '<a class="page-link" href="?page=3" aria-current="page">3</a>' in third
    assert third.count('aria-current="page"') == 1
    assert 'href="?page=2" rel="prev"' in third
    assert "101.–120. no 120" in third
    assert client.get(results_url(call, page=4)).status_code == 404
    assert client.get(results_url(call, page="x")).status_code == 404


def test_every_page_states_the_whole_call(client):
    call = decided_call_in_bulk(120)
    results = competition_results(competition=call)
    for number in (1, 3):
        page = client.get(results_url(call, "/en", page=number)).text
        assert f"120 of the {results.eligible} eligible municipalities applied" in page
        assert "30 municipalities are funded in full." in page
        assert "30 municipalities are funded in part." in page
        assert "30 municipalities are not funded." in page
        total = spaced(f"€{results.total_awarded:,.2f}")
        assert f'id="total-awarded">{total}<' in spaced(page)
        # The chart: one bar an outcome, of the whole call.
        assert "Requested and awarded, by outcome" in page
        assert "In full (30)" in page
        assert "Declined (30)" in page
        assert reverse("results:csv", args=[call.slug]) in page


def test_the_sums_in_the_database_are_the_sums_of_the_rows():
    call = decided_call_in_bulk(41)
    grant = Grant.objects.filter(application__competition=call).first()
    Grant.objects.filter(pk=grant.pk).update(
        paid_total=Decimal("120.50"), repaid_total=Decimal("20.25"), accepted_total=Decimal("99")
    )
    rows, overview = competition_results(competition=call), results_overview(competition=call)
    for figure in [
        "eligible",
        "applied",
        "pool",
        "total_requested",
        "total_awarded",
        "funded_in_full",
        "funded_in_part",
        "not_funded",
        "declined",
    ]:
        assert getattr(overview, figure) == getattr(rows, figure), figure
    assert call_money(call, overview.total_awarded) == call_totals(rows, grant_accounts(call))


def test_a_page_with_the_longest_texts_stays_under_300_kb(client):
    call = decided_call_in_bulk(RESULTS_PAGE_SIZE, reason="Pamatojums. " * 83)  # 996 characters
    applications = list(call.applications.order_by("pk"))
    categories = list(ActivityCategory.objects.all())
    PlannedActivity.objects.bulk_create(
        PlannedActivity(application=a, category=c, title="Aktivitāte", cost=Decimal("1"))
        for a in applications
        for c in categories
    )
    grants = list(Grant.objects.filter(application__competition=call))
    versions = PlanVersion.objects.bulk_create(PlanVersion(grant=g, number=1) for g in grants)
    lines = PlanLine.objects.bulk_create(
        PlanLine(
            version=v,
            position=i,
            key=f"k{i}",
            category=categories[i % len(categories)],
            title="Rinda " + "x" * 190,
            cost=Decimal("10"),
        )
        for v in versions
        for i in range(12)
    )
    reports = Report.objects.bulk_create(
        Report(
            grant=g,
            kind="final",
            number=1,
            status="accepted",
            due_on=date(2020, 1, 1),
            claimed_total=Decimal("120"),
            accepted_total=Decimal("120"),
            submitted_at=timezone.now(),
            snapshot={},
            sha256="0" * 64,
        )
        for g in grants
    )
    by_grant = {r.grant_id: r for r in reports}
    ReportLine.objects.bulk_create(
        ReportLine(
            report=by_grant[line.version.grant_id],
            plan_line=line,
            position=line.position,
            done="Paveikts. " * 400,  # 4 000 characters, the form's longest
            actual_cost=Decimal("10"),
            accepted_amount=Decimal("10"),
        )
        for line in lines
    )
    page = client.get(results_url(call)).content
    assert page.count(b'class="card mb-3 grant-spending"') == len(grants)
    assert len(page) <= 300 * 1024


def test_the_results_queries_do_not_grow_with_the_grants(client):
    counts = []
    for size in (50, 250):
        call = decided_call_in_bulk(size)
        with CaptureQueriesContext(connection) as context:
            assert client.get(results_url(call, page=2 if size > 50 else None)).status_code == 200
        counts.append(len(context))
    assert counts[0] == counts[1]


# --- the cache ---------------------------------------------------------------------------


def test_the_second_visitor_makes_one_query(client, django_assert_max_num_queries):
    call = decided_call_in_bulk(60)
    client.get(results_url(call, page=2))
    with django_assert_max_num_queries(1):  # the call: published and decided?
        again = client.get(results_url(call, page=2))
    assert len(rows_of(again.text)) == 10
    assert "<table" in again.text  # the kept content is HTML, not escaped text


def test_a_signed_in_visitor_sees_the_kept_page_under_the_own_header(client):
    call = decided_call_in_bulk(8)
    anonymous = client.get(results_url(call)).text
    client.force_login(staff_of("cesu-novads"))
    signed_in = client.get(results_url(call)).text
    assert "cesu-novads" not in anonymous
    assert rows_of(signed_in) == rows_of(anonymous)
    assert 'href="/accounts/logout/"' in signed_in or "logout" in signed_in


def test_each_language_is_kept_apart(client):
    call = decided_call_in_bulk(8)
    latvian = client.get(results_url(call)).text
    english = client.get(results_url(call, "/en")).text
    assert "Pieteikumi un piešķirtais finansējums" in latvian
    assert "Applications and awards" in english
    assert "Applications and awards" in client.get(results_url(call, "/en")).text
    assert "Pieteikumi un piešķirtais finansējums" in client.get(results_url(call)).text


# The receivers give a call a new version once per transaction: a test's own transaction
# never commits, so each step of these tests runs its callbacks as a commit would.


@pytest.fixture
def in_progress(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        grant = grant_in_progress()
    return grant, grant.municipality.staff.get(), coordinator("coordinator-results")


def test_a_payment_recorded_shows_on_the_kept_page(
    client, in_progress, django_capture_on_commit_callbacks
):
    grant, _staff, boss = in_progress
    url = results_url(grant.application.competition)
    assert spaced('id="total-paid">0,00 €<') in spaced(client.get(url).text)
    with django_capture_on_commit_callbacks(execute=True):
        settlement.payment_record(
            grant=grant,
            by=boss,
            kind="advance",
            amount=Decimal("2500.00"),
            paid_on=timezone.localdate(),
            reference="MU-1",
        )
    assert spaced('id="total-paid">2 500,00 €<') in spaced(client.get(url).text)
    english = client.get(results_url(grant.application.competition, "/en")).text
    assert 'id="total-paid">€2,500.00<' in spaced(english)


def test_a_final_report_accepted_shows_what_was_spent(
    client, in_progress, django_capture_on_commit_callbacks
):
    grant, staff, boss = in_progress
    url = results_url(grant.application.competition)
    assert "Kas paveikts" not in client.get(url).text
    with django_capture_on_commit_callbacks(execute=True):
        settlement.report_accept(report=submitted(grant, staff, ["3000.00", "2000.00"]), by=boss)
    page = client.get(url).text
    assert "Izdota brošūra" in page
    assert spaced('id="total-spent">5 000,00 €<') in spaced(page)


def test_a_stage_and_a_declined_award_show_on_the_kept_page(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        grants = decided_grants(
            {
                "cesu-novads": (Decimal("5000"), Decimal("5000")),
                "valkas-novads": (Decimal("4000"), Decimal("4000")),
            }
        )
    call = grants["cesu-novads"].application.competition
    english = results_url(call, "/en")
    assert client.get(english).text.count("Plan being agreed") == 2
    boss = coordinator(f"coordinator-{call.pk}")
    with django_capture_on_commit_callbacks(execute=True):
        version = grant_services.plan_propose(
            version=grants["cesu-novads"].plan_versions.get(), by=staff_of("cesu-novads")
        )
        grant_services.plan_approve(version=version, by=boss)
    page = client.get(english).text
    assert (page.count("Plan being agreed"), page.count("Agreement being signed")) == (1, 1)
    with django_capture_on_commit_callbacks(execute=True):
        grant_services.grant_decline(
            grant=grants["valkas-novads"], by=staff_of("valkas-novads"), reason="Nevaram"
        )
    page = client.get(english).text
    assert "award declined" in page
    assert 'id="total-awarded">€5,000.00<' in spaced(page)


def test_the_call_texts_and_a_municipality_name_show_on_the_kept_page(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call, other = decided_call_in_bulk(8), decided_call_in_bulk(4)
    client.get(results_url(call))
    client.get(results_url(other))
    with django_capture_on_commit_callbacks(execute=True):
        call.title_lv = "Jauns nosaukums"
        call.save()
    assert "Jauns nosaukums" in client.get(results_url(call)).text
    place = other.applications.first().municipality
    with django_capture_on_commit_callbacks(execute=True):
        place.name = "Pārdēvētā pašvaldība"
        place.save()
    assert "Pārdēvētā pašvaldība" in client.get(results_url(other)).text


def test_many_rows_of_a_call_changed_in_one_transaction_bump_it_once(
    django_capture_on_commit_callbacks,
):
    from competitions import results_cache

    with django_capture_on_commit_callbacks(execute=True):
        call = decided_call_in_bulk(4)
    before = results_cache.results_version(call.pk)
    application = call.applications.filter(status=ApplicationStatus.AWARDED).first()
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        application.awarded_amount = Decimal("1.00")
        application.save()
        application.save()  # a second row of the same call in the same transaction
    assert len(callbacks) == 1
    assert results_cache.results_version(call.pk) != before


# --- the CSV, streamed -------------------------------------------------------------------


def csv_url(call):
    with translation.override("lv"):
        return reverse("results:csv", kwargs={"slug": call.slug})


def streamed(response) -> tuple[list[str], list[list[str]]]:
    """The pieces a streamed CSV was sent in, and its rows."""
    assert response.status_code == 200
    assert response.streaming
    pieces = [piece.decode("utf-8") for piece in response.streaming_content]
    assert pieces[0].startswith("\ufeff")
    text = "".join(pieces)
    return pieces, list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def cells_of(page: str) -> list[list[str]]:
    """Each row of the page's table, its cells' text before any badge or reason."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [
            re.sub(r"<[^>]+>", "", cell.split("<span class=", 1)[0]).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def spending_of(page: str) -> dict[str, str]:
    """The accepted spending per category of each grant on the page, by reference."""
    cards = re.findall(r'id="spending-([^"]+)">.*?<tbody>(.*?)</tbody>', page, re.S)
    return {
        reference: "; ".join(
            f"{name}: {amount}"
            for name, amount in re.findall(
                r'<th scope="row" class="fw-normal">([^<]*)</th><td class="amount">([^<]*)</td>',
                rows,
            )
        )
        for reference, rows in cards
    }


def with_money_after_the_decision(call):
    """Some grants paid, some paid back, some with an accepted final report spent per
    category (two categories, so that the spending has more than one part)."""
    grants = list(Grant.objects.filter(application__competition=call).order_by("pk"))
    categories = list(ActivityCategory.objects.order_by("order")[:2])
    reported = grants[::3]
    versions = PlanVersion.objects.bulk_create(PlanVersion(grant=g, number=1) for g in reported)
    lines = PlanLine.objects.bulk_create(
        PlanLine(
            version=v,
            position=i,
            key=f"k{i}",
            category=categories[i],
            title=f"Rinda {i}",
            cost=Decimal("100"),
        )
        for v in versions
        for i in range(2)
    )
    reports = {
        r.grant_id: r
        for r in Report.objects.bulk_create(
            Report(
                grant=g,
                kind="final",
                number=1,
                status="accepted",
                due_on=date(2020, 1, 1),
                claimed_total=Decimal("150"),
                accepted_total=Decimal("150"),
                submitted_at=timezone.now(),
                snapshot={},
                sha256="0" * 64,
            )
            for g in reported
        )
    }
    ReportLine.objects.bulk_create(
        ReportLine(
            report=reports[line.version.grant_id],
            plan_line=line,
            position=line.position,
            done="Paveikts.",
            actual_cost=Decimal("100") if line.position == 0 else Decimal("50"),
            accepted_amount=Decimal("100") if line.position == 0 else Decimal("50"),
        )
        for line in lines
    )
    for index, grant in enumerate(grants):
        Grant.objects.filter(pk=grant.pk).update(
            paid_total=Decimal(200 + index) if index % 2 == 0 else Decimal("0"),
            repaid_total=Decimal("25.50") if index % 10 == 0 else Decimal("0"),
            accepted_total=Decimal("150") if grant in reported else None,
        )


def test_the_streamed_csv_of_a_call_larger_than_a_batch_is_the_page_row_for_row(
    client, monkeypatch
):
    from grants import results

    monkeypatch.setattr(results, "CSV_BATCH_SIZE", 16)
    call = decided_call_in_bulk(60)  # 4 batches of the CSV, 2 pages of the results
    with_money_after_the_decision(call)
    pieces, rows = streamed(client.get(csv_url(call)))
    heading, *lines, total = rows
    assert heading[:2] == ["Pašvaldība", "Reģistrācijas numurs"]
    assert len(lines) == 60
    assert len(pieces) == 1 + 4 + 1  # the headings, each batch, the totals: as they were read

    def on_the_page(line):
        """A row of the CSV as the page's table writes it."""
        _name, _reference, requested, awarded, categories, stage, paid, spent, *_rest = line
        return [
            line[0],
            categories.replace("; ", ", "),
            money(Decimal(requested)),
            money(Decimal(awarded)),
            stage or "—",
            money(Decimal(paid)) if paid and Decimal(paid) else "—",
            money(Decimal(spent)) if spent else "—",
        ]

    with translation.override("lv"):
        expected = [on_the_page(line) for line in lines]
        spending = {
            line[1]: "; ".join(
                f"{name}: {money(Decimal(amount))}"
                for name, amount in (part.split(": ") for part in line[9].split("; "))
            )
            for line in lines
            if line[9]
        }
    pages = [client.get(results_url(call, page=number)).text for number in (1, 2)]
    assert [cells for page in pages for cells in cells_of(page)] == expected
    shown = {reference: text for page in pages for reference, text in spending_of(page).items()}
    assert shown == spending
    assert len(spending) == 15  # every third of the 45 grants
    assert {line[5] for line in lines} == {"Plāna saskaņošana", "Atteikts", ""}
    assert all(line[8] for line in lines if line[5])  # returned, for each grant

    page = pages[0]
    assert total[0] == "Kopā"
    assert f'id="total-awarded">{money(Decimal(total[3]))}<' in page
    assert f'id="total-paid">{money(Decimal(total[6]))}<' in page
    assert f'id="total-spent">{money(Decimal(total[7]))}<' in page
    assert f">{money(Decimal(total[2]))}</th>" in page  # requested
    assert money(Decimal(total[8])) in page.split('id="call-totals"', 1)[1]  # returned
    assert Decimal(total[3]) == sum(Decimal(line[3]) for line in lines)
    assert Decimal(total[6]) == sum(Decimal(line[6] or 0) for line in lines)
    assert Decimal(total[7]) == sum(Decimal(line[7] or 0) for line in lines) == 15 * 150
    assert Decimal(total[8]) == sum(Decimal(line[8] or 0) for line in lines) > 0


def test_the_streamed_csv_makes_queries_by_the_batch_not_by_the_row(client, monkeypatch):
    from grants import results

    monkeypatch.setattr(results, "CSV_BATCH_SIZE", 10)
    counts = []
    for size in (20, 60):  # 2 batches, then 6
        call = decided_call_in_bulk(size)
        with_money_after_the_decision(call)
        with CaptureQueriesContext(connection) as context:
            _pieces, rows = streamed(client.get(csv_url(call)))
        assert len(rows) == size + 2
        counts.append(len(context))
    # Three queries a batch (the activities, the grants, their report lines): four batches
    # more for forty rows more.
    assert counts[1] - counts[0] == 3 * 4
    assert counts[0] <= 6 + 3 * 2
