"""Decision letters: real PDFs rendered by WeasyPrint and read back, and the services that
number, store and replace them."""

import hashlib
import http.server
import io
import shutil
import subprocess
import threading
from decimal import Decimal
from pathlib import Path

import pytest
import weasyprint
from django.core.exceptions import ValidationError
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from applications import letters, services
from applications.models import Application, AwardLetter, NumberSequence, PlannedActivity
from competitions.models import Competition, Municipality

from .amounts import spaced
from .conftest import REJECTION_REASON, skip_or_fail
from .factories import ApplicationFactory, coordinator

pytestmark = pytest.mark.django_db


LATVIAN_LETTERS = "āēīūčģķļņšž"


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of each page, with runs of white space made one space (justified lines come
    back with wider gaps) and the amounts' spaces no-break ones again, as the letter has them."""
    return [
        spaced(" ".join(page.extract_text().split())) for page in PdfReader(io.BytesIO(pdf)).pages
    ]


def pdf_text(pdf: bytes) -> str:
    return " ".join(pdf_pages(pdf))


def squashed(text: str) -> str:
    return "".join(text.split())


def issue(case, slug: str, language: str = "lv") -> AwardLetter:
    return services.letter_issue(
        application=case.applications[slug], by=case.coordinator, language=language
    )


def stored_bytes(letter: AwardLetter) -> bytes:
    with letter.file.open("rb") as handle:
        return handle.read()


def letter_files(settings) -> list[Path]:
    return sorted((Path(settings.MEDIA_ROOT) / "letters").rglob("*.pdf"))


# --- what a letter says -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("4000.00", "četri tūkstoši euro, nulle centu"),
        ("6200.00", "seši tūkstoši divi simti euro, nulle centu"),
        ("9800.00", "deviņi tūkstoši astoņi simti euro, nulle centu"),
        ("10000.00", "desmit tūkstoši euro, nulle centu"),
    ],
)
def test_the_source_case_awards_in_latvian_words(amount, words):
    assert letters.amount_in_words(Decimal(amount), "lv") == words


def test_amount_in_words_reads_euros_not_cents_and_speaks_english_too():
    # num2words reads an int given for a currency as cents: 9800 would be "98 euro".
    assert letters.amount_in_words(9800, "lv").startswith("deviņi tūkstoši astoņi simti euro")
    assert letters.amount_in_words(Decimal("1.01"), "lv") == "viens euro, viens cents"
    assert (
        letters.amount_in_words(Decimal("9800.00"), "en")
        == "nine thousand, eight hundred euro, zero cents"
    )


def test_every_municipality_of_the_region_is_declined_for_the_addressee_line():
    genitives = {
        name: letters.latvian_genitive(name)
        for name in Municipality.objects.values_list("name", flat=True)
    }
    assert len(genitives) == 26
    assert genitives["Smiltenes novads"] == "Smiltenes novada"
    assert genitives["Valmieras pilsēta"] == "Valmieras pilsētas"
    assert all(genitive.endswith(("novada", "pilsētas")) for genitive in genitives.values())
    assert letters.latvian_genitive("Vidzemes plānošanas reģions") == "Vidzemes plānošanas reģiona"
    assert letters.latvian_genitive("Rīga") == "Rīgas"
    # A name of another shape is left as it is rather than declined wrongly.
    assert letters.latvian_genitive("VARAM") == "VARAM"
    assert letters.latvian_genitive("Alsviķis") == "Alsviķis"


# --- the PDF ----------------------------------------------------------------------------------


def test_award_letter_names_the_municipality_call_and_amount_in_figures_and_words(decided_call):
    letter = issue(decided_call, "valmieras-pilseta")
    text = pdf_text(stored_bytes(letter))
    for expected in [
        "VIDZEMES PLĀNOŠANAS REĢIONS",
        "Jāņa Poruka iela 8-108, Cēsis, LV-4101 · vidzeme@vidzeme.lv",
        "16.09.2019. Nr. VPR/2019/remigration-2019/",
        "Valmieras pilsētas pašvaldībai",
        "Lēmums par finansējuma piešķiršanu",
        "konkursā “Remigrācijas sekmēšanas pakalpojumi pašvaldībās",
        "Valmieras pilsētas pašvaldības pieteikumu Nr. REM-2019-",
        spaced(
            "Piešķirtais finansējums: 9 800,00 EUR (deviņi tūkstoši astoņi simti euro, nulle centu)."
        ),
        spaced("Pieprasītais finansējums: 9 800,00 EUR."),
        "Finansējums piešķirts pieprasītajā apmērā.",
        "Informatīvā brošūra",
        "Vizīte pie diasporas",
        "Informatīvo materiālu sagatavošana",
        spaced("Kopā pieprasīts 9 800,00 EUR"),
        "līdz 15.12.2019.",
        "iesniedzams līdz 15.01.2020.",
        "ar Vidzemes plānošanas reģiona finansiālu atbalstu",
        "Ar cieņu,",
        "Administrācijas vadītājs Guntis Gailītis",
    ]:
        assert expected in text, expected
    assert letter.number in text


def test_every_latvian_letter_survives_into_the_pdf(decided_call):
    application = decided_call.applications["smiltenes-novads"]
    PlannedActivity.objects.filter(application=application, order=1).update(
        title="Ģimeņu čats: ķēķis, ļaudis, ņiprums, šūšana, žogs un āboli"
    )
    pdf = stored_bytes(issue(decided_call, "smiltenes-novads"))
    text = pdf_text(pdf)
    assert "Ģimeņu čats: ķēķis, ļaudis, ņiprums, šūšana, žogs un āboli" in text
    assert set(LATVIAN_LETTERS) <= set(text)
    # A second reader, poppler's, reads the same letters (the title wraps in its cell).
    pdftotext = shutil.which("pdftotext")
    if not pdftotext:
        skip_or_fail("pdftotext is missing (apt-get install poppler-utils)")
    poppler = subprocess.run(
        [pdftotext, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert squashed("Ģimeņu čats: ķēķis, ļaudis, ņiprums, šūšana, žogs un āboli") in squashed(
        poppler
    )
    assert "deviņi tūkstoši" not in poppler  # Smiltene got 10 000
    assert "desmit tūkstoši euro, nulle centu" in poppler


def test_partial_award_is_said_for_cesis_and_not_for_smiltene(decided_call):
    cesis = pdf_text(stored_bytes(issue(decided_call, "cesu-novads")))
    smiltene = pdf_text(stored_bytes(issue(decided_call, "smiltenes-novads")))
    assert (
        spaced("Finansējums piešķirts daļēji: 4 000,00 EUR no pieprasītajiem 7 500,00 EUR.")
        in cesis
    )
    assert "četri tūkstoši euro, nulle centu" in cesis
    assert "daļēji" not in smiltene
    assert "Finansējums piešķirts pieprasītajā apmērā." in smiltene
    assert "Finansējums piešķirts pieprasītajā apmērā." not in cesis


def test_rejection_letter_states_the_reason(decided_call):
    letter = issue(decided_call, "cesvaines-novads")
    text = pdf_text(stored_bytes(letter))
    assert letter.kind == AwardLetter.Kind.REJECTION
    assert "Lēmums par atteikumu piešķirt finansējumu" in text
    assert "Cesvaines novada pašvaldībai" in text
    assert "nolēma finansējumu nepiešķirt" in text
    assert f"Lēmuma pamatojums {REJECTION_REASON}" in text
    assert spaced("Pieprasītais finansējums: 3 000,00 EUR.") in text
    assert "Finansējuma izmantošanas nosacījumi" not in text


def test_english_letter_on_request(decided_call):
    letter = issue(decided_call, "gulbenes-novads", language="en")
    text = pdf_text(stored_bytes(letter))
    assert letter.language == "en"
    for expected in [
        "VIDZEME PLANNING REGION",
        "Jāņa Poruka iela 8-108, Cēsis, LV-4101 · vidzeme@vidzeme.lv",
        "16 September 2019 No. VPR/2019/remigration-2019/",
        "Local government of Gulbenes novads",
        "Decision to award funding",
        "in the call “Remigration promotion services in municipalities",
        "Funding awarded: EUR 6,200.00 (six thousand, two hundred euro, zero cents).",
        "until 15 December 2019.",
        "Yours faithfully,",
        "Page 1 of",
    ]:
        assert expected in text, expected


def with_a_long_reason(application) -> None:
    """A reason of some forty lines: the letter no longer fits one page."""
    application.decision_reason = " ".join(["Izmaksas daļēji neatbilst konkursa nolikumam."] * 40)
    application.save(update_fields=["decision_reason"])


@pytest.mark.parametrize("language", ["lv", "en"])
def test_a_typical_award_letter_ends_on_its_first_page(decided_call, language):
    # Before, each of these ran onto a second page holding only the last condition and the
    # signature.
    for slug in ["smiltenes-novads", "valmieras-pilseta", "cesu-novads"]:
        pages = pdf_pages(stored_bytes(issue(decided_call, slug, language)))
        assert len(pages) == 1, (slug, pages[1:])


def test_a_letter_too_long_for_a_page_keeps_its_conditions_together(decided_call):
    with_a_long_reason(decided_call.applications["cesu-novads"])
    pages = pdf_pages(stored_bytes(issue(decided_call, "cesu-novads")))
    assert len(pages) == 2
    assert "Finansējuma izmantošanas nosacījumi" in pages[1]
    assert "Ar cieņu" in pages[1]


def test_pages_are_numbered_in_latvian_in_the_footer(decided_call):
    with_a_long_reason(decided_call.applications["cesu-novads"])
    letter = issue(decided_call, "cesu-novads")
    pages = pdf_pages(stored_bytes(letter))
    assert len(pages) == 2
    for number, text in enumerate(pages, start=1):
        assert f"{letter.number} {number}. lpp. no 2" in text


def test_letter_is_a4_with_the_shipped_fonts_embedded(decided_call):
    reader = PdfReader(io.BytesIO(stored_bytes(issue(decided_call, "valkas-novads"))))
    width, height = (float(value) for value in reader.pages[0].mediabox[2:])
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 297)
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[font["/BaseFont"]] = font
    assert len(fonts) == 2  # regular and bold, nothing borrowed from the machine
    for font in fonts.values():
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        embedded = TTFont(io.BytesIO(descriptor["/FontFile2"].get_object().get_data()))
        assert embedded["name"].getDebugName(1) == "Noto Serif"
    assert {str(name).split("+")[1] for name in fonts} == {"Letter-Serif", "Letter-Serif-Bold"}


# --- nothing fetched ------------------------------------------------------------------------


class RecordingHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def listener():
    """A local HTTP server that records every request it gets."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RecordingHandler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def fetched(monkeypatch):
    """Every URL WeasyPrint asks the letter fetcher for."""
    asked = []
    original = letters.StaticFilesOnlyFetcher.fetch

    def recording_fetch(self, url, headers=None):
        asked.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(letters.StaticFilesOnlyFetcher, "fetch", recording_fetch)
    monkeypatch.setattr(letters, "_renderer", letters._Renderer())  # fonts are fetched anew
    return asked


def test_markup_typed_by_a_municipality_is_printed_as_text_and_fetches_nothing(
    decided_call, listener, fetched
):
    port = listener.server_address[1]
    markup = f'<img src="http://127.0.0.1:{port}/pixel.png">'
    application = decided_call.applications["smiltenes-novads"]
    PlannedActivity.objects.filter(application=application, order=1).update(title=markup)
    Application.objects.filter(pk=application.pk).update(contact_name=f"<b>{markup}</b>")

    text = pdf_text(stored_bytes(issue(decided_call, "smiltenes-novads")))

    assert squashed(markup) in squashed(text)
    assert squashed(f"Kontaktpersona: <b>{markup}</b>") in squashed(text)
    assert listener.requests == []
    assert fetched, "the letter's own fonts go through the fetcher"
    assert all(letters.served_path(url) for url in fetched), fetched


def test_even_markup_that_got_through_cannot_make_the_renderer_fetch(listener, fetched):
    base = f"http://127.0.0.1:{listener.server_address[1]}"
    html = (
        f'<link rel="stylesheet" href="{base}/style.css">'
        f'<p style="background: url({base}/background.png)">x</p>'
        f'<img src="{base}/pixel.png"><img src="file:///etc/passwd">'
    )
    assert letters.html_to_pdf(html).startswith(b"%PDF")
    assert listener.requests == []
    assert f"{base}/pixel.png" in fetched  # asked, and refused


def test_fetcher_serves_the_letter_stylesheet_and_fonts_only():
    fetcher = letters.StaticFilesOnlyFetcher()
    font = letters.STATIC_DIR / "fonts" / "NotoSerif-Regular-latin.ttf"
    assert fetcher.fetch(font.as_uri()).read() == font.read_bytes()
    assert letters.served_path(letters.STYLESHEET.as_uri()) == letters.STYLESHEET.resolve()
    outside = [
        "http://127.0.0.1:9/pixel.png",
        "https://127.0.0.1/pixel.png",
        "data:image/png;base64,iVBORw0KGgo=",
        "file:///etc/passwd",
        (letters.STATIC_DIR / "css" / "portal.css").as_uri(),
        letters.STATIC_DIR.as_uri() + "/fonts/../../remigration_portal/settings.py",
        "file://127.0.0.1" + font.as_uri().removeprefix("file://"),
        (letters.STATIC_DIR / "fonts" / "missing.ttf").as_uri(),
    ]
    for url in outside:
        assert letters.served_path(url) is None, url
        with pytest.raises(ValueError, match="only use the project's own files"):
            fetcher.fetch(url)


def test_fetcher_follows_no_link_out_of_its_folders(monkeypatch, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    (served / "letter.css").write_text("p {}")
    (tmp_path / "secret.txt").write_text("secret")
    (served / "link.css").symlink_to(tmp_path / "secret.txt")
    monkeypatch.setattr(letters, "SERVED_DIRS", (served,))
    assert (
        letters.served_path((served / "letter.css").as_uri()) == (served / "letter.css").resolve()
    )
    assert letters.served_path((served / "link.css").as_uri()) is None


# --- issuing ----------------------------------------------------------------------------------


def test_issue_numbers_and_stores_the_pdf_with_its_sha256_and_issuer(decided_call, settings):
    letter = issue(decided_call, "smiltenes-novads")
    pdf = stored_bytes(letter)
    assert letter.number == "VPR/2019/remigration-2019/001"
    assert letter.kind == AwardLetter.Kind.AWARD
    assert letter.language == "lv"
    assert letter.issued_by == decided_call.coordinator
    assert letter.issued_at.year == 2019
    assert letter.replaced_by is None
    assert pdf.startswith(b"%PDF-")
    assert letter.sha256 == hashlib.sha256(pdf).hexdigest()
    assert letter_files(settings) == [
        Path(settings.MEDIA_ROOT) / "letters/2019/VPR-2019-remigration-2019-001.pdf"
    ]


def test_reissue_makes_a_new_letter_and_keeps_the_first_marked_replaced(decided_call, settings):
    first = issue(decided_call, "valkas-novads")
    first_pdf = stored_bytes(first)
    second = issue(decided_call, "valkas-novads")
    first.refresh_from_db()
    assert second.number == "VPR/2019/remigration-2019/002"
    assert first.replaced_by == second
    assert second.replaced_by is None
    assert stored_bytes(first) == first_pdf
    assert first.sha256 == hashlib.sha256(first_pdf).hexdigest()
    assert len(letter_files(settings)) == 2
    assert list(decided_call.applications["valkas-novads"].letters.current()) == [second]


def test_an_english_letter_does_not_replace_the_latvian_one(decided_call):
    latvian = issue(decided_call, "gulbenes-novads")
    english = issue(decided_call, "gulbenes-novads", language="en")
    latvian.refresh_from_db()
    assert latvian.replaced_by is None
    assert set(decided_call.applications["gulbenes-novads"].letters.current()) == {
        latvian,
        english,
    }


def test_issue_is_refused_before_the_decision_and_leaves_no_number_behind(settings):
    draft = ApplicationFactory()
    with pytest.raises(ValidationError) as error:
        services.letter_issue(application=draft, by=coordinator())
    assert [e.code for e in error.value.error_list] == ["not_decided"]
    assert "melnraksts" in " ".join(error.value.messages)
    assert not AwardLetter.objects.exists()
    assert not NumberSequence.objects.filter(key__startswith="letter:").exists()


def test_issue_is_refused_in_another_language(decided_call):
    with pytest.raises(ValidationError) as error:
        issue(decided_call, "smiltenes-novads", language="de")
    assert [e.code for e in error.value.error_list] == ["unknown_language"]


def test_award_letter_is_refused_while_the_call_lacks_its_conditions_or_signatory(decided_call):
    Competition.objects.filter(pk=decided_call.competition.pk).update(
        report_due_on=None, signatory_position=""
    )
    with pytest.raises(ValidationError) as error:
        issue(decided_call, "smiltenes-novads")
    assert [e.code for e in error.value.error_list] == ["call_incomplete"]
    assert "parakstītāja amats" in " ".join(error.value.messages)
    assert "atskaites iesniegšanas termiņš" in " ".join(error.value.messages)
    # A rejection letter states no conditions, but it is signed.
    Competition.objects.filter(pk=decided_call.competition.pk).update(signatory_position="x")
    assert issue(decided_call, "cesvaines-novads").kind == AwardLetter.Kind.REJECTION


def test_a_failed_rendering_leaves_no_letter_no_file_and_no_number(
    decided_call, monkeypatch, settings
):
    def broken(*args, **kwargs):
        raise OSError("WeasyPrint failed")

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", broken)
    with pytest.raises(ValidationError) as error:
        issue(decided_call, "smiltenes-novads")
    assert [e.code for e in error.value.error_list] == ["render_failed"]
    assert not AwardLetter.objects.exists()
    assert letter_files(settings) == []
    monkeypatch.undo()
    assert issue(decided_call, "smiltenes-novads").number.endswith("/001")


def test_a_failure_after_the_file_was_stored_removes_the_file(decided_call, monkeypatch, settings):
    def failing_save(self, *args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(AwardLetter, "save", failing_save)
    with pytest.raises(RuntimeError):
        issue(decided_call, "smiltenes-novads")
    assert letter_files(settings) == []
    monkeypatch.undo()
    assert not AwardLetter.objects.exists()
    assert issue(decided_call, "smiltenes-novads").number.endswith("/001")


def test_a_long_call_slug_is_cut_so_that_the_number_fits(decided_call):
    Competition.objects.filter(pk=decided_call.competition.pk).update(slug="x-" * 50)
    letter = issue(decided_call, "smiltenes-novads")
    assert letter.number == f"VPR/2019/{'x-' * 19}x/001"
    assert len(letter.number) <= AwardLetter._meta.get_field("number").max_length


# --- a whole call -----------------------------------------------------------------------------


def test_call_letters_are_issued_to_every_decided_application_numbered_without_gaps(
    decided_call,
):
    progressed = []
    issued = services.competition_issue_letters(
        competition=decided_call.competition,
        by=decided_call.coordinator,
        progress=progressed.append,
    )
    assert progressed == issued
    # Numbered in the order of the municipalities' names (as the database collates them).
    assert [letter.number for letter in issued] == [
        f"VPR/2019/remigration-2019/{n:03d}" for n in range(1, 7)
    ]
    assert [letter.application for letter in issued] == list(
        Application.objects.filter(status__in=["awarded", "rejected"]).order_by(
            "municipality__name"
        )
    )
    assert {(letter.application.municipality.name, letter.kind) for letter in issued} == {
        ("Cesvaines novads", "rejection"),
        ("Cēsu novads", "award"),
        ("Gulbenes novads", "award"),
        ("Smiltenes novads", "award"),
        ("Valkas novads", "award"),
        ("Valmieras pilsēta", "award"),
    }
    for letter in issued:
        assert letter.sha256 == hashlib.sha256(stored_bytes(letter)).hexdigest()
        addressee = letters.latvian_genitive(letter.application.municipality.name)
        assert f"{addressee} pašvaldībai" in pdf_text(stored_bytes(letter))


def test_call_letters_skip_applications_with_a_letter_unless_reissued(decided_call):
    kept = issue(decided_call, "valkas-novads")
    issued = services.competition_issue_letters(
        competition=decided_call.competition, by=decided_call.coordinator
    )
    assert len(issued) == 5
    assert kept.application not in [letter.application for letter in issued]
    assert (
        services.competition_issue_letters(
            competition=decided_call.competition, by=decided_call.coordinator
        )
        == []
    )
    reissued = services.competition_issue_letters(
        competition=decided_call.competition, by=decided_call.coordinator, reissue=True
    )
    assert len(reissued) == 6
    assert [letter.number[-3:] for letter in reissued] == [f"{n:03d}" for n in range(7, 13)]
    kept.refresh_from_db()
    assert kept.replaced_by in reissued
    assert AwardLetter.objects.count() == 12
    assert AwardLetter.objects.current().count() == 6


def test_call_letters_are_all_or_nothing(decided_call, monkeypatch, settings):
    rendered = []
    write_pdf = weasyprint.HTML.write_pdf

    def fails_on_the_third(self, *args, **kwargs):
        rendered.append(self)
        if len(rendered) == 3:
            raise OSError("WeasyPrint failed")
        return write_pdf(self, *args, **kwargs)

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", fails_on_the_third)
    with pytest.raises(ValidationError):
        services.competition_issue_letters(
            competition=decided_call.competition, by=decided_call.coordinator
        )
    assert not AwardLetter.objects.exists()
    assert letter_files(settings) == []
    monkeypatch.undo()
    issued = services.competition_issue_letters(
        competition=decided_call.competition, by=decided_call.coordinator
    )
    assert issued[0].number.endswith("/001")


def test_call_letters_are_refused_before_the_decision():
    competition = ApplicationFactory().competition
    with pytest.raises(ValidationError) as error:
        services.competition_issue_letters(competition=competition, by=coordinator())
    assert [e.code for e in error.value.error_list] == ["call_not_decided"]


def test_a_partial_award_states_the_recorded_reason_on_the_page_and_in_the_letter(client):
    """Cēsis is awarded 4 000 of its 7 500 because part of its costs is not eligible, with money
    left in the pool: neither the page nor the letter may say the pool was exhausted."""
    from django.urls import reverse

    from .source_case import build_source_case

    case = build_source_case()
    reason = "Suvenīru izmaksas nav attiecināmas."
    cesis = case.applications["cesu-novads"]
    services.allocation_set(
        application=cesis, amount=Decimal("4000"), by=case.coordinator, reason=reason
    )
    services.competition_decide(
        competition=case.competition, by=case.coordinator, rejection_reason="Nepietika."
    )
    client.force_login(case.staff["cesu-novads"])
    page = client.get(reverse("applications:detail", kwargs={"pk": cesis.pk})).content.decode()
    assert reason in page
    assert "izsmelts" not in page
    assert "exhausted" not in page
    for language, said in [("lv", "Pamatojums:"), ("en", "Reasons:")]:
        letter = services.letter_issue(application=cesis, by=case.coordinator, language=language)
        text = pdf_text(stored_bytes(letter))
        assert f"{said} {reason}" in text
