"""The language each user reads the portal in: recorded from the pages they use, read when the
portal writes to them.

The language a page speaks is in its address (``/en/...``), so the one a user last used is the
one of their last page. The login records it, and the middleware records it again when a page
of the other language is opened; the session remembers what was recorded, so that a page costs
no query unless the language has just changed.
"""

from collections.abc import Iterable

from django.conf import settings
from django.utils import translation

from .models import UserProfile

SESSION_KEY = "portal_language"


def supported(language: str | None) -> str:
    """One of the portal's languages: ``language`` when it is one, Latvian otherwise."""
    codes = {code for code, _name in settings.LANGUAGES}
    language = (language or "").split("-")[0]
    return language if language in codes else settings.LANGUAGE_CODE


def language_of(user) -> str:
    return languages_of([user]).get(user.pk, settings.LANGUAGE_CODE)


def languages_of(users: Iterable) -> dict[int, str]:
    """Each user's language by their id, in one query; Latvian for one never recorded."""
    ids = [user.pk for user in users]
    recorded = dict(UserProfile.objects.filter(user_id__in=ids).values_list("user_id", "language"))
    return {pk: supported(recorded.get(pk)) for pk in ids}


def language_record(*, user, language: str) -> None:
    """Remember ``language`` as the one the user reads the portal in."""
    UserProfile.objects.update_or_create(user=user, defaults={"language": supported(language)})


class RecordLanguageMiddleware:
    """Records the language of a signed-in user's page when it differs from the one recorded.

    Placed after the locale and authentication middleware. The session remembers the language
    recorded (``record_at_login`` puts it there at login), so that a page costs no query
    unless its language differs; a session without it is taken to be in Latvian, the default.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language = supported(translation.get_language())
            if request.session.get(SESSION_KEY, settings.LANGUAGE_CODE) != language:
                language_record(user=user, language=language)
                request.session[SESSION_KEY] = language
        return self.get_response(request)


def record_at_login(sender, request, user, **kwargs) -> None:
    """Receiver of ``user_logged_in``: the language of the login page is the user's now."""
    language = getattr(request, "LANGUAGE_CODE", None)
    if request is None or language is None or not hasattr(request, "session"):
        return
    language = supported(language)
    if language_of(user) != language:
        language_record(user=user, language=language)
    request.session[SESSION_KEY] = language
