"""Random input against the application form: a form error or a success, never a 500, and
never a half-saved draft."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from applications import services
from applications.forms import MoneyField

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
    st.sampled_from(["", " ", "1e5", "0x10", "١٢٣", "10 000,00 €", "--5", "5-", "1,5,5", "NaN"]),
)
texts = st.text(max_size=300)


@pytest.fixture
def setting():
    call = CompetitionFactory()
    user = staff_of("smiltenes-novads")
    draft = services.application_start(
        competition=call, municipality=municipality("smiltenes-novads"), by=user
    )
    return user, draft


def snapshot(application):
    application.refresh_from_db()
    return (
        application.requested_amount,
        application.contact_name,
        application.summary,
        sorted(application.activities.values_list("title", "cost")),
    )


@FUZZ
@given(
    costs=st.lists(amount_texts, max_size=4),
    titles=st.lists(texts, min_size=4, max_size=4),
    contact=texts,
    summary=texts,
    email=st.one_of(st.emails(), texts),
    starts=st.one_of(st.dates().map(str), texts),
)
def test_the_application_form_never_fails_and_never_half_saves(
    client, setting, costs, titles, contact, summary, email, starts
):
    user, draft = setting
    client.force_login(user)
    before = snapshot(draft)
    data = {
        "contact_name": contact,
        "contact_email": email,
        "summary": summary,
        "activities-TOTAL_FORMS": str(len(costs)),
        "activities-INITIAL_FORMS": "0",
        "activities-MIN_NUM_FORMS": "0",
        "activities-MAX_NUM_FORMS": "1000",
        "action": "save",
    }
    for index, cost in enumerate(costs):
        prefix = f"activities-{index}-"
        data.update(
            {
                prefix + "category": str(category().pk),
                prefix + "title": titles[index],
                prefix + "cost": cost,
                prefix + "starts_on": starts,
            }
        )
    # Text fields cannot carry NUL characters in a form post from a browser either.
    data = {key: value.replace("\x00", "") for key, value in data.items()}
    response = client.post(reverse("applications:edit", kwargs={"pk": draft.pk}), data)

    assert response.status_code in (200, 302)
    after = snapshot(draft)
    if response.status_code == 200:
        assert after == before, "a refused save changed the draft"
    else:
        parsed = [MoneyField().clean(cost) for cost in costs if cost.strip()]
        assert after[0] == sum(parsed, Decimal("0.00"))
        assert after[0] <= draft.competition.max_award_amount


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
    from django.db.models import Sum

    from applications.models import AllocationEvent, Application

    client.force_login(allocation.coordinator)
    cesis = allocation.applications["cesu-novads"]
    before = (
        AllocationEvent.objects.count(),
        Application.objects.aggregate(total=Sum("awarded_amount"))["total"],
        Application.objects.get(pk=cesis.pk).awarded_amount,
    )
    response = client.post(
        reverse("admin:competitions_competition_allocation", args=[allocation.competition.pk]),
        {
            "application": cesis.pk,
            "amount": amount.replace("\x00", ""),
            "reason": reason.replace("\x00", ""),
        },
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
        assert awarded == MoneyField(min_value=Decimal("0")).clean(amount.replace("\x00", ""))
        assert events == before[0] + (awarded != before[2])
