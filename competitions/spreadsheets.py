"""Text cells of every file the portal writes for spreadsheets (CSV and XLSX), escaped once.

Text typed by municipalities, reviewers and coordinators (a name, a title, a comment) may
begin with ``=``, ``+``, ``-`` or ``@``, or a tab or line break, which a spreadsheet would
evaluate as a formula (``=HYPERLINK(...)`` sends its reader elsewhere). Every export, public
or not, writes text cells through ``escape_formula``: in CSV the cell gets a leading
apostrophe; in XLSX the cell is stored as text with the "quote prefix" style
(``looks_like_formula`` says when), which shows it as typed and never evaluates it.

It lives in ``competitions``, the app every other app may import.
"""

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def escape_formula(text: str) -> str:
    """``=1+1`` becomes ``'=1+1``: a spreadsheet shows it and does not evaluate it."""
    return "'" + text if looks_like_formula(text) else text
