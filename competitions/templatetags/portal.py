from datetime import datetime

from django import template
from django.urls import translate_url
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from competitions import admin_base
from competitions.formatting import format_money

register = template.Library()

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY


def _weeks(count: int) -> str:
    return ngettext("%(count)d week", "%(count)d weeks", count) % {"count": count}


def _days(count: int) -> str:
    return ngettext("%(count)d day", "%(count)d days", count) % {"count": count}


def _hours(count: int) -> str:
    return ngettext("%(count)d hour", "%(count)d hours", count) % {"count": count}


def _minutes(count: int) -> str:
    return ngettext("%(count)d minute", "%(count)d minutes", count) % {"count": count}


# Largest first. Months and years are left out on purpose: a call is open for weeks, and a
# "month" of timeuntil is an approximation that a deadline should not rest on.
UNITS = ((WEEK, _weeks), (DAY, _days), (HOUR, _hours), (MINUTE, _minutes))


@register.filter
def money(amount, unit="€"):
    """``{{ application.requested_amount|money }}`` gives ``9 800,00 €``."""
    return format_money(amount, unit)


@register.filter
def accusative(opts) -> str:
    """``{{ cl.opts|accusative }}``: the model's name as the object of a verb ("konkursu")."""
    return admin_base.accusative(opts)


# Each status its own colour, always with its name written in the badge: the colour helps the
# eye find a status, the words say it (WCAG 1.4.1). Keyed by the stored value, which the
# applications' and the grants' statuses share where they mean the same ("draft", "declined").
STATUS_BADGES = {
    # applications
    "draft": "text-bg-light border",
    "submitted": "text-bg-primary",
    "withdrawn": "text-bg-secondary",
    "awarded": "text-bg-success",
    "rejected": "text-bg-danger",
    "declined": "text-bg-dark",
    # grants
    "agreeing": "text-bg-info",
    "signing": "text-bg-warning",
    "in_progress": "text-bg-primary",
    "reporting": "text-bg-light border",
    "closed": "text-bg-success",
    "terminated": "text-bg-danger",
    # plan versions
    "proposed": "text-bg-info",
    "returned": "text-bg-warning",
    "approved": "text-bg-success",
    "superseded": "text-bg-secondary",
}


@register.filter
def status_badge(status: str) -> str:
    """``<span class="badge {{ application.status|status_badge }}">``: the status's colour."""
    return STATUS_BADGES.get(status, "text-bg-secondary")


@register.filter
def time_left(deadline: datetime, now: datetime | None = None) -> str:
    """``{{ call.closes_at|time_left:now }}``: ``vēl 4 nedēļas, 1 diena`` / ``4 weeks, 1 day
    left``; at most two adjacent units, hours and minutes under a day.

    Django's own ``timeuntil`` reads "4 nedēļa, 1 dienu" in Latvian (its catalogue's plural
    forms are in the wrong order), so the units are the portal's own catalogue entries, written
    in the order of the Plural-Forms header.
    """
    if not deadline:
        return ""
    seconds = int((deadline - (now or timezone.now())).total_seconds())
    if seconds <= 0:
        return _("the deadline has passed")
    if seconds < MINUTE:
        return _("less than a minute left")
    counts = []
    for size, _unit in UNITS:
        count, seconds = divmod(seconds, size)
        counts.append(count)
    first = next(index for index, count in enumerate(counts) if count)
    parts = [UNITS[first][1](counts[first])]
    if first + 1 < len(UNITS) and counts[first + 1]:
        parts.append(UNITS[first + 1][1](counts[first + 1]))
    return _("%(left)s left") % {"left": ", ".join(parts)}


@register.simple_tag(takes_context=True)
def translated_url(context, language_code):
    """The current page in another language: ``/en/competitions/x/`` <-> ``/competitions/x/``."""
    request = context["request"]
    return translate_url(request.get_full_path(), language_code)


@register.filter
def minutes(duration):
    """Whole minutes of a timedelta, for messages such as the login lockout."""
    return int(duration.total_seconds() // 60) if duration else 0
