"""Random input against the application form, saved and submitted, and the allocation edit:
a form error, a refusal, a save of what is valid or a success, never a 500, and never a
change that breaks a rule (a total that is not the sum of the activities, a half submission).

NUL characters are sent as they are: a browser's form post can carry them (``%00``), and
PostgreSQL refuses them in text, so a field that let one through would fail with a 500
there; Django's form fields refuse them with an error instead."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from applications import services
from applications.models import Application, NumberSequence, snapshot_digest
from competitions.forms import MoneyField

from .amounts import spaced
from .factories import CompetitionFactory, category, municipality, staff_of

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

amount_texts = st.one_of(
    st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=-(10**15), max_value=10**15).map(str),
    st.builds(
        lambda whole, cents, sep, group: (
            f"{whole:,}".replace(",", group) + (f"{sep}{cents:02d}" if cents is not None else "")
        ),
        st.integers(min_value=0, max_value=10**11),
        st.none() | st.integers(min_value=0, max_value=99),
        st.sampled_from([",", "."]),
        st.sampled_from([" ", "\u00a0", "", ".", ","]),
    ),
    st.text(max_size=20),
    st.sampled_from(
        [
            "",
            " ",
            "1e5",
            "0x10",
            "١٢٣",
            spaced("10 000,00 €"),
            "--5",
            "5-",
            "1,5,5",
            "NaN",
            "5\x00",
            "\x00",
        ]
    ),
)
# Any text, and often one with a NUL character inside.
texts = st.one_of(
    st.text(max_size=300),
    st.builds(lambda a, b: f"{a}\x00{b}", st.text(max_size=20), st.text(max_size=20)),
)


@pytest.fixture
def staff():
    return staff_of("smiltenes-novads")


def fresh_draft(user) -> Application:
    """A draft of its own call for each example: a submission that goes through would leave
    nothing to submit in the next."""
    return services.application_start(
        competition=CompetitionFactory(), municipality=municipality("smiltenes-novads"), by=user
    )


def snapshot(application) -> dict:
    application.refresh_from_db()
    return {
        "status": application.status,
        "reference": application.reference,
        "requested": application.requested_amount,
        "contact_name": application.contact_name,
        "contact_email": application.contact_email,
        "summary": application.summary,
        "activities": sorted(application.activities.values_list("title", "cost")),
        "numbers used": NumberSequence.objects.aggregate(used=Sum("last_value"))["used"] or 0,
    }


def post(client, draft, general: dict, rows: list[dict], action: str):
    data = {
        **general,
        "activities-TOTAL_FORMS": str(len(rows)),
        "activities-INITIAL_FORMS": "0",
        "activities-MIN_NUM_FORMS": "0",
        "activities-MAX_NUM_FORMS": "1000",
        "action": action,
    }
    for index, row in enumerate(rows):
        data.update({f"activities-{index}-{key}": value for key, value in row.items()})
    return client.post(reverse("applications:edit", kwargs={"pk": draft.pk}), data)


def readable(text: str) -> Decimal | None:
    try:
        return MoneyField().clean(text)
    except ValidationError:
        return None


def check_outcome(response, draft, before: dict, general: dict, rows: list[dict], action: str):
    """A refusal of the whole save changes nothing; a save in part keeps each field either as
    posted or as it was, and only activities posted with a readable title and cost, the total
    always their sum; a save, or a submission refused after it, leaves the draft as posted and
    still a draft with no reference used; a submission is whole."""
    assert response.status_code in (200, 302)
    after = snapshot(draft)
    edit = reverse("applications:edit", kwargs={"pk": draft.pk})
    receipt = reverse("applications:receipt", kwargs={"pk": draft.pk})
    if response.status_code == 302:
        assert response["Location"] in {edit, receipt}
        outcome = "saved" if response["Location"] == edit else "submitted"
    elif response.context.get("submit_refusal"):
        outcome = "saved, submission refused"  # the page of the saved draft, saying why
    elif response.context.get("saved_partly"):
        outcome = "saved in part"
    else:
        outcome = "form error"
    event(f"{action}: {outcome}")
    # Whatever was saved, a NUL character never reached the database.
    stored = [after["contact_name"], after["contact_email"], after["summary"]]
    assert not any("\x00" in value for value in stored + [t for t, _c in after["activities"]])
    posted_values = [*general.values(), *(value for row in rows for value in row.values())]
    if any("\x00" in value for value in posted_values):
        # Django's fields refuse a NUL character; it must never reach the database.
        event(f"{action}: NUL, {outcome}")
        assert outcome in {"form error", "saved in part"}, "a NUL character got past the form"
    if outcome == "form error":
        assert after == before, "a refused post changed the draft"
        return
    # The total is always the sum of the activities saved, in any outcome.
    assert after["requested"] == sum((cost for _title, cost in after["activities"]), Decimal(0))
    if outcome == "saved in part":
        for field in ("contact_name", "contact_email", "summary"):
            assert after[field] in {general.get(field, "").strip(), before[field]}
        posted = [(row["title"].strip(), readable(row["cost"])) for row in rows]
        for activity in after["activities"]:
            assert activity in posted, f"{activity} was never posted"
        assert after["status"] == Application.Status.DRAFT
        assert after["reference"] is None
        assert after["numbers used"] == before["numbers used"]
        return
    # What was saved is what was posted, read as the form reads it, and nothing else.
    posted = sorted((row["title"].strip(), MoneyField().clean(row["cost"])) for row in rows)
    assert after["activities"] == posted
    assert after["requested"] == sum((cost for _title, cost in posted), Decimal("0.00"))
    for field in ("contact_name", "contact_email", "summary"):
        assert after[field] == general.get(field, "").strip()
    if outcome == "submitted":
        assert after["requested"] <= draft.competition.max_award_amount
        assert action == "submit"
        assert after["status"] == Application.Status.SUBMITTED
        assert after["reference"].startswith("REM-")
        assert after["numbers used"] == before["numbers used"] + 1
        assert draft.snapshot_sha256 == snapshot_digest(draft.snapshot)
        assert draft.snapshot["requested_amount"] == str(after["requested"])
        return
    assert after["status"] == Application.Status.DRAFT
    assert after["reference"] is None, "a refused submission used a reference"
    assert after["numbers used"] == before["numbers used"]
    assert draft.snapshot is None
    assert draft.submitted_at is None
    if action == "submit":
        assert outcome == "saved, submission refused", "a refused submission must say why"


@FUZZ
@given(
    action=st.sampled_from(["save", "submit"]),
    costs=st.lists(amount_texts, max_size=4),
    titles=st.lists(texts, min_size=4, max_size=4),
    contact=texts,
    summary=texts,
    email=st.one_of(st.emails(), texts),
    starts=st.one_of(st.dates().map(str), texts),
)
def test_the_application_form_never_fails_and_never_half_saves(
    client, staff, action, costs, titles, contact, summary, email, starts
):
    """Anything in any field, saved or submitted."""
    client.force_login(staff)
    draft = fresh_draft(staff)
    before = snapshot(draft)
    general = {"contact_name": contact, "contact_email": email, "summary": summary}
    rows = [
        {"category": str(category().pk), "title": title, "cost": cost, "starts_on": starts}
        for title, cost in zip(titles, costs, strict=False)
    ]
    response = post(client, draft, general, rows, action)
    check_outcome(response, draft, before, general, rows, action)


COMPLETE = {
    "contact_name": "Ilze Bērziņa",
    "contact_email": "ilze@example.lv",
    "contact_phone": "+371 64700000",
    "goals": "Sekmēt remigrāciju.",
    "target_groups": "Diaspora un remigranti.",
    "summary": "Brošūra un vizītes.",
}


def complete_activity(number: int) -> dict:
    today = timezone.localdate()
    return {
        "title": f"Aktivitāte {number}",
        "description": "Apraksts",
        "starts_on": str(today + timedelta(days=30)),
        "ends_on": str(today + timedelta(days=200)),
        "target_group": "Remigranti",
        "expected_result": "Rezultāts",
        "cost": "3 000",
    }


ACTIVITY_FIELDS = [*complete_activity(1), "category"]


@FUZZ
@given(
    general_damage=st.dictionaries(
        st.sampled_from(list(COMPLETE)), st.one_of(texts, st.just("")), max_size=2
    ),
    rows_damage=st.lists(
        st.dictionaries(
            st.sampled_from(ACTIVITY_FIELDS),
            st.one_of(texts, amount_texts, st.just("")),
            max_size=2,
        ),
        max_size=4,
    ),
)
def test_submitting_a_complete_application_with_random_damage_never_half_submits(
    client, staff, general_damage, rows_damage
):
    """A submittable application with a few fields (or none) replaced by anything: the
    submission goes through whole, or is refused on the page or after the save with the
    draft kept, its reference never used; no activities at all, or over the cap, refuses."""
    client.force_login(staff)
    draft = fresh_draft(staff)
    before = snapshot(draft)
    general = {**COMPLETE, **general_damage}
    rows = [
        {"category": str(category().pk), **complete_activity(number), **damage}
        for number, damage in enumerate(rows_damage, start=1)
    ]
    response = post(client, draft, general, rows, "submit")
    check_outcome(response, draft, before, general, rows, "submit")
    if not general_damage and rows and not any(rows_damage) and len(rows) <= 3:
        assert response["Location"] == reverse("applications:receipt", kwargs={"pk": draft.pk})


@FUZZ
@given(text=amount_texts)
def test_the_money_field_either_reads_an_amount_or_says_why(text):
    field = MoneyField(required=False)
    try:
        value = field.clean(text)
    except ValidationError as error:
        refused = error.code
    else:
        refused = None
        assert value is None or (Decimal("0.01") <= value <= Decimal("9999999999.99"))
        assert value is None or value == value.quantize(Decimal("0.01"))
    # Anything other than a ValidationError escapes the try and fails the test.
    assert refused in {None, "invalid", "negative", "too_large"}


@pytest.fixture
def allocation():
    from .source_case import build_source_case

    case = build_source_case()
    return case


@FUZZ
@given(amount=amount_texts, reason=texts)
def test_the_allocation_edit_never_fails_and_never_half_saves(client, allocation, amount, reason):
    from applications.models import AllocationEvent

    client.force_login(allocation.coordinator)
    cesis = allocation.applications["cesu-novads"]
    before = (
        AllocationEvent.objects.count(),
        Application.objects.aggregate(total=Sum("awarded_amount"))["total"],
        Application.objects.get(pk=cesis.pk).awarded_amount,
    )
    response = client.post(
        reverse("admin:competitions_competition_allocation", args=[allocation.competition.pk]),
        {"application": cesis.pk, "amount": amount, "reason": reason},
    )
    assert response.status_code in (200, 302)
    events, total, awarded = (
        AllocationEvent.objects.count(),
        Application.objects.aggregate(total=Sum("awarded_amount"))["total"],
        Application.objects.get(pk=cesis.pk).awarded_amount,
    )
    assert total <= allocation.competition.pool_amount
    assert awarded <= min(cesis.requested_amount, allocation.competition.max_award_amount)
    if response.status_code == 200:
        assert (events, total, awarded) == before, "a refused change wrote something"
    else:
        assert "\x00" not in amount + reason
        assert awarded == MoneyField(min_value=Decimal("0")).clean(amount)
        assert events == before[0] + (awarded != before[2])
        if awarded != before[2]:
            assert AllocationEvent.objects.order_by("-pk").first().reason == reason.strip()
