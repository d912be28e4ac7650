from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from competitions import views as competition_views

from . import health, two_factor
from .views import PasswordChangeThenLogOut, PortalLoginView, ThrottledPasswordReset

admin.site.site_header = _("Vidzeme Planning Region")
admin.site.site_title = _("Remigration grants")

# The load balancer's probes: no language, no login.
urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]

# Latvian pages have no prefix; English ones live under /en/. The language switch is a link
# to the same page in the other language, so the language a page speaks is in its address.
urlpatterns += i18n_patterns(
    path("", competition_views.home, name="home"),
    path(
        "accessibility/",
        competition_views.accessibility_statement,
        name="accessibility",
    ),
    path(
        "accounts/password_change/",
        PasswordChangeThenLogOut.as_view(),
        name="password_change",
    ),
    path("accounts/password_reset/", ThrottledPasswordReset.as_view(), name="password_reset"),
    path("accounts/login/", PortalLoginView.as_view(), name="login"),
    path("accounts/two-factor/", two_factor.enrol, name="two_factor_enrol"),
    path("accounts/two-factor/verify/", two_factor.verify, name="two_factor_verify"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("competitions/", include("competitions.urls")),
    path("competitions/", include("grants.results_urls")),
    path("applications/", include("applications.urls")),
    path("messages/", include("conversations.urls")),
    path("grants/", include("grants.urls")),
    prefix_default_language=False,
)
