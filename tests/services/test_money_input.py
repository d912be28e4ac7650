"""What the money door takes as an amount (``as_money``): a finite number of euros in whole
cents, up to the limit the database holds; anything else is refused by name, in Latvian and in
English, before any rule is asked and before anything is written."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from applications.models import AllocationEvent
from applications.services import allocation_set
from applications.services.common import as_money
from competitions.formatting import MONEY_LIMIT

from ..source_case import build_source_case
from .common import codes, text

CENT = Decimal("0.01")


def refused(amount, language):
    with translation.override(language), pytest.raises(ValidationError) as error:
        as_money(amount, field=translation.gettext("The awarded amount"))
    return error.value


def test_an_amount_in_cents_up_to_the_limit_is_taken_as_it_is():
    assert as_money("100.50", field="x") == Decimal("100.50")
    assert as_money(Decimal("-0.01"), field="x") == Decimal("-0.01")
    assert as_money(MONEY_LIMIT, field="x") == MONEY_LIMIT
    assert as_money(-MONEY_LIMIT, field="x") == -MONEY_LIMIT
    assert as_money(7, field="x") == Decimal("7.00")


@pytest.mark.parametrize("amount", [MONEY_LIMIT + CENT, -MONEY_LIMIT - CENT, "1e30", "-1e27"])
def test_an_amount_past_the_limit_is_refused_naming_the_limit(amount):
    error = refused(amount, "en")
    assert codes(error) == ["amount_too_large"]
    assert text(error) == "The awarded amount is too large: at most €9,999,999,999.99."
    error = refused(amount, "lv")
    assert (
        text(error)
        == "Piešķirtā summa ir pārāk liela: ne vairāk kā 9\xa0999\xa0999\xa0999,99\xa0€."
    )


@pytest.mark.parametrize("amount", ["100.005", "0.001", "abc", None, "", "NaN", "Infinity", "-inf"])
def test_anything_but_whole_cents_is_refused_as_no_amount(amount):
    error = refused(amount, "en")
    assert codes(error) == ["invalid_amount"]
    assert text(error) == (
        "The awarded amount must be an amount in euros with at most two decimal places."
    )
    error = refused(amount, "lv")
    assert (
        text(error) == "Piešķirtā summa jānorāda euro ar ne vairāk kā diviem cipariem aiz komata."
    )


@pytest.mark.django_db
def test_an_award_of_1e30_is_refused_by_the_door_and_writes_nothing():
    case = build_source_case()
    with pytest.raises(ValidationError) as error:
        allocation_set(
            application=case.applications["valkas-novads"],
            amount="1e30",
            by=case.coordinator,
            reason="Pamatots",
        )
    assert codes(error.value) == ["amount_too_large"]
    assert not AllocationEvent.objects.exists()
