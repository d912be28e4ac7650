"""The admin site, with the portal's password change.

Django's admin changes a password and keeps the session; the portal promises that a password
change ends every session, this one too, so the admin's page is the portal's view.
"""

from django.contrib import admin
from django.contrib.admin.forms import AdminPasswordChangeForm

from .views import PasswordChangeThenLogOut


class PortalAdminSite(admin.AdminSite):
    def password_change(self, request, extra_context=None):
        request.current_app = self.name
        return PasswordChangeThenLogOut.as_view(
            form_class=AdminPasswordChangeForm,
            next_page=f"{self.name}:login",
            extra_context={**self.each_context(request), **(extra_context or {})},
        )(request)
