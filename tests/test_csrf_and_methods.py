"""Every view that changes something refuses to do it on a GET, and refuses a POST without a
CSRF token, leaving the database as it was.

What must be covered is derived, not listed from memory: the URL patterns come from walking
the resolver (as in ``test_authorization_matrix``), and the admin's add, change and delete
pages and its actions from the admin registry, for whatever its permission methods let the
most powerful user do. A pattern that is neither an endpoint here nor known to only read
fails the test, and so does an admin model without an object to try; the patterns said to
only read are checked too: a POST to them, with its token, changes nothing.

Each endpoint is also posted once with its token, in a savepoint that is rolled back: the
post must then change something, which shows that the refusals are the CSRF check's and not
an answer the endpoint would have given anyway.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from axes.models import AccessAttempt
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from applications.models import AllocationEvent, PlannedActivity
from competitions.models import ActivityCategory, Competition, JobRun, Municipality
from grants import services as grant_services
from grants import settlement
from grants.services import PlanLineData

from .factories import PDF, CompetitionFactory, UserFactory, grant_in_progress
from .source_case import build_source_case
from .test_admin_calls import call_form
from .test_agreements import signed_pdf, stored
from .test_authorization_matrix import targets, url_patterns
from .test_authorization_matrix import world as matrix_world  # noqa: F401 - the fixture
from .test_grants_settlement import submitted as submitted_report

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a much longer new password 42"


# --- what the database holds ------------------------------------------------------------------


def state():
    """Every row of every table (sessions by their keys), and the mail sent."""
    tables = {}
    for model in apps.get_models():
        if model is Session:
            tables["sessions"] = sorted(Session.objects.values_list("session_key", flat=True))
            continue
        columns = [column.attname for column in model._meta.concrete_fields]
        tables[model._meta.label] = sorted(
            model._base_manager.values_list(*columns).order_by(), key=repr
        )
    return tables, len(mail.outbox)


def changed(before, after) -> list[str]:
    tables = [name for name in before[0] if before[0][name] != after[0].get(name)]
    return tables + (["mail"] if before[1] != after[1] else [])


# --- the world --------------------------------------------------------------------------------


@dataclass
class World:
    users: dict
    urls: dict  # what test_authorization_matrix tries for each parametrised pattern
    objects: dict  # per admin model, the object its change and delete pages and actions get
    decided: Competition
    pending: object  # the source case, closed and not decided yet
    spare: Competition  # a draft call with nothing in it
    open_call: Competition
    application: object  # awarded, with a letter
    draft: object
    accepted: object  # Valka's agreement, accepted by its signatory, awaiting countersigning
    proposed: object  # Gulbene's plan, proposed to the coordinator
    agreeing: object  # Valmiera's grant, its plan still a draft; Smiltene's staff act for it too
    progress: object  # a grant in progress (another call), its advance paid; Smiltene's staff too
    advance: object
    reviewed: object  # a grant whose final report awaits the coordinator
    settled: object  # a grant whose final report is accepted and settled: ready to close
    request: object  # the coordinator's open request to Smiltene
    objection: object  # Cēsis's objection, awaiting its outcome


@pytest.fixture
def world(matrix_world):  # noqa: F811
    w = matrix_world
    pending = build_source_case()
    spare = CompetitionFactory(status=Competition.Status.DRAFT, published_at=None)
    spare.reviewers.add(w.users["reviewer_unassigned"])  # ready to publish
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    valka = w.users["other_staff"]
    valka.signatory_of.add(valka.municipalities.get())
    valka_grant = w.decided.applications.get(municipality__slug="valkas-novads").grant
    plan = grant_services.plan_propose(version=valka_grant.plan_versions.get(), by=valka)
    grant_services.plan_approve(version=plan, by=w.users["coordinator"])
    accepted = valka_grant.agreements.get()
    grant_services.agreement_accept(
        agreement=accepted, by=valka, sha256=accepted.sha256, client_address="192.0.2.1"
    )
    used = PlannedActivity.objects.values("category")
    objects = {
        "auth.Group": w.users["own_staff"].groups.get(),
        # Not the staff member: a user who proposed a plan cannot be deleted (the plan keeps
        # who proposed it), and deleting must be seen to change something.
        "auth.User": UserFactory(username="leaving"),
        "axes.AccessAttempt": AccessAttempt.objects.get(),
        "axes.AccessLog": apps.get_model("axes.AccessLog").objects.get(),
        "axes.AccessFailureLog": apps.get_model("axes.AccessFailureLog").objects.get(),
        "applications.AwardLetter": w.letter,
        "applications.AllocationEvent": AllocationEvent.objects.filter(application=w.application)
        .order_by("pk")
        .first(),
        "applications.Application": w.application,
        "applications.Review": w.review,
        "competitions.Municipality": Municipality.objects.get(slug="cesvaines-novads"),
        "competitions.ActivityCategory": ActivityCategory.objects.exclude(pk__in=used).first(),
        "competitions.Competition": spare,
        "competitions.JobRun": JobRun.objects.create(
            title="Vēstules", started_by=w.users["coordinator"]
        ),
        "grants.Grant": w.application.grant,
        "grants.PlanVersion": w.application.grant.plan_versions.get(),
        "grants.Agreement": w.agreement,
        "grants.Payment": w.payment,
        "grants.Report": w.report,
        "conversations.Message": w.request,
        "conversations.Objection": w.objection,
    }
    coordinator = w.users["coordinator"]
    progress = grant_in_progress("apes-novads", by=coordinator)
    progress.municipality.staff.add(w.users["own_staff"])
    advance = settlement.payment_record(
        grant=progress,
        by=coordinator,
        kind="advance",
        amount=Decimal("100.00"),
        paid_on=timezone.localdate(),
        reference="MU-1",
    )
    reviewed = grant_in_progress("amatas-novads", by=coordinator)
    submitted_report(reviewed, reviewed.municipality.staff.get(), ["3000", "2000"])
    settled = grant_in_progress("aluksnes-novads", by=coordinator)
    settlement.report_accept(
        report=submitted_report(settled, settled.municipality.staff.get(), ["0", "0"]),
        by=coordinator,
    )
    gulbene = w.decided.applications.get(municipality__slug="gulbenes-novads").grant
    staff = UserFactory(username="gulbene")
    gulbene.municipality.staff.add(staff)
    draft = gulbene.plan_versions.get()
    lines = [
        PlanLineData(key=line.key, category=line.category, title=line.title, cost=line.cost)
        for line in draft.lines.all()
    ]
    if draft.total > gulbene.application.awarded_amount:
        lines = [replace(lines[0], cost=gulbene.application.awarded_amount)]
    draft = grant_services.plan_save_draft(grant=gulbene, by=staff, lines=lines)
    proposed = grant_services.plan_propose(version=draft, by=staff)
    agreeing = w.decided.applications.get(municipality__slug="valmieras-pilseta").grant
    agreeing.municipality.staff.add(w.users["own_staff"])
    return World(
        users={**w.users, "superuser": superuser},
        urls=targets(w),
        objects=objects,
        decided=w.decided,
        pending=pending,
        spare=spare,
        open_call=w.open_call,
        application=w.application,
        draft=w.draft,
        accepted=accepted,
        proposed=proposed,
        agreeing=agreeing,
        progress=progress,
        advance=advance,
        reviewed=reviewed,
        settled=settled,
        request=w.request,
        objection=w.objection,
    )


# --- the endpoints ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    pattern: str  # the URL pattern, named as test_authorization_matrix names it
    role: str
    url: str
    data: dict = field(default_factory=dict)
    #: The id of the page's form whose fields a browser sends along (overridden by ``data``).
    form: str | None = None
    #: A page the browser opens first: the form's page, or a link that sets up the session
    #: (made when it is opened: a password reset link lasts until the user's next login).
    visit: Callable[[], str] | None = None
    post_only: bool = False  # a GET answers 405
    label: str = ""  # tells apart two endpoints of one pattern

    @property
    def key(self) -> str:
        return " ".join(filter(None, [self.pattern, self.data.get("action"), self.label]))


def admin_endpoints(w: World) -> list[Endpoint]:
    """The admin's add, change and delete pages and its actions, for every registered model,
    as far as its admin lets anybody use them: tried by a superuser, who may all that anybody
    may."""
    request = RequestFactory().get("/")
    request.user = w.users["superuser"]
    found = []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        name = f"admin:{opts.app_label}_{opts.model_name}"
        target = w.objects[opts.label]
        form = f"{opts.model_name}_form"
        if model_admin.has_add_permission(request):
            found.append(
                Endpoint(
                    f"{name}_add", "superuser", reverse(f"{name}_add"), added(opts.label), form
                )
            )
        if model_admin.has_change_permission(request, target):
            change = reverse(f"{name}_change", args=[target.pk])
            found.append(Endpoint(f"{name}_change", "superuser", change, {}, form))
        if model_admin.has_delete_permission(request, target):
            delete = reverse(f"{name}_delete", args=[target.pk])
            found.append(Endpoint(f"{name}_delete", "superuser", delete, {"post": "yes"}))
        for action in model_admin.get_actions(request):
            data = {"action": action, ACTION_CHECKBOX_NAME: [target.pk], "post": "yes"}
            found.append(
                Endpoint(f"{name}_changelist", "superuser", reverse(f"{name}_changelist"), data)
            )
    return found


def added(label: str) -> dict:
    """What an add page needs besides what its form holds."""
    return {
        "auth.Group": {"name": "Pārbaudītāji"},
        "auth.User": {"username": "jauns", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        "competitions.Municipality": {"name": "Jaunais novads", "slug": "jaunais-novads"},
        "competitions.ActivityCategory": {
            "code": "new-kind",
            "name_lv": "Jauns veids",
            "name_en": "A new kind",
            "order": "9",
        },
        "competitions.Competition": call_form(),
    }.get(label, {})


def project_endpoints(w: World) -> list[Endpoint]:
    """The portal's and the project's own admin views, each by the role that uses it."""
    own = w.users["own_staff"]
    grant = w.application.grant
    agreement = grant.agreements.current().get()
    pending_smiltene = w.pending.applications["smiltenes-novads"]
    pending_valka = w.pending.applications["valkas-novads"]
    uid = urlsafe_base64_encode(force_bytes(own.pk))
    allocation = reverse(
        "admin:competitions_competition_allocation", args=[w.pending.competition.pk]
    )
    calls = reverse("admin:competitions_competition_changelist")
    decision = reverse("admin:competitions_competition_decision", args=[w.pending.competition.pk])
    new_password = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    return [
        # The portal.
        Endpoint(
            "login", "anonymous", reverse("login"), {"username": own.username, "password": PASSWORD}
        ),
        Endpoint("logout", "own_staff", reverse("logout"), post_only=True),
        Endpoint(
            "password_change",
            "own_staff",
            reverse("password_change"),
            {"old_password": PASSWORD, **new_password},
        ),
        Endpoint("password_reset", "anonymous", reverse("password_reset"), {"email": own.email}),
        Endpoint(
            "password_reset_confirm",
            "anonymous",
            reverse("password_reset_confirm", args=[uid, "set-password"]),
            new_password,
            # The mailed link puts its token in the session and sends the browser on.
            visit=lambda: reverse(
                "password_reset_confirm", args=[uid, default_token_generator.make_token(own)]
            ),
        ),
        Endpoint(
            "applications:start",
            "other_staff",
            reverse("applications:start", args=[w.open_call.slug]),
            post_only=True,
        ),
        Endpoint(
            "applications:edit",
            "own_staff",
            reverse("applications:edit", args=[w.draft.pk]),
            {"contact_name": "Cits kontakts", "action": "save"},
            form="application-form",
        ),
        Endpoint(
            "applications:edit",
            "own_staff",
            reverse("applications:edit", args=[w.draft.pk]),
            {"contact_name": "Cits kontakts", "action": "submit"},
            form="application-form",
        ),
        Endpoint(
            "applications:withdraw",
            "own_staff",
            reverse("applications:withdraw", args=[pending_smiltene.pk]),
        ),
        Endpoint(
            "applications:delete", "own_staff", reverse("applications:delete", args=[w.draft.pk])
        ),
        # A grant's plan, and its award declined.
        Endpoint(
            "grants:plan",
            "own_staff",
            reverse("grants:plan", args=[w.agreeing.pk]),
            {"lines-0-title": "Cits nosaukums", "action": "save"},
            form="plan-form",
        ),
        Endpoint(
            "grants:plan",
            "own_staff",
            reverse("grants:plan", args=[w.agreeing.pk]),
            {"action": "propose"},
            form="plan-form",
        ),
        Endpoint(
            "grants:decline",
            "own_staff",
            reverse("grants:decline", args=[w.application.grant.pk]),
            {"reason": "Dome nolēma projektu neīstenot."},
            form="decline-form",
        ),
        # The thread: the municipality answers the request with a file, and objects to a
        # decision; the coordinator asks, and records an objection's outcome.
        Endpoint(
            "conversations:write",
            "own_staff",
            reverse("conversations:write", args=[w.application.pk]),
            {
                "body": "Pievienojam rēķinu.",
                "answer_to": str(w.request.pk),
                "files": SimpleUploadedFile("rekins.pdf", PDF),
            },
            form="message-form",
            visit=lambda: reverse("conversations:thread", args=[w.application.pk]),
            post_only=True,
        ),
        Endpoint(
            "conversations:objection",
            "own_staff",
            reverse("conversations:objection", args=[w.application.pk]),
            {"reasons": "Lēmums nav pamatots."},
            form="objection-form",
        ),
        Endpoint(
            "admin:conversations_message_write",
            "coordinator",
            reverse("admin:conversations_message_write", args=[w.application.pk]),
            {
                "body": "Lūdzu precizējiet.",
                "is_request": "on",
                "due_on": (timezone.localdate() + timedelta(days=3)).isoformat(),
            },
            form="message-form",
            visit=lambda: reverse("admin:conversations_message_thread", args=[w.application.pk]),
            post_only=True,
        ),
        Endpoint(
            "admin:conversations_objection_decide",
            "coordinator",
            reverse("admin:conversations_objection_decide", args=[w.objection.pk]),
            {
                "outcome": "rejected",
                "reply": "Vērtējums atbilst nolikumam.",
                "document": SimpleUploadedFile("atbilde.pdf", PDF),
            },
            form="decide-form",
        ),
        # The admin's own pages.
        Endpoint(
            "admin:login",
            "anonymous",
            reverse("admin:login"),
            {"username": w.users["coordinator"].username, "password": PASSWORD, "next": "/admin/"},
        ),
        Endpoint("admin:logout", "coordinator", reverse("admin:logout"), post_only=True),
        Endpoint(
            "admin:password_change",
            "coordinator",
            reverse("admin:password_change"),
            {"old_password": PASSWORD, **new_password},
        ),
        Endpoint(
            "admin:auth_user_password_change",
            "superuser",
            reverse("admin:auth_user_password_change", args=[own.pk]),
            {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
            form="user_form",
        ),
        # Calls: adding one, changing one, publishing, allocating, deciding.
        Endpoint(
            "admin:competitions_competition_add",
            "coordinator",
            reverse("admin:competitions_competition_add"),
            call_form(),
        ),
        Endpoint(
            "admin:competitions_competition_change",
            "coordinator",
            reverse("admin:competitions_competition_change", args=[w.decided.pk]),
            call_form(w.decided, title_lv="Cits nosaukums"),
        ),
        Endpoint(
            "admin:competitions_competition_changelist",
            "coordinator",
            calls,
            {"action": "publish", ACTION_CHECKBOX_NAME: [w.spare.pk]},
        ),
        Endpoint(
            "admin:competitions_competition_allocation",
            "coordinator",
            allocation,
            {"application": pending_valka.pk, "amount": "1 000", "reason": "Labojums"},
            label="(one row's awarded amount)",
        ),
        Endpoint(
            "admin:competitions_competition_allocation",
            "coordinator",
            allocation,
            {"apply_proposal": "1"},
            form="apply-proposal",
            label="(the proposal)",
        ),
        Endpoint(
            "admin:competitions_competition_decision",
            "coordinator",
            decision,
            {f"reason-{pending_valka.pk}": "Aktivitātes nav pamatotas.", "save_reasons": "1"},
            label="(a page's reasons)",
        ),
        Endpoint(
            "admin:competitions_competition_decision",
            "coordinator",
            decision,
            {"default-pool_exhausted": "Finansējums ir sadalīts.", "decide": "1"},
            form="record-decision",
            label="(the decision)",
        ),
        # A proposed plan approved, or returned with a comment.
        Endpoint(
            "admin:grants_planversion_approve",
            "coordinator",
            reverse("admin:grants_planversion_approve", args=[w.proposed.pk]),
            form="approve-form",
        ),
        Endpoint(
            "admin:grants_planversion_return",
            "coordinator",
            reverse("admin:grants_planversion_return", args=[w.proposed.pk]),
            {"comment": "Precizējiet vizīšu izmaksas."},
            form="return-form",
        ),
        # Reviews and letters.
        Endpoint(
            "admin:applications_application_review",
            "reviewer_assigned",
            reverse("admin:applications_application_review", args=[pending_smiltene.pk]),
            {"comment": "Mainīts vērtējums"},
            form="review-form",
        ),
        Endpoint(
            "admin:competitions_competition_issue_letters",
            "coordinator",
            reverse("admin:competitions_competition_issue_letters", args=[w.decided.pk, "lv"]),
            post_only=True,
        ),
        # The export: a GET downloads it (or, past EXPORT_INLINE_MAX_ROWS, offers the job);
        # a POST starts the job that builds it.
        Endpoint(
            "admin:competitions_competition_export",
            "coordinator",
            reverse("admin:competitions_competition_export", args=[w.decided.pk, "csv"]),
        ),
        Endpoint(
            "admin:applications_application_issue_letter",
            "coordinator",
            reverse("admin:applications_application_issue_letter", args=[w.application.pk, "lv"]),
            post_only=True,
        ),
        Endpoint(
            "admin:applications_application_changelist",
            "coordinator",
            reverse("admin:applications_application_changelist"),
            {
                "action": "issue_letters",
                ACTION_CHECKBOX_NAME: [
                    w.decided.applications.get(municipality__slug="valkas-novads").pk
                ],
            },
        ),
        # The agreement: the municipality's signatory accepts it or uploads it signed; the
        # coordinator countersigns it or issues it again.
        Endpoint(
            "grants:agreement_accept",
            "own_staff",
            reverse("grants:agreement_accept", args=[grant.pk]),
            form="accept-form",
        ),
        Endpoint(
            "grants:agreement_upload",
            "own_staff",
            reverse("grants:agreement_upload", args=[grant.pk]),
            {"file": SimpleUploadedFile("ligums.pdf", signed_pdf(stored(agreement)))},
            post_only=True,
        ),
        Endpoint(
            "admin:grants_agreement_countersign",
            "coordinator",
            reverse("admin:grants_agreement_countersign", args=[w.accepted.pk]),
            form="countersign-form",
        ),
        Endpoint(
            "admin:grants_agreement_issue_again",
            "coordinator",
            reverse("admin:grants_agreement_issue_again", args=[agreement.pk, "en"]),
            post_only=True,
        ),
        # Reports: a draft saved, a report submitted; the coordinator records and reverses a
        # payment, accepts or returns a report, and closes a settled grant.
        Endpoint(
            "grants:report",
            "own_staff",
            reverse("grants:report", args=[w.progress.pk, "final"]),
            {"action": "save", "summary": "Paveikts"},
            form="report-form",
        ),
        Endpoint(
            "grants:report",
            "own_staff",
            reverse("grants:report", args=[w.progress.pk, "final"]),
            {"action": "submit"},
            form="report-form",
        ),
        Endpoint(
            "admin:grants_grant_pay",
            "coordinator",
            reverse("admin:grants_grant_pay", args=[w.progress.pk]),
            {"kind": "advance", "amount": "100", "reference": "MU-2"},
            form="payment-form",
        ),
        Endpoint(
            "admin:grants_payment_reverse",
            "coordinator",
            reverse("admin:grants_payment_reverse", args=[w.advance.pk]),
            {"reference": "KOR-1", "note": "Nepareiza summa"},
            form="reverse-form",
        ),
        Endpoint(
            "admin:grants_report_review",
            "coordinator",
            reverse("admin:grants_report_review", args=[w.reviewed.reports.get().pk]),
            {"action": "accept"},
            form="review-form",
        ),
        Endpoint(
            "admin:grants_report_review",
            "coordinator",
            reverse("admin:grants_report_review", args=[w.reviewed.reports.get().pk]),
            {"action": "return", "comment": "Pievienojiet rēķinu."},
            form="review-form",
        ),
        Endpoint(
            "admin:grants_grant_close",
            "coordinator",
            reverse("admin:grants_grant_close", args=[w.settled.pk]),
            form="close-form",
        ),
        # Two-factor authentication: enrolment confirmed with the code of the secret it shows,
        # and a login's code. The verify endpoint gives the coordinator a device, after which
        # each login of theirs owes a code: it stays last.
        Endpoint(
            "two_factor_enrol",
            "own_staff",
            reverse("two_factor_enrol"),
            {"code": f"{totp(TWO_FACTOR_KEY):06d}"},
            visit=lambda: _with_device(own, confirmed=False, url=reverse("two_factor_enrol")),
        ),
        Endpoint(
            "two_factor_verify",
            "coordinator",
            reverse("two_factor_verify"),
            {"code": f"{totp(TWO_FACTOR_KEY):06d}"},
            visit=lambda: _with_device(
                w.users["coordinator"], confirmed=True, url=reverse("two_factor_verify")
            ),
        ),
    ]


TWO_FACTOR_KEY = bytes(range(20))


def _with_device(user, *, confirmed: bool, url: str) -> str:
    """Give ``user`` an authenticator device of the known key (a wide tolerance, so that the
    code worked out when the endpoints were listed still holds), and the page to open."""
    TOTPDevice.objects.update_or_create(
        user=user,
        confirmed=confirmed,
        defaults={"name": "TOTP", "key": TWO_FACTOR_KEY.hex(), "tolerance": 20, "last_t": -1},
    )
    return url


def _expire_the_login_attempts():
    # django-axes clears expired attempts at every login, the test's own included; age them
    # once the browser is signed in, so that the action has something to clean.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(days=1))


#: What must hold just before an endpoint is posted to, beyond the world.
ARRANGE = {
    "admin:axes_accessattempt_changelist cleanup_expired_attempts": _expire_the_login_attempts,
}


def endpoints(w: World) -> dict[str, Endpoint]:
    """Every state-changing endpoint; the project's own entry wins over the derived one."""
    return {e.key: e for e in [*admin_endpoints(w), *project_endpoints(w)]}


#: Patterns that only read, with the reason. The admin's history pages, and the add, change
#: and delete pages and lists of models whose admin lets nobody change anything, are derived.
READ_ONLY = {
    "healthz": "the load balancer's probe",
    "readyz": "the load balancer's probe",
    "home": "a page",
    "accessibility": "a page",
    "password_change_done": "a page",
    "password_reset_done": "a page",
    "password_reset_complete": "a page",
    "admin:index": "a page",
    "admin:password_change_done": "a page (the change logs out, so nobody is sent here)",
    "admin:autocomplete": "JSON for the admin's select boxes",
    "admin:jsi18n": "the admin's JavaScript catalogue",
    "admin:view_on_site": "a redirect",
    "admin:app_list": "a page",
    "admin/(?P<url>.*)$": "the admin's catch-all 404",
    "admin:applications_application_simple_history": "a past version, shown (a POST is 405)",
    "admin:competitions_competition_simple_history": "a past version, shown (a POST is 405)",
    "admin:competitions_competition_allocation_state": "the pool's figures as JSON",
    "admin:competitions_jobrun_download": "a download",
    "competitions:detail": "a page",
    "competitions:regulations": "a download",
    "results:detail": "a page",
    "results:csv": "a download",
    "applications:dashboard": "a page",
    "grants:list": "a page",
    "grants:detail": "a page",
    "applications:detail": "a page",
    "applications:receipt": "a page",
    "applications:document_download": "a download",
    "applications:letter_download": "a download",
    "grants:agreement": "a page",
    "grants:agreement_download": "a download",
    "grants:report_version": "a page",
    "grants:report_document": "a download",
    "grants:closing_statement": "a download",
    "admin:grants_payment_register": "a download",
    "conversations:thread": "a page (opening it records who read the messages, on a GET)",
    "conversations:attachment": "a download",
    "admin:conversations_message_thread": "a page (opening it records who read, on a GET)",
}


def read_only(w: World) -> dict[str, str]:
    """Every pattern that only reads, with the URL it is tried at."""
    known = set(READ_ONLY)
    request = RequestFactory().get("/")
    request.user = w.users["superuser"]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        name = f"admin:{opts.app_label}_{opts.model_name}"
        target = w.objects[opts.label]
        known |= {f"{name}_history", f"admin/{opts.app_label}/{opts.model_name}/<path:object_id>/"}
        if not model_admin.has_add_permission(request):
            known.add(f"{name}_add")
        if not model_admin.has_change_permission(request, target):
            known.add(f"{name}_change")
        if not model_admin.has_delete_permission(request, target):
            known.add(f"{name}_delete")
        if not model_admin.get_actions(request):
            known.add(f"{name}_changelist")
    return {key: w.urls[key][1] if key in w.urls else reverse(key) for key in known}


# --- a browser ----------------------------------------------------------------------------------


class _FormReader(HTMLParser):
    """What a browser would send for the form with a given id, left as the page shows it."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.found = False
        self.fields: list[tuple[str, str]] = []
        self.select: tuple[str, bool] | None = None  # name, multiple
        self.options: list[list] = []  # [value or None, selected, text parts] of the select
        self.option: list | None = None
        self.textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
            self.found = self.found or self.inside
            return
        if not self.inside:
            return
        if tag == "option" and self.select is not None:
            self.option = [attrs.get("value"), "selected" in attrs, []]
            self.options.append(self.option)
            return
        if "disabled" in attrs or not attrs.get("name"):
            return
        name = attrs["name"]
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self.fields.append((name, attrs.get("value", "on")))
            elif kind not in {"submit", "button", "image", "reset", "file"}:
                self.fields.append((name, attrs.get("value") or ""))
        elif tag == "select":
            self.select, self.options = (name, "multiple" in attrs), []
        elif tag == "textarea":
            self.textarea = (name, [])

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1].append(data)
        elif self.option is not None:
            self.option[2].append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self.textarea is not None:
            name, text = self.textarea
            # A browser drops the newline that follows <textarea>.
            self.fields.append((name, "".join(text).removeprefix("\n")))
            self.textarea = None
        elif tag == "option":
            self.option = None
        elif tag == "select" and self.select is not None:
            name, multiple = self.select
            values = [
                value if value is not None else "".join(text) for value, _s, text in self.options
            ]
            chosen = [
                v for v, (_v, selected, _t) in zip(values, self.options, strict=True) if selected
            ]
            if not chosen and not multiple and values:
                chosen = values[:1]  # a single select sends its first option
            self.fields.extend((name, value) for value in (chosen if multiple else chosen[:1]))
            self.select = None


def form_fields(html: str, form_id: str) -> dict:
    reader = _FormReader(form_id)
    reader.feed(html)
    assert reader.found, f"no form #{form_id} on the page"
    data: dict = {}
    for name, value in reader.fields:
        data.setdefault(name, []).append(value)
    return {name: values if len(values) > 1 else values[0] for name, values in data.items()}


def browser(w: World, endpoint: Endpoint) -> tuple[Client, dict]:
    """A signed-in browser of the endpoint's role, on its page, and what it would post there
    (without the CSRF token)."""
    client = Client(enforce_csrf_checks=True)
    if w.users[endpoint.role] is not None:
        client.force_login(w.users[endpoint.role])
    data = dict(endpoint.data)
    page = endpoint.visit() if endpoint.visit else (endpoint.url if endpoint.form else None)
    if page:
        response = client.get(page, follow=True)
        assert response.status_code == 200, (endpoint.key, page, response.status_code)
        if endpoint.form:
            data = {**form_fields(response.text, endpoint.form), **endpoint.data}
    data.pop("csrfmiddlewaretoken", None)
    return client, data


# --- the tests ----------------------------------------------------------------------------------


def leaf_patterns(resolver=None):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from leaf_patterns(pattern)
        elif isinstance(pattern, URLPattern):
            yield pattern


def test_no_view_is_exempt_from_the_csrf_check():
    exempt = [str(p.pattern) for p in leaf_patterns() if getattr(p.callback, "csrf_exempt", False)]
    assert exempt == []


def test_every_url_pattern_either_changes_nothing_or_is_an_endpoint_here(world):
    patterns = {key for key, _route, _groups in url_patterns()}
    covered = {endpoint.pattern for endpoint in endpoints(world).values()}
    known_read_only = set(read_only(world))
    assert patterns - covered - known_read_only == set(), (
        "a new URL: add it to project_endpoints() with what a browser posts, or to READ_ONLY"
    )
    assert (covered | known_read_only) - patterns == set(), "a URL here no longer exists"
    assert covered & known_read_only == set()
    assert set(world.objects) == {model._meta.label for model in admin.site._registry}, (
        "a new admin model: give it an object in world()"
    )
    # What the audit found missing must stay covered.
    for key in [
        "admin:competitions_competition_decision (the decision)",
        "admin:competitions_competition_add",
        "admin:competitions_competition_allocation (one row's awarded amount)",
        "admin:password_change",
    ]:
        assert key in endpoints(world)


def test_a_post_without_a_csrf_token_is_refused_and_changes_nothing(world, caplog):
    wrong = {}
    for key, endpoint in endpoints(world).items():
        client, data = browser(world, endpoint)
        ARRANGE.get(key, lambda: None)()
        before = state()
        caplog.clear()
        response = client.post(endpoint.url, data)
        refused_by_csrf = any(r.name == "django.security.csrf" for r in caplog.records)
        difference = changed(before, state())
        if response.status_code != 403 or not refused_by_csrf or difference:
            wrong[key] = (response.status_code, refused_by_csrf, difference)
    assert wrong == {}


def test_a_get_changes_nothing_and_a_post_only_action_answers_405(world):
    wrong = {}
    for key, endpoint in endpoints(world).items():
        client, _data = browser(world, endpoint)
        before = state()
        response = client.get(endpoint.url)
        expected = {405} if endpoint.post_only else {200, 302}
        difference = changed(before, state())
        if response.status_code not in expected or difference:
            wrong[key] = (response.status_code, difference)
    assert wrong == {}


class _Undo(Exception):
    pass


def test_with_its_token_each_post_does_change_something(world):
    """Otherwise the refusals above could be the endpoint's own answer to a useless post."""
    unchanged = {}
    for key, endpoint in endpoints(world).items():
        client, data = browser(world, endpoint)
        try:
            with transaction.atomic():
                ARRANGE.get(key, lambda: None)()
                token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else None
                if token is None:
                    token = "a" * 32
                    client.cookies["csrftoken"] = token
                before = state()
                response = client.post(endpoint.url, {**data, "csrfmiddlewaretoken": token})
                if not changed(before, state()):
                    unchanged[key] = response.status_code
                raise _Undo
        except _Undo:
            pass
    assert unchanged == {}


def test_the_urls_that_only_read_change_nothing_on_a_post_with_its_token(world):
    wrong = {}
    for role in ("superuser", "coordinator", "reviewer_assigned", "own_staff", "anonymous"):
        client = Client(enforce_csrf_checks=True)
        if world.users[role] is not None:
            client.force_login(world.users[role])
        client.cookies["csrftoken"] = "b" * 32
        for key, url in sorted(read_only(world).items()):
            before = state()
            response = client.post(url, {"csrfmiddlewaretoken": "b" * 32})
            if response.streaming:
                b"".join(response.streaming_content)
            difference = changed(before, state())
            if response.status_code >= 500 or difference:
                wrong[(role, key)] = (response.status_code, difference)
    assert wrong == {}
