from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from . import letters
from .models import Application, AwardLetter, SupportingDocument


def _own_application(request, pk, queryset=None) -> Application:
    """The application with this id if the user acts for its municipality; 404 otherwise, so
    that an id of another municipality reveals nothing, not even that it exists."""
    queryset = queryset if queryset is not None else Application.objects.all()
    return get_object_or_404(queryset.of_municipality_staff(request.user), pk=pk)


def attachment(file, *, filename: str, content_type: str) -> FileResponse:
    """A stored file sent as a download, never rendered by the browser."""
    response = FileResponse(file.open("rb"), as_attachment=True, filename=filename)
    response["Content-Type"] = content_type
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_safe
def application_detail(request, pk):
    application = _own_application(
        request,
        pk,
        Application.objects.select_related("competition", "municipality").prefetch_related(
            "activities__category", "documents"
        ),
    )
    return render(request, "applications/detail.html", {"application": application})


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
