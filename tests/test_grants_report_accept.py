"""Accepting a report, line by line (``grants.settlement.report_accept``): only a coordinator;
an accepted amount in euros and cents, from zero to the amount claimed and not a cent more;
less than claimed only with the reason, which the municipality sees; money rule 6 on the
accepted amounts; what the acceptance records. Each refusal's code and its whole message with
its figures in Latvian and in English, and a refused acceptance leaves the report submitted.

These are the changes to ``report_accept`` that the mutation run of 4 December 2026 showed no
test noticed. Each grant in progress renders its agreement PDF: one grant a test.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from competitions.models import Competition
from grants import settlement
from grants.models import Grant, PlanLine, Report
from grants.settlement import LineDecision

from .amounts import spaced
from .factories import coordinator, grant_in_progress
from .test_grants_settlement import codes, submitted, text

pytestmark = pytest.mark.django_db

BROCHURE = "Informatīvā brošūra"


@pytest.fixture
def claimed():
    """Cēsis' final report, submitted: 3 000 € claimed on its first line (agreed 3 000 €) and
    2 000 € on its second; the grant's staff and a coordinator."""
    grant = grant_in_progress("cesu-novads", amount=Decimal("5000.00"))
    staff = grant.municipality.staff.get()
    report = submitted(grant, staff, ["3000.00", "2000.00"])
    return report, staff, coordinator("coordinator-cesis-accept")


def accept(report, by, first=None, second=None):
    first_line, second_line = report.lines.order_by("position")
    decisions = {
        line.pk: decision
        for line, decision in ((first_line, first), (second_line, second))
        if decision is not None
    }
    return lambda: settlement.report_accept(report=report, by=by, decisions=decisions)


def refusal_of(act) -> tuple[list[str], str, str]:
    with translation.override("lv"), pytest.raises(ValidationError) as lv:
        act()
    with translation.override("en"), pytest.raises(ValidationError) as en:
        act()
    return codes(lv.value), text(lv.value), text(en.value)


def still_submitted(report) -> None:
    report = Report.objects.get(pk=report.pk)
    assert (report.status, report.decided_by, report.accepted_total) == (
        Report.Status.SUBMITTED,
        None,
        None,
    )
    assert not report.lines.exclude(accepted_amount=None).exists()


def test_only_a_coordinator_accepts_a_report(claimed):
    report, staff, _boss = claimed
    assert refusal_of(accept(report, staff)) == (
        ["not_coordinator"],
        "Tikai koordinators var apstiprināt pārskatu.",
        "Only a coordinator can accept a report.",
    )
    still_submitted(report)


@pytest.mark.parametrize("amount", [Decimal("2999.999"), Decimal("-0.01"), 2800, "2800.00"])
def test_an_accepted_amount_not_in_euros_and_cents_from_zero_is_refused_naming_the_line(
    claimed, amount
):
    report, _staff, boss = claimed
    assert refusal_of(accept(report, boss, LineDecision(amount, "Nav attiecināms"))) == (
        ["invalid_amount"],
        f"“{BROCHURE}”: apstiprinātā summa jānorāda eiro ar centiem.",
        f"“{BROCHURE}”: the accepted amount must be in euros with cents.",
    )
    still_submitted(report)


def test_every_line_with_an_amount_that_is_not_one_is_named(claimed):
    report, _staff, boss = claimed
    act = accept(report, boss, LineDecision(Decimal("-1.00"), "x"), LineDecision(Decimal("0.001")))
    lv_codes, lv, _en = refusal_of(act)
    assert lv_codes == ["invalid_amount", "invalid_amount"]
    assert "“Vizīte pie diasporas”: apstiprinātā summa" in lv
    still_submitted(report)


def test_nothing_of_a_line_may_be_accepted_with_the_reason(claimed):
    report, _staff, boss = claimed
    first_line = report.lines.order_by("position")[0]
    settlement.report_accept(
        report=report, by=boss, decisions={first_line.pk: LineDecision(Decimal("0.00"), "Nav")}
    )
    report.refresh_from_db()
    assert report.accepted_total == Decimal("2000.00")


def test_at_most_the_claimed_amount_is_accepted_and_a_cent_more_is_refused_with_both(claimed):
    report, _staff, boss = claimed
    assert refusal_of(accept(report, boss, LineDecision(Decimal("3000.01")))) == (
        ["accepted_over_claimed"],
        spaced(
            f"“{BROCHURE}”: var apstiprināt ne vairāk kā norādītās izmaksas 3 000,00 €, "
            "nevis 3 000,01 €."
        ),
        f"“{BROCHURE}”: at most the claimed €3,000.00 can be accepted, not €3,000.01.",
    )
    still_submitted(report)
    # The whole claim, with a reason given anyway: no reason is kept for it.
    accept(report, boss, LineDecision(Decimal("3000.00"), "Pilnā apmērā"))()
    line = report.lines.order_by("position")[0]
    assert (line.accepted_amount, line.acceptance_reason) == (Decimal("3000.00"), "")


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_cent_less_than_claimed_needs_the_reason(claimed, reason):
    report, _staff, boss = claimed
    assert refusal_of(accept(report, boss, None, LineDecision(Decimal("1999.99"), reason))) == (
        ["reason_required"],
        spaced(
            "“Vizīte pie diasporas”: norādiet, kāpēc no norādītajām izmaksām 2 000,00 € "
            "apstiprināts tikai 1 999,99 €."
        ),
        "“Vizīte pie diasporas”: give the reason for accepting €1,999.99 of the claimed €2,000.00.",
    )
    still_submitted(report)


def test_an_acceptance_records_the_amounts_the_reason_who_and_when_and_the_grants_spending(
    claimed,
):
    report, _staff, boss = claimed
    report.lines.update(comment="Pievienojiet rēķinu")
    accepted = settlement.report_accept(
        report=report,
        by=boss,
        decisions={
            report.lines.order_by("position")[1].pk: LineDecision(
                Decimal("1999.99"), "  Viens cents nav attiecināms  "
            )
        },
    )
    report = Report.objects.get(pk=accepted.pk)
    assert (report.status, report.decided_by, report.accepted_total) == (
        Report.Status.ACCEPTED,
        boss,
        Decimal("4999.99"),
    )
    assert timezone.now() - report.decided_at < timedelta(minutes=1)
    assert list(
        report.lines.order_by("position").values_list(
            "accepted_amount", "acceptance_reason", "comment"
        )
    ) == [
        (Decimal("3000.00"), "", ""),
        (Decimal("1999.99"), "Viens cents nav attiecināms", ""),
    ]
    grant = Grant.objects.get(pk=report.grant_id)
    assert grant.accepted_total == Decimal("4999.99")
    assert grant.history.first().history_user == boss
    assert report.history.first().history_user == boss


def test_the_accepted_amounts_keep_money_rule_6_as_it_stands_when_they_are_accepted(claimed):
    """The call's tolerance lowered after the report was submitted: the whole claim of a line
    that is now over it is refused, named as the accepted amount."""
    report, _staff, boss = claimed
    Competition.objects.filter(pk=report.grant.competition.pk).update(cost_tolerance=0)
    first_line = report.lines.order_by("position")[0]
    PlanLine.objects.filter(pk=first_line.plan_line_id).update(cost=Decimal("2999.99"))
    lv_codes, lv, en = refusal_of(accept(report, boss))
    assert lv_codes == ["line_over_tolerance"]
    assert "apstiprinātā summa" in lv
    assert spaced("3 000,00 €") in lv
    assert "accepted amount of €3,000.00" in en
    still_submitted(report)
