"""Latvian as a Latvian civil servant writes it, read back from the pages: Django's own admin
and login texts where its catalogue is wrong, and the portal's own slips."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from applications import services

from .amounts import squeezed
from .factories import CompetitionFactory, coordinator
from .source_case import build_source_case
from .test_results import only_smiltene_allocated

pytestmark = pytest.mark.django_db


def test_the_login_page_names_the_wrong_field_in_correct_latvian(client):
    page = client.post(
        reverse("admin:login"), {"username": "nobody", "password": "wrong"}
    ).content.decode()
    assert (
        "Nepareizs lauka “lietotājvārds” vai paroles saturs. Ņemiet vērā, ka abos laukos "
        "lielie un mazie burti ir atšķirīgi."
    ) in squeezed(page)
    assert "pareizu lietotājvārds" not in page


def test_the_admin_names_a_call_in_the_accusative(client):
    call = CompetitionFactory()
    client.force_login(coordinator())
    change = client.get(reverse("admin:competitions_competition_change", args=[call.pk])).text
    assert "<h1>Labot konkursu</h1>" in change
    listing = client.get(reverse("admin:competitions_competition_changelist")).text
    assert "<h1>Atlasiet konkursu, ko labot</h1>" in listing
    assert "Pievienot konkursu</a>" in listing
    assert "Labot konkurss" not in change + listing
    assert "Pievienot konkurss" not in listing
    add = client.get(reverse("admin:competitions_competition_add")).text
    assert "<h1>Pievienot konkursu</h1>" in add
    assert "&rsaquo; Pievienot konkursu" in add
    assert "Pievienot konkurss" not in add


def test_the_admin_counts_results_with_the_right_plural(client):
    build_source_case()
    client.force_login(coordinator())
    listing = reverse("admin:applications_application_changelist")
    four = client.get(f"{listing}?q=novads").text
    one = client.get(f"{listing}?q=Smiltenes").text
    assert "iznākum" not in four + one
    assert "4 rezultāti" in four
    assert "1 rezultāts" in one


def test_a_refusal_for_one_unexplained_rejection_speaks_of_one_application():
    case = only_smiltene_allocated()
    services.decision_reasons_set(
        competition=case.competition,
        reasons={
            application.pk: "Nepietiek līdzekļu."
            for slug, application in case.applications.items()
            if slug not in ("smiltenes-novads", "valkas-novads")
        },
        by=case.coordinator,
    )
    with pytest.raises(ValidationError) as refused:
        services.competition_decide(competition=case.competition, by=case.coordinator)
    reference = case.applications["valkas-novads"].reference
    assert refused.value.messages == [f"Norādiet pamatojumu pieteikuma {reference} noraidīšanai."]
