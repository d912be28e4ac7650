from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from .models import Application


def _own_application(request, pk, queryset=None) -> Application:
    """The application with this id if the user acts for its municipality; 404 otherwise, so
    that an id of another municipality reveals nothing, not even that it exists."""
    queryset = queryset if queryset is not None else Application.objects.all()
    return get_object_or_404(queryset.of_municipality_staff(request.user).distinct(), pk=pk)


@login_required
@require_safe
def application_detail(request, pk):
    application = _own_application(
        request,
        pk,
        Application.objects.select_related("competition", "municipality").prefetch_related(
            "activities__category", "documents"
        ),
    )
    return render(request, "applications/detail.html", {"application": application})
