"""The grants in the admin, read-only: coordinators follow every grant and its plan versions.

The plan's approval and return, and the agreement's countersigning, are screens of their own
on top of these (each through its service); nothing here saves a grant.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Subquery
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from applications.selectors import pool_state
from competitions.admin_base import (
    ObjectTool,
    ReadOnlyAdmin,
    ReadOnlyTabularInline,
    VisibleOnlyMixin,
)
from competitions.formatting import format_money
from competitions.roles import is_coordinator
from competitions.templatetags.portal import money

from . import services
from .forms import ReturnForm
from .models import Agreement, Grant, PlanLine, PlanVersion
from .selectors import plan_changes
from .services import AGREEMENT_PERMISSION
from .tasks import agreements_job

#: Countersigning changes an agreement: the coordinators' permission to change one.
COUNTERSIGN_PERMISSION = "grants.change_agreement"
ISSUE_AGAIN_LABELS = {
    "lv": _("Issue again in Latvian"),
    "en": _("Issue again in English"),
}


class CountersignForm(forms.Form):
    file = forms.FileField(
        label=_("Countersigned file (optional)"),
        required=False,
        help_text=_(
            "The agreement signed by the region with a secure electronic signature: an .edoc or "
            ".asice container holding the agreement's PDF, or the signed PDF. Without a file, "
            "the countersignature is recorded with your name and the time."
        ),
    )


class CoordinatorsOnlyMixin(VisibleOnlyMixin):
    """Only coordinators see the grants in the admin; municipal staff follow theirs in the
    portal, and reviewers none. Read from the permissions, which Django caches for the
    request: the admin asks on every page for its menu."""

    def has_module_permission(self, request):
        return is_coordinator(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return is_coordinator(request.user) and super().has_view_permission(request, obj)


class PlanVersionInline(ReadOnlyTabularInline):
    model = PlanVersion
    fields = ["number", "status", "shown_total", "proposed_at", "decided_at", "sha256"]
    show_change_link = True

    @admin.display(description=_("total"))
    def shown_total(self, version):
        return money(version.total)


#: What the agreement lists show besides the number.
AGREEMENT_COLUMNS = [
    "language",
    "generated_at",
    "accepted_at",
    "signed_file_uploaded_at",
    "countersigned_at",
    "replaced_by",
    "downloads",
]


class AgreementFieldsMixin:
    @admin.display(description=_("files"))
    def downloads(self, agreement):
        links = [
            (kind, label)
            for kind, label, present in [
                ("pdf", gettext("agreement PDF"), True),
                ("signed", gettext("signed by the municipality"), bool(agreement.signed_file)),
                ("countersigned", gettext("countersigned"), bool(agreement.countersigned_file)),
            ]
            if present
        ]
        return format_html_join(
            " · ",
            '<a href="{}">{}</a>',
            (
                (
                    reverse(
                        "grants:agreement_download", args=[agreement.grant_id, agreement.pk, kind]
                    ),
                    label,
                )
                for kind, label in links
            ),
        )


class AgreementInline(AgreementFieldsMixin, ReadOnlyTabularInline):
    """A grant's agreements on its admin page, newest first."""

    model = Agreement
    fields = ["number", *AGREEMENT_COLUMNS]
    show_change_link = True


def _proposed(grant_ref):
    return PlanVersion.objects.filter(grant=grant_ref, status=PlanVersion.Status.PROPOSED)


class ToDecideFilter(admin.SimpleListFilter):
    """The grants whose proposed plan awaits a coordinator's approval or return."""

    title = _("to decide")
    parameter_name = "to_decide"

    def lookups(self, request, model_admin):
        return [
            ("yes", _("a proposed plan awaits the coordinator")),
            ("no", _("nothing to decide")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(awaiting_decision=True)
        if self.value() == "no":
            return queryset.filter(awaiting_decision=False)
        return queryset


class ObjectToolsAdmin(CoordinatorsOnlyMixin, ReadOnlyAdmin):
    """Buttons above an object's page (``templates/admin/grants/change_form.html``)."""

    def get_object_tools(self, request, obj) -> list[ObjectTool]:
        return []

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if obj is not None:
            extra_context["object_tools"] = self.get_object_tools(request, obj)
        return super().change_view(request, object_id, form_url, extra_context)


def decision_tools(version_pk: int) -> list[ObjectTool]:
    return [
        ObjectTool(
            gettext("Approve the plan"),
            reverse("admin:grants_planversion_approve", args=[version_pk]),
        ),
        ObjectTool(
            gettext("Return for revision"),
            reverse("admin:grants_planversion_return", args=[version_pk]),
        ),
    ]


@admin.action(
    description=_("Issue agreements of the selected grants in Latvian"),
    permissions=["issue_agreement"],
)
def issue_agreements(modeladmin, request, queryset):
    """The selected grants' agreements, as a job on a worker; its page names each grant whose
    agreement was refused."""
    job = agreements_job(grants=queryset, by=request.user, language="lv")
    return redirect("admin:competitions_jobrun_change", job.pk)


@admin.register(Grant)
class GrantAdmin(ObjectToolsAdmin):
    actions = [issue_agreements]

    def has_issue_agreement_permission(self, request) -> bool:
        return is_coordinator(request.user) and request.user.has_perm(AGREEMENT_PERMISSION)

    list_display = ["application", "call", "municipality", "status", "award", "agreed", "to_decide"]
    list_filter = [ToDecideFilter, "application__competition", "status"]
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
    inlines = [PlanVersionInline, AgreementInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .for_user(request.user)
            .annotate(
                awaiting_decision=Exists(_proposed(OuterRef("pk"))),
                proposed_version=Subquery(_proposed(OuterRef("pk")).values("pk")[:1]),
            )
        )

    def get_object_tools(self, request, grant) -> list[ObjectTool]:
        return decision_tools(grant.proposed_version) if grant.proposed_version else []

    @admin.display(description=_("to decide"), ordering="-awaiting_decision")
    def to_decide(self, grant):
        if not grant.proposed_version:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:grants_planversion_approve", args=[grant.proposed_version]),
            gettext("Decide on the proposed plan"),
        )

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


class PlanLineInline(ReadOnlyTabularInline):
    model = PlanLine
    fields = ["position", "category", "title", "description", "shown_cost", "key"]

    @admin.display(description=_("cost"))
    def shown_cost(self, line):
        return money(line.cost)


@admin.register(PlanVersion)
class PlanVersionAdmin(ObjectToolsAdmin):
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
    decide_template = "admin/grants/planversion/decide.html"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(grant__in=Grant.objects.for_user(request.user))

    @admin.display(description=_("total"), ordering="total")
    def shown_total(self, version):
        return money(version.total)

    def get_object_tools(self, request, version) -> list[ObjectTool]:
        if version.status != PlanVersion.Status.PROPOSED:
            return []
        return decision_tools(version.pk)

    # The coordinator's answer to a proposed plan: approve it, or return it with a comment.

    def get_urls(self):
        return [
            path(
                "<int:object_id>/approve/",
                self.admin_site.admin_view(self.approve_view),
                name="grants_planversion_approve",
            ),
            path(
                "<int:object_id>/return/",
                self.admin_site.admin_view(self.return_view),
                name="grants_planversion_return",
            ),
            *super().get_urls(),
        ]

    def _version_to_decide(self, request, object_id) -> PlanVersion:
        """The version, for a coordinator who may decide plans; 403 for anyone else, 404 for
        a version that does not exist."""
        if not (
            self.has_view_permission(request) and request.user.has_perm("grants.change_planversion")
        ):
            raise PermissionDenied
        return get_object_or_404(
            self.get_queryset(request).select_related(
                "grant__application__competition",
                "grant__application__municipality",
                "proposed_by",
            ),
            pk=object_id,
        )

    def approve_view(self, request, object_id):
        version = self._version_to_decide(request, object_id)
        if request.method == "POST":
            award = version.grant.application.awarded_amount
            try:
                version = services.plan_approve(version=version, by=request.user)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.message_user(request, _approved_message(version, award), messages.SUCCESS)
                return redirect("admin:grants_grant_change", version.grant_id)
        return self._decide_page(request, version, approving=True)

    def return_view(self, request, object_id):
        version = self._version_to_decide(request, object_id)
        form = ReturnForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                version = services.plan_return(
                    version=version, by=request.user, comment=form.cleaned_data["comment"]
                )
            except ValidationError as error:
                form.add_error(None, error)
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.message_user(
                    request,
                    gettext(
                        "Plan version %(number)s of %(municipality)s is returned for revision "
                        "with your comment; its staff are told by e-mail."
                    )
                    % {"number": version.number, "municipality": version.grant.municipality.name},
                    messages.SUCCESS,
                )
                return redirect("admin:grants_grant_change", version.grant_id)
        return self._decide_page(request, version, approving=False, form=form)

    def _decide_page(self, request, version: PlanVersion, *, approving: bool, form=None):
        grant = version.grant
        award = grant.application.awarded_amount
        pool = pool_state(competition=grant.competition)
        lowered_by = award - version.total if version.total < award else None
        refusal = None
        if version.status != PlanVersion.Status.PROPOSED:
            refusal = gettext(
                "Plan version %(number)s is %(status)s: only a proposed plan is approved or "
                "returned."
            ) % {"number": version.number, "status": version.get_status_display()}
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "page_class": "plan-decision",
            "original": version,
            "breadcrumb": gettext("Approve") if approving else gettext("Return for revision"),
            "title": (
                gettext("Approve plan version %(number)s of %(municipality)s")
                if approving
                else gettext("Return plan version %(number)s of %(municipality)s")
            )
            % {"number": version.number, "municipality": grant.municipality.name},
            "version": version,
            "grant": grant,
            "lines": version.lines.select_related("category").order_by("position", "id"),
            "changes": plan_changes(version),
            # Version 1 has no version before it: the submitted activities are its reference.
            "activities": grant.application.activities.select_related("category").order_by(
                "order", "id"
            ),
            "award": award,
            "excess": version.total - award if version.total > award else None,
            "lowered_by": lowered_by,
            "pool": pool,
            "remaining_after": pool.remaining + lowered_by if lowered_by else pool.remaining,
            "approving": approving,
            "refusal": refusal,
            "form": form,
        }
        return TemplateResponse(request, self.decide_template, context)


def _approved_message(version: PlanVersion, award) -> str:
    values = {
        "number": version.number,
        "municipality": version.grant.municipality.name,
        "total": format_money(version.total),
        "award": format_money(award),
        "difference": format_money(award - version.total),
    }
    if version.total < award:
        return (
            gettext(
                "Plan version %(number)s of %(municipality)s is approved at %(total)s. The award "
                "is lowered from %(award)s by %(difference)s, which returns to the call's pool."
            )
            % values
        )
    return gettext("Plan version %(number)s of %(municipality)s is approved at %(total)s.") % values


@admin.register(Agreement)
class AgreementAdmin(AgreementFieldsMixin, ObjectToolsAdmin):
    """The register of agreements. Only the services make and sign them: an agreement's page
    offers its countersigning (once the municipality has accepted or signed it) and issuing it
    again (while it awaits signatures), each a screen or button of its own."""

    list_display = ["number", "grant", *AGREEMENT_COLUMNS]
    list_filter = ["grant__application__competition", "language"]
    list_select_related = ["grant__application__municipality", "replaced_by"]
    search_fields = ["number", "grant__application__municipality__name"]
    date_hierarchy = "generated_at"
    fields = [
        "number",
        "grant",
        "plan_version",
        "language",
        "sha256",
        "generated_at",
        "generated_by",
        "accepted_at",
        "accepted_by",
        "accepted_from",
        "accepted_sha256",
        "signed_file_kind",
        "signed_file_sha256",
        "signed_file_uploaded_at",
        "signed_file_uploaded_by",
        "countersigned_at",
        "countersigned_by",
        "countersigned_file_sha256",
        "replaced_by",
        "downloads",
    ]
    readonly_fields = fields
    change_form_template = "admin/grants/agreement/change_form.html"
    countersign_template = "admin/grants/agreement/countersign.html"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(grant__in=Grant.objects.for_user(request.user))

    def has_countersign_permission(self, request) -> bool:
        return is_coordinator(request.user) and request.user.has_perm(COUNTERSIGN_PERMISSION)

    def has_issue_permission(self, request) -> bool:
        return is_coordinator(request.user) and request.user.has_perm(AGREEMENT_PERMISSION)

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                "<path:object_id>/countersign/",
                self.admin_site.admin_view(
                    require_http_methods(["GET", "POST"])(self.countersign_view)
                ),
                name=f"{info}_countersign",
            ),
            path(
                "<path:object_id>/issue-again/<str:language>/",
                self.admin_site.admin_view(require_POST(self.issue_again_view)),
                name=f"{info}_issue_again",
            ),
            *super().get_urls(),
        ]

    def get_object_tools(self, request, agreement) -> list[ObjectTool]:
        tools = []
        current = agreement.replaced_by_id is None
        if (
            current
            and agreement.municipality_signed
            and agreement.countersigned_at is None
            and self.has_countersign_permission(request)
        ):
            tools.append(
                ObjectTool(
                    gettext("Countersign"),
                    reverse("admin:grants_agreement_countersign", args=[agreement.pk]),
                )
            )
        if (
            current
            and agreement.grant.status == Grant.Status.SIGNING
            and self.has_issue_permission(request)
        ):
            tools.extend(
                ObjectTool(
                    str(label),
                    reverse("admin:grants_agreement_issue_again", args=[agreement.pk, code]),
                    method="post",
                )
                for code, label in ISSUE_AGAIN_LABELS.items()
            )
        return tools

    def _agreement_or_404(self, request, object_id) -> Agreement:
        agreement = self.get_object(request, unquote(object_id))
        if agreement is None:
            raise Http404
        return agreement

    def _change_page(self, agreement) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:grants_agreement_change", args=[agreement.pk]))

    def countersign_view(self, request, object_id):
        """The coordinator's countersignature: who and when are recorded; the countersigned
        file may be uploaded too, checked as the municipality's signed file is."""
        if not self.has_countersign_permission(request):
            raise PermissionDenied
        agreement = self._agreement_or_404(request, object_id)
        form = CountersignForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.agreement_countersign(
                    agreement=agreement, by=request.user, file=form.cleaned_data["file"]
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    gettext("Agreement %(number)s is countersigned; the grant is in progress.")
                    % {"number": agreement.number},
                )
                return self._change_page(agreement)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": agreement,
            "agreement": agreement,
            "grant": agreement.grant,
            "form": form,
            "ready": agreement.municipality_signed
            and agreement.countersigned_at is None
            and agreement.replaced_by_id is None,
            "title": gettext("Countersign agreement %(number)s") % {"number": agreement.number},
            "breadcrumb": gettext("Countersign"),
        }
        return TemplateResponse(request, self.countersign_template, context)

    def issue_again_view(self, request, object_id, language):
        """Issue the grant's agreement again (a correction, or in the other language): a new
        number, the old document kept and marked replaced."""
        if not self.has_issue_permission(request):
            raise PermissionDenied
        agreement = self._agreement_or_404(request, object_id)
        try:
            issued = services.agreement_issue(
                grant=agreement.grant, by=request.user, language=language
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return self._change_page(agreement)
        messages.success(
            request,
            gettext("Agreement %(number)s issued; it replaces %(replaced)s.")
            % {"number": issued.number, "replaced": agreement.number},
        )
        return self._change_page(issued)
