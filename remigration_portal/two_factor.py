"""Two-factor authentication: a one-time code from an authenticator app (TOTP), with recovery
codes for a lost phone, through django-otp.

Everyone who works in the admin must have it when ``ADMIN_REQUIRES_2FA`` is on (the default
with ``DJANGO_DEBUG`` off: see ``sites.PortalAdminSite``); municipal staff may turn it on from
the portal. Whoever has turned it on is asked for a code after the password, on every login,
before any page (``TwoFactorMiddleware``). django-otp's devices throttle wrong codes: after
each failure the next attempt waits twice as long.
"""

import math
from base64 import b32encode
from urllib.parse import urlencode

import segno
from django import forms
from django.conf import settings
from django.contrib.auth import user_logged_in
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.dispatch import receiver
from django.shortcuts import redirect, render, resolve_url
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

#: In the session of a user who logged in with a password and still owes the code.
PENDING = "two_factor_pending"
#: In the session while the user enrols: the secret the QR code shows.
ENROLMENT_KEY = "two_factor_enrolment_key"
RECOVERY_CODES = 10
#: Pages a user who owes the code may still open.
OPEN_WHILE_PENDING = {"two_factor_verify", "logout"}


@receiver(user_logged_in)
def _ask_for_the_code(sender, request, user, **kwargs):
    # Known at login, so that the middleware reads the session and not the devices on every
    # request.
    if request is not None and hasattr(request, "session") and user_has_device(user):
        request.session[PENDING] = True


class TwoFactorMiddleware:
    """Sends a user who owes the second factor to the code page, whatever they ask for."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.session.get(PENDING)
            and request.user.is_authenticated
            and not request.user.is_verified()
        ):
            try:
                name = resolve(request.path_info).url_name
            except Resolver404:
                name = None
            if name not in OPEN_WHILE_PENDING:
                return redirect(with_next("two_factor_verify", request.get_full_path()))
        return self.get_response(request)


def with_next(view_name: str, next_url: str) -> str:
    return f"{reverse(view_name)}?{urlencode({'next': next_url})}"


def admin_requires_second_factor(user) -> bool:
    return settings.ADMIN_REQUIRES_2FA and not user.is_verified()


def second_factor_page(user) -> str:
    """Where a user who must show a second factor goes: the code, or enrolment first."""
    return "two_factor_verify" if user_has_device(user) else "two_factor_enrol"


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )

    def clean_code(self):
        return "".join(self.cleaned_data["code"].split()).lower()


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _try(form: CodeForm, device, code: str) -> bool:
    """Whether ``code`` is right for ``device``; a refusal (throttled or wrong) goes on the
    form. A wrong code makes the next attempt wait (django-otp's throttling)."""
    allowed, details = device.verify_is_allowed()
    if not allowed:
        locked_until = (details or {}).get("locked_until")
        seconds = (
            max(1, math.ceil((locked_until - timezone.now()).total_seconds()))
            if locked_until
            else 1
        )
        form.add_error(
            "code",
            forms.ValidationError(
                _("Too many wrong codes: try again in %(seconds)s s."),
                code="throttled",
                params={"seconds": seconds},
            ),
        )
        return False
    if device.verify_token(code):
        return True
    form.add_error("code", forms.ValidationError(_("The code is wrong."), code="wrong_code"))
    return False


def _verified(request, device):
    otp_login(request, device)
    request.session.pop(PENDING, None)


@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    """The second step of a login: a code from the app, or one of the recovery codes."""
    if not user_has_device(request.user):
        return redirect(with_next("two_factor_enrol", _next_url(request)))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        # Six digits are the app's code; anything else can only be a recovery code.
        model = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
        device = model.objects.filter(user=request.user, confirmed=True).first()
        if device is None:
            form.add_error(
                "code", forms.ValidationError(_("The code is wrong."), code="wrong_code")
            )
        elif _try(form, device, code):
            _verified(request, device)
            return redirect(_next_url(request))
    return render(request, "two_factor/verify.html", {"form": form, "next": _next_url(request)})


@login_required
@require_http_methods(["GET", "POST"])
def enrol(request):
    """Turn the second factor on: scan the QR code (or type the secret) into an authenticator
    app, confirm with the code it shows, and get the recovery codes, shown this once."""
    if TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return render(request, "two_factor/enrol.html", {"enrolled": True})
    # The secret is made once and kept: in the session until the first code is tried, then in
    # an unconfirmed device, so that an app set up from this page keeps working whatever
    # happens to the session, and wrong codes during enrolment are throttled as well.
    pending = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    key = pending.key if pending else request.session.get(ENROLMENT_KEY) or random_hex(20)
    request.session[ENROLMENT_KEY] = key
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = pending or TOTPDevice.objects.create(
            user=request.user, confirmed=False, name="TOTP", key=key
        )
        if _try(form, device, form.cleaned_data["code"]):
            codes = _confirm(device)
            _verified(request, device)
            request.session.pop(ENROLMENT_KEY, None)
            return render(
                request,
                "two_factor/recovery_codes.html",
                {"codes": codes, "next": _next_url(request)},
            )
    device = TOTPDevice(user=request.user, key=key, name="TOTP")
    return render(
        request,
        "two_factor/enrol.html",
        {
            "form": form,
            "next": _next_url(request),
            # segno draws the code from the otpauth address alone: no text of the user's is
            # written into the SVG as markup.
            "qr_svg": mark_safe(segno.make(device.config_url, error="m").svg_inline(scale=4)),  # noqa: S308
            "secret": " ".join(_grouped(b32encode(device.bin_key).decode())),
        },
    )


def _grouped(secret: str) -> list[str]:
    return [secret[start : start + 4] for start in range(0, len(secret), 4)]


def _confirm(device: TOTPDevice) -> list[str]:
    """Confirm the device and give the user a fresh set of recovery codes, each good once."""
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        StaticDevice.objects.filter(user=device.user).delete()
        recovery = StaticDevice.objects.create(user=device.user, name="Recovery codes")
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=recovery, token=code) for code in codes)
    return codes
