"""The portal under faults: a database connection lost in the middle of a submission, and
WeasyPrint failing while a letter is issued."""

from decimal import Decimal

import psycopg2
import pytest
import weasyprint
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.urls import reverse

from applications import services
from applications.models import Application, AwardLetter, NumberSequence
from competitions.models import Competition

from .factories import CompetitionFactory, category, municipality, staff_of
from .source_case import DETAILS, activities_costing
from .test_portal_views import form_data


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_killed_during_submission_leaves_the_draft_whole():
    call = CompetitionFactory()
    user = staff_of("smiltenes-novads")
    draft = services.application_start(
        competition=call, municipality=municipality("smiltenes-novads"), by=user
    )
    services.application_update_draft(
        application=draft,
        by=user,
        details=DETAILS,
        activities=activities_costing(Decimal("900"), category().pk),
    )
    before = list(draft.activities.values_list("title", "cost"))

    def kill_before_the_submission_is_written(execute, sql, params, many, context):
        # The moment the submitted status is written, the server ends this connection, as a
        # database restart or a network cut would.
        if (
            sql.startswith("UPDATE")
            and "applications_application" in sql
            and Application.Status.SUBMITTED in (params or ())
        ):
            pid = context["connection"].connection.info.backend_pid
            other = psycopg2.connect(**context["connection"].get_connection_params())
            other.autocommit = True
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            other.close()
        return execute(sql, params, many, context)

    client = Client(raise_request_exception=False)
    client.force_login(user)
    with connection.execute_wrapper(kill_before_the_submission_is_written):
        response = client.post(
            reverse("applications:edit", args=[draft.pk]),
            form_data(draft, [{"cost": "900"}], action="submit"),
        )
    assert response.status_code == 500
    assert "nekas netika saglabāts pa pusei" in response.content.decode()

    connection.close()  # the killed connection; the next query opens a new one
    draft.refresh_from_db()
    assert draft.is_draft
    assert draft.reference is None
    assert draft.snapshot is None
    assert not NumberSequence.objects.filter(last_value__gt=0).exists()
    # The save and the submission are one transaction: the draft is as it was before the
    # request, nothing of what was typed half-written.
    assert list(draft.activities.values_list("title", "cost")) == before
    assert before != [("Aktivitāte 1", Decimal("900.00"))]

    # Once the database is back, the same form posted again is saved and submitted.
    response = client.post(
        reverse("applications:edit", args=[draft.pk]),
        form_data(draft, [{"cost": "900"}], action="submit"),
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.reference.endswith("-001")
    assert list(draft.activities.values_list("title", "cost")) == [
        ("Aktivitāte 1", Decimal("900.00"))
    ]


@pytest.mark.django_db
def test_weasyprint_failing_leaves_the_decision_standing_and_the_letter_can_be_issued_again(
    decided_call, monkeypatch
):
    application = decided_call.applications["smiltenes-novads"]
    client = Client()
    client.force_login(decided_call.coordinator)
    url = reverse("admin:applications_application_issue_letter", args=[application.pk, "lv"])

    def broken(*args, **kwargs):
        raise OSError("cairo: out of memory")  # what a failing renderer raises

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", broken)
    response = client.post(url, follow=True)
    messages = [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]
    assert messages == [
        (
            "error",
            f"{application}: Vēstules PDF neizdevās izveidot, tāpēc nekas netika izdots. "
            "Mēģiniet vēlreiz; ja kļūda atkārtojas, ziņojiet portāla administratoram.",
        )
    ]
    application.refresh_from_db()
    assert application.status == Application.Status.AWARDED
    assert application.awarded_amount == Decimal("10000.00")
    assert Competition.objects.get(pk=decided_call.competition.pk).is_decided
    assert not AwardLetter.objects.exists()

    monkeypatch.undo()
    response = client.post(url, follow=True)
    letter = AwardLetter.objects.get()
    assert letter.number.endswith("/001")
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["success"]
