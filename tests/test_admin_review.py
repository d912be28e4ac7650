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
