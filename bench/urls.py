"""The portal's URLs and the baselines the benchmarks compare it with.

- ``bench/bare/``: a bare Django view that renders one small template with one query, behind
  the same middleware as every page of the portal.
- ``bench/bare-form/``: the deadline rush's baseline: GET a small form with its CSRF token,
  POST it back (the CSRF check) and be redirected, one query each.
- ``bench/floor/``: what every page for a signed-in user costs before it reads anything of
  its own: the login (session and user) and the portal's layout (``base.html``), no data.
- ``bench/admin/``: an admin site with a bare changelist of the same model, applications:
  the plain columns of the coordinators' list (reference, municipality, status, amounts), the
  same page size, and none of the scores, ranks, spread or filters with counts. Beside it, a
  bare changelist of the grants: the application, status and the amounts the grant keeps,
  without the portfolio's report subqueries, filters and totals.
"""

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path

from applications.models import Application
from grants.models import Grant
from remigration_portal.urls import urlpatterns as portal_urlpatterns


def bare(request):
    """One query, one small template."""
    return render(request, "bench/bare.html", {"count": Application.objects.count()})


def bare_form(request):
    """One query, one small form; a POST is checked for its CSRF token and redirected."""
    if request.method == "POST":
        Application.objects.count()
        return redirect("bench_bare_form")
    return render(request, "bench/bare_form.html", {"count": Application.objects.count()})


@login_required
def floor(request):
    """The login and the layout, nothing else: the least a signed-in page costs."""
    return render(request, "base.html", {"acts_for_municipality": True})


class BareApplicationAdmin(admin.ModelAdmin):
    list_display = ["reference", "municipality", "status", "requested_amount", "awarded_amount"]
    list_select_related = ["municipality"]
    list_per_page = 100


class BareGrantAdmin(admin.ModelAdmin):
    list_display = ["application", "status", "agreed_total", "paid_total", "accepted_total"]
    list_select_related = ["application__municipality"]
    list_filter = ["application__competition"]
    list_per_page = 100


baseline_site = admin.AdminSite(name="bench_admin")
baseline_site.register(Application, BareApplicationAdmin)
baseline_site.register(Grant, BareGrantAdmin)

urlpatterns = [
    path("bench/bare/", bare, name="bench_bare"),
    path("bench/bare-form/", bare_form, name="bench_bare_form"),
    path("bench/floor/", floor, name="bench_floor"),
    path("bench/admin/", baseline_site.urls),
    *portal_urlpatterns,
]
