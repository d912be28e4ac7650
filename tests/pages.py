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
from decimal import Decimal

from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse

# The demo's users (grants/management/commands/load_demo.py), password "demo".
COORDINATOR = "coordinator"
REVIEWER = "reviewer1"
SMILTENE = "smiltene"  # an empty draft in the open call; an award of 2019 and its grant
VALKA = "valka"  # a filled draft in the open call
VALMIERA = "valmiera"  # a submitted application in the open call
CESIS = "cesis"  # a grant of a second call whose plan is being agreed
GULBENE = "gulbene"  # has turned two-factor authentication on: asked for the code first
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
    from competitions.models import Competition, Municipality
    from grants.models import Grant

    from .factories import decided_grant
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
    agreeing = decided_grant("cesu-novads")
    awarded = Application.objects.get(competition=decided, municipality__slug="smiltenes-novads")
    grant = Grant.objects.get(application=awarded)
    return World(
        objects={
            "users": users,
            "decided": decided,
            "open_call": open_call,
            "empty": empty,
            "filled": filled,
            "submitted": submitted,
            "awarded": awarded,
            "letter": awarded.letters.first(),
            "grant": grant,
            "agreeing": agreeing,
            "version": grant.plan_versions.order_by("number").last(),
            "agreement": grant.agreements.order_by("pk").last(),
            "review": submitted.reviews.first(),
        }
    )


def _users():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.all()


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
    "results:detail": visit(PUBLIC, lambda w: reverse("results:detail", args=[w.decided.slug])),
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
    ),
    "grants:plan": (
        visit(SMILTENE, lambda w: reverse("grants:plan", args=[w.grant.pk])),
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
    ),
    "admin:competitions_competition_allocation_state": not_a_page("JSON for the live figures"),
    "admin:competitions_competition_export": DOWNLOAD,
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
}


def visits(entry) -> tuple[Visit, ...]:
    if isinstance(entry, NotAPage):
        return ()
    return entry if isinstance(entry, tuple) else (entry,)
