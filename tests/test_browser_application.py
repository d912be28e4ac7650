"""The whole path of a municipal staff member, in real Chromium, as a user would walk it."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from applications import services
from applications.models import Application
from competitions.models import Competition

from .amounts import spaced
from .factories import ApplicationFactory, CompetitionFactory, category, municipality, staff_of
from .source_case import DETAILS, activities_costing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def fill_activity(page, index, *, title, cost):
    prefix = f"#id_activities-{index}-"
    page.select_option(prefix + "category", label="Informatīvo materiālu sagatavošana")
    page.fill(prefix + "title", title)
    page.fill(prefix + "description", "Brošūra par dzīvi novadā")
    page.fill(prefix + "starts_on", "2027-01-10")
    page.fill(prefix + "ends_on", "2027-05-31")
    page.fill(prefix + "target_group", "Remigranti un diaspora")
    page.fill(prefix + "expected_result", "1000 eksemplāru")
    page.fill(prefix + "cost", cost)


def test_staff_member_fills_saves_and_submits_an_application(live_server, page, tmp_path):
    call = CompetitionFactory(title_lv="Remigrācijas sekmēšanas pakalpojumi pašvaldībās")
    staff_of("smiltenes-novads", "smiltene")
    page.on("dialog", lambda dialog: dialog.accept())

    # Log in; the portal opens the dashboard.
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", "smiltene")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Pieslēgties").click()
    expect(page.get_by_role("heading", name="Mani pieteikumi")).to_be_visible()

    # Open the call and start the application.
    page.get_by_role("link", name=call.title).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(call.title)
    page.get_by_role("button", name="Sākt pieteikumu").click()

    # The general part and three activities.
    page.fill("#id_contact_name", "Ilze Bērziņa")
    page.fill("#id_contact_email", "ilze.berzina@smiltene.lv")
    page.fill("#id_goals", "Sekmēt remigrāciju Smiltenes novadā")
    page.fill("#id_target_groups", "Diaspora, remigrantu ģimenes")
    page.fill("#id_summary", "Video stāsti, mācību materiāli un tīklošanās pasākums")
    fill_activity(page, 0, title="Video stāsti par remigrantiem", cost="4 000")
    page.get_by_role("button", name="Pievienot aktivitāti").click()
    fill_activity(page, 1, title="Mācību materiāli latviešu valodai", cost="3500,50")
    page.get_by_role("button", name="Pievienot aktivitāti").click()
    fill_activity(page, 2, title="Tīklošanās pasākums", cost="3 000")

    # The running total follows the typing and warns about the cap.
    expect(page.locator("#total")).to_have_text(spaced("10 500,50 €"))
    expect(page.locator("#over-cap")).to_have_text(
        spaced("Maksimālā summa pārsniegta par 500,50 €.")
    )

    # The server saves the draft over the cap and says by how much: the submission refuses it.
    page.get_by_role("button", name="Saglabāt melnrakstu").click()
    expect(page.get_by_role("alert").filter(has_text="Pieprasītā summa")).to_contain_text(
        spaced(
            "Pieprasītā summa 10 500,50 € pārsniedz maksimālo finansējumu vienai pašvaldībai "
            "10 000,00 € par 500,50 €."
        )
    )
    expect(page.locator("#id_activities-2-title")).to_have_value("Tīklošanās pasākums")
    expect(page.locator("#id_activities-1-cost")).to_have_value(spaced("3 500,50"))
    expect(page.locator("#id_summary")).to_have_value(
        "Video stāsti, mācību materiāli un tīklošanās pasākums"
    )
    assert Application.objects.get().activities.count() == 3

    # Fixed, it saves.
    page.fill("#id_activities-2-cost", spaced("2 499,50"))
    expect(page.locator("#total")).to_have_text(spaced("10 000,00 €"))
    expect(page.locator("#over-cap")).to_be_hidden()
    page.get_by_role("button", name="Saglabāt melnrakstu").click()
    expect(page.get_by_role("alert").filter(has_text="Melnraksts ir saglabāts.")).to_be_visible()
    assert Application.objects.get().activities.count() == 3

    # Away and back: the draft is as it was left.
    page.get_by_role("link", name="Mani pieteikumi").first.click()
    page.get_by_role("link", name="Turpināt pieteikumu").click()
    expect(page.locator("#id_activities-2-title")).to_have_value("Tīklošanās pasākums")
    expect(page.locator("#id_activities-2-cost")).to_have_value(spaced("2 499,50"))
    expect(page.locator("#total")).to_have_text(spaced("10 000,00 €"))

    # Attach a PDF.
    pdf = tmp_path / "Budžeta tāme.pdf"
    pdf.write_bytes(PDF)
    page.set_input_files("#id_new_documents", str(pdf))
    page.get_by_role("button", name="Saglabāt melnrakstu").click()
    expect(page.get_by_role("link", name="Budžeta_tāme.pdf")).to_be_visible()

    # Submit (the confirmation dialog is accepted) and see the receipt.
    page.get_by_role("button", name="Iesniegt pieteikumu").click()
    application = Application.objects.get()
    expect(page.get_by_role("heading", name="Iesniegšanas apliecinājums")).to_be_visible()
    expect(page.locator("#reference")).to_have_text(application.reference)
    expect(page.locator("#sha256")).to_have_text(application.snapshot_sha256)
    assert re.fullmatch(r"REM-\d{4}-001", application.reference)
    assert application.requested_amount == 10000

    # English and back.
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Submission receipt")).to_be_visible()
    page.get_by_role("link", name="Latviešu").click()
    expect(page.get_by_role("heading", name="Iesniegšanas apliecinājums")).to_be_visible()


def log_in(page, live_server, username):
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Pieslēgties").click()
    expect(page.get_by_role("heading", name="Mani pieteikumi")).to_be_visible()


def draft_with_two_activities(username="smiltene"):
    user = staff_of("smiltenes-novads", username)
    draft = services.application_start(
        competition=CompetitionFactory(), municipality=municipality(), by=user
    )
    services.application_update_draft(
        application=draft,
        by=user,
        details=DETAILS,
        activities=activities_costing(Decimal("5000"), category().pk),
    )
    return draft


def test_dashboard_on_a_phone_shows_every_amount_without_sideways_scrolling(live_server, page):
    draft = draft_with_two_activities()
    decided = CompetitionFactory(
        status=Competition.Status.DECIDED,
        opens_at=timezone.now() - timedelta(days=400),
        closes_at=timezone.now() - timedelta(days=370),
    )
    ApplicationFactory(
        competition=decided,
        status=Application.Status.AWARDED,
        reference="REM-2025-001",
        submitted_at=timezone.now() - timedelta(days=380),
        snapshot={},
        requested_amount=Decimal("9800.00"),
        awarded_amount=Decimal("7654.32"),
    )
    page.set_viewport_size({"width": 360, "height": 740})
    log_in(page, live_server, "smiltene")

    width = page.evaluate("window.innerWidth")
    assert width == 360
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    applications = page.locator("#applications-list")
    expect(applications).to_be_visible()
    shown = {
        "requested": [spaced("5 000,00 €"), spaced("9 800,00 €")],
        "awarded": ["—", spaced("7 654,32 €")],
    }
    for kind, amounts in shown.items():
        cells = applications.locator(f'[data-amount="{kind}"]')
        expect(cells).to_have_text(amounts)
        for index in range(len(amounts)):
            box = cells.nth(index).bounding_box()
            assert box is not None, (kind, index)
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= width, (kind, amounts[index], box)
    # The draft leads to its form, from the card as from the table on a wide screen.
    expect(applications.get_by_role("link", name=draft.competition.title)).to_have_attribute(
        "href", f"/applications/{draft.pk}/edit/"
    )

    page.set_viewport_size({"width": 1200, "height": 800})
    expect(applications).to_be_hidden()
    expect(page.locator("#applications-table")).to_contain_text(spaced("7 654,32 €"))


def test_each_activity_group_is_named_by_its_legend(live_server, page):
    draft = draft_with_two_activities()
    log_in(page, live_server, "smiltene")
    page.goto(live_server.url + f"/applications/{draft.pk}/edit/")

    first = page.get_by_role("group", name="Aktivitāte 1", exact=True)
    second = page.get_by_role("group", name="Aktivitāte 2", exact=True)
    expect(first).to_be_visible()
    expect(second).to_be_visible()
    titles = [activity.title for activity in draft.activities.order_by("order")]
    expect(first.get_by_label("Nosaukums")).to_have_value(titles[0])
    expect(second.get_by_label("Nosaukums")).to_have_value(titles[1])
    # The legend stays in the card's header row, beside the box that removes the activity.
    legend = first.locator("legend").bounding_box()
    remove = first.get_by_label("Noņemt šo aktivitāti").bounding_box()
    assert legend["y"] < remove["y"] + remove["height"]
    assert remove["y"] < legend["y"] + legend["height"]

    page.get_by_role("button", name="Pievienot aktivitāti").click()
    expect(page.get_by_role("group", name="Aktivitāte 3", exact=True)).to_be_visible()
    first.get_by_label("Noņemt šo aktivitāti").check()
    # Renumbered: the one that was second is now the first of those kept.
    expect(
        page.get_by_role("group", name="Aktivitāte 1", exact=True).get_by_label("Nosaukums")
    ).to_have_value(titles[1])

    page.goto(live_server.url + f"/en/applications/{draft.pk}/edit/")
    expect(page.get_by_role("group", name="Activity 2", exact=True)).to_be_visible()


def test_running_total_names_the_activities_whose_cost_cannot_be_read(live_server, page):
    draft = draft_with_two_activities()
    log_in(page, live_server, "smiltene")
    page.goto(live_server.url + f"/applications/{draft.pk}/edit/")
    unreadable = page.locator("#unreadable-costs")
    expect(page.locator("#total")).to_have_text(spaced("5 000,00 €"))
    expect(unreadable).to_be_hidden()

    page.fill("#id_activities-1-cost", "-5")
    expect(page.locator("#total")).to_have_text(spaced("3 000,00 €"))
    expect(unreadable).to_have_text(
        "Aktivitāte 2: izmaksas nevar nolasīt, tās nav ieskaitītas kopsummā."
    )
    page.fill("#id_activities-0-cost", "trīs tūkstoši")
    expect(unreadable).to_have_text(
        "Aktivitātes 1, 2: izmaksas nevar nolasīt, tās nav ieskaitītas kopsummā."
    )
    page.fill("#id_activities-0-cost", "3 000")
    page.fill("#id_activities-1-cost", "")  # not typed yet is not unreadable
    expect(unreadable).to_be_hidden()
    expect(page.locator("#total")).to_have_text(spaced("3 000,00 €"))

    page.goto(live_server.url + f"/en/applications/{draft.pk}/edit/")
    page.fill("#id_activities-0-cost", "1.500,00")
    expect(page.locator("#unreadable-costs")).to_have_text(
        "Activity 1: the cost cannot be read and is not in the total."
    )


def test_the_running_total_writes_amounts_as_the_server_does_in_each_language(live_server, page):
    draft = draft_with_two_activities()
    log_in(page, live_server, "smiltene")
    for prefix, total, excess in [
        ("", "10\u00a0500,50\u00a0€", "500,50\u00a0€"),
        ("/en", "€10,500.50", "€500.50"),
    ]:
        page.goto(live_server.url + f"{prefix}/applications/{draft.pk}/edit/")
        page.fill("#id_activities-0-cost", "8 500,50")
        # Exactly, no-break spaces included: the page's own amounts (the cap beside the total)
        # are written so, and an amount must not break across lines.
        expect(page.locator("#over-cap .amount")).to_have_count(1)
        assert page.locator("#total").text_content() == total
        assert page.locator("#over-cap .amount").text_content() == excess
