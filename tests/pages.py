"""Every URL pattern of the project, and how the browser tests reach it.

The walks of ``tests/test_browser_pages.py`` (the widths at 1280 px and 360 px, and axe-core's
WCAG 2.1 A and AA rules) take their pages from this table. Its keys are the URL patterns found
by walking the resolver (``django.urls.get_resolver``), named as ``url_patterns`` names them: a
pattern with no entry here fails the walk, so a new page cannot escape it.

An entry is one line:

- ``visit(USER, lambda w: path, ...)``: a page, reached as that user (``None`` = the public)
  on the world of ``build_world``; a tuple of them for several states of one page
  (``state="empty"``, ``"filled"``, ``"error"``; ``then=`` acts on the loaded page to reach
  the state, e.g. posts the form with a wrong field);
- ``not_a_page("why")``: a download, a POST-only action, JSON, a redirect, a page no reviewer,
  coordinator, municipal staff member or member of the public uses (the superuser's).

Every ``visit`` must be reached: an answer other than 200 at the address asked for (a
redirect, a 403, a 404) fails the walk. Portal and public pages are walked in Latvian and
English and at both widths; admin pages at 1280 px in Latvian (the admin is a desk's tool).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

# The demo's users (grants/management/commands/load_demo.py), password "demo".
COORDINATOR = "coordinator"
REVIEWER = "reviewer1"
SMILTENE = "smiltene"  # an empty draft in the open call; an award of 2019 and its grant
VALKA = "valka"  # a filled draft in the open call
VALMIERA = "valmiera"  # a submitted application in the open call
CESIS = "cesis"  # a grant of a second call whose plan is being agreed; its objection period open
GULBENE = "gulbene"  # has turned two-factor authentication on: asked for the code first
# The grants of 2019 (grants/demo.py, conversations/demo.py): Smiltene's and Valka's are
# closed; Valmiera's final report was returned once and is submitted again, and its thread has
# a request answered with a file; Gulbene's final report is overdue and a request is open to
# it; Cēsis spent less than agreed and owes a repayment. Valka has objected to its decision in
# the second call.
#: Gulbene's second member of staff, without two-factor authentication: walks its grant.
GULBENE_STAFF = "gulbene-finance"
PUBLIC = None


@dataclass(frozen=True)
class Visit:
    user: str | None
    path: Callable[["World"], str]
    state: str = "filled"
    then: Callable | None = None  # (page) -> None: brings the loaded page to its state
    admin: bool = False


@dataclass(frozen=True)
class NotAPage:
    reason: str


def visit(user, path, *, state="filled", then=None) -> Visit:
    return Visit(user=user, path=path, state=state, then=then)


def admin(user, path, *, state="filled", then=None) -> Visit:
    return Visit(user=user, path=path, state=state, then=then, admin=True)


def not_a_page(reason: str) -> NotAPage:
    return NotAPage(reason)


SUPERUSER_ONLY = not_a_page("the superuser's screen: no role of the portal works there")
ADMIN_REDIRECT = not_a_page("the admin's shortcut: redirects to the change page")
DOWNLOAD = not_a_page("a file download")


@dataclass
class World:
    """What the pages show: the demo (the 2019 call decided, its grants signed, an open call)
    and, in the open call, an empty draft, a filled one and a submitted application."""

    objects: dict = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.objects[name]
        except KeyError:
            raise AttributeError(name) from None


def build_world() -> World:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from applications import demo, services
    from applications.models import Application
    from applications.services import letter_issue
    from competitions.models import Competition, JobRun, Municipality
    from conversations.services import objection_lodge
    from grants.models import Grant, Payment, Report

    from .factories import (
        CompetitionFactory,
        call_with_reviewed_applications,
        decided_call_in_bulk,
        decided_grants,
    )
    from .source_case import activities_costing

    call_command("load_demo", force=True, verbosity=0)
    users = {u.username: u for u in _users()}
    decided = Competition.objects.get(slug=demo.CALL_SLUG)
    open_call = Competition.objects.get(slug=demo.OPEN_CALL_SLUG)
    open_call.reviewers.add(users[REVIEWER])
    category_id = open_call.categories.first().pk

    def start(username, slug):
        return services.application_start(
            competition=open_call,
            municipality=Municipality.objects.get(slug=slug),
            by=users[username],
        )

    details = services.ApplicationDetails(
        contact_name="Jānis Ozols",
        contact_email="janis@example.lv",
        contact_phone="+371 64700000",
        goals="Sekmēt remigrāciju.",
        target_groups="Diaspora un remigranti.",
        summary="Brošūra un vizītes.",
    )
    empty = start(SMILTENE, "smiltenes-novads")
    filled = start(VALKA, "valkas-novads")
    services.application_update_draft(
        application=filled,
        by=users[VALKA],
        details=details,
        activities=activities_costing(Decimal("7500.00"), category_id),
    )
    submitted = start(VALMIERA, "valmieras-pilseta")
    services.application_update_draft(
        application=submitted,
        by=users[VALMIERA],
        details=details,
        activities=activities_costing(Decimal("9000.00"), category_id),
    )
    submitted = services.application_submit(application=submitted, by=users[VALMIERA])
    TOTPDevice.objects.create(user=users[GULBENE], name="TOTP", confirmed=True)
    users[GULBENE_STAFF] = _user_model().objects.create_user(
        GULBENE_STAFF, "finanses@gulbene.example.lv", "demo", first_name="Ilze", last_name="Kalna"
    )
    Municipality.objects.get(slug="gulbenes-novads").staff.add(users[GULBENE_STAFF])
    second_call = decided_grants(
        {
            "cesu-novads": (Decimal("7500.00"), Decimal("4000.00")),
            "valkas-novads": (Decimal("5000.00"), Decimal("3000.00")),
        }
    )
    agreeing = second_call["cesu-novads"]
    for second in second_call.values():
        letter_issue(application=second.application, by=users[COORDINATOR])
    objection = objection_lodge(
        application=second_call["valkas-novads"].application,
        by=users[VALKA],
        reasons="Piešķīrums ir mazāks par pieprasīto, lai gan vērtējums ir augsts.",
    )
    awarded = Application.objects.get(competition=decided, municipality__slug="smiltenes-novads")
    grant = Grant.objects.get(application=awarded)
    grants = {
        g.application.municipality.slug: g
        for g in Grant.objects.filter(application__competition=decided).select_related(
            "application__municipality"
        )
    }
    final = Report.objects.filter(grant=grants["valmieras-pilseta"], kind=Report.Kind.FINAL)
    job = JobRun.objects.create(
        title="Lēmumu vēstules: Remigrācijas atbalsta konkurss",
        status=JobRun.Status.FAILED,
        total=5,
        done=4,
        failures=["REM-2019-05 (Cēsu novads): vēstules PDF neizdevās izveidot."],
        started_by=users[COORDINATOR],
        finished_at=timezone.now(),
    )
    # A call past its deadline and not yet decided: the decision screen's.
    closed = call_with_reviewed_applications(
        3,
        competition=CompetitionFactory(
            opens_at=timezone.now() - timedelta(days=40),
            closes_at=timezone.now() - timedelta(days=1),
        ),
    )
    export_job = JobRun.objects.create(
        title=f"Konkursa “{decided.title}” datu eksports (XLSX, lv)",
        status=JobRun.Status.DONE,
        total=10,
        done=10,
        started_by=users[COORDINATOR],
        finished_at=timezone.now(),
    )
    export_job.file.save(f"{decided.slug}-applications.xlsx", ContentFile(b"PK"))
    return World(
        objects={
            "users": users,
            "decided": decided,
            "open_call": open_call,
            "closed_call": closed,
            "empty": empty,
            "filled": filled,
            "submitted": submitted,
            "awarded": awarded,
            "letter": awarded.letters.first(),
            "grant": grant,
            "agreeing": agreeing,
            "large_call": decided_call_in_bulk(120),
            "version": grant.plan_versions.order_by("number").last(),
            "agreement": grant.agreements.order_by("pk").last(),
            "review": submitted.reviews.first(),
            "grants": grants,
            "returned_report": final.get(status=Report.Status.RETURNED),
            "submitted_report": final.get(status=Report.Status.SUBMITTED),
            "accepted_report": grants["gulbenes-novads"].reports.get(status=Report.Status.ACCEPTED),
            "payment": Payment.objects.filter(
                grant=grants["gulbenes-novads"], reverses__isnull=True
            ).first(),
            "answered": grants["valmieras-pilseta"].application,
            "asked": grants["gulbenes-novads"].application,
            "objecting": agreeing.application,
            "objection": objection,
            "message": grants["valmieras-pilseta"].application.messages.first(),
            "job": job,
            "export_job": export_job,
        }
    )


def _user_model():
    from django.contrib.auth import get_user_model

    return get_user_model()


def _users():
    return _user_model().objects.all()


def url_patterns(resolver=None, prefix="", namespace=None):
    """Every leaf pattern with its full route and its name (the route when unnamed)."""
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
            yield name or route, route


# --- states reached on a loaded page ------------------------------------------------------


def post_empty_form(page) -> None:
    """Send the page's main form as it is: its required fields empty give their errors."""
    page.locator("main form [type=submit]").last.click()
    page.wait_for_load_state()


def wrong_login(page) -> None:
    page.fill("input[name=username]", "nobody")
    page.fill("input[name=password]", "wrong password")
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state()


def wrong_code(page) -> None:
    page.fill("input[name=code]", "000000")
    page.locator("main form [type=submit]").last.click()
    page.wait_for_load_state()


def mistyped_draft(page) -> None:
    """The draft with a mistyped e-mail and reversed dates: saved in part, each error shown."""
    page.fill("input[name=contact_email]", "janis@@example")
    page.fill("input[name=activities-0-ends_on]", "2020-01-01")
    page.locator("button[value=save]").click()
    page.wait_for_load_state()


def unreadable_plan_cost(page) -> None:
    page.fill("input[name=lines-0-cost]", "abc")
    page.locator("button[value=save]").click()
    page.wait_for_load_state()


def refused_submission(page) -> None:
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#submit-application").click()
    page.wait_for_load_state()


def report_over_tolerance(page) -> None:
    """The first line's actual cost far over what the call allows, and the report submitted:
    the draft is saved as typed, the submission refused and the line marked."""
    page.locator("input[name$=actual_cost]").first.fill("99999")
    page.locator("#submit-report").click()
    page.wait_for_load_state()


def payment_over_due(page) -> None:
    page.fill("input[name=amount]", "99999")
    page.fill("input[name=reference]", "MU-2020-999")
    page.locator("main form [type=submit]").last.click()
    page.wait_for_load_state()


def report_returned_without_comment(page) -> None:
    page.locator("#return-report").click()
    page.wait_for_load_state()


def _admin(name, *args):
    return reverse(f"admin:{name}", args=args)


# --- the table ------------------------------------------------------------------------------

PAGES: dict[str, tuple[Visit, ...] | Visit | NotAPage] = {
    # The public's pages.
    "home": visit(PUBLIC, lambda w: reverse("home")),
    "accessibility": visit(PUBLIC, lambda w: reverse("accessibility")),
    "competitions:detail": (
        visit(PUBLIC, lambda w: reverse("competitions:detail", args=[w.open_call.slug])),
        visit(PUBLIC, lambda w: reverse("competitions:detail", args=[w.decided.slug])),
        visit(SMILTENE, lambda w: reverse("competitions:detail", args=[w.open_call.slug])),
    ),
    "competitions:regulations": DOWNLOAD,
    "results:detail": (
        visit(PUBLIC, lambda w: reverse("results:detail", args=[w.decided.slug])),
        # A call of many, a page of it: the whole call above, the pages' links below.
        visit(PUBLIC, lambda w: reverse("results:detail", args=[w.large_call.slug]) + "?page=2"),
    ),
    "results:csv": DOWNLOAD,
    # Logging in and the password.
    "login": (
        visit(PUBLIC, lambda w: reverse("login"), state="empty"),
        visit(PUBLIC, lambda w: reverse("login"), state="error", then=wrong_login),
    ),
    "logout": not_a_page("POST only: logs out and redirects"),
    "password_change": (
        visit(SMILTENE, lambda w: reverse("password_change"), state="empty"),
        visit(SMILTENE, lambda w: reverse("password_change"), state="error", then=post_empty_form),
    ),
    "password_change_done": not_a_page("the password change logs out: this page is never shown"),
    "password_reset": (
        visit(PUBLIC, lambda w: reverse("password_reset"), state="empty"),
        visit(PUBLIC, lambda w: reverse("password_reset"), state="error", then=post_empty_form),
    ),
    "password_reset_done": visit(PUBLIC, lambda w: reverse("password_reset_done")),
    "password_reset_confirm": not_a_page("reached only from a mailed one-time link"),
    "password_reset_complete": visit(PUBLIC, lambda w: reverse("password_reset_complete")),
    "two_factor_enrol": (
        visit(SMILTENE, lambda w: reverse("two_factor_enrol"), state="empty"),
        visit(SMILTENE, lambda w: reverse("two_factor_enrol"), state="error", then=wrong_code),
    ),
    "two_factor_verify": (
        visit(GULBENE, lambda w: reverse("two_factor_verify"), state="empty"),
        visit(GULBENE, lambda w: reverse("two_factor_verify"), state="error", then=wrong_code),
    ),
    # The municipal staff's pages.
    "applications:dashboard": visit(SMILTENE, lambda w: reverse("applications:dashboard")),
    "applications:start": not_a_page("POST only: opens a draft and redirects to its form"),
    "applications:detail": (
        visit(VALMIERA, lambda w: w.submitted.get_absolute_url()),
        visit(SMILTENE, lambda w: w.awarded.get_absolute_url()),
    ),
    "applications:edit": (
        visit(SMILTENE, lambda w: reverse("applications:edit", args=[w.empty.pk]), state="empty"),
        visit(VALKA, lambda w: reverse("applications:edit", args=[w.filled.pk])),
        visit(
            VALKA,
            lambda w: reverse("applications:edit", args=[w.filled.pk]),
            state="error",
            then=mistyped_draft,
        ),
        visit(
            SMILTENE,
            lambda w: reverse("applications:edit", args=[w.empty.pk]),
            state="error",
            then=refused_submission,
        ),
    ),
    "applications:receipt": visit(
        VALMIERA, lambda w: reverse("applications:receipt", args=[w.submitted.pk])
    ),
    "applications:withdraw": visit(
        VALMIERA, lambda w: reverse("applications:withdraw", args=[w.submitted.pk])
    ),
    "applications:delete": visit(
        SMILTENE, lambda w: reverse("applications:delete", args=[w.empty.pk])
    ),
    "applications:document_download": DOWNLOAD,
    "applications:letter_download": DOWNLOAD,
    "grants:list": visit(SMILTENE, lambda w: reverse("grants:list")),
    "grants:detail": (
        visit(SMILTENE, lambda w: reverse("grants:detail", args=[w.grant.pk])),
        visit(CESIS, lambda w: reverse("grants:detail", args=[w.agreeing.pk])),
        visit(CESIS, lambda w: _grant(w, "cesu-novads")),
        visit(VALMIERA, lambda w: _grant(w, "valmieras-pilseta")),
        visit(GULBENE_STAFF, lambda w: _grant(w, "gulbenes-novads")),
    ),
    "grants:plan": (
        visit(CESIS, lambda w: reverse("grants:plan", args=[w.agreeing.pk])),
        visit(
            CESIS,
            lambda w: reverse("grants:plan", args=[w.agreeing.pk]),
            state="error",
            then=unreadable_plan_cost,
        ),
    ),
    "grants:decline": (
        visit(SMILTENE, lambda w: reverse("grants:decline", args=[w.grant.pk])),
        visit(CESIS, lambda w: reverse("grants:decline", args=[w.agreeing.pk]), state="empty"),
        visit(
            CESIS,
            lambda w: reverse("grants:decline", args=[w.agreeing.pk]),
            state="error",
            then=post_empty_form,
        ),
    ),
    "grants:agreement": visit(SMILTENE, lambda w: reverse("grants:agreement", args=[w.grant.pk])),
    "grants:agreement_accept": visit(
        SMILTENE, lambda w: reverse("grants:agreement_accept", args=[w.grant.pk])
    ),
    "grants:agreement_upload": not_a_page("POST only: stores a signed file and redirects"),
    "grants:agreement_download": DOWNLOAD,
    "grants:report": (
        visit(GULBENE_STAFF, lambda w: _report_form(w, "gulbenes-novads"), state="empty"),
        visit(
            GULBENE_STAFF,
            lambda w: _report_form(w, "gulbenes-novads"),
            state="error",
            then=report_over_tolerance,
        ),
        # The draft saved over the limit: the page says where.
        visit(GULBENE_STAFF, lambda w: _report_form(w, "gulbenes-novads")),
    ),
    "grants:report_version": (
        visit(VALMIERA, lambda w: _report_version(w.returned_report)),
        visit(VALMIERA, lambda w: _report_version(w.submitted_report)),
        visit(GULBENE_STAFF, lambda w: _report_version(w.accepted_report)),
    ),
    "grants:report_document": DOWNLOAD,
    "grants:closing_statement": not_a_page("a PDF download: the closed grant's statement"),
    # Messages and objections.
    "conversations:thread": (
        visit(
            VALMIERA,
            lambda w: reverse("conversations:thread", args=[w.submitted.pk]),
            state="empty",
        ),
        visit(VALMIERA, lambda w: reverse("conversations:thread", args=[w.answered.pk])),
        visit(GULBENE_STAFF, lambda w: reverse("conversations:thread", args=[w.asked.pk])),
        visit(
            VALMIERA,
            lambda w: reverse("conversations:thread", args=[w.answered.pk]),
            state="error",
            then=post_empty_form,
        ),
    ),
    "conversations:write": not_a_page(
        "POST only: sends a message; posted empty, the thread again with the error (walked)"
    ),
    "conversations:objection": (
        visit(
            CESIS,
            lambda w: reverse("conversations:objection", args=[w.objecting.pk]),
            state="empty",
        ),
        visit(
            CESIS,
            lambda w: reverse("conversations:objection", args=[w.objecting.pk]),
            state="error",
            then=post_empty_form,
        ),
        # The period of 2019 is over: the page says so.
        visit(VALMIERA, lambda w: reverse("conversations:objection", args=[w.answered.pk])),
    ),
    "conversations:attachment": DOWNLOAD,
    # The load balancer's.
    "healthz": not_a_page("the load balancer's health check: JSON"),
    "readyz": not_a_page("the load balancer's readiness check: JSON"),
    # The admin: reviewers' and coordinators' pages.
    "admin:index": (
        admin(COORDINATOR, lambda w: _admin("index")),
        admin(REVIEWER, lambda w: _admin("index")),
    ),
    "admin:login": (
        admin(PUBLIC, lambda w: _admin("login"), state="empty"),
        admin(PUBLIC, lambda w: _admin("login"), state="error", then=wrong_login),
    ),
    "admin:logout": not_a_page("POST only: logs out and redirects"),
    "admin:password_change": admin(COORDINATOR, lambda w: _admin("password_change")),
    "admin:password_change_done": admin(COORDINATOR, lambda w: _admin("password_change_done")),
    "admin:autocomplete": not_a_page("JSON for the admin's autocomplete fields"),
    "admin:jsi18n": not_a_page("JavaScript: the admin's translations"),
    "admin:view_on_site": ADMIN_REDIRECT,
    "admin:app_list": (
        admin(COORDINATOR, lambda w: reverse("admin:app_list", args=["applications"])),
        admin(COORDINATOR, lambda w: reverse("admin:app_list", args=["competitions"])),
        admin(COORDINATOR, lambda w: reverse("admin:app_list", args=["grants"])),
        admin(COORDINATOR, lambda w: reverse("admin:app_list", args=["conversations"])),
    ),
    "admin/(?P<url>.*)$": not_a_page("the admin's catch-all: a 404 for an unknown address"),
    # Users, groups and the log of logins: the superuser's.
    **{
        f"admin:{model}_{view}": SUPERUSER_ONLY
        for model in (
            "auth_group",
            "auth_user",
            "axes_accesslog",
            "axes_accessfailurelog",
            "axes_accessattempt",
        )
        for view in ("changelist", "add", "history", "delete", "change")
    },
    "admin:auth_user_password_change": SUPERUSER_ONLY,
    **{
        f"admin/{model}/<path:object_id>/": ADMIN_REDIRECT
        for model in (
            "auth/group",
            "auth/user",
            "axes/accesslog",
            "axes/accessfailurelog",
            "axes/accessattempt",
            "competitions/municipality",
            "competitions/activitycategory",
            "competitions/competition",
            "applications/awardletter",
            "applications/allocationevent",
            "applications/application",
            "applications/review",
            "grants/grant",
            "grants/planversion",
            "grants/agreement",
            "grants/payment",
            "grants/report",
            "competitions/jobrun",
            "conversations/message",
            "conversations/objection",
        )
    },
    # Calls, municipalities, categories.
    "admin:competitions_competition_changelist": admin(
        COORDINATOR, lambda w: _admin("competitions_competition_changelist")
    ),
    "admin:competitions_competition_add": admin(
        COORDINATOR, lambda w: _admin("competitions_competition_add")
    ),
    "admin:competitions_competition_change": (
        admin(COORDINATOR, lambda w: _admin("competitions_competition_change", w.open_call.pk)),
        admin(COORDINATOR, lambda w: _admin("competitions_competition_change", w.decided.pk)),
    ),
    "admin:competitions_competition_history": admin(
        COORDINATOR, lambda w: _admin("competitions_competition_history", w.decided.pk)
    ),
    "admin:competitions_competition_simple_history": not_a_page(
        "one historical record of a call: reached from the history page only"
    ),
    "admin:competitions_competition_delete": SUPERUSER_ONLY,
    "admin:competitions_competition_allocation": (
        admin(COORDINATOR, lambda w: _admin("competitions_competition_allocation", w.decided.pk)),
        admin(COORDINATOR, lambda w: _admin("competitions_competition_allocation", w.open_call.pk)),
        admin(
            COORDINATOR, lambda w: _admin("competitions_competition_allocation", w.closed_call.pk)
        ),
    ),
    "admin:competitions_competition_allocation_state": not_a_page("JSON for the live figures"),
    "admin:competitions_competition_decision": admin(
        COORDINATOR, lambda w: _admin("competitions_competition_decision", w.closed_call.pk)
    ),
    "admin:competitions_competition_export": not_a_page(
        "a file download; past EXPORT_INLINE_MAX_ROWS, the offer of a background job "
        "(tests/test_exports.py)"
    ),
    "admin:competitions_competition_issue_letters": not_a_page(
        "POST only: starts the letters' job and redirects to its page"
    ),
    # Jobs on the workers.
    "admin:competitions_jobrun_changelist": admin(
        COORDINATOR, lambda w: _admin("competitions_jobrun_changelist")
    ),
    "admin:competitions_jobrun_add": not_a_page("jobs are started by their screens: 403 here"),
    "admin:competitions_jobrun_change": (
        admin(COORDINATOR, lambda w: _admin("competitions_jobrun_change", w.job.pk)),
        # An export done, its file offered to the coordinator who started it.
        admin(COORDINATOR, lambda w: _admin("competitions_jobrun_change", w.export_job.pk)),
    ),
    "admin:competitions_jobrun_history": admin(
        COORDINATOR, lambda w: _admin("competitions_jobrun_history", w.job.pk)
    ),
    "admin:competitions_jobrun_delete": not_a_page("jobs are never deleted: 403 to everyone"),
    "admin:competitions_jobrun_download": DOWNLOAD,
    "admin:competitions_municipality_changelist": admin(
        COORDINATOR, lambda w: _admin("competitions_municipality_changelist")
    ),
    "admin:competitions_municipality_add": SUPERUSER_ONLY,
    "admin:competitions_municipality_change": admin(
        COORDINATOR, lambda w: _admin("competitions_municipality_change", w.awarded.municipality_id)
    ),
    "admin:competitions_municipality_history": admin(
        COORDINATOR,
        lambda w: _admin("competitions_municipality_history", w.awarded.municipality_id),
    ),
    "admin:competitions_municipality_delete": SUPERUSER_ONLY,
    "admin:competitions_activitycategory_changelist": admin(
        COORDINATOR, lambda w: _admin("competitions_activitycategory_changelist")
    ),
    "admin:competitions_activitycategory_add": SUPERUSER_ONLY,
    "admin:competitions_activitycategory_change": admin(
        COORDINATOR,
        lambda w: _admin("competitions_activitycategory_change", w.open_call.categories.first().pk),
    ),
    "admin:competitions_activitycategory_history": admin(
        COORDINATOR,
        lambda w: _admin(
            "competitions_activitycategory_history", w.open_call.categories.first().pk
        ),
    ),
    "admin:competitions_activitycategory_delete": SUPERUSER_ONLY,
    # Applications, reviews, letters, the ledger.
    "admin:applications_application_changelist": (
        admin(COORDINATOR, lambda w: _admin("applications_application_changelist")),
        admin(REVIEWER, lambda w: _admin("applications_application_changelist")),
        admin(REVIEWER, lambda w: _admin("applications_application_changelist") + "?to_score=yes"),
    ),
    "admin:applications_application_add": not_a_page("applications are made on the portal only"),
    "admin:applications_application_change": (
        admin(COORDINATOR, lambda w: _admin("applications_application_change", w.awarded.pk)),
        admin(REVIEWER, lambda w: _admin("applications_application_change", w.submitted.pk)),
    ),
    "admin:applications_application_history": admin(
        COORDINATOR, lambda w: _admin("applications_application_history", w.awarded.pk)
    ),
    "admin:applications_application_simple_history": not_a_page(
        "one historical record of an application: reached from the history page only"
    ),
    "admin:applications_application_delete": not_a_page("applications are never deleted"),
    "admin:applications_application_review": (
        admin(REVIEWER, lambda w: _admin("applications_application_review", w.submitted.pk)),
        admin(
            REVIEWER,
            lambda w: _admin("applications_application_review", w.submitted.pk),
            state="error",
            then=post_empty_form,
        ),
    ),
    "admin:applications_application_issue_letter": not_a_page("POST only: issues a letter"),
    "admin:applications_review_changelist": (
        admin(COORDINATOR, lambda w: _admin("applications_review_changelist")),
        admin(REVIEWER, lambda w: _admin("applications_review_changelist")),
    ),
    "admin:applications_review_add": not_a_page("reviews are recorded on the review screen"),
    "admin:applications_review_change": admin(
        COORDINATOR,
        lambda w: _admin("applications_review_change", w.awarded.reviews.first().pk),
    ),
    "admin:applications_review_history": admin(
        COORDINATOR,
        lambda w: _admin("applications_review_history", w.awarded.reviews.first().pk),
    ),
    "admin:applications_review_delete": not_a_page("reviews are never deleted"),
    "admin:applications_awardletter_changelist": admin(
        COORDINATOR, lambda w: _admin("applications_awardletter_changelist")
    ),
    "admin:applications_awardletter_add": not_a_page("letters are issued, never added"),
    "admin:applications_awardletter_change": admin(
        COORDINATOR, lambda w: _admin("applications_awardletter_change", w.letter.pk)
    ),
    "admin:applications_awardletter_history": admin(
        COORDINATOR, lambda w: _admin("applications_awardletter_history", w.letter.pk)
    ),
    "admin:applications_awardletter_delete": not_a_page("letters are never deleted"),
    "admin:applications_allocationevent_changelist": admin(
        COORDINATOR, lambda w: _admin("applications_allocationevent_changelist")
    ),
    "admin:applications_allocationevent_add": not_a_page("the ledger is written by services"),
    "admin:applications_allocationevent_change": admin(
        COORDINATOR,
        lambda w: _admin(
            "applications_allocationevent_change", w.awarded.allocation_events.first().pk
        ),
    ),
    "admin:applications_allocationevent_history": admin(
        COORDINATOR,
        lambda w: _admin(
            "applications_allocationevent_history", w.awarded.allocation_events.first().pk
        ),
    ),
    "admin:applications_allocationevent_delete": not_a_page("the ledger is append-only"),
    # Grants.
    "admin:grants_grant_changelist": admin(
        COORDINATOR, lambda w: _admin("grants_grant_changelist")
    ),
    "admin:grants_grant_add": not_a_page("grants are opened by the decision"),
    "admin:grants_grant_change": admin(
        COORDINATOR, lambda w: _admin("grants_grant_change", w.grant.pk)
    ),
    "admin:grants_grant_history": admin(
        COORDINATOR, lambda w: _admin("grants_grant_history", w.grant.pk)
    ),
    "admin:grants_grant_delete": not_a_page("grants are never deleted"),
    "admin:grants_planversion_changelist": admin(
        COORDINATOR, lambda w: _admin("grants_planversion_changelist")
    ),
    "admin:grants_planversion_add": not_a_page("plans are proposed on the portal"),
    "admin:grants_planversion_change": admin(
        COORDINATOR, lambda w: _admin("grants_planversion_change", w.version.pk)
    ),
    "admin:grants_planversion_history": admin(
        COORDINATOR, lambda w: _admin("grants_planversion_history", w.version.pk)
    ),
    "admin:grants_planversion_delete": not_a_page("plans are never deleted"),
    "admin:grants_planversion_approve": not_a_page("POST only: approves a proposed plan"),
    "admin:grants_planversion_return": not_a_page("POST only: returns a proposed plan"),
    "admin:grants_agreement_changelist": admin(
        COORDINATOR, lambda w: _admin("grants_agreement_changelist")
    ),
    "admin:grants_agreement_add": not_a_page("agreements are issued, never added"),
    "admin:grants_agreement_change": admin(
        COORDINATOR, lambda w: _admin("grants_agreement_change", w.agreement.pk)
    ),
    "admin:grants_agreement_history": admin(
        COORDINATOR, lambda w: _admin("grants_agreement_history", w.agreement.pk)
    ),
    "admin:grants_agreement_delete": not_a_page("agreements are never deleted"),
    "admin:grants_agreement_countersign": admin(
        COORDINATOR, lambda w: _admin("grants_agreement_countersign", w.agreement.pk)
    ),
    "admin:grants_agreement_issue_again": not_a_page("POST only: issues the agreement again"),
    "admin:grants_grant_pay": (
        admin(COORDINATOR, lambda w: _admin("grants_grant_pay", w.grants["cesu-novads"].pk)),
        admin(
            COORDINATOR,
            lambda w: _admin("grants_grant_pay", w.grants["gulbenes-novads"].pk),
            state="error",
            then=payment_over_due,
        ),
    ),
    "admin:grants_grant_close": (
        admin(COORDINATOR, lambda w: _admin("grants_grant_close", w.grants["cesu-novads"].pk)),
        # Refused: Cēsis owes a repayment; the difference is named.
        admin(
            COORDINATOR,
            lambda w: _admin("grants_grant_close", w.grants["cesu-novads"].pk),
            state="error",
            then=post_empty_form,
        ),
    ),
    # The payment ledger.
    "admin:grants_payment_changelist": admin(
        COORDINATOR, lambda w: _admin("grants_payment_changelist")
    ),
    "admin:grants_payment_add": not_a_page("payments are recorded on the grant's pay screen"),
    "admin:grants_payment_change": admin(
        COORDINATOR, lambda w: _admin("grants_payment_change", w.payment.pk)
    ),
    "admin:grants_payment_history": admin(
        COORDINATOR, lambda w: _admin("grants_payment_history", w.payment.pk)
    ),
    "admin:grants_payment_delete": not_a_page("the ledger is append-only: 403 to everyone"),
    "admin:grants_payment_reverse": (
        admin(COORDINATOR, lambda w: _admin("grants_payment_reverse", w.payment.pk), state="empty"),
        admin(
            COORDINATOR,
            lambda w: _admin("grants_payment_reverse", w.payment.pk),
            state="error",
            then=post_empty_form,
        ),
    ),
    "admin:grants_payment_register": DOWNLOAD,
    # Reports.
    "admin:grants_report_changelist": admin(
        COORDINATOR, lambda w: _admin("grants_report_changelist")
    ),
    "admin:grants_report_add": not_a_page("reports are written on the portal"),
    "admin:grants_report_change": (
        admin(COORDINATOR, lambda w: _admin("grants_report_change", w.submitted_report.pk)),
        admin(COORDINATOR, lambda w: _admin("grants_report_change", w.returned_report.pk)),
    ),
    "admin:grants_report_history": admin(
        COORDINATOR, lambda w: _admin("grants_report_history", w.submitted_report.pk)
    ),
    "admin:grants_report_delete": not_a_page("reports are never deleted: 403 to everyone"),
    "admin:grants_report_review": (
        admin(COORDINATOR, lambda w: _admin("grants_report_review", w.submitted_report.pk)),
        admin(
            COORDINATOR,
            lambda w: _admin("grants_report_review", w.submitted_report.pk),
            state="error",
            then=report_returned_without_comment,
        ),
        # Decided already: shown, not reviewable.
        admin(COORDINATOR, lambda w: _admin("grants_report_review", w.accepted_report.pk)),
    ),
    # Messages and objections.
    "admin:conversations_message_changelist": (
        admin(COORDINATOR, lambda w: _admin("conversations_message_changelist")),
        admin(REVIEWER, lambda w: _admin("conversations_message_changelist")),
    ),
    "admin:conversations_message_add": not_a_page("messages are written in their thread"),
    "admin:conversations_message_change": not_a_page("redirects to the message in its thread"),
    "admin:conversations_message_history": admin(
        COORDINATOR, lambda w: _admin("conversations_message_history", w.message.pk)
    ),
    "admin:conversations_message_delete": not_a_page("messages are never deleted: 403"),
    "admin:conversations_message_thread": (
        admin(COORDINATOR, lambda w: _admin("conversations_message_thread", w.answered.pk)),
        admin(REVIEWER, lambda w: _admin("conversations_message_thread", w.answered.pk)),
        admin(
            COORDINATOR,
            lambda w: _admin("conversations_message_thread", w.objection.application_id),
        ),
        admin(
            COORDINATOR,
            lambda w: _admin("conversations_message_thread", w.asked.pk),
            state="error",
            then=post_empty_form,
        ),
    ),
    "admin:conversations_message_write": not_a_page(
        "POST only: sends a message; posted empty, the thread again with the error (walked)"
    ),
    "admin:conversations_objection_changelist": admin(
        COORDINATOR, lambda w: _admin("conversations_objection_changelist")
    ),
    "admin:conversations_objection_add": not_a_page("objections are lodged on the portal"),
    "admin:conversations_objection_change": not_a_page("redirects to the objection's decide page"),
    "admin:conversations_objection_history": admin(
        COORDINATOR, lambda w: _admin("conversations_objection_history", w.objection.pk)
    ),
    "admin:conversations_objection_delete": not_a_page("objections are never deleted: 403"),
    "admin:conversations_objection_decide": (
        admin(COORDINATOR, lambda w: _admin("conversations_objection_decide", w.objection.pk)),
        admin(
            COORDINATOR,
            lambda w: _admin("conversations_objection_decide", w.objection.pk),
            state="error",
            then=post_empty_form,
        ),
    ),
}


def _grant(world, slug) -> str:
    return reverse("grants:detail", args=[world.grants[slug].pk])


def _report_form(world, slug) -> str:
    return reverse("grants:report", args=[world.grants[slug].pk, "final"])


def _report_version(report) -> str:
    return reverse("grants:report_version", args=[report.grant_id, report.pk])


def visits(entry) -> tuple[Visit, ...]:
    if isinstance(entry, NotAPage):
        return ()
    return entry if isinstance(entry, tuple) else (entry,)
