from django import template
from django.urls import translate_url

from competitions.formatting import format_money

register = template.Library()


@register.filter
def money(amount, unit="€"):
    """``{{ application.requested_amount|money }}`` gives ``9 800,00 €``."""
    return format_money(amount, unit)


@register.simple_tag(takes_context=True)
def translated_url(context, language_code):
    """The current page in another language: ``/en/competitions/x/`` <-> ``/competitions/x/``."""
    request = context["request"]
    return translate_url(request.get_full_path(), language_code)


@register.filter
def minutes(duration):
    """Whole minutes of a timedelta, for messages such as the login lockout."""
    return int(duration.total_seconds() // 60) if duration else 0
