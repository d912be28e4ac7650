"""The grant agreement: issued with the plan's approval as a numbered PDF, accepted or signed
electronically by the municipality's signatory, countersigned by a coordinator."""

import base64
import hashlib
import io
import re
import zipfile
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from pypdf import PdfReader

from applications.models import NumberSequence
from competitions.models import JobRun
from grants import agreements, services
from grants.models import Agreement, Grant, PlanVersion, agreement_upload_path

from .amounts import spaced
from .factories import coordinator, decided_grant, decided_grants, reviewer, staff_of
from .test_grants_plan import fitted_to, lines_of, proposed

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


# --- helpers --------------------------------------------------------------------------------


def pdf_text(pdf: bytes) -> str:
    """The text, with runs of white space made one space and the amounts' no-break spaces kept."""
    return spaced(
        " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)
    )


def stored(agreement: Agreement) -> bytes:
    with agreement.pdf.open("rb") as file:
        return file.read()


def approved(grant: Grant, total: Decimal, by=None) -> Agreement:
    """The grant's plan fitted to ``total``, proposed and approved; its current agreement."""
    version = grant.plan_versions.exclude(status=PlanVersion.Status.RETURNED).last()
    services.plan_approve(
        version=proposed(grant, fitted_to(version, total)), by=by or coordinator()
    )
    return grant.agreements.current().get()


def codes(error: ValidationError) -> list[str]:
    return [problem.code for problem in error.error_list]


def asice(
    pdf: bytes,
    *,
    name: str = "ligums.pdf",
    mimetype: bytes | None = b"application/vnd.etsi.asic-e+zip",
    signed: bool = True,
    digest_of: bytes | None = None,
) -> bytes:
    """An ASiC-E container as eParaksts makes one: ``mimetype`` first and stored, the signed
    file, and an XAdES signature whose reference names the file with its SHA-256."""
    digest = base64.b64encode(hashlib.sha256(digest_of or pdf).digest()).decode()
    signature = f"""<?xml version="1.0" encoding="UTF-8"?>
<asic:XAdESSignatures xmlns:asic="http://uri.etsi.org/02918/v1.2.1#"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
  <ds:Signature Id="S0"><ds:SignedInfo>
    <ds:Reference URI="{name}">
      <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
      <ds:DigestValue>{digest}</ds:DigestValue>
    </ds:Reference></ds:SignedInfo>
    <ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature>
</asic:XAdESSignatures>"""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if mimetype is not None:
            archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr(name, pdf, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", "<manifest/>")
        if signed:
            archive.writestr("META-INF/signatures0.xml", signature)
    return buffer.getvalue()


def signed_pdf(pdf: bytes, *, cover_all: bool = True) -> bytes:
    """The PDF with an incremental update appended that adds a signature dictionary whose
    /ByteRange covers everything but the signature value, as a signing program writes it."""
    contents = b"0" * 256
    tail = b"> >>\nendobj\ntrailer\n<< /Size 100 >>\n%%EOF\n"

    def head(a: int, b: int, c: int) -> bytes:
        return pdf + (
            b"\n99 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter "
            b"/adbe.pkcs7.detached /ByteRange [0 %010d %010d %010d] /Contents <" % (a, b, c)
        )

    hole_start = len(head(0, 0, 0)) - 1  # the "<" that opens the signature value
    hole_end = hole_start + len(contents) + 2
    total = len(head(0, 0, 0)) + len(contents) + len(tail)
    last = total - hole_end if cover_all else total - hole_end - 10
    return head(hole_start, hole_end, last) + contents + tail


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


@pytest.fixture
def cesis():
    """Cēsis's grant (7 500 requested, 4 000 awarded) with its plan fitted to 4 000 and
    approved, so that its agreement is issued; Dace Zariņa may sign for Cēsis."""
    grant = decided_grant("cesu-novads")
    signatory = staff_of("cesu-novads", "cesis-signatory")
    signatory.first_name, signatory.last_name = "Dace", "Zariņa"
    signatory.save()
    grant.municipality.signatories.add(signatory)
    agreement = approved(grant, Decimal("4000.00"))
    grant.refresh_from_db()
    return grant, agreement, signatory


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- issuing --------------------------------------------------------------------------------


def test_approving_the_plan_issues_a_numbered_agreement_stored_with_its_sha256(
    django_capture_on_commit_callbacks,
):
    grant = decided_grant("cesu-novads")
    staff_of("cesu-novads", "cesis-staff")
    with django_capture_on_commit_callbacks(execute=True):
        agreement = approved(grant, Decimal("4000.00"))
    grant.refresh_from_db()
    year = timezone.localdate().year
    assert agreement.number == f"VPR/{year}/{grant.competition.slug}/L-001"
    # Stored under its number, the slashes made dashes: one file a number, never a folder.
    assert agreement.pdf.name == (
        f"grants/{grant.pk}/agreements/VPR-{year}-{grant.competition.slug}-L-001.pdf"
    )
    assert agreement.language == "lv"
    assert agreement.sha256 == hashlib.sha256(stored(agreement)).hexdigest()
    assert agreement.plan_version.status == PlanVersion.Status.APPROVED
    assert agreement.plan_version.total == grant.agreed_total == Decimal("4000.00")
    assert grant.status == Grant.Status.SIGNING
    assert stored(agreement).startswith(b"%PDF")
    ready = [m for m in mail.outbox if agreement.number in m.subject]
    assert len(ready) == 1
    assert "staff-cesu-novads@example.lv" in ready[0].to
    assert reverse("grants:agreement", args=[grant.pk]) in ready[0].body


def test_the_latvian_agreement_prints_the_plan_the_total_in_words_the_payments_and_reports(cesis):
    grant, agreement, _signatory = cesis
    text = pdf_text(stored(agreement))
    call = grant.competition
    for line in grant.plan_versions.get().lines.all():
        assert line.title in text
    assert "Līgums par finansējuma piešķiršanu" in text
    assert f"Nr. {agreement.number}" in text
    assert f"Sagatavots {timezone.localdate(agreement.generated_at):%d.%m.%Y}." in text
    assert "redakcija aizstāj" not in text  # the first agreement of the grant replaces none
    assert "Cēsu novada pašvaldība" in text
    assert spaced("4 000,00 EUR (četri tūkstoši euro, nulle centu)") in text
    assert spaced("Avanss (50 % no Finansējuma) 2 000,00 EUR") in text
    assert spaced("Noslēguma maksājums 2 000,00 EUR") in text
    assert f"līdz {call.implementation_ends_on:%d.%m.%Y}." in text
    assert (
        f"Starpposma pārskatu par paveikto un izlietoto Pašvaldība iesniedz līdz {call.interim_report_due_on:%d.%m.%Y}."
        in text
    )
    assert f"iesniedz līdz {call.report_due_on:%d.%m.%Y}." in text
    assert "ne vairāk kā par 10 %" in text
    assert call.signatory_name in text
    assert "1. lpp. no 3" in text


def test_an_english_agreement_on_request_replaces_the_latvian_one_which_is_kept(cesis):
    grant, latvian, _signatory = cesis
    english = services.agreement_issue(grant=grant, by=coordinator(), language="en")
    latvian.refresh_from_db()
    assert latvian.replaced_by == english
    assert list(grant.agreements.current()) == [english]
    assert english.number.endswith("/L-002")
    text = pdf_text(stored(english))
    assert "Grant agreement" in text
    assert spaced("EUR 4 000,00") not in text
    assert "EUR 4,000.00 (four thousand euro, zero cents)" in text
    assert "Advance (50% of the Funding) EUR 2,000.00" in text
    assert "Final payment EUR 2,000.00" in text
    assert f"This version of the Agreement replaces Agreement No. {latvian.number}" in text
    assert f"{grant.competition.report_due_on:%-d %B %Y}" in text
    assert "Page 1 of 3" in text
    # The first one stays as it was issued.
    assert hashlib.sha256(stored(latvian)).hexdigest() == latvian.sha256


def test_the_advance_is_rounded_down_so_it_never_exceeds_its_share():
    assert agreements.advance_amount(Decimal("1000.01"), Decimal("50")) == Decimal("500.00")
    assert agreements.advance_amount(Decimal("100.00"), Decimal("33.33")) == Decimal("33.33")
    assert agreements.advance_amount(Decimal("4000.00"), Decimal("0")) == Decimal("0.00")


def test_the_agreement_is_a4_with_the_shipped_fonts_embedded(cesis):
    _grant, agreement, _signatory = cesis
    reader = PdfReader(io.BytesIO(stored(agreement)))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[font["/BaseFont"]] = font
    assert {str(name).split("+")[1] for name in fonts} == {"Letter-Serif", "Letter-Serif-Bold"}
    for font in fonts.values():
        assert "/FontFile2" in font["/DescendantFonts"][0].get_object()["/FontDescriptor"]


def test_numbers_run_without_gaps_through_a_call_and_a_failed_rendering_uses_none(monkeypatch):
    grants = decided_grants(
        {
            "smiltenes-novads": (Decimal("10000.00"), Decimal("10000.00")),
            "valkas-novads": (Decimal("8000.00"), Decimal("8000.00")),
        }
    )
    by = coordinator()
    first = approved(grants["smiltenes-novads"], Decimal("10000.00"), by=by)

    def broken(content):
        raise OSError("no fonts")

    monkeypatch.setattr(agreements, "render_agreement", broken)
    valka = grants["valkas-novads"]
    version = proposed(valka, lines_of(valka.plan_versions.get()))
    with pytest.raises(ValidationError) as refused:
        services.plan_approve(version=version, by=by)
    assert codes(refused.value) == ["render_failed"]
    # Nothing of the approval stands: the plan is still proposed, no agreement, no number.
    version.refresh_from_db()
    valka.refresh_from_db()
    assert version.status == PlanVersion.Status.PROPOSED
    assert valka.status == Grant.Status.AGREEING
    assert not valka.agreements.exists()
    monkeypatch.undo()
    services.plan_approve(version=version, by=by)
    second = valka.agreements.get()
    third = services.agreement_issue(grant=valka, by=by)
    prefix = first.number.rpartition("-")[0]
    assert [first.number, second.number, third.number] == [
        f"{prefix}-001",
        f"{prefix}-002",
        f"{prefix}-003",
    ]
    assert NumberSequence.objects.get(key=f"agreement:{prefix}").last_value == 3


def test_issuing_is_refused_to_others_than_coordinators_and_outside_signing(cesis):
    grant, _agreement, signatory = cesis
    with pytest.raises(ValidationError) as refused:
        services.agreement_issue(grant=grant, by=signatory)
    assert codes(refused.value) == ["not_coordinator"]
    other = decided_grant("valkas-novads")
    with pytest.raises(ValidationError) as refused:
        services.agreement_issue(grant=other, by=coordinator())
    assert codes(refused.value) == ["not_signing"]
    with pytest.raises(ValidationError) as refused:
        services.agreement_issue(grant=grant, by=coordinator(), language="de")
    assert codes(refused.value) == ["unknown_language"]


def test_a_plan_is_not_approved_while_the_call_lacks_what_the_agreement_prints():
    grant = decided_grant("cesu-novads")
    grant.competition.__class__.objects.filter(pk=grant.competition.pk).update(
        implementation_ends_on=None
    )
    version = proposed(grant, fitted_to(grant.plan_versions.get(), Decimal("4000.00")))
    with pytest.raises(ValidationError) as refused:
        services.plan_approve(version=version, by=coordinator())
    assert codes(refused.value) == ["call_incomplete"]
    assert "aktivitāšu īstenošanas beigu datums" in refused.value.messages[0]
    version.refresh_from_db()
    assert version.status == PlanVersion.Status.PROPOSED


# --- the municipality's page ----------------------------------------------------------------


def test_the_agreement_page_lists_the_current_and_earlier_agreements_with_their_sha256(cesis):
    grant, first, signatory = cesis
    second = services.agreement_issue(grant=grant, by=coordinator())
    page = signed_in(signatory).get(reverse("grants:agreement", args=[grant.pk]))
    assert page.status_code == 200
    text = page.text
    assert second.number in text
    assert second.sha256 in text
    assert first.number in text
    assert first.sha256 in text
    assert reverse("grants:agreement_download", args=[grant.pk, first.pk, "pdf"]) in text
    assert reverse("grants:agreement_accept", args=[grant.pk]) in text


def test_staff_who_may_not_sign_see_who_may_and_cannot_accept(cesis):
    grant, agreement, _signatory = cesis
    client = signed_in(staff_of("cesu-novads", "cesis-clerk"))
    page = client.get(reverse("grants:agreement", args=[grant.pk])).text
    assert "Dace Zariņa" in page
    assert reverse("grants:agreement_accept", args=[grant.pk]) not in page
    assert client.get(reverse("grants:agreement_accept", args=[grant.pk])).status_code == 403
    response = client.post(
        reverse("grants:agreement_accept", args=[grant.pk]), {"sha256": agreement.sha256}
    )
    assert response.status_code == 403
    agreement.refresh_from_db()
    assert agreement.accepted_at is None


def test_the_service_refuses_a_staff_member_not_named_to_sign(cesis):
    _grant, agreement, _signatory = cesis
    clerk = staff_of("cesu-novads", "cesis-clerk")
    with pytest.raises(ValidationError) as refused:
        services.agreement_accept(
            agreement=agreement, by=clerk, sha256=agreement.sha256, client_address=None
        )
    assert codes(refused.value) == ["not_signatory"]


def test_every_agreement_url_of_another_municipality_answers_404(cesis):
    grant, agreement, _signatory = cesis
    valka = staff_of("valkas-novads", "valka-signatory")
    valka.signatory_of.add(valka.municipalities.get())
    client = signed_in(valka)
    urls = [
        reverse("grants:agreement", args=[grant.pk]),
        reverse("grants:agreement_accept", args=[grant.pk]),
        *(
            reverse("grants:agreement_download", args=[grant.pk, agreement.pk, kind])
            for kind in ("pdf", "signed", "countersigned")
        ),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("grants:agreement_accept", args=[grant.pk])).status_code == 404
    assert client.post(reverse("grants:agreement_upload", args=[grant.pk])).status_code == 404
    # Reviewers see none of it either.
    assert (
        signed_in(reviewer())
        .get(reverse("grants:agreement_download", args=[grant.pk, agreement.pk, "pdf"]))
        .status_code
        == 404
    )


def test_the_download_is_the_stored_pdf_for_staff_and_coordinators(cesis):
    grant, agreement, signatory = cesis
    url = reverse("grants:agreement_download", args=[grant.pk, agreement.pk, "pdf"])
    for user in (signatory, coordinator()):
        response = signed_in(user).get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert "attachment" in response["Content-Disposition"]
        assert "C%C4%93su_novads" in response["Content-Disposition"]
        assert b"".join(response.streaming_content) == stored(agreement)
    missing = reverse("grants:agreement_download", args=[grant.pk, agreement.pk, "signed"])
    assert signed_in(signatory).get(missing).status_code == 404


# --- accepting on the portal ----------------------------------------------------------------


def test_accepting_records_who_when_the_address_and_the_sha256_and_tells_the_coordinators(
    cesis, django_capture_on_commit_callbacks
):
    grant, agreement, signatory = cesis
    coordinator("coordinator-mail")
    client = signed_in(signatory)
    url = reverse("grants:agreement_accept", args=[grant.pk])
    page = client.get(url).text
    assert "Dace Zariņa" in page
    assert agreement.number in page
    assert agreement.sha256 in page
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"sha256": agreement.sha256}, REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 302
    assert response["Location"] == reverse("grants:agreement", args=[grant.pk])
    agreement.refresh_from_db()
    assert agreement.accepted_by == signatory
    assert agreement.accepted_from == "192.0.2.7"
    assert (
        agreement.accepted_sha256
        == agreement.sha256
        == hashlib.sha256(stored(agreement)).hexdigest()
    )
    assert agreement.accepted_at is not None
    grant.refresh_from_db()
    assert grant.status == Grant.Status.SIGNING  # until the coordinator countersigns
    [message] = mail.outbox
    assert "coordinator-mail@example.lv" in message.to
    assert agreement.number in message.subject
    assert "Dace Zariņa" in message.body
    page = client.get(reverse("grants:agreement", args=[grant.pk])).text
    assert "Dace Zariņa" in page
    assert "192.0.2.7" in page


def test_a_changed_document_is_not_accepted(cesis):
    grant, agreement, signatory = cesis
    client = signed_in(signatory)
    url = reverse("grants:agreement_accept", args=[grant.pk])
    shown = agreement.sha256
    assert shown in client.get(url).text
    reissued = services.agreement_issue(grant=grant, by=coordinator())
    response = client.post(url, {"sha256": shown})
    assert response.status_code == 200
    assert "Līgums vairs nav tas dokuments, kas jums tika parādīts" in response.text
    assert reissued.sha256 in response.text  # the page now offers the new one
    assert not Agreement.objects.filter(accepted_at__isnull=False).exists()


def test_accepting_twice_is_refused(cesis):
    _grant, agreement, signatory = cesis
    services.agreement_accept(
        agreement=agreement, by=signatory, sha256=agreement.sha256, client_address="192.0.2.1"
    )
    with pytest.raises(ValidationError) as refused:
        services.agreement_accept(
            agreement=agreement, by=signatory, sha256=agreement.sha256, client_address="192.0.2.2"
        )
    assert codes(refused.value) == ["already_signed"]
    agreement.refresh_from_db()
    assert agreement.accepted_from == "192.0.2.1"


def test_a_replaced_agreement_cannot_be_accepted(cesis):
    grant, agreement, signatory = cesis
    services.agreement_issue(grant=grant, by=coordinator())
    with pytest.raises(ValidationError) as refused:
        services.agreement_accept(
            agreement=agreement, by=signatory, sha256=agreement.sha256, client_address=None
        )
    assert codes(refused.value) == ["agreement_replaced"]


def test_acceptance_behind_the_load_balancer_records_the_clients_address(cesis, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    grant, agreement, signatory = cesis
    signed_in(signatory).post(
        reverse("grants:agreement_accept", args=[grant.pk]),
        {"sha256": agreement.sha256},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    agreement.refresh_from_db()
    assert agreement.accepted_from == "203.0.113.9"


# --- uploading the agreement signed ---------------------------------------------------------


def uploaded(agreement, signatory, name, data) -> Agreement:
    return services.agreement_upload_signed(
        agreement=agreement, by=signatory, file=upload(name, data)
    )


def test_an_asice_container_holding_the_agreement_is_stored_with_its_sha256(
    cesis, django_capture_on_commit_callbacks
):
    _grant, agreement, signatory = cesis
    container = asice(stored(agreement))
    with django_capture_on_commit_callbacks(execute=True):
        result = uploaded(agreement, signatory, "līgums.asice", container)
    result.refresh_from_db()
    assert result.signed_file_kind == "asice"
    assert result.signed_file_sha256 == hashlib.sha256(container).hexdigest()
    assert result.signed_file_uploaded_by == signatory
    with result.signed_file.open("rb") as file:
        assert file.read() == container
    assert result.signed_file.name.endswith(".asice")
    assert result.municipality_signed
    assert any(agreement.number in message.subject for message in mail.outbox)


def test_an_edoc_is_an_asice_container_too(cesis):
    _grant, agreement, signatory = cesis
    assert (
        uploaded(agreement, signatory, "ligums.edoc", asice(stored(agreement))).signed_file_kind
        == "edoc"
    )


def test_a_signed_pdf_that_continues_the_agreement_is_accepted(cesis):
    _grant, agreement, signatory = cesis
    result = uploaded(agreement, signatory, "ligums.pdf", signed_pdf(stored(agreement)))
    assert result.signed_file_kind == "pdf"


@pytest.mark.parametrize(
    ("name", "build", "code", "words"),
    [
        (
            "cits.asice",
            lambda pdf: asice(pdf.replace(b"%PDF-1.7", b"%PDF-1.6", 1)),
            "container_without_agreement",
            "does not hold agreement",
        ),
        (
            "bez.asice",
            lambda pdf: asice(pdf, mimetype=None),
            "container_without_mimetype",
            "first entry must be “mimetype”",
        ),
        (
            "cits-tips.asice",
            lambda pdf: asice(pdf, mimetype=b"application/zip"),
            "container_wrong_mimetype",
            "is not application/vnd.etsi.asic-e+zip",
        ),
        ("neparakstits.asice", lambda pdf: asice(pdf, signed=False), "not_signed", "not signed"),
        (
            "cits-paraksts.asice",
            lambda pdf: asice(pdf, digest_of=b"another document"),
            "agreement_not_signed",
            "no signature in it signs that file",
        ),
        ("neparakstits.pdf", lambda pdf: pdf, "not_signed", "not signed"),
        (
            "nepabeigts.pdf",
            lambda pdf: pdf + b"\n% a note appended\n",
            "not_signed",
            "not signed",
        ),
        (
            "dala.pdf",
            lambda pdf: signed_pdf(pdf, cover_all=False),
            "signature_incomplete",
            "does not cover the whole agreement",
        ),
        (
            "cits.pdf",
            lambda pdf: signed_pdf(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"),
            "pdf_not_the_agreement",
            "is not agreement",
        ),
        ("ligums.txt", lambda pdf: b"just text", "file_type_not_accepted", "EDOC, ASICE, PDF"),
        ("ligums.asice", lambda pdf: signed_pdf(pdf), "file_type_not_accepted", "EDOC, ASICE, PDF"),
    ],
)
def test_an_upload_that_is_not_this_agreement_signed_is_refused_saying_why(
    cesis, name, build, code, words
):
    _grant, agreement, signatory = cesis
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        uploaded(agreement, signatory, name, build(stored(agreement)))
    assert codes(refused.value) == [code]
    assert words in " ".join(refused.value.messages)
    agreement.refresh_from_db()
    assert not agreement.signed_file
    assert not agreement.municipality_signed


def test_a_signed_file_whose_row_cannot_be_written_is_not_left_in_storage(cesis):
    """The file is stored before its row is written; if writing the row fails, the stored
    file is removed again, and the agreement is as it was."""
    _grant, agreement, signatory = cesis
    storage = agreement.signed_file.storage
    folder = agreement_upload_path(agreement, "")
    before = storage.listdir(folder)[1]
    assert before, "the generated agreement is stored there"

    def fail_the_agreements_update(execute, sql, params, many, context):
        if sql.startswith("UPDATE") and Agreement._meta.db_table in sql:
            raise DatabaseError("the database went away while the agreement was written")
        return execute(sql, params, many, context)

    with (
        connection.execute_wrapper(fail_the_agreements_update),
        pytest.raises(DatabaseError),
    ):
        uploaded(agreement, signatory, "ligums.asice", asice(stored(agreement)))
    assert storage.listdir(folder)[1] == before
    agreement.refresh_from_db()
    assert not agreement.signed_file
    assert not agreement.municipality_signed


def test_the_refusal_names_the_agreement_on_the_page(cesis):
    grant, agreement, signatory = cesis
    response = signed_in(signatory).post(
        reverse("grants:agreement_upload", args=[grant.pk]),
        {"file": upload("cits.asice", asice(b"%PDF-1.4 another"))},
    )
    assert response.status_code == 200
    assert f"Konteinerā nav līguma {agreement.number}" in response.text


# --- countersigning -------------------------------------------------------------------------


def test_countersigning_waits_for_the_municipality(cesis):
    _grant, agreement, _signatory = cesis
    with pytest.raises(ValidationError) as refused:
        services.agreement_countersign(agreement=agreement, by=coordinator())
    assert codes(refused.value) == ["municipality_not_signed"]


def test_only_a_coordinator_countersigns_and_then_the_grant_is_in_progress(
    cesis, django_capture_on_commit_callbacks
):
    grant, agreement, signatory = cesis
    services.agreement_accept(
        agreement=agreement, by=signatory, sha256=agreement.sha256, client_address=None
    )
    assert agreement.history.first().history_user == signatory
    with pytest.raises(ValidationError) as refused:
        services.agreement_countersign(agreement=agreement, by=signatory)
    assert codes(refused.value) == ["not_coordinator"]
    by = coordinator()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.agreement_countersign(agreement=agreement, by=by)
    agreement.refresh_from_db()
    grant.refresh_from_db()
    assert (agreement.countersigned_by, grant.status) == (by, Grant.Status.IN_PROGRESS)
    assert agreement.history.first().history_user == by
    latest = grant.history.first()
    assert (latest.status, latest.history_user) == (Grant.Status.IN_PROGRESS, by)
    [message] = mail.outbox
    assert signatory.email in message.to
    assert agreement.number in message.subject
    with pytest.raises(ValidationError) as refused:
        services.agreement_countersign(agreement=agreement, by=by)
    assert codes(refused.value) == ["already_countersigned"]


def test_the_countersign_screen_records_the_countersigned_file(cesis):
    grant, agreement, signatory = cesis
    container = asice(stored(agreement))
    uploaded(agreement, signatory, "ligums.edoc", container)
    by = coordinator()
    client = signed_in(by)
    url = reverse("admin:grants_agreement_countersign", args=[agreement.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert agreement.sha256 in page.text
    countersigned = asice(stored(agreement), name="ligums-vpr.pdf")
    response = client.post(url, {"file": upload("ligums-vpr.edoc", countersigned)})
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.countersigned_by == by
    assert agreement.countersigned_file_sha256 == hashlib.sha256(countersigned).hexdigest()
    # Under the agreement's number, a random part and the region's mark: never the upload's name.
    number = re.escape(agreement.number.replace("/", "-"))
    assert re.fullmatch(
        rf"grants/{grant.pk}/agreements/{number}_[0-9a-f]{{8}}_vpr\.edoc",
        agreement.countersigned_file.name,
    )
    grant.refresh_from_db()
    assert grant.status == Grant.Status.IN_PROGRESS


def test_the_countersign_screen_refuses_a_file_that_is_not_the_agreement(cesis):
    _grant, agreement, signatory = cesis
    services.agreement_accept(
        agreement=agreement, by=signatory, sha256=agreement.sha256, client_address=None
    )
    client = signed_in(coordinator())
    response = client.post(
        reverse("admin:grants_agreement_countersign", args=[agreement.pk]),
        {"file": upload("cits.pdf", b"%PDF-1.4\n%%EOF\n")},
    )
    assert response.status_code == 200
    assert f"PDF nav līgums {agreement.number}" in response.text
    agreement.refresh_from_db()
    assert agreement.countersigned_at is None


def test_issuing_again_from_the_admin_keeps_the_old_agreement(cesis):
    grant, agreement, _signatory = cesis
    client = signed_in(coordinator())
    change = client.get(reverse("admin:grants_agreement_change", args=[agreement.pk])).text
    again = reverse("admin:grants_agreement_issue_again", args=[agreement.pk, "en"])
    assert again in change
    assert client.get(again).status_code == 405
    assert client.post(again).status_code == 302
    agreement.refresh_from_db()
    assert agreement.replaced_by.language == "en"
    assert grant.agreements.count() == 2


def test_an_amendment_issues_a_new_agreement_and_the_signed_one_stays(cesis):
    grant, first, signatory = cesis
    services.agreement_accept(
        agreement=first, by=signatory, sha256=first.sha256, client_address=None
    )
    by = coordinator()
    services.agreement_countersign(agreement=first, by=by)
    grant.refresh_from_db()
    assert grant.status == Grant.Status.IN_PROGRESS
    amended = approved(grant, Decimal("3900.00"), by=by)
    grant.refresh_from_db()
    first.refresh_from_db()
    assert grant.status == Grant.Status.SIGNING
    assert first.replaced_by == amended
    assert first.countersigned_at is not None
    assert amended.plan_version.number == 2
    assert spaced("3 900,00 EUR") in pdf_text(stored(amended))
    assert f"aizstāj Līgumu Nr. {first.number}" in pdf_text(stored(amended))
    url = reverse("grants:agreement_download", args=[grant.pk, first.pk, "pdf"])
    response = signed_in(signatory).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == stored(first)


def test_the_admin_issues_agreements_of_selected_grants_as_a_job_naming_each_refusal(cesis):
    grant, latvian, _signatory = cesis
    other = decided_grant("valkas-novads")  # its plan not approved: no agreement yet
    client = signed_in(coordinator())
    response = client.post(
        reverse("admin:grants_grant_changelist"),
        {"action": "issue_agreements", "_selected_action": [grant.pk, other.pk]},
        follow=True,
    )
    job = JobRun.objects.get()
    assert response.redirect_chain == [
        (reverse("admin:competitions_jobrun_change", args=[job.pk]), 302)
    ]
    assert (job.status, job.done, job.total) == (JobRun.Status.FAILED, 1, 2)
    assert len(job.failures) == 1
    assert job.failures[0].startswith(f"{other}: ")
    assert other.municipality.name in response.content.decode()
    latvian.refresh_from_db()
    reissued = grant.agreements.current().get()
    assert latvian.replaced_by == reissued
    assert hashlib.sha256(stored(reissued)).hexdigest() == reissued.sha256
    assert not other.agreements.exists()
