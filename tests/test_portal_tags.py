"""The portal's template filters: the time left before a deadline, in Latvian and English; how
amounts are written."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import ngettext

from applications.models import ApplicationStatus
from competitions.formatting import format_money
from competitions.templatetags.portal import STATUS_BADGES, time_left
from grants.models import GrantStatus, PlanVersionStatus

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=ZoneInfo("Europe/Riga"))


def left(language: str, **delta) -> str:
    with translation.override(language):
        return time_left(NOW + timedelta(**delta), NOW)


@pytest.mark.parametrize(
    ("delta", "latvian", "english"),
    [
        ({"weeks": 4, "days": 1}, "vēl 4 nedēļas, 1 diena", "4 weeks, 1 day left"),
        ({"weeks": 1}, "vēl 1 nedēļa", "1 week left"),
        ({"weeks": 11, "days": 2}, "vēl 11 nedēļas, 2 dienas", "11 weeks, 2 days left"),
        ({"weeks": 21, "days": 6}, "vēl 21 nedēļa, 6 dienas", "21 weeks, 6 days left"),
        ({"days": 1, "hours": 3}, "vēl 1 diena, 3 stundas", "1 day, 3 hours left"),
        ({"days": 2}, "vēl 2 dienas", "2 days left"),
        ({"hours": 21, "minutes": 11}, "vēl 21 stunda, 11 minūtes", "21 hours, 11 minutes left"),
        ({"hours": 1, "minutes": 1}, "vēl 1 stunda, 1 minūte", "1 hour, 1 minute left"),
        ({"hours": 3, "minutes": 5}, "vēl 3 stundas, 5 minūtes", "3 hours, 5 minutes left"),
        ({"minutes": 10}, "vēl 10 minūtes", "10 minutes left"),
        ({"minutes": 31, "seconds": 59}, "vēl 31 minūte", "31 minutes left"),
        ({"seconds": 59}, "vēl mazāk nekā minūte", "less than a minute left"),
    ],
)
def test_time_left_is_written_with_the_right_plural_in_both_languages(delta, latvian, english):
    assert left("lv", **delta) == latvian
    assert left("en", **delta) == english


@pytest.mark.parametrize(
    ("count", "latvian"),
    [
        (1, "1 diena · 1 nedēļa · 1 stunda · 1 minūte"),
        (2, "2 dienas · 2 nedēļas · 2 stundas · 2 minūtes"),
        (4, "4 dienas · 4 nedēļas · 4 stundas · 4 minūtes"),
        (10, "10 dienas · 10 nedēļas · 10 stundas · 10 minūtes"),
        (11, "11 dienas · 11 nedēļas · 11 stundas · 11 minūtes"),
        (21, "21 diena · 21 nedēļa · 21 stunda · 21 minūte"),
        (22, "22 dienas · 22 nedēļas · 22 stundas · 22 minūtes"),
        (111, "111 dienas · 111 nedēļas · 111 stundas · 111 minūtes"),
    ],
)
def test_each_unit_takes_the_latvian_form_its_number_asks_for(count, latvian):
    # The catalogue's msgstr[0..2] follow its Plural-Forms header: 0 for 10, 11-19, 20...;
    # 1 for 1, 21, 31... (not 11); 2 for the rest.
    with translation.override("lv"):
        units = [
            ngettext("%(count)d day", "%(count)d days", count),
            ngettext("%(count)d week", "%(count)d weeks", count),
            ngettext("%(count)d hour", "%(count)d hours", count),
            ngettext("%(count)d minute", "%(count)d minutes", count),
        ]
    assert " · ".join(unit % {"count": count} for unit in units) == latvian


def test_at_most_two_adjacent_units_are_shown():
    # 2 weeks, 0 days, 5 hours: the hours are not worth a third unit, and no "0 days".
    assert left("lv", weeks=2, hours=5) == "vēl 2 nedēļas"
    assert left("en", days=3, hours=4, minutes=30) == "3 days, 4 hours left"


def test_a_deadline_that_has_passed_says_so_rather_than_zero_minutes():
    assert left("lv", seconds=0) == "termiņš ir beidzies"
    assert left("lv", days=-3) == "termiņš ir beidzies"
    assert left("en", minutes=-1) == "the deadline has passed"


def test_the_filter_in_a_template_takes_the_moment_to_count_from():
    template = Template("{% load portal %}{{ deadline|time_left:now }}")
    with translation.override("lv"):
        text = template.render(Context({"deadline": NOW + timedelta(days=29), "now": NOW}))
    assert text == "vēl 4 nedēļas, 1 diena"


def test_an_amount_is_written_with_no_break_spaces_so_it_never_breaks_across_lines():
    # "40 / 000,00 €" on two lines was the fault: the groups and the unit hold together.
    assert format_money(Decimal("40000")) == "40\u00a0000,00\u00a0€"
    assert format_money(Decimal("-1234567.5"), unit="EUR") == "-1\u00a0234\u00a0567,50\u00a0EUR"
    assert format_money(Decimal("9800"), unit="") == "9\u00a0800,00"
    rendered = Template("{% load portal %}{{ amount|money }}").render(
        Context({"amount": Decimal("9800")})
    )
    assert rendered == "9\u00a0800,00\u00a0€"


def test_latvian_number_format_groups_thousands_with_a_no_break_space():
    with translation.override("lv"):
        assert number_format(Decimal("40000.5"), 2, force_grouping=True) == "40\u00a0000,50"


@pytest.mark.parametrize("statuses", [ApplicationStatus, GrantStatus, PlanVersionStatus])
def test_each_status_has_a_badge_colour_of_its_own(statuses):
    colours = [STATUS_BADGES[status.value] for status in statuses]
    assert len(set(colours)) == len(colours)


def test_the_badge_writes_the_status_and_colours_it():
    rendered = Template(
        '{% load portal %}<span class="badge {{ status|status_badge }}">{{ name }}</span>'
    ).render(Context({"status": ApplicationStatus.REJECTED, "name": "noraidīts"}))
    assert rendered == '<span class="badge text-bg-danger">noraidīts</span>'


def test_english_writes_amounts_with_english_numbers_and_latvian_with_latvian():
    with translation.override("en"):
        assert format_money(Decimal("9000")) == "€9,000.00"
        assert format_money(Decimal("1234567.5"), unit="EUR") == "EUR\u00a01,234,567.50"
        assert format_money(Decimal("-400")) == "-€400.00"
    with translation.override("lv"):
        assert format_money(Decimal("9000")) == "9\u00a0000,00\u00a0€"
    assert format_money(Decimal("9000"), unit="", language="lv") == "9\u00a0000,00"
