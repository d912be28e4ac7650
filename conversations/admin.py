"""Messages and objections in the admin, where coordinators and reviewers work.

Messages are a record: the admin lists them and never changes or deletes one (``ReadOnlyAdmin``:
no add, change or delete page answers). A thread is read, and written to, on its own page
(``…/message/application/<id>/``): opening it records the reading; a coordinator may make a
message a request for clarification with a due date. Coordinators record an objection's
outcome on its own page, with the reasoned reply document.
"""

from django.contrib import admin, messages
from django.contrib.admin import SimpleListFilter
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from applications.models import Application
from competitions import roles
from competitions.admin_base import ReadOnlyAdmin, VisibleOnlyMixin
from competitions.formatting import format_money

from . import selectors, services
from .forms import AuthorityMessageForm, ObjectionDecisionForm
from .models import Kind, Message, MessageRead, Objection, Side


class UnreadFilter(SimpleListFilter):
    title = _("read")
    parameter_name = "unread"

    def lookups(self, request, model_admin):
        return [("yes", _("unread by me"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.unread_by(request.user, side=Side.AUTHORITY)
        return queryset


class OpenRequestFilter(SimpleListFilter):
    title = _("requests")
    parameter_name = "requests"

    def lookups(self, request, model_admin):
        return [("open", _("open")), ("overdue", _("overdue"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.open_requests()
        if self.value() == "overdue":
            return queryset.open_requests().filter(due_on__lt=timezone.localdate())
        return queryset


def _thread_application(request, application_id) -> Application:
    """The application if the user reads its thread in the admin: a coordinator, or a reviewer
    of its call; 404 otherwise, as for an object outside the user's list."""
    application = get_object_or_404(
        Application.objects.visible_to(request.user).select_related("competition", "municipality"),
        pk=application_id,
    )
    if services.side_of(request.user, application) != Side.AUTHORITY:
        raise Http404
    return application


@admin.register(Message)
class MessageAdmin(VisibleOnlyMixin, ReadOnlyAdmin):
    list_display = ["thread_link", "kind", "side", "author", "sent_at", "request_state", "read"]
    # A message is read in its thread: the first column links there, not to a change page
    # (a link in a link would leave the outer one empty).
    list_display_links = None
    list_filter = [UnreadFilter, OpenRequestFilter, "kind", "side"]
    list_select_related = ["application__municipality", "author", "answer_to"]
    date_hierarchy = "sent_at"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(application__in=Application.objects.visible_to(request.user))
            .annotate(
                read_by_me=Exists(
                    MessageRead.objects.filter(message=OuterRef("pk"), user=request.user)
                ),
                answered=Exists(Message.objects.filter(answer_to=OuterRef("pk"))),
            )
        )

    @admin.display(description=_("application"), ordering="application")
    def thread_link(self, message):
        return format_html(
            '<a href="{}#message-{}">{}</a>',
            reverse("admin:conversations_message_thread", args=[message.application_id]),
            message.pk,
            message.application,
        )

    @admin.display(description=_("request"))
    def request_state(self, message):
        if message.kind != Kind.REQUEST:
            return ""
        if message.answered:
            return gettext("answered")
        due = message.due_on.strftime("%d.%m.%Y.")
        if message.due_on < timezone.localdate():
            return gettext("overdue: was due %(due)s") % {"due": due}
        return gettext("answer due %(due)s") % {"due": due}

    @admin.display(description=_("read by me"), boolean=True)
    def read(self, message):
        return message.side == Side.AUTHORITY or message.read_by_me

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # A message is read in its thread.
        if not self.has_view_permission(request):
            raise PermissionDenied
        message = self.get_object(request, object_id)
        if message is None:
            raise Http404
        return redirect(
            reverse("admin:conversations_message_thread", args=[message.application_id])
            + f"#message-{message.pk}"
        )

    def get_urls(self):
        return [
            path(
                "application/<int:application_id>/",
                self.admin_site.admin_view(self.thread_view),
                name="conversations_message_thread",
            ),
            path(
                "application/<int:application_id>/write/",
                self.admin_site.admin_view(require_POST(self.write_view)),
                name="conversations_message_write",
            ),
            *super().get_urls(),
        ]

    def thread_view(self, request, application_id):
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied
        application = _thread_application(request, application_id)
        services.thread_mark_read(application=application, user=request.user)
        return self._thread_page(request, application)

    def write_view(self, request, application_id):
        application = _thread_application(request, application_id)
        form = AuthorityMessageForm(
            request.POST, request.FILES, may_request=roles.is_coordinator(request.user)
        )
        if form.is_valid():
            try:
                message = services.message_post(
                    application=application,
                    by=request.user,
                    body=form.cleaned_data["body"],
                    files=form.cleaned_data["files"],
                    due_on=form.cleaned_data.get("due_on"),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(
                    request,
                    (
                        gettext("The request is sent to %(municipality)s.")
                        if message.is_request
                        else gettext("The message is sent to %(municipality)s.")
                    )
                    % {"municipality": application.municipality.name},
                    messages.SUCCESS,
                )
                return redirect(
                    reverse("admin:conversations_message_thread", args=[application.pk])
                    + f"#message-{message.pk}"
                )
        return self._thread_page(request, application, form)

    def _thread_page(self, request, application, form=None):
        may_request = roles.is_coordinator(request.user)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Messages: %(application)s") % {"application": application},
            "application": application,
            "thread": selectors.thread(application),
            "today": timezone.localdate(),
            "form": form or AuthorityMessageForm(may_request=may_request),
            "may_request": may_request,
            "objection": Objection.objects.filter(application=application).first(),
        }
        return TemplateResponse(request, "admin/conversations/thread.html", context)


@admin.register(Objection)
class ObjectionAdmin(VisibleOnlyMixin, ReadOnlyAdmin):
    list_display = ["application", "lodged_at", "deadline", "outcome", "decided_at", "award"]
    list_filter = ["outcome"]
    list_select_related = ["application__municipality"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(application__in=Application.objects.visible_to(request.user))
        )

    @admin.display(description=_("award after"))
    def award(self, objection):
        return format_money(objection.award_after) if objection.award_after is not None else "—"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # An objection is read, and decided, on its own page.
        if not self.has_view_permission(request):
            raise PermissionDenied
        objection = self.get_object(request, object_id)
        if objection is None:
            raise Http404
        return redirect("admin:conversations_objection_decide", objection.pk)

    def get_urls(self):
        return [
            path(
                "<int:object_id>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="conversations_objection_decide",
            ),
            *super().get_urls(),
        ]

    def decide_view(self, request, object_id):
        if not roles.is_coordinator(request.user):
            raise PermissionDenied
        objection = self.get_object(request, object_id)
        if objection is None:
            raise Http404
        form = ObjectionDecisionForm(
            request.POST if request.method == "POST" else None,
            request.FILES if request.method == "POST" else None,
        )
        if request.method == "POST" and form.is_valid() and not objection.is_decided:
            try:
                objection = services.objection_decide(
                    objection=objection,
                    by=request.user,
                    outcome=form.cleaned_data["outcome"],
                    reply=form.cleaned_data["reply"],
                    document=form.cleaned_data["document"],
                    amount=form.cleaned_data["amount"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(
                    request,
                    gettext("The outcome is recorded; %(municipality)s is told by e-mail.")
                    % {"municipality": objection.application.municipality.name},
                    messages.SUCCESS,
                )
                return redirect("admin:conversations_message_thread", objection.application_id)
        application = objection.application
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": objection,
            "breadcrumb": gettext("Outcome"),
            "page_class": "objection-decision",
            "title": gettext("Objection: %(application)s") % {"application": application},
            "objection": objection,
            "application": application,
            "form": form,
            "thread": selectors.thread(application),
            "today": timezone.localdate(),
        }
        return TemplateResponse(request, "admin/conversations/objection_decide.html", context)
