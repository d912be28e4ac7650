from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import ActivityCategory, Competition, Municipality, ScoringCriterion


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["staff"]


@admin.register(ActivityCategory)
class ActivityCategoryAdmin(admin.ModelAdmin):
    list_display = ["name_lv", "name_en", "code", "order"]
    ordering = ["order"]


class ScoringCriterionInline(admin.TabularInline):
    model = ScoringCriterion
    extra = 0
    fields = [
        "order",
        "name_lv",
        "name_en",
        "description_lv",
        "description_en",
        "max_points",
        "weight",
    ]


@admin.register(Competition)
class CompetitionAdmin(SimpleHistoryAdmin):
    list_display = [
        "title_lv",
        "status",
        "opens_at",
        "closes_at",
        "pool_amount",
        "max_award_amount",
    ]
    list_filter = ["status"]
    search_fields = ["title_lv", "title_en", "slug"]
    prepopulated_fields = {"slug": ["title_lv"]}
    date_hierarchy = "opens_at"
    filter_horizontal = ["eligible_municipalities", "categories", "reviewers"]
    inlines = [ScoringCriterionInline]
    fieldsets = [
        (None, {"fields": ["title_lv", "title_en", "slug", "organiser", "status"]}),
        (_("Description"), {"fields": ["description_lv", "description_en", "regulations"]}),
        (_("Dates"), {"fields": ["opens_at", "closes_at", "results_expected_on"]}),
        (_("Money"), {"fields": ["pool_amount", "max_award_amount", "partial_awards_allowed"]}),
        (_("Who and what"), {"fields": ["eligible_municipalities", "categories", "reviewers"]}),
        (
            _("Award letters"),
            {
                "fields": [
                    "signatory_name",
                    "signatory_position",
                    "implementation_ends_on",
                    "report_due_on",
                ]
            },
        ),
    ]
