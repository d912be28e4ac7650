"""How amounts of money are written: Latvian style, ``9 800,00 €``, in every language.

The spaces are no-break spaces (U+00A0), between the groups of thousands and before the unit:
an amount never breaks across lines, nor leaves its currency sign alone on the next one.
"""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
# The largest amount a DecimalField(max_digits=12, decimal_places=2) holds.
MONEY_LIMIT = Decimal("9999999999.99")
NO_BREAK_SPACE = "\u00a0"


def format_money(amount: Decimal | int | None, unit: str = "€") -> str:
    if amount is None:
        return ""
    quantized = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if quantized < 0 else ""
    whole, cents = f"{abs(quantized):.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    number = f"{sign}{NO_BREAK_SPACE.join(groups)},{cents}"
    return f"{number}{NO_BREAK_SPACE}{unit}" if unit else number
