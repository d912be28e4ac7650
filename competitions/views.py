"""The public pages of calls: the archive, a call's page and its regulations; the portal's
accessibility statement.

A decided call's results are pages of ``applications`` and ``grants`` (``grants/results.py``),
at the call's address.
"""

from datetime import date
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from . import roles
from .models import Competition

#: When the accessibility statement was prepared and last reviewed; change it with the text.
ACCESSIBILITY_STATEMENT_PREPARED_ON = date(2026, 12, 3)


@require_safe
def accessibility_statement(request):
    """The statement the EU model (Commission Implementing Decision (EU) 2018/1523) asks of a
    public body's website: its compliance, what is not accessible, how to give feedback."""
    return render(
        request,
        "accessibility.html",
        {
            "prepared_on": ACCESSIBILITY_STATEMENT_PREPARED_ON,
            "contact_email": settings.DEFAULT_FROM_EMAIL,
        },
    )


@require_safe
def home(request):
    """The call archive: open, upcoming, under review and decided calls."""
    now = timezone.now()
    calls = Competition.objects.published()
    return render(
        request,
        "competitions/home.html",
        {
            "open_calls": calls.open_at(now).order_by("closes_at"),
            "upcoming_calls": calls.upcoming_at(now).order_by("opens_at"),
            "closed_calls": calls.closed_at(now).order_by("-closes_at"),
            "decided_calls": calls.decided().order_by("-decided_at"),
        },
    )


@require_safe
def competition_detail(request, slug):
    competition = get_object_or_404(
        Competition.objects.published().prefetch_related("categories", "criteria"), slug=slug
    )
    # What the signed-in municipal staff member can do here: start or continue, per municipality.
    mine = []
    if request.user.is_authenticated:
        eligible = set(competition.eligible_municipalities.values_list("pk", flat=True))
        # The call's applications are read through the reverse relation that ``applications``
        # declares: this app imports no other app of the portal.
        applications = {
            a.municipality_id: a
            for a in competition.applications.filter(roles.acting_for(request.user))
        }
        mine = [
            (municipality, municipality.pk in eligible, applications.get(municipality.pk))
            for municipality in roles.municipalities_of(request.user)
        ]
    return render(
        request,
        "competitions/detail.html",
        {
            "competition": competition,
            "mine": mine,
            "is_open": competition.is_open(),
            "now": timezone.now(),
        },
    )


@require_safe
def competition_regulations(request, slug):
    """The call's regulations are public once the call is."""
    competition = get_object_or_404(Competition.objects.published(), slug=slug)
    if not competition.regulations:
        raise Http404
    suffix = Path(competition.regulations.name).suffix
    return FileResponse(
        competition.regulations.open("rb"),
        as_attachment=True,
        filename=f"{competition.slug}-nolikums{suffix}",
    )
