"""Two-factor authentication in real Chromium: a coordinator enrols, logs in with a code, is
refused and throttled on a wrong code, and logs in once with a recovery code."""

import re
from base64 import b32decode

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect

from .factories import coordinator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
#: Seconds the first wrong code makes the next attempt wait (doubled after each further one).
WAIT = 3


def code_for(key: bytes, *, step: int = 0) -> str:
    return f"{totp(key, drift=step):06d}"


def log_in_with_password(page, live_server):
    page.goto(live_server.url + "/admin/")
    page.fill("#id_username", "coordinator")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Pieslēgties").click()


def log_out(page, live_server):
    page.goto(live_server.url + "/")
    page.get_by_role("button", name="Iziet").click()


def enter_code(page, code):
    page.fill("#id_code", code)
    page.get_by_role("button", name="Pieslēgties").click()


def test_enrol_log_in_with_a_code_a_wrong_one_throttled_a_recovery_code_once(
    live_server, page, settings
):
    settings.ADMIN_REQUIRES_2FA = True
    settings.OTP_TOTP_THROTTLE_FACTOR = WAIT
    coordinator()

    # The password alone leads to enrolment, not to the admin.
    log_in_with_password(page, live_server)
    expect(page.get_by_role("heading", name="Divpakāpju autentifikācija")).to_be_visible()
    expect(page.locator("#two-factor-qr svg")).to_be_visible()
    key = b32decode(page.locator("#two-factor-secret").inner_text().replace(" ", ""))
    page.fill("#id_code", code_for(key))
    page.get_by_role("button", name="Apstiprināt un ieslēgt").click()
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("link", name="Kodi ir saglabāti: turpināt").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    log_out(page, live_server)

    # The next login asks for the code; a wrong one is refused, and the right one straight
    # after it waits until the throttle's delay has passed.
    log_in_with_password(page, live_server)
    expect(page.get_by_role("heading", name="Pieslēgšanās kods")).to_be_visible()
    right = {code_for(key, step=step) for step in (-1, 0, 1, 2)}
    enter_code(page, next(f"{n:06d}" for n in range(10**6) if f"{n:06d}" not in right))
    expect(page.get_by_text("Kods nav pareizs.")).to_be_visible()
    enter_code(page, code_for(key, step=1))
    expect(page.get_by_text(re.compile(r"Pārāk daudz nepareizu kodu"))).to_be_visible()
    page.wait_for_timeout((WAIT + 1) * 1000)
    enter_code(page, code_for(key, step=1))
    expect(page).to_have_url(re.compile(r"/admin/$"))
    log_out(page, live_server)

    # A recovery code logs in once; the same code again is refused.
    log_in_with_password(page, live_server)
    enter_code(page, codes[0])
    expect(page).to_have_url(re.compile(r"/admin/$"))
    log_out(page, live_server)
    log_in_with_password(page, live_server)
    enter_code(page, codes[0])
    expect(page.get_by_text("Kods nav pareizs.")).to_be_visible()
    expect(page.get_by_role("heading", name="Pieslēgšanās kods")).to_be_visible()
