"""The call's admin as this app extends it: the allocation screen, the decision and the
export of a call, and the rules of applications on the call's own form.

``competitions`` holds ``CompetitionAdmin`` and imports no other app of the portal; the screens
here serve this app's rules, so they extend it and ``admin.py`` registers the extended admin in
its place. Their URLs still hang off the call's admin page (``admin:competitions_competition_*``).

Money changes go through ``applications.services``: a new pool, cap or partial-award rule of an
existing call through ``competition_set_limits``, amounts through ``allocation_set`` and
``allocation_apply_shown_proposal``, the decision through ``competition_decide``.
"""

from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from competitions import roles
from competitions.admin import (
    LIMIT_FIELDS,
    CompetitionAdmin,
    CompetitionForm,
    ScoringCriterionInline,
)
from competitions.admin_base import CALL_PARAMETER
from competitions.formatting import format_money
from competitions.forms import MoneyField
from competitions.models import Competition

from . import services as application_services
from .exports import EXPORT_FORMATS, export_response, export_row_count
from .models import RANKED_STATUSES, Application, CriterionScore
from .selectors import (
    REJECTION_KINDS,
    ProposalReason,
    allocation_ledger,
    decision_summary,
    last_allocation_event,
    letters_to_issue,
    pool_state,
    proposal_walk,
    ranked_applications,
    ranking_order_of,
    rejection_kind,
)
from .services.common import riga_time
from .tasks import call_letters_job, export_job

# --- criteria once scored -----------------------------------------------------------------------


class ScoredCriterionInline(ScoringCriterionInline):
    """The call's criteria, whose maximum and weight stay as they are once points were given."""

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

    def get_readonly_fields(self, request, obj=None):
        return ["max_points", "weight"] if self.is_scored(obj) else []

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and not self.is_scored(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self.is_scored(obj)


# --- the call's money on its form ---------------------------------------------------------------

# Where each refusal of competition_set_limits is shown on the form.
LIMIT_ERROR_FIELDS = {
    "pool_below_allocated": "pool_amount",
    "cap_not_positive": "max_award_amount",
    "cap_above_pool": "max_award_amount",
    "cap_below_award": "max_award_amount",
    "partial_awards_exist": "partial_awards_allowed",
}


class CompetitionLimitsForm(CompetitionForm):
    """The call's form, whose pool, cap and partial-award rule of an existing call must also
    suit the call's allocation, and whose deadline, moved into the past or earlier while
    drafts exist, is saved only once the coordinator confirms the drafts it locks."""

    confirm_deadline = forms.BooleanField(
        label=_("Confirm the new deadline"),
        required=False,
        help_text=_(
            "Needed when the deadline moves into the past, or earlier while municipalities "
            "still have drafts: the drafts it locks are named above."
        ),
    )

    def clean(self):
        cleaned = super().clean()
        self._check_deadline_moved_earlier(cleaned)
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

    def _check_deadline_moved_earlier(self, cleaned):
        new, old = cleaned.get("closes_at"), self.instance.closes_at
        now = timezone.now()
        # The form shows the deadline to the second; a deadline already passed locks nothing
        # more when it moves.
        if (
            self.instance.pk is None
            or new is None
            or old is None
            or new >= old.replace(microsecond=0)
            or old <= now
            or cleaned.get("confirm_deadline")
        ):
            return
        in_past = new <= now
        drafts = list(
            self.instance.applications.filter(status=Application.Status.DRAFT)
            .order_by("municipality__name")
            .values_list("municipality__name", flat=True)
        )
        if not drafts and not in_past:
            return
        named = ", ".join(drafts) if drafts else gettext("none")
        if in_past:
            message = gettext(
                "The new deadline %(deadline)s is in the past: the call stops accepting "
                "applications as soon as it is saved, and these drafts can no longer be "
                "submitted: %(drafts)s. Tick “Confirm the new deadline” and save again."
            )
        else:
            message = gettext(
                "The new deadline %(deadline)s is earlier than %(old)s: these drafts can no "
                "longer be submitted after it: %(drafts)s. Tick “Confirm the new deadline” "
                "and save again."
            )
        self.add_error(
            "closes_at",
            ValidationError(
                message % {"deadline": riga_time(new), "old": riga_time(old), "drafts": named},
                code="deadline_confirmation",
            ),
        )

    def _check_limits_of_existing_call(self, cleaned):
        """Put on its field each rule of competition_set_limits that the new pool, cap and
        partial-award rule would break; CompetitionAllocationAdmin.save_model makes the
        change."""
        # The change form runs in one transaction. Locking the call's row here keeps it locked
        # until save_model applies the same change, so no allocation slips in between.
        competition = Competition.objects.select_for_update().get(pk=self.instance.pk)
        problems = application_services.limits_problems(
            competition=competition,
            pool_amount=cleaned["pool_amount"],
            max_award_amount=cleaned["max_award_amount"],
            partial_awards_allowed=cleaned.get("partial_awards_allowed", False),
            awards=application_services.awards_of(competition),
        )
        for problem in problems:
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


#: The button on a decided call's page that issues its letters on a worker: in Latvian, the
#: originals. An English letter is issued on request, from an application's page (or with
#: ``manage.py issue_letters --language en``, which this URL also serves).
ISSUE_CALL_LETTERS_LABELS = {"lv": _("Issue the call's letters in Latvian")}


@dataclass
class AllocationRow:
    application: object  # applications.selectors.RankedApplication
    rank: int
    proposal: object  # applications.selectors.ProposedAmount, or None once decided
    form: AwardForm | None  # the row's form as posted, when it was refused

    @property
    def amount_text(self) -> str:
        """The awarded amount as the row's amount field shows it (``MoneyField``)."""
        return format_money(self.application.awarded_amount, unit="", language="lv")


# --- a page of a call's ranking ---------------------------------------------------------------

#: How many applications a page of the allocation and decision screens shows.
PAGE_SIZE = 100

#: The score bands of the screens' filter, on the weighted score's scale of 0 to 100.
SCORE_BANDS = {
    "75": (_("75 and above"), Q(score_mean__gte=75)),
    "50": (_("50 to under 75"), Q(score_mean__gte=50, score_mean__lt=75)),
    "0": (_("below 50"), Q(score_mean__lt=50)),
    "none": (_("not scored"), Q(score_mean__isnull=True)),
}

#: The status filter before the decision (every application is submitted: whether it holds
#: an amount) and after it (the decision's statuses).
UNDECIDED_STATUSES = {
    "funded": (_("with an awarded amount"), Q(awarded_amount__gt=0)),
    "unfunded": (_("without an awarded amount"), Q(awarded_amount=0)),
}
DECIDED_STATUSES = {
    status: (Application.Status(status).label, Q(status=status))
    for status in RANKED_STATUSES
    if status != Application.Status.SUBMITTED
}


class RankingFilterForm(forms.Form):
    """The filters of a page of the ranking: they narrow the rows, never the ranks."""

    q = forms.CharField(label=_("Municipality or reference"), required=False, max_length=200)
    status = forms.ChoiceField(label=_("Status"), required=False)
    band = forms.ChoiceField(
        label=_("Score"),
        required=False,
        choices=[("", _("any score")), *((key, label) for key, (label, _q) in SCORE_BANDS.items())],
    )

    def __init__(self, data, *, decided: bool):
        super().__init__(data)
        self.statuses = DECIDED_STATUSES if decided else UNDECIDED_STATUSES
        self.fields["status"].choices = [
            ("", _("any status")),
            *((key, label) for key, (label, _q) in self.statuses.items()),
        ]

    def condition(self) -> Q | None:
        """The filters chosen, or None when none is (or they cannot be read)."""
        if not self.is_valid():
            return None
        conditions = []
        if text := self.cleaned_data["q"].strip():
            conditions.append(Q(municipality__name__icontains=text) | Q(reference__icontains=text))
        if status := self.cleaned_data["status"]:
            conditions.append(self.statuses[status][1])
        if band := self.cleaned_data["band"]:
            conditions.append(SCORE_BANDS[band][1])
        if not conditions:
            return None
        return Q(*conditions)


def ranking_page(request, competition, *, order: list[int], statuses) -> tuple[Page, dict]:
    """The page asked for of the call's ranking (``order``: every id, best first), narrowed
    by the filters; and the context that shows the filters and the page links."""
    filters = RankingFilterForm(request.GET, decided=competition.is_decided)
    condition = filters.condition()
    if condition is not None:
        matching = set(
            Application.objects.filter(
                condition, competition=competition, status__in=statuses
            ).values_list("pk", flat=True)
        )
        order = [pk for pk in order if pk in matching]
    paginator = Paginator(order, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return page, {
        "filters": filters,
        "filtered": condition is not None,
        "page": page,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
    }


class DefaultReasonsForm(forms.Form):
    """The decision's default reason for each kind of rejection in the call: given to every
    rejection of that kind without a reason of its own."""

    LABELS = {
        ProposalReason.POOL_EXHAUSTED: _(
            "Not funded: ranked below the funded applications, nothing left in the pool"
        ),
        ProposalReason.NOT_SCORED: _("Not funded: no review without a conflict of interest"),
        ProposalReason.SKIPPED_PARTIAL_NOT_ALLOWED: _(
            "Not funded: partial awards are not allowed and the rest of the pool does not "
            "cover the request"
        ),
    }

    def __init__(self, *args, summary, **kwargs):
        super().__init__(*args, **kwargs)
        for kind in REJECTION_KINDS:
            if kind not in summary.rejected:
                continue
            missing = summary.without_reason.get(kind, 0)
            self.fields[f"default-{kind}"] = forms.CharField(
                label=self.LABELS[kind],
                # Needed only while some rejection of the kind has no reason of its own.
                required=bool(missing),
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=ngettext(
                    "%(count)s rejection of this kind (%(without)s without a reason of its own).",
                    "%(count)s rejections of this kind (%(without)s without a reason of their "
                    "own).",
                    summary.rejected[kind],
                )
                % {"count": summary.rejected[kind], "without": missing},
            )

    def reasons(self) -> dict[str, str]:
        return {
            name.removeprefix("default-"): text
            for name, text in self.cleaned_data.items()
            if text.strip()
        }


def typed_reasons(data) -> dict[int, str] | None:
    """The reasons of a page of the decision screen (``reason-<id>`` fields), or None when
    a field's name is not one the page writes."""
    reasons = {}
    for key, value in data.items():
        if key.startswith("reason-"):
            pk = key.removeprefix("reason-")
            if not pk.isdigit() or len(value) > 2000:
                return None
            reasons[int(pk)] = value
    return reasons


# --- the call's admin with this app's screens ---------------------------------------------------


class CompetitionAllocationAdmin(CompetitionAdmin):
    """``CompetitionAdmin`` with the allocation screen, the decision, the export, the tools of
    the list, the call's money checked against its allocation, and scored criteria kept."""

    form = CompetitionLimitsForm
    inlines = [ScoredCriterionInline]
    change_form_template = "admin/applications/competition/change_form.html"
    allocation_template = "admin/applications/competition/allocation.html"
    decision_template = "admin/applications/competition/record_decision.html"
    export_template = "admin/applications/competition/export.html"
    fields_saved_elsewhere = LIMIT_FIELDS
    #: How many of the newest ledger rows the allocation screen shows.
    ledger_rows = 50

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                ranked_count=Count(
                    "applications", filter=Q(applications__status__in=RANKED_STATUSES)
                )
            )
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        # The confirmation sits with the deadline it confirms.
        return [
            (
                name,
                {**options, "fields": [*options["fields"], "confirm_deadline"]}
                if "closes_at" in options["fields"]
                else options,
            )
            for name, options in fieldsets
        ]

    def save_model(self, request, obj, form, change):
        if change and set(LIMIT_FIELDS) & set(form.changed_data):
            application_services.competition_set_limits(
                competition=obj,
                pool_amount=obj.pool_amount,
                max_award_amount=obj.max_award_amount,
                partial_awards_allowed=obj.partial_awards_allowed,
                by=request.user,
            )
        # The money fields were written by the service; the base saves the rest of the form.
        super().save_model(request, obj, form, change)

    # The list.

    def get_list_display(self, request):
        tools = "tools" if roles.is_coordinator(request.user) else "review_tools"
        return [*super().get_list_display(request), tools]

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
            self.applications_url(competition),
            gettext("Applications (%(count)s)") % {"count": competition.ranked_count},
        )

    def applications_url(self, competition) -> str:
        return (
            reverse("admin:applications_application_changelist")
            + f"?{CALL_PARAMETER}={competition.pk}"
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
                "<int:object_id>/decision/",
                view(self.decision_view),
                name="competitions_competition_decision",
            ),
            path(
                "<int:object_id>/issue-letters/<str:language>/",
                view(require_POST(self.issue_letters_view)),
                name="competitions_competition_issue_letters",
            ),
            path(
                "<int:object_id>/export/<str:export_format>/",
                view(self.export_view),
                name="competitions_competition_export",
            ),
            *super().get_urls(),
        ]

    def tools_context(self, request, competition) -> dict:
        return {
            **super().tools_context(request, competition),
            "applications_url": self.applications_url(competition),
            "sees_allocation": roles.is_coordinator(request.user),
            "export_links": self.export_links(competition),
            "letter_languages": (
                [
                    (
                        reverse(
                            "admin:competitions_competition_issue_letters",
                            args=[competition.pk, code],
                        ),
                        label,
                    )
                    for code, label in ISSUE_CALL_LETTERS_LABELS.items()
                ]
                if competition.is_decided and roles.can_issue_letters(request.user)
                else []
            ),
        }

    # The letters of the whole call, on a worker.

    def issue_letters_view(self, request, object_id, language):
        if not roles.can_issue_letters(request.user):
            raise PermissionDenied
        if language not in dict(settings.LANGUAGES):
            raise Http404
        competition = get_object_or_404(Competition, pk=object_id)
        job = call_letters_job(competition=competition, by=request.user, language=language)
        return redirect("admin:competitions_jobrun_change", job.pk)

    # The allocation screen.

    def _get_call(self, request, object_id) -> Competition:
        if not roles.is_coordinator(request.user):
            raise PermissionDenied
        return get_object_or_404(Competition, pk=object_id)

    def allocation_view(self, request, object_id):
        competition = self._get_call(request, object_id)
        refused = None  # (application id, bound form) shown again after a refusal
        if request.method == "POST":
            if not roles.can_allocate(request.user):
                raise PermissionDenied
            # Back to the same page and filters, which the forms post to.
            here = request.get_full_path()
            if "apply_proposal" in request.POST:
                self._apply_proposal(request, competition)
                return redirect(here)
            form = AwardForm(request.POST, competition=competition)
            if self._set_amount(request, competition, form):
                return redirect(f"{here}#application-{form.cleaned_data['application'].pk}")
            if form.is_valid() or "application" not in form.errors:
                refused = (form["application"].value(), form)
        return TemplateResponse(
            request,
            self.allocation_template,
            self.allocation_context(request, competition, refused),
        )

    def _apply_proposal(self, request, competition):
        last_event = request.POST.get("last_event", "")
        if not last_event.isdigit() and last_event != "":
            self.message_user(
                request, gettext("The proposal could not be read; reload the page."), messages.ERROR
            )
            return
        try:
            application_services.allocation_apply_shown_proposal(
                competition=competition,
                digest=request.POST.get("digest", ""),
                last_event=int(last_event) if last_event else None,
                by=request.user,
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
        """The pool and the proposal of the whole call; the applications of one page."""
        editable = roles.can_allocate(request.user) and not competition.is_decided
        if competition.is_decided:
            proposal, steps = None, {}
            order = ranking_order_of(competition=competition, statuses=RANKED_STATUSES)
        else:
            proposal = proposal_walk(competition=competition)
            steps = proposal.by_pk()
            order = list(steps)
        page, paging = ranking_page(request, competition, order=order, statuses=RANKED_STATUSES)
        if steps:
            ranks = {pk: steps[pk].rank for pk in page.object_list}
        else:
            position = {pk: rank for rank, pk in enumerate(order, start=1)}
            ranks = {pk: position[pk] for pk in page.object_list}
        # A hundred forms are written as plain inputs by the template (a widget rendered a
        # hundred times costs more than the rest of the page); a refused row shows its form.
        refused_pk, refused_form = refused or (None, None)
        rows = [
            AllocationRow(
                application,
                application.rank,
                steps.get(application.pk),
                refused_form if editable and str(refused_pk) == str(application.pk) else None,
            )
            for application in ranked_applications(pks=list(page.object_list), ranks=ranks)
        ]
        for row in rows:
            if row.form is not None:
                row.form.auto_id = f"id_award_{row.application.pk}_%s"
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
            **paging,
            "totals": Application.objects.filter(
                competition=competition, status__in=RANKED_STATUSES
            ).aggregate(requested=Sum("requested_amount"), awarded=Sum("awarded_amount")),
            "editable": editable,
            "ledger": ledger,
            "last_event": ledger[0].pk if ledger else None,
            "can_decide": self.has_decide_permission(request)
            and competition.status == Competition.Status.PUBLISHED
            and competition.closes_at <= now,
            "still_open": competition.status == Competition.Status.PUBLISHED
            and competition.closes_at > now,
            "export_links": self.export_links(competition),
            "applications_url": self.applications_url(competition),
            **self.letters_context(request, competition),
            "ledger_url": reverse("admin:applications_allocationevent_changelist")
            + f"?{CALL_PARAMETER}={competition.pk}",
        }

    def letters_context(self, request, competition) -> dict:
        """After the decision the screen leads on to the letters: those still to issue in
        Latvian, through the applications' "issue decision letters" action."""
        if not competition.is_decided:
            return {}
        return {
            "letters_to_issue": (
                list(
                    letters_to_issue(competition=competition, language="lv").values_list(
                        "pk", flat=True
                    )
                )
                if roles.can_issue_letters(request.user)
                else []
            ),
            "letters_url": reverse("admin:applications_awardletter_changelist")
            + f"?application__competition__id__exact={competition.pk}",
        }

    def allocation_state_view(self, request, object_id):
        """The pool's figures, polled by the allocation screen to stay current while another
        coordinator allocates."""
        competition = self._get_call(request, object_id)
        state = pool_state(competition=competition)
        last_event = last_allocation_event(competition=competition)
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
        return roles.can_decide(request.user)

    def _decidable(self, request, competition) -> bool:
        """Said before any reason is typed: a call that cannot be decided now offers no
        decision screen."""
        problems = application_services.decision_problems(
            competition=competition, now=timezone.now()
        )
        for problem in problems:
            self.message_user(request, " ".join(problem.messages), messages.ERROR)
        return not problems

    def decision_view(self, request, object_id):
        """The decision a page at a time: the whole call's totals, the reasons typed for the
        applications of a page (saved page by page), and the default reason of each kind of
        rejection, posted with the decision itself."""
        competition = self._get_call(request, object_id)
        if not self.has_decide_permission(request):
            raise PermissionDenied
        if not self._decidable(request, competition):
            return redirect("admin:competitions_competition_allocation", competition.pk)
        if request.method == "POST" and "save_reasons" in request.POST:
            self._save_reasons(request, competition)
            return redirect(request.get_full_path())
        walk = proposal_walk(competition=competition)
        summary = decision_summary(competition=competition, walk=walk)
        if request.method == "POST":
            form = DefaultReasonsForm(request.POST, summary=summary)
            if form.is_valid() and self._decide(request, competition, form, summary):
                return redirect("admin:competitions_competition_allocation", competition.pk)
        else:
            form = DefaultReasonsForm(summary=summary)
        steps = walk.by_pk()
        page, paging = ranking_page(
            request, competition, order=list(steps), statuses=[Application.Status.SUBMITTED]
        )
        pks = list(page.object_list)
        typed = dict(Application.objects.filter(pk__in=pks).values_list("pk", "decision_reason"))
        rows = [
            (application, rejection_kind(steps[application.pk]).label, typed[application.pk])
            for application in ranked_applications(
                pks=pks, ranks={pk: steps[pk].rank for pk in pks}
            )
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "page_class": "record-decision",
            "original": competition,
            "breadcrumb": gettext("Record the decision"),
            "title": gettext("Record the decision: %(call)s") % {"call": competition},
            "competition": competition,
            "form": form,
            "summary": summary,
            "state": pool_state(competition=competition),
            "rows": rows,
            **paging,
        }
        return TemplateResponse(request, self.decision_template, context)

    def _save_reasons(self, request, competition):
        reasons = typed_reasons(request.POST)
        if reasons is None:
            self.message_user(
                request, gettext("The reasons could not be read; reload the page."), messages.ERROR
            )
            return
        try:
            changed = application_services.decision_reasons_set(
                competition=competition, reasons=reasons, by=request.user
            )
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return
        self.message_user(
            request,
            ngettext(
                "The reasons of this page are saved (%(count)s changed).",
                "The reasons of this page are saved (%(count)s changed).",
                changed,
            )
            % {"count": changed},
            messages.SUCCESS,
        )

    def _decide(self, request, competition, form, summary) -> bool:
        try:
            application_services.competition_decide(
                competition=competition, by=request.user, default_reasons=form.reasons()
            )
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return False
        self.message_user(
            request,
            gettext(
                "The decision on “%(call)s” is recorded. Awarded: %(awarded)s "
                "(%(total)s); rejected: %(rejected)s. The allocation is locked and "
                "the municipalities are notified by e-mail."
            )
            % {
                "call": competition,
                "awarded": summary.awarded,
                "total": format_money(summary.awarded_total),
                "rejected": summary.rejected_count,
            },
            messages.SUCCESS,
        )
        return True

    # The export.

    def export_view(self, request, object_id, export_format):
        """The export as a download; one too big to be written within a request is offered as
        a background job, started by a POST, and downloaded from the job's page."""
        competition = self._get_call(request, object_id)
        if export_format not in EXPORT_FORMATS:
            raise Http404
        if request.method == "POST":
            job = export_job(
                competition=competition,
                by=request.user,
                export_format=export_format,
                language=get_language(),
            )
            return redirect("admin:competitions_jobrun_change", job.pk)
        rows = export_row_count(competition)
        if rows <= settings.EXPORT_INLINE_MAX_ROWS[export_format]:
            return export_response(competition, export_format)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": competition,
            "breadcrumb": export_format.upper(),
            "title": gettext("Export of the call: %(call)s") % {"call": competition},
            "rows": rows,
            "export_format": export_format.upper(),
            "days": settings.JOB_FILE_DAYS,
        }
        return TemplateResponse(request, self.export_template, context)
