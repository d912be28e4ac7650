"""Calls in the admin.

Coordinators create and edit calls with their criteria, eligible municipalities, categories and
reviewers, publish them, allocate each call's pool on its allocation screen, record the
decision and export the results. Reviewers see the calls they are assigned to, read-only.

Money changes go through ``applications.services``: a new pool, cap or partial-award rule of an
existing call through ``competition_set_limits``, amounts through ``allocation_set`` and
``allocation_apply_shown_proposal``, the decision through ``competition_decide``.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import content_disposition_header
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from applications import services as application_services
from applications.admin import can_allocate, sees_allocation
from applications.admin_base import VisibleOnlyMixin
from applications.exports import EXPORT_FORMATS
from applications.forms import MoneyField
from applications.models import RANKED_STATUSES, AllocationEvent, Application, CriterionScore
from applications.selectors import (
    allocation_ledger,
    allocation_proposal,
    application_ranking,
    pool_state,
)

from .formatting import format_money
from .forms import MunicipalityForm
from .models import ActivityCategory, Competition, Municipality, ScoringCriterion
from .roles import REVIEWERS
from .services import competition_publish


@admin.register(Municipality)
class MunicipalityAdmin(VisibleOnlyMixin, admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["staff", "signatories"]
    form = MunicipalityForm


@admin.register(ActivityCategory)
class ActivityCategoryAdmin(VisibleOnlyMixin, admin.ModelAdmin):
    list_display = ["name_lv", "name_en", "code", "order"]
    ordering = ["order"]


class ScoringCriterionInline(admin.TabularInline):
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

    @staticmethod
    def is_scored(competition) -> bool:
        """Once points are given, a criterion's maximum and weight are what the stored review
        scores were computed from: changing them, or the set of criteria, would make those
        scores wrong."""
        if competition is None or competition.pk is None:
            return False
        if not hasattr(competition, "_scored"):
            competition._scored = CriterionScore.objects.filter(
                criterion__competition=competition
            ).exists()
        return competition._scored

    def get_extra(self, request, obj=None, **kwargs):
        return 3 if obj is None else 0

    def get_readonly_fields(self, request, obj=None):
        return ["max_points", "weight"] if self.is_scored(obj) else []

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and not self.is_scored(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self.is_scored(obj)


# --- the call's form --------------------------------------------------------------------------

LIMIT_FIELDS = ["pool_amount", "max_award_amount", "partial_awards_allowed"]
# Where each refusal of competition_set_limits is shown on the form.
LIMIT_ERROR_FIELDS = {
    "pool_below_allocated": "pool_amount",
    "cap_above_pool": "max_award_amount",
    "cap_below_award": "max_award_amount",
    "partial_awards_exist": "partial_awards_allowed",
}


class _DryRun(Exception):
    """Raised to undo a service call made only to hear whether it would refuse."""


class CompetitionForm(forms.ModelForm):
    user = None  # the signed-in coordinator, set by CompetitionAdmin.get_form

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
                    Q(groups__name=REVIEWERS, is_active=True, is_staff=True)
                    | Q(pk__in=[user.pk for user in current])
                )
                .distinct()
                .order_by("last_name", "first_name", "username")
            )
            self.fields["reviewers"].help_text = _(
                "Members of the Reviewers group. A reviewer who acts for an applicant "
                "municipality cannot review that municipality's application."
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

    def clean(self):
        cleaned = super().clean()
        pool, cap = cleaned.get("pool_amount"), cleaned.get("max_award_amount")
        if (
            self.instance.pk
            and set(LIMIT_FIELDS) & set(self.changed_data)
            and pool is not None
            and cap is not None
            and cap <= pool  # otherwise the model's own check names the problem
        ):
            self._check_limits_of_existing_call(cleaned)
        return cleaned

    def _check_limits_of_existing_call(self, cleaned):
        """Ask competition_set_limits whether the call's allocation allows the new pool, cap
        and partial-award rule, and undo its write; CompetitionAdmin.save_model makes it."""
        # The change form runs in one transaction. Locking the call's row here keeps it locked
        # until save_model applies the same change, so no allocation slips in between.
        Competition.objects.select_for_update().get(pk=self.instance.pk)
        try:
            with transaction.atomic():
                application_services.competition_set_limits(
                    competition=self.instance,
                    pool_amount=cleaned["pool_amount"],
                    max_award_amount=cleaned["max_award_amount"],
                    partial_awards_allowed=cleaned.get("partial_awards_allowed", False),
                    by=self.user,
                )
                raise _DryRun
        except _DryRun:
            pass
        except ValidationError as error:
            for problem in error.error_list:
                self.add_error(LIMIT_ERROR_FIELDS.get(problem.code), problem)


# --- the allocation screen and the decision --------------------------------------------------


class AwardForm(forms.Form):
    application = forms.ModelChoiceField(
        queryset=Application.objects.none(), widget=forms.HiddenInput
    )
    amount = MoneyField(label=_("awarded amount"), min_value=Decimal("0.00"))
    reason = forms.CharField(
        label=_("reason"),
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": _("Reason for the change")}),
    )

    def __init__(self, *args, competition, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["application"].queryset = competition.applications.select_related(
            "municipality"
        )


@dataclass
class AllocationRow:
    application: Application
    rank: int
    proposal: object  # applications.selectors.ProposalRow, or None once decided
    form: AwardForm | None


class DecisionForm(forms.Form):
    rejection_reason = forms.CharField(
        label=_("Reason for the rejections"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Given to every rejected application that has no reason of its own below."),
    )

    def __init__(self, *args, applications, **kwargs):
        super().__init__(*args, **kwargs)
        self.applications = applications
        for application in applications:
            self.fields[f"reason_{application.pk}"] = forms.CharField(
                label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2})
            )

    def rows(self):
        return [(a, self[f"reason_{a.pk}"]) for a in self.applications]

    def reasons(self) -> dict[int, str]:
        return {
            application.pk: text
            for application in self.applications
            if (text := self.cleaned_data[f"reason_{application.pk}"].strip())
        }


# --- the admin of calls -----------------------------------------------------------------------


@admin.register(Competition)
class CompetitionAdmin(VisibleOnlyMixin, SimpleHistoryAdmin):
    form = CompetitionForm
    list_filter = ["status"]
    search_fields = ["title_lv", "title_en", "slug"]
    prepopulated_fields = {"slug": ["title_lv"]}
    date_hierarchy = "opens_at"
    filter_horizontal = ["eligible_municipalities", "categories", "reviewers"]
    inlines = [ScoringCriterionInline]
    readonly_fields = ["status", "published_at", "decided_at"]
    actions = ["publish", "record_decision"]
    change_form_template = "admin/competitions/competition/change_form.html"
    allocation_template = "admin/competitions/competition/allocation.html"
    decision_template = "admin/competitions/competition/record_decision.html"
    #: How many of the newest ledger rows the allocation screen shows.
    ledger_rows = 50
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
        (_("Award letters"), {"fields": ["signatory_name", "signatory_position"]}),
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
        calls = (
            super()
            .get_queryset(request)
            .annotate(
                ranked_count=Count(
                    "applications", filter=Q(applications__status__in=RANKED_STATUSES)
                )
            )
        )
        if sees_allocation(request.user):
            return calls
        # Reviewers see the calls they are assigned to.
        return calls.filter(
            Exists(
                Competition.reviewers.through.objects.filter(
                    competition_id=OuterRef("pk"), user_id=request.user.pk
                )
            )
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user
        return form

    def save_model(self, request, obj, form, change):
        obj._history_user = request.user
        if not change:
            obj.save()
            return
        if set(LIMIT_FIELDS) & set(form.changed_data):
            application_services.competition_set_limits(
                competition=obj,
                pool_amount=obj.pool_amount,
                max_award_amount=obj.max_award_amount,
                partial_awards_allowed=obj.partial_awards_allowed,
                by=request.user,
            )
        # The money fields were written by the service; the rest of the form is saved here,
        # and nothing else: the status and its dates, read when this request began, may have
        # been changed since by another coordinator's decision or publication.
        edited = {field.name for field in obj._meta.concrete_fields} & set(form.fields)
        obj.save(update_fields=[*sorted(edited - set(LIMIT_FIELDS)), "updated_at"])

    # The list.

    @admin.display(description=_("pool amount"), ordering="pool_amount")
    def pool(self, competition):
        return format_money(competition.pool_amount)

    @admin.display(description=_("maximum award per municipality"), ordering="max_award_amount")
    def cap(self, competition):
        return format_money(competition.max_award_amount)

    def get_list_display(self, request):
        columns = ["title_lv", "status", "opens_at", "closes_at", "pool", "cap"]
        return [*columns, "tools" if sees_allocation(request.user) else "review_tools"]

    @admin.display(description=_("Work on the call"))
    def tools(self, competition):
        return format_html_join(
            " · ",
            '<a href="{}">{}</a>',
            [
                self.applications_link(competition),
                (
                    reverse("admin:competitions_competition_allocation", args=[competition.pk]),
                    gettext("Allocation"),
                ),
                *self.export_links(competition),
            ],
        )

    @admin.display(description=_("Work on the call"))
    def review_tools(self, competition):
        return format_html('<a href="{}">{}</a>', *self.applications_link(competition))

    def applications_link(self, competition):
        return (
            reverse("admin:applications_application_changelist")
            + f"?competition__id__exact={competition.pk}",
            gettext("Applications (%(count)s)") % {"count": competition.ranked_count},
        )

    def export_links(self, competition):
        return [
            (
                reverse(
                    "admin:competitions_competition_export", args=[competition.pk, export_format]
                ),
                export_format.upper(),
            )
            for export_format in EXPORT_FORMATS
        ]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:object_id>/allocation/",
                view(self.allocation_view),
                name="competitions_competition_allocation",
            ),
            path(
                "<int:object_id>/allocation/state/",
                view(self.allocation_state_view),
                name="competitions_competition_allocation_state",
            ),
            path(
                "<int:object_id>/export/<str:export_format>/",
                view(self.export_view),
                name="competitions_competition_export",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        competition = self.get_object(request, object_id)
        if competition is not None:
            extra_context["sees_allocation"] = sees_allocation(request.user)
            extra_context["export_links"] = self.export_links(competition)
            extra_context["can_publish"] = (
                competition.status == Competition.Status.DRAFT
                and self.has_change_permission(request, competition)
            )
        return super().change_view(request, object_id, form_url, extra_context)

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

    # The allocation screen.

    def _get_call(self, request, object_id) -> Competition:
        if not sees_allocation(request.user):
            raise PermissionDenied
        return get_object_or_404(Competition, pk=object_id)

    def allocation_view(self, request, object_id):
        competition = self._get_call(request, object_id)
        refused = None  # (application id, bound form) shown again after a refusal
        if request.method == "POST":
            if not can_allocate(request.user):
                raise PermissionDenied
            if "apply_proposal" in request.POST:
                self._apply_proposal(request, competition)
                return redirect(request.path)
            form = AwardForm(request.POST, competition=competition)
            if self._set_amount(request, competition, form):
                return redirect(f"{request.path}#application-{form.cleaned_data['application'].pk}")
            if form.is_valid() or "application" not in form.errors:
                refused = (form["application"].value(), form)
        return TemplateResponse(
            request,
            self.allocation_template,
            self.allocation_context(request, competition, refused),
        )

    def _apply_proposal(self, request, competition):
        try:
            shown = {
                int(key.removeprefix("shown-")): Decimal(value)
                for key, value in request.POST.items()
                if key.startswith("shown-")
            }
        except (ValueError, InvalidOperation):
            self.message_user(
                request, gettext("The proposal could not be read; reload the page."), messages.ERROR
            )
            return
        try:
            application_services.allocation_apply_shown_proposal(
                competition=competition, shown=shown, by=request.user
            )
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return
        state = pool_state(competition=competition)
        self.message_user(
            request,
            gettext(
                "The proposal is applied: %(allocated)s allocated, %(remaining)s left in the pool."
            )
            % {
                "allocated": format_money(state.allocated),
                "remaining": format_money(state.remaining),
            },
            messages.SUCCESS,
        )

    def _set_amount(self, request, competition, form) -> bool:
        """Send one row's amount through allocation_set; say what happened, amounts named."""
        if not form.is_valid():
            problems = " ".join(
                f"{capfirst(form.fields[name].label)}: {message}"
                if name in form.fields
                else message
                for name, errors in form.errors.items()
                for message in errors
            )
            self.message_user(
                request,
                gettext("The change is not saved. %(problems)s") % {"problems": problems},
                messages.ERROR,
            )
            return False
        application = form.cleaned_data["application"]
        before = application.awarded_amount
        try:
            application = application_services.allocation_set(
                application=application,
                amount=form.cleaned_data["amount"],
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            self.message_user(
                request,
                gettext("%(municipality)s: the change is refused and nothing is saved. %(reason)s")
                % {"municipality": application.municipality, "reason": " ".join(error.messages)},
                messages.ERROR,
            )
            return False
        state = pool_state(competition=competition)
        self.message_user(
            request,
            gettext(
                "%(municipality)s: %(before)s → %(after)s. Allocated %(allocated)s, "
                "%(remaining)s left in the pool."
            )
            % {
                "municipality": application.municipality,
                "before": format_money(before),
                "after": format_money(application.awarded_amount),
                "allocated": format_money(state.allocated),
                "remaining": format_money(state.remaining),
            },
            messages.SUCCESS,
        )
        return True

    def allocation_context(self, request, competition, refused=None) -> dict:
        editable = can_allocate(request.user) and not competition.is_decided
        if competition.is_decided:
            proposal = None
            ranked = application_ranking(competition=competition, statuses=RANKED_STATUSES)
            rows = [AllocationRow(a, a.rank, None, None) for a in ranked]
        else:
            proposal = allocation_proposal(competition=competition)
            rows = []
            for proposed in proposal.rows:
                application = proposed.application
                form = None
                if editable:
                    if refused and str(refused[0]) == str(application.pk):
                        form = refused[1]
                    else:
                        form = AwardForm(
                            competition=competition,
                            initial={
                                "application": application.pk,
                                "amount": application.awarded_amount,
                            },
                        )
                    form.auto_id = f"id_award_{application.pk}_%s"
                rows.append(AllocationRow(application, proposed.rank, proposed, form))
        ledger = allocation_ledger(competition=competition, limit=self.ledger_rows)
        now = timezone.now()
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "page_class": "allocation",
            "original": competition,
            "breadcrumb": gettext("Allocation"),
            "title": gettext("Allocation: %(call)s") % {"call": competition},
            "competition": competition,
            "state": pool_state(competition=competition),
            "proposal": proposal,
            "rows": rows,
            "totals": {
                "requested": sum((row.application.requested_amount for row in rows), Decimal(0)),
                "awarded": sum((row.application.awarded_amount for row in rows), Decimal(0)),
            },
            "editable": editable,
            "ledger": ledger,
            "last_event": ledger[0].pk if ledger else None,
            "can_decide": self.has_decide_permission(request)
            and competition.status == Competition.Status.PUBLISHED
            and competition.closes_at <= now,
            "still_open": competition.status == Competition.Status.PUBLISHED
            and competition.closes_at > now,
            "export_links": self.export_links(competition),
            "ledger_url": reverse("admin:applications_allocationevent_changelist")
            + f"?competition__id__exact={competition.pk}",
        }

    def allocation_state_view(self, request, object_id):
        """The pool's figures, polled by the allocation screen to stay current while another
        coordinator allocates."""
        competition = self._get_call(request, object_id)
        state = pool_state(competition=competition)
        last_event = (
            AllocationEvent.objects.filter(competition=competition)
            .order_by("-at", "-id")
            .values_list("pk", flat=True)
            .first()
        )
        return JsonResponse(
            {
                "pool": format_money(state.pool),
                "allocated": format_money(state.allocated),
                "remaining": format_money(state.remaining),
                "remaining_amount": str(state.remaining),
                "cap": format_money(state.cap),
                "last_event": last_event,
                "decided": competition.is_decided,
            },
            headers={"Cache-Control": "no-store"},
        )

    # The decision.

    def has_decide_permission(self, request):
        return can_allocate(request.user) and request.user.has_perm(
            "competitions.change_competition"
        )

    @admin.action(description=_("Record the decision…"), permissions=["decide"])
    def record_decision(self, request, queryset):
        """Show every submitted application as it will be decided, ask for the reasons of the
        rejections, then record the decision (which also locks the allocation and notifies the
        municipalities)."""
        calls = list(queryset[:2])
        if len(calls) != 1:
            self.message_user(
                request,
                gettext("Select one call: a decision is recorded for one call at a time."),
                messages.WARNING,
            )
            return None
        competition = calls[0]
        applications = application_ranking(competition=competition)
        if request.POST.get("post") == "yes":
            form = DecisionForm(request.POST, applications=applications)
            if form.is_valid():
                try:
                    application_services.competition_decide(
                        competition=competition,
                        by=request.user,
                        rejection_reason=form.cleaned_data["rejection_reason"].strip(),
                        reasons=form.reasons(),
                    )
                except ValidationError as error:
                    self.message_user(request, " ".join(error.messages), messages.ERROR)
                else:
                    awarded = [a for a in applications if a.awarded_amount]
                    self.message_user(
                        request,
                        gettext(
                            "The decision on “%(call)s” is recorded. Awarded: %(awarded)s "
                            "(%(total)s); rejected: %(rejected)s. The allocation is locked and "
                            "the municipalities are notified by e-mail."
                        )
                        % {
                            "call": competition,
                            "awarded": len(awarded),
                            "total": format_money(
                                sum((a.awarded_amount for a in awarded), Decimal(0))
                            ),
                            "rejected": len(applications) - len(awarded),
                        },
                        messages.SUCCESS,
                    )
                    return redirect("admin:competitions_competition_allocation", competition.pk)
        else:
            form = DecisionForm(applications=applications)
        state = pool_state(competition=competition)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "page_class": "record-decision",
            "original": competition,
            "breadcrumb": gettext("Record the decision"),
            "title": gettext("Record the decision: %(call)s") % {"call": competition},
            "competition": competition,
            "form": form,
            "state": state,
            "unscored": [a for a in applications if a.score_mean is None],
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, self.decision_template, context)

    # The export.

    def export_view(self, request, object_id, export_format):
        competition = self._get_call(request, object_id)
        export = EXPORT_FORMATS.get(export_format)
        if export is None:
            raise Http404
        response = HttpResponse(export.render(competition), content_type=export.content_type)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=f"{competition.slug}-applications.{export.extension}"
        )
        response["Cache-Control"] = "private, no-store"
        return response
