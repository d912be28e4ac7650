from django.utils.functional import SimpleLazyObject

from competitions import roles


def portal(request):
    """Whether to show "My applications": the user acts for at least one municipality.

    Lazy, so pages that do not show the menu cost no query.
    """
    user = getattr(request, "user", None)
    return {
        "acts_for_municipality": SimpleLazyObject(
            lambda: bool(user and roles.is_municipal_staff(user))
        )
    }
