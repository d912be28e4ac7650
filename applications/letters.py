"""Decision letters as PDF: what a letter says, and WeasyPrint turning it into an A4 document.

``render_letter`` is a pure function from a ``LetterData`` to PDF bytes; ``letter_data`` reads
an application into one. Numbering, storing and replacing letters is the work of the issuing
services in ``services/issuing.py``.

WeasyPrint is given nothing but the project's own files. The letter's HTML is rendered by
Django with autoescaping, so text a user typed stays text; and the only URL fetcher WeasyPrint
gets serves the letter stylesheet and fonts under ``static/`` and refuses every other address,
so even markup that got through could not make the renderer reach the network or the disk.
"""

import mimetypes
import re
import threading
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from num2words import num2words
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from competitions.formatting import CENT

from .models import Application, AwardLetter

#: The issuer's short name, the first part of every letter number (``VPR/2019/<call>/001``).
NUMBER_PREFIX = "VPR"
#: How much of the call's slug goes into a letter number, so that any number fits its field.
NUMBER_CALL_CODE_LENGTH = 40

STATIC_DIR = Path(settings.BASE_DIR) / "static"
STYLESHEET = STATIC_DIR / "letters" / "letter.css"
#: The only folders whose files WeasyPrint may read: the letter stylesheet and its fonts.
SERVED_DIRS = (STATIC_DIR / "letters", STATIC_DIR / "fonts")


# --- what a letter says ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LetterActivity:
    title: str
    category: str
    cost: Decimal


@dataclass(frozen=True, kw_only=True)
class LetterData:
    """Everything printed in one letter, in plain values: it can be rendered anywhere, also in
    another process, without a database."""

    number: str
    kind: str
    language: str
    issued_on: date
    organiser: str
    #: Registration number, address and contacts under the letterhead.
    organiser_details: str = ""
    call_title: str
    municipality: str
    contact_name: str
    application_reference: str
    submitted_on: date | None
    decided_on: date | None
    requested_amount: Decimal
    awarded_amount: Decimal
    decision_reason: str
    activities: tuple[LetterActivity, ...]
    implementation_ends_on: date | None
    report_due_on: date | None
    signatory_name: str
    signatory_position: str
    #: The last day to object to the decision: the call's period from the first letter.
    objection_until: date | None = None

    @property
    def is_award(self) -> bool:
        return self.kind == AwardLetter.Kind.AWARD

    @property
    def is_partial(self) -> bool:
        return self.is_award and self.awarded_amount < self.requested_amount

    @property
    def awarded_in_words(self) -> str:
        return amount_in_words(self.awarded_amount, self.language)

    @property
    def municipality_genitive_lv(self) -> str:
        """``Smiltenes novada``, as in ``Smiltenes novada pašvaldībai``."""
        return latvian_genitive(self.municipality)

    @property
    def organiser_genitive_lv(self) -> str:
        return latvian_genitive(self.organiser)


def amount_in_words(amount: Decimal, language: str) -> str:
    """``9800`` → ``deviņi tūkstoši astoņi simti euro, nulle centu``.

    num2words reads an int given for a currency as cents, so the amount goes in as a Decimal.
    Its Latvian names the currency "eiro"; the currency's name in Latvian law and in the
    State Language Centre's usage is "euro", as the letters and agreements write it.
    """
    words = num2words(Decimal(amount).quantize(CENT), lang=language, to="currency", currency="EUR")
    return re.sub(r"\beiro\b", "euro", words)


def latvian_genitive(name: str) -> str:
    """The genitive of a Latvian name whose last word is a noun of the 1st, 4th or 5th
    declension: ``Smiltenes novads`` → ``Smiltenes novada``, ``Valmieras pilsēta`` →
    ``Valmieras pilsētas``, ``Vidzemes plānošanas reģions`` → ``Vidzemes plānošanas reģiona``.

    The words before the last one in such names are genitives already. A name of another
    shape is returned as it is rather than declined wrongly.
    """
    head, space, last = name.rpartition(" ")
    if last.endswith("s") and not last.endswith(("is", "us", "ss")):
        last = last[:-1] + "a"
    elif last.endswith(("a", "e")):
        last += "s"
    else:
        return name
    return f"{head}{space}{last}"


def municipality_authority(name: str) -> str:
    """The municipality as the body that acts, in the active language: ``Valkas novada
    pašvaldība`` in Latvian (not ``Pašvaldība “Valkas novads”``), its name in English."""
    if translation.get_language() == "lv":
        return f"{latvian_genitive(name)} {translation.gettext('municipality')}"
    return name


def letter_number_prefix(*, competition, issued_on: date) -> str:
    """``VPR/2019/remigration-2019``: the issuer, the year of issue and the call. A letter's
    number is this and its place in the counter of that prefix: ``.../001``."""
    code = competition.slug[:NUMBER_CALL_CODE_LENGTH].rstrip("-")
    return f"{NUMBER_PREFIX}/{issued_on.year}/{code}"


def letter_data(
    application: Application, *, kind: str, number: str, language: str, issued_on: date
) -> LetterData:
    """Read an application, its call and its activities into what its letter prints."""
    competition = application.competition
    with translation.override(language):
        organiser = competition.organiser
        call_title = competition.title
        activities = tuple(
            LetterActivity(
                title=activity.title, category=activity.category.name, cost=activity.cost
            )
            for activity in application.activities.select_related("category")
        )
    first = application.letters.order_by("issued_at", "id").first() if application.pk else None
    objections_from = timezone.localdate(first.issued_at) if first else issued_on
    return LetterData(
        number=number,
        kind=kind,
        language=language,
        issued_on=issued_on,
        organiser=organiser,
        organiser_details=competition.organiser_details,
        call_title=call_title,
        municipality=application.municipality.name,
        contact_name=application.contact_name,
        application_reference=application.reference or "",
        submitted_on=_local_date(application.submitted_at),
        decided_on=_local_date(application.decided_at),
        requested_amount=application.requested_amount,
        awarded_amount=application.awarded_amount,
        decision_reason=application.decision_reason,
        activities=activities,
        implementation_ends_on=competition.implementation_ends_on,
        report_due_on=competition.report_due_on,
        signatory_name=competition.signatory_name,
        signatory_position=competition.signatory_position,
        objection_until=competition.objection_deadline(objections_from),
    )


def _local_date(moment) -> date | None:
    return timezone.localdate(moment) if moment else None


def download_name(letter: AwardLetter) -> str:
    """``VPR-2019-remigration-2019-001_Smiltenes_novads.pdf``."""
    municipality = "_".join(letter.application.municipality.name.split())
    return f"{letter.number.replace('/', '-')}_{municipality}.pdf"


def ascii_name(name: str) -> str:
    """The same name without diacritics, for clients that cannot read a UTF-8 file name:
    ``Valmieras_pilsēta.pdf`` → ``Valmieras_pilseta.pdf``."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if c.isascii() and c.isprintable() and c not in '"\\')


# --- the PDF --------------------------------------------------------------------------------


class StaticFilesOnlyFetcher(URLFetcher):
    """Gives WeasyPrint the files under ``SERVED_DIRS`` and refuses every other URL: no
    network, no data URLs, no other file, no way out of those folders through ``..`` or a
    symbolic link."""

    def __init__(self):
        super().__init__(allowed_protocols=["file"], allow_redirects=False)

    def fetch(self, url, headers=None):
        path = served_path(url)
        if path is None:
            raise ValueError(f"A letter may only use the project's own files, not {url!r}.")
        content_type, _encoding = mimetypes.guess_type(path.name)
        return URLFetcherResponse(
            url,
            body=path.read_bytes(),
            headers={"Content-Type": content_type or "application/octet-stream"},
        )


def served_path(url: str) -> Path | None:
    """The file a ``file:`` URL names if it lies inside ``SERVED_DIRS``; None otherwise."""
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None
    path = Path(url2pathname(unquote(parts.path))).resolve()
    if not path.is_file():
        return None
    if not any(path.is_relative_to(folder.resolve()) for folder in SERVED_DIRS):
        return None
    return path


class _Renderer(threading.local):
    """WeasyPrint's font configuration and the parsed letter stylesheet, made once per thread.

    Building a FontConfiguration, loading the ``@font-face`` fonts into it and parsing the
    stylesheet is a fixed cost of every document; reusing them leaves only the letter's own
    layout. WeasyPrint objects are not shared between threads, hence one set per thread.
    """

    def tools(self) -> tuple[FontConfiguration, CSS, StaticFilesOnlyFetcher]:
        if not hasattr(self, "stylesheet"):
            self.fetcher = StaticFilesOnlyFetcher()
            self.font_config = FontConfiguration()
            self.stylesheet = CSS(
                filename=str(STYLESHEET), font_config=self.font_config, url_fetcher=self.fetcher
            )
        return self.font_config, self.stylesheet, self.fetcher


_renderer = _Renderer()


def html_to_pdf(html: str) -> bytes:
    """An A4 PDF of HTML written for the letter stylesheet, with nothing fetched but the
    project's own files."""
    font_config, stylesheet, fetcher = _renderer.tools()
    document = HTML(string=html, base_url=STYLESHEET.as_uri(), url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[stylesheet], font_config=font_config)


def render_letter(letter: LetterData) -> bytes:
    """The letter as PDF bytes, in its language."""
    with translation.override(letter.language):
        html = render_to_string(f"letters/letter_{letter.language}.html", {"letter": letter})
    return html_to_pdf(html)
