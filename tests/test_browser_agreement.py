"""Cēsis's signatory accepts the grant agreement in real Chromium and downloads it."""

import hashlib
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from .amounts import spaced
from .test_agreements import cesis, pdf_text  # noqa: F401 - cesis is the fixture
from .test_browser_application import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_signatory_accepts_the_agreement_and_downloads_it(live_server, page, cesis):  # noqa: F811
    grant, agreement, signatory = cesis
    log_in(page, live_server, signatory.username)

    page.goto(live_server.url + reverse("grants:agreement", args=[grant.pk]))
    expect(page.get_by_role("heading", level=1)).to_have_text("Finansējuma līgums")
    expect(page.locator("#agreement-sha256")).to_have_text(agreement.sha256)
    expect(page.locator("#agreed-total")).to_have_text(spaced("4 000,00 €"))

    # The confirmation names the person, the agreement and the exact PDF.
    page.locator("#accept-agreement").click()
    expect(page.locator("#confirm-number")).to_have_text(agreement.number)
    expect(page.locator("#confirm-sha256")).to_have_text(agreement.sha256)
    expect(page.get_by_text("Es, Dace Zariņa,")).to_be_visible()
    page.locator("#accept-form").get_by_role("button", name="Pieņemt līgumu").click()

    expect(page.get_by_role("alert").filter(has_text=agreement.number)).to_be_visible()
    expect(page.locator(f"#accepted-{agreement.pk}")).to_contain_text("Dace Zariņa")
    expect(page.locator("#awaiting-countersignature")).to_be_visible()
    agreement.refresh_from_db()
    assert agreement.accepted_by == signatory
    assert agreement.accepted_sha256 == agreement.sha256
    assert agreement.accepted_from == "127.0.0.1"

    # The downloaded PDF is the agreement accepted, and reads as one.
    with page.expect_download() as info:
        page.locator("#download-agreement").click()
    pdf = Path(info.value.path()).read_bytes()
    assert hashlib.sha256(pdf).hexdigest() == agreement.sha256
    text = pdf_text(pdf)
    for line in agreement.plan_version.lines.all():
        assert line.title in text
    assert spaced("4 000,00 EUR (četri tūkstoši euro, nulle centu)") in text
    assert spaced("Avanss (50 % no Finansējuma) 2 000,00 EUR") in text
    assert spaced("Noslēguma maksājums 2 000,00 EUR") in text
