"""Reviewers in the admin, driven through the test client as a reviewer would: they see the
submitted applications of their own calls only, score them, and never reach other calls' or
other reviewers' data."""

from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from applications import services
from applications.models import Application, Review, SupportingDocument

from .factories import CompetitionFactory, call_with_reviewed_applications, municipality, reviewer
from .source_case import build_source_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case():
    return build_source_case(close=False)


def change_url(application) -> str:
    return reverse("admin:applications_application_change", args=[application.pk])


def review_url(application) -> str:
    return reverse("admin:applications_application_review", args=[application.pk])


def scores_form(competition, points, **fields) -> dict:
    criteria = list(competition.criteria.all())
    data = {f"criterion_{c.pk}": p for c, p in zip(criteria, points, strict=True)}
    return {"comment": "", **data, **fields}


def test_reviewer_sees_only_the_submitted_applications_of_the_calls_assigned_to_them(
    case, client, table_rows
):
    other_call = call_with_reviewed_applications(3)  # assigned to other reviewers
    draft = Application.objects.create(
        competition=case.competition, municipality=municipality("apes-novads")
    )
    person = case.reviewers[0]
    client.force_login(person)

    response = client.get(reverse("admin:applications_application_changelist"))
    assert response.status_code == 200
    header, *rows = table_rows(response.text, "result_list")
    assert sorted(row[1] for row in rows) == sorted(
        a.municipality.name for a in case.applications.values()
    )
    # No scores of others, ranks or money columns: only the reviewer's own to-do state.
    assert header[-1] == "Mans vērtējums"
    assert sorted(row[-1] for row in rows) == [
        "Novērtēts: 60,00",
        "Novērtēts: 72,00",
        "Novērtēts: 80,00",
        "Novērtēts: 88,00",
        "Novērtēts: 97,00",
    ]
    assert "Vidējais svērtais vērtējums" not in header
    # Neither the other call's applications nor the draft can be opened.
    for application in [other_call.applications.first(), draft]:
        assert client.get(change_url(application)).status_code == 404
        assert client.get(review_url(application)).status_code == 404
    # The other call is not in the call filter, nor in the list of calls.
    assert str(other_call) not in response.text
    calls = client.get(reverse("admin:competitions_competition_changelist"))
    assert str(case.competition) in calls.text
    assert str(other_call) not in calls.text
    assert (
        client.get(
            reverse("admin:competitions_competition_change", args=[other_call.pk])
        ).status_code
        == 404
    )


def test_reviewer_cannot_reach_the_allocation_the_ledger_or_the_exports(case, client):
    client.force_login(case.reviewers[0])
    call = case.competition.pk
    for url in [
        reverse("admin:competitions_competition_allocation", args=[call]),
        reverse("admin:competitions_competition_allocation_state", args=[call]),
        reverse("admin:competitions_competition_export", args=[call, "csv"]),
        reverse("admin:competitions_competition_export", args=[call, "xlsx"]),
        reverse("admin:applications_allocationevent_changelist"),
    ]:
        assert client.get(url).status_code == 403, url


def test_reviewer_scores_an_application_with_every_criterion_shown(client):
    case = build_source_case(close=False)
    smiltene = case.applications["smiltenes-novads"]
    newcomer = reviewer("newcomer")
    case.competition.reviewers.add(newcomer)
    criterion = case.competition.criteria.first()
    criterion.description_lv = "Cik lielā mērā aktivitātes veicina atgriešanos."
    criterion.save()
    client.force_login(newcomer)

    page = client.get(review_url(smiltene))
    assert page.status_code == 200
    text = page.text
    assert "Cik lielā mērā aktivitātes veicina atgriešanos." in text
    assert "0–10 punkti · svars 0,50" in text
    assert "0–5 punkti · svars 0,20" in text
    assert smiltene.activities.first().title in text

    response = client.post(
        review_url(smiltene), scores_form(case.competition, [8, 5, 5], comment="Labi")
    )
    assert response.status_code == 302
    review = Review.objects.get(application=smiltene, reviewer=newcomer)
    assert review.score == Decimal("75.00")
    assert review.comment == "Labi"
    assert "Jūsu vērtējums pieteikumam" in client.get(response.url).text

    # Changing it later changes the same review.
    client.post(review_url(smiltene), scores_form(case.competition, [10, 10, 5]))
    review.refresh_from_db()
    assert review.score == Decimal("100.00")
    assert Review.objects.filter(application=smiltene, reviewer=newcomer).count() == 1


def test_points_above_a_criterions_maximum_or_missing_are_refused_and_nothing_saved(client):
    case = build_source_case(close=False)
    newcomer = reviewer("newcomer")
    case.competition.reviewers.add(newcomer)
    client.force_login(newcomer)
    smiltene = case.applications["smiltenes-novads"]

    response = client.post(review_url(smiltene), {**scores_form(case.competition, [11, 5, 5])})
    assert response.status_code == 200
    assert "Vērtējums nav saglabāts" in response.text
    criteria = list(case.competition.criteria.all())
    response = client.post(
        review_url(smiltene), {f"criterion_{criteria[0].pk}": 5, "comment": "Nepabeigts"}
    )
    assert response.status_code == 200
    assert "Nepabeigts" in response.text  # what was typed is kept
    assert "Norādiet 0 līdz 10 punktus." in response.text
    assert not Review.objects.filter(reviewer=newcomer).exists()


def test_a_declared_conflict_hides_the_scores_and_leaves_the_review_out_of_the_ranking(client):
    case = build_source_case(close=False)
    smiltene = case.applications["smiltenes-novads"]
    person = case.reviewers[0]
    client.force_login(person)

    response = client.post(
        review_url(smiltene),
        {"conflict_of_interest": "on", "conflict_note": "Radniecība ar projekta vadītāju."},
    )
    assert response.status_code == 302
    review = Review.objects.get(application=smiltene, reviewer=person)
    assert review.conflict_of_interest
    assert review.score is None
    assert not review.scores.exists()
    page = client.get(review_url(smiltene)).text
    assert 'id="scores" hidden' in page

    ranked = Application.objects.get(pk=smiltene.pk)
    assert ranked.review_count == 1
    assert ranked.score_mean == Decimal("92.00")


def test_other_reviewers_scores_are_hidden_until_the_reviewer_has_recorded_their_own(client):
    case = build_source_case(close=False)
    smiltene = case.applications["smiltenes-novads"]
    other_comment = "Ļoti pārliecinošs pieteikums."
    services.review_record(
        application=smiltene,
        reviewer=case.reviewers[1],
        scores={c.pk: c.max_points for c in case.competition.criteria.all()},
        comment=other_comment,
    )
    newcomer = reviewer("newcomer")
    case.competition.reviewers.add(newcomer)
    client.force_login(newcomer)

    before = client.get(change_url(smiltene)).text
    assert other_comment not in before
    assert "reviewer2" not in before
    assert "100,00 no 100" not in before
    assert "Pārējo vērtētāju vērtējumi tiek rādīti pēc jūsu vērtējuma ierakstīšanas." in before
    assert other_comment not in client.get(review_url(smiltene)).text
    reviews = client.get(reverse("admin:applications_review_changelist")).text
    assert other_comment not in reviews
    assert "reviewer2" not in reviews

    # Nor by filtering the list on the scores kept on each application: a refused lookup.
    listed = reverse("admin:applications_application_changelist")
    assert client.get(listed).status_code == 200
    for lookup in ["score_mean__gte=90", "score_max__gte=95", "review_count=1", "score_min=100"]:
        assert client.get(f"{listed}?{lookup}").status_code == 400

    client.post(review_url(smiltene), scores_form(case.competition, [7, 7, 3]))
    after = client.get(change_url(smiltene)).text
    assert other_comment in after
    assert "100,00 no 100" in after


def test_a_reviewer_can_never_edit_another_reviewers_review(client):
    case = build_source_case(close=False)
    smiltene = case.applications["smiltenes-novads"]
    theirs = Review.objects.get(application=smiltene, reviewer=case.reviewers[1])
    score_before = theirs.score
    client.force_login(case.reviewers[0])

    # The review page always edits the signed-in reviewer's own review.
    client.post(review_url(smiltene), scores_form(case.competition, [1, 1, 1], comment="Mans"))
    theirs.refresh_from_db()
    assert theirs.score == score_before
    assert theirs.comment == ""
    assert Review.objects.get(application=smiltene, reviewer=case.reviewers[0]).comment == "Mans"

    # Another reviewer's review cannot be opened, changed or deleted in the reviews admin.
    change = reverse("admin:applications_review_change", args=[theirs.pk])
    assert client.get(change).status_code == 404
    assert client.post(change, {"comment": "x"}).status_code == 403  # no change permission at all
    delete = reverse("admin:applications_review_delete", args=[theirs.pk])
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:applications_review_add")).status_code == 403
    theirs.refresh_from_db()
    assert theirs.score == score_before


def test_a_reviewer_who_acts_for_the_applicant_municipality_cannot_review_it(client):
    case = build_source_case(close=False)
    person = case.reviewers[0]
    municipality("valkas-novads").staff.add(person)
    valka = case.applications["valkas-novads"]
    before = Review.objects.get(application=valka, reviewer=person).score
    client.force_login(person)

    page = client.get(review_url(valka))
    assert page.status_code == 200
    assert (
        "Pieteikumu iesniegusi Jūsu pārstāvētā Valkas novada pašvaldība, tāpēc Jūs to nevarat vērtēt."
        in page.text
    )
    assert 'id="review-form"' not in page.text

    response = client.post(review_url(valka), scores_form(case.competition, [1, 1, 1]))
    assert response.status_code == 200
    assert Review.objects.get(application=valka, reviewer=person).score == before
    listed = client.get(reverse("admin:applications_application_changelist")).text
    assert "Jūs pārstāvat šo pašvaldību, tāpēc to nevērtējat" in listed


def test_a_reviewer_not_assigned_to_the_call_cannot_score(client):
    case = build_source_case(close=False)
    outsider = reviewer("outsider")
    CompetitionFactory().reviewers.add(outsider)
    client.force_login(outsider)
    smiltene = case.applications["smiltenes-novads"]
    assert client.get(review_url(smiltene)).status_code == 404
    assert (
        client.post(review_url(smiltene), scores_form(case.competition, [1, 1, 1])).status_code
        == 404
    )
    assert not Review.objects.filter(reviewer=outsider).exists()


def test_coordinators_cannot_score_unless_assigned(client):
    case = build_source_case(close=False)
    client.force_login(case.coordinator)
    smiltene = case.applications["smiltenes-novads"]
    assert client.get(review_url(smiltene)).status_code == 403
    page = client.get(change_url(smiltene)).text
    assert "Ierakstīt savu vērtējumu" not in page
    # Coordinators see every review on the application's page.
    assert page.count('class="review-card') == 2


def test_the_application_page_shows_activities_documents_through_the_checked_view_and_the_snapshot(
    client,
):
    case = build_source_case(close=False)
    smiltene = case.applications["smiltenes-novads"]
    document = SupportingDocument.objects.create(
        application=smiltene,
        file=ContentFile(b"%PDF-1.4 budget", name="budget.pdf"),
        original_name="Tāme.pdf",
        content_type="application/pdf",
        size=15,
        sha256="0" * 64,
    )
    client.force_login(case.reviewers[0])
    page = client.get(change_url(smiltene)).text
    download = reverse(
        "applications:document_download", kwargs={"pk": smiltene.pk, "document_pk": document.pk}
    )
    assert f'href="{download}"' in page
    assert "Tāme.pdf" in page
    for activity in smiltene.activities.all():
        assert activity.title in page
    assert smiltene.snapshot_sha256 in page
    assert "atbilst kopijai" in page
    served = client.get(download)
    assert served.status_code == 200
    assert served.getvalue() == b"%PDF-1.4 budget"  # read to the end, which closes the file

    outsider = reviewer("outsider")
    client.force_login(outsider)
    assert client.get(download).status_code == 404


def test_reviews_cannot_change_after_the_decision(client):
    case = build_source_case()
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    services.competition_decide(competition=case.competition, by=case.coordinator)
    client.force_login(case.reviewers[0])
    smiltene = case.applications["smiltenes-novads"]
    page = client.get(review_url(smiltene))
    assert page.status_code == 200
    assert 'id="review-form"' not in page.text
    before = Review.objects.get(application=smiltene, reviewer=case.reviewers[0]).score
    client.post(review_url(smiltene), scores_form(case.competition, [0, 0, 0]))
    assert Review.objects.get(application=smiltene, reviewer=case.reviewers[0]).score == before


def test_no_lookup_ordering_or_search_on_a_field_the_admin_hides_from_the_role(client):
    """Every field of every model whose admin hides fields by role, for every role of the
    admin: a lookup from the URL on a field the admin does not show the user answers 400;
    one on a field it shows answers the list. Bounds on the awarded amount would otherwise
    tell a reviewer what the coordinator is allocating before the decision."""
    from django.contrib import admin
    from django.test import RequestFactory

    from competitions.admin_base import HiddenFieldLookupsMixin, fields_named_by

    from .factories import coordinator

    case = build_source_case(close=False)
    users = {
        "reviewer_assigned": case.reviewers[0],
        "reviewer_unassigned": reviewer("elsewhere"),
        "coordinator": coordinator("coordinator-x"),
    }
    admins = [a for a in admin.site._registry.values() if isinstance(a, HiddenFieldLookupsMixin)]
    assert type(admin.site._registry[Application]) in {type(a) for a in admins}
    refused_for_reviewers = {"awarded_amount", "score_mean", "score_min", "score_max"}
    for role, user in users.items():
        client.force_login(user)
        request = RequestFactory().get("/")
        request.user = user
        for model_admin in admins:
            opts = model_admin.model._meta
            listed = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            visible = model_admin.visible_model_fields(request)
            if role != "coordinator":
                assert not visible & refused_for_reviewers, visible
            for field in opts.get_fields():
                answer = client.get(f"{listed}?{field.name}__isnull=False").status_code
                assert answer == (200 if field.name in visible else 400), (role, field.name)
            names = {field.name for field in opts.get_fields()}
            for index, column in enumerate(model_admin.get_list_display(request)):
                order = getattr(getattr(model_admin, column, None), "admin_order_field", None)
                assert fields_named_by(order) & names <= visible, (role, column)
                assert client.get(f"{listed}?o={index}").status_code == 200
            searched = {name.split("__")[0] for name in model_admin.get_search_fields(request)}
            assert searched <= visible, (role, searched)
    # What the issue found: bounds on the awarded amount, refused to a reviewer.
    client.force_login(users["reviewer_assigned"])
    listed = reverse("admin:applications_application_changelist")
    bounds = "awarded_amount__gte=5000&awarded_amount__lte=10000"
    assert client.get(f"{listed}?{bounds}").status_code == 400
    client.force_login(users["coordinator"])
    assert client.get(f"{listed}?{bounds}").status_code == 200


def log_in_from(client, page: str, user):
    return client.post(
        f"{reverse('login')}?next={page}",
        {"username": user.username, "password": "correct horse battery staple", "next": page},
    )


def test_a_reviewer_logging_in_from_the_public_home_lands_on_what_awaits_their_score(client):
    case = build_source_case(close=False)
    newcomer = reviewer("newcomer")
    case.competition.reviewers.add(newcomer)
    response = log_in_from(client, reverse("home"), newcomer)
    assert response.status_code == 302
    assert response.url == reverse("admin:applications_application_changelist") + "?to_score=yes"

    # With nothing left to score, the admin's index; a coordinator lands there too.
    Application.objects.filter(competition=case.competition).update(
        status=Application.Status.WITHDRAWN
    )
    client.logout()
    assert log_in_from(client, reverse("home"), newcomer).url == reverse("admin:index")
    client.logout()
    assert log_in_from(client, reverse("home"), case.coordinator).url == reverse("admin:index")
    # Municipal staff go back to the page they came from.
    client.logout()
    assert log_in_from(client, reverse("home"), case.staff["cesu-novads"]).url == reverse("home")


def test_the_index_and_the_list_count_what_awaits_the_reviewers_score_with_a_to_score_filter(
    client, table_rows
):
    case = build_source_case(close=False)
    newcomer = reviewer("newcomer")
    case.competition.reviewers.add(newcomer)
    smiltene = case.applications["smiltenes-novads"]
    client.force_login(newcomer)
    client.post(review_url(smiltene), scores_form(case.competition, [8, 5, 5]))
    waiting = len(case.applications) - 1

    index = client.get(reverse("admin:index")).text
    assert f"{waiting} pieteikumi gaida Jūsu vērtējumu." in index
    changelist = reverse("admin:applications_application_changelist")
    listed = client.get(changelist).text
    assert f"{waiting} pieteikumi gaida Jūsu vērtējumu." in listed
    assert "?to_score=yes" in listed

    _header, *rows = table_rows(client.get(changelist + "?to_score=yes").text, "result_list")
    assert sorted(row[1] for row in rows) == sorted(
        a.municipality.name for slug, a in case.applications.items() if slug != "smiltenes-novads"
    )
    assert all(row[-1] == "Jānovērtē" for row in rows)
