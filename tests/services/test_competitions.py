"""The rules of ``competitions/services.py``: publishing a call, and who acts for a
municipality; each refusal's code and its message in both languages."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from competitions.models import Competition, StaffChange
from competitions.rules import publish_problems
from competitions.services import competition_publish, municipality_set_staff

from ..factories import (
    CompetitionFactory,
    UserFactory,
    coordinator,
    municipality,
    reviewer,
    staff_of,
)
from .common import codes, text

pytestmark = pytest.mark.django_db


# --- publishing -------------------------------------------------------------------------------


def test_publishing_an_incomplete_call_names_what_is_missing():
    call = CompetitionFactory(status=Competition.Status.DRAFT, signatory_name="")
    call.criteria.all().delete()
    with pytest.raises(ValidationError) as error:
        competition_publish(competition=call, by=UserFactory())
    assert codes(error.value) == ["incomplete_call"]
    assert "vērtēšanas kritēriji" in text(error.value)
    assert "vērtētāji" in text(error.value)


def test_publishing_a_complete_call(case):
    call = CompetitionFactory(status=Competition.Status.DRAFT)
    call.reviewers.add(case.reviewers[0])
    published = competition_publish(competition=call, by=case.coordinator)
    assert published.status == Competition.Status.PUBLISHED
    assert published.published_at is not None
    with pytest.raises(ValidationError) as error:
        competition_publish(competition=call, by=case.coordinator)
    assert codes(error.value) == ["not_draft"]


def test_a_call_missing_everything_names_all_five_in_order_in_both_languages():
    call = CompetitionFactory(status=Competition.Status.DRAFT, signatory_name="")
    call.criteria.all().delete()
    call.categories.clear()
    call.eligible_municipalities.clear()
    with translation.override("lv"), pytest.raises(ValidationError) as error:
        competition_publish(competition=call, by=UserFactory())
    assert text(error.value) == (
        "Konkursu nevar izsludināt bez: vērtēšanas kritēriji, aktivitāšu kategorijas, "
        "pašvaldības, kas var pieteikties, vērtētāji, vēstules parakstītājs un amats."
    )
    with translation.override("en"), pytest.raises(ValidationError) as error:
        competition_publish(competition=call, by=UserFactory())
    assert text(error.value) == (
        "The call cannot be published without: scoring criteria, activity categories, "
        "eligible municipalities, reviewers, the letter signatory and position."
    )
    call.refresh_from_db()
    assert (call.status, call.published_at) == (Competition.Status.DRAFT, None)


def test_a_signatory_without_a_position_is_not_enough_to_publish(case):
    call = CompetitionFactory(status=Competition.Status.DRAFT, signatory_position="")
    call.reviewers.add(case.reviewers[0])
    with translation.override("en"), pytest.raises(ValidationError) as error:
        competition_publish(competition=call, by=case.coordinator)
    assert text(error.value) == (
        "The call cannot be published without: the letter signatory and position."
    )


def test_a_published_call_is_not_published_again_naming_its_status(case):
    call = CompetitionFactory(status=Competition.Status.PUBLISHED)
    with translation.override("en"), pytest.raises(ValidationError) as error:
        competition_publish(competition=call, by=case.coordinator)
    assert codes(error.value) == ["not_draft"]
    assert text(error.value) == ("Only a draft call can be published; this one is published.")


def test_a_call_whose_deadline_is_now_is_not_published_and_one_a_second_later_is(
    case, django_capture_on_commit_callbacks
):
    now = timezone.now().replace(microsecond=0)
    call = CompetitionFactory(status=Competition.Status.DRAFT, closes_at=now)
    call.reviewers.add(case.reviewers[0])
    with time_machine.travel(now, tick=False):
        with translation.override("en"), pytest.raises(ValidationError) as error:
            competition_publish(competition=call, by=case.coordinator)
        assert codes(error.value) == ["deadline_passed"]
        assert text(error.value) == (
            "The call's deadline has already passed; move it before publishing."
        )
        Competition.objects.filter(pk=call.pk).update(closes_at=now + timedelta(seconds=1))
        clerk = staff_of("cesu-novads", "clerk-publish")
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            published = competition_publish(competition=call, by=case.coordinator)
    call.refresh_from_db()
    assert (call.status, call.published_at) == (Competition.Status.PUBLISHED, now)
    assert published.published_at == now
    # The eligible municipalities' staff hear of it once the publication has committed.
    assert clerk.email in [address for message in mail.outbox for address in message.to]
    published_row = call.history.get(status=Competition.Status.PUBLISHED)
    assert published_row.history_user == case.coordinator


def test_the_check_a_screen_shows_reads_the_clock_itself():
    call = CompetitionFactory(
        status=Competition.Status.DRAFT, closes_at=timezone.now() - timedelta(minutes=1)
    )
    call.reviewers.add(UserFactory())
    assert [problem.code for problem in publish_problems(call)] == ["deadline_passed"]
    assert publish_problems(call, now=call.closes_at - timedelta(seconds=1)) == []


# --- a municipality's staff -------------------------------------------------------------------


def superuser(username="root", **fields):
    return UserFactory(username=username, is_staff=True, is_superuser=True, **fields)


def test_only_an_active_superuser_changes_a_municipalitys_staff_told_in_both_languages():
    place = municipality("cesu-novads")
    member = UserFactory(username="member")
    for by in (superuser("sleeping-root", is_active=False), UserFactory(username="clerk")):
        for language, message in (
            ("lv", "Pašvaldības darbiniekus var mainīt tikai administrators."),
            ("en", "Only an administrator may change who acts for a municipality."),
        ):
            with translation.override(language), pytest.raises(ValidationError) as error:
                municipality_set_staff(municipality=place, staff=[member], signatories=[], by=by)
            assert codes(error.value) == ["staff_change_not_allowed"]
            assert text(error.value) == message
    assert not place.staff.exists()
    assert not StaffChange.objects.exists()


def test_the_authority_on_the_staff_and_signatories_off_it_are_each_named_in_both_languages():
    place = municipality("cesu-novads")
    member = UserFactory(username="member")
    with translation.override("lv"), pytest.raises(ValidationError) as error:
        municipality_set_staff(
            municipality=place,
            staff=[member, reviewer("reviewer-b"), coordinator("coordinator-a")],
            signatories=[UserFactory(username="outsider-b"), UserFactory(username="outsider-a")],
            by=superuser(),
        )
    assert codes(error.value) == ["authority_as_staff", "signatory_not_staff"]
    assert error.value.messages == [
        "Plānošanas reģiona koordinatori, vērtētāji un administratori nevar darboties "
        "pašvaldības vārdā; izslēdziet no darbiniekiem: coordinator-a, reviewer-b.",
        "Pašvaldības vārdā var parakstīt tikai tās darbinieki; nav darbinieki: outsider-a, "
        "outsider-b.",
    ]
    with translation.override("en"), pytest.raises(ValidationError) as error:
        municipality_set_staff(
            municipality=place,
            staff=[member],
            signatories=[member, UserFactory(username="outsider-c")],
            by=superuser("root-2"),
        )
    assert error.value.messages == [
        "Only the municipality's staff can sign for it; not staff: outsider-c."
    ]
    assert not place.staff.exists()
