"""A grant reported on, paid and closed, in real Chromium: Gulbene's staff file the final
report with an invoice, the coordinator returns a line, the staff fix it and submit again, the
coordinator accepts, records the final payment and closes the grant; the public results page
then shows what Gulbene spent."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from grants import settlement
from grants.models import Grant, Report

from .amounts import spaced
from .factories import PDF, coordinator, grant_in_progress
from .test_browser_grants import log_in_admin, log_in_portal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_gulbene_reports_is_returned_a_line_fixes_it_and_the_grant_is_paid_and_closed(
    live_server, page, browser, tmp_path
):
    vpr = coordinator("vpr")
    grant = grant_in_progress("gulbenes-novads", amount=Decimal("6200.00"), by=vpr)
    settlement.payment_record(
        grant=grant,
        by=vpr,
        kind="advance",
        amount=Decimal("3100.00"),
        paid_on=date(2026, 10, 15),
        reference="MU-2026-101",
    )
    first, second = settlement.approved_plan(grant).lines.order_by("position")
    invoice = tmp_path / "rekins-tipografija.pdf"
    invoice.write_bytes(PDF)

    # Staff open the final report from the grant's page and fill in each line of the plan.
    log_in_portal(page, live_server, "gulbenes-novads-staff")
    page.goto(live_server.url + grant.get_absolute_url())
    expect(page.locator("#payment-figures")).to_contain_text(spaced("3 100,00 €"))
    page.locator("#report-final").click()
    expect(page.get_by_role("heading", name="Noslēguma pārskats")).to_be_visible()
    page.fill(f"#id_line-{first.pk}-done", "Izdota brošūra par dzīvi Gulbenes novadā, 800 eks.")
    page.fill(f"#id_line-{first.pk}-actual_cost", "3 720,00")
    page.fill(f"#id_line-{first.pk}-people_reached", "800")
    page.fill(f"#id_line-{first.pk}-materials_produced", "800")
    page.fill(f"#id_line-{second.pk}-done", "Vizīte Londonā")
    page.fill(f"#id_line-{second.pk}-actual_cost", "2 480")
    page.fill(f"#id_line-{second.pk}-events_held", "1")
    page.set_input_files("#id_document", str(invoice))
    page.fill("#id_document_description", "Tipogrāfijas rēķins")
    page.locator("#save-report").click()
    expect(page.get_by_role("alert").filter(has_text="melnraksts ir saglabāts")).to_be_visible()
    expect(page.locator("#documents")).to_contain_text("rekins-tipografija.pdf")
    expect(page.locator("#report-total")).to_contain_text(spaced("6 200,00 €"))
    page.locator("#submit-report").click()
    expect(page.locator("#receipt")).to_be_visible()
    report = Report.objects.get(grant=grant)
    expect(page.locator("#report-sha256")).to_have_text(report.sha256)

    # The coordinator opens the report from the grant and returns the visit's line.
    admin = browser.new_context(locale="lv-LV", timezone_id="Europe/Riga").new_page()
    log_in_admin(admin, live_server, "vpr", reverse("admin:grants_grant_change", args=[grant.pk]))
    admin.get_by_role("link", name="Izskatīt pārskatu").click()
    expect(admin.locator("#documents")).to_contain_text("rekins-tipografija.pdf")
    visit = report.lines.get(plan_line=second)
    admin.fill(f"textarea[name=comment-{visit.pk}]", "Pievienojiet aviobiļešu rēķinus.")
    admin.locator("#return-report").click()
    expect(admin.locator(".messagelist .success")).to_contain_text("atdots labošanai")

    # Staff see the comment on the line, fix it and submit again.
    page.goto(live_server.url + grant.get_absolute_url())
    expect(page.locator("#next-step")).to_contain_text("labošanai")
    page.get_by_role("link", name="Labot pārskatu").first.click()
    expect(page.locator(f"#line-{second.pk} .line-comment")).to_contain_text("aviobiļešu")
    expect(page.locator("#documents")).to_contain_text("rekins-tipografija.pdf")
    page.fill(f"#id_line-{second.pk}-done", "Vizīte Londonā; aviobiļešu rēķini pievienoti.")
    page.set_input_files("#id_document", str(invoice))
    page.locator("#submit-report").click()
    expect(page.locator("#receipt")).to_be_visible()
    expect(page.get_by_role("heading", name="Noslēguma pārskats, 2. versija")).to_be_visible()

    # The coordinator accepts it, records the final payment proposed and closes the grant.
    admin.goto(live_server.url + reverse("admin:grants_grant_change", args=[grant.pk]))
    admin.get_by_role("link", name="Izskatīt pārskatu").click()
    admin.locator("#accept-report").click()
    expect(admin.locator(".messagelist .success")).to_contain_text("apstiprināts")
    admin.get_by_role("link", name="Reģistrēt maksājumu").click()
    admin.locator("#proposals a").first.click()
    expect(admin.locator("#id_amount")).to_have_value(spaced("3 100,00"))
    admin.fill("#id_reference", "MU-2027-044")
    admin.get_by_role("button", name="Reģistrēt maksājumu").click()
    expect(admin.locator(".messagelist .success")).to_contain_text(spaced("3 100,00 €"))
    admin.get_by_role("link", name="Slēgt finansējumu").click()
    admin.locator("#close-form input[type=submit]").click()
    expect(admin.locator(".messagelist .success")).to_contain_text("slēgts")
    grant = Grant.objects.get(pk=grant.pk)
    assert (grant.status, grant.paid_total, grant.accepted_total) == (
        Grant.Status.CLOSED,
        Decimal("6200.00"),
        Decimal("6200.00"),
    )

    # The public results page shows Gulbene's spending per category and what was done.
    page.goto(live_server.url + reverse("results:detail", args=[grant.competition.slug]))
    spending = page.locator(f"#spending-{grant.application.reference}")
    expect(spending).to_contain_text("Gulbenes novads")
    expect(spending).to_contain_text(spaced("3 720,00 €"))
    expect(spending).to_contain_text(spaced("2 480,00 €"))
    expect(spending).to_contain_text("aviobiļešu rēķini pievienoti")
    expect(page.locator("#total-spent")).to_have_text(spaced("6 200,00 €"))
