"""The municipality's side of the thread: read it (which records the reading), write, answer a
request, object to the decision; and the attachments, for everyone who may read the thread."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from applications.models import Application
from applications.views import attachment

from . import selectors, services
from .forms import MessageForm, ObjectionForm
from .models import Attachment, Message


def _own_application(request, pk) -> Application:
    """The application if the user acts for its municipality; 404 otherwise."""
    return get_object_or_404(
        Application.objects.of_municipality_staff(request.user).select_related(
            "competition", "municipality"
        ),
        pk=pk,
    )


def _thread_page(request, application, form=None, status=200):
    if form is None:
        # "Answer" on the dashboard leads here with the request chosen.
        form = MessageForm(
            initial={"answer_to": request.GET.get("answer")},
            open_requests=_open_requests(application),
        )
    return render(
        request,
        "conversations/thread.html",
        {
            "application": application,
            "thread": selectors.thread(application),
            "today": timezone.localdate(),
            "form": form,
            "thread_open": services.thread_open(application),
            **services.objection_state(application),
        },
        status=status,
    )


def _open_requests(application) -> list[Message]:
    return list(application.messages.open_requests().order_by("due_on", "sent_at"))


@login_required
@require_safe
def thread(request, pk):
    """The thread; opening it records that the user has read the region's messages."""
    application = _own_application(request, pk)
    services.thread_mark_read(application=application, user=request.user)
    return _thread_page(request, application)


@login_required
@require_POST
def write(request, pk):
    application = _own_application(request, pk)
    form = MessageForm(request.POST, request.FILES, open_requests=_open_requests(application))
    if form.is_valid():
        answer_to = form.cleaned_data.get("answer_to")
        try:
            message = services.message_post(
                application=application,
                by=request.user,
                body=form.cleaned_data["body"],
                files=form.cleaned_data["files"],
                answer_to=get_object_or_404(Message, application=application, pk=answer_to)
                if answer_to
                else None,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Your answer is sent; the request is closed.")
                if message.answer_to_id
                else _("Your message is sent."),
            )
            return redirect(reverse("conversations:thread", args=[pk]) + f"#message-{message.pk}")
    return _thread_page(request, application, form)


@login_required
@require_http_methods(["GET", "POST"])
def objection(request, pk):
    """Lodge an objection to the decision, within the call's period."""
    application = _own_application(request, pk)
    form = ObjectionForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.objection_lodge(
                application=application,
                by=request.user,
                reasons=form.cleaned_data["reasons"],
                files=form.cleaned_data["files"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your objection is lodged."))
            return redirect("conversations:thread", pk=pk)
    return render(
        request,
        "conversations/objection_form.html",
        {
            "application": application,
            "form": form,
            "deadline": services.objection_deadline(application),
            "problems": services.objection_problems(application, today=timezone.localdate()),
        },
    )


@login_required
@require_safe
def attachment_download(request, pk, attachment_pk):
    """An attachment, for whoever may read the application (its staff, the call's reviewers,
    the coordinators); 404 for everyone else."""
    application = get_object_or_404(Application.objects.visible_to(request.user), pk=pk)
    document = get_object_or_404(Attachment, message__application=application, pk=attachment_pk)
    return attachment(
        document.file, filename=document.original_name, content_type=document.content_type
    )
