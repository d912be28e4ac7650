"""Text cells of every file the portal writes for spreadsheets (CSV and XLSX), escaped once.

Text typed by municipalities, reviewers and coordinators (a name, a title, a comment) may
begin with ``=``, ``+``, ``-`` or ``@``, or a tab or line break, which a spreadsheet would
evaluate as a formula (``=HYPERLINK(...)`` sends its reader elsewhere). Every export, public
or not, writes text cells through ``escape_formula``: in CSV the cell gets a leading
apostrophe; in XLSX the cell is stored as text with the "quote prefix" style
(``looks_like_formula`` says when), which shows it as typed and never evaluates it.

It lives in ``competitions``, the app every other app may import, with the writer every CSV
the portal streams goes through.
"""

import csv
import io
from collections.abc import Iterable, Iterator

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def escape_formula(text: str) -> str:
    """``=1+1`` becomes ``'=1+1``: a spreadsheet shows it and does not evaluate it."""
    return "'" + text if looks_like_formula(text) else text


def csv_pieces(batches: Iterable[Iterable[list[str]]]) -> Iterator[str]:
    """CSV text (RFC 4180) written a batch of rows at a time, each batch's text handed on as
    soon as it is written, so that a file of any length is never held whole; the first piece
    starts with the byte order mark by which spreadsheets read UTF-8 (the Latvian letters)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    for batch in batches:
        writer.writerows(batch)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
