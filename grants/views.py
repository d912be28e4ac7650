"""The municipality's pages of a grant: its agreement, accepted or signed by a signatory.

Views are thin: forms read what was sent, services decide and write, and a refusal comes back
on the page with its reason. A grant of another municipality answers 404 everywhere.
"""

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from applications.letters import ascii_name
from applications.views import attachment
from competitions.roles import may_sign_for
from remigration_portal.security_log import client_address

from . import agreements, services
from .forms import AcceptAgreementForm, SignedAgreementForm
from .models import Agreement, Grant


def _own_grant(request, pk) -> Grant:
    """The grant with this id if the user acts for its municipality; 404 otherwise, so that an
    id of another municipality reveals nothing."""
    return get_object_or_404(
        Grant.objects.filter(application__municipality__staff=request.user).select_related(
            "application__competition", "application__municipality"
        ),
        pk=pk,
    )


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
