from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from competitions import views as competition_views

from .views import PasswordChangeThenLogOut

admin.site.site_header = "Vidzemes plānošanas reģions"
admin.site.site_title = "VPR granti"

# Latvian pages have no prefix; English ones live under /en/. The language switch is a link
# to the same page in the other language, so the language a page speaks is in its address.
urlpatterns = i18n_patterns(
    path("", competition_views.home, name="home"),
    path(
        "accounts/password_change/",
        PasswordChangeThenLogOut.as_view(),
        name="password_change",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("competitions/", include("competitions.urls")),
    path("applications/", include("applications.urls")),
    prefix_default_language=False,
)
