"""Decision letters in the admin: the action, the issue button and the letter register."""

import pytest
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from applications import services
from applications.models import AwardLetter
from competitions.models import Competition, JobRun

from .factories import reviewer

pytestmark = pytest.mark.django_db


CHANGELIST = reverse("admin:applications_application_changelist")


def issue_url(application, language="lv") -> str:
    return reverse("admin:applications_application_issue_letter", args=[application.pk, language])


def change_url(application) -> str:
    return reverse("admin:applications_application_change", args=[application.pk])


def messages_of(response) -> list[tuple[str, str]]:
    return [(message.level_tag, str(message)) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def admin_client(client, decided_call):
    client.force_login(decided_call.coordinator)
    return client


def run_action(client, applications):
    return client.post(
        CHANGELIST,
        {"action": "issue_letters", "_selected_action": [a.pk for a in applications]},
        follow=True,
    )


def test_action_issues_a_latvian_letter_to_each_selected_application(admin_client, decided_call):
    selected = [decided_call.applications[s] for s in ("smiltenes-novads", "cesvaines-novads")]
    response = run_action(admin_client, selected)
    job = JobRun.objects.get()
    # The job's page, where the coordinator follows it; without a broker it has run already.
    assert response.redirect_chain == [
        (reverse("admin:competitions_jobrun_change", args=[job.pk]), 302)
    ]
    assert (job.status, job.done, job.total, job.failures) == (JobRun.Status.DONE, 2, 2, [])
    page = response.content.decode()
    assert "2 no 2" in page
    assert 'http-equiv="refresh"' not in page  # finished: the page stops reloading
    # In the order of the municipalities' names.
    assert sorted(AwardLetter.objects.values_list("number", "application__municipality__name")) == [
        ("VPR/2019/remigration-2019/001", "Cesvaines novads"),
        ("VPR/2019/remigration-2019/002", "Smiltenes novads"),
    ]
    assert {(letter.application, letter.language) for letter in AwardLetter.objects.all()} == {
        (application, "lv") for application in selected
    }


def test_action_skips_applications_with_a_letter_and_names_refusals(admin_client, decided_call):
    kept = services.letter_issue(
        application=decided_call.applications["valkas-novads"], by=decided_call.coordinator
    )
    Competition.objects.filter(pk=decided_call.competition.pk).update(signatory_name="")
    gulbene = decided_call.applications["gulbenes-novads"]
    response = run_action(admin_client, [kept.application, gulbene])
    job = JobRun.objects.get()
    assert (job.status, job.done, job.total) == (JobRun.Status.FAILED, 0, 2)
    # In the order of the municipalities' names: Gulbene, then Valka; both on the page.
    assert job.failures[0].startswith(f"{gulbene.reference} · Gulbenes novads: ")
    assert kept.number in job.failures[1]
    page = response.content.decode()
    assert "Gulbenes novads" in page
    assert kept.number in page
    assert AwardLetter.objects.get() == kept


def test_a_running_job_page_reloads_itself_and_shows_the_count_from_the_cache(
    admin_client, decided_call
):
    job = JobRun.objects.create(
        title="Vēstules", started_by=decided_call.coordinator, total=6, status=JobRun.Status.RUNNING
    )
    cache.set(f"job-progress:{job.pk}", 4)
    page = admin_client.get(reverse("admin:competitions_jobrun_change", args=[job.pk]))
    text = page.content.decode()
    assert '<meta http-equiv="refresh" content="3">' in text
    assert "4 no 6" in text


def test_drafts_are_not_in_the_coordinators_reach(admin_client, draft_in_the_call):
    assert admin_client.post(issue_url(draft_in_the_call, "lv")).status_code == 404
    assert not AwardLetter.objects.exists()


@pytest.fixture
def draft_in_the_call(decided_call):
    from .factories import ApplicationFactory, municipality

    return ApplicationFactory(
        competition=decided_call.competition, municipality=municipality("aluksnes-novads")
    )


def test_change_page_offers_issue_then_reissue_and_lists_the_letters(admin_client, decided_call):
    application = decided_call.applications["gulbenes-novads"]
    page = admin_client.get(change_url(application)).text
    assert f'action="{issue_url(application)}"' in page
    assert f'action="{issue_url(application, "en")}"' in page
    assert "Izdot vēstuli latviski" in page
    assert "Izdot vēstuli angliski" in page
    assert "atkārtoti" not in page

    letter = services.letter_issue(application=application, by=decided_call.coordinator)
    page = admin_client.get(change_url(application)).text
    assert "Izdot vēstuli latviski atkārtoti" in page
    assert "Izdot vēstuli angliski<" in page.replace("</button>", "<")
    assert letter.number in page
    assert reverse("applications:letter_download", args=[application.pk, letter.pk]) in page


def test_issue_button_reissues_and_keeps_the_old_letter(admin_client, decided_call):
    application = decided_call.applications["cesu-novads"]
    first = services.letter_issue(application=application, by=decided_call.coordinator)
    response = admin_client.post(issue_url(application, "lv"), follow=True)
    assert response.redirect_chain[-1][0] == change_url(application)
    second = AwardLetter.objects.current().get(application=application)
    first.refresh_from_db()
    assert first.replaced_by == second
    assert messages_of(response) == [
        (
            "success",
            f"Izdota vēstule {second.number} (Cēsu novads); tā aizstāj vēstuli {first.number}.",
        )
    ]


def test_issue_button_issues_english_on_request(admin_client, decided_call):
    application = decided_call.applications["valkas-novads"]
    admin_client.post(issue_url(application, "en"))
    assert AwardLetter.objects.get(application=application).language == "en"


def test_issue_button_accepts_only_csrf_protected_posts_from_coordinators(decided_call):
    application = decided_call.applications["valkas-novads"]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(decided_call.coordinator)
    assert strict.get(issue_url(application)).status_code == 405
    assert strict.post(issue_url(application, "lv")).status_code == 403
    not_allowed = Client()
    not_allowed.force_login(reviewer("reviewer3"))
    assert not_allowed.post(issue_url(application, "lv")).status_code == 403
    assert not AwardLetter.objects.exists()


def test_issue_button_reports_a_refusal(admin_client, decided_call):
    application = decided_call.applications["valkas-novads"]
    response = admin_client.post(issue_url(application, "de"), follow=True)
    assert messages_of(response)[0][0] == "error"
    assert not AwardLetter.objects.exists()


def test_letter_register_lists_letters_with_download_links_and_changes_nothing(
    admin_client, decided_call
):
    letters = services.competition_issue_letters(
        competition=decided_call.competition, by=decided_call.coordinator
    )
    page = admin_client.get(reverse("admin:applications_awardletter_changelist")).text
    for letter in letters:
        assert letter.number in page
        assert (
            reverse("applications:letter_download", args=[letter.application_id, letter.pk]) in page
        )
    assert reverse("admin:applications_awardletter_add") not in page
    detail = admin_client.get(
        reverse("admin:applications_awardletter_change", args=[letters[0].pk])
    )
    assert detail.status_code == 200
    assert letters[0].sha256 in detail.text
    assert 'name="number"' not in detail.text  # shown, not editable
