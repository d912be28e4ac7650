"""The language each user reads the portal in: recorded from the pages they use, read when the
portal writes to them.

The language a page speaks is in its address (``/en/...``), so the one a user last used is the
one of their last page. The middleware records it when it changes, and remembers in the session
what it recorded, so that a page costs no query unless the language has just changed.
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

    Placed after the locale and authentication middleware. A new session asks the database
    once; after that, only a page in the other language does.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language = supported(translation.get_language())
            if request.session.get(SESSION_KEY) != language:
                if language_of(user) != language:
                    language_record(user=user, language=language)
                request.session[SESSION_KEY] = language
        return self.get_response(request)
