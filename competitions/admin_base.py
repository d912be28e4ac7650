"""Pieces every admin of the portal shares: 404 for what a user may not see, no lookups on
fields a user may not see, a read-only admin, the buttons above a page and the parameter of a
list filtered by call.

They live in the lowest app of the pipeline so that each app above may use them.
"""

from dataclasses import dataclass

from django import forms
from django.contrib import admin
from django.contrib.admin import widgets
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.db import models
from django.db.models import F
from django.db.models.constants import LOOKUP_SEP
from django.http import Http404, HttpResponseNotAllowed
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext


class LabelledSplitDateTime(widgets.AdminSplitDateTime):
    """The admin's date and time boxes, each with a name a screen reader says: Django writes
    "Datums:" and "Laiks:" beside them as text, which labels neither."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.widgets[0].attrs["aria-label"] = gettext_lazy("Date")
        self.widgets[1].attrs["aria-label"] = gettext_lazy("Time")


#: Widgets that every admin page can read aloud and that fit the screen: dates and times with
#: their names, and many-to-many choices as checkboxes (Django's two-box filter puts an
#: aria-label on a span, which WCAG's rules do not allow, and is 800 px wide).
ACCESSIBLE_WIDGETS = {
    models.DateTimeField: {"widget": LabelledSplitDateTime},
    models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple},
}


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


def fields_named_by(order) -> set[str]:
    """The model fields an ``ordering`` of a column names: ``"-awarded_amount"``,
    ``F("score_max") - F("score_min")``, ``Coalesce(F("score_mean"), ...).desc()``."""
    if order is None:
        return set()
    if isinstance(order, str):
        return {order.lstrip("-").split(LOOKUP_SEP)[0]}
    if isinstance(order, F):
        return {order.name.split(LOOKUP_SEP)[0]}
    return set().union(*(fields_named_by(part) for part in order.get_source_expressions()))


class HiddenFieldLookupsMixin:
    """No lookup, ordering or search on a model field the admin does not show the user.

    Django's admin lets anyone who sees a list filter it from the URL on any of the model's
    own fields (``?awarded_amount__gte=5000``), shown or not: bounds on a hidden amount reveal
    it. Here the fields a user may use in the URL are the fields the admin shows them: the
    columns of their list (a column computed by a method counts by the fields its ordering
    names) and the fields of their form. A lookup on any other field of the model answers 400,
    as Django does for a lookup it refuses; the list's ordering (``?o=``) only ever names its
    columns, and ``search_fields`` must name shown fields (tests/test_admin_review.py walks
    every field for every role).
    """

    def visible_model_fields(self, request) -> set[str]:
        model_fields = {field.name for field in self.model._meta.get_fields()}
        visible = set()
        shown = [*self.get_list_display(request), *flatten_fieldsets(self.get_fieldsets(request))]
        for name in shown:
            if name in model_fields:
                visible.add(name)
                continue
            column = getattr(self, name, None) or getattr(self.model, name, None)
            visible |= fields_named_by(getattr(column, "admin_order_field", None))
        return visible & model_fields

    def lookup_allowed(self, lookup, value, request):
        field = lookup.split(LOOKUP_SEP)[0]
        model_fields = {model_field.name for model_field in self.model._meta.get_fields()}
        if field in model_fields and field not in self.visible_model_fields(request):
            return False
        return super().lookup_allowed(lookup, value, request)


class ReadOnlyAdmin(CaseTitlesMixin, admin.ModelAdmin):
    """Rows written only by the services: the admin shows them and changes nothing."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyTabularInline(admin.TabularInline):
    """Rows shown under their parent as a record: nothing added, changed or deleted here."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
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
