from django.utils.functional import SimpleLazyObject

from competitions import roles


def portal(request):
    """Whether to show "My applications": the user acts for at least one municipality.

    Lazy, so pages that do not show the menu cost no query; a view that has already found
    the user acting for a municipality says so (``request.acts_for_municipality``, set by
    ``applications.views._own_application``), and no query asks again.
    """
    user = getattr(request, "user", None)
    known = getattr(request, "acts_for_municipality", None)
    if known is not None:
        return {"acts_for_municipality": known}
    return {
        "acts_for_municipality": SimpleLazyObject(
            lambda: bool(user and roles.is_municipal_staff(user))
        )
    }
