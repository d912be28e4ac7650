"""The allocation and decision screens of a large call: a page of the ranking at a time, the
pool and the proposal of the whole call, and every whole-call act (apply the proposal, save a
page's reasons, record the decision) a bounded number of fields, whatever the call's size."""

import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Sum
from django.urls import reverse

from applications import selectors, services
from applications.models import AllocationEvent, Application
from applications.selectors import ProposalReason
from competitions.models import Competition, Municipality

from .factories import (
    CompetitionFactory,
    UserFactory,
    call_with_reviewed_applications,
    coordinator,
)
from .source_case import build_source_case, close_call

pytestmark = pytest.mark.django_db


def allocation_url(competition, query: str = "") -> str:
    return reverse("admin:competitions_competition_allocation", args=[competition.pk]) + query


def decision_url(competition, query: str = "") -> str:
    return reverse("admin:competitions_competition_decision", args=[competition.pk]) + query


def form_fields(html: str, form_id: str) -> dict[str, str]:
    """What a browser posts from a form of the page: its inputs and textareas (one button)."""
    form = html.split(f'id="{form_id}"')[1].split("</form>")[0]
    inputs = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    areas = dict(re.findall(r'<textarea name="([^"]+)"[^>]*>([^<]*)</textarea>', form))
    return {**inputs, **areas}


def rows_of(html: str, prefix: str) -> list[int]:
    return [int(pk) for pk in re.findall(rf'<tr id="{prefix}-(\d+)"', html)]


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def closed_call(size: int, **limits) -> Competition:
    call = call_with_reviewed_applications(size, competition=CompetitionFactory(**limits))
    close_call(call)
    return call


@pytest.fixture
def signed_in(client):
    client.force_login(coordinator())
    return client


# --- the allocation screen ----------------------------------------------------------------------


def test_a_call_of_250_shows_100_rows_a_page_and_applies_its_proposal_with_a_few_fields(
    signed_in,
):
    call = closed_call(250, pool_amount=Decimal("400000.00"))
    page = signed_in.get(allocation_url(call))
    shown = rows_of(page.text, "application")
    assert len(shown) == 100
    assert page.text.count('class="award-form"') == 100
    assert len(page.content) < 300_000
    proposal = selectors.allocation_proposal(competition=call)
    # The first page is the ranking's first hundred, with the whole call's proposal total.
    assert shown == [row.application.pk for row in proposal.rows[:100]]
    assert page.context["proposal"].total == proposal.total
    last = signed_in.get(allocation_url(call, "?page=3"))
    assert rows_of(last.text, "application") == [row.application.pk for row in proposal.rows[200:]]
    assert 'href="?page=2"' in last.text

    fields = form_fields(page.text, "apply-proposal")
    assert len(fields) < 10, fields
    response = signed_in.post(allocation_url(call, "?page=2"), {**fields, "apply_proposal": "1"})
    assert response.status_code == 302
    assert response.url == allocation_url(call, "?page=2")
    amounts = dict(call.applications.values_list("pk", "awarded_amount"))
    assert amounts == {row.application.pk: row.amount for row in proposal.rows}
    assert sum(amounts.values()) == proposal.total <= call.pool_amount


def test_a_proposal_shown_before_a_change_is_refused_on_any_page(signed_in):
    call = closed_call(120)
    fields = form_fields(signed_in.get(allocation_url(call, "?page=2")).text, "apply-proposal")
    # A request lowered meanwhile, on an application the page did not show.
    first = selectors.proposal_walk(competition=call).rows[0]
    Application.objects.filter(pk=first.pk).update(requested_amount=Decimal("500"))
    response = signed_in.post(allocation_url(call), {**fields, "apply_proposal": "1"})
    assert any("Priekšlikums ir mainījies" in text for text in messages_of(response))
    assert not AllocationEvent.objects.exists()


@pytest.mark.parametrize("size", [50, 250])
def test_a_page_takes_the_same_queries_whatever_the_size_of_the_call(
    signed_in, django_assert_max_num_queries, size
):
    call = closed_call(size)
    signed_in.get(allocation_url(call))
    with django_assert_max_num_queries(14):
        assert signed_in.get(allocation_url(call, "?page=1")).status_code == 200
    with django_assert_max_num_queries(16):
        assert signed_in.get(decision_url(call, "?page=1&band=50")).status_code == 200


def test_the_filters_narrow_the_rows_but_keep_the_ranks_of_the_whole_call(signed_in):
    call = closed_call(150)
    walk = selectors.proposal_walk(competition=call)
    ranks = {row.pk: row.rank for row in walk.rows}
    band = signed_in.get(allocation_url(call, "?band=50"))
    rows = band.context["rows"]
    assert rows
    assert all(50 <= row.application.score_mean < 75 for row in rows)
    assert [row.rank for row in rows] == [ranks[row.application.pk] for row in rows]
    assert len(rows) == call.applications.filter(score_mean__gte=50, score_mean__lt=75).count()

    target = call.applications.order_by("pk")[70]
    named = signed_in.get(allocation_url(call, f"?q={target.reference}"))
    assert [row.application.pk for row in named.context["rows"]] == [target.pk]
    assert named.context["rows"][0].rank == ranks[target.pk]

    # A row saved on a filtered page comes back to the same page and filters, at the row.
    query = f"?q={target.reference}&status=unfunded"
    saved = signed_in.post(
        allocation_url(call, query),
        {"application": target.pk, "amount": "100", "reason": "Koordinatora labojums"},
    )
    assert saved.status_code == 302
    assert saved.url == allocation_url(call, f"{query}#application-{target.pk}")
    assert rows_of(signed_in.get(allocation_url(call, query)).text, "application") == []
    funded = signed_in.get(allocation_url(call, "?status=funded"))
    assert [row.application.pk for row in funded.context["rows"]] == [target.pk]


def test_a_refused_row_on_a_later_page_keeps_what_was_typed_and_names_the_rule(signed_in):
    call = closed_call(150)
    walk = selectors.proposal_walk(competition=call)
    row = walk.rows[120]  # on the second page
    application = Application.objects.get(pk=row.pk)
    response = signed_in.post(
        allocation_url(call, "?page=2"),
        {"application": row.pk, "amount": "12000", "reason": "Par daudz"},
    )
    assert response.status_code == 200
    (message,) = messages_of(response)
    assert application.municipality.name in message
    assert "12\u00a0000,00\u00a0€" in message
    html = response.text.split(f'<tr id="application-{row.pk}"')[1].split("</tr>")[0]
    assert 'class="is-refused"' in html
    assert 'value="12000"' in html
    assert not AllocationEvent.objects.exists()


# --- the decision screen ------------------------------------------------------------------------


def test_the_decision_of_a_call_of_250_is_typed_a_page_at_a_time_and_recorded_with_defaults(
    signed_in,
):
    call = closed_call(250)
    unscored = list(call.applications.order_by("pk").values_list("pk", flat=True)[:10])
    Application.objects.filter(pk__in=unscored).update(
        score_mean=None, score_min=None, score_max=None, review_count=0
    )
    services.allocation_apply_proposal(competition=call, by=coordinator())
    page = signed_in.get(decision_url(call, "?page=2"))
    assert page.status_code == 200
    assert len(page.content) < 300_000
    summary = page.context["summary"]
    awarded = call.applications.filter(awarded_amount__gt=0)
    assert summary.awarded == awarded.count()
    assert summary.awarded_total == awarded.aggregate(total=Sum("awarded_amount"))["total"]
    assert summary.rejected == {
        ProposalReason.POOL_EXHAUSTED: 250 - 10 - awarded.count(),
        ProposalReason.NOT_SCORED: 10,
    }
    reasons = form_fields(page.text, "decision-reasons")
    assert len(reasons) == 101  # the page's hundred and the CSRF token
    on_page = rows_of(page.text, "decision")
    typed = {f"reason-{on_page[0]}": "Aktivitātes nav pamatotas."}
    saved = signed_in.post(decision_url(call, "?page=2"), {**reasons, **typed, "save_reasons": "1"})
    assert saved.url == decision_url(call, "?page=2")
    first = Application.objects.get(pk=on_page[0])
    assert first.decision_reason == "Aktivitātes nav pamatotas."
    assert first.history.first().history_user.username == "coordinator"

    decision = form_fields(signed_in.get(decision_url(call)).text, "record-decision")
    defaults = {
        "default-pool_exhausted": "Ierindots aiz finansētajiem pieteikumiem.",
        "default-not_scored": "Nav neviena vērtējuma.",
    }
    data = {**decision, **defaults, "decide": "1"}
    assert len(data) < 10
    response = signed_in.post(decision_url(call), data)
    assert response.status_code == 302, messages_of(response)
    call.refresh_from_db()
    assert call.is_decided
    reasons_given = dict(call.applications.values_list("pk", "decision_reason"))
    assert reasons_given[on_page[0]] == "Aktivitātes nav pamatotas."
    assert {reasons_given[pk] for pk in unscored} == {"Nav neviena vērtējuma."}
    rejected = call.applications.filter(status=Application.Status.REJECTED)
    assert rejected.count() == 250 - awarded.count()
    assert not call.applications.filter(status=Application.Status.SUBMITTED).exists()
    assert not rejected.filter(decision_reason="").exists()


def test_a_default_reason_is_asked_only_for_the_kinds_without_reasons_of_their_own():
    case = build_source_case(partial_awards_allowed=False)
    services.competition_set_limits(
        competition=case.competition,
        pool_amount=Decimal("35000"),
        max_award_amount=Decimal("10000"),
        partial_awards_allowed=False,
        by=case.coordinator,
    )
    gulbene, cesis, valmiera = (
        case.applications[slug] for slug in ["gulbenes-novads", "cesu-novads", "valmieras-pilseta"]
    )
    Application.objects.filter(pk=gulbene.pk).update(
        score_mean=None, score_min=None, score_max=None, review_count=0
    )
    for slug in ["smiltenes-novads", "valkas-novads"]:
        services.allocation_set(
            application=case.applications[slug],
            amount=Decimal("10000"),
            by=case.coordinator,
            reason="x",
        )
    case.competition.refresh_from_db()
    walk = selectors.proposal_walk(competition=case.competition)
    summary = selectors.decision_summary(competition=case.competition, walk=walk)
    # Valmiera is ranked to be funded but holds nothing: below the funded ones, as the pool.
    assert summary.rejected == {
        ProposalReason.POOL_EXHAUSTED: 1,
        ProposalReason.NOT_SCORED: 1,
        ProposalReason.SKIPPED_PARTIAL_NOT_ALLOWED: 1,
    }
    with pytest.raises(ValidationError) as error:
        services.competition_decide(
            competition=case.competition,
            by=case.coordinator,
            default_reasons={ProposalReason.POOL_EXHAUSTED: "Ierindots zemāk."},
        )
    assert [e.code for e in error.value.error_list] == ["reason_required"]
    assert cesis.reference in error.value.messages[0]
    assert gulbene.reference in error.value.messages[0]
    assert valmiera.reference not in error.value.messages[0]
    services.decision_reasons_set(
        competition=case.competition,
        reasons={gulbene.pk: "Vērtējums nav pabeigts."},
        by=case.coordinator,
    )
    services.competition_decide(
        competition=case.competition,
        by=case.coordinator,
        default_reasons={
            ProposalReason.POOL_EXHAUSTED: "Ierindots zemāk.",
            ProposalReason.SKIPPED_PARTIAL_NOT_ALLOWED: "Daļējs finansējums nav atļauts.",
            ProposalReason.NOT_SCORED: "Nav vērtēts.",
        },
    )
    given = dict(case.competition.applications.values_list("pk", "decision_reason"))
    assert given[valmiera.pk] == "Ierindots zemāk."
    assert given[cesis.pk] == "Daļējs finansējums nav atļauts."
    assert given[gulbene.pk] == "Vērtējums nav pabeigts."


def test_reasons_are_saved_only_for_submitted_applications_of_an_undecided_call():
    case = build_source_case()
    draft = Application.objects.create(
        competition=case.competition,
        municipality=Municipality.objects.exclude(
            pk__in=[a.municipality_id for a in case.applications.values()]
        ).first(),
        status=Application.Status.DRAFT,
    )
    with pytest.raises(ValidationError) as error:
        services.decision_reasons_set(
            competition=case.competition, reasons={draft.pk: "x"}, by=case.coordinator
        )
    assert [e.code for e in error.value.error_list] == ["not_submitted"]
    other = build_source_case().applications["cesu-novads"]
    with pytest.raises(ValidationError):
        services.decision_reasons_set(
            competition=case.competition, reasons={other.pk: "x"}, by=case.coordinator
        )
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    services.competition_decide(competition=case.competition, by=case.coordinator)
    with pytest.raises(ValidationError) as error:
        services.decision_reasons_set(
            competition=case.competition,
            reasons={case.applications["cesu-novads"].pk: "Vēlāk"},
            by=case.coordinator,
        )
    assert [e.code for e in error.value.error_list] == ["already_decided"]
    assert Application.objects.get(pk=case.applications["cesu-novads"].pk).decision_reason != (
        "Vēlāk"
    )


# --- a call of 1 500 from end to end (PostgreSQL) ----------------------------------------------


@pytest.mark.postgres
def test_a_call_of_1500_is_allocated_and_decided_through_the_admin(signed_in):
    call = closed_call(1500, pool_amount=Decimal("1500000.00"), partial_awards_allowed=False)
    # A municipality cannot submit a request above the cap (the factory writes some).
    call.applications.filter(requested_amount__gt=call.max_award_amount).update(
        requested_amount=call.max_award_amount
    )
    unscored = list(call.applications.order_by("-pk").values_list("pk", flat=True)[:40])
    Application.objects.filter(pk__in=unscored).update(
        score_mean=None, score_min=None, score_max=None, review_count=0
    )
    posts = []

    def post(url, data):
        posts.append(len(data))
        response = signed_in.post(url, data)
        assert response.status_code == 302, messages_of(response)
        assert not [m for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
        return response

    page = signed_in.get(allocation_url(call))
    assert len(rows_of(page.text, "application")) == 100
    post(allocation_url(call), {**form_fields(page.text, "apply-proposal"), "apply_proposal": "1"})

    reasons_page = signed_in.get(decision_url(call, "?page=7"))
    reasons = form_fields(reasons_page.text, "decision-reasons")
    typed = rows_of(reasons_page.text, "decision")[5]
    post(
        decision_url(call, "?page=7"),
        {**reasons, f"reason-{typed}": "Izmaksas nav pamatotas.", "save_reasons": "1"},
    )
    final = form_fields(signed_in.get(decision_url(call)).text, "record-decision")
    kinds = [name for name in final if name.startswith("default-")]
    # Below the funded ones, with partial awards not allowed: skipped (the pool is not empty).
    assert set(kinds) == {"default-skipped", "default-not_scored"}
    post(
        decision_url(call),
        {**final, **{name: f"Noklusējums: {name}" for name in kinds}, "decide": "1"},
    )

    assert max(posts) < 1000, posts
    call.refresh_from_db()
    assert call.is_decided
    statuses = dict(call.applications.values_list("status").annotate(n=Count("pk")))
    awarded = call.applications.filter(status=Application.Status.AWARDED)
    assert set(statuses) == {Application.Status.AWARDED, Application.Status.REJECTED}
    assert sum(statuses.values()) == 1500
    totals = awarded.aggregate(total=Sum("awarded_amount"), highest=Max("awarded_amount"))
    assert totals["total"] <= call.pool_amount
    assert totals["highest"] <= call.max_award_amount
    assert not call.applications.filter(awarded_amount__gt=0, status="rejected").exists()
    given = dict(call.applications.values_list("pk", "decision_reason"))
    assert given[typed] == "Izmaksas nav pamatotas."
    assert {given[pk] for pk in unscored} == {"Noklusējums: default-not_scored"}
    assert not call.applications.filter(status="rejected", decision_reason="").exists()


# --- the whole-call acts write in bulk, the same rows as one save each --------------------------


def whole_call_acts(size: int, fixtures, queries: int) -> Competition:
    """Apply the proposal and record the decision of a closed call of ``size``, each within
    ``queries`` queries, with one municipality's staff to write to."""
    call = closed_call(size, pool_amount=Decimal(10**9), partial_awards_allowed=False)
    call.applications.filter(requested_amount__gt=call.max_award_amount).update(
        requested_amount=call.max_award_amount
    )
    first = call.applications.order_by("pk").first()
    first.municipality.staff.add(UserFactory(email="staff@example.lv"))
    by = coordinator()
    assert_max_num_queries = fixtures.getfixturevalue("django_assert_max_num_queries")
    with assert_max_num_queries(queries):
        services.allocation_apply_proposal(competition=call, by=by)
    # The mails go after the commit, out of the queries counted.
    capture = fixtures.getfixturevalue("django_capture_on_commit_callbacks")
    with capture(execute=True), assert_max_num_queries(queries):
        services.competition_decide(competition=call, by=by, rejection_reason="Nav naudas.")
    return call


@pytest.mark.postgres
@pytest.mark.parametrize("size", [30, 120])
def test_the_whole_call_acts_take_the_same_queries_whatever_the_size_of_the_call(size, request):
    # One save each would take several queries an application: 90 and 360 at these sizes.
    call = whole_call_acts(size, request, queries=40)
    assert call.applications.filter(status=Application.Status.AWARDED).count() == size


@pytest.mark.postgres
def test_the_whole_call_acts_write_each_applications_history_ledger_and_grant(request, mailoutbox):
    call = whole_call_acts(12, request, queries=40)
    call.refresh_from_db()
    assert call.is_decided
    for application in call.applications.all():
        history = list(application.history.order_by("history_date", "history_id"))
        applied, decided = history[-2:]
        assert applied.history_user.username == decided.history_user.username == "coordinator"
        assert (applied.history_type, applied.awarded_amount, applied.status) == (
            "~",
            application.requested_amount,
            Application.Status.SUBMITTED,
        )
        assert (decided.status, decided.decided_at) == ("awarded", call.decided_at)
        [event] = AllocationEvent.objects.filter(application=application)
        assert (event.amount_before, event.amount_after) == (0, application.requested_amount)
        assert event.reason.startswith("Piemērots sadalījuma priekšlikums (")
        grant = application.grant
        assert grant.opened_at == call.decided_at
        assert grant.history.get().history_user.username == "coordinator"
        version = grant.plan_versions.get()
        activities = list(application.activities.order_by("order", "id"))
        assert version.total == sum(activity.cost for activity in activities)
        assert [line.activity_id for line in version.lines.order_by("position")] == [
            activity.pk for activity in activities
        ]
        assert version.history.get().history_user.username == "coordinator"
    # The one municipality with staff is written to, once, after the commit.
    assert [message.to for message in mailoutbox] == [["staff@example.lv"]]
