"""What the grants' pages need beyond the portal's filters, and the grants' part of the
municipal staff's dashboard (a page of ``applications``, which imports nothing of this app)."""

from decimal import Decimal

from django import template

from ..selectors import grants_with_next_steps

register = template.Library()


@register.filter
def minus(amount: Decimal, other: Decimal) -> Decimal:
    """``amount - other``, for an excess or a remainder shown with ``money``."""
    return amount - other


@register.simple_tag(takes_context=True)
def open_grants(context) -> list:
    """For the dashboard: the user's grants still under way, each with its next step and its
    due date. Two queries."""
    return grants_with_next_steps(context["request"].user, open_only=True)
