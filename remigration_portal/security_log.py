"""Logins, failed logins, lockouts, logouts and denials, in one logger, with the client's
address.

A denial is a 403 or 404 answered to a signed-in user (a staff member trying another
municipality's ids, a reviewer on the allocation screen, a post without its CSRF token): it
is logged with the user, the method, the path without its query string, and the status. A
failed login never logs the password. Every value written into a line (a typed username, a
path, a method, an address) passes through ``_printable``, its control characters escaped,
so no value a client chose can forge a line of its own.
"""

import ipaddress
import logging

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

logger = logging.getLogger("remigration_portal.security")


def client_address(request) -> str | None:
    """The address the request came from, as django-axes and this log see it.

    Each proxy appends the address it received the request from to X-Forwarded-For, so
    behind ``TRUSTED_PROXY_COUNT`` proxies the client is that many entries from the right;
    anything further left is whatever the client chose to send, and is never read. Without a
    proxy (the default) the header is all the client's own, so only REMOTE_ADDR counts. A
    header too short to hold the trusted entries, or one they did not write as an address,
    leaves REMOTE_ADDR: the nearest proxy's address, never one the client chose.

    django-axes would otherwise ask django-ipware (8.0), which does not quite do this: its
    parser lets a client's ``"`` swallow the proxy's entry, it prefers a public address to the
    trusted position, and it counts only the proxies listed in the header; hence this function
    (``AXES_CLIENT_IP_CALLABLE``), whose rule fits in a sentence.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies:
        return remote
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    if len(hops) < proxies:
        return remote
    try:
        return str(ipaddress.ip_address(_without_port(hops[-proxies].strip())))
    except ValueError:
        return remote


def _without_port(hop: str) -> str:
    """``[2001:db8::1]:443`` and ``192.0.2.1:443`` as some load balancers write them."""
    if hop.startswith("[") and "]" in hop:
        return hop[1 : hop.index("]")]
    if hop.count(":") == 1:
        return hop.partition(":")[0]
    return hop


def _address(request) -> str:
    if request is None:
        return "-"
    return _printable(client_address(request) or "-")


def _printable(text: str, limit: int = 300) -> str:
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:limit])
    return shown + ("…" if len(text) > limit else "")


@receiver(user_logged_in)
def log_login(sender, request, user, **kwargs):
    logger.info("login user=%s ip=%s", _printable(user.get_username()), _address(request))


@receiver(user_logged_out)
def log_logout(sender, request, user, **kwargs):
    logger.info(
        "logout user=%s ip=%s",
        _printable(user.get_username() if user else "-"),
        _address(request),
    )


@receiver(user_login_failed)
def log_login_failed(sender, credentials, request=None, **kwargs):
    logger.warning(
        "login failed user=%s ip=%s",
        _printable(str(credentials.get("username", "-"))),
        _address(request),
    )


@receiver(user_locked_out)
def log_locked_out(sender, request, username, ip_address, **kwargs):
    logger.warning(
        "locked out user=%s ip=%s", _printable(str(username)), _printable(str(ip_address or "-"))
    )


def log_password_reset_throttled(request) -> None:
    """A password reset refused past its limit (``views.ThrottledPasswordReset``)."""
    logger.warning("password reset throttled ip=%s", _address(request))


class DenialLogMiddleware:
    """Logs every 403 and 404 answered to a signed-in user.

    Placed after the authentication middleware; the CSRF middleware's refusals and the views'
    ``PermissionDenied`` and ``Http404`` reach it as responses.
    """

    DENIALS = frozenset({403, 404})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if response.status_code in self.DENIALS and user is not None and user.is_authenticated:
            logger.warning(
                "denied status=%s user=%s method=%s path=%s ip=%s",
                response.status_code,
                _printable(user.get_username()),
                _printable(request.method or "-", 10),
                _printable(request.path),
                _address(request),
            )
        return response
