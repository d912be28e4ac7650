"""Calls in the admin.

Coordinators create and edit calls with their criteria, eligible municipalities, categories and
reviewers, and publish them. Reviewers see the calls they are assigned to, read-only.

The screens on a call that serve the rules of applications (the allocation, the decision, the
export, the pool and cap of a call that has applications, criteria already scored) are
``applications``': ``applications/admin_allocation.py`` extends ``CompetitionAdmin`` with them
and registers it again. This app imports no other app of the portal.
"""

import posixpath
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from . import roles
from .admin_base import ACCESSIBLE_WIDGETS, ReadOnlyAdmin, ReadOnlyTabularInline, VisibleOnlyMixin
from .formatting import format_money
from .forms import MoneyField, MunicipalityForm
from .history import changed_by
from .jobs import done_so_far
from .models import (
    ActivityCategory,
    Competition,
    JobRun,
    Municipality,
    ScoringCriterion,
    StaffChange,
)
from .services import competition_publish, municipality_set_staff
from .signals import deadline_changed


class StaffChangeInline(ReadOnlyTabularInline):
    """Who changed the municipality's staff and signatories, and when."""

    model = StaffChange
    fields = ["changed_at", "changed_by", "added", "removed", "signatories"]


@admin.register(Municipality)
class MunicipalityAdmin(VisibleOnlyMixin, admin.ModelAdmin):
    """Coordinators read the municipalities; only a superuser changes them, and their staff
    through ``municipality_set_staff``, which records who made each change."""

    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["staff", "signatories"]
    form = MunicipalityForm
    inlines = [StaffChangeInline]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def save_related(self, request, form, formsets, change):
        # The two lists are saved by the service (never by the form's save_m2m()), which
        # checks them again under its lock and records the change.
        try:
            municipality_set_staff(
                municipality=form.instance,
                staff=form.cleaned_data["staff"],
                signatories=form.cleaned_data["signatories"],
                by=request.user,
            )
        except ValidationError as error:
            # The form ran the same check; only a change made meanwhile gets here.
            raise PermissionDenied(" ".join(error.messages)) from error
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(ActivityCategory)
class ActivityCategoryAdmin(VisibleOnlyMixin, admin.ModelAdmin):
    list_display = ["name_lv", "name_en", "code", "order"]
    ordering = ["order"]


class ScoringCriterionInline(admin.StackedInline):
    """Stacked: each field with its label (a table's inputs have none, and the two languages'
    descriptions made the table 2 500 px wide)."""

    model = ScoringCriterion
    fields = [
        "order",
        "name_lv",
        "name_en",
        "description_lv",
        "description_en",
        "max_points",
        "weight",
    ]

    def get_extra(self, request, obj=None, **kwargs):
        return 3 if obj is None else 0


# --- the call's form --------------------------------------------------------------------------

#: The call's money: the pool, the cap and whether partial awards are allowed.
LIMIT_FIELDS = ["pool_amount", "max_award_amount", "partial_awards_allowed"]


class CompetitionForm(forms.ModelForm):
    class Meta:
        model = Competition
        # What CompetitionAdmin.fieldsets may edit; the status only changes by its services.
        fields = [
            "title_lv",
            "title_en",
            "slug",
            "organiser_lv",
            "organiser_en",
            "organiser_details",
            "description_lv",
            "description_en",
            "regulations",
            "opens_at",
            "closes_at",
            "results_expected_on",
            *LIMIT_FIELDS,
            "eligible_municipalities",
            "categories",
            "reviewers",
            "signatory_name",
            "signatory_position",
            "objection_period_months",
            "implementation_ends_on",
            "report_due_on",
            "interim_report_due_on",
            "advance_share",
            "cost_tolerance",
        ]
        # The dates the award letters and the grant agreements print (the models' own help
        # texts would need a migration of a model other branches change too).
        help_texts = {
            "implementation_ends_on": _(
                "The last day of implementation, after the call's deadline: the award letters "
                "and agreements print it."
            ),
            "report_due_on": _(
                "The final report's due date, on or after the end of implementation; the final "
                "payment follows the accepted final report."
            ),
            "interim_report_due_on": _(
                "Optional: between the deadline and the end of implementation. Leave empty when "
                "the call asks for no interim report."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("pool_amount", "max_award_amount"):
            if name in self.fields:
                self.fields[name] = MoneyField(label=self.fields[name].label)
        if "reviewers" in self.fields:
            current = self.instance.reviewers.all() if self.instance.pk else []
            self.fields["reviewers"].queryset = (
                get_user_model()
                .objects.filter(
                    Q(pk__in=roles.reviewers()) | Q(pk__in=[user.pk for user in current])
                )
                .order_by("last_name", "first_name", "username")
            )
            self.fields["reviewers"].help_text = _(
                "Users who may review: members of the Reviewers group, or others given its "
                "permissions. A reviewer who acts for an applicant municipality cannot review "
                "that municipality's application."
            )

    def _update_errors(self, errors):
        # The model's checks name the amounts as bare numbers; write them the Latvian way.
        problems = (
            [problem for group in errors.error_dict.values() for problem in group]
            if hasattr(errors, "error_dict")
            else errors.error_list
        )
        for problem in problems:
            if problem.params:
                problem.params = {
                    key: format_money(value) if isinstance(value, Decimal) else value
                    for key, value in problem.params.items()
                }
        super()._update_errors(errors)


# --- the admin of calls -----------------------------------------------------------------------


@admin.register(Competition)
class CompetitionAdmin(VisibleOnlyMixin, SimpleHistoryAdmin):
    """Calls and their publication. ``applications`` extends it with its screens on a call."""

    form = CompetitionForm
    list_filter = ["status"]
    search_fields = ["title_lv", "title_en", "slug"]
    prepopulated_fields = {"slug": ["title_lv"]}
    date_hierarchy = "opens_at"
    formfield_overrides = ACCESSIBLE_WIDGETS
    inlines = [ScoringCriterionInline]
    readonly_fields = ["status", "published_at", "decided_at"]
    list_display = ["title_lv", "status", "opens_at", "closes_at", "pool", "cap"]
    actions = ["publish"]
    change_form_template = "admin/competitions/competition/change_form.html"
    #: Fields of the form that an extension saves through its own service: ``save_model``
    #: leaves them out.
    fields_saved_elsewhere: list[str] = []
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title_lv",
                    "title_en",
                    "slug",
                    "organiser_lv",
                    "organiser_en",
                    "organiser_details",
                    "status",
                    "published_at",
                    "decided_at",
                ]
            },
        ),
        (_("Description"), {"fields": ["description_lv", "description_en", "regulations"]}),
        (_("Dates"), {"fields": ["opens_at", "closes_at", "results_expected_on"]}),
        (_("Money"), {"fields": ["pool_amount", "max_award_amount", "partial_awards_allowed"]}),
        (_("Who and what"), {"fields": ["eligible_municipalities", "categories", "reviewers"]}),
        (
            _("Award letters"),
            {"fields": ["signatory_name", "signatory_position", "objection_period_months"]},
        ),
        (
            _("Grants: agreement, payments and reports"),
            {
                "fields": [
                    "implementation_ends_on",
                    "interim_report_due_on",
                    "report_due_on",
                    "advance_share",
                    "cost_tolerance",
                ],
                "description": _(
                    "What every agreement of the call prints: the implementation period, the "
                    "report dates and the payment schedule. The signatory above signs for the "
                    "region."
                ),
            },
        ),
    ]

    def get_queryset(self, request):
        calls = super().get_queryset(request)
        if roles.is_coordinator(request.user):
            return calls
        # Reviewers see the calls they are assigned to.
        return calls.filter(roles.reviewing(request.user, competition_id="pk"))

    def save_model(self, request, obj, form, change):
        changed_by(obj, request.user)
        if not change:
            obj.save()
            return
        # The form's own fields are saved here, less those saved by a service, and nothing else:
        # the status and its dates, read when this request began, may have been changed since
        # by another coordinator's decision or publication.
        edited = {field.name for field in obj._meta.concrete_fields} & set(form.fields)
        obj.save(update_fields=[*sorted(edited - set(self.fields_saved_elsewhere)), "updated_at"])
        if "closes_at" in form.changed_data and obj.status == Competition.Status.PUBLISHED:
            # The staff with a draft in the call are told the new deadline once it is saved.
            closes_before = form.initial.get("closes_at")
            transaction.on_commit(
                lambda: deadline_changed.send(
                    sender=Competition, competition=obj, closes_before=closes_before
                )
            )

    # The list.

    @admin.display(description=_("pool amount"), ordering="pool_amount")
    def pool(self, competition):
        return format_money(competition.pool_amount)

    @admin.display(description=_("maximum award per municipality"), ordering="max_award_amount")
    def cap(self, competition):
        return format_money(competition.max_award_amount)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        competition = self.get_object(request, object_id)
        if competition is not None:
            extra_context.update(self.tools_context(request, competition))
        return super().change_view(request, object_id, form_url, extra_context)

    def tools_context(self, request, competition) -> dict:
        """What the buttons above a call's page need; an extension adds its own."""
        return {
            "can_publish": competition.status == Competition.Status.DRAFT
            and self.has_change_permission(request, competition)
        }

    # Publishing.

    @admin.action(description=_("Publish the selected calls"), permissions=["change"])
    def publish(self, request, queryset):
        for competition in queryset:
            try:
                competition_publish(competition=competition, by=request.user)
            except ValidationError as error:
                self.message_user(
                    request,
                    gettext("“%(call)s” is not published: %(reason)s")
                    % {"call": competition, "reason": " ".join(error.messages)},
                    messages.ERROR,
                )
            else:
                self.message_user(
                    request,
                    gettext("“%(call)s” is published.") % {"call": competition},
                    messages.SUCCESS,
                )


# --- background jobs ------------------------------------------------------------------------


#: The types of the files jobs write, by extension (the rest are guessed from the name).
JOB_FILE_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@admin.register(JobRun)
class JobRunAdmin(VisibleOnlyMixin, ReadOnlyAdmin):
    """The jobs done on the workers (a call's letters, agreements in bulk): each one's page
    shows how far it has got and names what failed, and reloads itself until it ends, so it
    can be left and come back to."""

    list_display = ["title", "status", "progress", "started_by", "created_at", "finished_at"]
    list_filter = ["status"]
    list_select_related = ["started_by"]
    fields = [
        "title",
        "status",
        "progress",
        "failure_list",
        "file_name",
        "started_by",
        "created_at",
        "finished_at",
    ]
    readonly_fields = fields
    change_form_template = "admin/competitions/jobrun/change_form.html"

    def has_view_permission(self, request, obj=None):
        return roles.is_coordinator(request.user)

    @admin.display(description=_("done"))
    def progress(self, job):
        return gettext("%(done)s of %(total)s") % {"done": done_so_far(job), "total": job.total}

    @admin.display(description=_("failures"))
    def failure_list(self, job):
        if not job.failures:
            return "—"
        return format_html_join("\n", "<p>{}</p>", ((line,) for line in job.failures))

    @admin.display(description=_("file"))
    def file_name(self, job):
        if job.file:
            return posixpath.basename(job.file.name)
        if job.is_finished and job.status == JobRun.Status.DONE and job.total:
            days = settings.JOB_FILE_DAYS
            return ngettext(
                "removed %(days)s day after the job ended",
                "removed %(days)s days after the job ended",
                days,
            ) % {"days": days}
        return "—"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, unquote(object_id))
        extra_context = {
            **(extra_context or {}),
            "job_running": job and not job.is_finished,
            "download_url": reverse("admin:competitions_jobrun_download", args=[job.pk])
            if job and job.file and roles.can_download_job_file(request.user, job)
            else None,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="competitions_jobrun_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request, object_id):
        """The job's file, to its starter only, never kept by a browser or a proxy."""
        job = get_object_or_404(JobRun, pk=unquote(object_id))
        if not roles.can_download_job_file(request.user, job):
            raise PermissionDenied
        if not job.file:
            raise Http404
        name = posixpath.basename(job.file.name)
        response = FileResponse(
            job.file.open("rb"),
            as_attachment=True,
            filename=name,
            content_type=JOB_FILE_TYPES.get(posixpath.splitext(name)[1]),
        )
        response["Cache-Control"] = "private, no-store"
        return response
