"""The plan agreed to the award and the agreement signed, in real Chromium: Cēsis's staff and a
coordinator, turn by turn."""

import hashlib
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from applications.models import Application
from grants.models import Grant, PlanVersion

from .amounts import spaced
from .factories import coordinator, decided_grant, staff_of
from .test_agreements import pdf_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def log_in_portal(page, live_server, username):
    page.goto(live_server.url + reverse("login"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Pieslēgties").click()
    expect(page.get_by_role("heading", name="Mani pieteikumi")).to_be_visible()


def log_in_admin(page, live_server, username, then: str):
    page.goto(f"{live_server.url}{reverse('admin:login')}?next={then}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


def test_cesis_fits_its_plan_to_the_award_through_a_return_then_signs_the_agreement(
    live_server, page, browser
):
    grant = decided_grant("cesu-novads")  # 7 500,00 € asked (4 500 + 3 000), 4 000,00 € awarded
    cesis = staff_of("cesu-novads", "cesis")
    grant.municipality.signatories.add(cesis)
    coordinator("vpr")
    page.on("dialog", lambda dialog: dialog.accept())

    # Staff find the grant from the menu; its page says what to do, with the award.
    log_in_portal(page, live_server, "cesis")
    page.get_by_role("link", name="Piešķirtie finansējumi").first.click()
    page.get_by_role("link", name=grant.competition.title).click()
    expect(page.locator("#award")).to_have_text(spaced("4 000,00 €"))
    expect(page.locator("#next-step")).to_contain_text(
        spaced("Pārskatiet plānu atbilstoši piešķirtajam finansējumam 4 000,00 €")
    )
    page.get_by_role("link", name="Labot plānu").click()

    # The running total follows the typing, against the award.
    total, over, under = (
        page.locator("#total"),
        page.locator("#over-award"),
        page.locator("#under-award"),
    )
    expect(total).to_have_text(spaced("7 500,00 €"))
    expect(over).to_have_text(
        spaced(
            "Pārsniegums pret piešķīrumu: 3 500,00 €. Pirms iesniegšanas saskaņošanai samaziniet plānu."
        )
    )
    page.fill("#id_lines-0-cost", "2 000")
    expect(total).to_have_text(spaced("5 000,00 €"))
    expect(over).to_contain_text(spaced("1 000,00 €"))
    page.fill("#id_lines-0-cost", "900")
    expect(total).to_have_text(spaced("3 900,00 €"))
    expect(over).to_be_hidden()
    expect(under).to_contain_text(spaced("Par 100,00 € mazāk nekā piešķirts"))
    page.fill("#id_lines-0-cost", spaced("1 000,00"))
    expect(total).to_have_text(spaced("4 000,00 €"))
    expect(under).to_be_hidden()
    page.get_by_role("button", name="Iesniegt saskaņošanai").click()
    expect(page.get_by_role("alert").filter(has_text="iesniegta saskaņošanai")).to_be_visible()
    expect(page.locator("#plan-status")).to_have_text("Iesniegts saskaņošanai")

    # The coordinator finds it among the grants to decide, and returns it with a comment.
    admin = browser.new_context(locale="lv-LV", timezone_id="Europe/Riga").new_page()
    changelist = reverse("admin:grants_grant_changelist") + "?to_decide=yes"
    log_in_admin(admin, live_server, "vpr", changelist)
    admin.get_by_role("link", name="Izlemt par iesniegto plānu").click()
    expect(admin.locator("#plan-total")).to_have_text(spaced("4 000,00 €"))
    expect(admin.locator("#effect")).to_contain_text("piešķirtais finansējums nemainīsies")
    admin.get_by_role("link", name="Tomēr atgriezt precizēšanai").click()
    admin.fill(
        "#id_comment", "Pievienojiet vizīšu dalībnieku ēdināšanu; kopsumma nedrīkst mainīties."
    )
    admin.get_by_role("button", name="Atgriezt precizēšanai").click()
    expect(admin.locator(".messagelist .success")).to_contain_text("atgriezta precizēšanai")

    # Staff see the comment, fix the plan in a new version (a line added) and propose again.
    page.reload()
    expect(page.locator("#return-comment")).to_contain_text("ēdināšanu")
    page.get_by_role("link", name="Labot plānu jaunā versijā").click()
    expect(page.locator("#return-comment")).to_contain_text("ēdināšanu")
    page.get_by_role("button", name="Pievienot pozīciju").click()
    expect(page.get_by_role("group", name="Pozīcija 3", exact=True)).to_be_visible()
    page.select_option("#id_lines-2-category", label="Vizītes pie diasporas")
    page.fill("#id_lines-2-title", "Ēdināšana vizīšu dalībniekiem")
    page.fill("#id_lines-2-cost", "250")
    expect(total).to_have_text(spaced("4 250,00 €"))
    expect(over).to_contain_text(spaced("250,00 €"))
    page.fill("#id_lines-1-cost", "2 750")
    expect(total).to_have_text(spaced("4 000,00 €"))
    page.get_by_role("button", name="Iesniegt saskaņošanai").click()
    expect(page.locator("#plan-status")).to_have_text("Iesniegts saskaņošanai")
    expect(page.locator("#version-2")).to_contain_text("Ēdināšana vizīšu dalībniekiem")

    # The coordinator approves version 2.
    admin.goto(live_server.url + changelist)
    admin.get_by_role("link", name="Izlemt par iesniegto plānu").click()
    expect(admin.locator("#plan-total")).to_have_text(spaced("4 000,00 €"))
    admin.get_by_role("button", name="Saskaņot plānu").click()
    expect(admin.locator(".messagelist .success")).to_contain_text(
        spaced("saskaņota par 4 000,00 €")
    )

    page.reload()
    expect(page.locator("#status")).to_have_text("Līguma parakstīšana")
    expect(page.locator("#next-step")).to_contain_text("Plāns saskaņots")
    versions = list(grant.plan_versions.order_by("number").values_list("status", "total"))
    assert versions == [
        (PlanVersion.Status.RETURNED, Decimal("4000.00")),
        (PlanVersion.Status.APPROVED, Decimal("4000.00")),
    ]
    assert Grant.objects.get(pk=grant.pk).agreed_total == Decimal("4000.00")
    assert Application.objects.get(pk=grant.application_id).awarded_amount == Decimal("4000.00")

    # The signatory opens the agreement from the grant's next step, accepts the exact PDF shown
    # and downloads it: the approved lines, the total in words, the payment schedule.
    agreement = grant.agreements.get()
    page.get_by_role("link", name="Atvērt līgumu").click()
    expect(page.locator("#agreement-sha256")).to_have_text(agreement.sha256)
    page.locator("#accept-agreement").click()
    expect(page.locator("#confirm-sha256")).to_have_text(agreement.sha256)
    page.locator("#accept-form").get_by_role("button", name="Pieņemt līgumu").click()
    expect(page.locator("#awaiting-countersignature")).to_be_visible()
    with page.expect_download() as download:
        page.locator("#download-agreement").click()
    pdf = Path(download.value.path()).read_bytes()
    assert hashlib.sha256(pdf).hexdigest() == agreement.sha256
    text = pdf_text(pdf)
    for line in agreement.plan_version.lines.all():
        assert line.title in text
    assert "Ēdināšana vizīšu dalībniekiem" in text
    assert spaced("4 000,00 EUR (četri tūkstoši euro, nulle centu)") in text
    assert spaced("Avanss (50 % no Finansējuma) 2 000,00 EUR") in text
    assert spaced("Noslēguma maksājums 2 000,00 EUR") in text

    # The coordinator countersigns in the admin: the grant is in progress.
    admin.goto(live_server.url + reverse("admin:grants_agreement_countersign", args=[agreement.pk]))
    admin.get_by_role("button", name="Parakstīt līgumu reģiona vārdā").click()
    expect(admin.locator(".messagelist .success")).to_contain_text(agreement.number)
    page.goto(live_server.url + grant.get_absolute_url())
    expect(page.locator("#status")).to_have_text("Īstenošana")


def test_the_plan_pages_on_a_phone_scroll_no_sideways_and_break_no_amount(live_server, page):
    grant = decided_grant("cesu-novads")
    staff_of("cesu-novads", "cesis")
    page.set_viewport_size({"width": 360, "height": 740})
    log_in_portal(page, live_server, "cesis")
    for url in (grant.get_absolute_url(), reverse("grants:plan", args=[grant.pk])):
        page.goto(live_server.url + url)
        assert page.evaluate("window.innerWidth") == 360
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, url
        # Every amount shown sits on one line, inside the screen.
        broken = page.evaluate(
            """() => Array.from(document.querySelectorAll('.amount'))
                .filter(element => element.offsetParent !== null)
                .filter(element => {
                    const rects = Array.from(element.getClientRects());
                    return rects.length !== 1 || rects[0].right > window.innerWidth;
                })
                .map(element => element.textContent)"""
        )
        assert broken == [], url
    expect(page.locator("#over-award")).to_contain_text(spaced("3 500,00 €"))
