"""The municipality's grant pages, the coordinator's approve and return screens, and their mail."""

from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from applications.models import AllocationEvent, Application
from grants import services
from grants.models import Grant, PlanVersion
from grants.services import PlanLineData

from .amounts import spaced, squeezed
from .factories import category, coordinator, decided_grant, reviewer, staff_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def cesis():
    """Cēsis's grant: 4 000,00 € awarded of the 7 500,00 € it asked for (4 500 + 3 000)."""
    return decided_grant("cesu-novads")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staff(cesis):
    return signed_in(staff_of("cesu-novads", "cesis"))


def lines_of(version: PlanVersion) -> list[PlanLineData]:
    return [
        PlanLineData(
            key=line.key,
            category=line.category,
            title=line.title,
            description=line.description,
            cost=line.cost,
        )
        for line in version.lines.select_related("category")
    ]


def plan_post(grant: Grant, rows: list[dict], action: str = "save", initial: int | None = None):
    """What the plan's form posts: ``rows`` of key, category, title, description, cost
    (and DELETE)."""
    data = {
        "lines-TOTAL_FORMS": str(len(rows)),
        "lines-INITIAL_FORMS": str(len(rows) if initial is None else initial),
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "action": action,
    }
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"lines-{index}-{name}"] = value
    return data


def rows_of(version: PlanVersion, **costs) -> list[dict]:
    """The version's lines as the form shows them; ``costs`` replaces a cost by position
    (``line1="2 500"``)."""
    return [
        {
            "key": line.key,
            "category": str(line.category_id),
            "title": line.title,
            "description": line.description,
            "cost": costs.get(f"line{number}", str(line.cost)),
        }
        for number, line in enumerate(version.lines.order_by("position"), start=1)
    ]


def current(grant: Grant) -> PlanVersion:
    return grant.plan_versions.order_by("-number").first()


def proposed_at(grant: Grant, total: Decimal) -> PlanVersion:
    """The grant's plan fitted to ``total`` (its first line changed) and proposed."""
    by = grant.municipality.staff.first() or staff_of(grant.municipality.slug)
    first, *others = lines_of(current(grant))
    rest = sum((line.cost for line in others), Decimal("0.00"))
    fitted = PlanLineData(
        key=first.key, category=first.category, title=first.title, cost=total - rest
    )
    version = services.plan_save_draft(grant=grant, by=by, lines=[fitted, *others])
    return services.plan_propose(version=version, by=by)


# --- the pages, in both languages -------------------------------------------------------------


def test_the_grant_page_shows_the_award_the_next_step_the_activities_and_the_plan_in_both_languages(
    cesis, staff
):
    url = reverse("grants:detail", args=[cesis.pk])
    page = staff.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert spaced('id="award">4 000,00 €') in text
    assert (
        spaced(
            'Pārskatiet plānu atbilstoši piešķirtajam finansējumam <span class="amount">4 000,00 €</span>'
        )
        in text
    )
    assert "Informatīvā brošūra" in text
    assert "Vizīte pie diasporas" in text
    assert spaced('data-amount="excess">3 500,00 €') in text
    english = staff.get("/en" + url)
    assert english.status_code == 200
    assert 'Revise the plan to fit the award of <span class="amount">€4,000.00</span>' in (
        english.content.decode()
    )
    assert "Activities as submitted" in english.content.decode()


def test_the_grants_list_and_the_menu_lead_staff_to_their_grants(cesis, staff):
    decided_grant("valkas-novads")  # another municipality's: not listed
    page = staff.get(reverse("grants:list"))
    assert page.status_code == 200
    text = page.content.decode()
    assert cesis.get_absolute_url() in text
    assert text.count('<li class="card mb-3">') == 1
    assert f'href="{reverse("grants:list")}"' in staff.get(reverse("home")).content.decode()
    assert "Grants" in staff.get("/en" + reverse("grants:list")).content.decode()


def test_the_menu_has_no_grants_for_a_coordinator(cesis):
    page = signed_in(coordinator("vpr")).get(reverse("home"))
    assert f'href="{reverse("grants:list")}"' not in page.content.decode()


def test_the_application_page_links_to_its_grant(cesis, staff):
    page = staff.get(cesis.application.get_absolute_url())
    assert f'href="{cesis.get_absolute_url()}"' in page.content.decode()


def test_a_rejected_application_page_has_no_grant_link(decided_call):
    application = decided_call.applications["cesvaines-novads"]
    page = signed_in(application.municipality.staff.first()).get(application.get_absolute_url())
    assert page.status_code == 200
    assert 'id="grant-link"' not in page.content.decode()


def test_the_plan_form_shows_every_line_and_the_award_in_both_languages(cesis, staff):
    url = reverse("grants:plan", args=[cesis.pk])
    page = staff.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-limit="4000.00"' in text
    assert 'value="Informatīvā brošūra"' in text
    assert spaced('value="4 500,00"') in text
    assert spaced('Pārsniegums pret piešķīrumu: <span class="amount">3 500,00 €</span>') in text
    english = staff.get("/en" + url).content.decode()
    assert 'Over the award by <span class="amount">€3,500.00</span>: reduce the plan' in english
    assert "Propose for agreement" in english


def test_the_grant_page_costs_the_same_queries_however_many_versions(
    cesis, staff, django_assert_max_num_queries
):
    url = reverse("grants:detail", args=[cesis.pk])
    # Eight for the plan (with the session's and the user's), two for the reports and payments.
    with django_assert_max_num_queries(10):
        staff.get(url)
    vpr = coordinator("vpr")
    for total in ("3900", "3800", "3700"):
        version = proposed_at(cesis, Decimal(total))
        services.plan_return(version=version, by=vpr, comment="Precizējiet izmaksas.")
    with django_assert_max_num_queries(10):
        page = staff.get(url)
    assert page.content.decode().count('class="card mb-3 plan-version"') == 3


# --- saving and proposing ---------------------------------------------------------------------


def test_a_draft_over_the_award_is_saved_with_the_excess_named(cesis, staff):
    rows = rows_of(current(cesis), line1="5 000")
    response = staff.post(
        reverse("grants:plan", args=[cesis.pk]), plan_post(cesis, rows), follow=True
    )
    version = current(cesis)
    assert version.status == PlanVersion.Status.DRAFT
    assert version.total == Decimal("8000.00")
    assert (
        spaced(
            "Melnraksts ir saglabāts. Tā kopsumma 8 000,00 € pārsniedz piešķirto finansējumu "
            "4 000,00 € par 4 000,00 €"
        )
    ) in response.content.decode()


def test_proposing_over_the_award_is_refused_naming_the_excess_and_keeps_what_was_typed(
    cesis, staff
):
    rows = rows_of(current(cesis), line1=spaced("1 000,50"))
    rows[1]["title"] = "Vizīte pie diasporas Īrijā"
    response = staff.post(
        reverse("grants:plan", args=[cesis.pk]), plan_post(cesis, rows, action="propose")
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Melnraksts ir saglabāts, bet to vēl nevar iesniegt saskaņošanai" in text
    assert spaced("par 0,50 €") in text
    assert spaced('value="1 000,50"') in text
    assert 'value="Vizīte pie diasporas Īrijā"' in text
    version = current(cesis)
    assert version.status == PlanVersion.Status.DRAFT
    assert version.total == Decimal("4000.50")


def test_proposing_a_plan_within_the_award_proposes_it_and_mails_the_coordinators(
    cesis, staff, django_capture_on_commit_callbacks
):
    vpr = coordinator("vpr")
    rows = rows_of(current(cesis), line1="1 000")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            reverse("grants:plan", args=[cesis.pk]), plan_post(cesis, rows, action="propose")
        )
    version = current(cesis)
    assert response.status_code == 302
    assert response["Location"] == cesis.get_absolute_url()
    assert version.status == PlanVersion.Status.PROPOSED
    assert version.total == Decimal("4000.00")
    [message] = mail.outbox
    assert vpr.email in message.to
    assert "cesis@example.lv" not in message.to
    # In the coordinator's language (Latvian, never having used another), not in both.
    assert message.subject == (
        f"Plāna {version.number}. versija ({cesis.application.reference}) iesniegta saskaņošanai"
    )
    assert reverse("admin:grants_planversion_approve", args=[version.pk]) in message.body


@pytest.mark.parametrize(
    ("cost", "title", "error"),
    [
        ("abc", "Brošūra", "Ievadiet summu euro"),
        ("0", "Brošūra", "Summai jābūt lielākai par nulli."),
        ("-5", "Brošūra", "Summai jābūt lielākai par nulli."),
        ("100", "", "Šis lauks ir nepieciešams."),
    ],
)
def test_bad_input_is_refused_with_a_clear_error_and_nothing_typed_is_lost(
    cesis, staff, cost, title, error
):
    before = current(cesis)
    description = before.lines.order_by("position").first().description
    rows = rows_of(before)
    rows.append({"key": "", "category": str(category().pk), "title": title, "cost": cost})
    rows[0]["description"] = "Jauns apraksts"
    response = staff.post(
        reverse("grants:plan", args=[cesis.pk]), plan_post(cesis, rows, initial=2)
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Plāns nav saglabāts: izlabojiet atzīmētos laukus." in text
    assert error in text
    assert f'value="{cost}"' in text
    assert "Jauns apraksts" in text
    assert current(cesis).lines.count() == 2
    assert current(cesis).lines.order_by("position").first().description == description


def test_add_a_line_without_javascript_saves_and_comes_back_with_an_empty_row(cesis, staff):
    url = reverse("grants:plan", args=[cesis.pk])
    response = staff.post(url, plan_post(cesis, rows_of(current(cesis)), action="add_line"))
    assert response["Location"] == url + "?add=1#lines"
    page = staff.get(url + "?add=1").content.decode()
    assert 'name="lines-TOTAL_FORMS" value="3"' in page


def test_a_line_removed_and_one_added_are_saved_and_compared(cesis, staff):
    first, second = rows_of(current(cesis))
    second["DELETE"] = "on"
    new = {"key": "", "category": str(category().pk), "title": "Video stāsti", "cost": "500"}
    staff.post(reverse("grants:plan", args=[cesis.pk]), plan_post(cesis, [first, second, new]))
    version = current(cesis)
    assert list(version.lines.order_by("position").values_list("title", "cost")) == [
        ("Informatīvā brošūra", Decimal("4500.00")),
        ("Video stāsti", Decimal("500.00")),
    ]
    assert version.number == 1  # a draft is saved over itself


def test_a_proposed_plan_cannot_be_opened_for_editing(cesis, staff):
    proposed_at(cesis, Decimal("4000"))
    response = staff.get(reverse("grants:plan", args=[cesis.pk]), follow=True)
    assert response.redirect_chain[-1][0] == cesis.get_absolute_url()
    assert "gaida koordinatora atbildi" in response.content.decode()


def test_the_returned_versions_comment_shows_prominently_and_the_next_save_starts_a_new_version(
    cesis, staff
):
    version = proposed_at(cesis, Decimal("4000"))
    services.plan_return(
        version=version, by=coordinator("vpr"), comment="Samaziniet vizīšu skaitu."
    )
    page = staff.get(cesis.get_absolute_url()).content.decode()
    assert 'id="return-comment"' in page
    assert "Samaziniet vizīšu skaitu." in page
    form = staff.get(reverse("grants:plan", args=[cesis.pk])).content.decode()
    assert "Samaziniet vizīšu skaitu." in form
    rows = rows_of(version, line1="900", line2="3 000")
    staff.post(reverse("grants:plan", args=[cesis.pk]), plan_post(cesis, rows))
    assert list(cesis.plan_versions.order_by("number").values_list("number", "status")) == [
        (1, PlanVersion.Status.RETURNED),
        (2, PlanVersion.Status.DRAFT),
    ]
    page = staff.get(cesis.get_absolute_url()).content.decode()
    # The comment stays in sight while the new version is drafted, which answers it.
    assert 'id="return-comment"' in page
    assert "Koordinators" in page
    assert "atgrieza plānu precizēšanai" in page
    # Version 2 against version 1: the first line's cost went from 1 000,00 to 900,00 €.
    assert spaced("1 000,00 €") in page
    assert spaced("-100,00 €") in page


# --- declining --------------------------------------------------------------------------------


def test_the_decline_page_says_the_award_returns_to_the_pool_and_needs_a_reason(cesis, staff):
    url = reverse("grants:decline", args=[cesis.pk])
    page = staff.get(url).content.decode()
    assert "Viss piešķirtais finansējums atgriežas konkursa fondā" in page
    assert "To nevar atsaukt." in page
    refused = staff.post(url, {"reason": "  "})
    assert refused.status_code == 200
    assert Grant.objects.get(pk=cesis.pk).status == Grant.Status.AGREEING
    staff.post(url, {"reason": "Dome nolēma projektu neīstenot."})
    cesis.refresh_from_db()
    assert cesis.status == Grant.Status.DECLINED
    assert cesis.application.awarded_amount == 0
    assert (
        "Dome nolēma projektu neīstenot." in staff.get(url.replace("decline/", "")).content.decode()
    )


# --- who sees what ----------------------------------------------------------------------------


def grant_urls(grant: Grant) -> list[str]:
    return [
        reverse(name, args=[grant.pk])
        for name in ("grants:detail", "grants:plan", "grants:decline")
    ]


@pytest.mark.parametrize("who", ["other_staff", "reviewer", "coordinator"])
def test_every_grant_url_is_404_for_anyone_but_the_municipalitys_staff(cesis, who):
    user = {
        "other_staff": lambda: staff_of("valkas-novads"),
        "reviewer": lambda: reviewer(),
        "coordinator": lambda: coordinator("vpr"),
    }[who]()
    client = signed_in(user)
    for url in grant_urls(cesis):
        assert client.get(url).status_code == 404, url
    for url in grant_urls(cesis)[1:]:
        assert client.post(url, {"reason": "x", "action": "propose"}).status_code == 404, url
    assert Grant.objects.get(pk=cesis.pk).status == Grant.Status.AGREEING


def test_anonymous_users_are_sent_to_log_in(cesis):
    for url in [reverse("grants:list"), *grant_urls(cesis)]:
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


# --- the coordinator's screens ----------------------------------------------------------------


def test_the_approve_screen_shows_the_plan_the_comparison_and_the_lowering_of_the_award(cesis):
    client = signed_in(coordinator("vpr"))
    first = proposed_at(cesis, Decimal("3900"))
    services.plan_return(version=first, by=coordinator("vpr"), comment="Vēl mazāk.")
    version = proposed_at(cesis, Decimal("3600"))
    page = client.get(reverse("admin:grants_planversion_approve", args=[version.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert (
        spaced(
            "Apstiprinot piešķirtais finansējums tiks samazināts par 400,00 € līdz 3 600,00 €, un "
            "400,00 € atgriezīsies konkursa fondā."
        )
    ) in text
    assert "Informatīvā brošūra" in text
    assert spaced("600,00 €") in text
    # Against version 1: the first line's cost from 900,00 to 600,00 €.
    assert "Salīdzinājumā ar 1. versiju" in text
    assert spaced("900,00 €") in text
    assert spaced("-300,00 €") in text
    english = client.get("/en" + reverse("admin:grants_planversion_approve", args=[version.pk]))
    assert "On approval the award will be lowered by €400.00" in english.content.decode()


def test_approving_lowers_the_award_says_so_in_green_and_mails_the_staff(
    cesis, django_capture_on_commit_callbacks
):
    staff_of("cesu-novads", "cesis")
    version = proposed_at(cesis, Decimal("3600"))
    client = signed_in(coordinator("vpr"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:grants_planversion_approve", args=[version.pk]), follow=True
        )
    assert response.redirect_chain[-1][0] == reverse("admin:grants_grant_change", args=[cesis.pk])
    [message] = list(response.context["messages"])
    assert message.level_tag == "success"
    assert spaced("samazināts no 4 000,00 € par 400,00 €") in message.message
    version.refresh_from_db()
    assert version.status == PlanVersion.Status.APPROVED
    assert Application.objects.get(pk=cesis.application_id).awarded_amount == Decimal("3600.00")
    assert AllocationEvent.objects.filter(application=cesis.application_id).count() == 2
    # The approval, then the agreement it issued, each in a mail of its own.
    mailed, agreement_ready = mail.outbox
    assert mailed.to == ["cesis@example.lv"]
    assert spaced("no 4 000,00 € līdz 3 600,00 €") in mailed.body
    assert cesis.get_absolute_url() in mailed.body
    assert agreement_ready.to == ["cesis@example.lv"]
    assert cesis.agreements.get().number in agreement_ready.subject + agreement_ready.body


def test_a_refused_approval_is_an_error_message_naming_the_rule_and_the_figures(cesis):
    version = proposed_at(cesis, Decimal("4000"))
    # The award lowered after the proposal (another way down: nothing else can raise it).
    from applications import services as application_services

    application_services.allocation_set(
        application=cesis.application,
        amount=Decimal("3000"),
        by=coordinator("vpr"),
        reason="Labojums",
    )
    client = signed_in(coordinator("vpr"))
    url = reverse("admin:grants_planversion_approve", args=[version.pk])
    assert spaced("par 1 000,00 €") in client.get(url).content.decode()  # said before the button
    response = client.post(url)
    assert response.status_code == 200
    [message] = list(response.context["messages"])
    assert message.level_tag == "error"
    assert spaced("4 000,00 €") in message.message
    assert spaced("3 000,00 €") in message.message
    assert spaced("1 000,00 €") in message.message
    version.refresh_from_db()
    assert version.status == PlanVersion.Status.PROPOSED


def test_returning_needs_a_comment_and_mails_it_to_the_staff(
    cesis, django_capture_on_commit_callbacks
):
    staff_of("cesu-novads", "cesis")
    version = proposed_at(cesis, Decimal("4000"))
    client = signed_in(coordinator("vpr"))
    url = reverse("admin:grants_planversion_return", args=[version.pk])
    assert client.post(url, {"comment": ""}).status_code == 200
    assert PlanVersion.objects.get(pk=version.pk).status == PlanVersion.Status.PROPOSED
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"comment": "Precizējiet vizīšu izmaksas."}, follow=True)
    [message] = list(response.context["messages"])
    assert message.level_tag == "success"
    assert PlanVersion.objects.get(pk=version.pk).status == PlanVersion.Status.RETURNED
    [mailed] = mail.outbox
    assert mailed.to == ["cesis@example.lv"]
    assert "atgriezta precizēšanai" in mailed.subject
    assert "Precizējiet vizīšu izmaksas." in mailed.body
    assert "http://127.0.0.1:8000" + cesis.get_absolute_url() in mailed.body


def test_only_coordinators_reach_the_approve_and_return_screens(cesis):
    version = proposed_at(cesis, Decimal("4000"))
    for name in ("admin:grants_planversion_approve", "admin:grants_planversion_return"):
        url = reverse(name, args=[version.pk])
        assert signed_in(reviewer()).post(url, {"comment": "x"}).status_code == 403
        response = signed_in(cesis.municipality.staff.first()).post(url, {"comment": "x"})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    assert PlanVersion.objects.get(pk=version.pk).status == PlanVersion.Status.PROPOSED


def test_the_grant_list_in_the_admin_shows_what_awaits_the_coordinator(cesis):
    waiting = decided_grant("valkas-novads")
    version = proposed_at(waiting, Decimal("4000"))
    client = signed_in(coordinator("vpr"))
    changelist = reverse("admin:grants_grant_changelist")
    to_decide = client.get(changelist + "?to_decide=yes").content.decode()
    assert reverse("admin:grants_planversion_approve", args=[version.pk]) in to_decide
    assert reverse("admin:grants_grant_change", args=[waiting.pk]) in to_decide
    assert reverse("admin:grants_grant_change", args=[cesis.pk]) not in to_decide
    change = client.get(reverse("admin:grants_grant_change", args=[waiting.pk])).content.decode()
    assert reverse("admin:grants_planversion_return", args=[version.pk]) in change


def test_the_decline_page_names_the_municipality_as_latvian_writes_it(cesis, staff):
    url = reverse("grants:decline", args=[cesis.pk])
    page = squeezed(staff.get(url).content.decode())
    assert "Cēsu novada pašvaldība atsakās no konkursā" in page
    assert "Pašvaldība “Cēsu novads”" not in page
    declined = staff.post(url, {"reason": "Dome nolēma projektu neīstenot."}, follow=True)
    assert "Cēsu novada pašvaldība ir atteikusies no piešķirtā finansējuma" in squeezed(
        declined.content.decode()
    )
