"""A request for clarification in real Chromium: the coordinator asks Valmiera for a missing
document in the admin, Valmiera's staff see it on their dashboard and answer with a file, and
the coordinator reads the answer."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from conversations.models import Message

from .factories import PDF, coordinator, decided_grant, staff_of
from .test_browser_grants import log_in_admin, log_in_portal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_coordinator_asks_valmiera_for_a_document_and_reads_the_answer(
    live_server, page, browser, tmp_path
):
    grant = decided_grant(
        "valmieras-pilseta", requested=Decimal("9800.00"), awarded=Decimal("9800.00")
    )
    application = grant.application
    staff_of("valmieras-pilseta", "valmiera")
    coordinator("vpr")
    thread = reverse("admin:conversations_message_thread", args=[application.pk])
    due = timezone.localdate() + timedelta(days=5)

    # The coordinator asks, in the admin, with a due date.
    log_in_admin(page, live_server, "vpr", then=thread)
    page.fill("#id_body", "Lūdzu pievienojiet 2. aktivitātes rēķinu.")
    page.check("#id_is_request")
    page.fill("#id_due_on", due.isoformat())
    page.locator("#message-form input[type=submit]").click()
    expect(page.locator(".messagelist")).to_contain_text("Pieprasījums nosūtīts")
    expect(page.locator("#thread")).to_contain_text("Lūdzu pievienojiet 2. aktivitātes rēķinu.")
    expect(page.locator("#thread .request-open")).to_contain_text(due.strftime("%d.%m.%Y."))

    # Valmiera's staff see the request on their dashboard and answer it with the file.
    staff_page = browser.new_context().new_page()
    log_in_portal(staff_page, live_server, "valmiera")
    requests = staff_page.locator("#open-requests-list")
    expect(requests).to_contain_text("Lūdzu pievienojiet 2. aktivitātes rēķinu.")
    expect(requests).to_contain_text(due.strftime("%d.%m.%Y."))
    requests.get_by_role("link", name="Atbildēt").click()
    expect(
        staff_page.get_by_role("heading", name="Sarakste ar Vidzemes plānošanas reģionu")
    ).to_be_visible()
    invoice = tmp_path / "rekins-2.pdf"
    invoice.write_bytes(PDF)
    # The request is chosen already: the answer closes it.
    expect(staff_page.locator("#id_answer_to")).to_have_value(str(Message.objects.get().pk))
    staff_page.fill("#id_body", "Pievienojam 2. aktivitātes rēķinu.")
    staff_page.set_input_files("#id_files", str(invoice))
    staff_page.get_by_role("button", name="Nosūtīt").click()
    expect(staff_page.locator(".messages")).to_contain_text("Jūsu atbilde nosūtīta")
    expect(staff_page.locator("#thread")).to_contain_text("rekins-2.pdf")
    staff_page.goto(live_server.url + reverse("applications:dashboard"))
    expect(staff_page.locator("#open-requests-list")).to_have_count(0)

    # The coordinator sees the answer, with its file, and the request answered.
    page.goto(live_server.url + reverse("admin:index"))
    expect(page.locator("#unread-messages")).to_contain_text("1 neizlasīta ziņa no pašvaldībām")
    page.goto(live_server.url + thread)
    expect(page.locator("#thread")).to_contain_text("Pievienojam 2. aktivitātes rēķinu.")
    expect(page.locator("#thread .request-answered")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="rekins-2.pdf").click()
    assert download.value.suggested_filename == "rekins-2.pdf"
    page.screenshot(path=str(tmp_path / "coordinator.png"), full_page=True)
