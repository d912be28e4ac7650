"""The money rules hold when coordinators act at the same moment (PostgreSQL row locks).

Threads are released together by a barrier, each on its own database connection. Without
the call's row lock every thread would read the same empty total and all would be accepted.
"""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from applications import services
from applications.models import AllocationEvent, Application
from competitions.models import Municipality

from .factories import ApplicationFactory, CompetitionFactory, category, coordinator, staff_of
from .source_case import DETAILS, activities_costing

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(calls):
    """Run the callables in threads released at the same instant; return their outcomes."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def work(index, call):
        try:
            barrier.wait()
            call()
            outcomes[index] = "accepted"
        except ValidationError as error:
            outcomes[index] = error.error_list[0].code
        except Exception as error:  # reported in the assertion below
            outcomes[index] = repr(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def submitted(call, place, requested):
    return ApplicationFactory(
        competition=call,
        municipality=place,
        status=Application.Status.SUBMITTED,
        reference=f"REM-C-{place.pk}",
        submitted_at=call.opens_at,
        snapshot={},
        requested_amount=requested,
    )


def test_twenty_coordinators_allocating_at_once_never_exceed_the_pool():
    call = CompetitionFactory()
    places = list(Municipality.objects.order_by("slug")[:20])
    amounts = [Decimal(3000 + 350 * i) for i in range(20)]  # 3 000 ... 9 650, 126 500 in all
    applications = [submitted(call, p, a) for p, a in zip(places, amounts, strict=True)]
    people = [coordinator(f"coordinator{i}") for i in range(20)]

    outcomes = run_together(
        [
            lambda a=a, amount=amount, person=person: services.allocation_set(
                application=a, amount=amount, by=person, reason="Vienlaicīgs piešķīrums"
            )
            for a, amount, person in zip(applications, amounts, people, strict=True)
        ]
    )

    assert set(outcomes) <= {"accepted", "over_pool"}, outcomes
    accepted = outcomes.count("accepted")
    total = Application.objects.aggregate(total=Sum("awarded_amount"))["total"]
    assert total <= call.pool_amount
    assert accepted >= 4  # at least the first few fit
    assert AllocationEvent.objects.count() == accepted
    assert AllocationEvent.objects.aggregate(total=Sum("amount_after"))["total"] == total


def test_concurrent_changes_of_one_application_respect_the_cap_and_chain_the_ledger():
    call = CompetitionFactory()
    application = submitted(call, Municipality.objects.get(slug="cesu-novads"), Decimal("12000"))
    amounts = [
        Decimal(a) for a in ["9000", "10000", "10000.01", "11000", "9500", "8000", "12000", "7000"]
    ]
    people = [coordinator(f"coordinator{i}") for i in range(len(amounts))]

    outcomes = run_together(
        [
            lambda amount=amount, person=person: services.allocation_set(
                application=application, amount=amount, by=person, reason="Labojums"
            )
            for amount, person in zip(amounts, people, strict=True)
        ]
    )

    assert set(outcomes) <= {"accepted", "over_cap"}, outcomes
    assert outcomes.count("over_cap") == 3  # 10 000,01, 11 000 and 12 000
    application.refresh_from_db()
    assert application.awarded_amount <= call.max_award_amount
    events = list(AllocationEvent.objects.filter(application=application).order_by("id"))
    assert len(events) == outcomes.count("accepted")
    # Each change starts from what the one before it left: no two read the same "before".
    previous = Decimal("0.00")
    for event in events:
        assert event.amount_before == previous
        previous = event.amount_after
    assert previous == application.awarded_amount


def test_references_stay_unique_when_municipalities_submit_at_once():
    call = CompetitionFactory()
    slugs = [
        "smiltenes-novads",
        "valkas-novads",
        "valmieras-pilseta",
        "gulbenes-novads",
        "cesu-novads",
    ]
    drafts = []
    for slug in slugs:
        user = staff_of(slug)
        draft = services.application_start(
            competition=call, municipality=Municipality.objects.get(slug=slug), by=user
        )
        services.application_update_draft(
            application=draft,
            by=user,
            details=DETAILS,
            activities=activities_costing(Decimal("1000"), category().pk),
        )
        drafts.append((draft, user))

    outcomes = run_together(
        [lambda d=d, u=u: services.application_submit(application=d, by=u) for d, u in drafts]
    )

    assert outcomes == ["accepted"] * 5
    references = sorted(Application.objects.values_list("reference", flat=True))
    year = timezone.localtime(call.opens_at).year
    assert references == [f"REM-{year}-{n:03d}" for n in range(1, 6)]


def test_two_coordinators_issuing_a_calls_letters_at_once_make_one_letter_per_application():
    from applications.models import AwardLetter

    from .factories import decided_grants

    grants = decided_grants(
        {
            "valkas-novads": (Decimal("5000"), Decimal("5000")),
            "cesu-novads": (Decimal("3000"), Decimal("3000")),
        }
    )
    call = next(iter(grants.values())).application.competition
    people = [coordinator("coordinator-a"), coordinator("coordinator-b")]

    outcomes = run_together(
        [
            lambda person=person: services.competition_issue_letters(competition=call, by=person)
            for person in people
        ]
    )

    assert outcomes == ["accepted", "accepted"], outcomes
    decided = Application.objects.filter(competition=call)
    assert decided.count() == 2
    for application in decided:
        assert AwardLetter.objects.filter(application=application).count() == 1


def test_a_submission_at_the_instant_of_the_decision_is_decided_or_refused_never_left_out():
    """The submission checks the deadline just before it passes; the decision comes just
    after, while the submission is still writing. Without the call's lock the decision
    commits first, without the submission, and leaves a submitted application in a decided
    call."""
    from datetime import timedelta
    from unittest import mock

    from applications.services import drafts

    call = CompetitionFactory()
    user = staff_of("valkas-novads")
    draft = services.application_start(
        competition=call, municipality=Municipality.objects.get(slug="valkas-novads"), by=user
    )
    services.application_update_draft(
        application=draft,
        by=user,
        details=DETAILS,
        activities=activities_costing(Decimal("1000"), category().pk),
    )
    person = coordinator("decider")
    deadline = timezone.now() + timedelta(seconds=2)
    type(call).objects.filter(pk=call.pk).update(closes_at=deadline)
    writing = threading.Event()
    real_snapshot = drafts.build_snapshot

    def slow_snapshot(*args, **kwargs):
        # Checked the deadline before it passed; now write on after it, slowly.
        while timezone.now() <= deadline:
            threading.Event().wait(0.05)
        writing.set()
        threading.Event().wait(1)
        return real_snapshot(*args, **kwargs)

    def decide():
        writing.wait(10)
        services.competition_decide(competition=call, by=person, rejection_reason="Nepietiek")

    with mock.patch.object(drafts, "build_snapshot", slow_snapshot):
        outcomes = run_together(
            [lambda: services.application_submit(application=draft, by=user), decide]
        )

    assert outcomes == ["accepted", "accepted"], outcomes
    draft.refresh_from_db()
    assert draft.status == Application.Status.REJECTED


@pytest.mark.parametrize("found_by", ["call", "application"])
def test_submissions_share_the_calls_lock_and_a_change_of_the_call_waits_for_them(found_by):
    """At the deadline, submissions to one call do not queue behind one another on the call's
    row; the decision (or any change of the call's state) still waits for each of them, and
    each of them for it. The submission of the edit form finds the call by its application's
    id (``share_competition_of``)."""
    from django.db import OperationalError, transaction

    from applications.services.common import (
        lock_competition,
        share_competition,
        share_competition_of,
    )

    call = CompetitionFactory()
    application = ApplicationFactory(competition=call)
    holding, done = threading.Event(), threading.Event()
    outcomes = {}

    def submission_in_progress():
        with transaction.atomic():
            if found_by == "call":
                assert share_competition(call.pk) == call
            else:
                assert share_competition_of(application.pk) == call
            holding.set()
            done.wait(10)
        connection.close()

    def attempt(name, lock, wait_ms):
        holding.wait(10)
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL lock_timeout = '{wait_ms}ms'")
                lock(call.pk)
                outcomes[name] = "locked"
        except OperationalError:
            outcomes[name] = "waited past the timeout"
        finally:
            connection.close()

    holder = threading.Thread(target=submission_in_progress)
    holder.start()
    others = [
        threading.Thread(target=attempt, args=("another submission", share_competition, 2000)),
        threading.Thread(target=attempt, args=("the decision", lock_competition, 300)),
    ]
    for thread in others:
        thread.start()
    for thread in others:
        thread.join(10)
    done.set()
    holder.join(10)

    assert outcomes == {
        "another submission": "locked",
        "the decision": "waited past the timeout",
    }


def test_a_counter_made_by_another_transaction_meanwhile_is_continued():
    """Two first numbers of a new counter at once: one transaction creates the counter; the
    other, finding none, waits on the unique key for the first to commit, then continues the
    counter the first made instead of failing or starting again."""
    from django.db import transaction

    from applications.models import NumberSequence
    from applications.services.common import next_number

    key = "letter:VPR/2019/race"
    created, release = threading.Event(), threading.Event()
    numbers = {}

    def first():
        with transaction.atomic():
            numbers["first"] = next_number(key)
            created.set()
            release.wait(10)
        connection.close()

    def second():
        created.wait(10)
        with transaction.atomic():
            numbers["second"] = next_number(key)
        connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    created.wait(10)
    # The second's insert is waiting for the first's: only then may the first commit.
    for _ in range(100):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE 'INSERT INTO%%numbersequence%%'"
            )
            if cursor.fetchone()[0]:
                break
        threading.Event().wait(0.05)
    else:
        pytest.fail("the second insert never waited for the first")
    release.set()
    for thread in threads:
        thread.join(10)
    assert numbers == {"first": 1, "second": 2}
    assert NumberSequence.objects.get(key=key).last_value == 2
