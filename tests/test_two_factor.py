"""Two-factor authentication: required before any admin page when ADMIN_REQUIRES_2FA is on,
optional for municipal staff, a wrong code refused and throttled, a recovery code good once.

The rest of the suite runs with the setting off (it is imported in development mode) and logs
in with force_login; these tests turn it on."""

import os
import re
import subprocess
import sys
from base64 import b32decode

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .factories import UserFactory, coordinator, reviewer, staff_of

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _two_factor_on(settings):
    settings.ADMIN_REQUIRES_2FA = True


def code_for(key: bytes, *, step: int = 0) -> str:
    """The app's code now, or ``step`` periods of 30 s later."""
    return f"{totp(key, drift=step):06d}"


def logged_in(user) -> Client:
    """A client past the password, through the login page (django-axes wants the request)."""
    client = Client()
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def enrolled(client: Client) -> tuple[bytes, list[str]]:
    """Enrol the client's user; the secret key and the recovery codes."""
    page = client.get(reverse("two_factor_enrol")).text
    secret = re.search(r'id="two-factor-secret">([A-Z2-7 ]+)<', page).group(1)
    key = b32decode(secret.replace(" ", ""))
    shown = client.post(reverse("two_factor_enrol"), {"code": code_for(key)})
    assert shown.status_code == 200
    codes = re.findall(r"<li>([a-z0-9]+)</li>", shown.text)
    assert len(codes) == 10
    return key, codes


def a_wrong_code(key: bytes) -> str:
    right = {code_for(key, step=step) for step in (-1, 0, 1)}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in right)


@pytest.mark.parametrize("make", [coordinator, reviewer], ids=["coordinator", "reviewer"])
def test_a_password_alone_opens_no_admin_page(make):
    client = logged_in(make())
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    # The admin's login sends a user who gave the password to enrolment, the first time.
    followed = client.get(response["Location"])
    assert followed.status_code == 302
    assert followed["Location"].startswith(reverse("two_factor_enrol"))


def test_a_superuser_too_must_show_a_second_factor():
    user = UserFactory(is_staff=True, is_superuser=True)
    client = logged_in(user)
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 302


def test_enrolment_confirms_with_a_code_shows_recovery_codes_once_and_opens_the_admin():
    user = coordinator()
    client = logged_in(user)
    page = client.get(reverse("two_factor_enrol")).text
    assert "<svg" in page  # the QR code, drawn in the page
    _key, codes = enrolled(client)
    assert client.get(reverse("admin:index")).status_code == 200
    assert TOTPDevice.objects.get(user=user).confirmed
    again = client.get(reverse("two_factor_enrol")).text
    assert 'id="two-factor-on"' in again
    assert not any(code in again for code in codes)


def test_a_wrong_code_at_enrolment_turns_nothing_on():
    user = coordinator()
    client = logged_in(user)
    client.get(reverse("two_factor_enrol"))
    response = client.post(reverse("two_factor_enrol"), {"code": "12345x"})
    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert client.get(reverse("admin:index")).status_code == 302


def test_the_next_login_asks_for_the_code_before_any_page():
    user = coordinator()
    key, _codes = enrolled(logged_in(user))
    client = logged_in(user)
    for url in [reverse("admin:index"), reverse("applications:dashboard"), reverse("home")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("two_factor_verify"))
    response = client.post(
        reverse("two_factor_verify") + "?next=/admin/", {"code": code_for(key, step=1)}
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_wrong_code_is_refused_and_the_next_attempt_is_throttled(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    user = coordinator()
    key, _codes = enrolled(logged_in(user))
    client = logged_in(user)
    refused = client.post(reverse("two_factor_verify"), {"code": a_wrong_code(key)})
    assert refused.status_code == 200
    assert "Kods nav pareizs." in refused.text
    # The right code, straight after: refused until the wait is over.
    throttled = client.post(reverse("two_factor_verify"), {"code": code_for(key, step=1)})
    assert "Pārāk daudz nepareizu kodu" in throttled.text
    assert client.get(reverse("admin:index")).status_code == 302
    assert TOTPDevice.objects.get(user=user).throttling_failure_count == 1


def test_a_recovery_code_logs_in_once():
    user = coordinator()
    _key, codes = enrolled(logged_in(user))
    client = logged_in(user)
    response = client.post(reverse("two_factor_verify"), {"code": codes[0]})
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200
    assert StaticToken.objects.filter(device__user=user).count() == 9
    again = logged_in(user)
    refused = again.post(reverse("two_factor_verify"), {"code": codes[0]})
    assert refused.status_code == 200
    assert again.get(reverse("admin:index")).status_code == 302


def test_municipal_staff_need_no_second_factor_but_may_turn_it_on():
    user = staff_of("smiltenes-novads")
    client = logged_in(user)
    assert client.get(reverse("applications:dashboard")).status_code == 200
    key, _codes = enrolled(client)
    later = logged_in(user)
    assert later.get(reverse("applications:dashboard")).status_code == 302
    later.post(reverse("two_factor_verify"), {"code": code_for(key, step=1)})
    assert later.get(reverse("applications:dashboard")).status_code == 200


def test_with_the_setting_off_the_admin_opens_with_the_password(settings):
    settings.ADMIN_REQUIRES_2FA = False
    assert logged_in(coordinator()).get(reverse("admin:index")).status_code == 200


@pytest.mark.parametrize(("debug", "required"), [("0", "True"), ("1", "False")])
def test_the_setting_is_on_in_production_and_off_in_development(debug, required):
    env = {k: v for k, v in os.environ.items() if k != "ADMIN_REQUIRES_2FA"}
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "from remigration_portal import settings; print(settings.ADMIN_REQUIRES_2FA)",
        ],
        env={**env, "DJANGO_DEBUG": debug, "SECRET_KEY": "k" * 50},
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.strip() == required
