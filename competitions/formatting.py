"""How amounts of money are written: ``9 800,00 €`` in Latvian, ``€9,800.00`` in English.

The spaces are no-break spaces (U+00A0), between the groups of thousands and next to the unit:
an amount never breaks across lines, nor leaves its currency sign alone on the next one.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import get_language

CENT = Decimal("0.01")
# The largest amount a DecimalField(max_digits=12, decimal_places=2) holds.
MONEY_LIMIT = Decimal("9999999999.99")
NO_BREAK_SPACE = "\u00a0"


def format_money(
    amount: Decimal | int | None, unit: str = "€", *, language: str | None = None
) -> str:
    """The amount in the active language's way (or ``language``'s): ``9 800,00 €`` /
    ``€9,800.00``, ``9 800,00 EUR`` / ``EUR 9,800.00``; ``unit=""`` gives the number alone."""
    if amount is None:
        return ""
    quantized = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if quantized < 0 else ""
    whole, cents = f"{abs(quantized):.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    if (language or get_language() or "lv").startswith("en"):
        number = f"{','.join(groups)}.{cents}"
        if not unit:
            return f"{sign}{number}"
        return f"{sign}{unit}{number}" if unit == "€" else f"{sign}{unit}{NO_BREAK_SPACE}{number}"
    number = f"{sign}{NO_BREAK_SPACE.join(groups)},{cents}"
    return f"{number}{NO_BREAK_SPACE}{unit}" if unit else number
