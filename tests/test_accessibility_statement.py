"""The accessibility statement: the sections of the EU model (Decision (EU) 2018/1523), in
Latvian and English, linked from every page's footer."""

import pytest
from django.urls import reverse

from .amounts import squeezed

pytestmark = pytest.mark.django_db

SECTIONS = {
    "lv": [
        "Paziņojums par piekļūstamību",
        "Atbilstības statuss",
        "Nepiekļūstams saturs",
        "Paziņojuma par piekļūstamību sagatavošana",
        "Atsauksmes un kontaktinformācija",
        "Izpildes nodrošināšanas procedūra",
    ],
    "en": [
        "Accessibility statement",
        "Compliance status",
        "Non-accessible content",
        "Preparation of this accessibility statement",
        "Feedback and contact information",
        "Enforcement procedure",
    ],
}


@pytest.mark.parametrize("language", ["lv", "en"])
def test_the_statement_has_the_sections_of_the_eu_model_in_both_languages(client, language):
    prefix = "" if language == "lv" else "/en"
    page = squeezed(client.get(prefix + reverse("accessibility")).text)
    headings = [page.index(f">{section}</h") for section in SECTIONS[language]]
    assert headings == sorted(headings)
    assert "mailto:granti@vidzeme.lv" in page
    assert "WCAG" in page


def test_the_statement_in_latvian_is_latvian_throughout(client):
    page = squeezed(client.get(reverse("accessibility")).text)
    assert "Šis portāls daļēji atbilst tīmekļa satura piekļūstamības vadlīniju (WCAG) 2.1" in page
    assert "Paziņojums sagatavots 03.12.2026." in page
    assert "Valsts reģionālās attīstības aģentūrā" in page


@pytest.mark.parametrize("name", ["home", "accessibility"])
def test_every_page_links_the_statement_from_its_footer(client, name):
    html = client.get(reverse(name)).text
    footer = html[html.index("<footer") :]
    assert f'<a href="{reverse("accessibility")}">Paziņojums par piekļūstamību</a>' in footer
