"""Threads on an application: messages, requests for clarification and their answers, with
attachments, read by exactly the right people, never changed or deleted, counted unread."""

import datetime

import pytest
from django.contrib import admin
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from competitions.languages import language_of, language_record
from conversations import services
from conversations.models import Message, MessageRead

from .factories import PDF, CompetitionFactory, reviewer
from .source_case import build_source_case

pytestmark = pytest.mark.django_db

TOMORROW = datetime.timedelta(days=1)


@pytest.fixture
def case():
    return build_source_case(close=False)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def fetched(response) -> int:
    """The status of a download, read to the end as a server would (which closes the file)."""
    if response.streaming:
        b"".join(response.streaming_content)
    return response.status_code


def pdf(name="rekins.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def ask(case, client=None, *, body="Trūkst 2. aktivitātes rēķina.", due=None):
    """The coordinator asks Valmiera, through the admin's form, with a file."""
    application = case.applications["valmieras-pilseta"]
    client = client or signed_in(case.coordinator)
    due = due or timezone.localdate() + TOMORROW * 7
    response = client.post(
        reverse("admin:conversations_message_write", args=[application.pk]),
        {"body": body, "is_request": "on", "due_on": due.isoformat(), "files": [pdf("veidne.pdf")]},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return application, Message.objects.filter(application=application).latest("pk")


def test_a_request_and_its_answer_with_attachments_are_seen_by_exactly_the_right_people(
    case, django_capture_on_commit_callbacks
):
    valmiera = case.staff["valmieras-pilseta"]
    with django_capture_on_commit_callbacks(execute=True):
        application, request = ask(case)
    assert request.is_request
    assert request.attachments.count() == 1
    assert [m.to for m in mail.outbox] == [[valmiera.email]]
    assert "2. aktivitātes rēķina" in mail.outbox[0].body

    staff = signed_in(valmiera)
    dashboard = staff.get(reverse("applications:dashboard")).content.decode()
    assert 'id="open-requests-list"' in dashboard
    assert "Trūkst 2. aktivitātes rēķina" in dashboard
    page = staff.get(reverse("conversations:thread", args=[application.pk])).content.decode()
    assert "veidne.pdf" in page
    attachment = request.attachments.get()
    download = reverse("conversations:attachment", args=[application.pk, attachment.pk])
    assert fetched(staff.get(download)) == 200

    # Staff of another municipality and a reviewer of another call: nothing there.
    other_call_reviewer = reviewer("reviewer-elsewhere")
    CompetitionFactory().reviewers.add(other_call_reviewer)
    for outsider in (case.staff["valkas-novads"], other_call_reviewer):
        client = signed_in(outsider)
        assert client.get(reverse("conversations:thread", args=[application.pk])).status_code == 404
        assert client.get(download).status_code == 404
        assert (
            client.post(
                reverse("conversations:write", args=[application.pk]), {"body": "x"}
            ).status_code
            == 404
        )
    elsewhere = signed_in(other_call_reviewer)
    admin_thread = reverse("admin:conversations_message_thread", args=[application.pk])
    assert elsewhere.get(admin_thread).status_code == 404
    # The call's own reviewer reads it, and its file.
    own_reviewer = signed_in(case.reviewers[0])
    assert own_reviewer.get(admin_thread).status_code == 200
    assert fetched(own_reviewer.get(download)) == 200

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            reverse("conversations:write", args=[application.pk]),
            {"body": "Pievienojam rēķinu.", "answer_to": request.pk, "files": [pdf()]},
        )
    assert response.status_code == 302
    answer = Message.objects.get(answer_to=request)
    assert answer.side == Message.Side.MUNICIPALITY
    assert answer.attachments.count() == 1
    assert not Message.objects.open_requests().exists()
    assert case.coordinator.email in {address for m in mail.outbox for address in m.to}

    coordinator_page = signed_in(case.coordinator).get(admin_thread).content.decode()
    assert "Pievienojam rēķinu." in coordinator_page
    assert "rekins.pdf" in coordinator_page
    assert "request-answered" in coordinator_page


def test_a_request_is_a_coordinators_and_due_today_or_later(case):
    application = case.applications["valmieras-pilseta"]
    with pytest.raises(ValidationError) as refused:
        services.message_post(
            application=application,
            by=case.reviewers[0],
            body="Lūdzu precizēt.",
            due_on=timezone.localdate() + TOMORROW,
        )
    assert refused.value.error_list[0].code == "not_coordinator"
    with pytest.raises(ValidationError) as refused:
        services.message_post(
            application=application,
            by=case.coordinator,
            body="Lūdzu precizēt.",
            due_on=timezone.localdate() - TOMORROW,
        )
    assert refused.value.error_list[0].code == "due_in_the_past"
    # The reviewer's form has no request field: what they send is a message.
    page = signed_in(case.reviewers[0]).get(
        reverse("admin:conversations_message_thread", args=[application.pk])
    )
    assert 'name="is_request"' not in page.content.decode()
    assert not Message.objects.exists()


def test_a_request_is_answered_once(case):
    application, request = ask(case)
    valmiera = case.staff["valmieras-pilseta"]
    services.message_post(application=application, by=valmiera, body="Atbilde", answer_to=request)
    with pytest.raises(ValidationError) as refused:
        services.message_post(
            application=application, by=valmiera, body="Vēlreiz", answer_to=request
        )
    assert refused.value.error_list[0].code == "already_answered"


def test_a_failed_upload_keeps_the_message_typed_and_saves_nothing(case):
    application = case.applications["valmieras-pilseta"]
    response = signed_in(case.staff["valmieras-pilseta"]).post(
        reverse("conversations:write", args=[application.pk]),
        {"body": "Mūsu jautājums", "files": [SimpleUploadedFile("a.pdf", b"not a pdf")]},
    )
    assert response.status_code == 200
    assert "Mūsu jautājums" in response.content.decode()
    assert not Message.objects.exists()


def test_messages_are_never_changed_or_deleted_by_any_url_or_admin_page(case):
    _application, request = ask(case)
    request.body = "changed"
    with pytest.raises(TypeError):
        request.save()
    with pytest.raises(TypeError):
        request.delete()
    with pytest.raises(TypeError):
        Message.objects.filter(pk=request.pk).update(body="changed")
    with pytest.raises(TypeError):
        Message.objects.filter(pk=request.pk).delete()

    # No URL of the thread edits or deletes.
    from .test_authorization_matrix import url_patterns

    routes = [
        route for name, route, _groups in url_patterns() if str(name).startswith("conversations:")
    ]
    assert routes
    assert not [r for r in routes if "edit" in r or "delete" in r or "change" in r]

    # The admin: nobody may add, change or delete a message there, a superuser neither.
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", "root@example.lv", "x")
    model_admin = admin.site._registry[Message]
    client = signed_in(root)
    rq = RequestFactory().get("/")
    rq.user = root
    assert not model_admin.has_add_permission(rq)
    assert not model_admin.has_change_permission(rq, request)
    assert not model_admin.has_delete_permission(rq, request)
    change = reverse("admin:conversations_message_change", args=[request.pk])
    assert client.post(change, {"body": "changed"}).status_code == 302  # to the thread
    assert (
        client.get(reverse("admin:conversations_message_delete", args=[request.pk])).status_code
        == 403
    )
    assert (
        client.post(
            reverse("admin:conversations_message_delete", args=[request.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert client.get(reverse("admin:conversations_message_add")).status_code == 403
    assert not model_admin.get_actions(rq)
    request.refresh_from_db()
    assert request.body == "Trūkst 2. aktivitātes rēķina."


def test_unread_counts_on_the_dashboard_and_in_the_admin_and_who_read_when(case):
    application, request = ask(case)
    valmiera = case.staff["valmieras-pilseta"]
    staff = signed_in(valmiera)
    dashboard = staff.get(reverse("applications:dashboard")).content.decode()
    assert "1 neizlasīta ziņa" in dashboard
    staff.get(reverse("conversations:thread", args=[application.pk]))
    read = MessageRead.objects.get(message=request)
    assert read.user == valmiera
    dashboard = staff.get(reverse("applications:dashboard")).content.decode()
    assert "neizlasīta ziņa" not in dashboard
    # Reading again keeps the first reading.
    staff.get(reverse("conversations:thread", args=[application.pk]))
    assert MessageRead.objects.get(message=request).read_at == read.read_at

    services.message_post(application=application, by=valmiera, body="Viens")
    services.message_post(application=application, by=valmiera, body="Divi")
    coordinator = signed_in(case.coordinator)
    index = coordinator.get(reverse("admin:index")).content.decode()
    assert "2 neizlasītas ziņas no pašvaldībām" in index
    listed = coordinator.get(reverse("admin:conversations_message_changelist") + "?unread=yes")
    assert listed.context["cl"].result_count == 2
    page = coordinator.get(reverse("admin:conversations_message_thread", args=[application.pk]))
    assert valmiera.username in page.content.decode()  # who read the request
    index = coordinator.get(reverse("admin:index")).content.decode()
    assert "0 neizlasītu ziņu no pašvaldībām" in index or "neizlasīt" not in index
    # The other coordinator has still read nothing.
    assert Message.objects.unread_by(case.reviewers[0], side="authority").count() == 2


def test_reviewers_never_see_another_reviewers_private_comment(case):
    application = case.applications["valmieras-pilseta"]
    review = application.reviews.get(reviewer=case.reviewers[1])
    type(review).objects.filter(pk=review.pk).update(comment="SLEPENS-KOMENTĀRS")
    services.message_post(application=application, by=case.reviewers[1], body="Jautājums")
    page = signed_in(case.reviewers[0]).get(
        reverse("admin:conversations_message_thread", args=[application.pk])
    )
    assert page.status_code == 200
    assert "SLEPENS-KOMENTĀRS" not in page.content.decode()
    staff_page = signed_in(case.staff["valmieras-pilseta"]).get(
        reverse("conversations:thread", args=[application.pk])
    )
    assert "SLEPENS-KOMENTĀRS" not in staff_page.content.decode()


def test_mail_goes_to_each_recipient_in_their_language(case, django_capture_on_commit_callbacks):
    application = case.applications["valmieras-pilseta"]
    valmiera = case.staff["valmieras-pilseta"]
    english = type(valmiera).objects.create_user("juris", "juris@example.lv", "x")
    application.municipality.staff.add(english)
    language_record(user=english, language="en")
    with django_capture_on_commit_callbacks(execute=True):
        services.message_post(
            application=application,
            by=case.coordinator,
            body="Lūdzu precizēt.",
            due_on=timezone.localdate() + TOMORROW,
        )
    by_address = {tuple(m.to): m for m in mail.outbox}
    latvian, english_mail = by_address[(valmiera.email,)], by_address[(english.email,)]
    assert latvian.subject.startswith("Precizējuma pieprasījums")
    assert english_mail.subject.startswith("Request for clarification")
    assert "/en/messages/" in english_mail.body
    assert "/en/" not in latvian.body
    assert " / " not in latvian.subject  # one language, not both


def test_the_language_last_used_on_the_portal_is_recorded(case):
    valmiera = case.staff["valmieras-pilseta"]
    client = signed_in(valmiera)
    assert language_of(valmiera) == "lv"
    client.get("/en/applications/")
    assert language_of(valmiera) == "en"
    client.get("/applications/")
    assert language_of(valmiera) == "lv"


def test_messages_wait_for_the_submission(case):
    from applications import services as application_services

    draft = application_services.application_start(
        competition=CompetitionFactory(),
        municipality=case.staff["valmieras-pilseta"].municipalities.get(),
        by=case.staff["valmieras-pilseta"],
    )
    with pytest.raises(ValidationError) as refused:
        services.message_post(application=draft, by=case.staff["valmieras-pilseta"], body="?")
    assert refused.value.error_list[0].code == "thread_not_open"


def test_a_call_published_is_mailed_to_the_staff_of_its_eligible_municipalities(
    django_capture_on_commit_callbacks,
):
    from competitions.models import Competition, Municipality
    from competitions.services import competition_publish

    from .factories import coordinator, staff_of

    call = CompetitionFactory(status=Competition.Status.DRAFT, published_at=None)
    call.reviewers.add(reviewer("reviewer-publish"))
    call.eligible_municipalities.set(Municipality.objects.filter(slug__in=["valkas-novads"]))
    valka = staff_of("valkas-novads", "valka")
    smiltene = staff_of("smiltenes-novads", "smiltene")
    language_record(user=valka, language="en")
    with django_capture_on_commit_callbacks(execute=True):
        competition_publish(competition=call, by=coordinator("vpr"))
    assert [m.to for m in mail.outbox] == [[valka.email]]
    assert mail.outbox[0].subject == f"A new call is open: “{call.title_en}”"
    assert f"/en/competitions/{call.slug}/" in mail.outbox[0].body
    assert smiltene.email not in mail.outbox[0].to


def test_a_moved_deadline_is_mailed_to_the_staff_with_a_draft(
    django_capture_on_commit_callbacks,
):
    from applications import services as application_services

    from .factories import coordinator, staff_of
    from .test_admin_calls import call_form

    call = CompetitionFactory()
    valka = staff_of("valkas-novads", "valka")
    staff_of("smiltenes-novads", "smiltene")
    application_services.application_start(
        competition=call, municipality=valka.municipalities.get(), by=valka
    )
    client = signed_in(coordinator("vpr"))
    later = timezone.localtime(call.closes_at) + datetime.timedelta(days=7)
    data = call_form(call, closes_at_0=later.strftime("%d.%m.%Y."))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:competitions_competition_change", args=[call.pk]), data
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert [m.to for m in mail.outbox] == [[valka.email]]
    assert later.strftime("%d.%m.%Y.") in mail.outbox[0].body


def test_the_demo_shows_an_answered_request_and_an_open_one_and_loads_again_unchanged():
    import io

    from django.core.management import call_command

    call_command("load_demo", "--force", stdout=io.StringIO())
    valmiera = Message.objects.filter(application__municipality__slug="valmieras-pilseta")
    assert [m.kind for m in valmiera] == ["request", "answer"]
    assert valmiera.last().attachments.get().original_name == "tame-vizite.pdf"
    open_requests = Message.objects.open_requests()
    assert [m.application.municipality.slug for m in open_requests] == ["gulbenes-novads"]
    rows = list(Message.objects.values_list("pk", "sent_at"))
    call_command("load_demo", "--force", stdout=io.StringIO())
    assert list(Message.objects.values_list("pk", "sent_at")) == rows


def test_a_threads_pages_take_the_same_queries_for_2_and_12_messages(case):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    application = case.applications["valmieras-pilseta"]
    valmiera = case.staff["valmieras-pilseta"]
    pages = {
        signed_in(valmiera): reverse("conversations:thread", args=[application.pk]),
        signed_in(case.coordinator): reverse(
            "admin:conversations_message_thread", args=[application.pk]
        ),
    }
    counts = {}
    for total in (2, 12):
        while Message.objects.count() < total:
            request = services.message_post(
                application=application,
                by=case.coordinator,
                body="Jautājums",
                due_on=timezone.localdate() + TOMORROW,
                files=[pdf()],
            )
            services.message_post(
                application=application,
                by=valmiera,
                body="Atbilde",
                answer_to=request,
                files=[pdf()],
            )
        for client, url in pages.items():
            client.get(url)  # the readings recorded, then counted as a reader comes back
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts.setdefault(url, []).append(len(queries))
    for url, numbers in counts.items():
        assert numbers[0] == numbers[1], (url, numbers)
