import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import LoginView, PasswordChangeView, PasswordResetView
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from applications.views import admin_workplace

from .security_log import client_address, log_password_reset_throttled


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


def _within_limit(key: str, limit: int) -> bool:
    """Count one more request under ``key`` in the cache; true while at most ``limit`` were
    counted in the window. ``add`` then ``incr`` counts atomically in Redis and per process in
    the local-memory cache."""
    cache.add(key, 0, timeout=settings.PASSWORD_RESET_WINDOW_SECONDS)
    try:
        return cache.incr(key) <= limit
    except ValueError:  # expired between the two calls
        cache.set(key, 1, timeout=settings.PASSWORD_RESET_WINDOW_SECONDS)
        return True


def password_reset_allowed(*, email: str, client: str | None) -> bool:
    """At most ``PASSWORD_RESET_PER_ADDRESS`` requests for one e-mail address and
    ``PASSWORD_RESET_PER_CLIENT`` from one client address in ``PASSWORD_RESET_WINDOW_SECONDS``;
    counted whether an account has the address or not, so the answer tells nothing of it. The
    address is counted by its SHA-256, so the cache holds no e-mail addresses."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    per_address = _within_limit(
        f"password-reset:email:{digest}", settings.PASSWORD_RESET_PER_ADDRESS
    )
    per_client = _within_limit(
        f"password-reset:client:{client or '-'}", settings.PASSWORD_RESET_PER_CLIENT
    )
    return per_address and per_client


class ThrottledPasswordReset(PasswordResetView):
    """Django's password reset, with the number of requests limited per e-mail address (no
    one's mailbox is flooded with links) and per client (no one sends links in bulk). Past the
    limit the form says so, the same whether the address is an account's or not (429)."""

    def form_valid(self, form):
        if password_reset_allowed(
            email=form.cleaned_data["email"], client=client_address(self.request)
        ):
            return super().form_valid(form)
        log_password_reset_throttled(self.request)
        form.add_error(
            None,
            ValidationError(
                _(
                    "Too many requests to reset a password from here or for this address. "
                    "Try again in an hour."
                ),
                code="throttled",
            ),
        )
        return self.render_to_response(self.get_context_data(form=form), status=429)
