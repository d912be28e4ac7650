"""The public results of a call: in words, as a table, as a chart and as CSV."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from applications import services
from competitions.models import Competition, Municipality

from .amounts import spaced, squeezed
from .factories import CompetitionFactory
from .source_case import build_source_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided():
    case = build_source_case()
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    services.competition_decide(competition=case.competition, by=case.coordinator)
    case.competition.refresh_from_db()
    return case


def only_smiltene_allocated():
    """The source case with only Smiltene's 10 000 allocated: the other four would be rejected."""
    case = build_source_case()
    services.allocation_set(
        application=case.applications["smiltenes-novads"],
        amount=Decimal("10000"),
        by=case.coordinator,
        reason="x",
    )
    return case


def results_url(call, language=""):
    return f"{language}{reverse('results:detail', kwargs={'slug': call.slug})}"


def test_summary_in_latvian_states_who_applied_and_who_was_funded(client, decided):
    page = client.get(results_url(decided.competition)).text
    call = decided.competition.title_lv
    assert (
        spaced(
            f"Konkursā “{call}” pieteikumus iesniedza 5 no 26 pašvaldībām, kas varēja pieteikties. "
            "Pilnā apjomā finansējumu saņem 4 pašvaldības. "
            "Daļēju finansējumu saņem 1 pašvaldība. "
            "Kopējais pieejamais finansējums bija 40 000,00 EUR, piešķirti 40 000,00 EUR."
        )
    ) in squeezed(page)


def test_summary_in_english(client, decided):
    page = client.get(results_url(decided.competition, "/en")).text
    call = decided.competition.title_en
    assert (
        spaced(
            f"5 of the 26 eligible municipalities applied to the call “{call}”. "
            "4 municipalities are funded in full. "
            "1 municipality is funded in part. "
            "The pool was EUR\u00a040,000.00; EUR\u00a040,000.00 is awarded."
        )
    ) in squeezed(page)


def test_summary_counts_unfunded_municipalities_and_uses_the_singular(client):
    case = only_smiltene_allocated()
    services.competition_decide(
        competition=case.competition, by=case.coordinator, rejection_reason="Nepietiek līdzekļu."
    )
    page = squeezed(client.get(results_url(case.competition)).text)
    assert "Pilnā apjomā finansējumu saņem 1 pašvaldība." in page
    assert "Finansējumu nesaņem 4 pašvaldības." in page
    assert "Daļēju" not in page
    assert spaced("piešķirti 10 000,00 EUR") in page


def test_table_and_chart_show_the_five_amounts_summing_to_the_pool(client, decided):
    page = client.get(results_url(decided.competition)).text
    for amount in [
        spaced("10 000,00 €"),
        spaced("9 800,00 €"),
        spaced("6 200,00 €"),
        spaced("4 000,00 €"),
        spaced("7 500,00 €"),
    ]:
        assert amount in page
    assert spaced('id="total-awarded">40 000,00 €<') in page
    assert '<svg viewBox="0 0 760' in page
    assert 'role="img"' in page
    # Five bars and the legend in the drawing, five bars in the phone's list.
    assert page.count('class="chart-awarded"') == 5 + 1 + 5
    assert (
        spaced("Cēsu novads: pieprasīts 7 500,00 EUR, piešķirts finansējums 4 000,00 EUR.") in page
    )
    assert "Informatīvo materiālu sagatavošana" in page


def test_csv_escapes_a_name_a_spreadsheet_would_evaluate_as_a_formula(client, decided):
    """The public CSV writes text cells through the portal's one escaping function."""
    Municipality.objects.filter(slug="cesu-novads").update(name='=HYPERLINK("http://x")')
    response = client.get(reverse("results:csv", kwargs={"slug": decided.competition.slug}))
    rows = list(csv.reader(io.StringIO(response.getvalue().decode("utf-8-sig"))))
    names = [row[0] for row in rows[1:-1]]
    assert '\'=HYPERLINK("http://x")' in names
    assert not any(name.startswith("=") for name in names)


def test_csv_has_the_same_numbers(client, decided):
    response = client.get(reverse("results:csv", kwargs={"slug": decided.competition.slug}))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.getvalue().decode("utf-8-sig"))))
    assert rows[0] == [
        "Pašvaldība",
        "Reģistrācijas numurs",
        "Pieprasīts (EUR)",
        "Piešķirts (EUR)",
        "Aktivitāšu kategorijas",
        "Posms",
        "Izmaksāts (EUR)",
        "Izlietots (EUR)",
        "Atmaksāts (EUR)",
        "Izlietojums pa kategorijām",
    ]
    awarded = {row[0]: (row[2], row[3]) for row in rows[1:-1]}
    assert awarded == {
        "Smiltenes novads": ("10000.00", "10000.00"),
        "Valkas novads": ("10000.00", "10000.00"),
        "Valmieras pilsēta": ("9800.00", "9800.00"),
        "Gulbenes novads": ("6200.00", "6200.00"),
        "Cēsu novads": ("7500.00", "4000.00"),
    }
    assert rows[-1][:4] == ["Kopā", "", "43500.00", "40000.00"]


def test_before_the_decision_the_page_says_when_results_are_expected(client):
    call = CompetitionFactory(results_expected_on=date(2019, 9, 30))
    response = client.get(results_url(call))
    assert response.status_code == 200
    assert "Lēmums vēl nav pieņemts. Rezultāti gaidāmi 30.09.2019." in response.text
    assert "results-table" not in response.text
    csv_url = reverse("results:csv", kwargs={"slug": call.slug})
    assert client.get(csv_url).status_code == 404


def test_before_the_decision_without_a_date(client):
    call = CompetitionFactory(results_expected_on=None)
    page = client.get(results_url(call, "/en")).text
    assert (
        "The results are not decided yet. They will be published here after the decision." in page
    )


def test_results_of_a_draft_call_do_not_exist(client):
    call = CompetitionFactory(status=Competition.Status.DRAFT)
    assert client.get(results_url(call)).status_code == 404


def test_results_page_queries_do_not_grow_with_applications(
    client, decided, django_assert_max_num_queries
):
    # The call, the eligible count, the applications' counts and sums, the grants' sums, a
    # page of the applications, their categories, the page's grants' stages and money, the
    # lines of their accepted final reports.
    with django_assert_max_num_queries(8):
        client.get(results_url(decided.competition))


def test_home_page_lists_open_upcoming_under_review_and_decided_calls(client, decided):
    now = timezone.now()
    open_call = CompetitionFactory(title_lv="Atvērtais konkurss")
    upcoming = CompetitionFactory(
        title_lv="Gaidāmais konkurss",
        opens_at=now + timedelta(days=5),
        closes_at=now + timedelta(days=30),
    )
    under_review = CompetitionFactory(
        title_lv="Slēgtais konkurss",
        opens_at=now - timedelta(days=30),
        closes_at=now - timedelta(days=1),
    )
    CompetitionFactory(title_lv="Neizsludināts konkurss", status=Competition.Status.DRAFT)
    page = client.get("/").text
    sections = ["Atvērtie konkursi", "Gaidāmie konkursi", "Notiek vērtēšana", "Noslēgtie konkursi"]
    positions = [page.index(title) for title in sections]
    assert positions == sorted(positions)
    assert page.index(open_call.title_lv) < page.index("Gaidāmie konkursi")
    assert (
        page.index("Gaidāmie konkursi")
        < page.index(upcoming.title_lv)
        < page.index("Notiek vērtēšana")
    )
    assert (
        page.index("Notiek vērtēšana")
        < page.index(under_review.title_lv)
        < page.index("Noslēgtie konkursi")
    )
    assert page.index("Noslēgtie konkursi") < page.index(decided.competition.title_lv)
    assert "Neizsludināts konkurss" not in page
    assert reverse("results:detail", kwargs={"slug": decided.competition.slug}) in page


# --- after the decision: the grants ---------------------------------------------------------


def _agree(case, slug: str, total: Decimal):
    """The municipality's plan proposed at ``total`` (one line) and approved."""
    from grants import services as grant_services

    grant = case.applications[slug].grant
    version = grant.plan_versions.get()
    category = version.lines.first().category
    draft = grant_services.plan_save_draft(
        grant=grant,
        by=case.staff[slug],
        lines=[grant_services.PlanLineData(category=category, title="Viss plāns", cost=total)],
    )
    proposed = grant_services.plan_propose(version=draft, by=case.staff[slug])
    return grant_services.plan_approve(version=proposed, by=case.coordinator)


def test_each_award_shows_its_grant_stage(client, decided):
    _agree(decided, "smiltenes-novads", Decimal("10000"))
    rows = {
        row.split("</th>")[0].rsplit(">", 1)[-1]: row
        for row in client.get(results_url(decided.competition)).text.split('<th scope="row">')[1:]
    }
    assert "Līguma parakstīšana" in rows["Smiltenes novads"]
    assert "Plāna saskaņošana" in rows["Cēsu novads"]
    english = client.get(results_url(decided.competition, "/en")).text
    assert english.count("Plan being agreed") == 4
    assert english.count("Agreement being signed") == 1


def test_a_plan_agreed_for_less_shows_the_money_back_in_the_pool(
    client, decided, django_assert_max_num_queries
):
    _agree(decided, "cesu-novads", Decimal("3600"))
    latvian = squeezed(client.get(results_url(decided.competition)).text)
    assert spaced("Nepiešķirti paliek 400,00 EUR no kopējā finansējuma.") in latvian
    with django_assert_max_num_queries(8):  # the English page is not the Latvian one's cache
        page = squeezed(client.get(results_url(decided.competition, "/en")).text)
    assert "The pool was EUR\u00a040,000.00; EUR\u00a039,600.00 is awarded." in page
    assert "EUR\u00a0400.00 of the pool is unallocated." in page
    assert 'id="total-awarded">€39,600.00<' in page


def test_a_call_decided_in_full_states_nothing_unallocated(client, decided):
    page = client.get(results_url(decided.competition, "/en")).text
    assert "unallocated" not in page


def test_a_rejected_row_says_not_funded_and_why_not_only_zero(client, table_rows):
    case = only_smiltene_allocated()
    services.competition_decide(
        competition=case.competition,
        by=case.coordinator,
        rejection_reason="Konkursa finansējums ir sadalīts augstāk vērtētajiem pieteikumiem.",
    )
    rows = {
        row[0]: row
        for row in table_rows(client.get(results_url(case.competition)).text, "results-table")
    }
    funded, rejected_one = (
        case.applications[slug].municipality.name for slug in ["smiltenes-novads", "cesu-novads"]
    )
    assert rows[funded][3] == spaced("10 000,00 €")
    rejected = rows[rejected_one][3]
    assert rejected.startswith(spaced("0,00 € nav finansēts"))
    assert "Konkursa finansējums ir sadalīts augstāk vērtētajiem pieteikumiem." in rejected
    english = client.get(results_url(case.competition, "/en")).text
    assert '<span class="badge text-bg-danger">not funded</span>' in english
