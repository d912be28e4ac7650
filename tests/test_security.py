"""Login throttling, passwords, sessions, security headers and the deployment checks."""

import logging
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from axes.helpers import get_client_ip_address
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from remigration_portal.security_log import client_address

from .factories import CompetitionFactory, coordinator, reviewer, staff_of

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"
LOAD_BALANCER = "10.0.0.1"  # where every request comes from behind the proxy


def attempt(client, username, password, ip=LOAD_BALANCER, forwarded=None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip, **headers
    )


# --- login throttling -------------------------------------------------------------------------


def test_five_failures_lock_the_username_from_that_address(client):
    staff_of("valkas-novads", "valka")
    for _ in range(4):
        assert attempt(client, "valka", "wrong password!").status_code == 200
    locked = attempt(client, "valka", "wrong password!")
    assert locked.status_code == 429
    assert "Pārāk daudz neveiksmīgu mēģinājumu" in locked.text
    # Even the right password is refused while the lock lasts.
    assert attempt(client, "valka", PASSWORD).status_code == 429
    # Another address, or another username, is not locked.
    assert attempt(client, "valka", PASSWORD, ip="10.0.0.2").status_code == 302


def test_unknown_and_known_usernames_get_the_same_answers(client):
    staff_of("valkas-novads", "valka")
    answers = {}
    for username in ("valka", "nobody-by-this-name"):
        first = attempt(client, username, "wrong password!", ip="10.0.0.9")
        for _ in range(4):
            locked = attempt(client, username, "wrong password!", ip="10.0.0.9")
        answers[username] = (
            first.status_code,
            first.context["form"].non_field_errors(),
            locked.status_code,
            locked.text.replace(username, "<user>"),
        )
    assert answers["valka"] == answers["nobody-by-this-name"]
    assert answers["valka"][2] == 429


def test_a_successful_login_resets_the_count(client):
    staff_of("valkas-novads", "valka")
    for _ in range(4):
        attempt(client, "valka", "wrong password!")
    assert attempt(client, "valka", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert attempt(client, "valka", "wrong password!").status_code == 200


def test_the_admin_login_is_throttled_too(client):
    for _ in range(5):
        response = client.post(
            reverse("admin:login"),
            {"username": "coordinator", "password": "nope", "next": "/admin/"},
            REMOTE_ADDR="10.0.0.3",
        )
    assert response.status_code == 429


def test_logins_failures_and_lockouts_are_logged_without_passwords(client, caplog):
    staff_of("valkas-novads", "valka")
    with caplog.at_level(logging.INFO, logger="remigration_portal.security"):
        attempt(client, "valka", PASSWORD, ip="10.0.0.4")
        client.post(reverse("logout"), REMOTE_ADDR="10.0.0.4")
        for _ in range(5):
            attempt(client, "valka", "secret-wrong-1", ip="10.0.0.5")
    messages = [r.getMessage() for r in caplog.records if r.name == "remigration_portal.security"]
    assert "login user=valka ip=10.0.0.4" in messages
    assert "logout user=valka ip=10.0.0.4" in messages
    assert messages.count("login failed user=valka ip=10.0.0.5") >= 4
    assert "locked out user=valka ip=10.0.0.5" in messages
    assert not any("secret-wrong-1" in m for m in messages)


def test_the_security_log_names_the_client_behind_the_load_balancer(client, settings, caplog):
    settings.TRUSTED_PROXY_COUNT = 1
    staff_of("valkas-novads", "valka")
    with caplog.at_level(logging.INFO, logger="remigration_portal.security"):
        attempt(client, "valka", PASSWORD, forwarded="198.51.100.1, 203.0.113.4")
        client.post(
            reverse("logout"), REMOTE_ADDR=LOAD_BALANCER, HTTP_X_FORWARDED_FOR="203.0.113.4"
        )
        for _ in range(5):
            attempt(client, "valka", "secret-wrong-1", forwarded="203.0.113.5")
    messages = [r.getMessage() for r in caplog.records if r.name == "remigration_portal.security"]
    assert "login user=valka ip=203.0.113.4" in messages
    assert "logout user=valka ip=203.0.113.4" in messages
    assert "login failed user=valka ip=203.0.113.5" in messages
    assert "locked out user=valka ip=203.0.113.5" in messages
    assert not any(LOAD_BALANCER in m or "198.51.100.1" in m for m in messages)


def test_denials_to_signed_in_users_are_logged_with_user_path_and_status(settings, caplog):
    """A 403 or 404 to a signed-in user: who, what, where and from where; never the query
    string, and never a line the path could forge."""
    settings.TRUSTED_PROXY_COUNT = 1
    behind = {"REMOTE_ADDR": LOAD_BALANCER, "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    call = CompetitionFactory()
    staff, someone = Client(**behind), Client(**behind)
    staff.force_login(staff_of("valkas-novads", "valka"))
    someone.force_login(reviewer("reviewer1"))
    strict = Client(enforce_csrf_checks=True, **behind)
    strict.force_login(staff_of("valkas-novads", "valka"))
    allocation = reverse("admin:competitions_competition_allocation", args=[call.pk])
    with caplog.at_level(logging.INFO, logger="remigration_portal.security"):
        assert staff.get("/applications/999999/?token=secret-in-the-query").status_code == 404
        assert someone.get(allocation).status_code == 403
        assert strict.post(reverse("logout")).status_code == 403  # no CSRF token
        assert staff.get("/applications/999999/%0Afake login user=admin/").status_code == 404
        assert Client().get("/applications/999999/edit/").status_code == 302  # to the login
        assert Client().get("/no-such-page/").status_code == 404  # anonymous: not a denial
    denied = [
        r.getMessage()
        for r in caplog.records
        if r.name == "remigration_portal.security" and r.getMessage().startswith("denied")
    ]
    assert denied == [
        "denied status=404 user=valka method=GET path=/applications/999999/ ip=203.0.113.9",
        f"denied status=403 user=reviewer1 method=GET path={allocation} ip=203.0.113.9",
        "denied status=403 user=valka method=POST path=/accounts/logout/ ip=203.0.113.9",
        "denied status=404 user=valka method=GET "
        "path=/applications/999999/\\nfake login user=admin/ ip=203.0.113.9",
    ]
    assert all(
        record.levelname == "WARNING"
        for record in caplog.records
        if "denied" in record.getMessage()
    )


FORGED = "eve\nlocked out user=admin ip=10.0.0.1\x1b[2J\x7f"


def test_no_value_a_client_controls_can_forge_a_line_of_the_security_log(client, caplog):
    """Each logging path (login, logout, failed login, lockout, denial) is fed a username with
    a newline and control characters; every line keeps them escaped."""
    from django.contrib.auth import get_user_model

    eve = get_user_model().objects.create_user(username=FORGED, password=PASSWORD)
    with caplog.at_level(logging.INFO, logger="remigration_portal.security"):
        for _ in range(5):  # the failed logins, then the lockout
            attempt(client, FORGED, "wrong password!", ip="10.0.0.7")
        signed_in = Client(REMOTE_ADDR="10.0.0.8")
        signed_in.force_login(eve)  # the login
        assert signed_in.get("/applications/999999/").status_code == 404  # the denial
        signed_in.post(reverse("logout"))  # the logout
    messages = [r.getMessage() for r in caplog.records if r.name == "remigration_portal.security"]
    kinds = {message.split(" user=")[0].split(" status=")[0] for message in messages}
    assert kinds == {"login failed", "locked out", "login", "denied", "logout"}, messages
    for message in messages:
        assert not any(ord(c) < 32 or ord(c) == 127 for c in message), message
        assert "user=eve\\nlocked out user=admin ip=10.0.0.1\\x1b[2J\\x7f " in message


def reset(client, email, ip="10.0.0.20"):
    return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=ip)


def test_password_reset_sends_at_most_three_links_an_hour_to_an_address(client, mailoutbox):
    own = "valka@example.lv"
    user = staff_of("valkas-novads", "valka")
    user.email = own
    user.save(update_fields=["email"])
    answers = {}
    for email, ip in ((own, "10.0.0.20"), ("nobody@example.lv", "10.0.0.23")):
        answers[email] = [reset(client, email, ip=ip).status_code for _ in range(10)]
    assert len(mailoutbox) == 3
    assert {m.to[0] for m in mailoutbox} == {own}
    # The same answers for an account's address and for an unknown one.
    assert answers[own] == answers["nobody@example.lv"] == [302] * 3 + [429] * 7
    refused = reset(client, own, ip="10.0.0.21")
    assert refused.status_code == 429  # from another client too: the address's own limit
    assert "paroles atjaunošana pieprasīta pārāk daudz reižu" in refused.text
    assert len(mailoutbox) == 3


def test_password_reset_answers_at_most_ten_requests_an_hour_from_one_client(client, caplog):
    with caplog.at_level(logging.INFO, logger="remigration_portal.security"):
        answers = [reset(client, f"person{i}@example.lv").status_code for i in range(12)]
    assert answers == [302] * 10 + [429] * 2
    assert reset(client, "person-x@example.lv", ip="10.0.0.22").status_code == 302
    messages = [r.getMessage() for r in caplog.records if r.name == "remigration_portal.security"]
    assert messages.count("password reset throttled ip=10.0.0.20") == 2


# --- the client's address behind the load balancer -------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded", "address"),
    [
        (0, None, LOAD_BALANCER),
        (0, "198.51.100.66", LOAD_BALANCER),  # no proxy: the header is the client's invention
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "198.51.100.66, 203.0.113.7", "203.0.113.7"),  # the client's own entry is ignored
        (1, "198.51.100.66,203.0.113.7", "203.0.113.7"),
        (1, '", 203.0.113.7', "203.0.113.7"),  # a quote swallows nothing
        (1, "203.0.113.7:51000", "203.0.113.7"),
        (1, "[2001:db8::7]:51000", "2001:db8::7"),
        (1, "2001:db8::7", "2001:db8::7"),
        (1, None, LOAD_BALANCER),  # did not come through the proxy
        (1, "unknown", LOAD_BALANCER),
        (2, "198.51.100.66, 203.0.113.7, 10.0.0.9", "203.0.113.7"),
        (2, "203.0.113.7", LOAD_BALANCER),  # too short to hold both proxies' entries
    ],
)
def test_the_client_address_is_the_one_the_trusted_proxies_wrote(
    settings, rf, proxies, forwarded, address
):
    settings.TRUSTED_PROXY_COUNT = proxies
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    request = rf.post("/accounts/login/", REMOTE_ADDR=LOAD_BALANCER, **headers)
    assert client_address(request) == address
    assert get_client_ip_address(request) == address  # what django-axes locks out


def test_behind_the_load_balancer_each_client_is_locked_out_by_its_own_address(client, settings):
    """Everyone arrives from the load balancer's address: five wrong passwords from one
    client must not lock the user out for every other client too."""
    settings.TRUSTED_PROXY_COUNT = 1
    staff_of("valkas-novads", "valka")
    for _ in range(5):
        locked = attempt(client, "valka", "wrong password!", forwarded="198.51.100.66")
    assert locked.status_code == 429
    # The real user, behind the same load balancer, logs in.
    assert attempt(Client(), "valka", PASSWORD, forwarded="203.0.113.7").status_code == 302
    # The locked-out client cannot escape by writing another address in front of its own.
    assert (
        attempt(Client(), "valka", PASSWORD, forwarded="203.0.113.7, 198.51.100.66").status_code
        == 429
    )
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.66"]


def test_without_a_trusted_proxy_a_forged_forwarded_for_does_not_escape_a_lockout(client):
    staff_of("valkas-novads", "valka")
    for _ in range(5):
        attempt(client, "valka", "wrong password!", ip="10.0.0.6")
    for forged in ("198.51.100.1", "198.51.100.1, 198.51.100.2", "10.0.0.7"):
        response = attempt(Client(), "valka", PASSWORD, ip="10.0.0.6", forwarded=forged)
        assert response.status_code == 429, forged


# --- passwords and sessions -------------------------------------------------------------------


def test_passwords_need_at_least_12_characters():
    with pytest.raises(ValidationError) as error:
        validate_password("Kd8#pQ2!zx")
    assert "password_too_short" in [e.code for e in error.value.error_list]
    validate_password("Kd8#pQ2!zxWm")


def test_a_login_lasts_eight_hours(client):
    staff_of("valkas-novads", "valka")
    response = attempt(client, "valka", PASSWORD)
    assert response.cookies["sessionid"]["max-age"] == 8 * 60 * 60
    assert response.cookies["sessionid"]["httponly"]


def test_changing_the_password_logs_out_every_session_this_one_too():
    staff_of("valkas-novads", "valka")
    here, elsewhere = Client(), Client()
    assert attempt(here, "valka", PASSWORD).status_code == 302
    assert attempt(elsewhere, "valka", PASSWORD).status_code == 302
    new = "a much longer new password 42"
    response = here.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    dashboard = reverse("applications:dashboard")
    assert here.get(dashboard).status_code == 302
    assert elsewhere.get(dashboard).status_code == 302
    assert attempt(Client(), "valka", PASSWORD).status_code == 200  # the old one is refused
    assert attempt(Client(), "valka", new).status_code == 302


def admin_login(client, username, password):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=LOAD_BALANCER,
    )


def test_changing_the_password_in_the_admin_logs_out_every_session_this_one_too():
    coordinator("coordinator")
    here, elsewhere = Client(), Client()
    assert admin_login(here, "coordinator", PASSWORD).status_code == 302
    assert admin_login(elsewhere, "coordinator", PASSWORD).status_code == 302
    assert here.get(reverse("admin:password_change")).status_code == 200
    new = "a much longer new password 42"
    response = here.post(
        reverse("admin:password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:login")
    assert "Parole ir nomainīta" in here.get(response["Location"]).text
    for client in (here, elsewhere):
        index = client.get(reverse("admin:index"))
        assert index.status_code == 302
        assert index["Location"].startswith(reverse("admin:login"))
    assert admin_login(Client(), "coordinator", PASSWORD).status_code == 200  # refused
    assert admin_login(Client(), "coordinator", new).status_code == 302


def test_a_short_new_password_is_refused_and_keeps_the_session(client):
    user = staff_of("valkas-novads", "valka")
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "short1!", "new_password2": "short1!"},
    )
    assert response.status_code == 200
    assert "vismaz 12" in response.text
    assert client.get(reverse("applications:dashboard")).status_code == 200


# --- headers ----------------------------------------------------------------------------------


def test_security_headers_on_every_page(client):
    response = client.get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"


def test_hsts_and_https_redirect_with_production_settings(settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    plain = client.get("/")
    assert plain.status_code == 301
    assert plain["Location"].startswith("https://")
    secure = client.get("/", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def _production_env(**extra):
    unset = {"DJANGO_DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    return {
        **env,
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": "k" * 20 + "-production-like-secret-key-for-the-check-" + "z" * 20,
        "ALLOWED_HOSTS": "granti.vidzeme.lv",
        **extra,
    }


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_when_production_runs_without_https():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(DJANGO_HTTPS_ONLY="0"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "SECURE_HSTS_SECONDS" in result.stdout + result.stderr


# --- uploads ------------------------------------------------------------------------------------


def test_uploads_live_outside_the_static_files_and_have_no_public_address(
    client, settings, tmp_path
):
    from django.core.files.storage import default_storage
    from django.core.files.uploadedfile import SimpleUploadedFile

    from applications import services

    from .factories import CompetitionFactory, category, municipality
    from .source_case import DETAILS, activities_costing

    user = staff_of("smiltenes-novads")
    draft = services.application_start(
        competition=CompetitionFactory(), municipality=municipality("smiltenes-novads"), by=user
    )
    services.application_save_draft(
        application=draft,
        by=user,
        details=DETAILS,
        activities=activities_costing(Decimal("100"), category().pk),
        new_files=[SimpleUploadedFile("../../static/evil.pdf", b"%PDF-1.4\n%%EOF\n")],
    )
    document = draft.documents.get()
    # The name the storage was given (the bucket's key, or the path under the local folder).
    assert default_storage.exists(document.file.name)
    stored = (Path(settings.MEDIA_ROOT) / document.file.name).resolve()
    assert stored.is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert not stored.is_relative_to(Path(settings.STATIC_ROOT).resolve())
    assert not stored.is_relative_to(ROOT / "static")
    assert document.original_name == "evil.pdf"
    # The file has no address of its own: not under MEDIA_URL, not under STATIC_URL.
    assert client.get(settings.MEDIA_URL + document.file.name).status_code == 404
    assert client.get("/static/" + document.file.name).status_code == 404
