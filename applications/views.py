"""The municipal staff's pages: dashboard, application form, application page, receipt.

Views are thin: forms check the format of what was typed, services decide and write, and a
refusal comes back into the form with everything the user typed.
"""

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from competitions import roles
from competitions.models import Competition

from . import letters, selectors, services
from .forms import ActivityFormSet, ApplicationForm, DocumentsForm, shown_data
from .models import (
    RANKED_STATUSES,
    Application,
    AwardLetter,
    PlannedActivity,
    SupportingDocument,
)

ACTIVITIES_PREFIX = "activities"


def _own_application(request, pk, queryset=None) -> Application:
    """The application with this id if the user acts for its municipality; 404 otherwise, so
    that an id of another municipality reveals nothing, not even that it exists."""
    queryset = queryset if queryset is not None else Application.objects.all()
    application = get_object_or_404(queryset.of_municipality_staff(request.user), pk=pk)
    # Found among the applications of the user's municipalities: the page's menu need not
    # ask whether the user acts for one (remigration_portal.context_processors.portal).
    request.acts_for_municipality = True
    return application


def _report(request, error: ValidationError) -> None:
    """A service's refusal, each reason as its own message."""
    for message in error.messages:
        messages.error(request, message)


def attachment(file, *, filename: str, content_type: str) -> FileResponse:
    """A stored file sent as a download, never rendered by the browser."""
    response = FileResponse(file.open("rb"), as_attachment=True, filename=filename)
    response["Content-Type"] = content_type
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def admin_workplace(user) -> str | None:
    """Where a reviewer or coordinator who acts for no municipality works: a reviewer with
    applications to score at their list, anyone else of the admin at its index; None for the
    portal's own users."""
    if not user.is_staff or roles.is_municipal_staff(user):
        return None
    if (
        roles.is_reviewer(user)
        and not roles.is_coordinator(user)
        and selectors.awaiting_score(user).exists()
    ):
        return reverse("admin:applications_application_changelist") + "?to_score=yes"
    return reverse("admin:index")


@login_required
@require_safe
def dashboard(request):
    """The calls open to the user's municipalities and their applications: three queries of
    its own (five with the session's and the user's), whatever the numbers of calls and
    applications; the template adds the open requests and unread messages
    (``conversations``) and the grants under way with their next steps (``grants``), two
    queries each. Reviewers and coordinators who act for no municipality work in the admin."""
    now = timezone.now()
    municipalities = {m.pk: m for m in roles.municipalities_of(request.user)}
    if not municipalities and (workplace := admin_workplace(request.user)):
        return redirect(workplace)
    applications = list(
        Application.objects.filter(municipality_id__in=municipalities)
        .select_related("competition", "municipality")
        # The list shows these; the texts and the frozen snapshot stay in the database.
        .only(
            "status",
            "reference",
            "requested_amount",
            "awarded_amount",
            "competition__title_lv",
            "competition__title_en",
            "competition__status",
            "competition__opens_at",
            "competition__closes_at",
            "municipality__name",
        )
        .order_by("-competition__opens_at", "municipality__name")
    )
    for application in applications:
        # A draft past its call's deadline can only be read: its row leads to its page.
        application.editable = application.is_draft and application.competition.is_accepting(now)
    by_call = {(a.competition_id, a.municipality_id): a for a in applications}
    open_calls, mine = {}, {}
    eligibility = (
        Competition.eligible_municipalities.through.objects.filter(
            municipality_id__in=municipalities, competition__in=Competition.objects.open_at(now)
        )
        .select_related("competition")
        .order_by("competition__closes_at", "competition_id")
    )
    for pair in eligibility:
        open_calls.setdefault(pair.competition_id, pair.competition)
        municipality = municipalities[pair.municipality_id]
        mine.setdefault(pair.competition_id, []).append(
            (municipality, by_call.get((pair.competition_id, municipality.pk)))
        )
    for call in open_calls.values():
        call.my_applications = sorted(mine[call.pk], key=lambda pair: pair[0].name)
    return render(
        request,
        "applications/dashboard.html",
        {
            "municipalities": sorted(municipalities.values(), key=lambda m: m.name),
            "open_calls": list(open_calls.values()),
            "applications": applications,
            "now": now,
            # Known here already: the menu need not ask the database again.
            "acts_for_municipality": bool(municipalities),
        },
    )


@login_required
@require_POST
def application_start(request, slug):
    competition = get_object_or_404(Competition.objects.published(), slug=slug)
    mine = roles.municipalities_of(request.user)
    municipality = (
        get_object_or_404(mine, pk=request.POST.get("municipality") or 0)
        if len(mine) > 1
        else get_object_or_404(mine)
    )
    existing = Application.objects.filter(
        competition=competition, municipality=municipality
    ).first()
    if existing is not None:
        return redirect(_edit_or_detail(existing))
    try:
        application = services.application_start(
            competition=competition, municipality=municipality, by=request.user
        )
    except ValidationError as error:
        _report(request, error)
        return redirect(competition)
    messages.success(
        request, _("A draft application has been opened. It is saved only when you save it.")
    )
    return redirect("applications:edit", pk=application.pk)


def _edit_or_detail(application: Application) -> str:
    name = "applications:edit" if application.is_draft else "applications:detail"
    return reverse(name, kwargs={"pk": application.pk})


@login_required
@require_http_methods(["GET", "POST"])
def application_edit(request, pk):
    if request.method == "POST":
        return _edit_posted(request, pk)
    application = _own_application(
        request, pk, Application.objects.select_related("competition", "municipality")
    )
    if not application.is_draft:
        return _no_longer_a_draft(request, application.pk)
    if not application.competition.is_accepting():
        # Past the deadline every save and the submission would be refused (the services
        # decide that): the application's page shows the draft and says why, rather than a
        # form to type into in vain. A POST still reaches the service, which refuses it, and
        # the page then keeps what was typed.
        return redirect(application)
    form, formset, documents_form, documents = _draft_forms(
        application, add_row=bool(request.GET.get("add"))
    )
    return _render_form(request, application, form, formset, documents_form, documents)


def _no_longer_a_draft(request, pk):
    messages.info(request, _("This application has been submitted and can no longer be changed."))
    return redirect("applications:detail", pk=pk)


class _PostedForms:
    """The edit page's forms as posted, read from the draft as the service's lock read it
    (``read``, which ``services.application_edit`` calls): the draft's activities and its
    call's categories are read once, under the lock, for both the form and the save."""

    def __init__(self, request):
        self.data, self.files = request.POST, request.FILES
        self.action = self.data.get("action", "save")
        self.application = None

    def read(self, draft: services.DraftForEditing) -> services.DraftChanges:
        self.application = draft.application
        self.form, self.formset, self.documents_form, self.documents = _draft_forms(
            draft.application, self.data, self.files, draft=draft
        )
        # Each form checked (no short cut), so that each shows its errors.
        self.complete = all(
            [self.form.is_valid(), self.formset.is_valid(), self.documents_form.is_valid()]
        )
        self.rows = self.formset.activities()
        return services.DraftChanges(
            details=self.form.details(),
            activities=None if self.rows is None else [row for _index, row in self.rows],
            new_files=self.documents_form.cleaned_data.get("new_documents") or [],
            removed_document_ids=self.documents_form.cleaned_data.get("remove_documents") or [],
            complete=self.complete,
        )


def _edit_posted(request, pk):
    """Save the draft as the form holds it, or save and submit it ("submit", when the form is
    complete); a refusal comes back into the form with everything typed."""
    posted = _PostedForms(request)
    action = posted.action
    try:
        application = services.application_edit(
            application_id=pk, by=request.user, submit=action == "submit", read=posted.read
        )
    except ObjectDoesNotExist:
        raise Http404 from None
    except services.SubmissionRefused as refused:
        request.acts_for_municipality = True
        return _refused_submission(request, refused.application, refused)
    except ValidationError as error:
        if posted.application is None:
            # Refused before the form was read: not a draft of the user's municipalities
            # (404, as for any page of it: an id reveals nothing), or no longer a draft.
            if error.code == "not_draft":
                return _no_longer_a_draft(request, pk)
            raise Http404 from None
        request.acts_for_municipality = True
        posted.form.add_error(None, error)
        return _render_form(
            request,
            posted.application,
            posted.form,
            posted.formset,
            posted.documents_form,
            posted.documents,
            unattached=[file.name for file in posted.files.getlist("new_documents")],
        )
    request.acts_for_municipality = True
    if not application.is_draft:
        return _submitted(request, application)
    for problem in services.over_cap_problems(application):
        messages.warning(request, problem.messages[0])
    if posted.complete:
        messages.success(request, _("The draft is saved."))
        url = reverse("applications:edit", kwargs={"pk": application.pk})
        # Without JavaScript, "add activity" saves and comes back with an empty row.
        return redirect(url + "?add=1#activities" if action == "add_activity" else url)
    # Saved in part: the page shows again what was typed, each field in error marked.
    formset = _partly_saved_formset(
        application, posted.data, posted.rows or [], add_row=action == "add_activity"
    )
    # A browser cannot put a chosen file back into a file field: said next to the field.
    unattached = (
        [file.name for file in posted.files.getlist("new_documents")]
        if posted.documents_form.errors
        else []
    )
    return _render_form(
        request,
        application,
        posted.form,
        formset,
        posted.documents_form,
        list(application.documents.all()),
        unattached=unattached,
        saved_partly=True,
        submit_refused=action == "submit",
    )


def _partly_saved_formset(application: Application, data, rows, *, add_row: bool):
    """The activities as typed, after a save that kept some of them, bound again so that
    their errors show: each new row the save created carries its id from now on (posted
    again without it, the row would be saved twice), and "add activity" adds an empty row."""
    # A copy of the post, which Django keeps unchangeable, to write those ids into.
    data = data.copy()
    created = dict(application.activities.values_list("order", "pk"))
    for position, (index, row) in enumerate(rows, start=1):
        if row.id is None:
            data[f"{ACTIVITIES_PREFIX}-{index}-id"] = str(created[position])
    if add_row:
        total = f"{ACTIVITIES_PREFIX}-TOTAL_FORMS"
        data[total] = str(int(data.get(total, 0)) + 1)
    formset = _activity_formset(application, data)
    formset.is_valid()
    return formset


def _draft_forms(
    application: Application, data=None, files=None, *, add_row: bool = False, draft=None
):
    """The edit page's forms (the general part, the activities, the documents) and the
    documents attached (read once, when the page or a removal needs them); bound when
    ``data`` is given; the activities and categories of ``draft`` (a
    ``services.DraftForEditing``) where the service has read them."""
    documents = application.documents.all()
    return (
        ApplicationForm(data, instance=application),
        _activity_formset(application, data, add_row=add_row, draft=draft),
        DocumentsForm(data, files, documents=documents),
        documents,
    )


def _activity_formset(application: Application, data=None, *, add_row: bool = False, draft=None):
    formset = ActivityFormSet(
        data,
        instance=application,
        categories=application.competition.categories.all() if draft is None else draft.categories,
        activities=None if draft is None else draft.activities,
        prefix=ACTIVITIES_PREFIX,
        queryset=application.activities.all(),
    )
    if data is None and (add_row or not formset.initial_form_count()):
        formset.extra = 1
    return formset


def _submitted(request, application: Application):
    messages.success(
        request,
        _("Application %(reference)s is submitted. Keep the receipt below.")
        % {"reference": application.reference},
    )
    return redirect("applications:receipt", pk=application.pk)


def _refused_submission(request, application: Application, error: ValidationError):
    """The draft, saved, with the reasons at the top and each missing field marked on it.

    What was typed is what was saved, so the page is the saved draft, bound to what it shows:
    the rows carry the ids they were just saved under (posted again without them, new rows
    would be saved twice), and the errors can sit on their fields.
    """
    form = ApplicationForm(shown_data(ApplicationForm(instance=application)), instance=application)
    shown = _activity_formset(application)
    formset = _activity_formset(application, shown_data(shown.management_form, *shown.forms))
    for problem in error.error_list:
        if problem.code == "incomplete":
            _mark_missing(form, formset, problem.params["missing"])
        elif problem.code == "no_activities":
            formset.add_non_form_error(problem)
    documents = list(application.documents.all())
    return _render_form(
        request,
        application,
        form,
        formset,
        DocumentsForm(documents=documents),
        documents,
        submit_refusal=error.messages,
    )


def _mark_missing(form, formset, missing: services.MissingToSubmit) -> None:
    """Each field the submission found empty gets its error, so it is marked where it is."""

    def required() -> ValidationError:
        return ValidationError(_("Fill this in before submitting."), code="required_to_submit")

    for name in missing.fields:
        form.add_error(name, required())
    for activity_form in formset.forms:
        for name in missing.activity_fields.get(activity_form.instance.pk, ()):
            activity_form.add_error(name, required())


def _render_form(
    request,
    application,
    form,
    formset,
    documents_form,
    documents,
    *,
    submit_refusal=(),
    unattached=(),
    saved_partly=False,
    submit_refused=False,
):
    return render(
        request,
        "applications/form.html",
        {
            "application": application,
            "competition": application.competition,
            "accepting": application.competition.is_accepting(),
            "form": form,
            "formset": formset,
            "new_activity": formset.empty_row(),
            "documents_form": documents_form,
            "documents": documents,
            "submit_refusal": submit_refusal,
            "files_not_attached": unattached,
            "saved_partly": saved_partly,
            "submit_refused": submit_refused,
        },
    )


@login_required
@require_safe
def application_detail(request, pk):
    application = _own_application(
        request,
        pk,
        Application.objects.select_related(
            "competition", "municipality", "submitted_by"
        ).prefetch_related(
            Prefetch(
                "activities",
                queryset=PlannedActivity.objects.select_related("category").order_by("order", "id"),
            ),
            "documents",
        ),
    )
    outcome = None
    if application.competition.is_decided and application.status in RANKED_STATUSES:
        place = selectors.decided_rank(application=application)
        outcome = place and {
            "score": application.score_mean,
            "rank": place.rank,
            "of": place.of,
        }
    return render(
        request,
        "applications/detail.html",
        {
            "application": application,
            "accepting": application.competition.is_accepting(),
            "outcome": outcome,
            "timeline": timeline(application),
        },
    )


def timeline(application: Application) -> list[tuple]:
    """The application's status history, from the moments the services recorded."""
    events = [(application.created_at, _("Draft opened"), "")]
    if application.submitted_at:
        person = application.submitted_by
        who = (person.get_full_name() or person.get_username()) if person else ""
        events.append((application.submitted_at, _("Submitted"), who))
    if application.withdrawn_at:
        events.append((application.withdrawn_at, _("Withdrawn"), ""))
    if application.decided_at:
        events.append((application.decided_at, application.get_status_display().capitalize(), ""))
    return events


@login_required
@require_safe
def application_receipt(request, pk):
    application = _own_application(
        request,
        pk,
        Application.objects.exclude(status=Application.Status.DRAFT).select_related(
            "competition", "municipality", "submitted_by"
        ),
    )
    return render(request, "applications/receipt.html", {"application": application})


@login_required
@require_http_methods(["GET", "POST"])
def application_withdraw(request, pk):
    application = _own_application(
        request, pk, Application.objects.select_related("competition", "municipality")
    )
    if request.method == "POST":
        try:
            services.application_withdraw(application=application, by=request.user)
        except ValidationError as error:
            _report(request, error)
        else:
            messages.success(
                request,
                _("Application %(reference)s is withdrawn.") % {"reference": application.reference},
            )
        return redirect(application)
    return render(request, "applications/confirm_withdraw.html", {"application": application})


@login_required
@require_http_methods(["GET", "POST"])
def application_delete(request, pk):
    application = _own_application(
        request, pk, Application.objects.select_related("competition", "municipality")
    )
    if request.method == "POST":
        try:
            services.application_delete_draft(application=application, by=request.user)
        except ValidationError as error:
            _report(request, error)
            return redirect(application)
        messages.success(request, _("The draft is deleted."))
        return HttpResponseRedirect(reverse("applications:dashboard"))
    return render(request, "applications/confirm_delete.html", {"application": application})


@login_required
@require_safe
def document_download(request, pk, document_pk):
    """A supporting document, for whoever may read its application (staff of the
    municipality, the call's reviewers and the coordinators once it is submitted)."""
    application = get_object_or_404(Application.objects.visible_to(request.user), pk=pk)
    document = get_object_or_404(SupportingDocument, application=application, pk=document_pk)
    return attachment(
        document.file, filename=document.original_name, content_type=document.content_type
    )


@login_required
@require_safe
def letter_download(request, pk, letter_pk):
    """A decision letter, current or replaced, for whoever may read its application; 404 for
    everyone else, as for documents."""
    application = get_object_or_404(
        Application.objects.visible_to(request.user).select_related("municipality"), pk=pk
    )
    letter = get_object_or_404(AwardLetter, application=application, pk=letter_pk)
    filename = letters.download_name(letter)
    response = attachment(letter.file, filename=filename, content_type="application/pdf")
    # Both forms of the name: a plain one for old clients, the UTF-8 one (RFC 6266) for the
    # rest, so that "Valmieras_pilsēta" keeps its letters where the client can show them.
    response["Content-Disposition"] = (
        f'attachment; filename="{letters.ascii_name(filename)}"; '
        f"filename*=UTF-8''{quote(filename)}"
    )
    return response
