from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import PasswordChangeView
from django.shortcuts import redirect
from django.utils.translation import gettext as _


class PasswordChangeThenLogOut(PasswordChangeView):
    """After a password change every session ends, this one too: whoever knew the old
    password is out, and the user proves the new one by logging in with it."""

    next_page = "login"  # the admin's own page sends its users to the admin's login

    def form_valid(self, form):
        form.save()
        logout(self.request)
        messages.success(self.request, _("Your password is changed. Log in with the new password."))
        return redirect(self.next_page)
