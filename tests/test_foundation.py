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


def test_the_import_contracts_read_every_app_of_the_portal():
    """import-linter (``make lint``) reads only its root packages: an app of the portal left out
    of them, as a new ``grants`` would be, could import anything unseen."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    portal_apps = {app.name for app in apps.get_app_configs() if Path(app.path).parent == ROOT}
    layers = {layer.strip("()") for contract in config["contracts"] for layer in contract["layers"]}
    assert {"remigration_portal", "competitions", "applications"} <= portal_apps
    assert portal_apps <= set(config["root_packages"])
    assert portal_apps <= layers
