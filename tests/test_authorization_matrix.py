"""Every URL of the project that takes an id or a slug, for every role.

The URL patterns are found by walking the resolver, so a new URL cannot escape this test: a
pattern missing from ``EXPECTED`` fails it. Each cell says exactly what the role gets:

- ``LOGIN``: 302 to the portal's login; ``ADMIN_LOGIN``: 302 to the admin's login;
- ``200``: the page; ``404``: nothing there for this user (never "exists but forbidden");
- ``403``: the role may never use this screen (a reviewer on the allocation screen);
- ``405``: the method is not the URL's (a GET to a POST-only action);
- ``REDIRECT``: 302 elsewhere, as the view's answer (an action done, or the admin's shortcut).
"""

from dataclasses import dataclass
from decimal import Decimal

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from applications import services
from applications.models import AllocationEvent, Review
from competitions.models import ActivityCategory, Competition, JobRun, Municipality
from conversations import services as conversation_services
from grants import services as grant_services
from grants.models import Agreement, Payment, Report, ReportDocument

from .factories import PDF, CompetitionFactory, category, document_of, reviewer
from .source_case import DETAILS, activities_costing, build_source_case

pytestmark = pytest.mark.django_db

LOGIN, ADMIN_LOGIN, REDIRECT = "login", "admin-login", "redirect"
ROLES = [
    "anonymous",
    "own_staff",
    "other_staff",
    "reviewer_unassigned",
    "reviewer_assigned",
    "coordinator",
]


def url_patterns(resolver=None, prefix="", namespace=None):
    """Every leaf pattern with its full route, name (or route when unnamed) and how many
    parameters it takes."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from url_patterns(pattern, route, inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield name or route, route, pattern.pattern.regex.groups


EXPECTED = {
    # pattern: (anonymous, own staff, other staff, reviewer not assigned, reviewer assigned, coordinator)
    "admin/(?P<url>.*)$": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 404, 404, 404),
    "admin/applications/allocationevent/<path:object_id>/": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        REDIRECT,
        REDIRECT,
        REDIRECT,
    ),
    "admin/applications/application/<path:object_id>/": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        REDIRECT,
        REDIRECT,
        REDIRECT,
    ),
    "admin/applications/awardletter/<path:object_id>/": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        REDIRECT,
        REDIRECT,
        REDIRECT,
    ),
    "admin/applications/review/<path:object_id>/": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        REDIRECT,
        REDIRECT,
        REDIRECT,
    ),
    "admin/auth/group/<path:object_id>/": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        REDIRECT,
        REDIRECT,
        REDIRECT,
    ),
    "admin/auth/user/<path:object_id>/": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        REDIRECT,
        REDIRECT,
        REDIRECT,
    ),
    "admin/axes/accessattempt/<path:object_id>/": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        REDIRECT,
        REDIRECT,
        REDIRECT,
    ),
    "admin/axes/accessfailurelog/<path:object_id>/": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        REDIRECT,
        REDIRECT,
        REDIRECT,
    ),
    "admin/axes/accesslog/<path:object_id>/": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        REDIRECT,
        REDIRECT,
        REDIRECT,
    ),
    "admin/competitions/activitycategory/<path:object_id>/": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        REDIRECT,
        REDIRECT,
        REDIRECT,
    ),
    "admin/competitions/competition/<path:object_id>/": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        REDIRECT,
        REDIRECT,
        REDIRECT,
    ),
    "admin/competitions/jobrun/<path:object_id>/": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        REDIRECT,
        REDIRECT,
        REDIRECT,
    ),
    "admin/competitions/municipality/<path:object_id>/": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        REDIRECT,
        REDIRECT,
        REDIRECT,
    ),
    "admin/grants/grant/<path:object_id>/": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        REDIRECT,
        REDIRECT,
        REDIRECT,
    ),
    # The grants are the coordinators' only (municipal staff follow theirs in the portal).
    "admin:grants_grant_change": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200),
    "admin:grants_grant_delete": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:grants_grant_history": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 404, 404, 200),
    "admin/grants/planversion/<path:object_id>/": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        REDIRECT,
        REDIRECT,
        REDIRECT,
    ),
    # The grants are the coordinators' only (municipal staff follow theirs in the portal).
    "admin:grants_planversion_change": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200),
    "admin:grants_planversion_delete": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:grants_planversion_history": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 404, 404, 200),
    "admin/grants/agreement/<path:object_id>/": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        REDIRECT,
        REDIRECT,
        REDIRECT,
    ),
    # The grants are the coordinators' only (municipal staff follow theirs in the portal).
    "admin:grants_agreement_change": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200),
    "admin:grants_agreement_countersign": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200),
    "admin:grants_agreement_issue_again": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        403,
        403,
        REDIRECT,
    ),
    "admin:grants_agreement_delete": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:grants_agreement_history": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 404, 404, 200),
    "admin:app_list": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200, 200, 200),
    "admin:applications_allocationevent_change": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        403,
        403,
        200,
    ),
    "admin:applications_allocationevent_delete": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        403,
        403,
        403,
    ),
    "admin:applications_allocationevent_history": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        403,
        403,
        200,
    ),
    "admin:applications_application_change": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 404, 200, 200),
    "admin:applications_application_delete": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:applications_application_history": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        404,
        200,
        200,
    ),
    "admin:applications_application_issue_letter": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        403,
        403,
        REDIRECT,
    ),
    "admin:applications_application_review": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 404, 200, 403),
    "admin:applications_application_simple_history": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        404,
        200,
        200,
    ),
    "admin:applications_awardletter_change": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200),
    "admin:applications_awardletter_delete": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:applications_awardletter_history": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        403,
        403,
        200,
    ),
    "admin:applications_review_change": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 404, 200, 200),
    "admin:applications_review_delete": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:applications_review_history": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 404, 200, 200),
    "admin:auth_group_change": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:auth_group_delete": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:auth_group_history": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:auth_user_change": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:auth_user_delete": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:auth_user_history": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:auth_user_password_change": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:axes_accessattempt_change": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:axes_accessattempt_delete": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:axes_accessattempt_history": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:axes_accessfailurelog_change": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:axes_accessfailurelog_delete": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:axes_accessfailurelog_history": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:axes_accesslog_change": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:axes_accesslog_delete": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:axes_accesslog_history": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:competitions_activitycategory_change": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        403,
        403,
        200,
    ),
    "admin:competitions_activitycategory_delete": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        403,
        403,
        403,
    ),
    "admin:competitions_activitycategory_history": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        403,
        403,
        200,
    ),
    "admin:competitions_competition_allocation": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        403,
        403,
        200,
    ),
    "admin:competitions_competition_allocation_state": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        403,
        403,
        200,
    ),
    # The world's call is decided: the coordinator is sent back to its allocation screen.
    "admin:competitions_competition_decision": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        403,
        403,
        REDIRECT,
    ),
    "admin:competitions_competition_change": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 404, 200, 200),
    "admin:competitions_competition_issue_letters": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        403,
        403,
        REDIRECT,
    ),
    "admin:competitions_jobrun_change": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200),
    "admin:competitions_jobrun_delete": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:competitions_jobrun_history": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200),
    # A job's file (a call's export) goes to its starter, here the coordinator, alone.
    "admin:competitions_jobrun_download": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200),
    "admin:competitions_competition_delete": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:competitions_competition_export": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200),
    "admin:competitions_competition_history": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        404,
        200,
        200,
    ),
    "admin:competitions_competition_simple_history": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        404,
        200,
        200,
    ),
    "admin:competitions_municipality_change": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        403,
        403,
        200,
    ),
    "admin:competitions_municipality_delete": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        403,
        403,
        403,
    ),
    "admin:competitions_municipality_history": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        403,
        403,
        200,
    ),
    # The shortcut to an object's public address, tried on Smiltene's draft: nobody in the
    # admin sees a draft, so the shortcut does not confirm it exists.
    "admin:view_on_site": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 404, 404, 404),
    "applications:delete": (LOGIN, 200, 404, 404, 404, 404),
    "applications:detail": (LOGIN, 200, 404, 404, 404, 404),
    "applications:document_download": (LOGIN, 200, 404, 404, 200, 200),
    "applications:edit": (LOGIN, 200, 404, 404, 404, 404),
    "applications:letter_download": (LOGIN, 200, 404, 404, 200, 200),
    "applications:receipt": (LOGIN, 200, 404, 404, 404, 404),
    "applications:start": (LOGIN, REDIRECT, REDIRECT, 404, 404, 404),
    "applications:withdraw": (LOGIN, 200, 404, 404, 404, 404),
    # The grant's pages are its municipality's staff's; coordinators decide plans in the admin.
    "grants:detail": (LOGIN, 200, 404, 404, 404, 404),
    # Smiltene's plan is agreed and its agreement awaits signatures: the plan's form leads back
    # to the grant's page (tests/test_csrf_and_methods.py posts to a plan still being agreed).
    "grants:plan": (LOGIN, REDIRECT, 404, 404, 404, 404),
    "grants:decline": (LOGIN, 200, 404, 404, 404, 404),
    "admin:grants_planversion_approve": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200),
    "admin:grants_planversion_return": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200),
    "competitions:detail": (200, 200, 200, 200, 200, 200),
    "competitions:regulations": (200, 200, 200, 200, 200, 200),
    "results:detail": (200, 200, 200, 200, 200, 200),
    "results:csv": (200, 200, 200, 200, 200, 200),
    "password_reset_confirm": (200, 200, 200, 200, 200, 200),
    # The agreement's pages are the municipality's (its signatory here); coordinators work on
    # agreements in the admin, and download them as the staff do.
    "grants:agreement": (LOGIN, 200, 404, 404, 404, 404),
    "grants:agreement_accept": (LOGIN, 200, 404, 404, 404, 404),
    "grants:agreement_upload": (LOGIN, 200, 404, 404, 404, 404),
    "grants:agreement_download": (LOGIN, 200, 404, 404, 404, 200),
    # Reports are the municipality's; Smiltene's grant awaits its signatures, so the report's
    # form leads back to the grant's page (tests/test_csrf_and_methods.py posts to a grant in
    # progress). The evidence is downloaded by the coordinators too. The closing statement
    # exists only for a closed grant: none here.
    "grants:report": (LOGIN, REDIRECT, 404, 404, 404, 404),
    "grants:report_version": (LOGIN, 200, 404, 404, 404, 404),
    "grants:report_document": (LOGIN, 200, 404, 404, 404, 200),
    "grants:closing_statement": (LOGIN, 404, 404, 404, 404, 404),
    # Payments, the review of reports and the close are the coordinators' screens.
    "admin:grants_grant_pay": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200),
    "admin:grants_grant_close": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200),
    "admin/grants/payment/<path:object_id>/": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        REDIRECT,
        REDIRECT,
        REDIRECT,
    ),
    "admin:grants_payment_change": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200),
    "admin:grants_payment_delete": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:grants_payment_history": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 404, 404, 200),
    "admin:grants_payment_reverse": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200),
    "admin:grants_payment_register": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200),
    "admin/grants/report/<path:object_id>/": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        REDIRECT,
        REDIRECT,
        REDIRECT,
    ),
    # The thread: the municipality's staff on the portal, the region in the admin; the
    # attachments for whoever may read the application. Smiltene's thread has a request with
    # a file; Cēsis's staff have objected to their decision.
    "conversations:thread": (LOGIN, 200, 404, 404, 404, 404),
    # Posted empty: the page again, with the form's error.
    "conversations:write": (LOGIN, 200, 404, 404, 404, 404),
    "conversations:objection": (LOGIN, 200, 404, 404, 404, 404),
    "conversations:attachment": (LOGIN, 200, 404, 404, 200, 200),
    "admin:conversations_message_thread": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 404, 200, 200),
    "admin:conversations_message_write": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 404, 200, 200),
    # A message is read in its thread: its "change" page leads there; nobody deletes one.
    "admin:conversations_message_change": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        404,
        REDIRECT,
        REDIRECT,
    ),
    "admin:conversations_message_delete": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:conversations_message_history": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 404, 200, 200),
    "admin/conversations/message/<path:object_id>/": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        REDIRECT,
        REDIRECT,
        REDIRECT,
    ),
    # Objections are the coordinators'.
    "admin:conversations_objection_change": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        403,
        403,
        REDIRECT,
    ),
    "admin:conversations_objection_decide": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200),
    "admin:conversations_objection_delete": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:conversations_objection_history": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        404,
        403,
        200,
    ),
    "admin/conversations/objection/<path:object_id>/": (
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        REDIRECT,
        REDIRECT,
        REDIRECT,
    ),
    "admin:grants_report_change": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200),
    "admin:grants_report_delete": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 403),
    "admin:grants_report_history": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 404, 404, 200),
    "admin:grants_report_review": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200),
}


def parametrised_patterns() -> set[str]:
    return {key for key, _route, groups in url_patterns() if groups}


@dataclass
class World:
    users: dict
    decided: Competition
    open_call: Competition
    application: object  # Smiltene's, awarded, with a document and a letter
    draft: object  # Smiltene's draft in the open call
    document: object
    letter: object
    review: Review
    agreement: object  # Smiltene's, issued with its plan's approval, not yet signed
    report: object  # a draft report of Smiltene's grant, with a document
    report_document: object
    payment: object  # a ledger row of Smiltene's grant
    request: object  # the coordinator's request to Smiltene, with a file
    objection: object  # Cēsis's objection to its decision


@pytest.fixture
def world(settings):
    case = build_source_case(close=False)
    smiltene_user = case.staff["smiltenes-novads"]
    application = case.applications["smiltenes-novads"]
    document = document_of(application, by=smiltene_user)
    Competition.objects.filter(pk=case.competition.pk).update(
        closes_at=timezone.now() - timezone.timedelta(minutes=1),
        implementation_ends_on=timezone.localdate(),
        report_due_on=timezone.localdate(),
    )
    case.competition.refresh_from_db()
    case.competition.regulations.save("nolikums.pdf", ContentFile(PDF))
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    services.competition_decide(competition=case.competition, by=case.coordinator)
    application.refresh_from_db()
    letter = services.letter_issue(application=application, by=case.coordinator)
    # Smiltene's plan approved as submitted, which issues its agreement; its staff member is
    # the one the municipality names as authorised to sign.
    application.municipality.signatories.add(smiltene_user)
    plan = grant_services.plan_propose(
        version=application.grant.plan_versions.get(), by=smiltene_user
    )
    grant_services.plan_approve(version=plan, by=case.coordinator)

    open_call = CompetitionFactory()
    draft = services.application_start(
        competition=open_call,
        municipality=Municipality.objects.get(slug="smiltenes-novads"),
        by=smiltene_user,
    )
    services.application_save_draft(
        application=draft,
        by=smiltene_user,
        details=DETAILS,
        activities=activities_costing(Decimal("100"), category().pk),
        new_files=[SimpleUploadedFile("plans.pdf", PDF)],
    )
    unassigned = reviewer("reviewer-elsewhere")
    open_call.reviewers.add(unassigned)
    AccessAttempt.objects.create(username="x", ip_address="10.0.0.1", failures_since_start=1)
    AccessLog.objects.create(username="x", ip_address="10.0.0.1")
    AccessFailureLog.objects.create(username="x", ip_address="10.0.0.1")
    request = conversation_services.message_post(
        application=application,
        by=case.coordinator,
        body="Lūdzu pievienojiet 2. aktivitātes rēķinu.",
        files=[SimpleUploadedFile("veidne.pdf", PDF)],
        due_on=timezone.localdate() + timezone.timedelta(days=7),
    )
    cesis = case.applications["cesu-novads"]
    cesis.refresh_from_db()
    services.letter_issue(application=cesis, by=case.coordinator)
    objection = conversation_services.objection_lodge(
        application=cesis, by=case.staff["cesu-novads"], reasons="Vērtējums nav pamatots."
    )
    return World(
        users={
            "anonymous": None,
            "own_staff": smiltene_user,
            "other_staff": case.staff["valkas-novads"],
            "reviewer_unassigned": unassigned,
            "reviewer_assigned": case.reviewers[0],
            "coordinator": case.coordinator,
        },
        decided=case.competition,
        open_call=open_call,
        application=application,
        draft=draft,
        document=document,
        letter=letter,
        review=Review.objects.filter(application=application, reviewer=case.reviewers[0]).get(),
        agreement=Agreement.objects.get(grant=application.grant),
        **access_objects(application.grant, smiltene_user, case.coordinator),
        request=request,
        objection=objection,
    )


def access_objects(grant, staff, coordinator) -> dict:
    """A report with a document and a ledger row of a grant, written directly: the matrix
    tries who may reach them, not how they are made (tests/test_grants_settlement.py)."""
    report = Report.objects.create(
        grant=grant, kind="final", number=1, due_on=timezone.localdate(), created_by=staff
    )
    document = ReportDocument(
        report=report,
        original_name="rekins.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256="0" * 64,
        uploaded_by=staff,
        uploaded_at=timezone.now(),
    )
    document.file.save("rekins.pdf", ContentFile(PDF), save=False)
    document.save()
    payment = Payment.objects.create(
        grant=grant,
        kind="advance",
        amount=Decimal("1.00"),
        paid_on=timezone.localdate(),
        reference="MU-0",
        recorded_by=coordinator,
        recorded_at=timezone.now(),
    )
    return {"report": report, "report_document": document, "payment": payment}


def admin_url(name, *args):
    return reverse(f"admin:{name}", args=args)


def targets(world: World) -> dict[str, tuple[str, str]]:
    """Where each parametrised pattern is tried, and with which method."""
    w = world
    grant = w.application.grant
    history_id = w.application.history.order_by("history_id").first().history_id
    competition_history_id = w.decided.history.order_by("history_id").first().history_id
    objects = {
        "auth_group": Group.objects.get(name="Reviewers").pk,
        "auth_user": w.users["own_staff"].pk,
        "axes_accessattempt": AccessAttempt.objects.get().pk,
        "axes_accesslog": AccessLog.objects.get().pk,
        "axes_accessfailurelog": AccessFailureLog.objects.get().pk,
        "applications_awardletter": w.letter.pk,
        "applications_allocationevent": AllocationEvent.objects.filter(application=w.application)
        .first()
        .pk,
        "applications_application": w.application.pk,
        "applications_review": w.review.pk,
        "competitions_municipality": w.application.municipality_id,
        "competitions_activitycategory": ActivityCategory.objects.first().pk,
        "competitions_competition": w.decided.pk,
        "competitions_jobrun": (
            JobRun.objects.order_by("pk").first()
            or JobRun.objects.create(title="Vēstules", started_by=w.users["coordinator"])
        ).pk,
        "grants_grant": w.application.grant.pk,
        "grants_planversion": w.application.grant.plan_versions.get().pk,
        "grants_agreement": w.agreement.pk,
        "grants_payment": w.payment.pk,
        "grants_report": w.report.pk,
        "conversations_message": w.request.pk,
        "conversations_objection": w.objection.pk,
    }
    found = {}
    for model, pk in objects.items():
        app_label, model_name = model.split("_", 1)
        for view in ("history", "delete", "change"):
            found[f"admin:{model}_{view}"] = ("get", admin_url(f"{model}_{view}", pk))
        # The old-style address of an object's page, which redirects to its change page.
        found[f"admin/{app_label}/{model_name}/<path:object_id>/"] = (
            "get",
            f"/admin/{app_label}/{model_name}/{pk}/",
        )
    found.update(
        {
            "admin:applications_application_simple_history": (
                "get",
                admin_url("applications_application_simple_history", w.application.pk, history_id),
            ),
            "admin:competitions_competition_simple_history": (
                "get",
                admin_url(
                    "competitions_competition_simple_history", w.decided.pk, competition_history_id
                ),
            ),
            "password_reset_confirm": (
                "get",
                reverse("password_reset_confirm", kwargs={"uidb64": "MQ", "token": "abc-def"}),
            ),
            "admin:view_on_site": (
                "get",
                admin_url(
                    "view_on_site", ContentType.objects.get_for_model(w.draft).pk, w.draft.pk
                ),
            ),
            "admin:auth_user_password_change": (
                "get",
                admin_url("auth_user_password_change", w.users["own_staff"].pk),
            ),
            "admin:applications_application_review": (
                "get",
                admin_url("applications_application_review", w.application.pk),
            ),
            "admin:applications_application_issue_letter": (
                "post",
                admin_url("applications_application_issue_letter", w.application.pk, "lv"),
            ),
            "admin:competitions_competition_allocation": (
                "get",
                admin_url("competitions_competition_allocation", w.decided.pk),
            ),
            "admin:competitions_competition_allocation_state": (
                "get",
                admin_url("competitions_competition_allocation_state", w.decided.pk),
            ),
            "admin:competitions_competition_decision": (
                "get",
                admin_url("competitions_competition_decision", w.decided.pk),
            ),
            "admin:competitions_competition_issue_letters": (
                "post",
                admin_url("competitions_competition_issue_letters", w.decided.pk, "lv"),
            ),
            "admin:competitions_competition_export": (
                "get",
                admin_url("competitions_competition_export", w.decided.pk, "csv"),
            ),
            "admin:competitions_jobrun_download": (
                "get",
                admin_url("competitions_jobrun_download", export_job(w).pk),
            ),
            "admin:app_list": (
                "get",
                reverse("admin:app_list", kwargs={"app_label": "applications"}),
            ),
            "admin/(?P<url>.*)$": ("get", "/admin/nothing-here/"),
            "grants:detail": ("get", reverse("grants:detail", args=[w.application.grant.pk])),
            "grants:plan": ("get", reverse("grants:plan", args=[w.application.grant.pk])),
            "grants:decline": ("get", reverse("grants:decline", args=[w.application.grant.pk])),
            "admin:grants_planversion_approve": (
                "get",
                admin_url("grants_planversion_approve", objects["grants_planversion"]),
            ),
            "admin:grants_planversion_return": (
                "get",
                admin_url("grants_planversion_return", objects["grants_planversion"]),
            ),
            "competitions:detail": ("get", reverse("competitions:detail", args=[w.decided.slug])),
            "competitions:regulations": (
                "get",
                reverse("competitions:regulations", args=[w.decided.slug]),
            ),
            "results:detail": ("get", reverse("results:detail", args=[w.decided.slug])),
            "results:csv": (
                "get",
                reverse("results:csv", args=[w.decided.slug]),
            ),
            "applications:start": ("post", reverse("applications:start", args=[w.open_call.slug])),
            "applications:detail": ("get", reverse("applications:detail", args=[w.application.pk])),
            "applications:receipt": (
                "get",
                reverse("applications:receipt", args=[w.application.pk]),
            ),
            "applications:withdraw": (
                "get",
                reverse("applications:withdraw", args=[w.application.pk]),
            ),
            "applications:edit": ("get", reverse("applications:edit", args=[w.draft.pk])),
            "applications:delete": ("get", reverse("applications:delete", args=[w.draft.pk])),
            "applications:document_download": (
                "get",
                reverse("applications:document_download", args=[w.application.pk, w.document.pk]),
            ),
            "applications:letter_download": (
                "get",
                reverse("applications:letter_download", args=[w.application.pk, w.letter.pk]),
            ),
            "grants:agreement": ("get", reverse("grants:agreement", args=[grant.pk])),
            "grants:agreement_accept": ("get", reverse("grants:agreement_accept", args=[grant.pk])),
            # Without a file: the staff's page answers with the form's error, nothing changes.
            "grants:agreement_upload": (
                "post",
                reverse("grants:agreement_upload", args=[grant.pk]),
            ),
            "grants:agreement_download": (
                "get",
                reverse("grants:agreement_download", args=[grant.pk, w.agreement.pk, "pdf"]),
            ),
            "admin:grants_agreement_countersign": (
                "get",
                admin_url("grants_agreement_countersign", w.agreement.pk),
            ),
            "admin:grants_agreement_issue_again": (
                "post",
                admin_url("grants_agreement_issue_again", w.agreement.pk, "en"),
            ),
            "grants:report": ("get", reverse("grants:report", args=[grant.pk, "final"])),
            "grants:report_version": (
                "get",
                reverse("grants:report_version", args=[grant.pk, w.report.pk]),
            ),
            "grants:report_document": (
                "get",
                reverse("grants:report_document", args=[grant.pk, w.report_document.pk]),
            ),
            "grants:closing_statement": (
                "get",
                reverse("grants:closing_statement", args=[grant.pk, "lv"]),
            ),
            "admin:grants_grant_pay": ("get", admin_url("grants_grant_pay", grant.pk)),
            "admin:grants_grant_close": ("get", admin_url("grants_grant_close", grant.pk)),
            "admin:grants_payment_reverse": (
                "get",
                admin_url("grants_payment_reverse", w.payment.pk),
            ),
            "admin:grants_payment_register": (
                "get",
                admin_url("grants_payment_register", w.decided.pk, "csv"),
            ),
            "admin:grants_report_review": ("get", admin_url("grants_report_review", w.report.pk)),
            "conversations:thread": (
                "get",
                reverse("conversations:thread", args=[w.application.pk]),
            ),
            "conversations:write": (
                "post",
                reverse("conversations:write", args=[w.application.pk]),
            ),
            "conversations:objection": (
                "get",
                reverse("conversations:objection", args=[w.application.pk]),
            ),
            "conversations:attachment": (
                "get",
                reverse(
                    "conversations:attachment",
                    args=[w.application.pk, w.request.attachments.get().pk],
                ),
            ),
            "admin:conversations_message_thread": (
                "get",
                admin_url("conversations_message_thread", w.application.pk),
            ),
            "admin:conversations_message_write": (
                "post",
                admin_url("conversations_message_write", w.application.pk),
            ),
            "admin:conversations_objection_decide": (
                "get",
                admin_url("conversations_objection_decide", w.objection.pk),
            ),
        }
    )
    return found


def outcome(response) -> str | int:
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith(reverse("admin:login")):
            return ADMIN_LOGIN
        if location.startswith(reverse("login")):
            return LOGIN
        return REDIRECT
    return response.status_code


def export_job(w: World) -> JobRun:
    """A finished export of the decided call, started by the coordinator, with its file."""
    job = JobRun.objects.create(
        title="Eksports",
        started_by=w.users["coordinator"],
        status=JobRun.Status.DONE,
        total=10,
        done=10,
        finished_at=timezone.now(),
    )
    job.file.save(f"{w.decided.slug}-applications.csv", ContentFile(b"\xef\xbb\xbfVieta\r\n"))
    return job


def observe(world: World) -> dict[str, dict[str, str | int]]:
    found = targets(world)
    table = {}
    for role in ROLES:
        client = Client()
        if world.users[role] is not None:
            client.force_login(world.users[role])
        for key, (method, url) in found.items():
            response = getattr(client, method)(url)
            table.setdefault(key, {})[role] = outcome(response)
            if response.streaming:
                # Read to the end, which closes the file as a WSGI server would. (Calling
                # close() again would also close the test's database connection.)
                b"".join(response.streaming_content)
    return table


def test_every_url_that_takes_an_id_or_a_slug_is_in_the_matrix():
    assert parametrised_patterns() - set(EXPECTED) == set(), "add the new URL to EXPECTED"
    assert set(EXPECTED) - parametrised_patterns() == set(), "a URL in EXPECTED no longer exists"


def test_every_role_gets_exactly_what_it_may(world):
    observed = observe(world)
    assert set(observed) == set(EXPECTED), "targets() must try every pattern of EXPECTED"
    wrong = {
        key: {
            role: (got, want)
            for role, got, want in zip(ROLES, map(cells.get, ROLES), EXPECTED[key], strict=True)
            if got != want
        }
        for key, cells in observed.items()
    }
    assert {key: cells for key, cells in wrong.items() if cells} == {}


def test_the_admins_view_on_site_shortcut_answers_only_for_objects_the_user_sees(world):
    """``/admin/r/<type>/<id>/`` redirects to an object's public address only when the admin
    of its model shows the object to the user; otherwise 404, as its change page would."""
    unpublished = CompetitionFactory(status=Competition.Status.DRAFT)

    def shortcut(obj):
        return admin_url("view_on_site", ContentType.objects.get_for_model(obj).pk, obj.pk)

    tried = {
        "decided call": shortcut(world.decided),
        "unpublished call": shortcut(unpublished),
        "draft": shortcut(world.draft),
        "submitted application": shortcut(world.application),
        "no such type": admin_url("view_on_site", 999999, 1),
    }
    expected = {
        # decided call, unpublished call, draft, submitted application, no such type
        "reviewer_unassigned": (404, 404, 404, 404, 404),
        "reviewer_assigned": (REDIRECT, 404, 404, REDIRECT, 404),
        "coordinator": (REDIRECT, REDIRECT, 404, REDIRECT, 404),
    }
    for role, outcomes in expected.items():
        client = Client()
        client.force_login(world.users[role])
        got = tuple(outcome(client.get(url)) for url in tried.values())
        assert got == outcomes, role


#: The pages of one's own second factor take no id: each acts on the signed-in user alone.
#: (anonymous, own staff, other staff, reviewer not assigned, reviewer assigned, coordinator)
OWN_ACCOUNT = {
    "two_factor_enrol": (LOGIN, 200, 200, 200, 200, 200),
    # Nobody here has a device yet: the code page sends them to enrolment.
    "two_factor_verify": (LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
}


def test_the_two_factor_pages_answer_each_role_for_its_own_account(world):
    observed = {}
    for role in ROLES:
        client = Client()
        if world.users[role] is not None:
            client.force_login(world.users[role])
        for key in OWN_ACCOUNT:
            observed.setdefault(key, []).append(outcome(client.get(reverse(key))))
    assert {key: tuple(cells) for key, cells in observed.items()} == OWN_ACCOUNT


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_the_health_probes_answer_everyone_and_take_no_parameter(world, path):
    """The load balancer's probes are public, as the home page is, and name nothing of
    anyone's: every role, signed in or not, gets the same 200."""
    for role in ROLES:
        client = Client()
        if world.users[role] is not None:
            client.force_login(world.users[role])
        assert client.get(path).status_code == 200, role
