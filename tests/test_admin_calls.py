"""Calls in the admin, as a coordinator edits them: criteria inline with weights, eligible
municipalities, categories and reviewers; publishing; inconsistent values refused; the pool and
cap of an existing call changed only through competition_set_limits."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from applications import services
from competitions.admin import CompetitionAdmin
from competitions.models import ActivityCategory, Competition, Municipality

from .amounts import spaced
from .factories import CompetitionFactory, UserFactory, coordinator, reviewer
from .source_case import build_source_case

pytestmark = pytest.mark.django_db

ADD = "admin:competitions_competition_add"


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def call_form(competition=None, **overrides) -> dict:
    """What the call's admin form posts, with its criteria inline."""
    opens = timezone.localtime() + timedelta(days=1)
    closes = opens + timedelta(days=30)
    data = {
        "title_lv": "Remigrācijas sekmēšanas pakalpojumi pašvaldībās 2020",
        "title_en": "Remigration promotion services in municipalities 2020",
        "slug": "remigration-2020",
        "organiser_lv": "Vidzemes plānošanas reģions",
        "organiser_en": "Vidzeme Planning Region",
        "organiser_details": "Jāņa Poruka iela 8-108, Cēsis, LV-4101",
        "description_lv": "Atbalsts pašvaldībām.",
        "description_en": "",
        "opens_at_0": opens.strftime("%d.%m.%Y."),
        "opens_at_1": "09:00",
        "closes_at_0": closes.strftime("%d.%m.%Y."),
        "closes_at_1": "17:00",
        "results_expected_on": "",
        "pool_amount": spaced("40 000,00"),
        "max_award_amount": "10 000",
        "partial_awards_allowed": "on",
        "eligible_municipalities": list(Municipality.objects.values_list("pk", flat=True)),
        "categories": list(ActivityCategory.objects.values_list("pk", flat=True)),
        "reviewers": [],
        "signatory_name": "Guntis Gailītis",
        "signatory_position": "Administrācijas vadītājs",
        "objection_period_months": "1",
        "implementation_ends_on": "",
        "report_due_on": "",
        "interim_report_due_on": "",
        "advance_share": "50",
        "cost_tolerance": "10",
        "criteria-TOTAL_FORMS": "0",
        "criteria-INITIAL_FORMS": "0",
        "criteria-MIN_NUM_FORMS": "0",
        "criteria-MAX_NUM_FORMS": "1000",
        "_save": "Saglabāt",
    }
    if competition is not None:
        criteria = list(competition.criteria.all())
        opens = timezone.localtime(competition.opens_at)
        closes = timezone.localtime(competition.closes_at)
        data.update(
            {
                "title_lv": competition.title_lv,
                "title_en": competition.title_en,
                "slug": competition.slug,
                "opens_at_0": opens.strftime("%d.%m.%Y."),
                "opens_at_1": opens.strftime("%H:%M:%S"),
                "closes_at_0": closes.strftime("%d.%m.%Y."),
                "closes_at_1": closes.strftime("%H:%M:%S"),
                "pool_amount": str(competition.pool_amount),
                "max_award_amount": str(competition.max_award_amount),
                "reviewers": list(competition.reviewers.values_list("pk", flat=True)),
                "criteria-TOTAL_FORMS": str(len(criteria)),
                "criteria-INITIAL_FORMS": str(len(criteria)),
            }
        )
        for index, criterion in enumerate(criteria):
            data.update(
                criterion_row(index, criterion.name_lv, criterion.max_points, criterion.weight)
            )
            data[f"criteria-{index}-id"] = criterion.pk
            data[f"criteria-{index}-competition"] = competition.pk
    data.update(overrides)
    return data


def criterion_row(index, name, max_points, weight) -> dict:
    return {
        f"criteria-{index}-order": index + 1,
        f"criteria-{index}-name_lv": name,
        f"criteria-{index}-name_en": "",
        f"criteria-{index}-description_lv": f"{name}: apraksts",
        f"criteria-{index}-description_en": "",
        f"criteria-{index}-max_points": max_points,
        f"criteria-{index}-weight": weight,
    }


def with_criteria(data, *rows) -> dict:
    for index, (name, max_points, weight) in enumerate(rows):
        data.update(criterion_row(index, name, max_points, weight))
    data["criteria-TOTAL_FORMS"] = str(len(rows))
    return data


@pytest.fixture
def person(client):
    user = coordinator()
    client.force_login(user)
    return user


def test_a_coordinator_creates_a_call_with_weighted_criteria_and_its_people(person, client):
    first, second = reviewer("reviewer1"), reviewer("reviewer2")
    data = with_criteria(
        call_form(reviewers=[first.pk, second.pk]),
        ("Atbilstība mērķiem", 10, "0.50"),
        ("Izmaksu pamatotība", 10, "0.30"),
        ("Ietekme", 5, "0.20"),
    )
    response = client.post(reverse(ADD), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    call = Competition.objects.get(slug="remigration-2020")
    assert (call.pool_amount, call.max_award_amount) == (Decimal("40000.00"), Decimal("10000.00"))
    assert call.status == Competition.Status.DRAFT
    assert [(c.name_lv, c.max_points, c.weight) for c in call.criteria.all()] == [
        ("Atbilstība mērķiem", 10, Decimal("0.50")),
        ("Izmaksu pamatotība", 10, Decimal("0.30")),
        ("Ietekme", 5, Decimal("0.20")),
    ]
    assert call.eligible_municipalities.count() == 26
    assert call.categories.count() == 5
    assert set(call.reviewers.all()) == {first, second}
    assert call.history.latest().history_user == person


def test_a_cap_above_the_pool_is_refused_naming_both_amounts_and_nothing_is_created(person, client):
    response = client.post(
        reverse(ADD), call_form(pool_amount="40 000", max_award_amount=spaced("50 000,00"))
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["max_award_amount"] == [
        spaced(
            "Maksimālais finansējums (50 000,00 €) nedrīkst pārsniegt kopējo finansējumu (40 000,00 €)."
        )
    ]
    assert not Competition.objects.exists()


def test_closing_before_opening_is_refused_and_nothing_is_created(person, client):
    data = call_form()
    data["closes_at_0"], data["closes_at_1"] = data["opens_at_0"], "08:00"
    response = client.post(reverse(ADD), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["closes_at"] == [
        "Pieteikšanās beigām jābūt vēlākām par tās sākumu."
    ]
    assert not Competition.objects.exists()


def test_the_reviewers_to_pick_are_members_of_the_reviewers_group(person, client):
    picked = reviewer("reviewer1")
    UserFactory(username="someone-else", is_staff=True)
    response = client.get(reverse(ADD))
    choices = response.context["adminform"].form.fields["reviewers"].queryset
    assert list(choices) == [picked]


def test_lowering_the_pool_below_what_is_allocated_is_refused_and_nothing_changes(client):
    case = build_source_case()
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    client.force_login(case.coordinator)
    url = reverse("admin:competitions_competition_change", args=[case.competition.pk])
    response = client.post(
        url, call_form(case.competition, pool_amount="30 000", title_lv="Jauns nosaukums")
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    (message,) = errors["pool_amount"]
    for amount in [spaced("30 000,00 €"), spaced("40 000,00 €"), spaced("10 000,00 €")]:
        assert amount in message
    case.competition.refresh_from_db()
    assert case.competition.pool_amount == Decimal("40000.00")
    assert case.competition.title_lv != "Jauns nosaukums"

    response = client.post(url, call_form(case.competition, max_award_amount="9 000"))
    assert spaced("9 000,00 €") in response.context["adminform"].form.errors["max_award_amount"][0]
    response = client.post(url, {**call_form(case.competition), "partial_awards_allowed": ""})
    assert response.context["adminform"].form.errors["partial_awards_allowed"]
    case.competition.refresh_from_db()
    assert case.competition.partial_awards_allowed


def test_raising_the_pool_goes_through_the_service_with_the_rest_of_the_form(client):
    case = build_source_case()
    client.force_login(case.coordinator)
    url = reverse("admin:competitions_competition_change", args=[case.competition.pk])
    response = client.post(
        url,
        call_form(case.competition, pool_amount=spaced("50 000,00"), title_lv="Jauns nosaukums"),
    )
    assert response.status_code == 302
    case.competition.refresh_from_db()
    assert case.competition.pool_amount == Decimal("50000.00")
    assert case.competition.title_lv == "Jauns nosaukums"
    changes = list(case.competition.history.order_by("history_date"))[-2:]
    assert {record.history_user for record in changes} == {case.coordinator}


def test_an_edit_saved_while_another_coordinator_decides_keeps_the_decision(client, monkeypatch):
    """The change form read the call before the decision was recorded; saving the form must
    not write back the status, dates or allocation of that stale copy."""
    case = build_source_case()
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    client.force_login(case.coordinator)
    url = reverse("admin:competitions_competition_change", args=[case.competition.pk])
    data = call_form(case.competition, title_lv="Labots nosaukums")
    original_save_form = CompetitionAdmin.save_form

    def someone_decides_meanwhile(self, request, form, change):
        # The form and its call were read; the other coordinator's decision commits now.
        services.competition_decide(
            competition=case.competition, by=case.coordinator, rejection_reason="Nav līdzekļu."
        )
        return original_save_form(self, request, form, change)

    monkeypatch.setattr(CompetitionAdmin, "save_form", someone_decides_meanwhile)
    response = client.post(url, data)
    assert response.status_code == 302
    case.competition.refresh_from_db()
    assert case.competition.title_lv == "Labots nosaukums"
    assert case.competition.status == Competition.Status.DECIDED
    assert case.competition.decided_at is not None


def test_the_status_cannot_be_set_in_the_form(person, client):
    call = CompetitionFactory(status=Competition.Status.DRAFT)
    url = reverse("admin:competitions_competition_change", args=[call.pk])
    client.post(url, call_form(call, status="decided"))
    call.refresh_from_db()
    assert call.status == Competition.Status.DRAFT


def test_publishing_from_the_admin_names_what_is_missing_then_publishes(person, client):
    call = CompetitionFactory(status=Competition.Status.DRAFT)
    changelist = reverse("admin:competitions_competition_changelist")
    page = client.get(reverse("admin:competitions_competition_change", args=[call.pk]))
    assert 'value="publish"' in page.text  # the button on the call's page

    response = client.post(
        changelist, {"action": "publish", "index": 0, "_selected_action": call.pk}, follow=True
    )
    assert any("vērtētāji" in text for text in messages_of(response))
    call.refresh_from_db()
    assert call.status == Competition.Status.DRAFT

    call.reviewers.add(reviewer())
    response = client.post(
        changelist, {"action": "publish", "index": 0, "_selected_action": call.pk}, follow=True
    )
    assert any("ir izsludināts" in text for text in messages_of(response))
    call.refresh_from_db()
    assert call.status == Competition.Status.PUBLISHED


def test_criteria_are_locked_once_points_are_given(client):
    case = build_source_case()
    client.force_login(case.coordinator)
    url = reverse("admin:competitions_competition_change", args=[case.competition.pk])
    formset = client.get(url).context["inline_admin_formsets"][0]
    assert not formset.has_add_permission
    assert not formset.has_delete_permission
    assert set(formset.readonly_fields) == {"max_points", "weight"}

    data = call_form(
        case.competition, **{"criteria-0-weight": "5.00", "criteria-0-name_lv": "Jauns"}
    )
    assert client.post(url, data).status_code == 302
    first = case.competition.criteria.first()
    assert first.name_lv == "Jauns"  # the wording may still be corrected
    assert first.weight == Decimal("0.50")


def test_criteria_of_an_unscored_call_can_be_changed(person, client):
    call = CompetitionFactory(status=Competition.Status.DRAFT)
    url = reverse("admin:competitions_competition_change", args=[call.pk])
    assert client.post(url, call_form(call, **{"criteria-0-weight": "0.70"})).status_code == 302
    assert call.criteria.first().weight == Decimal("0.70")


def test_reviewers_see_their_calls_read_only(client):
    case = build_source_case()
    client.force_login(case.reviewers[0])
    url = reverse("admin:competitions_competition_change", args=[case.competition.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Saglabāt" not in page.text or 'name="_save"' not in page.text
    assert client.post(url, call_form(case.competition, title_lv="X")).status_code == 403
    assert client.get(reverse(ADD)).status_code == 403
    listed = client.get(reverse("admin:competitions_competition_changelist")).text
    assert "Finansējuma sadale" not in listed


# --- the grants' settings of a call -----------------------------------------------------------


def after_deadline(days: int) -> str:
    """A date ``days`` after the deadline of ``call_form()``'s call, as the form takes it."""
    return (timezone.localtime() + timedelta(days=31 + days)).strftime("%d.%m.%Y.")


def test_the_grants_settings_are_saved_by_a_coordinator_with_their_help(person, client):
    page = client.get(reverse(ADD)).text
    assert "Granti: līgums, maksājumi un pārskati" in page
    assert "pēc pieteikšanās beigām" in page  # the help text of the end of implementation
    data = call_form(
        implementation_ends_on=after_deadline(300),
        interim_report_due_on=after_deadline(150),
        report_due_on=after_deadline(330),
        advance_share="40",
        cost_tolerance="15",
    )
    response = client.post(reverse(ADD), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    call = Competition.objects.get(slug="remigration-2020")
    assert (call.advance_share, call.cost_tolerance) == (Decimal("40"), Decimal("15"))
    assert call.interim_report_due_on.strftime("%d.%m.%Y.") == after_deadline(150)


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"advance_share": "120"}, "advance_share", "100"),
        ({"advance_share": "-1"}, "advance_share", "0"),
        ({"implementation_ends_on": after_deadline(0)}, "implementation_ends_on", "beigām"),
        (
            {"implementation_ends_on": after_deadline(300), "report_due_on": after_deadline(299)},
            "report_due_on",
            after_deadline(300).rstrip("."),
        ),
        (
            {
                "implementation_ends_on": after_deadline(300),
                "interim_report_due_on": after_deadline(300),
            },
            "interim_report_due_on",
            after_deadline(300).rstrip("."),
        ),
        ({"interim_report_due_on": after_deadline(-5)}, "interim_report_due_on", "beigām"),
        ({"report_due_on": after_deadline(0)}, "report_due_on", "beigām"),
    ],
)
def test_grants_settings_out_of_order_or_range_are_refused_on_their_field(
    person, client, overrides, field, words
):
    response = client.post(reverse(ADD), call_form(**overrides))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    assert words in errors[field][0]
    assert not Competition.objects.exists()


def deadline_fields(moment) -> dict:
    moment = timezone.localtime(moment)
    return {"closes_at_0": moment.strftime("%d.%m.%Y."), "closes_at_1": moment.strftime("%H:%M")}


def test_moving_the_deadline_earlier_while_drafts_exist_asks_to_confirm_naming_them(client):
    case = build_source_case(close=False)
    Application = case.applications["cesu-novads"].__class__
    Application.objects.filter(pk=case.applications["cesu-novads"].pk).update(
        status=Application.Status.DRAFT
    )
    client.force_login(case.coordinator)
    url = reverse("admin:competitions_competition_change", args=[case.competition.pk])
    before = case.competition.closes_at
    earlier = before - timedelta(days=1)
    response = client.post(url, call_form(case.competition, **deadline_fields(earlier)))
    assert response.status_code == 200
    (message,) = response.context["adminform"].form.errors["closes_at"]
    assert "Cēsu novads" in message
    assert "Smiltenes novads" not in message
    assert 'name="confirm_deadline"' in response.text
    case.competition.refresh_from_db()
    assert case.competition.closes_at == before

    confirmed = {
        **call_form(case.competition, **deadline_fields(earlier)),
        "confirm_deadline": "on",
    }
    assert client.post(url, confirmed).status_code == 302
    case.competition.refresh_from_db()
    assert case.competition.closes_at < before


def test_moving_the_deadline_into_the_past_asks_to_confirm_even_without_drafts(client):
    case = build_source_case(close=False)
    client.force_login(case.coordinator)
    url = reverse("admin:competitions_competition_change", args=[case.competition.pk])
    past = timezone.now() - timedelta(hours=1)
    response = client.post(url, call_form(case.competition, **deadline_fields(past)))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["closes_at"]
    # Moving it later, or keeping it, asks nothing.
    later = case.competition.closes_at + timedelta(days=2)
    assert (
        client.post(url, call_form(case.competition, **deadline_fields(later))).status_code == 302
    )
