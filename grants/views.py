"""The municipality's pages after the decision: its grants, a grant's page, the plan's form,
the award declined, and the agreement, accepted or signed by a signatory.

Only the staff of the grant's municipality see these pages; anyone else gets 404, so that an id
of another municipality reveals nothing. Coordinators work in the admin, as with the
applications. Views are thin: forms check the format, services decide and write, and a refusal
comes back into the form with everything that was typed.
"""

from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from applications.letters import ascii_name, municipality_authority
from applications.models import PlannedActivity
from applications.views import attachment
from competitions.formatting import format_money
from competitions.roles import may_sign_for
from remigration_portal.security_log import client_address

from . import agreements, services, settlement, statements
from .forms import (
    AcceptAgreementForm,
    DeclineForm,
    ReportForm,
    SignedAgreementForm,
    plan_formset,
    report_line_forms,
)
from .models import Agreement, Grant, PlanVersion, Report, ReportDocument, ReportKind
from .selectors import (
    award_as_decided,
    grant_next_step,
    grants_with_next_steps,
    plan_history,
    return_being_answered,
)

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
    grants = grants_with_next_steps(request.user)
    return render(request, "grants/list.html", {"grants": grants})


@login_required
@require_safe
def grant_detail(request, pk):
    """The grant: the award, the next step, the submitted activities, the current plan against
    the award, every version compared with the one before, the reports and the payments. A
    fixed number of queries (tests/test_grants_views.py), whatever the number of versions,
    lines, reports and payments."""
    grant = _own_grant(request, pk)
    history = plan_history(grant)
    current = history[0].version if history else None
    activities = PlannedActivity.objects.filter(application=grant.application).select_related(
        "category"
    )
    award = grant.application.awarded_amount
    returned = return_being_answered([changes.version for changes in history])
    reports = list(
        grant.reports.defer("snapshot").select_related("submitted_by").order_by("kind", "-number")
    )
    return render(
        request,
        "grants/detail.html",
        {
            "reports": reports,
            "payments": grant.payments.select_related("reverses").order_by("paid_on", "id"),
            "report_kinds": _open_report_kinds(grant, reports),
            "grant": grant,
            "application": grant.application,
            "competition": grant.application.competition,
            "award": award,
            "award_as_decided": award_as_decided(grant),
            "next_step": grant_next_step(grant, current, returned, reports),
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
                    "municipality": municipality_authority(grant.municipality.name),
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


# --- the agreement ---------------------------------------------------------------------------


def _current_agreement(grant: Grant) -> Agreement | None:
    return (
        grant.agreements.current()
        .select_related("accepted_by", "signed_file_uploaded_by", "countersigned_by")
        .first()
    )


def _agreement_page(request, grant: Grant, *, upload_form=None, status=200):
    agreements_of_grant = list(
        grant.agreements.select_related(
            "plan_version", "accepted_by", "signed_file_uploaded_by", "countersigned_by"
        ).order_by("-generated_at", "-id")
    )
    current = next((a for a in agreements_of_grant if a.replaced_by_id is None), None)
    municipality = grant.application.municipality
    may_sign = may_sign_for(request.user, municipality)
    return render(
        request,
        "grants/agreement.html",
        {
            "grant": grant,
            "application": grant.application,
            "agreement": current,
            "earlier": [a for a in agreements_of_grant if a is not current],
            "may_sign": may_sign,
            "signatories": municipality.signatories.order_by("last_name", "first_name"),
            "open_to_sign": bool(
                current and not current.municipality_signed and grant.status == Grant.Status.SIGNING
            ),
            "upload_form": upload_form or SignedAgreementForm(),
        },
        status=status,
    )


@login_required
@require_safe
def agreement(request, pk):
    """The grant's agreement: the current one, earlier ones, and what the municipality does."""
    return _agreement_page(request, _own_grant(request, pk))


def _signable(request, grant: Grant) -> Agreement:
    """The current agreement, for a user who may sign for the municipality; other staff of it
    may read the agreement but not sign it (403)."""
    if not may_sign_for(request.user, grant.application.municipality):
        raise PermissionDenied
    current = _current_agreement(grant)
    if current is None:
        raise Http404
    return current


@login_required
@require_http_methods(["GET", "POST"])
def agreement_accept(request, pk):
    """The confirmation page: who accepts, which agreement, the SHA-256 of the exact PDF."""
    grant = _own_grant(request, pk)
    current = _signable(request, grant)
    refusals = []
    if request.method == "POST":
        form = AcceptAgreementForm(request.POST)
        shown = form.cleaned_data["sha256"] if form.is_valid() else ""
        try:
            services.agreement_accept(
                agreement=current,
                by=request.user,
                sha256=shown,
                client_address=client_address(request),
            )
        except ValidationError as error:
            refusals = error.messages
        else:
            messages.success(
                request,
                _("Agreement %(number)s is accepted for %(municipality)s.")
                % {"number": current.number, "municipality": grant.application.municipality},
            )
            return HttpResponseRedirect(reverse("grants:agreement", args=[grant.pk]))
    # After a refusal too, the page offers the agreement as it is now, with its own SHA-256.
    return render(
        request,
        "grants/agreement_accept.html",
        {
            "grant": grant,
            "application": grant.application,
            "agreement": current,
            "form": AcceptAgreementForm(initial={"sha256": current.sha256}),
            "refusals": refusals,
        },
    )


@login_required
@require_POST
def agreement_upload(request, pk):
    """The agreement signed with a secure electronic signature; a refusal comes back on the
    agreement's page with its reason."""
    grant = _own_grant(request, pk)
    current = _signable(request, grant)
    form = SignedAgreementForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.agreement_upload_signed(
                agreement=current, by=request.user, file=form.cleaned_data["file"]
            )
        except ValidationError as error:
            form.add_error("file", error)
        else:
            messages.success(
                request,
                _("The signed agreement %(number)s is received.") % {"number": current.number},
            )
            return HttpResponseRedirect(reverse("grants:agreement", args=[grant.pk]))
    return _agreement_page(request, grant, upload_form=form)


#: What can be downloaded of an agreement: its field, and what the file's name adds.
DOWNLOADS = {
    "pdf": ("pdf", ""),
    "signed": ("signed_file", "_parakstits"),
    "countersigned": ("countersigned_file", "_VPR_parakstits"),
}
CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".edoc": "application/vnd.etsi.asic-e+zip",
    ".asice": "application/vnd.etsi.asic-e+zip",
}


@login_required
@require_safe
def agreement_download(request, pk, agreement_pk, kind):
    """An agreement's PDF, or the file signed by the municipality or countersigned, current or
    replaced, for staff of the municipality and the coordinators; 404 for everyone else."""
    if kind not in DOWNLOADS:
        raise Http404
    grant = get_object_or_404(
        Grant.objects.for_user(request.user).select_related("application__municipality"), pk=pk
    )
    found = get_object_or_404(
        Agreement.objects.select_related("grant"), grant=grant, pk=agreement_pk
    )
    field, suffix = DOWNLOADS[kind]
    file = getattr(found, field)
    if not file:
        raise Http404
    extension = "." + file.name.rpartition(".")[2].lower()
    filename = agreements.download_name(found, suffix=suffix + extension)
    response = attachment(
        file,
        filename=filename,
        content_type=CONTENT_TYPES.get(extension, "application/octet-stream"),
    )
    # Both forms of the name, as for the letters: a plain one, and the UTF-8 one (RFC 6266).
    response["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name(filename)}\"; filename*=UTF-8''{quote(filename)}"
    )
    return response


# --- reports, payments, the closing statement ----------------------------------------------


def _open_report_kinds(grant: Grant, reports: list[Report]) -> list[tuple[str, str]]:
    """The reports the municipality may still file or correct: none accepted yet, and the
    interim report only until the final one is submitted."""
    accepted = {r.kind for r in reports if r.status == Report.Status.ACCEPTED}
    final_sent = any(
        r.kind == ReportKind.FINAL and r.status != Report.Status.DRAFT for r in reports
    )
    return [
        (kind, label)
        for kind, label in ReportKind.choices
        if kind not in accepted
        and (
            kind == ReportKind.FINAL
            or (grant.application.competition.interim_report_due_on and not final_sent)
        )
    ]


def _report_kind(grant: Grant, kind: str) -> str:
    """The kind of report in the URL, if the grant's call asks for it; 404 otherwise."""
    if kind not in ReportKind.values or (
        kind == ReportKind.INTERIM and grant.application.competition.interim_report_due_on is None
    ):
        raise Http404
    return kind


def _report_versions(grant: Grant, kind: str) -> list[Report]:
    return list(
        grant.reports.filter(kind=kind)
        .select_related("submitted_by", "decided_by")
        .prefetch_related("lines", "documents")
        .order_by("-number")
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_edit(request, pk, kind):
    """The municipality's report: a line per line of the approved plan (what was done, the
    actual cost, the call's indicators), the evidence, and the submission. A draft is saved
    as typed, over rule 6 too (the page says where); submitting it is refused then, and the
    draft stays as it was saved."""
    grant = _own_grant(request, pk)
    kind = _report_kind(grant, kind)
    versions = _report_versions(grant, kind)
    latest = versions[0] if versions else None
    if latest is not None and latest.status in (Report.Status.SUBMITTED, Report.Status.ACCEPTED):
        return redirect("grants:report_version", grant.pk, latest.pk)
    plan = settlement.approved_plan(grant)
    if plan is None or grant.status not in settlement.ACTIVE:
        messages.info(
            request,
            _("Reports are filed once the agreement is signed; the grant is %(status)s.")
            % {"status": grant.get_status_display()},
        )
        return redirect(grant)
    plan_lines = list(plan.lines.select_related("category").order_by("position", "id"))
    submit_refusal = []
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES)
        line_forms = report_line_forms(plan_lines, data=request.POST)
        if form.is_valid() and all(line_form.is_valid() for line_form in line_forms):
            saved = _save_report(request, grant, kind, form, line_forms)
            if saved is not None and request.POST.get("action") == "submit":
                try:
                    report = settlement.report_submit(report=saved, by=request.user)
                except ValidationError as error:
                    submit_refusal = error.messages
                else:
                    messages.success(
                        request,
                        _(
                            "The %(kind)s is submitted. The coordinator will accept it or return "
                            "it with comments; you will be told by e-mail."
                        )
                        % {"kind": report.get_kind_display()},
                    )
                    return redirect("grants:report_version", grant.pk, report.pk)
            elif saved is not None and not form.errors:
                messages.success(request, _("The draft report is saved."))
                return redirect("grants:report", grant.pk, kind)
            versions = _report_versions(grant, kind)
            latest = versions[0] if versions else None
    else:
        form = ReportForm(initial={"summary": latest.summary if latest else ""})
        line_forms = report_line_forms(plan_lines, latest)
    returned = next((v for v in versions if v.status == Report.Status.RETURNED), None)
    if returned is not None and latest is not None and latest.number > returned.number + 1:
        returned = None
    comments = (
        {line.plan_line_id: line.comment for line in returned.lines.all()} if returned else {}
    )
    tolerance = grant.application.competition.cost_tolerance
    for line_form in line_forms:
        line_form.limit = settlement.line_limit(line_form.plan_line.cost, tolerance)
        line_form.comment = comments.get(line_form.plan_line.pk, "")
        saved_line = getattr(line_form, "saved", None)
        line_form.over_limit = saved_line is not None and saved_line.actual_cost > line_form.limit
    claimed = latest.claimed_total if latest is not None and latest.is_open else None
    return render(
        request,
        "grants/report_form.html",
        {
            "grant": grant,
            "application": grant.application,
            "competition": grant.application.competition,
            "kind": kind,
            "kind_label": ReportKind(kind).label,
            "report": latest if latest is not None and latest.is_open else None,
            "due_on": settlement.report_due_on(grant, kind),
            "overdue": settlement.report_due_on(grant, kind) < timezone.localdate(),
            "form": form,
            "line_forms": line_forms,
            "returned": returned,
            "tolerance": tolerance,
            "claimed": claimed,
            "over_total": claimed is not None and claimed > grant.agreed_total,
            # A returned version's documents are carried into the next draft.
            "documents": latest.documents.all() if latest is not None else [],
            "versions": [v for v in versions if v.status != Report.Status.DRAFT],
            "submit_refusal": submit_refusal,
        },
    )


def _save_report(request, grant, kind, form, line_forms) -> Report | None:
    """Save the draft, then attach or remove a document; each refusal goes into the form."""
    try:
        report = settlement.report_save_draft(
            grant=grant,
            kind=kind,
            by=request.user,
            summary=form.cleaned_data["summary"],
            lines=[line_form.line() for line_form in line_forms],
        )
    except ValidationError as error:
        form.add_error(None, error)
        return None
    upload = form.cleaned_data["document"]
    if upload:
        try:
            settlement.report_document_add(
                report=report,
                by=request.user,
                file=upload,
                description=form.cleaned_data["document_description"],
            )
        except ValidationError as error:
            form.add_error("document", error)
    removed = request.POST.get("delete_document", "")
    if removed.isdigit():
        # The button may name the returned version's row, which the new draft carries over.
        shown = ReportDocument.objects.filter(report__grant=grant, pk=int(removed)).first()
        document = report.documents.filter(file=shown.file.name).first() if shown else None
        if document is not None:
            settlement.report_document_delete(document=document, by=request.user)
            messages.success(
                request, _("“%(name)s” is removed.") % {"name": document.original_name}
            )
    return report


@login_required
@require_safe
def report_version(request, pk, report_pk):
    """One version of a report as it was submitted, with the coordinator's answer: the
    receipt of the submission (its SHA-256), and what was accepted or is to be corrected."""
    grant = _own_grant(request, pk)
    report = get_object_or_404(
        Report.objects.select_related("submitted_by", "decided_by"), grant=grant, pk=report_pk
    )
    return render(
        request,
        "grants/report_version.html",
        {
            "grant": grant,
            "application": grant.application,
            "report": report,
            "lines": report.lines.select_related("plan_line__category").order_by("position"),
            "documents": report.documents.all(),
            "editable": report.status in (Report.Status.DRAFT, Report.Status.RETURNED)
            and grant.status in settlement.ACTIVE,
        },
    )


@login_required
@require_safe
def report_document(request, pk, document_pk):
    """A report's evidence, for the municipality's staff and the coordinators; 404 for
    everyone else."""
    grant = get_object_or_404(Grant.objects.for_user(request.user), pk=pk)
    document = get_object_or_404(ReportDocument, report__grant=grant, pk=document_pk)
    return attachment(
        document.file, filename=document.original_name, content_type=document.content_type
    )


@login_required
@require_safe
def closing_statement(request, pk, language):
    """The closing statement of a closed grant as PDF, in Latvian or English, for the
    municipality's staff and the coordinators."""
    if language not in dict(settings.LANGUAGES):
        raise Http404
    grant = get_object_or_404(
        Grant.objects.for_user(request.user).select_related(
            "application__competition", "application__municipality", "closed_by"
        ),
        pk=pk,
        status=Grant.Status.CLOSED,
    )
    pdf = statements.render_statement(statements.statement_data(grant, language=language))
    name = statements.download_name(grant, language)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name(name)}\"; filename*=UTF-8''{quote(name)}"
    )
    response["Cache-Control"] = "private, no-store"
    return response
