"""The allocation screen and the decision, driven as a coordinator would: the pool at the top,
the proposal on the source case, every change through the allocation service, refusals named
with their amounts and nothing written; the decision locks the allocation and notifies."""

import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications import selectors, services
from applications.models import AllocationEvent, Application
from competitions.models import Municipality

from .amounts import spaced
from .factories import (
    CompetitionFactory,
    call_with_reviewed_applications,
    coordinator,
)
from .source_case import build_source_case
from .test_concurrency import run_together, submitted

pytestmark = pytest.mark.django_db

AWARDS = {
    "smiltenes-novads": Decimal("10000.00"),
    "valkas-novads": Decimal("10000.00"),
    "valmieras-pilseta": Decimal("9800.00"),
    "gulbenes-novads": Decimal("6200.00"),
    "cesu-novads": Decimal("4000.00"),
}


def allocation_url(competition) -> str:
    return reverse("admin:competitions_competition_allocation", args=[competition.pk])


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def awarded(case) -> dict[str, Decimal]:
    return {
        slug: Application.objects.get(pk=application.pk).awarded_amount
        for slug, application in case.applications.items()
    }


def form_fields(html: str, form_id: str) -> dict[str, str]:
    """The named inputs of a form of the page, as a browser would post them (buttons aside)."""
    form = html.split(f'id="{form_id}"')[1].split("</form>")[0]
    return {
        name: value
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)
        if name != "csrfmiddlewaretoken"
    }


def shown_proposal(client, competition) -> dict[str, str]:
    """The hidden fields of the "apply the proposal" form, as the page rendered them."""
    return form_fields(client.get(allocation_url(competition)).text, "apply-proposal")


def apply_proposal(client, competition):
    data = {"apply_proposal": "1", **shown_proposal(client, competition)}
    return client.post(allocation_url(competition), data, follow=True)


def set_amount(client, application, amount, reason="Koordinatora labojums"):
    return client.post(
        allocation_url(application.competition),
        {"application": application.pk, "amount": amount, "reason": reason},
    )


@pytest.fixture
def case(client):
    case = build_source_case()
    client.force_login(case.coordinator)
    return case


def test_the_screen_shows_the_pool_and_the_source_case_proposal_with_its_reasons(
    case, client, table_rows
):
    response = client.get(allocation_url(case.competition))
    assert response.status_code == 200
    summary = response.text.split('id="pool-state"')[1].split("</ul>")[0]
    for figure in [spaced("40 000,00 €"), spaced("0,00 €"), spaced("10 000,00 €"), "atļauts"]:
        assert figure in summary
    header, *rows, total = table_rows(response.text, "allocation-table")
    assert header[:7] == [
        "Vieta",
        "Pašvaldība",
        "Vērtējums",
        "Vērtējumi",
        "Pieprasīts",
        "Priekšlikums",
        "Pamatojums",
    ]
    assert [(row[0], row[1].split(" REM")[0], row[5], row[6]) for row in rows] == [
        ("1", "Smiltenes novads", spaced("10 000,00 €"), "finansēts pilnā apjomā"),
        ("2", "Valkas novads", spaced("10 000,00 €"), "finansēts pilnā apjomā"),
        ("3", "Valmieras pilsēta", spaced("9 800,00 €"), "finansēts pilnā apjomā"),
        ("4", "Gulbenes novads", spaced("6 200,00 €"), "finansēts pilnā apjomā"),
        (
            "5",
            "Cēsu novads",
            spaced("4 000,00 €"),
            spaced("daļēji: kopējais finansējums ir izsmelts (4 000,00 € / 7 500,00 €)"),
        ),
    ]
    assert total[2] == spaced("40 000,00 €")  # the proposal's total
    assert "Vēl neviena summa nav mainīta." in response.text  # the empty ledger


def test_applying_the_proposal_awards_10000_10000_9800_6200_4000(case, client, table_rows):
    response = apply_proposal(client, case.competition)
    assert awarded(case) == AWARDS
    assert AllocationEvent.objects.filter(competition=case.competition).count() == 5
    assert any(
        spaced("40 000,00 €") in text and spaced("0,00 €") in text for text in messages_of(response)
    )
    summary = response.text.split('id="pool-state"')[1].split("</ul>")[0]
    assert spaced("40 000,00 €") in summary
    ledger = table_rows(response.text, "ledger")[1:]
    assert len(ledger) == 5
    assert all(row[2].startswith(spaced("0,00 € → ")) for row in ledger)
    assert "Piemērots sadalījuma priekšlikums" in ledger[0][2]


def test_applying_a_proposal_that_changed_since_it_was_shown_is_refused(case, client):
    shown = shown_proposal(client, case.competition)
    # A reviewer lowers Smiltene's score meanwhile: Smiltene drops in the ranking.
    criteria = list(case.competition.criteria.all())
    for person in case.reviewers:
        services.review_record(
            application=case.applications["smiltenes-novads"],
            reviewer=person,
            scores={criteria[0].pk: 0, criteria[1].pk: 0, criteria[2].pk: 0},
        )
    Application.objects.filter(pk=case.applications["smiltenes-novads"].pk).update(
        requested_amount=Decimal("4000")
    )
    response = client.post(
        allocation_url(case.competition), {"apply_proposal": "1", **shown}, follow=True
    )
    assert any("Priekšlikums ir mainījies" in text for text in messages_of(response))
    assert not AllocationEvent.objects.exists()


def test_an_edit_over_the_pool_is_refused_naming_the_amounts_and_nothing_is_written(case, client):
    apply_proposal(client, case.competition)
    events = AllocationEvent.objects.count()
    cesis = case.applications["cesu-novads"]
    response = set_amount(client, cesis, spaced("5 000,00"))
    assert response.status_code == 200
    (message,) = messages_of(response)
    assert "Cēsu novads" in message
    for amount in [
        spaced("5 000,00 €"),
        spaced("40 000,00 €"),
        spaced("36 000,00 €"),
        spaced("4 000,00 €"),
        spaced("1 000,00 €"),
    ]:
        assert amount in message
    assert awarded(case) == AWARDS
    assert AllocationEvent.objects.count() == events
    # The refused row keeps what the coordinator typed, marked.
    row = response.text.split(f'id="application-{cesis.pk}"')[1].split("</tr>")[0]
    assert spaced('value="5 000,00"') in row
    assert (
        f'<tr id="application-{cesis.pk}" data-municipality="Cēsu novads" class="is-refused">'
        in response.text
    )


def test_an_edit_over_the_cap_is_refused_naming_the_cap_and_the_excess(case, client):
    smiltene = case.applications["smiltenes-novads"]
    Application.objects.filter(pk=smiltene.pk).update(requested_amount=Decimal("12000"))
    response = set_amount(client, smiltene, "10500")
    (message,) = messages_of(response)
    for amount in [spaced("10 500,00 €"), spaced("10 000,00 €"), spaced("500,00 €")]:
        assert amount in message
    assert Application.objects.get(pk=smiltene.pk).awarded_amount == 0
    assert not AllocationEvent.objects.exists()


def test_an_edit_above_the_request_is_refused_naming_the_request(case, client):
    gulbene = case.applications["gulbenes-novads"]
    response = set_amount(client, gulbene, "6500")
    (message,) = messages_of(response)
    for amount in [spaced("6 200,00 €"), spaced("6 500,00 €"), spaced("300,00 €")]:
        assert amount in message
    assert not AllocationEvent.objects.exists()


def test_an_edit_within_the_rules_goes_through_the_ledger(case, client):
    apply_proposal(client, case.competition)
    valka = case.applications["valkas-novads"]
    response = set_amount(
        client, valka, spaced("9 000,00 €"), reason="Samazināts pēc precizējumiem"
    )
    assert response.status_code == 302
    assert response.url.endswith(f"#application-{valka.pk}")
    (message,) = messages_of(client.get(response.url))
    assert spaced("10 000,00 € → 9 000,00 €") in message
    assert spaced("1 000,00 €") in message  # left in the pool
    event = AllocationEvent.objects.latest("id")
    assert (event.amount_before, event.amount_after, event.by) == (
        Decimal("10000.00"),
        Decimal("9000.00"),
        case.coordinator,
    )
    assert event.reason == "Samazināts pēc precizējumiem"


@pytest.mark.parametrize(
    ("amount", "reason", "expected"),
    [
        (spaced("9 000,00"), "", "Izmaiņas nav saglabātas. Pamatojums: Šis lauks ir nepieciešams."),
        (
            "deviņi tūkstoši",
            "x",
            "Piešķirtā summa: Ievadiet summu euro, piemēram, 1500 vai 1 500,50.",
        ),
        (
            "9000,001",
            "x",
            "Piešķirtā summa: Ievadiet summu euro, piemēram, 1500 vai 1 500,50.",
        ),
        ("-5", "x", "Piešķirtā summa: Summa nedrīkst būt negatīva."),
    ],
)
def test_an_edit_that_is_not_an_amount_with_a_reason_is_refused(
    case, client, amount, reason, expected
):
    response = set_amount(client, case.applications["valkas-novads"], amount, reason)
    assert response.status_code == 200
    assert any(expected in text for text in messages_of(response))
    assert not AllocationEvent.objects.exists()


def test_reviewers_cannot_allocate(case, client):
    client.force_login(case.reviewers[0])
    response = set_amount(client, case.applications["valkas-novads"], "100")
    assert response.status_code == 403
    assert not AllocationEvent.objects.exists()


def test_the_state_of_the_pool_is_served_for_the_screen_to_stay_current(case, client):
    url = reverse("admin:competitions_competition_allocation_state", args=[case.competition.pk])
    assert client.get(url).json()["last_event"] is None
    apply_proposal(client, case.competition)
    state = client.get(url).json()
    assert state["allocated"] == spaced("40 000,00 €")
    assert state["remaining"] == spaced("0,00 €")
    assert state["remaining_amount"] == "0.00"
    assert state["last_event"] == AllocationEvent.objects.latest("at", "id").pk


def test_the_screen_takes_the_same_queries_at_any_size(client):
    client.force_login(coordinator())
    counts = []
    for size in (5, 60):
        call = call_with_reviewed_applications(size)
        url = allocation_url(call)
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert len(response.context["rows"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 14, counts


# --- the service behind "apply the proposal" -------------------------------------------------


def test_the_proposal_as_shown_is_applied_through_the_ledger():
    case = build_source_case()
    digest = selectors.allocation_proposal(competition=case.competition).digest
    services.allocation_apply_shown_proposal(
        competition=case.competition, digest=digest, last_event=None, by=case.coordinator
    )
    assert awarded(case) == AWARDS
    assert AllocationEvent.objects.count() == 5


def test_a_proposal_that_is_no_longer_the_one_shown_is_refused_and_nothing_written():
    case = build_source_case()
    digest = selectors.proposal_walk(competition=case.competition).digest
    services.competition_set_limits(
        competition=case.competition,
        pool_amount=Decimal("39000"),
        max_award_amount=Decimal("10000"),
        partial_awards_allowed=True,
        by=case.coordinator,
    )
    with pytest.raises(ValidationError) as error:
        services.allocation_apply_shown_proposal(
            competition=case.competition, digest=digest, last_event=None, by=case.coordinator
        )
    assert [e.code for e in error.value.error_list] == ["proposal_changed"]
    assert not AllocationEvent.objects.exists()
    assert set(awarded(case).values()) == {Decimal("0.00")}


def test_a_proposal_applied_after_an_amount_set_meanwhile_is_refused():
    """The same proposal, but the ledger moved on: another coordinator's amount would be
    overwritten unseen."""
    case = build_source_case()
    digest = selectors.proposal_walk(competition=case.competition).digest
    services.allocation_set(
        application=case.applications["valkas-novads"],
        amount=Decimal("5000"),
        by=case.coordinator,
        reason="Cits koordinators",
    )
    with pytest.raises(ValidationError) as error:
        services.allocation_apply_shown_proposal(
            competition=case.competition, digest=digest, last_event=None, by=case.coordinator
        )
    assert [e.code for e in error.value.error_list] == ["proposal_changed"]
    assert AllocationEvent.objects.count() == 1


def test_the_light_walk_proposes_what_the_whole_proposal_does():
    case = build_source_case()
    whole = selectors.allocation_proposal(competition=case.competition)
    light = selectors.proposal_walk(competition=case.competition)
    assert [(r.pk, r.rank, r.amount, r.reason) for r in light.rows] == [
        (r.application.pk, r.application.rank, r.amount, r.reason) for r in whole.rows
    ]
    assert (light.total, light.remaining, light.digest) == (
        whole.total,
        whole.remaining,
        whole.digest,
    )


# --- the decision ------------------------------------------------------------------------------


#: The default reason of a rejection ranked below the funded ones, as the screen posts it.
BELOW = "default-pool_exhausted"


def decision_url(competition, query: str = "") -> str:
    return reverse("admin:competitions_competition_decision", args=[competition.pk]) + query


def decide(client, competition, **defaults):
    return client.post(decision_url(competition), {"decide": "1", **defaults})


def save_reasons(client, competition, reasons: dict, query: str = ""):
    return client.post(
        decision_url(competition, query),
        {"save_reasons": "1", **{f"reason-{pk}": text for pk, text in reasons.items()}},
    )


def test_the_decision_records_awards_and_rejections_locks_and_notifies(
    case, client, table_rows, django_capture_on_commit_callbacks
):
    services.allocation_set(
        application=case.applications["smiltenes-novads"],
        amount=Decimal("10000"),
        by=case.coordinator,
        reason="x",
    )
    page = client.get(allocation_url(case.competition))
    assert decision_url(case.competition) in page.text.split('id="record-decision"')[1]
    page = client.get(decision_url(case.competition))
    assert page.status_code == 200
    for application in case.applications.values():
        assert f'id="decision-{application.pk}"' in page.text
    assert spaced("30 000,00 € no kopējā finansējuma paliek nepiešķirti.") in page.text
    valka = case.applications["valkas-novads"]
    saved = save_reasons(
        client,
        case.competition,
        {
            valka.pk: "Aktivitātes nav pietiekami pamatotas.",
            case.applications["cesu-novads"].pk: "",
        },
        query="?page=1",
    )
    assert saved.status_code == 302
    assert saved.url == decision_url(case.competition, "?page=1")
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(client, case.competition, **{BELOW: "Nepietika finansējuma."})
    assert response.status_code == 302
    assert response.url == allocation_url(case.competition)
    statuses = {slug: Application.objects.get(pk=a.pk) for slug, a in case.applications.items()}
    assert statuses["smiltenes-novads"].status == Application.Status.AWARDED
    assert statuses["valkas-novads"].status == Application.Status.REJECTED
    assert statuses["valkas-novads"].decision_reason == "Aktivitātes nav pietiekami pamatotas."
    assert statuses["cesu-novads"].decision_reason == "Nepietika finansējuma."
    case.competition.refresh_from_db()
    assert case.competition.is_decided
    assert len(mail.outbox) == 5

    locked = client.get(allocation_url(case.competition))
    assert "finansējuma sadalījums ir slēgts" in locked.text
    assert 'class="award-form"' not in locked.text
    assert 'id="apply-proposal"' not in locked.text
    refused = set_amount(client, case.applications["cesu-novads"], "100")
    assert any("slēgts" in text for text in messages_of(refused))
    assert Application.objects.get(pk=case.applications["cesu-novads"].pk).awarded_amount == 0


def test_after_the_decision_the_screen_leads_to_the_letters_which_mail_each_municipality(
    case, client, django_capture_on_commit_callbacks
):
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    response = decide(client, case.competition)
    assert response.status_code == 302
    mail.outbox.clear()
    page = client.get(response.url)
    # The decision is news, not an error: no red box, and the way on to the letters.
    assert 'class="errornote"' not in page.text
    assert 'id="decision-note"' in page.text
    assert 'id="issue-letters"' in page.text
    form = page.text.split('id="issue-letters"')[1].split("</form>")[0]
    selected = [int(pk) for pk in re.findall(r'name="_selected_action" value="(\d+)"', form)]
    assert sorted(selected) == sorted(a.pk for a in case.applications.values())
    with django_capture_on_commit_callbacks(execute=True):
        issued = client.post(
            reverse("admin:applications_application_changelist"),
            {"action": "issue_letters", "index": 0, "_selected_action": selected},
        )
    assert issued.status_code == 302
    cesis = case.applications["cesu-novads"]
    letter = cesis.letters.get()
    (to_cesis,) = [m for m in mail.outbox if m.to == [case.staff["cesu-novads"].email]]
    assert letter.number in to_cesis.subject
    assert letter.number in to_cesis.body
    assert cesis.get_absolute_url() in to_cesis.body
    assert len(mail.outbox) == len(selected)
    # With every letter issued, the screen says so and links the register.
    assert 'id="issue-letters"' not in client.get(response.url).text


def test_a_decision_without_a_reason_for_a_rejection_is_refused_and_nothing_decided(case, client):
    response = decide(client, case.competition)
    assert response.status_code == 200
    assert response.context["form"].errors == {BELOW: ["Šis lauks ir nepieciešams."]}
    case.competition.refresh_from_db()
    assert not case.competition.is_decided
    assert not mail.outbox


def test_a_call_still_open_offers_no_decision_and_the_service_refuses_it(client):
    case = build_source_case(close=False)
    client.force_login(case.coordinator)
    page = client.get(allocation_url(case.competition))
    assert 'id="record-decision"' not in page.text
    response = decide(client, case.competition, **{BELOW: "x"})
    assert any("vēl ir atvērts" in text for text in messages_of(response))
    case.competition.refresh_from_db()
    assert not case.competition.is_decided


def test_the_decision_screen_of_a_call_still_open_says_so_before_any_reason_is_typed(client):
    case = build_source_case(close=False)
    client.force_login(case.coordinator)
    response = client.get(decision_url(case.competition))
    # No form to fill in: back to the allocation, told why.
    assert response.status_code == 302
    assert response.url == allocation_url(case.competition)
    assert any("vēl ir atvērts" in text for text in messages_of(response))
    assert 'name="decide"' not in client.get(response.url).text


def test_reviewers_cannot_record_the_decision(case, client):
    client.force_login(case.reviewers[0])
    assert decide(client, case.competition, **{BELOW: "x"}).status_code == 403
    assert client.get(decision_url(case.competition)).status_code == 403
    case.competition.refresh_from_db()
    assert not case.competition.is_decided


# --- two coordinators at the same moment (PostgreSQL) --------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_coordinators_editing_at_once_on_the_screen_never_exceed_the_pool():
    call = CompetitionFactory()
    places = list(Municipality.objects.order_by("slug")[:12])
    applications = [
        submitted(call, place, Decimal("9000")) for place in places
    ]  # 12 × 9 000 = 108 000 wanted from a pool of 40 000
    # Two coordinators, each in several browser tabs, all saving at the same instant.
    clients = [Client(), Client()]
    for index, client in enumerate(clients):
        client.force_login(coordinator(f"coordinator{index}"))
    statuses = {}

    def save(index, application):
        response = set_amount(
            clients[index % 2], application, spaced("9 000,00"), reason="Vienlaicīgi"
        )
        statuses[index] = response.status_code

    outcomes = run_together([lambda i=i, a=a: save(i, a) for i, a in enumerate(applications)])

    assert outcomes == ["accepted"] * len(applications), outcomes  # no request failed
    total = Application.objects.aggregate(total=Sum("awarded_amount"))["total"]
    assert total <= call.pool_amount
    assert total == Decimal("36000.00")  # four fit; the fifth would need 45 000
    assert list(statuses.values()).count(302) == 4  # accepted and redirected
    assert list(statuses.values()).count(200) == 8  # refused and shown again
    assert AllocationEvent.objects.count() == 4
