"""What a decision letter's time is made of: the letter as shipped beside variants of it, each
changing one thing, timed in turns. ``.venv/bin/python -m bench.letter_levers``

Not part of ``make bench``: it answers "which lever would pay?" and bench/README.md records
its answer. It also counts how many times WeasyPrint lays out a page of the letter.
"""

import os
import re
import secrets
import statistics
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Rounds of every variant in turns; the medians are printed.
ROUNDS = 21


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(64))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.template.loader import render_to_string
    from django.utils import translation
    from weasyprint import CSS, HTML
    from weasyprint.layout import page as weasyprint_pages
    from weasyprint.text.fonts import FontConfiguration

    from applications import letters

    letter = letters.LetterData(
        number="VPR/2019/remigration-2019/003",
        kind="award",
        language="lv",
        issued_on=date(2019, 9, 16),
        organiser="Vidzemes plānošanas reģions",
        call_title="Remigrācijas sekmēšanas pakalpojumi pašvaldībās",
        municipality="Valmieras pilsēta",
        contact_name="Ilze Bērziņa",
        application_reference="REM-2019-003",
        submitted_on=date(2019, 8, 20),
        decided_on=date(2019, 9, 2),
        requested_amount=Decimal("9800.00"),
        awarded_amount=Decimal("9800.00"),
        decision_reason="",
        activities=tuple(
            letters.LetterActivity(
                title=f"Aktivitāte {n}: informatīvā brošūra un vizīte pie diasporas",
                category="Informatīvo materiālu sagatavošana",
                cost=Decimal("1960.00"),
            )
            for n in range(1, 6)
        ),
        implementation_ends_on=date(2019, 12, 15),
        report_due_on=date(2020, 1, 15),
        signatory_name="Guntis Gailītis",
        signatory_position="Administrācijas vadītājs",
    )
    with translation.override("lv"):
        html = render_to_string("letters/letter_lv.html", {"letter": letter})
    font_config, stylesheet, fetcher = letters._renderer.tools()
    css = letters.STYLESHEET.read_text()

    def pdf(page_html=html, sheet=None, config=None, **options) -> bytes:
        config = config or font_config
        sheets = [sheet or stylesheet]
        document = HTML(string=page_html, base_url=letters.STYLESHEET.as_uri(), url_fetcher=fetcher)
        return document.write_pdf(stylesheets=sheets, font_config=config, **options)

    def sheet(text: str):
        return CSS(
            string=text,
            font_config=font_config,
            url_fetcher=fetcher,
            base_url=letters.STYLESHEET.as_uri(),
        )

    def fresh_configuration() -> bytes:
        config = FontConfiguration()
        fresh = CSS(filename=str(letters.STYLESHEET), font_config=config, url_fetcher=fetcher)
        return pdf(sheet=fresh, config=config)

    left_aligned = sheet(css.replace("text-align: justify", "text-align: left"))
    no_margin_boxes = sheet(re.sub(r"@bottom-left \{.*?\}", "", css, flags=re.S))
    variants = {
        "as shipped": pdf,
        'footer without "no 2" (no counter(pages))': lambda: pdf(
            html.replace('". lpp. no " counter(pages)', '". lpp."')
        ),
        "no footer at all (no margin boxes)": lambda: pdf(
            re.sub(r"<style>.*?</style>", "", html), sheet=no_margin_boxes
        ),
        "text aligned left, not justified": lambda: pdf(sheet=left_aligned),
        "PDF streams not compressed": lambda: pdf(uncompressed_pdf=True),
        "font configuration made for each letter": fresh_configuration,
        "layout only, no PDF written": lambda: HTML(
            string=html, base_url=letters.STYLESHEET.as_uri(), url_fetcher=fetcher
        ).render(stylesheets=[stylesheet], font_config=font_config),
    }
    laid_out = 0
    make_page = weasyprint_pages.make_page

    def counting_make_page(*args, **kwargs):
        nonlocal laid_out
        laid_out += 1
        return make_page(*args, **kwargs)

    weasyprint_pages.make_page = counting_make_page
    try:
        pages = len(variants["layout only, no PDF written"]().pages)
    finally:
        weasyprint_pages.make_page = make_page

    for variant in variants.values():
        variant()
    timings = {name: [] for name in variants}
    for _ in range(ROUNDS):
        for name, variant in variants.items():
            started = time.perf_counter()
            variant()
            timings[name].append(time.perf_counter() - started)
    width = max(map(len, variants))
    shipped = statistics.median(timings["as shipped"])
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"{name.ljust(width)}  {median * 1000:6.1f} ms  {median / shipped:5.2f}")
    print(f"a letter of {pages} pages: WeasyPrint laid out a page {laid_out} times")


if __name__ == "__main__":
    main()
