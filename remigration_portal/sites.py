"""The admin site, with the portal's password change.

Django's admin changes a password and keeps the session; the portal promises that a password
change ends every session, this one too, so the admin's page is the portal's view.
"""

from django.contrib import admin
from django.contrib.admin.forms import AdminPasswordChangeForm
from django.shortcuts import redirect
from django.urls import reverse

from .two_factor import admin_requires_second_factor, second_factor_page, with_next
from .views import PasswordChangeThenLogOut


class PortalAdminSite(admin.AdminSite):
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
