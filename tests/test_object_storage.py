"""Files in S3-compatible object storage: a real S3 server (moto's, started on loopback) holds
what the portal stores, and every download still goes through the view's permission check.

The bucket is private: an object's address in it answers 403 to anyone without the keys.
The portal never hands out such an address, signed or not: a download streams through the
view, which checks who asks on every request, so there is no link to guess, share or reuse."""

import hashlib
from decimal import Decimal
from io import StringIO

import pytest
import requests
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from applications import services
from applications.models import AwardLetter
from remigration_portal.settings import object_storage

from .external import BUCKET, s3_server
from .factories import PDF, CompetitionFactory, category, municipality, staff_of
from .source_case import DETAILS, activities_costing
from .test_portal_views import edit_url, form_data

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    with s3_server(tmp_path_factory.mktemp("s3")) as running:
        yield running


@pytest.fixture
def in_bucket(settings, store):
    """The portal's default storage is the bucket for this test."""
    settings.STORAGES = {**settings.STORAGES, "default": object_storage(store.env)}
    return store


def files_on_disk(settings) -> list:
    return [path for path in settings.MEDIA_ROOT.rglob("*") if path.is_file()]


@pytest.fixture
def draft():
    user = staff_of("smiltenes-novads")
    application = services.application_start(
        competition=CompetitionFactory(), municipality=municipality("smiltenes-novads"), by=user
    )
    return application, user


def download_url(document) -> str:
    return reverse(
        "applications:document_download",
        kwargs={"pk": document.application_id, "document_pk": document.pk},
    )


def test_an_uploaded_document_lands_in_the_bucket_not_on_disk(client, settings, in_bucket, draft):
    application, user = draft
    client.force_login(user)
    before = set(in_bucket.object_keys())
    data = form_data(application, [{"cost": "100"}])
    data["new_documents"] = [SimpleUploadedFile("Budžets.pdf", PDF)]
    assert client.post(edit_url(application), data).status_code == 302

    document = application.documents.get()
    assert set(in_bucket.object_keys()) - before == {document.file.name}
    assert document.file.name.startswith(f"documents/{application.pk}/")
    assert files_on_disk(settings) == []
    # The SHA-256 recorded at upload is that of the object in the bucket.
    stored = in_bucket.read(document.file.name)
    assert stored == PDF
    assert hashlib.sha256(stored).hexdigest() == document.sha256


def test_a_download_from_the_bucket_checks_who_asks_and_gives_no_bucket_address(
    client, in_bucket, draft
):
    application, user = draft
    services.application_save_draft(
        application=application,
        by=user,
        details=DETAILS,
        activities=activities_costing(Decimal("100"), category().pk),
        new_files=[SimpleUploadedFile("plāns.pdf", PDF)],
    )
    document = application.documents.get()
    url = download_url(document)

    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert "Location" not in response  # streamed, never a redirect into the bucket
    assert response["Cache-Control"] == "private, no-store"

    # Another municipality: 404, the same link on every request, not once per link.
    client.force_login(staff_of("valkas-novads"))
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to the login

    # The object's own address in the bucket, guessed, answers 403: the bucket is private.
    guessed = f"{in_bucket.endpoint}/{BUCKET}/{document.file.name}"
    assert requests.get(guessed, timeout=10).status_code == 403
    # Were an address ever made (no view does), it would be signed and last a minute.
    signed = document.file.url
    assert "X-Amz-Signature=" in signed
    assert "X-Amz-Expires=60&" in signed or signed.endswith("X-Amz-Expires=60")
    grants = in_bucket.client().get_object_acl(Bucket=BUCKET, Key=document.file.name)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
    assert all(grant["Grantee"]["Type"] == "CanonicalUser" for grant in grants)


def test_issued_letters_are_stored_in_the_bucket_with_their_sha256(
    client, settings, in_bucket, decided_call
):
    issued = services.competition_issue_letters(
        competition=decided_call.competition, by=decided_call.coordinator
    )
    assert len(issued) == 6
    assert files_on_disk(settings) == []
    for letter in AwardLetter.objects.all():
        stored = in_bucket.read(letter.file.name)
        assert hashlib.sha256(stored).hexdigest() == letter.sha256
    letter = issued[0]
    staff = staff_of(letter.application.municipality.slug, username="letter-reader")
    client.force_login(staff)
    url = reverse("applications:letter_download", args=[letter.application_id, letter.pk])
    response = client.get(url)
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == letter.sha256
    other = next(
        a
        for a in decided_call.applications.values()
        if a.municipality != letter.application.municipality
    )
    client.force_login(staff_of(other.municipality.slug, username="other-reader"))
    assert client.get(url).status_code == 404


def test_copy_media_to_storage_copies_local_files_and_verifies_each_sha256(
    settings, in_bucket, draft, tmp_path
):
    # Files stored locally before the bucket was configured.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    application, user = draft
    services.application_save_draft(
        application=application,
        by=user,
        details=DETAILS,
        activities=activities_costing(Decimal("100"), category().pk),
        new_files=[SimpleUploadedFile("a.pdf", PDF), SimpleUploadedFile("b.pdf", PDF + b"%b")],
    )
    names = sorted(application.documents.values_list("file", flat=True))
    assert len(files_on_disk(settings)) == 2

    settings.STORAGES = {**settings.STORAGES, "default": object_storage(in_bucket.env)}
    out = StringIO()
    call_command("copy_media_to_storage", "--from", str(settings.MEDIA_ROOT), stdout=out)
    assert set(names) <= set(in_bucket.object_keys())
    for document in application.documents.all():
        assert hashlib.sha256(in_bucket.read(document.file.name)).hexdigest() == document.sha256
        assert default_storage.exists(document.file.name)
    assert "2 copied, 0 already there, 0 failed" in out.getvalue()

    # Run again: nothing is copied twice, each object is checked again.
    out = StringIO()
    call_command("copy_media_to_storage", "--from", str(settings.MEDIA_ROOT), stdout=out)
    assert "0 copied, 2 already there, 0 failed" in out.getvalue()
