"""The grants in the admin, read-only: coordinators follow every grant and its plan versions,
its payments and its reports; the grants' list is the portfolio of a call.

The plan's approval and return, the agreement's countersigning, a payment recorded or
reversed, a report accepted or returned, and the close are screens of their own on top of
these (each through its service); nothing here saves a grant.
"""

from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, pgettext
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

from . import registers, services, settlement
from .forms import PaymentForm, ReturnForm, ReversalForm
from .models import (
    Agreement,
    Grant,
    Payment,
    PaymentKind,
    PlanLine,
    PlanVersion,
    Report,
    ReportDocument,
    ReportKind,
    ReportLine,
    ReportStatus,
)
from .selectors import payment_proposals, plan_changes
from .services import AGREEMENT_PERMISSION
from .tasks import agreements_job

#: Countersigning changes an agreement: the coordinators' permission to change one.
COUNTERSIGN_PERMISSION = "grants.change_agreement"
#: Recording or reversing a payment adds a ledger row.
PAYMENT_PERMISSION = "grants.add_payment"
#: Accepting or returning a report, and closing the grant that follows, change a report.
REVIEW_PERMISSION = "grants.change_report"
CLOSE_PERMISSION = REVIEW_PERMISSION
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


class PaymentInline(ReadOnlyTabularInline):
    """A grant's ledger on its admin page, in the order of payment."""

    model = Payment
    fk_name = "grant"
    fields = ["paid_on", "kind", "shown_amount", "reference", "reverses", "recorded_by", "note"]
    show_change_link = True
    ordering = ["paid_on", "id"]

    @admin.display(description=_("amount"))
    def shown_amount(self, payment):
        return money(payment.signed_amount)


class ReportInline(ReadOnlyTabularInline):
    model = Report
    fields = [
        "kind",
        "number",
        "status",
        "due_on",
        "shown_claimed",
        "shown_accepted",
        "submitted_at",
    ]
    show_change_link = True
    ordering = ["kind", "number"]

    @admin.display(description=_("actual cost"))
    def shown_claimed(self, report):
        return money(report.claimed_total)

    @admin.display(description=_("accepted"))
    def shown_accepted(self, report):
        return money(report.accepted_total) if report.accepted_total is not None else "—"


def _answered(grant_ref, kind):
    return Report.objects.filter(
        grant=grant_ref,
        kind=kind,
        status__in=[ReportStatus.SUBMITTED, ReportStatus.ACCEPTED],
    )


def with_overdue(queryset, today):
    """Annotate ``overdue``: a report the grant owes is past its due date (``grants.reminders``
    says which it owes). Two subqueries in the one query, whatever the number of grants."""
    active = [Grant.Status.IN_PROGRESS, Grant.Status.REPORTING]
    final_owed = Q(status__in=active, application__competition__report_due_on__lt=today) & ~Exists(
        _answered(OuterRef("pk"), ReportKind.FINAL)
    )
    interim_owed = (
        Q(status__in=active, application__competition__interim_report_due_on__lt=today)
        & ~Exists(_answered(OuterRef("pk"), ReportKind.INTERIM))
        & ~Exists(_answered(OuterRef("pk"), ReportKind.FINAL))
    )
    return queryset.annotate(
        overdue=ExpressionWrapper(final_owed | interim_owed, output_field=BooleanField())
    )


class YesNoFilter(admin.SimpleListFilter):
    """A filter on a boolean annotation of the portfolio."""

    condition: Q

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(self.condition)
        if self.value() == "no":
            return queryset.exclude(self.condition)
        return queryset


class OverdueFilter(YesNoFilter):
    title = _("report overdue")
    parameter_name = "overdue"
    condition = Q(overdue=True)


class ToRepayFilter(YesNoFilter):
    title = _("to repay")
    parameter_name = "to_repay"
    condition = Q(
        accepted_total__isnull=False, accepted_total__lt=F("paid_total") - F("repaid_total")
    )


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
    """The grants, and per call (the call's filter) the coordinators' portfolio: awarded,
    agreed, paid, reported, accepted, to repay, overdue reports, with the call's totals above
    the list. A fixed number of queries whatever the number of grants
    (tests/test_grants_admin_settlement.py)."""

    list_display = [
        "application",
        "status",
        "award",
        "agreed",
        "paid",
        "reported",
        "accepted",
        "to_repay",
        "overdue_report",
        "to_decide",
    ]
    list_filter = [
        ToDecideFilter,
        OverdueFilter,
        ToRepayFilter,
        "application__competition",
        "status",
    ]

    actions = [issue_agreements]

    def has_issue_agreement_permission(self, request) -> bool:
        return is_coordinator(request.user) and request.user.has_perm(AGREEMENT_PERMISSION)

    list_select_related = ["application__competition", "application__municipality"]
    list_per_page = 100
    search_fields = ["application__reference", "application__municipality__name"]
    fields = [
        "application",
        "status",
        "opened_at",
        "award",
        "agreed",
        "paid",
        "repaid",
        "accepted",
        "to_repay",
        "closed_at",
        "closed_by",
        "declined_at",
        "declined_by",
        "decline_reason",
    ]
    readonly_fields = fields
    inlines = [PlanVersionInline, AgreementInline, PaymentInline, ReportInline]
    change_list_template = "admin/grants/grant/change_list.html"
    pay_template = "admin/grants/grant/pay.html"
    close_template = "admin/grants/grant/close.html"

    def get_queryset(self, request):
        reported = Report.objects.filter(grant=OuterRef("pk"), kind=ReportKind.FINAL).exclude(
            status=ReportStatus.DRAFT
        )
        queryset = (
            super()
            .get_queryset(request)
            .for_user(request.user)
            .annotate(
                awaiting_decision=Exists(_proposed(OuterRef("pk"))),
                proposed_version=Subquery(_proposed(OuterRef("pk")).values("pk")[:1]),
                reported_total=Subquery(reported.order_by("-number").values("claimed_total")[:1]),
                submitted_report=Subquery(
                    Report.objects.filter(grant=OuterRef("pk"), status=ReportStatus.SUBMITTED)
                    .order_by("-submitted_at")
                    .values("pk")[:1]
                ),
            )
        )
        return with_overdue(queryset, timezone.localdate())

    def get_object_tools(self, request, grant) -> list[ObjectTool]:
        tools = decision_tools(grant.proposed_version) if grant.proposed_version else []
        if grant.status in settlement.ACTIVE and request.user.has_perm(PAYMENT_PERMISSION):
            tools.append(
                ObjectTool(
                    gettext("Record a payment"), reverse("admin:grants_grant_pay", args=[grant.pk])
                )
            )
        if grant.submitted_report:
            tools.append(
                ObjectTool(
                    gettext("Review the report"),
                    reverse("admin:grants_report_review", args=[grant.submitted_report]),
                )
            )
        if grant.status == Grant.Status.REPORTING and grant.accepted_total is not None:
            tools.append(
                ObjectTool(
                    gettext("Close the grant"), reverse("admin:grants_grant_close", args=[grant.pk])
                )
            )
        if grant.status == Grant.Status.CLOSED:
            tools.extend(
                ObjectTool(label, reverse("grants:closing_statement", args=[grant.pk, language]))
                for language, label in [
                    ("lv", gettext("Closing statement (lv)")),
                    ("en", gettext("Closing statement (en)")),
                ]
            )
        return tools

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            # The call's totals over the filtered grants: one query, whatever their number.
            response.context_data["portfolio_totals"] = changelist.queryset.aggregate(
                grants=Count("pk"),
                awarded=Sum("application__awarded_amount"),
                agreed=Sum("agreed_total"),
                paid=Sum("paid_total"),
                repaid=Sum("repaid_total"),
                accepted=Sum("accepted_total"),
            )
            response.context_data["portfolio_totals"]["overdue"] = changelist.queryset.filter(
                overdue=True
            ).count()
            call = request.GET.get("application__competition__id__exact", "")
            response.context_data["register_call"] = int(call) if call.isdigit() else None
        return response

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

    @admin.display(description=_("paid"), ordering="paid_total")
    def paid(self, grant):
        return money(grant.paid_total)

    @admin.display(description=_("repaid"), ordering="repaid_total")
    def repaid(self, grant):
        return money(grant.repaid_total)

    @admin.display(description=_("reported"), ordering="reported_total")
    def reported(self, grant):
        return money(grant.reported_total) if grant.reported_total is not None else "—"

    @admin.display(description=_("accepted spending"), ordering="accepted_total")
    def accepted(self, grant):
        return money(grant.accepted_total) if grant.accepted_total is not None else "—"

    @admin.display(description=_("to repay"))
    def to_repay(self, grant):
        return money(grant.to_repay) if grant.to_repay else "—"

    @admin.display(description=_("report overdue"), ordering="-overdue")
    def overdue_report(self, grant):
        # In words, not Django's yes/no icons: a green tick for "overdue" reads as "all well".
        if not grant.overdue:
            return "—"
        return format_html(
            '<strong class="text-overdue">{}</strong>', pgettext("report", "overdue")
        )

    # Payments and the close, each a screen of its own through its service.

    def get_urls(self):
        return [
            path(
                "<int:object_id>/pay/",
                self.admin_site.admin_view(require_http_methods(["GET", "POST"])(self.pay_view)),
                name="grants_grant_pay",
            ),
            path(
                "<int:object_id>/close/",
                self.admin_site.admin_view(require_http_methods(["GET", "POST"])(self.close_view)),
                name="grants_grant_close",
            ),
            *super().get_urls(),
        ]

    def _grant_for(self, request, object_id, permission: str) -> Grant:
        if not (self.has_view_permission(request) and request.user.has_perm(permission)):
            raise PermissionDenied
        return get_object_or_404(self.get_queryset(request), pk=object_id)

    def pay_view(self, request, object_id):
        """Record a payment: the proposals of what is due, and the form (kind, amount, date,
        payment order). A refusal comes back into the form with what was typed."""
        grant = self._grant_for(request, object_id, PAYMENT_PERMISSION)
        proposals = payment_proposals(grant)
        if request.method == "POST":
            form = PaymentForm(request.POST)
            if form.is_valid():
                try:
                    payment = settlement.payment_record(
                        grant=grant, by=request.user, **form.cleaned_data
                    )
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    self.message_user(
                        request,
                        gettext("%(kind)s of %(amount)s to %(municipality)s is recorded.")
                        % {
                            "kind": payment.get_kind_display().capitalize(),
                            "amount": format_money(payment.amount),
                            "municipality": grant.municipality.name,
                        },
                        messages.SUCCESS,
                    )
                    return redirect("admin:grants_grant_change", grant.pk)
        else:
            kind = request.GET.get("kind", "")
            proposed = next((p for p in proposals if p.kind == kind), None)
            form = PaymentForm(
                initial={
                    "kind": kind or (proposals[0].kind if proposals else PaymentKind.ADVANCE),
                    "amount": (proposed or (proposals[0] if proposals else None)).amount
                    if (proposed or proposals)
                    else None,
                    "paid_on": timezone.localdate(),
                }
            )
        return self._grant_page(
            request,
            grant,
            self.pay_template,
            title=gettext("Record a payment to %(municipality)s")
            % {"municipality": grant.municipality.name},
            breadcrumb=gettext("Record a payment"),
            form=form,
            proposals=proposals,
            payments=grant.payments.select_related("reverses", "recorded_by").order_by(
                "paid_on", "id"
            ),
        )

    def close_view(self, request, object_id):
        """Close the grant (money rule 7): refused with the difference named until paid minus
        repaid equals the accepted spending."""
        grant = self._grant_for(request, object_id, CLOSE_PERMISSION)
        refusals = []
        if request.method == "POST":
            try:
                settlement.grant_close(grant=grant, by=request.user)
            except ValidationError as error:
                refusals = error.messages
            else:
                self.message_user(
                    request,
                    gettext("The grant of %(municipality)s is closed.")
                    % {"municipality": grant.municipality.name},
                    messages.SUCCESS,
                )
                return redirect("admin:grants_grant_change", grant.pk)
        return self._grant_page(
            request,
            grant,
            self.close_template,
            title=gettext("Close the grant of %(municipality)s")
            % {"municipality": grant.municipality.name},
            breadcrumb=gettext("Close the grant"),
            refusals=refusals,
        )

    def _grant_page(self, request, grant, template, *, title, breadcrumb, **context):
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": grant,
                "grant": grant,
                "title": title,
                "breadcrumb": breadcrumb,
                **context,
            },
        )


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


# --- the payment ledger ---------------------------------------------------------------------


class PaymentKindFilter(admin.SimpleListFilter):
    title = _("reversal")
    parameter_name = "reversal"

    def lookups(self, request, model_admin):
        return [("yes", _("reversals")), ("no", _("payments and repayments"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(reverses__isnull=False)
        if self.value() == "no":
            return queryset.filter(reverses__isnull=True)
        return queryset


@admin.register(Payment)
class PaymentAdmin(ObjectToolsAdmin):
    """The ledger, read-only: a row is recorded on its grant's page and never changed; a
    mistaken one is reversed by a new row (the "Reverse" button of its page). The register
    of a call's payments, for the accountant, is a CSV or XLSX download."""

    list_display = [
        "paid_on",
        "grant",
        "kind",
        "shown_amount",
        "reference",
        "reverses",
        "recorded_by",
    ]
    list_filter = ["grant__application__competition", "kind", PaymentKindFilter]
    list_select_related = ["grant__application__municipality", "reverses", "recorded_by"]
    search_fields = [
        "reference",
        "grant__application__municipality__name",
        "grant__application__reference",
    ]
    date_hierarchy = "paid_on"
    fields = [
        "grant",
        "kind",
        "shown_amount",
        "paid_on",
        "reference",
        "note",
        "reverses",
        "recorded_by",
        "recorded_at",
    ]
    readonly_fields = fields
    change_list_template = "admin/grants/payment/change_list.html"
    reverse_template = "admin/grants/payment/reverse.html"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(grant__in=Grant.objects.for_user(request.user))

    @admin.display(description=_("amount"), ordering="amount")
    def shown_amount(self, payment):
        return money(payment.signed_amount)

    def get_object_tools(self, request, payment) -> list[ObjectTool]:
        if (
            payment.is_reversal
            or Payment.objects.filter(reverses=payment).exists()
            or not request.user.has_perm(PAYMENT_PERMISSION)
        ):
            return []
        return [
            ObjectTool(
                gettext("Reverse"), reverse("admin:grants_payment_reverse", args=[payment.pk])
            )
        ]

    def get_urls(self):
        return [
            path(
                "<int:object_id>/reverse/",
                self.admin_site.admin_view(
                    require_http_methods(["GET", "POST"])(self.reverse_view)
                ),
                name="grants_payment_reverse",
            ),
            path(
                "register/<int:competition_id>/<str:export_format>/",
                self.admin_site.admin_view(self.register_view),
                name="grants_payment_register",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        from competitions.models import Competition

        calls = Competition.objects.filter(applications__grant__payments__isnull=False).distinct()
        return super().changelist_view(request, {**(extra_context or {}), "register_calls": calls})

    def reverse_view(self, request, object_id):
        """Reverse a mistaken row with a new one, with the correcting document and reason."""
        if not (self.has_view_permission(request) and request.user.has_perm(PAYMENT_PERMISSION)):
            raise PermissionDenied
        payment = get_object_or_404(
            self.get_queryset(request).select_related("grant__application__municipality"),
            pk=object_id,
        )
        form = ReversalForm(request.POST or None, initial={"paid_on": timezone.localdate()})
        if request.method == "POST" and form.is_valid():
            try:
                settlement.payment_reverse(payment=payment, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(
                    request,
                    gettext("The payment %(reference)s of %(amount)s is reversed.")
                    % {"reference": payment.reference, "amount": format_money(payment.amount)},
                    messages.SUCCESS,
                )
                return redirect("admin:grants_grant_change", payment.grant_id)
        return TemplateResponse(
            request,
            self.reverse_template,
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": payment,
                "payment": payment,
                "form": form,
                "title": gettext("Reverse the payment %(reference)s")
                % {"reference": payment.reference},
                "breadcrumb": gettext("Reverse"),
            },
        )

    def register_view(self, request, competition_id, export_format):
        """The call's payment register for the accountant, as CSV or XLSX."""
        from competitions.models import Competition

        if not self.has_view_permission(request):
            raise PermissionDenied
        if export_format not in registers.REGISTER_FORMATS:
            raise Http404
        competition = get_object_or_404(Competition, pk=competition_id)
        return registers.register_response(competition, export_format)


# --- reports --------------------------------------------------------------------------------


class ReportLineInline(ReadOnlyTabularInline):
    model = ReportLine
    fields = [
        "position",
        "plan_line",
        "done",
        "actual_cost",
        "people_reached",
        "events_held",
        "materials_produced",
        "accepted_amount",
        "acceptance_reason",
        "comment",
    ]


class ReportDocumentInline(ReadOnlyTabularInline):
    model = ReportDocument
    fields = ["download", "description", "size", "sha256", "uploaded_by", "uploaded_at"]

    @admin.display(description=_("file"))
    def download(self, document):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("grants:report_document", args=[document.report.grant_id, document.pk]),
            document.original_name,
        )


@admin.register(Report)
class ReportAdmin(ObjectToolsAdmin):
    """Every version of every report, read-only; a submitted one is accepted or returned on
    its review screen."""

    list_display = [
        "grant",
        "kind",
        "number",
        "status",
        "due_on",
        "shown_claimed",
        "shown_accepted",
        "submitted_at",
    ]
    list_filter = ["grant__application__competition", "kind", "status"]
    list_select_related = ["grant__application__municipality"]
    search_fields = ["grant__application__reference", "grant__application__municipality__name"]
    fields = [
        "grant",
        "kind",
        "number",
        "status",
        "due_on",
        "summary",
        "shown_claimed",
        "shown_accepted",
        "submitted_at",
        "submitted_by",
        "sha256",
        "decided_at",
        "decided_by",
        "return_comment",
    ]
    readonly_fields = fields
    inlines = [ReportLineInline, ReportDocumentInline]
    review_template = "admin/grants/report/review.html"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .defer("snapshot")
            .filter(grant__in=Grant.objects.for_user(request.user))
        )

    @admin.display(description=_("actual cost"), ordering="claimed_total")
    def shown_claimed(self, report):
        return money(report.claimed_total)

    @admin.display(description=_("accepted"), ordering="accepted_total")
    def shown_accepted(self, report):
        return money(report.accepted_total) if report.accepted_total is not None else "—"

    def get_object_tools(self, request, report) -> list[ObjectTool]:
        if report.status != ReportStatus.SUBMITTED:
            return []
        return [
            ObjectTool(
                gettext("Review the report"),
                reverse("admin:grants_report_review", args=[report.pk]),
            )
        ]

    def get_urls(self):
        return [
            path(
                "<int:object_id>/review/",
                self.admin_site.admin_view(require_http_methods(["GET", "POST"])(self.review_view)),
                name="grants_report_review",
            ),
            *super().get_urls(),
        ]

    def review_view(self, request, object_id):
        """Accept the report (less than claimed on a line, with the reason) or return it with
        comments on the whole and on lines. What was typed stays on a refusal."""
        if not (self.has_view_permission(request) and request.user.has_perm(REVIEW_PERMISSION)):
            raise PermissionDenied
        report = get_object_or_404(
            self.get_queryset(request).select_related(
                "grant__application__municipality",
                "grant__application__competition",
                "submitted_by",
            ),
            pk=object_id,
        )
        lines = list(report.lines.select_related("plan_line__category").order_by("position"))
        tolerance = report.grant.competition.cost_tolerance
        refusals = []
        if request.method == "POST":
            for line in lines:
                line.typed_amount = request.POST.get(f"accepted-{line.pk}", "")
                line.typed_reason = request.POST.get(f"reason-{line.pk}", "")
                line.typed_comment = request.POST.get(f"comment-{line.pk}", "")
            comment = request.POST.get("comment", "")
            try:
                if request.POST.get("action") == "return":
                    settlement.report_return(
                        report=report,
                        by=request.user,
                        comment=comment,
                        line_comments={line.pk: line.typed_comment for line in lines},
                    )
                    done = gettext("The report is returned to %(municipality)s for correction.")
                else:
                    settlement.report_accept(
                        report=report, by=request.user, decisions=_decisions(lines)
                    )
                    done = gettext("The report of %(municipality)s is accepted.")
            except ValidationError as error:
                refusals = error.messages
            else:
                self.message_user(
                    request,
                    done % {"municipality": report.grant.municipality.name},
                    messages.SUCCESS,
                )
                return redirect("admin:grants_grant_change", report.grant_id)
        else:
            comment = ""
            for line in lines:
                line.typed_amount = str(line.actual_cost).replace(".", ",")
                line.typed_reason = ""
                line.typed_comment = ""
        for line in lines:
            line.limit = settlement.line_limit(line.plan_line.cost, tolerance)
        return TemplateResponse(
            request,
            self.review_template,
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": report,
                "report": report,
                "grant": report.grant,
                "lines": lines,
                "documents": report.documents.all(),
                "comment": comment,
                "refusals": refusals,
                "reviewable": report.status == ReportStatus.SUBMITTED,
                "title": gettext("Review the %(kind)s of %(municipality)s")
                % {
                    "kind": report.get_kind_display(),
                    "municipality": report.grant.municipality.name,
                },
                "breadcrumb": gettext("Review"),
            },
        )


def _decisions(lines) -> dict[int, settlement.LineDecision]:
    """The amounts typed on the review screen, as the service takes them; one that cannot be
    read is refused by the service as an amount it cannot take."""
    decisions = {}
    for line in lines:
        text = line.typed_amount.replace("\u00a0", "").replace(" ", "").replace(",", ".")
        try:
            amount = Decimal(text) if text else line.actual_cost
        except InvalidOperation:
            amount = Decimal("NaN")
        decisions[line.pk] = settlement.LineDecision(amount, line.typed_reason)
    return decisions
