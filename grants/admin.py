"""The grants in the admin, read-only: coordinators follow every grant and its plan versions.

The plan's approval and return, and the agreement's countersigning, are screens of their own
on top of these (each through its service); nothing here saves a grant.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from competitions.admin_base import ReadOnlyAdmin, VisibleOnlyMixin
from competitions.roles import is_coordinator
from competitions.templatetags.portal import money

from .models import Agreement, Grant, PlanLine, PlanVersion


class CoordinatorsOnlyMixin(VisibleOnlyMixin):
    """Only coordinators see the grants in the admin; municipal staff follow theirs in the
    portal, and reviewers none. Read from the permissions, which Django caches for the
    request: the admin asks on every page for its menu."""

    def has_module_permission(self, request):
        return is_coordinator(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return is_coordinator(request.user) and super().has_view_permission(request, obj)


class PlanVersionInline(admin.TabularInline):
    model = PlanVersion
    fields = ["number", "status", "shown_total", "proposed_at", "decided_at", "sha256"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("total"))
    def shown_total(self, version):
        return money(version.total)


@admin.register(Grant)
class GrantAdmin(CoordinatorsOnlyMixin, ReadOnlyAdmin):
    list_display = ["application", "call", "municipality", "status", "award", "agreed"]
    list_filter = ["application__competition", "status"]
    list_select_related = ["application__competition", "application__municipality"]
    search_fields = ["application__reference", "application__municipality__name"]
    fields = [
        "application",
        "status",
        "opened_at",
        "award",
        "agreed",
        "declined_at",
        "declined_by",
        "decline_reason",
    ]
    readonly_fields = fields
    inlines = [PlanVersionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user)

    @admin.display(description=_("call"), ordering="application__competition")
    def call(self, grant):
        return grant.application.competition

    @admin.display(description=_("municipality"), ordering="application__municipality__name")
    def municipality(self, grant):
        return grant.application.municipality

    @admin.display(description=_("award"), ordering="application__awarded_amount")
    def award(self, grant):
        return money(grant.application.awarded_amount)

    @admin.display(description=_("agreed total"), ordering="agreed_total")
    def agreed(self, grant):
        return money(grant.agreed_total) if grant.agreed_total is not None else "—"


class PlanLineInline(admin.TabularInline):
    model = PlanLine
    fields = ["position", "category", "title", "description", "shown_cost", "key"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("cost"))
    def shown_cost(self, line):
        return money(line.cost)


@admin.register(PlanVersion)
class PlanVersionAdmin(CoordinatorsOnlyMixin, ReadOnlyAdmin):
    list_display = ["grant", "number", "status", "shown_total", "proposed_at", "decided_at"]
    list_filter = ["grant__application__competition", "status"]
    list_select_related = ["grant__application__municipality"]
    search_fields = ["grant__application__reference", "grant__application__municipality__name"]
    fields = [
        "grant",
        "number",
        "status",
        "shown_total",
        "created_at",
        "created_by",
        "proposed_at",
        "proposed_by",
        "decided_at",
        "decided_by",
        "return_comment",
        "sha256",
    ]
    readonly_fields = fields
    inlines = [PlanLineInline]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(grant__in=Grant.objects.for_user(request.user))

    @admin.display(description=_("total"), ordering="total")
    def shown_total(self, version):
        return money(version.total)


@admin.register(Agreement)
class AgreementAdmin(CoordinatorsOnlyMixin, ReadOnlyAdmin):
    list_display = [
        "number",
        "grant",
        "language",
        "generated_at",
        "accepted_at",
        "countersigned_at",
    ]
    list_filter = ["grant__application__competition"]
    list_select_related = ["grant__application__municipality"]
    search_fields = ["number", "grant__application__municipality__name"]
    exclude = ["pdf", "signed_file", "countersigned_file"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(grant__in=Grant.objects.for_user(request.user))
