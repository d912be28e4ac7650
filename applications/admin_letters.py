"""Decision letters in the admin: the register of issued letters, an action that issues the
letters of the selected decided applications, and the buttons on an application's page that
issue or re-issue its letter.

``ApplicationAdmin`` (in ``admin.py``) takes ``LetterAdminMixin`` and the ``issue_letters``
action. Letters are made only by the services; the admin asks for them and reports.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from competitions import roles
from competitions.admin_base import ObjectTool, ReadOnlyAdmin, VisibleOnlyMixin

from . import services
from .models import Application, AwardLetter
from .tasks import selected_letters_job

#: The buttons' labels, by language: to issue the first letter, and to issue a new one.
BUTTON_LABELS = {
    "lv": (gettext_lazy("Issue letter in Latvian"), gettext_lazy("Re-issue letter in Latvian")),
    "en": (gettext_lazy("Issue letter in English"), gettext_lazy("Re-issue letter in English")),
}


def download_link(letter: AwardLetter) -> str:
    url = reverse("applications:letter_download", args=[letter.application_id, letter.pk])
    return format_html('<a href="{}">{}</a>', url, _("Download PDF"))


def _issued_message(letter: AwardLetter, application: Application) -> str:
    replaced = AwardLetter.objects.filter(replaced_by=letter).first()
    if replaced is None:
        return _("Letter %(number)s issued to %(municipality)s.") % {
            "number": letter.number,
            "municipality": application.municipality,
        }
    return _("Letter %(number)s issued to %(municipality)s; it replaces %(replaced)s.") % {
        "number": letter.number,
        "municipality": application.municipality,
        "replaced": replaced.number,
    }


def _refused_message(application: Application, error: ValidationError) -> str:
    return _("%(application)s: %(problem)s") % {
        "application": application,
        "problem": " ".join(error.messages),
    }


#: What the lists show of a letter besides its number (and, in the register, its application).
LETTER_COLUMNS = ["kind", "language", "issued_by", "issued_at", "replaced_by", "download"]


class LetterFieldsMixin:
    """A letter's download link, for the register and for an application's page."""

    @admin.display(description=gettext_lazy("PDF"))
    def download(self, letter):
        return download_link(letter)


@admin.register(AwardLetter)
class AwardLetterAdmin(LetterFieldsMixin, VisibleOnlyMixin, ReadOnlyAdmin):
    """The register of issued letters. Only the issuing services make letters, and an issued
    letter is never changed or deleted: a correction is a new letter that replaces it."""

    list_display = ["number", "application", *LETTER_COLUMNS]
    list_filter = ["application__competition", "kind", "language"]
    list_select_related = ["application__municipality", "issued_by", "replaced_by"]
    search_fields = ["number", "application__reference", "application__municipality__name"]
    date_hierarchy = "issued_at"
    fields = [*list_display, "sha256"]
    readonly_fields = ["download"]

    def has_view_permission(self, request, obj=None):
        # Every letter of every call: coordinators' reading, as the allocation screen is.
        return roles.is_coordinator(request.user) and super().has_view_permission(request, obj)


class AwardLetterInline(LetterFieldsMixin, admin.TabularInline):
    """An application's letters on its admin page, newest first."""

    model = AwardLetter
    fk_name = "application"
    fields = LETTER_COLUMNS  # the number heads each row already
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = gettext_lazy("Decision letters")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("issued_by", "replaced_by")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.action(
    description=gettext_lazy("Issue decision letters in Latvian"), permissions=["issue_letter"]
)
def issue_letters(modeladmin, request, queryset):
    """Issue a Latvian letter to each selected application that has none yet, as a job on a
    worker; its page names each application refused or skipped. A letter is re-issued only
    from its application's page, deliberately."""
    job = selected_letters_job(applications=queryset, by=request.user, language="lv")
    return redirect("admin:competitions_jobrun_change", job.pk)


class LetterAdminMixin:
    """For ``ApplicationAdmin``: the application's letters on its page, and a button per
    language that issues its letter or re-issues it (a POST to ``<id>/issue-letter/<lang>/``)."""

    def has_issue_letter_permission(self, request, obj=None) -> bool:
        return roles.can_issue_letters(request.user)

    def get_inlines(self, request, obj):
        return [*super().get_inlines(request, obj), AwardLetterInline]

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_issue_letter"
        view = self.admin_site.admin_view(require_POST(self.issue_letter_view))
        return [
            path("<path:object_id>/issue-letter/<str:language>/", view, name=name),
            *super().get_urls(),
        ]

    def get_object_tools(self, request, application) -> list[ObjectTool]:
        tools = super().get_object_tools(request, application)
        if application.status not in services.LETTER_KINDS or not self.has_issue_letter_permission(
            request
        ):
            return tools
        with_letter = set(application.letters.current().values_list("language", flat=True))
        name = f"admin:{self.opts.app_label}_{self.opts.model_name}_issue_letter"
        return [
            *tools,
            *(
                ObjectTool(
                    str(BUTTON_LABELS[code][1 if code in with_letter else 0]),
                    reverse(name, args=[application.pk, code]),
                    method="post",
                )
                for code, _name in settings.LANGUAGES
            ),
        ]

    def issue_letter_view(self, request, object_id, language):
        if not self.has_issue_letter_permission(request):
            raise PermissionDenied
        application = self.get_object(request, unquote(object_id))
        if application is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        try:
            letter = services.letter_issue(
                application=application, by=request.user, language=language
            )
        except ValidationError as error:
            messages.error(request, _refused_message(application, error))
        else:
            messages.success(request, _issued_message(letter, application))
        return HttpResponseRedirect(
            reverse(
                f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_change",
                args=[application.pk],
            )
        )
