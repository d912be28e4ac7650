from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from competitions.templatetags.portal import money

from .admin_letters import LetterAdminMixin, issue_letters
from .models import AllocationEvent, Application


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the services: the admin shows them and changes nothing."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AllocationEvent)
class AllocationEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "application", "before", "after", "by", "reason"]
    list_filter = ["competition"]
    list_select_related = ["application__municipality", "by"]
    search_fields = ["application__reference", "application__municipality__name", "reason"]
    date_hierarchy = "at"

    @admin.display(description=AllocationEvent._meta.get_field("amount_before").verbose_name)
    def before(self, event):
        return money(event.amount_before)

    @admin.display(description=AllocationEvent._meta.get_field("amount_after").verbose_name)
    def after(self, event):
        return money(event.amount_after)


@admin.register(Application)
class ApplicationAdmin(LetterAdminMixin, SimpleHistoryAdmin, ReadOnlyAdmin):
    actions = [issue_letters]
    list_display = [
        "reference",
        "municipality",
        "competition",
        "status",
        "requested_amount",
        "awarded_amount",
    ]
    list_filter = ["competition", "status"]
    list_select_related = ["municipality", "competition"]
    search_fields = ["reference", "municipality__name"]
