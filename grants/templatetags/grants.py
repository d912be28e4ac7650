"""What the grants' pages need beyond the portal's filters."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def minus(amount: Decimal, other: Decimal) -> Decimal:
    """``amount - other``, for an excess or a remainder shown with ``money``."""
    return amount - other
