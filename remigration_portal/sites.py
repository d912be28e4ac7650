"""The admin site, with the portal's password change, its "view on site" shortcut and, on a
reviewer's index, how many applications await their score.

Django's admin changes a password and keeps the session; the portal promises that a password
change ends every session, this one too, so the admin's page is the portal's view.

Django's shortcut ``r/<content type>/<id>/`` redirects to any object's public address for
anyone who may enter the admin; the portal's asks the object's ModelAdmin first, so that it
answers 404 for an object the user cannot see, as every other address of an object does.
"""

from django.contrib import admin
from django.contrib.admin.forms import AdminPasswordChangeForm
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes import views as contenttype_views
from django.contrib.contenttypes.models import ContentType
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse

from applications.selectors import awaiting_score
from competitions import roles
from conversations.selectors import admin_inbox

from .two_factor import admin_requires_second_factor, second_factor_page, with_next
from .views import PasswordChangeThenLogOut


class PortalAdminSite(admin.AdminSite):
    # The side menu repeats the index and took 300 px of every page: without it the lists of
    # calls and applications fit 1280 px (tests/test_browser_pages.py measures them).
    enable_nav_sidebar = False

    def index(self, request, extra_context=None):
        # A reviewer's index leads first to the applications that await their score.
        extra_context = extra_context or {}
        if roles.is_reviewer(request.user) and not roles.is_coordinator(request.user):
            extra_context["awaiting_score"] = awaiting_score(request.user).count()
        if roles.is_reviewer(request.user) or roles.is_coordinator(request.user):
            # The municipalities' messages they have not read, and the requests still open.
            extra_context["inbox"] = admin_inbox(request.user)
        return super().index(request, extra_context=extra_context)

    def has_permission(self, request):
        # With ADMIN_REQUIRES_2FA a password alone opens no admin page: the session must have
        # shown a second factor too.
        return super().has_permission(request) and not admin_requires_second_factor(request.user)

    def login(self, request, extra_context=None):
        # Staff who gave the password and owe the code go to the code (or to enrolment, the
        # first time) instead of the admin's login form, which could do nothing more for them.
        if (
            request.method == "GET"
            and super().has_permission(request)
            and admin_requires_second_factor(request.user)
        ):
            next_url = request.GET.get("next") or reverse(f"{self.name}:index")
            return redirect(with_next(second_factor_page(request.user), next_url))
        return super().login(request, extra_context)

    def password_change(self, request, extra_context=None):
        request.current_app = self.name
        return PasswordChangeThenLogOut.as_view(
            form_class=AdminPasswordChangeForm,
            next_page=f"{self.name}:login",
            extra_context={**self.each_context(request), **(extra_context or {})},
        )(request)

    def get_urls(self):
        shortcut = path(
            "r/<path:content_type_id>/<path:object_id>/",
            self.admin_view(self.view_on_site),
            name="view_on_site",
        )
        return [
            shortcut if getattr(pattern, "name", None) == "view_on_site" else pattern
            for pattern in super().get_urls()
        ]

    def view_on_site(self, request, content_type_id, object_id):
        """Django's shortcut, for an object the user's admin of its model shows them: found
        in that ModelAdmin's queryset, and viewable. Anything else is not there (404)."""
        try:
            model = ContentType.objects.get_for_id(int(content_type_id)).model_class()
        except (ValueError, ContentType.DoesNotExist):
            raise Http404 from None
        model_admin = self._registry.get(model)
        if model_admin is None:
            raise Http404
        found = model_admin.get_object(request, unquote(object_id))
        if found is None or not model_admin.has_view_or_change_permission(request, found):
            raise Http404
        return contenttype_views.shortcut(request, content_type_id, object_id)
