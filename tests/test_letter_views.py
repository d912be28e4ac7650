"""Downloading a decision letter: who may, what they get, and the application page's list."""

import hashlib

import pytest
from django.urls import reverse

from applications import services

from .factories import coordinator, reviewer, staff_of

pytestmark = pytest.mark.django_db


def download_url(letter) -> str:
    return reverse("applications:letter_download", args=[letter.application_id, letter.pk])


@pytest.fixture
def valmiera_letter(decided_call):
    return services.letter_issue(
        application=decided_call.applications["valmieras-pilseta"], by=decided_call.coordinator
    )


def downloaded(response) -> bytes:
    """The body of a file response. Reading it to the end also closes the file, as a WSGI
    server would (the test client's wrapper does it without closing the test's database
    connection, which calling ``response.close()`` here would)."""
    return b"".join(response.streaming_content)


def test_staff_download_their_letter_as_an_attachment_with_a_readable_name(
    client, decided_call, valmiera_letter
):
    client.force_login(decided_call.staff["valmieras-pilseta"])
    response = client.get(download_url(valmiera_letter))
    assert downloaded(response).startswith(b"%PDF-")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="VPR-2019-remigration-2019-001_Valmieras_pilseta.pdf"; '
        "filename*=UTF-8''VPR-2019-remigration-2019-001_Valmieras_pils%C4%93ta.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"


def test_the_file_served_is_the_one_whose_sha256_was_stored(client, decided_call, valmiera_letter):
    client.force_login(decided_call.staff["valmieras-pilseta"])
    body = downloaded(client.get(download_url(valmiera_letter)))
    assert body.startswith(b"%PDF-")
    assert hashlib.sha256(body).hexdigest() == valmiera_letter.sha256


def test_another_municipality_gets_404_whichever_id_it_tries(client, decided_call, valmiera_letter):
    valka = decided_call.staff["valkas-novads"]
    valka_letter = services.letter_issue(
        application=decided_call.applications["valkas-novads"], by=decided_call.coordinator
    )
    client.force_login(valka)
    assert client.get(download_url(valmiera_letter)).status_code == 404
    # Its own application's id with another municipality's letter id.
    mixed = reverse(
        "applications:letter_download", args=[valka_letter.application_id, valmiera_letter.pk]
    )
    assert client.get(mixed).status_code == 404
    for outsider in (staff_of("aluksnes-novads"), reviewer("outsider")):
        client.force_login(outsider)
        assert client.get(download_url(valmiera_letter)).status_code == 404
        assert client.get(download_url(valka_letter)).status_code == 404


def test_coordinators_and_the_calls_reviewers_may_download(client, decided_call, valmiera_letter):
    for user in (coordinator("coordinator2"), decided_call.reviewers[0]):
        client.force_login(user)
        response = client.get(download_url(valmiera_letter))
        assert downloaded(response).startswith(b"%PDF-")
        assert response.status_code == 200


def test_replaced_letters_stay_downloadable(client, decided_call, valmiera_letter):
    services.letter_issue(application=valmiera_letter.application, by=decided_call.coordinator)
    client.force_login(decided_call.staff["valmieras-pilseta"])
    response = client.get(download_url(valmiera_letter))
    assert hashlib.sha256(downloaded(response)).hexdigest() == valmiera_letter.sha256


def test_anonymous_visitors_are_sent_to_log_in_and_posts_are_refused(
    client, decided_call, valmiera_letter
):
    response = client.get(download_url(valmiera_letter))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    client.force_login(decided_call.staff["valmieras-pilseta"])
    assert client.post(download_url(valmiera_letter)).status_code == 405


def test_application_page_lists_the_current_letters_with_download_links(
    client, decided_call, valmiera_letter
):
    replacement = services.letter_issue(
        application=valmiera_letter.application, by=decided_call.coordinator
    )
    english = services.letter_issue(
        application=valmiera_letter.application, by=decided_call.coordinator, language="en"
    )
    client.force_login(decided_call.staff["valmieras-pilseta"])
    page = client.get(valmiera_letter.application.get_absolute_url()).text
    assert "Lēmuma vēstules" in page
    assert f'href="{download_url(replacement)}"' in page
    assert f'href="{download_url(english)}"' in page
    assert download_url(valmiera_letter) not in page
    assert "Lēmums par finansējuma piešķiršanu VPR/2019/remigration-2019/002" in page


def test_application_page_without_letters_shows_no_letter_section(client, decided_call):
    client.force_login(decided_call.staff["smiltenes-novads"])
    page = client.get(decided_call.applications["smiltenes-novads"].get_absolute_url()).text
    assert "Lēmuma vēstules" not in page
