"""Archive bombs: an Office, OpenDocument or signature container upload is refused on what its
ZIP directory says it unpacks to, before anything is stored."""

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from applications import services, uploads
from applications.models import SupportingDocument
from grants.signatures import SIGNED_KIND_NAMES, SIGNED_KINDS

from .factories import CompetitionFactory, municipality, staff_of
from .test_portal_views import form_data

MB = 1024 * 1024
DOCX_PARTS = {"[Content_Types].xml": "<Types/>", "_rels/.rels": "<Relationships/>"}


def zipped(
    parts: dict[str, str | bytes], *, zeros: int = 0, zeros_name: str = "word/document.xml"
) -> bytes:
    """A ZIP with ``parts`` and, when ``zeros`` is given, an entry of that many zero bytes
    deflated at the fastest level (a megabyte of zeros packs to about a kilobyte)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, content in parts.items():
            compress = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(name, content, compress_type=compress)
        if zeros:
            with archive.open(zeros_name, "w", force_zip64=True) as entry:
                for start in range(0, zeros, MB):
                    entry.write(bytes(min(MB, zeros - start)))
    return buffer.getvalue()


def checked(name: str, data: bytes, **kwargs) -> uploads.CheckedDocument:
    return uploads.check_document(SimpleUploadedFile(name, data), **kwargs)


def refusal(name: str, data: bytes, **kwargs) -> ValidationError:
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        checked(name, data, **kwargs)
    return refused.value


def test_a_real_docx_is_accepted():
    document = checked("plans.docx", zipped({**DOCX_PARTS, "word/document.xml": "<w:document/>"}))
    assert document.content_type.endswith("wordprocessingml.document")


def test_a_docx_that_unpacks_past_the_limit_is_refused_naming_the_limit():
    bomb = zipped(DOCX_PARTS, zeros=128 * MB)
    assert len(bomb) < MB  # small when packed: only what it unpacks to gives it away
    error = refusal("plans.docx", bomb)
    assert error.code == "archive_too_large_unpacked"
    assert "“plans.docx” unpacks to 128,0 MB" in error.messages[0]
    assert "at most 100 MB" in error.messages[0]


def test_a_docx_compressed_far_beyond_any_document_is_refused_as_a_bomb():
    bomb = zipped(DOCX_PARTS, zeros=8 * MB)
    error = refusal("plans.docx", bomb)
    assert error.code == "archive_compression_ratio"
    assert "more than 200 times" in error.messages[0]
    assert "word/document.xml" in error.messages[0]


def test_a_few_hundred_kilobytes_of_blanks_are_not_held_to_the_ratio():
    document = checked(
        "tabula.xlsx",
        zipped(
            {**DOCX_PARTS, "xl/workbook.xml": "<workbook/>"},
            zeros=MB - 1,
            zeros_name="xl/worksheets/sheet1.xml",
        ),
    )
    assert document.extension == ".xlsx"


def test_an_archive_of_too_many_files_is_refused_naming_the_limit():
    parts = dict(DOCX_PARTS, **{f"word/media/image{n}.png": b"" for n in range(1001)})
    error = refusal("plans.docx", zipped(parts))
    assert error.code == "archive_too_many_entries"
    assert "holds 1003 files" in error.messages[0]
    assert "at most 1000" in error.messages[0]


def test_an_opendocument_bomb_is_refused():
    parts = {
        "mimetype": b"application/vnd.oasis.opendocument.text",
        "META-INF/manifest.xml": "<m/>",
    }
    error = refusal("plans.odt", zipped(parts, zeros=8 * MB, zeros_name="content.xml"))
    assert error.code == "archive_compression_ratio"


@pytest.mark.parametrize("name", ["ligums.edoc", "ligums.asice"])
def test_a_signature_container_bomb_is_refused_by_the_same_limits(name):
    parts = {"mimetype": b"application/vnd.etsi.asic-e+zip", "META-INF/manifest.xml": "<m/>"}
    bomb = zipped(parts, zeros=128 * MB, zeros_name="ligums.pdf")
    error = refusal(name, bomb, accepted=SIGNED_KINDS, accepted_names=SIGNED_KIND_NAMES)
    assert error.code == "archive_too_large_unpacked"


@pytest.mark.django_db
def test_a_bomb_attached_to_an_application_is_refused_on_the_page_and_not_stored(client):
    user = staff_of("smiltenes-novads")
    client.force_login(user)
    draft = services.application_start(
        competition=CompetitionFactory(), municipality=municipality("smiltenes-novads"), by=user
    )
    response = client.post(
        reverse("applications:edit", args=[draft.pk]),
        {
            **form_data(draft, [{"cost": "100"}]),
            "new_documents": [SimpleUploadedFile("plans.docx", zipped(DOCX_PARTS, zeros=128 * MB))],
        },
    )
    assert response.status_code == 200
    assert "Izpakots fails “plans.docx” aizņem 128,0 MB" in response.text
    assert not SupportingDocument.objects.filter(application=draft).exists()
