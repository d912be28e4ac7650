"""Pieces the application admins share: a read-only admin and the buttons above a page."""

from dataclasses import dataclass

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the services: the admin shows them and changes nothing."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@dataclass(frozen=True)
class ObjectTool:
    """A button above an application's page; a mixin adds its own by extending
    ``ApplicationAdmin.get_object_tools``."""

    label: str
    url: str
    method: str = "get"  # "post" sends the CSRF token with a one-button form


class ObjectToolsMixin:
    """Buttons above an object's page. Each mixin adds its own to what ``super()`` gives."""

    def get_object_tools(self, request, obj) -> list[ObjectTool]:
        return []
