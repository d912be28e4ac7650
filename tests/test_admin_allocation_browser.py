"""One walk through the allocation screen in Chromium, as the VPR coordinator does it on the
source case: read the proposal, apply it, adjust one amount, have an edit over the pool
refused, and see the figures follow another coordinator's change."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import expect

from applications import services
from applications.models import AllocationEvent, Application

from .amounts import spaced
from .source_case import build_source_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's


def edit(row, amount: str, reason: str, *, preview: str) -> None:
    """Type an amount into a row, check what the screen says would remain, and save."""
    row.locator("input[name=amount]").fill(amount)
    expect(row.locator(".preview")).to_have_text(preview)
    row.locator("input[name=reason]").fill(reason)
    row.get_by_role("button", name="Saglabāt").click()


def test_a_coordinator_allocates_the_pool_of_the_source_case(live_server, page):
    case = build_source_case()
    valka = case.applications["valkas-novads"]
    cesis = case.applications["cesu-novads"]
    allocation = reverse("admin:competitions_competition_allocation", args=[case.competition.pk])

    page.goto(f"{live_server.url}{reverse('admin:login')}?next={allocation}")
    page.fill("#id_username", case.coordinator.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")

    figure = page.locator("#pool-state [data-figure]")
    expect(figure).to_have_text(
        [spaced("40 000,00 €"), spaced("0,00 €"), spaced("40 000,00 €"), spaced("10 000,00 €")]
    )
    rows = page.locator("#allocation-table tbody tr")
    expect(rows).to_have_count(5)
    expect(page.locator('#allocation-table [data-column="proposal"]')).to_have_text(
        [
            spaced("10 000,00 €"),
            spaced("10 000,00 €"),
            spaced("9 800,00 €"),
            spaced("6 200,00 €"),
            spaced("4 000,00 €"),
        ]
    )
    expect(page.locator('#allocation-table [data-column="why"]').last).to_contain_text(
        "daļēji: kopējais finansējums ir izsmelts"
    )

    page.get_by_role("button", name="Piemērot priekšlikumu").click()
    expect(page.locator(".messagelist .success")).to_contain_text("Priekšlikums piemērots")
    expect(figure).to_have_text(
        [spaced("40 000,00 €"), spaced("40 000,00 €"), spaced("0,00 €"), spaced("10 000,00 €")]
    )
    expect(page.locator('#allocation-table [data-column="awarded"]')).to_have_text(
        [
            spaced("10 000,00 €"),
            spaced("10 000,00 €"),
            spaced("9 800,00 €"),
            spaced("6 200,00 €"),
            spaced("4 000,00 €"),
        ]
    )
    expect(page.locator("#ledger tbody tr")).to_have_count(5)

    # Lower Valka's award: the screen shows what would remain before it is saved.
    edit(
        page.locator(f"#application-{valka.pk}"),
        spaced("9 000,00"),
        "Precizētas izmaksas",
        preview=spaced("Kopējā finansējuma atlikums pēc šīs izmaiņas: 1 000,00 €"),
    )
    expect(page.locator(".messagelist .success")).to_contain_text(
        spaced("10 000,00 € → 9 000,00 €")
    )
    expect(figure.nth(2)).to_have_text(spaced("1 000,00 €"))

    # Cēsis cannot take 5 500: the pool would be over by 500. Refused, amounts named.
    edit(
        page.locator(f"#application-{cesis.pk}"),
        "5 500",
        "Mēģinājums",
        preview=spaced("Kopējais finansējums tiktu pārsniegts par 500,00 €."),
    )
    error = page.locator(".messagelist .error")
    for amount in [
        spaced("5 500,00 €"),
        spaced("40 000,00 €"),
        spaced("35 000,00 €"),
        spaced("5 000,00 €"),
        spaced("500,00 €"),
    ]:
        expect(error).to_contain_text(amount)
    expect(figure.nth(2)).to_have_text(spaced("1 000,00 €"))
    expect(page.locator(f"#application-{cesis.pk} [data-column=awarded]")).to_have_text(
        spaced("4 000,00 €")
    )
    expect(page.locator(f"#application-{cesis.pk} input[name=amount]")).to_have_value("5 500")
    assert Application.objects.get(pk=cesis.pk).awarded_amount == Decimal("4000.00")
    assert AllocationEvent.objects.count() == 6

    # Another coordinator gives Cēsis the last 1 000: the figures follow, and the page says
    # that its amounts are out of date.
    services.allocation_set(
        application=cesis, amount=Decimal("5000"), by=case.coordinator, reason="Otrs koordinators"
    )
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(figure.nth(2)).to_have_text(spaced("0,00 €"))
    expect(page.locator("#stale-notice")).to_be_visible()


def test_the_live_preview_writes_amounts_as_the_admin_s_language_does(live_server, page):
    case = build_source_case()
    valka = case.applications["valkas-novads"]
    allocation = reverse("admin:competitions_competition_allocation", args=[case.competition.pk])
    page.goto(f"{live_server.url}{reverse('admin:login')}?next={allocation}")
    page.fill("#id_username", case.coordinator.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state()
    row = page.locator(f"#application-{valka.pk}")

    row.locator("input[name=amount]").fill("1500")
    expect(row.locator(".preview")).to_have_text(
        spaced("Kopējā finansējuma atlikums pēc šīs izmaiņas: 38 500,00 €")
    )

    with translation.override("en"):
        english = reverse("admin:competitions_competition_allocation", args=[case.competition.pk])
    assert english.startswith("/en/")
    page.goto(live_server.url + english)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.wait_for_load_state()
    row.locator("input[name=amount]").fill("1500")
    preview = row.locator(".preview")
    expect(preview).to_contain_text("€38,500.00")
    row.locator("input[name=amount]").fill("45000")
    expect(preview).to_contain_text("€5,000.00")
