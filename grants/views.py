"""The municipality's pages after the decision: its grants, a grant's page, the plan's form and
the award declined.

Only the staff of the grant's municipality see these pages; anyone else gets 404, so that an id
of another municipality reveals nothing. Coordinators work in the admin, as with the
applications. Views are thin: forms check the format, services decide and write, and a refusal
comes back into the form with everything that was typed.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from applications.models import PlannedActivity
from competitions.formatting import format_money

from . import services
from .forms import DeclineForm, plan_formset
from .models import Grant, PlanVersion
from .selectors import award_as_decided, grant_next_step, plan_history, return_being_answered

#: Where the grant's plan can still be changed (the service has the last word).
PLAN_EDITABLE = (Grant.Status.AGREEING, Grant.Status.IN_PROGRESS)
#: Where the award can still be declined: before the agreement is signed.
DECLINABLE = (Grant.Status.AGREEING, Grant.Status.SIGNING)


def _own_grant(request, pk) -> Grant:
    """The grant with this id if the user acts for its municipality; 404 otherwise."""
    return get_object_or_404(
        Grant.objects.of_municipality_staff(request.user).select_related(
            "application__competition", "application__municipality"
        ),
        pk=pk,
    )


def _latest(grant: Grant) -> PlanVersion | None:
    return grant.plan_versions.order_by("-number").first()


@login_required
@require_safe
def grant_list(request):
    """The grants of the user's municipalities, each with its next step: two queries of its
    own, whatever their number."""
    grants = list(
        Grant.objects.of_municipality_staff(request.user)
        .select_related("application__competition", "application__municipality")
        .prefetch_related(
            Prefetch(
                "plan_versions",
                queryset=PlanVersion.objects.defer("frozen").order_by("number"),
                to_attr="versions",
            )
        )
        .order_by("-application__competition__decided_at", "application__municipality__name")
    )
    for grant in grants:
        newest_first = grant.versions[::-1]
        grant.next_step = grant_next_step(
            grant,
            newest_first[0] if newest_first else None,
            return_being_answered(newest_first),
        )
    return render(request, "grants/list.html", {"grants": grants})


@login_required
@require_safe
def grant_detail(request, pk):
    """The grant: the award, the next step, the submitted activities, the current plan against
    the award, and every version compared with the one before. Six queries of its own (eight
    with the session's and the user's, tests/test_grants_views.py), whatever the number of
    versions and lines."""
    grant = _own_grant(request, pk)
    history = plan_history(grant)
    current = history[0].version if history else None
    activities = PlannedActivity.objects.filter(application=grant.application).select_related(
        "category"
    )
    award = grant.application.awarded_amount
    returned = return_being_answered([changes.version for changes in history])
    return render(
        request,
        "grants/detail.html",
        {
            "grant": grant,
            "application": grant.application,
            "competition": grant.application.competition,
            "award": award,
            "award_as_decided": award_as_decided(grant),
            "next_step": grant_next_step(grant, current, returned),
            "returned": returned,
            "current": current,
            "current_changes": history[0] if history else None,
            "history": history,
            "activities": activities.order_by("order", "id"),
            "over_award": current is not None and current.total > award,
            "plan_editable": grant.status in PLAN_EDITABLE
            and not (current and current.status == PlanVersion.Status.PROPOSED),
            "declinable": grant.status in DECLINABLE,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request, pk):
    """The plan's lines: save a draft (over the award too, with the excess shown) or propose
    it (refused over the award). Without JavaScript, "add a line" saves and comes back with an
    empty row, as the application's form does."""
    grant = _own_grant(request, pk)
    latest = _latest(grant)
    if request.method == "GET":
        if latest is not None and latest.status == PlanVersion.Status.PROPOSED:
            messages.info(
                request,
                _(
                    "Plan version %(number)s awaits the coordinator's answer; it can be changed "
                    "once it is returned."
                )
                % {"number": latest.number},
            )
            return redirect(grant)
        if grant.status not in PLAN_EDITABLE:
            messages.info(
                request,
                _("The plan can no longer be changed: the grant is %(status)s.")
                % {"status": grant.get_status_display()},
            )
            return redirect(grant)
    categories = list(grant.application.competition.categories.all())
    action = request.POST.get("action", "save")
    if request.method == "POST":
        formset = plan_formset(latest, categories, request.POST)
        if formset.is_valid():
            try:
                version = services.plan_save_draft(
                    grant=grant, by=request.user, lines=formset.lines()
                )
            except ValidationError as error:
                formset.add_non_form_error(error)
            else:
                if action == "propose":
                    return _propose(request, grant, version, categories)
                _report_saved(request, grant, version)
                url = reverse("grants:plan", kwargs={"pk": grant.pk})
                return redirect(url + "?add=1#lines" if action == "add_line" else url)
    else:
        formset = plan_formset(latest, categories, add_row=bool(request.GET.get("add")))
    return _render_plan(request, grant, latest, formset)


def _report_saved(request, grant: Grant, version: PlanVersion) -> None:
    award = grant.application.awarded_amount
    if version.total > award:
        messages.warning(
            request,
            _(
                "The draft is saved. Its total of %(total)s is over the award of %(award)s by "
                "%(excess)s: reduce it to at most %(award)s before proposing it."
            )
            % {
                "total": format_money(version.total),
                "award": format_money(award),
                "excess": format_money(version.total - award),
            },
        )
    else:
        messages.success(request, _("The draft is saved."))


def _propose(request, grant: Grant, version: PlanVersion, categories):
    """Propose the draft that was just saved. A refusal keeps the saved draft, as typed, and
    says why."""
    try:
        version = services.plan_propose(version=version, by=request.user)
    except ValidationError as error:
        return _render_plan(
            request,
            grant,
            version,
            plan_formset(version, categories),
            propose_refusal=error.messages,
        )
    messages.success(
        request,
        _(
            "Plan version %(number)s is proposed for agreement. The coordinator will approve it "
            "or return it with a comment; you will be told by e-mail."
        )
        % {"number": version.number},
    )
    return redirect(grant)


def _render_plan(request, grant, version, formset, *, propose_refusal=()):
    award = grant.application.awarded_amount
    total = version.total if version is not None else 0
    newest_first = list(grant.plan_versions.order_by("-number")[:2])
    return render(
        request,
        "grants/plan_form.html",
        {
            "grant": grant,
            "application": grant.application,
            "competition": grant.application.competition,
            "award": award,
            "version": version,
            # A returned or approved version is not changed: saving starts the next one.
            "starts_new_version": version is None or not version.is_open,
            "formset": formset,
            "total": total,
            "excess": total - award if total > award else None,
            "remainder": award - total if total < award else None,
            "propose_refusal": propose_refusal,
            # The coordinator's comment stays in sight until the plan is proposed again.
            "returned": return_being_answered(newest_first),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def grant_decline(request, pk):
    """Decline the award, with a reason: the whole award returns to the call's pool."""
    grant = _own_grant(request, pk)
    form = DeclineForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        award = grant.application.awarded_amount
        try:
            services.grant_decline(grant=grant, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _(
                    "%(municipality)s has declined the award; %(award)s has returned to the "
                    "call's pool."
                )
                % {
                    "municipality": grant.municipality.name,
                    "award": format_money(award),
                },
            )
            return redirect(grant)
    return render(
        request,
        "grants/confirm_decline.html",
        {
            "grant": grant,
            "application": grant.application,
            "form": form,
            "declinable": grant.status in DECLINABLE,
        },
    )
