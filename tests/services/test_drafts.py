"""The rules of ``applications/services/drafts.py``: starting, saving, submitting, withdrawing
and deleting an application; each refusal with its code and a message naming the amounts."""

import hashlib
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone, translation

from applications import services
from applications.models import AllocationEvent, Application, snapshot_digest
from competitions.models import Competition

from ..amounts import spaced
from ..factories import (
    PDF,
    ApplicationFactory,
    CompetitionFactory,
    PlannedActivityFactory,
    category,
    coordinator,
    municipality,
    staff_of,
)
from ..source_case import DETAILS, activities_costing, build_source_case, close_call
from .common import codes, save, text

pytestmark = pytest.mark.django_db

RIGA = ZoneInfo("Europe/Riga")


# --- starting and saving a draft --------------------------------------------------------------


def test_start_creates_a_draft_for_the_staff_members_municipality(draft, smiltene):
    assert draft.status == Application.Status.DRAFT
    assert draft.created_by == smiltene
    assert draft.requested_amount == Decimal("0.00")


def test_start_is_refused_to_staff_of_another_municipality(call):
    valka = staff_of("valkas-novads")
    with pytest.raises(ValidationError) as error:
        services.application_start(
            competition=call, municipality=municipality("smiltenes-novads"), by=valka
        )
    assert codes(error.value) == ["not_municipality_staff"]
    assert "Smiltenes novads" in text(error.value)


def test_start_is_refused_to_a_municipality_not_eligible(call, smiltene):
    call.eligible_municipalities.remove(municipality("smiltenes-novads"))
    with pytest.raises(ValidationError) as error:
        services.application_start(
            competition=call, municipality=municipality("smiltenes-novads"), by=smiltene
        )
    assert codes(error.value) == ["not_eligible"]


def test_start_twice_is_refused_and_keeps_the_first_draft(draft, call, smiltene):
    with pytest.raises(ValidationError) as error:
        services.application_start(
            competition=call, municipality=municipality("smiltenes-novads"), by=smiltene
        )
    assert codes(error.value) == ["already_exists"]
    assert Application.objects.get() == draft


def test_start_is_refused_for_an_unpublished_call(smiltene):
    call = CompetitionFactory(status=Competition.Status.DRAFT)
    with pytest.raises(ValidationError) as error:
        services.application_start(
            competition=call, municipality=municipality("smiltenes-novads"), by=smiltene
        )
    assert codes(error.value) == ["call_not_open"]


def test_a_call_no_longer_published_refuses_the_save_naming_itself_in_both_languages(
    draft, smiltene, call
):
    Competition.objects.filter(pk=call.pk).update(status=Competition.Status.DRAFT)
    for language, message in (
        ("lv", "Konkursā “{call}” pieteikumi netiek pieņemti."),
        ("en", "The call “{call}” is not accepting applications."),
    ):
        with translation.override(language):
            with pytest.raises(ValidationError) as error:
                save(draft, smiltene, ["100"])
            title = call.title  # in the language of the page
        assert codes(error.value) == ["call_not_open"]
        assert error.value.messages == [message.format(call=title)]
    assert not draft.activities.exists()


def test_requested_amount_is_always_the_sum_of_the_activity_costs(draft, smiltene):
    application = save(draft, smiltene, ["1500.50", "2000.00", "300.25"])
    assert application.requested_amount == Decimal("3800.75")
    assert application.activities.count() == 3

    kept = list(application.activities.order_by("order"))[1]
    application = services.application_update_draft(
        application=application,
        by=smiltene,
        details=DETAILS,
        activities=[
            services.ActivityData(
                id=kept.pk,
                category_id=kept.category_id,
                title="Jauns nosaukums",
                cost=Decimal("99.99"),
            )
        ],
    )
    application.refresh_from_db()
    assert application.requested_amount == Decimal("99.99")
    assert list(application.activities.values_list("pk", "title")) == [(kept.pk, "Jauns nosaukums")]


def test_save_over_the_cap_is_kept_and_the_excess_named_for_the_submission(draft, smiltene):
    # A draft may be over the cap while it is written; the submission refuses it.
    save(draft, smiltene, ["4000.00"])
    application = save(draft, smiltene, ["6000.00", "4500.50"])
    application.refresh_from_db()
    assert application.requested_amount == Decimal("10500.50")
    assert application.activities.count() == 2
    (problem,) = services.over_cap_problems(application)
    assert problem.code == "over_cap"
    assert spaced("10 500,50 €") in text(problem)
    assert spaced("10 000,00 €") in text(problem)
    assert spaced("500,50 €") in text(problem)
    with pytest.raises(ValidationError) as error:
        services.application_submit(application=application, by=smiltene)
    assert "over_cap" in codes(error.value)


@pytest.mark.parametrize(
    "cost", [Decimal("0"), Decimal("-5"), Decimal("1.001"), Decimal("NaN"), "abc"]
)
def test_save_with_an_invalid_cost_is_refused(draft, smiltene, cost):
    with pytest.raises(ValidationError) as error:
        services.application_update_draft(
            application=draft,
            by=smiltene,
            details=DETAILS,
            activities=[services.ActivityData(category_id=category().pk, title="X", cost=cost)],
        )
    assert set(codes(error.value)) <= {"invalid_amount", "min_value", "activity_cost_positive"}
    assert draft.activities.count() == 0


def test_save_with_a_huge_total_is_refused(draft, smiltene):
    huge = services.ActivityData(
        category_id=category().pk, title="X", cost=Decimal("9999999999.99")
    )
    with pytest.raises(ValidationError) as error:
        services.application_update_draft(
            application=draft, by=smiltene, details=DETAILS, activities=[huge, huge]
        )
    assert "amount_too_large" in codes(error.value)


def test_save_with_an_activity_ending_before_it_starts_is_refused(draft, smiltene):
    with pytest.raises(ValidationError) as error:
        services.application_update_draft(
            application=draft,
            by=smiltene,
            details=DETAILS,
            activities=[
                services.ActivityData(
                    category_id=category().pk,
                    title="X",
                    cost=Decimal("10"),
                    starts_on=date(2019, 9, 2),
                    ends_on=date(2019, 9, 1),
                )
            ],
        )
    assert text(error.value) == "1. aktivitāte: Aktivitāte nevar beigties pirms tās sākuma."


def test_a_save_without_readable_activities_keeps_them_and_saves_the_details_in_its_authors_name(
    draft, smiltene
):
    save(draft, smiltene, ["100", "200"])
    activities = list(draft.activities.values_list("pk", "title", "cost"))
    typed = services.ApplicationDetails(**{**vars(DETAILS), "summary": "Tikai kopsavilkums"})
    services.application_update_draft(
        application=draft, by=smiltene, details=typed, activities=None
    )
    draft.refresh_from_db()
    assert draft.summary == "Tikai kopsavilkums"
    assert list(draft.activities.values_list("pk", "title", "cost")) == activities
    assert draft.requested_amount == Decimal("300.00")
    latest = draft.history.first()
    assert (latest.summary, latest.history_user) == ("Tikai kopsavilkums", smiltene)


def test_save_with_a_category_outside_the_call_is_refused(draft, smiltene, call):
    call.categories.remove(category("other"))
    with pytest.raises(ValidationError) as error:
        services.application_update_draft(
            application=draft,
            by=smiltene,
            details=DETAILS,
            activities=[
                services.ActivityData(
                    category_id=category("other").pk, title="X", cost=Decimal("10")
                )
            ],
        )
    assert codes(error.value) == ["category_not_in_call"]


def test_save_of_an_activity_of_another_application_is_refused(draft, smiltene):
    foreign = PlannedActivityFactory()
    with pytest.raises(ValidationError) as error:
        services.application_update_draft(
            application=draft,
            by=smiltene,
            details=DETAILS,
            activities=[
                services.ActivityData(
                    id=foreign.pk, category_id=category().pk, title="X", cost=Decimal("10")
                )
            ],
        )
    assert codes(error.value) == ["unknown_activity"]
    foreign.refresh_from_db()
    assert foreign.title != "X"


def test_save_by_staff_of_another_municipality_is_refused(draft):
    with pytest.raises(ValidationError) as error:
        save(draft, staff_of("valkas-novads"), ["100"])
    assert codes(error.value) == ["not_municipality_staff"]


def test_save_after_the_deadline_is_refused(draft, smiltene, call):
    with time_machine.travel(call.closes_at, tick=False), pytest.raises(ValidationError) as error:
        save(draft, smiltene, ["100"])
    assert codes(error.value) == ["deadline_passed"]


# --- submitting -------------------------------------------------------------------------------


def test_submit_freezes_a_snapshot_with_its_sha256_and_gives_a_reference(draft, smiltene, call):
    save(draft, smiltene, ["6000.00", "3800.00"])
    submitted = services.application_submit(application=draft, by=smiltene)
    year = timezone.localtime(call.opens_at).year
    assert submitted.reference == f"REM-{year}-001"
    assert submitted.status == Application.Status.SUBMITTED
    assert submitted.submitted_by == smiltene
    submitted.refresh_from_db()
    assert submitted.snapshot["requested_amount"] == "9800.00"
    assert [a["cost"] for a in submitted.snapshot["activities"]] == ["6000.00", "3800.00"]
    assert submitted.snapshot_sha256 == snapshot_digest(submitted.snapshot)
    assert len(submitted.snapshot_sha256) == 64


def test_the_snapshot_holds_the_whole_application_as_submitted_and_nothing_else(
    draft, smiltene, call
):
    """The frozen record the receipt prints and the digest seals: every field by its name, the
    amounts as text to the cent, the dates as ISO text, each document by name, size and hash."""
    save(draft, smiltene, ["6000.00", "3800.00"])
    services.document_add(
        application=draft, by=smiltene, file=ContentFile(PDF, name="Tāme 2019.pdf")
    )
    moment = timezone.now().replace(microsecond=0)
    with time_machine.travel(moment, tick=False):
        submitted = services.application_submit(application=draft, by=smiltene)
    submitted.refresh_from_db()
    activity = activities_costing(Decimal("100"), category().pk)[0]
    document = submitted.documents.get()
    assert submitted.snapshot == {
        "reference": submitted.reference,
        "call": {
            "slug": call.slug,
            "title": call.title_lv,
            "max_award_amount": "10000.00",
        },
        "municipality": "Smiltenes novads",
        "submitted_at": moment.isoformat(),
        "submitted_by": smiltene.get_username(),
        "contact": {
            "name": DETAILS.contact_name,
            "email": DETAILS.contact_email,
            "phone": DETAILS.contact_phone,
        },
        "goals": DETAILS.goals,
        "target_groups": DETAILS.target_groups,
        "summary": DETAILS.summary,
        "requested_amount": "9800.00",
        "activities": [
            {
                "category": category().code,
                "title": activity.title,
                "description": activity.description,
                "starts_on": activity.starts_on.isoformat(),
                "ends_on": activity.ends_on.isoformat(),
                "target_group": activity.target_group,
                "expected_result": activity.expected_result,
                "cost": cost,
            }
            for cost in ["6000.00", "3800.00"]
        ],
        "documents": [
            {"name": "Tāme_2019.pdf", "size": len(PDF), "sha256": hashlib.sha256(PDF).hexdigest()}
        ],
    }
    assert document.sha256 == hashlib.sha256(PDF).hexdigest()


def test_references_are_numbered_in_order_within_a_year(call):
    references = []
    for slug in ["smiltenes-novads", "valkas-novads", "cesu-novads"]:
        user = staff_of(slug)
        application = services.application_start(
            competition=call, municipality=municipality(slug), by=user
        )
        save(application, user, ["100"])
        references.append(services.application_submit(application=application, by=user).reference)
    year = timezone.localtime(call.opens_at).year
    assert references == [f"REM-{year}-001", f"REM-{year}-002", f"REM-{year}-003"]


def test_submit_without_activities_is_refused(draft, smiltene):
    services.application_update_draft(
        application=draft, by=smiltene, details=DETAILS, activities=[]
    )
    with pytest.raises(ValidationError) as error:
        services.application_submit(application=draft, by=smiltene)
    assert codes(error.value) == ["no_activities"]
    draft.refresh_from_db()
    assert draft.status == Application.Status.DRAFT
    assert draft.reference is None


def test_submit_of_an_incomplete_draft_names_what_is_missing(draft, smiltene):
    services.application_update_draft(
        application=draft,
        by=smiltene,
        details=services.ApplicationDetails(contact_name="Ilze"),
        activities=[
            services.ActivityData(category_id=category().pk, title="X", cost=Decimal("10"))
        ],
    )
    with pytest.raises(ValidationError) as error:
        services.application_submit(application=draft, by=smiltene)
    assert codes(error.value) == ["incomplete"]
    assert "kopsavilkums" in text(error.value)
    assert "1. aktivitāte: sākuma datums" in text(error.value)
    assert "kontaktpersona;" not in text(error.value)  # it was given


def test_submit_of_an_incomplete_draft_says_which_field_is_missing_for_the_form(draft, smiltene):
    services.application_update_draft(
        application=draft,
        by=smiltene,
        details=services.ApplicationDetails(contact_name="Ilze", goals="Mērķi"),
        activities=[
            *activities_costing(Decimal("100"), category().pk),
            services.ActivityData(
                category_id=category().pk, title="X", cost=Decimal("10"), description="Apraksts"
            ),
        ],
    )
    *_complete, third = draft.activities.order_by("order")
    with pytest.raises(ValidationError) as error:
        services.application_submit(application=draft, by=smiltene)
    (problem,) = error.value.error_list
    assert problem.params["missing"] == services.MissingToSubmit(
        fields=("contact_email", "target_groups", "summary"),
        activity_fields={third.pk: ("starts_on", "ends_on", "target_group", "expected_result")},
    )
    assert "3. aktivitāte: sākuma datums" in text(error.value)


def test_submit_over_the_cap_is_refused_and_keeps_the_draft(draft, smiltene):
    # Activities written past the service (as after a cap was lowered): the submission still checks.
    save(draft, smiltene, ["5000"])
    PlannedActivityFactory(application=draft, cost=Decimal("5250.00"))
    Application.objects.filter(pk=draft.pk).update(requested_amount=Decimal("10250.00"))
    with pytest.raises(ValidationError) as error:
        services.application_submit(application=draft, by=smiltene)
    assert codes(error.value) == ["over_cap"]
    assert spaced("10 250,00 €") in text(error.value)
    assert spaced("250,00 €") in text(error.value)
    draft.refresh_from_db()
    assert draft.is_draft
    assert draft.activities.count() == 2


def test_submit_closes_at_the_deadline_in_riga_time(smiltene):
    deadline = datetime(2019, 8, 30, 17, 0, tzinfo=RIGA)
    call = CompetitionFactory(opens_at=deadline - timedelta(days=25), closes_at=deadline)
    with time_machine.travel(deadline - timedelta(days=1), tick=False):
        application = services.application_start(
            competition=call, municipality=municipality("smiltenes-novads"), by=smiltene
        )
        save(application, smiltene, ["100"])
    with time_machine.travel(deadline - timedelta(seconds=1), tick=False):
        assert services.application_submit(application=application, by=smiltene).reference

    cesis = staff_of("cesu-novads")
    with time_machine.travel(deadline - timedelta(days=1), tick=False):
        late = services.application_start(
            competition=call, municipality=municipality("cesu-novads"), by=cesis
        )
        save(late, cesis, ["100"])
    with time_machine.travel(deadline, tick=False), pytest.raises(ValidationError) as error:
        services.application_submit(application=late, by=cesis)
    assert codes(error.value) == ["deadline_passed"]
    assert "30.08.2019. 17:00" in text(error.value)


def test_submit_before_the_call_opens_is_refused(smiltene):
    call = CompetitionFactory(
        opens_at=timezone.now() + timedelta(days=1), closes_at=timezone.now() + timedelta(days=9)
    )
    application = services.application_start(
        competition=call, municipality=municipality("smiltenes-novads"), by=smiltene
    )
    save(application, smiltene, ["100"])
    with pytest.raises(ValidationError) as error:
        services.application_submit(application=application, by=smiltene)
    assert codes(error.value) == ["call_not_open_yet"]


def test_the_reference_carries_the_year_the_call_opened_in_not_the_year_of_submission(smiltene):
    riga = ZoneInfo("Europe/Riga")
    call = CompetitionFactory(
        opens_at=datetime(2025, 12, 15, 10, 0, tzinfo=riga),
        closes_at=datetime(2026, 1, 31, 17, 0, tzinfo=riga),
    )
    with time_machine.travel(datetime(2026, 1, 10, 12, 0, tzinfo=riga), tick=False):
        application = services.application_start(
            competition=call, municipality=municipality("smiltenes-novads"), by=smiltene
        )
        save(application, smiltene, ["100"])
        submitted = services.application_submit(application=application, by=smiltene)
    assert submitted.reference == "REM-2025-001"


def test_submit_by_an_ineligible_municipality_is_refused(draft, smiltene, call):
    save(draft, smiltene, ["100"])
    call.eligible_municipalities.remove(municipality("smiltenes-novads"))
    with pytest.raises(ValidationError) as error:
        services.application_submit(application=draft, by=smiltene)
    assert codes(error.value) == ["not_eligible"]


def test_submit_by_staff_of_another_municipality_is_refused(draft, smiltene):
    save(draft, smiltene, ["100"])
    with pytest.raises(ValidationError) as error:
        services.application_submit(application=draft, by=staff_of("valkas-novads"))
    assert codes(error.value) == ["not_municipality_staff"]


def test_submit_twice_is_refused_and_changes_nothing(draft, smiltene):
    save(draft, smiltene, ["100"])
    first = services.application_submit(application=draft, by=smiltene)
    with pytest.raises(ValidationError) as error:
        services.application_submit(application=draft, by=smiltene)
    assert codes(error.value) == ["not_draft"]
    draft.refresh_from_db()
    assert draft.reference == first.reference


def test_a_submitted_application_cannot_be_edited(draft, smiltene):
    save(draft, smiltene, ["100"])
    services.application_submit(application=draft, by=smiltene)
    with pytest.raises(ValidationError) as error:
        save(draft, smiltene, ["200"])
    assert codes(error.value) == ["not_draft"]


def test_submission_mails_the_municipality_and_the_coordinators(
    draft, smiltene, django_capture_on_commit_callbacks, settings
):
    # The links are built on the configured address, whatever port the shell's PORT names.
    settings.PORTAL_BASE_URL = "https://granti.vidzeme.lv/"
    coordinator()
    save(draft, smiltene, ["100"])
    with django_capture_on_commit_callbacks(execute=True):
        submitted = services.application_submit(application=draft, by=smiltene)
    staff_mail, coordinators_mail = mail.outbox
    assert staff_mail.to == [smiltene.email]
    assert coordinators_mail.to == ["coordinator@example.lv"]
    for message in mail.outbox:
        assert submitted.reference in message.subject
        assert submitted.snapshot_sha256 in message.body
    # Each is sent where its reader can open the application.
    assert f"https://granti.vidzeme.lv/applications/{submitted.pk}/\n" in staff_mail.body
    admin_page = f"https://granti.vidzeme.lv/admin/applications/application/{submitted.pk}/change/"
    assert admin_page in coordinators_mail.body
    assert admin_page not in staff_mail.body


def test_the_submission_mail_leaves_only_once_the_submission_is_committed(
    draft, smiltene, django_capture_on_commit_callbacks
):
    coordinator()
    save(draft, smiltene, ["100"])
    with django_capture_on_commit_callbacks() as callbacks:
        submitted = services.application_submit(application=draft, by=smiltene)
        assert mail.outbox == []
    assert mail.outbox == []  # not yet committed: the callbacks have not run
    for callback in callbacks:
        callback()
    assert [message.to for message in mail.outbox] == [
        [smiltene.email],
        ["coordinator@example.lv"],
    ]
    assert all(submitted.reference in message.subject for message in mail.outbox)


def test_a_refused_submission_sends_no_mail(draft, smiltene, django_capture_on_commit_callbacks):
    coordinator()
    save(draft, smiltene, ["100000"])  # over the cap
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ValidationError) as error,
    ):
        services.application_submit(application=draft, by=smiltene)
    assert codes(error.value) == ["over_cap"]
    assert callbacks == []
    assert mail.outbox == []


def test_with_a_broker_the_submission_queues_its_mail_by_id_and_writes_none_itself(
    draft, smiltene, django_capture_on_commit_callbacks, monkeypatch
):
    from applications import notifications

    queued = []
    monkeypatch.setattr(notifications.application_submitted_mail, "delay", queued.append)
    monkeypatch.setattr(notifications, "render", lambda *args: pytest.fail("rendered here"))
    coordinator()
    save(draft, smiltene, ["100"])
    with django_capture_on_commit_callbacks(execute=True):
        services.application_submit(application=draft, by=smiltene)
    assert queued == [draft.pk]
    assert mail.outbox == []


def test_with_the_broker_down_the_submission_mail_is_written_and_sent_here(
    draft, smiltene, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    from applications import notifications

    def down(*args):
        raise ConnectionError("the broker does not answer")

    monkeypatch.setattr(notifications.application_submitted_mail, "delay", down)
    save(draft, smiltene, ["100"])
    with django_capture_on_commit_callbacks(execute=True):
        services.application_submit(application=draft, by=smiltene)
    assert [message.to for message in mail.outbox] == [[smiltene.email]]
    assert "running it now" in caplog.text


def test_without_a_broker_the_mail_kept_during_a_request_leaves_after_its_response(
    draft, smiltene, django_capture_on_commit_callbacks, monkeypatch
):
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from applications import notifications

    # The test's own transaction must stay open: no connection is let go of here (the test
    # client does the same around its requests).
    monkeypatch.setattr(notifications, "close_old_connections", lambda: None)
    save(draft, smiltene, ["100"])
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        request_started.send(sender=None)
        with django_capture_on_commit_callbacks(execute=True):
            submitted = services.application_submit(application=draft, by=smiltene)
        assert mail.outbox == []  # committed, but the response is not out yet
        request_finished.send(sender=None)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    assert [message.to for message in mail.outbox] == [[smiltene.email]]
    assert submitted.reference in mail.outbox[0].subject


# --- withdrawing and deleting -----------------------------------------------------------------


def test_withdraw_returns_the_allocation_to_the_pool_through_the_ledger():
    case = build_source_case(close=False)
    valka = case.applications["valkas-novads"]
    services.allocation_set(
        application=valka, amount=Decimal("10000"), by=case.coordinator, reason="x"
    )
    withdrawn = services.application_withdraw(application=valka, by=case.staff["valkas-novads"])
    assert withdrawn.status == Application.Status.WITHDRAWN
    assert withdrawn.awarded_amount == Decimal("0.00")
    last = AllocationEvent.objects.filter(application=valka).last()
    assert (last.amount_before, last.amount_after) == (Decimal("10000.00"), Decimal("0.00"))


def test_withdraw_of_a_draft_is_refused(draft, smiltene):
    with pytest.raises(ValidationError) as error:
        services.application_withdraw(application=draft, by=smiltene)
    assert codes(error.value) == ["not_submitted"]


def test_withdraw_after_the_decision_is_refused():
    case = build_source_case()
    services.allocation_apply_proposal(competition=case.competition, by=case.coordinator)
    services.competition_decide(competition=case.competition, by=case.coordinator)
    with pytest.raises(ValidationError) as error:
        services.application_withdraw(
            application=case.applications["cesu-novads"], by=case.staff["cesu-novads"]
        )
    assert codes(error.value) == ["decided"]


def test_delete_draft_removes_it_and_refuses_a_submitted_one(draft, smiltene):
    save(draft, smiltene, ["100"])
    other = ApplicationFactory(
        competition=draft.competition, municipality=municipality("valkas-novads")
    )
    services.application_delete_draft(application=draft, by=smiltene)
    assert not Application.objects.filter(pk=draft.pk).exists()
    assert Application.objects.filter(pk=other.pk).exists()

    case = build_source_case(close=False)
    with pytest.raises(ValidationError) as error:
        services.application_delete_draft(
            application=case.applications["cesu-novads"], by=case.staff["cesu-novads"]
        )
    assert codes(error.value) == ["not_draft"]


def test_closing_the_call_helper_really_closes_it(draft, smiltene, call):
    """The tests above lean on ``close_call``; it must have the effect of a passed deadline."""
    close_call(call)
    with pytest.raises(ValidationError) as error:
        save(draft, smiltene, ["100"])
    assert codes(error.value) == ["deadline_passed"]


# --- saving and submitting at once (the form's "submit") ------------------------------------


def test_save_and_submit_submits_what_was_typed_with_one_history_row_each(draft, smiltene, call):
    save(draft, smiltene, ["100"])
    typed = services.ApplicationDetails(**{**vars(DETAILS), "summary": "Kā ierakstīts tagad"})
    submitted = services.application_save_and_submit(
        application=draft,
        by=smiltene,
        details=typed,
        activities=activities_costing(Decimal("6000.00"), category().pk),
    )
    assert submitted.status == Application.Status.SUBMITTED
    assert submitted.reference == f"REM-{timezone.localtime(call.opens_at).year}-001"
    submitted.refresh_from_db()
    assert submitted.summary == "Kā ierakstīts tagad"
    assert submitted.snapshot["summary"] == "Kā ierakstīts tagad"
    assert submitted.snapshot["requested_amount"] == "6000.00"
    assert submitted.snapshot_sha256 == snapshot_digest(submitted.snapshot)
    # The save, then the submission: a history row each, as two separate acts would write.
    history = list(draft.history.order_by("history_date").values_list("status", "summary"))
    assert history[-2:] == [
        (Application.Status.DRAFT, "Kā ierakstīts tagad"),
        (Application.Status.SUBMITTED, "Kā ierakstīts tagad"),
    ]


@pytest.mark.parametrize(
    ("language", "reason"),
    [
        ("lv", "Pirms iesniegšanas jāaizpilda šie lauki: kopsavilkums."),
        ("en", "Fill in before submitting: summary."),
    ],
)
def test_a_refused_submission_keeps_the_save_and_carries_the_saved_draft(
    draft, smiltene, language, reason
):
    typed = services.ApplicationDetails(**{**vars(DETAILS), "summary": "", "goals": "Jaunie mērķi"})
    with translation.override(language), pytest.raises(services.SubmissionRefused) as error:
        services.application_save_and_submit(
            application=draft,
            by=smiltene,
            details=typed,
            activities=activities_costing(Decimal("2500.00"), category().pk),
        )
    assert codes(error.value) == ["incomplete"]
    assert error.value.messages == [reason]
    saved = Application.objects.get(pk=draft.pk)
    assert error.value.application.pk == saved.pk
    assert (saved.status, saved.reference, saved.snapshot_sha256) == ("draft", None, "")
    assert saved.goals == "Jaunie mērķi"
    assert saved.requested_amount == Decimal("2500.00")
    assert sum(saved.activities.values_list("cost", flat=True)) == Decimal("2500.00")


def test_a_refused_save_submits_nothing_and_saves_nothing(draft, smiltene):
    save(draft, smiltene, ["100"])
    typed = services.ApplicationDetails(**{**vars(DETAILS), "summary": "Netiks saglabāts"})
    over_the_limit = [
        services.ActivityData(**{**vars(row), "cost": Decimal("999999999999")})
        for row in activities_costing(Decimal("1"), category().pk)
    ]
    with pytest.raises(ValidationError) as error:
        services.application_save_and_submit(
            application=draft, by=smiltene, details=typed, activities=over_the_limit
        )
    assert not isinstance(error.value, services.SubmissionRefused)
    assert codes(error.value) == ["amount_too_large"]
    saved = Application.objects.get(pk=draft.pk)
    assert saved.status == Application.Status.DRAFT
    assert saved.summary == DETAILS.summary
    assert saved.requested_amount == Decimal("100.00")


# --- audit ------------------------------------------------------------------------------------


def test_changes_are_kept_in_history_with_who_made_them(draft, smiltene):
    save(draft, smiltene, ["100"])
    save(draft, smiltene, ["250"])
    services.application_submit(application=draft, by=smiltene)
    history = list(draft.history.order_by("history_date"))
    assert [h.requested_amount for h in history] == [
        Decimal("0.00"),
        Decimal("100.00"),
        Decimal("250.00"),
        Decimal("250.00"),
    ]
    assert history[-1].status == Application.Status.SUBMITTED
    assert {h.history_user for h in history} == {smiltene}
    activity_history = PlannedActivityFactory._meta.model.history.filter(application_id=draft.pk)
    assert {h.history_type for h in activity_history} == {"+", "-"}
