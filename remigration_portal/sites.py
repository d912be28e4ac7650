"""The admin site, with the portal's password change and, on a reviewer's index, how many
applications await their score.

Django's admin changes a password and keeps the session; the portal promises that a password
change ends every session, this one too, so the admin's page is the portal's view.
"""

from django.contrib import admin
from django.contrib.admin.forms import AdminPasswordChangeForm

from applications.selectors import awaiting_score
from competitions import roles

from .views import PasswordChangeThenLogOut


class PortalAdminSite(admin.AdminSite):
    def index(self, request, extra_context=None):
        # A reviewer's index leads first to the applications that await their score.
        extra_context = extra_context or {}
        if roles.is_reviewer(request.user) and not roles.is_coordinator(request.user):
            extra_context["awaiting_score"] = awaiting_score(request.user).count()
        return super().index(request, extra_context=extra_context)

    def password_change(self, request, extra_context=None):
        request.current_app = self.name
        return PasswordChangeThenLogOut.as_view(
            form_class=AdminPasswordChangeForm,
            next_page=f"{self.name}:login",
            extra_context={**self.each_context(request), **(extra_context or {})},
        )(request)
