"""Every named constraint of the grants (and of the call's new settings), both ways:
``full_clean()`` raises ``ValidationError`` and a save that skips validation is stopped by the
database with ``IntegrityError``."""

from decimal import Decimal
from itertools import count

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from applications.models import Application
from grants.models import Agreement, Grant, PlanLine, PlanVersion

from .factories import ApplicationFactory, CompetitionFactory, UserFactory, category

pytestmark = pytest.mark.django_db

NUMBERS = count(1)


def awarded_application() -> Application:
    return ApplicationFactory(
        status=Application.Status.AWARDED,
        reference=f"REM-2019-{Application.objects.count() + 1:03d}",
        submitted_at=timezone.now(),
        snapshot={"reference": "REM-2019-001"},
        requested_amount=Decimal("5000.00"),
        awarded_amount=Decimal("5000.00"),
    )


def grant(**fields) -> Grant:
    return Grant(application=awarded_application(), opened_at=timezone.now(), **fields)


def saved_grant() -> Grant:
    row = grant()
    row.save()
    return row


def version(**fields) -> PlanVersion:
    number = fields.pop("number", 1)
    return PlanVersion(grant=fields.pop("grant", None) or saved_grant(), number=number, **fields)


def saved_version(**fields) -> PlanVersion:
    row = version(**fields)
    row.save()
    return row


def line(**fields) -> PlanLine:
    defaults = {"position": 1, "key": "a1", "title": "Brošūra", "cost": Decimal("100.00")}
    return PlanLine(
        version=fields.pop("version", None) or saved_version(),
        category=category(),
        **{**defaults, **fields},
    )


def agreement(**fields) -> Agreement:
    plan = saved_version()
    return Agreement(
        grant=plan.grant,
        plan_version=plan,
        number=f"VPR/2019/L-{next(NUMBERS)}",
        language="lv",
        pdf="grants/1/agreements/ligums.pdf",
        sha256="a" * 64,
        generated_at=timezone.now(),
        generated_by=UserFactory(),
        **fields,
    )


CHECK_CASES = [
    ("grant_status_valid", lambda: grant(status="lost")),
    ("grant_agreed_total_positive", lambda: grant(agreed_total=Decimal("0.00"))),
    ("grant_agreed_total_once_agreed", lambda: grant(status=Grant.Status.SIGNING)),
    (
        "grant_declined_with_reason",
        lambda: grant(status=Grant.Status.DECLINED, declined_at=timezone.now()),
    ),
    ("plan_version_number_positive", lambda: version(number=0)),
    ("plan_version_status_valid", lambda: version(status="lost")),
    ("plan_version_total_not_negative", lambda: version(total=Decimal("-0.01"))),
    (
        "plan_version_approved_is_frozen",
        lambda: version(
            status=PlanVersion.Status.APPROVED, decided_at=timezone.now(), frozen={"lines": []}
        ),
    ),
    ("plan_version_returned_with_comment", lambda: version(status=PlanVersion.Status.RETURNED)),
    ("plan_line_cost_positive", lambda: line(cost=Decimal("0.00"))),
    (
        "agreement_accepted_as_generated",
        lambda: agreement(
            accepted_at=timezone.now(), accepted_by=UserFactory(), accepted_sha256="b" * 64
        ),
    ),
    ("agreement_signed_file_complete", lambda: agreement(signed_file="grants/1/s.edoc")),
    (
        "agreement_countersigned_after_municipality",
        lambda: agreement(countersigned_at=timezone.now(), countersigned_by=UserFactory()),
    ),
    ("agreement_countersigned_file_has_sha256", lambda: agreement(countersigned_file="x.pdf")),
    (
        "competition_advance_share_a_percentage",
        lambda: CompetitionFactory.build(advance_share=Decimal("100.01")),
    ),
    (
        "competition_cost_tolerance_a_percentage",
        lambda: CompetitionFactory.build(cost_tolerance=Decimal("-1")),
    ),
]


def named(instance, name):
    (constraint,) = [c for c in instance._meta.constraints if c.name == name]
    return constraint


@pytest.mark.parametrize(("constraint", "make"), CHECK_CASES, ids=[c for c, _ in CHECK_CASES])
def test_check_constraint_is_a_validation_error_in_full_clean(constraint, make):
    instance = make()
    with pytest.raises(ValidationError):
        instance.full_clean()
    with pytest.raises(ValidationError) as error:
        instance.validate_constraints()
    assert named(instance, constraint).get_violation_error_message() in error.value.messages


@pytest.mark.parametrize(("constraint", "make"), CHECK_CASES, ids=[c for c, _ in CHECK_CASES])
def test_check_constraint_is_an_integrity_error_in_the_database(constraint, make):
    instance = make()
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        instance.save()


def test_valid_rows_pass_full_clean_and_save():
    """The builders above make valid rows but for the one field each case changes."""
    person = UserFactory()
    moment = timezone.now()
    for instance in [
        grant(),
        grant(status=Grant.Status.SIGNING, agreed_total=Decimal("4000.00")),
        grant(status=Grant.Status.DECLINED, declined_at=moment, decline_reason="Atsakāmies"),
        version(),
        version(status=PlanVersion.Status.APPROVED, decided_at=moment, frozen={}, sha256="c" * 64),
        version(status=PlanVersion.Status.RETURNED, return_comment="Labot"),
        line(),
        agreement(),
        agreement(
            accepted_at=moment,
            accepted_by=person,
            accepted_from="192.0.2.1",
            accepted_sha256="a" * 64,
            countersigned_at=moment,
            countersigned_by=person,
        ),
        agreement(
            signed_file="grants/1/agreements/ligums.edoc",
            signed_file_sha256="d" * 64,
            signed_file_kind=Agreement.SignedKind.EDOC,
            signed_file_uploaded_at=moment,
            signed_file_uploaded_by=person,
        ),
    ]:
        instance.full_clean()
        instance.save()


def test_a_declined_application_with_no_award_is_valid():
    application = awarded_application()
    application.status = Application.Status.DECLINED
    application.awarded_amount = Decimal("0.00")
    application.full_clean()
    application.save()


def test_agreement_cannot_replace_itself():
    first = agreement()
    first.save()
    first.replaced_by = first
    with pytest.raises(ValidationError):
        first.full_clean()
    with (
        pytest.raises(IntegrityError, match="agreement_not_replaced_by_itself"),
        transaction.atomic(),
    ):
        first.save()


def _duplicate(constraint):
    if constraint == "plan_version_number_unique_per_grant":
        first = saved_version(status=PlanVersion.Status.RETURNED, return_comment="Labot")
        return PlanVersion(grant=first.grant, number=1)
    if constraint == "plan_version_one_open_per_grant":
        first = saved_version()
        return PlanVersion(grant=first.grant, number=2, status=PlanVersion.Status.PROPOSED)
    first = line()
    first.save()
    if constraint == "plan_line_key_unique_per_version":
        return line(version=first.version, position=2)
    return line(version=first.version, key="b2")


UNIQUE_CASES = [
    "plan_version_number_unique_per_grant",
    "plan_version_one_open_per_grant",
    "plan_line_key_unique_per_version",
    "plan_line_position_unique_per_version",
]


@pytest.mark.parametrize("constraint", UNIQUE_CASES)
def test_unique_constraint_both_ways(constraint):
    duplicate = _duplicate(constraint)
    with pytest.raises(ValidationError) as error:
        duplicate.full_clean()
    assert named(duplicate, constraint).get_violation_error_message() in error.value.messages
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_a_returned_version_does_not_count_as_open():
    first = saved_version(status=PlanVersion.Status.RETURNED, return_comment="Labot")
    second = PlanVersion(grant=first.grant, number=2)
    second.full_clean()
    second.save()


def test_a_municipalitys_signatories_must_be_among_its_staff():
    from competitions.forms import MunicipalityForm

    from .factories import municipality, staff_of

    place = municipality("cesu-novads")
    member, outsider = staff_of("cesu-novads"), staff_of("valkas-novads")
    data = {"name": place.name, "slug": place.slug, "staff": [member.pk]}
    form = MunicipalityForm(data={**data, "signatories": [member.pk, outsider.pk]}, instance=place)
    assert not form.is_valid()
    assert form.errors.as_data()["signatories"][0].code == "signatory_not_staff"
    form = MunicipalityForm(data={**data, "signatories": [member.pk]}, instance=place)
    assert form.is_valid(), form.errors
    form.save()
    assert list(place.signatories.all()) == [member]
