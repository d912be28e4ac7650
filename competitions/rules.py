"""The refusal every rule of the portal gives."""

from decimal import Decimal

from django.core.exceptions import ValidationError

from .formatting import format_money


def refusal(message: str, code: str, **params) -> ValidationError:
    """A refusal that names its rule (``code``), with its amounts already written the Latvian
    way (``9 800,00 €``)."""
    shown = {
        key: format_money(value) if isinstance(value, Decimal) else value
        for key, value in params.items()
    }
    return ValidationError(message, code=code, params=shown)
