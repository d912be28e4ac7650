import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.urls import reverse

from competitions import roles
from competitions.models import ActivityCategory, Municipality

ROOT = Path(__file__).resolve().parent.parent
# The environment of a make started by hand, not of one started by `make test`.
OUTSIDE_MAKE = {
    k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}
}


@pytest.mark.django_db
def test_migrations_load_the_26_vidzeme_municipalities():
    names = set(Municipality.objects.values_list("name", flat=True))
    assert len(names) == 26
    assert {
        "Smiltenes novads",
        "Valkas novads",
        "Valmieras pilsēta",
        "Gulbenes novads",
        "Cēsu novads",
        "Ērgļu novads",
    } <= names


@pytest.mark.django_db
def test_migrations_load_the_five_activity_categories_in_order():
    assert list(ActivityCategory.objects.values_list("name_lv", flat=True)) == [
        "Informatīvo materiālu sagatavošana",
        "Sabiedriskās attiecības",
        "Vizītes pie diasporas",
        "Semināri un apmācības",
        "Citas saistītas aktivitātes",
    ]


@pytest.mark.django_db
def test_migrations_create_the_three_role_groups_with_their_permissions():
    for role, codes in roles.ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        granted = {
            f"{app_label}.{codename}"
            for app_label, codename in group.permissions.values_list(
                "content_type__app_label", "codename"
            )
        }
        assert granted == set(codes), role


@pytest.mark.django_db
def test_home_page_speaks_latvian_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Language"] == "lv"
    assert "Vidzemes plānošanas reģions" in response.text
    assert "Atvērtie konkursi" in response.text
    assert "Open calls" not in response.text


@pytest.mark.django_db
def test_home_page_speaks_english_under_en(client):
    response = client.get("/en/")
    assert response.status_code == 200
    assert response["Content-Language"] == "en"
    assert "Vidzeme Planning Region" in response.text
    assert "Open calls" in response.text


@pytest.mark.django_db
def test_admin_login_page_is_served_in_both_languages(client):
    latvian = client.get(reverse("admin:login"))
    assert latvian.status_code == 200
    assert "<title>Pieslēgties | Remigrācijas atbalsts</title>" in latvian.text
    assert ">Vidzemes plānošanas reģions</a>" in latvian.text
    english = client.get("/en/admin/login/")
    assert "<title>Log in | Remigration grants</title>" in english.text
    assert ">Vidzeme Planning Region</a>" in english.text
    # The portal's icon, so that browsers do not ask for a /favicon.ico that is not there.
    assert 'rel="icon" href="/static/favicon.svg"' in english.text


def _import_settings(**env):
    """Import the settings in a fresh interpreter with exactly these variables."""
    base = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DJANGO_DEBUG"}}
    return subprocess.run(
        [sys.executable, "-c", "import remigration_portal.settings"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_settings_refuse_to_start_in_production_without_a_secret_key():
    result = _import_settings(DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_settings_start_in_production_with_a_secret_key():
    result = _import_settings(DJANGO_DEBUG="0", SECRET_KEY="x" * 60)
    assert result.returncode == 0, result.stderr


def test_settings_start_without_a_secret_key_in_debug_mode():
    result = _import_settings(DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr


def _mail_base_url(**env) -> str:
    """PORTAL_BASE_URL as the settings read it in a fresh interpreter, with only these of the
    variables that decide it."""
    base = {
        k: v for k, v in os.environ.items() if k not in {"PORT", "PORTAL_BASE_URL", "SECRET_KEY"}
    }
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import remigration_portal.settings as s; print(s.PORTAL_BASE_URL)",
        ],
        cwd=ROOT,
        env={**base, "DJANGO_DEBUG": "1", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_mail_links_point_at_port_8000_when_no_port_is_given():
    assert _mail_base_url() == "http://127.0.0.1:8000"


def test_mail_links_follow_the_port_the_portal_is_served_on():
    assert _mail_base_url(PORT="8100") == "http://127.0.0.1:8100"


def test_portal_base_url_overrides_the_port_in_mail_links():
    assert (
        _mail_base_url(PORT="8100", PORTAL_BASE_URL="https://granti.vidzeme.lv")
        == "https://granti.vidzeme.lv"
    )


def test_make_run_serves_on_its_port_and_hands_it_to_every_command():
    """`PORT=8100 make run`: each manage.py command it runs sees PORT=8100, so the demo's and
    the server's mail link to the port served."""
    dry_run = subprocess.run(
        ["make", "--no-print-directory", "--dry-run", "--always-make", "run", "PORT=8100"],
        cwd=ROOT,
        env=OUTSIDE_MAKE,
        capture_output=True,
        text=True,
        check=True,
    )
    commands = [line for line in dry_run.stdout.splitlines() if "manage.py" in line]
    assert [command.split("manage.py ")[1].split()[0] for command in commands] == [
        "migrate",
        "load_demo",
        "runserver",
    ]
    assert all(" PORT=8100 " in f" {command} " for command in commands), commands
    assert commands[-1].endswith("runserver 127.0.0.1:8100")


def test_the_import_contracts_read_every_app_of_the_portal():
    """import-linter (``make lint``) reads only its root packages: an app of the portal left out
    of them, as a new ``grants`` would be, could import anything unseen."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    portal_apps = {app.name for app in apps.get_app_configs() if Path(app.path).parent == ROOT}
    layers = {layer.strip("()") for contract in config["contracts"] for layer in contract["layers"]}
    assert {"remigration_portal", "competitions", "applications"} <= portal_apps
    assert portal_apps <= set(config["root_packages"])
    assert portal_apps <= layers
