"""The portal's URLs and the baselines the benchmarks compare it with.

- ``bench/bare/``: a bare Django view that renders one small template with one query, behind
  the same middleware as every page of the portal.
- ``bench/admin/``: an admin site with a bare changelist of the same model, applications:
  the plain columns of the coordinators' list (reference, municipality, status, amounts), the
  same page size, and none of the scores, ranks, spread or filters with counts.
"""

from django.contrib import admin
from django.shortcuts import render
from django.urls import path

from applications.models import Application
from remigration_portal.urls import urlpatterns as portal_urlpatterns


def bare(request):
    """One query, one small template."""
    return render(request, "bench/bare.html", {"count": Application.objects.count()})


class BareApplicationAdmin(admin.ModelAdmin):
    list_display = ["reference", "municipality", "status", "requested_amount", "awarded_amount"]
    list_select_related = ["municipality"]
    list_per_page = 100


baseline_site = admin.AdminSite(name="bench_admin")
baseline_site.register(Application, BareApplicationAdmin)

urlpatterns = [
    path("bench/bare/", bare, name="bench_bare"),
    path("bench/admin/", baseline_site.urls),
    *portal_urlpatterns,
]
