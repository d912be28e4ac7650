"""Pieces every admin of the portal shares: 404 for what a user may not see, a read-only
admin, the buttons above a page and the parameter of a list filtered by call.

They live in the lowest app of the pipeline so that each app above may use them.
"""

from dataclasses import dataclass

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import Http404, HttpResponseNotAllowed
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

#: The call filter's parameter: a list filtered by it shows one call.
CALL_PARAMETER = "competition__id__exact"


def accusative(opts) -> str:
    """The model's name as the object of a verb: ``konkursu`` in "Labot konkursu" (the entries
    are in remigration_portal/admin_texts.py); in English the name as it is."""
    return pgettext("accusative", opts.verbose_name_raw)


class CaseTitlesMixin:
    """The admin's page titles with the model's name in the case the sentence needs.

    Django writes "Labot %s" with the name in the nominative ("Labot konkurss"); only a title
    that is still Django's own is written anew, so a page that sets its own keeps it.
    """

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        name, nominative = accusative(self.opts), self.opts.verbose_name
        for text in (_("Add %s"), _("Change %s"), _("View %s")):
            if context.get("title") == text % nominative:
                context["title"] = text % name
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        name, nominative = accusative(self.opts), self.opts.verbose_name
        for text in (_("Select %s to change"), _("Select %s to view"), _("Select %s")):
            if changelist.title == text % nominative:
                changelist.title = text % name
        return changelist


class VisibleOnlyMixin(CaseTitlesMixin):
    """An object outside the user's ``get_queryset`` answers 404 on every page of the admin.

    Django's admin would redirect to its index with "does not exist", and django-simple-history
    would even show the history of such an object from its historical rows. Put this mixin
    before ``SimpleHistoryAdmin`` in the bases so that its history views are covered too; it
    also makes a past version a page to read, never one to save back.
    """

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404

    def _visible_or_404(self, request, object_id) -> None:
        if self.get_object(request, unquote(object_id)) is None:
            raise Http404

    def history_view(self, request, object_id, extra_context=None):
        self._visible_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # django-simple-history saves a POST to this page as the object, set back to that
        # version, past every service and for anyone who may read the history (even with
        # SIMPLE_HISTORY_REVERT_DISABLED, which only hides the button): an application
        # would go back to a draft with no reference and its award gone from the ledger.
        # The history is a record; a version is only shown.
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        self._visible_or_404(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadOnlyAdmin(CaseTitlesMixin, admin.ModelAdmin):
    """Rows written only by the services: the admin shows them and changes nothing."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@dataclass(frozen=True)
class ObjectTool:
    """A button above an object's page; a mixin adds its own by extending
    ``get_object_tools`` (as the mixins of ``ApplicationAdmin`` do)."""

    label: str
    url: str
    method: str = "get"  # "post" sends the CSRF token with a one-button form


class ObjectToolsMixin:
    """Buttons above an object's page. Each mixin adds its own to what ``super()`` gives."""

    def get_object_tools(self, request, obj) -> list[ObjectTool]:
        return []
