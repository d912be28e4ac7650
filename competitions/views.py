from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from .models import Competition


@require_safe
def home(request):
    now = timezone.now()
    calls = Competition.objects.published()
    return render(
        request,
        "competitions/home.html",
        {
            "open_calls": calls.open_at(now).order_by("closes_at"),
            "upcoming_calls": calls.upcoming_at(now).order_by("opens_at"),
        },
    )


@require_safe
def competition_detail(request, slug):
    competition = get_object_or_404(Competition.objects.published(), slug=slug)
    return render(request, "competitions/detail.html", {"competition": competition})
