from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import LoginView, PasswordChangeView
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from applications.views import admin_workplace


class PortalLoginView(LoginView):
    """Django's login, after which reviewers and coordinators land in their work in the
    admin, not on the public page they logged in from; municipal staff return to it."""

    def get_success_url(self):
        url = super().get_success_url()
        workplace = admin_workplace(self.request.user)
        if workplace is None or url.startswith(reverse("admin:index")):
            return url
        return workplace


class PasswordChangeThenLogOut(PasswordChangeView):
    """After a password change every session ends, this one too: whoever knew the old
    password is out, and the user proves the new one by logging in with it."""

    next_page = "login"  # the admin's own page sends its users to the admin's login

    def form_valid(self, form):
        form.save()
        logout(self.request)
        messages.success(self.request, _("Your password is changed. Log in with the new password."))
        return redirect(self.next_page)
