"""Declining an award and returning a plan, and the interim payment's wait for its report: who
may, from which stage, what is refused with which code and message (in Latvian and in
English), and what a decline or a return leaves behind: the award back in the pool through
the money door, the ledger row with its reason and author, the history, the mail.

These are the changes to ``grant_decline``, ``plan_return`` and the interim payment's check
that ``make mutation`` showed no test noticed."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from applications.models import AllocationEvent, Application
from competitions import roles
from competitions.languages import language_record
from grants import services, settlement
from grants.models import Grant, Payment, PlanVersion

from .amounts import spaced
from .factories import coordinator, decided_grant, grant_in_progress, staff_of
from .test_agreements import asice, cesis, stored, uploaded  # noqa: F401 (cesis: a fixture)
from .test_grants_plan import fitted_to, proposed, remaining
from .test_grants_settlement import figures, pay, submitted

pytestmark = pytest.mark.django_db


def codes(error: ValidationError) -> list[str]:
    return [problem.code for problem in error.error_list]


def text(error: ValidationError) -> str:
    return " ".join(error.messages)


def refused(act, *, language="lv") -> ValidationError:
    with translation.override(language), pytest.raises(ValidationError) as error:
        act()
    return error.value


def award_of(grant: Grant) -> Decimal:
    return Application.objects.get(pk=grant.application_id).awarded_amount


# --- declining the award --------------------------------------------------------------------


def test_a_decline_before_the_agreement_is_accepted_returns_the_award_through_the_money_door(
    cesis,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    """Cēsis's agreement is issued, not yet accepted or signed: its award may still be
    declined, and the whole 4 000 € returns to the call's pool with one ledger row; the
    coordinators are told, each in their language."""
    grant, _agreement, signatory = cesis
    assert grant.status == Grant.Status.SIGNING
    english = coordinator("coordinator-english")
    language_record(user=english, language="en")
    latvian = sorted(user.email for user in roles.coordinators().exclude(pk=english.pk))
    assert latvian  # the coordinator who decided the call, and any other
    before = remaining(grant.competition)
    moment = timezone.now()
    mail.outbox.clear()
    with translation.override("lv"), django_capture_on_commit_callbacks(execute=True):
        services.grant_decline(grant=grant, by=signatory, reason="  Dome nolēma neīstenot.  ")

    grant.refresh_from_db()
    assert (grant.status, grant.decline_reason, grant.declined_by) == (
        Grant.Status.DECLINED,
        "Dome nolēma neīstenot.",
        signatory,
    )
    assert moment <= grant.declined_at <= timezone.now()
    record = grant.history.first()  # the grant's history: declined, by the signatory
    assert (record.status, record.history_user) == (Grant.Status.DECLINED, signatory)

    application = Application.objects.get(pk=grant.application_id)
    assert (application.status, application.awarded_amount) == (
        Application.Status.DECLINED,
        Decimal("0.00"),
    )
    assert remaining(grant.competition) == before + Decimal("4000.00")
    event = AllocationEvent.objects.filter(application=application).latest("id")
    assert (event.amount_before, event.amount_after, event.by) == (
        Decimal("4000.00"),
        Decimal("0.00"),
        signatory,
    )
    assert event.reason == spaced(
        "Cēsu novads atteicās no piešķirtā finansējuma 4 000,00 €: Dome nolēma neīstenot."
    )

    reference, call = grant.application.reference, grant.competition
    assert [(message.to, message.subject, message.body) for message in mail.outbox] == [
        (
            [english.email],
            f"{reference}: Cēsu novads has declined its award",
            f"Cēsu novads has declined its award of €4,000.00 in the call “{call.title_en}”; "
            "the amount returns to the call's pool.\n"
            "\n"
            "The reason given:\n"
            "Dome nolēma neīstenot.\n"
            "\n"
            "The grant in the admin:\n"
            f"http://127.0.0.1:8000/en/admin/grants/grant/{grant.pk}/change/\n",
        ),
        (
            latvian,
            f"{reference}: Cēsu novada pašvaldība atteikusies no piešķirtā finansējuma",
            spaced(
                "Cēsu novada pašvaldība ir atteikusies no piešķirtā finansējuma 4 000,00 € "
                f"apmērā konkursā “{call.title_lv}”; šī summa atgriežas konkursa kopējā "
                "finansējumā.\n"
                "\n"
                "Norādītais atteikuma iemesls:\n"
                "Dome nolēma neīstenot.\n"
                "\n"
                "Finansējums administrēšanas vietnē:\n"
                f"http://127.0.0.1:8000/admin/grants/grant/{grant.pk}/change/\n"
            ),
        ),
    ]


def test_a_plan_still_being_agreed_is_declined_and_the_ledger_reads_in_the_language_used():
    grant = decided_grant("valkas-novads", requested=Decimal("5000.00"), awarded=Decimal("4999.99"))
    staff = staff_of("valkas-novads")
    with translation.override("en"):
        services.grant_decline(grant=grant, by=staff, reason="The council withdrew.")
    event = AllocationEvent.objects.filter(application=grant.application_id).latest("id")
    assert event.reason == "Valkas novads declined the award of €4,999.99: The council withdrew."
    assert (event.amount_before, event.by) == (Decimal("4999.99"), staff)
    assert Grant.objects.get(pk=grant.pk).status == Grant.Status.DECLINED
    assert award_of(grant) == Decimal("0.00")


def test_a_decline_without_a_reason_is_refused_in_both_languages_and_nothing_moves(
    django_capture_on_commit_callbacks,
):
    grant = decided_grant("cesu-novads")
    staff = staff_of("cesu-novads")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        error = refused(lambda: services.grant_decline(grant=grant, by=staff, reason=" \n "))
    assert codes(error) == ["reason_required"]
    assert mail.outbox == []  # a refused decline tells no one
    assert text(error) == "Norādiet, kāpēc atsakāties no piešķirtā finansējuma."
    error = refused(lambda: services.grant_decline(grant=grant, by=staff, reason=""), language="en")
    assert text(error) == "Give the reason for declining the award."
    error = refused(
        lambda: services.grant_decline(grant=grant, by=staff_of("valkas-novads"), reason="Nē"),
        language="en",
    )
    assert (codes(error), text(error)) == (
        ["not_municipality_staff"],
        "Only staff of Cēsu novads can do this.",
    )
    assert Grant.objects.get(pk=grant.pk).status == Grant.Status.AGREEING
    assert award_of(grant) == Decimal("4000.00")
    assert AllocationEvent.objects.filter(application=grant.application_id).count() == 1


def test_an_agreement_accepted_on_the_portal_cannot_be_declined_told_in_both_languages(
    cesis,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    grant, agreement, signatory = cesis
    services.agreement_accept(
        agreement=agreement, by=signatory, sha256=agreement.sha256, client_address=None
    )

    def decline():
        return services.grant_decline(grant=grant, by=signatory, reason="Pārdomājām.")

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        error = refused(decline)
    assert codes(error) == ["not_declinable"]
    assert mail.outbox == []
    assert text(error) == (
        "No finansējuma var atteikties tikai pirms līguma parakstīšanas; finansējuma statuss "
        "ir “līguma parakstīšana”."
    )
    assert text(refused(decline, language="en")) == (
        "The award can be declined only before the agreement is signed; the grant is "
        "agreement being signed."
    )
    assert Grant.objects.get(pk=grant.pk).status == Grant.Status.SIGNING
    assert award_of(grant) == Decimal("4000.00")


def test_an_agreement_uploaded_signed_but_not_accepted_cannot_be_declined(cesis):  # noqa: F811
    grant, agreement, signatory = cesis
    uploaded(agreement, signatory, "ligums.asice", asice(stored(agreement)))
    error = refused(
        lambda: services.grant_decline(grant=grant, by=signatory, reason="Pārdomājām."),
        language="en",
    )
    assert codes(error) == ["not_declinable"]
    assert text(error).endswith("the grant is agreement being signed.")
    assert award_of(grant) == Decimal("4000.00")


# --- returning a plan -----------------------------------------------------------------------


def test_a_returned_plan_keeps_the_comment_who_and_when_and_the_municipality_is_told(
    django_capture_on_commit_callbacks,
):
    grant = decided_grant("cesu-novads")
    staff = staff_of("cesu-novads")
    boss = coordinator("coordinator-cesis")
    version = proposed(grant, fitted_to(grant.plan_versions.get(), Decimal("4000.00")))
    mail.outbox.clear()
    moment = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        services.plan_return(version=version, by=boss, comment="  Precizējiet tirāžu.  ")

    version.refresh_from_db()
    assert (version.status, version.return_comment, version.decided_by) == (
        PlanVersion.Status.RETURNED,
        "Precizējiet tirāžu.",
        boss,
    )
    assert moment <= version.decided_at <= moment + timedelta(minutes=1)
    record = version.history.first()
    assert (record.status, record.history_user) == (PlanVersion.Status.RETURNED, boss)
    assert [message.to for message in mail.outbox] == [[staff.email]]
    assert "Precizējiet tirāžu." in mail.outbox[0].body
    assert grant.application.reference in mail.outbox[0].subject
    # The award is untouched: a return changes no money.
    assert award_of(grant) == Decimal("4000.00")

    # Returned, it cannot be returned again.
    error = refused(lambda: services.plan_return(version=version, by=boss, comment="Vēlreiz"))
    assert codes(error) == ["not_proposed"]
    assert text(error) == (
        "Plāna 1. versijas statuss ir “atdots labošanai”; labošanai var atdot tikai "
        "saskaņošanai iesniegtu plānu."
    )
    error = refused(
        lambda: services.plan_return(version=version, by=boss, comment="Again"), language="en"
    )
    assert text(error) == ("Plan version 1 is returned; only a proposed plan can be returned.")
    version.refresh_from_db()
    assert version.return_comment == "Precizējiet tirāžu."


def test_a_return_without_a_comment_is_refused_in_both_languages_and_the_plan_stays_proposed():
    grant = decided_grant("cesu-novads")
    boss = coordinator("coordinator-cesis")
    version = proposed(grant, fitted_to(grant.plan_versions.get(), Decimal("4000.00")))
    error = refused(lambda: services.plan_return(version=version, by=boss, comment=" \t "))
    assert codes(error) == ["comment_required"]
    assert text(error) == "Norādiet, kas pašvaldībai plānā jāmaina."
    error = refused(
        lambda: services.plan_return(version=version, by=boss, comment=""), language="en"
    )
    assert text(error) == "Say what the municipality should change in the plan."
    version.refresh_from_db()
    assert (version.status, version.decided_at, version.decided_by) == (
        PlanVersion.Status.PROPOSED,
        None,
        None,
    )


def test_a_draft_of_a_later_version_is_not_returned_naming_its_number_and_status():
    grant = decided_grant("cesu-novads")
    boss = coordinator("coordinator-cesis")
    first = proposed(grant, fitted_to(grant.plan_versions.get(), Decimal("4000.00")))
    services.plan_return(version=first, by=boss, comment="Mazāk.")
    second = services.plan_save_draft(
        grant=grant, by=staff_of("cesu-novads"), lines=fitted_to(first, Decimal("3900.00"))
    )
    error = refused(lambda: services.plan_return(version=second, by=boss, comment="Labot"))
    assert codes(error) == ["not_proposed"]
    assert text(error) == (
        "Plāna 2. versijas statuss ir “melnraksts”; labošanai var atdot tikai "
        "saskaņošanai iesniegtu plānu."
    )
    error = refused(
        lambda: services.plan_return(version=second, by=boss, comment="Fix"), language="en"
    )
    assert text(error) == "Plan version 2 is draft; only a proposed plan can be returned."


# --- the interim payment waits for its report -----------------------------------------------


def test_an_interim_payment_waits_for_the_interim_report_accepted_not_only_submitted():
    grant = grant_in_progress("aluksnes-novads", amount=Decimal("5000.00"))
    staff = grant.municipality.staff.get()
    boss = coordinator("coordinator-aluksne")
    report = submitted(grant, staff, ["1000.00", "500.00"], kind="interim")

    error = refused(lambda: pay(grant, boss, "interim", "0.01"))
    assert codes(error) == ["interim_report_not_accepted"]
    assert text(error) == "Starpmaksājumu veic pēc starpposma pārskata apstiprināšanas."
    error = refused(lambda: pay(grant, boss, "interim", "0.01"), language="en")
    assert text(error) == "An interim payment is made once the interim report is accepted."
    assert not Payment.objects.filter(grant=grant).exists()

    settlement.report_accept(report=report, by=boss)
    pay(grant, boss, "interim", "0.01")
    assert figures(grant)[0] == (Decimal("0.01"), Decimal("0.00"))
