"""The tests write expected amounts as people read them, ``9 800,00 €``, with plain spaces; the
portal writes them with no-break spaces (competitions.formatting). ``spaced`` turns the first into
the second, so an expected text can still be read and typed."""

import re

from competitions.formatting import NO_BREAK_SPACE

# An amount with its cents, and its unit if it has one: ``40 000,00``, ``0,00 €``, ``1 000,00 EUR``.
AMOUNT = re.compile(r"(?<![\d,])-?\d{1,3}(?:[ \u00a0]\d{3})*,\d\d(?:[ \u00a0](?:€|EUR))?(?!\d)")


def spaced(text: str) -> str:
    """``"piešķirti 9 800,00 €"`` as the portal writes it: no-break spaces inside the amount."""
    return AMOUNT.sub(lambda match: re.sub(r"[ \u00a0]", NO_BREAK_SPACE, match[0]), text)


def squeezed(text: str) -> str:
    """Runs of white space made one space, as a reader sees them, keeping the no-break spaces
    (``str.split()`` would take those for white space too)."""
    return re.sub(r"[ \t\n\r\f\v]+", " ", text).strip()
