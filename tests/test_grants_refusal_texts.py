"""The refusals of the plan and the agreement in ``grants.services`` whose words no other test
read: each rule's code, its whole message with its figures in Latvian and in English, and that
a refusal writes nothing (the rows and the stored files stay as they were)."""

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import DatabaseError, connection
from django.utils import timezone

from competitions.models import ActivityCategory, Competition
from grants import agreements, services
from grants.models import Agreement, Grant, PlanVersion
from grants.services import PlanLineData

from .amounts import spaced
from .factories import category, coordinator, decided_grant, staff_of
from .test_agreements import asice, cesis, stored, upload  # noqa: F401 (cesis: a fixture)
from .test_grants_plan import fitted_to, lines_of, proposed
from .test_grants_settlement_rules import both, codes, refused, stored_files, told

pytestmark = pytest.mark.django_db


def plan_of(grant: Grant) -> list[tuple]:
    """Every version of the grant's plan with its lines, as stored."""
    return [
        (
            version.number,
            version.status,
            version.total,
            [(line.key, line.title, line.cost) for line in version.lines.all()],
        )
        for version in PlanVersion.objects.filter(grant=grant).order_by("number")
    ]


def agreements_of(grant: Grant) -> list[tuple]:
    """Every agreement of the grant with what each side has done to it, as stored."""
    return list(
        Agreement.objects.filter(grant=grant)
        .order_by("pk")
        .values_list(
            "number",
            "sha256",
            "replaced_by",
            "accepted_at",
            "accepted_sha256",
            "signed_file",
            "countersigned_at",
            "countersigned_file",
        )
    )


def status_of(grant: Grant) -> str:
    return Grant.objects.get(pk=grant.pk).status


# --- the plan -------------------------------------------------------------------------------


def test_only_a_coordinator_approves_or_returns_a_plan_and_is_told_so_in_both_languages():
    grant = decided_grant("cesu-novads")
    staff = staff_of("cesu-novads")
    version = proposed(grant, fitted_to(grant.plan_versions.get(), Decimal("4000.00")))
    before = plan_of(grant)
    for act in (
        lambda: services.plan_approve(version=version, by=staff),
        lambda: services.plan_return(version=version, by=staff, comment="Labot"),
    ):
        assert told(act) == (
            ["not_coordinator"],
            "Plānu apstiprināt vai atdot labošanai var tikai koordinators.",
            "Only a coordinator can approve or return a plan.",
        )
    assert plan_of(grant) == before
    assert status_of(grant) == Grant.Status.AGREEING


def test_the_plan_of_a_declined_grant_is_refused_naming_the_municipality_and_the_status():
    grant = decided_grant("cesu-novads")
    staff = staff_of("cesu-novads")
    services.grant_decline(grant=grant, by=staff, reason="Dome nolēma neīstenot.")
    before = plan_of(grant)

    def save():
        return services.plan_save_draft(
            grant=grant, by=staff, lines=lines_of(grant.plan_versions.get())
        )

    assert told(save) == (
        ["plan_not_editable"],
        "Pašvaldības “Cēsu novads” plānu vairs nevar mainīt: finansējuma statuss ir “atteikts”.",
        "The plan of Cēsu novads can no longer be changed: the grant is declined.",
    )
    assert plan_of(grant) == before


def test_plan_lines_without_a_title_or_with_a_wrong_cost_are_refused_naming_each_line():
    grant = decided_grant("cesu-novads")
    before = plan_of(grant)

    def save():
        return services.plan_save_draft(
            grant=grant,
            by=staff_of("cesu-novads"),
            lines=[
                PlanLineData(category=category(), title="Plakāti", cost=Decimal("300.00")),
                PlanLineData(category=category(), title=" \t", cost=Decimal("0.00")),
                PlanLineData(category=category(), title="Brošūra", cost=Decimal("10.005")),
                PlanLineData(category=category(), title="Vizīte", cost=Decimal("-1250.50")),
                PlanLineData(category=category(), title="Bezgalīgs", cost=Decimal("Infinity")),
                PlanLineData(category=category(), title="Peldošs", cost=2.5),
            ],
        )

    assert codes(refused(save)) == [
        "line_title_required",
        "line_cost_not_positive",
        "invalid_amount",
        "line_cost_not_positive",
        "invalid_amount",
        "invalid_amount",
    ]
    latvian, english = both(save)
    assert latvian == spaced(
        "2. pozīcija: norādiet nosaukumu. "
        "2. pozīcija: izmaksām jābūt lielākām par nulli, nevis 0,00 €. "
        "3. pozīcija: izmaksām jābūt summai euro ar ne vairāk kā diviem cipariem aiz komata. "
        "4. pozīcija: izmaksām jābūt lielākām par nulli, nevis -1 250,50 €. "
        "5. pozīcija: izmaksām jābūt summai euro ar ne vairāk kā diviem cipariem aiz komata. "
        "6. pozīcija: izmaksām jābūt summai euro ar ne vairāk kā diviem cipariem aiz komata."
    )
    assert english == (
        "Line 2: give its title. "
        "Line 2: the cost must be more than zero, not €0.00. "
        "Line 3: the cost must be an amount in euros with at most two decimal places. "
        "Line 4: the cost must be more than zero, not -€1,250.50. "
        "Line 5: the cost must be an amount in euros with at most two decimal places. "
        "Line 6: the cost must be an amount in euros with at most two decimal places."
    )
    assert plan_of(grant) == before


def test_a_line_of_one_cent_is_taken_and_a_new_version_is_numbered_next_and_kept_by_its_author():
    grant = decided_grant("cesu-novads")
    staff = staff_of("cesu-novads")
    PlanVersion.objects.filter(grant=grant).delete()
    cent = [PlanLineData(category=category(), title="Pastmarka", cost=Decimal("0.01"))]
    first = services.plan_save_draft(grant=grant, by=staff, lines=cent)
    assert (first.number, first.total, first.created_by) == (1, Decimal("0.01"), staff)
    returned = proposed(grant, lines_of(first))
    services.plan_return(version=returned, by=coordinator("vpr-cent"), comment="Papildiniet")
    second = services.plan_save_draft(grant=grant, by=staff, lines=lines_of(first))
    second.refresh_from_db()
    assert (second.number, second.status, second.created_by) == (2, "draft", staff)
    assert [line.cost for line in second.lines.all()] == [Decimal("0.01")]


def test_plan_lines_of_another_category_or_continuing_no_line_are_refused_naming_each_line():
    grant = decided_grant("cesu-novads")
    courses = ActivityCategory.objects.create(
        code="language-courses", name_lv="Valodas kursi", name_en="Language courses"
    )
    first, second = lines_of(grant.plan_versions.get())
    before = plan_of(grant)

    def save():
        return services.plan_save_draft(
            grant=grant,
            by=staff_of("cesu-novads"),
            lines=[
                first,
                PlanLineData(category=courses, title="Kursi", cost=Decimal("500.00")),
                PlanLineData(category=category(), title="Svešs", cost=Decimal("5.00"), key="nav"),
                second,
                first,  # the same line twice
            ],
        )

    assert told(save) == (
        ["category_not_in_call", "unknown_line", "unknown_line"],
        "2. pozīcija: kategorija “Valodas kursi” nav šī konkursa kategorija. "
        "3. pozīcija neturpina nevienu šī finansējuma plāna pozīciju. "
        "5. pozīcija neturpina nevienu šī finansējuma plāna pozīciju.",
        "Line 2: the category “Language courses” is not one of this call's. "
        "Line 3 does not continue a line of this grant's plan. "
        "Line 5 does not continue a line of this grant's plan.",
    )
    assert plan_of(grant) == before


def test_a_proposed_plan_is_neither_changed_nor_proposed_again_naming_its_version():
    grant = decided_grant("cesu-novads")
    staff = staff_of("cesu-novads")
    version = proposed(grant, fitted_to(grant.plan_versions.get(), Decimal("4000.00")))
    before = plan_of(grant)

    def save():
        return services.plan_save_draft(grant=grant, by=staff, lines=lines_of(version))

    assert told(save) == (
        ["plan_awaiting_decision"],
        "Plāna 1. versija ir iesniegta saskaņošanai un gaida koordinatora atbildi; līdz tam to "
        "nevar mainīt.",
        "Plan version 1 is proposed and awaits the coordinator's answer; it cannot be changed "
        "until then.",
    )

    def propose():
        return services.plan_propose(version=version, by=staff)

    assert told(propose) == (
        ["not_draft"],
        "Plāna 1. versijas statuss ir “iesniegts saskaņošanai”; saskaņošanai var iesniegt tikai "
        "melnrakstu.",
        "Plan version 1 is proposed; only a draft can be proposed.",
    )
    assert plan_of(grant) == before


def test_a_plan_without_lines_is_not_proposed_and_stays_a_draft():
    grant = decided_grant("cesu-novads")
    staff = staff_of("cesu-novads")
    version = services.plan_save_draft(grant=grant, by=staff, lines=[])
    before = plan_of(grant)

    def propose():
        return services.plan_propose(version=version, by=staff)

    assert told(propose) == (
        ["plan_empty"],
        "Plānu bez pozīcijām nevar iesniegt saskaņošanai.",
        "A plan without lines cannot be proposed.",
    )
    assert plan_of(grant) == before


def test_a_draft_is_not_approved_naming_its_version_and_status():
    grant = decided_grant("cesu-novads")
    boss = coordinator("coordinator-cesis")
    before = plan_of(grant)

    def approve():
        return services.plan_approve(version=grant.plan_versions.get(), by=boss)

    assert told(approve) == (
        ["not_proposed"],
        "Plāna 1. versijas statuss ir “melnraksts”; apstiprināt var tikai saskaņošanai "
        "iesniegtu plānu.",
        "Plan version 1 is draft; only a proposed plan can be approved.",
    )
    assert plan_of(grant) == before
    assert (status_of(grant), grant.agreements.exists()) == (Grant.Status.AGREEING, False)


# --- issuing the agreement ------------------------------------------------------------------


def test_an_agreement_is_issued_only_in_latvian_or_english_and_only_while_it_is_being_signed(
    cesis,  # noqa: F811
):
    grant, _agreement, _signatory = cesis
    boss = coordinator("coordinator-cesis")
    before, files = agreements_of(grant), stored_files()

    def in_german():
        return services.agreement_issue(grant=grant, by=boss, language="de")

    assert told(in_german) == (
        ["unknown_language"],
        "Līgumus sagatavo latviešu vai angļu valodā, nevis “de”.",
        "Agreements are written in Latvian or English, not in “de”.",
    )
    valka = decided_grant("valkas-novads")

    def too_early():
        return services.agreement_issue(grant=valka, by=boss)

    assert told(too_early) == (
        ["not_signing"],
        "Līgumu sagatavo pēc plāna apstiprināšanas un līdz tā parakstīšanai; pašvaldības "
        "“Valkas novads” finansējuma statuss: plāna saskaņošana.",
        "An agreement is issued once the plan is approved and until it is signed; the grant of "
        "Valkas novads is plan being agreed.",
    )
    assert (agreements_of(grant), stored_files()) == (before, files)
    assert not valka.agreements.exists()


def test_an_agreement_is_not_issued_while_the_call_lacks_what_it_prints_naming_the_fields(
    cesis,  # noqa: F811
):
    grant, _agreement, _signatory = cesis
    Competition.objects.filter(pk=grant.competition.pk).update(
        signatory_name="", report_due_on=None
    )
    before, files = agreements_of(grant), stored_files()

    def issue():
        return services.agreement_issue(grant=grant, by=coordinator("coordinator-cesis"))

    assert told(issue) == (
        ["call_incomplete"],
        "Pirms līgumu sagatavošanas aizpildiet konkursa laukus: vēstules parakstītājs; atskaites "
        "iesniegšanas termiņš.",
        "Fill in the call's letter signatory; report due on before its agreements are issued.",
    )
    assert (agreements_of(grant), stored_files()) == (before, files)


def test_an_agreement_whose_pdf_cannot_be_made_is_not_issued_and_says_to_try_again(
    cesis,  # noqa: F811
    monkeypatch,
    caplog,
):
    grant, _agreement, _signatory = cesis
    before, files = agreements_of(grant), stored_files()

    def broken(content):
        raise OSError("no fonts")

    monkeypatch.setattr(agreements, "render_agreement", broken)

    def issue():
        return services.agreement_issue(grant=grant, by=coordinator("coordinator-cesis"))

    assert told(issue) == (
        ["render_failed"],
        "Līguma PDF neizdevās izveidot, tāpēc nekas netika sagatavots. Mēģiniet vēlreiz; ja "
        "neizdodas atkal, ziņojiet portāla administratoram.",
        "The PDF of the agreement could not be made, so nothing was issued. Try again; if it "
        "fails again, tell the portal's administrator.",
    )
    assert (agreements_of(grant), stored_files()) == (before, files)
    # The administrator's log names the number that was given back, with the cause.
    logged = [record for record in caplog.records if record.name == "grants.services"]
    assert logged
    prefix = re.escape(f"VPR/{timezone.localdate().year}/{grant.competition.slug}/L-")
    for record in logged:
        assert re.fullmatch(rf"Rendering agreement {prefix}\d{{3}} failed", record.getMessage())
        assert record.exc_info[0] is OSError


def test_only_a_coordinator_issues_an_agreement_told_in_both_languages(cesis):  # noqa: F811
    grant, _agreement, signatory = cesis
    before, files = agreements_of(grant), stored_files()
    assert told(lambda: services.agreement_issue(grant=grant, by=signatory)) == (
        ["not_coordinator"],
        "Tikai koordinators var sagatavot līgumu.",
        "Only a coordinator can issue an agreement.",
    )
    assert (agreements_of(grant), stored_files()) == (before, files)


def test_an_issued_agreement_is_written_once_by_its_coordinator_and_the_one_replaced_says_by_whom(
    cesis,  # noqa: F811
):
    grant, first, _signatory = cesis
    boss = coordinator("coordinator-reissue")
    second = services.agreement_issue(grant=grant, by=boss, language="en")
    # One write of the new row (its PDF stored with it, not before), by the coordinator.
    assert [(row.history_type, row.history_user) for row in second.history.all()] == [("+", boss)]
    latest = first.history.first()
    assert (latest.replaced_by_id, latest.history_user) == (second.pk, boss)


def test_an_agreement_whose_row_cannot_be_written_leaves_no_pdf_behind(cesis):  # noqa: F811
    grant, _agreement, _signatory = cesis
    before, files = agreements_of(grant), stored_files()

    def fail_the_new_agreement(execute, sql, params, many, context):
        if sql.startswith("INSERT") and Agreement._meta.db_table in sql.split("(")[0]:
            raise DatabaseError("the database went away while the agreement was written")
        return execute(sql, params, many, context)

    with (
        connection.execute_wrapper(fail_the_new_agreement),
        pytest.raises(DatabaseError),
    ):
        services.agreement_issue(grant=grant, by=coordinator("coordinator-cesis"), language="en")
    assert (agreements_of(grant), stored_files()) == (before, files)


# --- the municipality accepts or signs ------------------------------------------------------


def test_only_a_named_signatory_accepts_or_signs_and_is_told_who_may(cesis):  # noqa: F811
    grant, agreement, _signatory = cesis
    clerk = staff_of("cesu-novads", "cesis-clerk")
    before, files = agreements_of(grant), stored_files()
    for act in (
        lambda: services.agreement_accept(
            agreement=agreement, by=clerk, sha256=agreement.sha256, client_address=None
        ),
        lambda: services.agreement_upload_signed(
            agreement=agreement, by=clerk, file=upload("ligums.asice", asice(stored(agreement)))
        ),
    ):
        assert told(act) == (
            ["not_signatory"],
            "Līgumu var pieņemt vai parakstīt tikai persona, kuru pašvaldība “Cēsu novads” ir "
            "norādījusi kā pilnvarotu parakstīt.",
            "Only a person whom Cēsu novads has named as authorised to sign can accept or sign "
            "its agreement.",
        )
    assert (agreements_of(grant), stored_files()) == (before, files)


def test_a_replaced_agreement_is_neither_accepted_nor_countersigned_naming_its_replacement(
    cesis,  # noqa: F811
):
    grant, first, signatory = cesis
    boss = coordinator("coordinator-cesis")
    services.agreement_accept(
        agreement=first, by=signatory, sha256=first.sha256, client_address=None
    )
    second = services.agreement_issue(grant=grant, by=boss)
    before, files = agreements_of(grant), stored_files()

    def accept():
        return services.agreement_accept(
            agreement=first, by=signatory, sha256=first.sha256, client_address=None
        )

    assert told(accept) == (
        ["agreement_replaced"],
        f"Līgumu {first.number} aizstāj līgums {second.number}; atveriet jauno līgumu.",
        f"Agreement {first.number} has been replaced by {second.number}; open the new one.",
    )

    def countersign():
        return services.agreement_countersign(agreement=first, by=boss)

    assert told(countersign) == (
        ["agreement_replaced"],
        f"Līgumu {first.number} aizstāj līgums {second.number}.",
        f"Agreement {first.number} has been replaced by {second.number}.",
    )
    assert (agreements_of(grant), stored_files()) == (before, files)
    assert status_of(grant) == Grant.Status.SIGNING


def test_an_agreement_accepted_once_is_not_accepted_again_naming_it_and_the_municipality(
    cesis,  # noqa: F811
):
    grant, agreement, signatory = cesis
    services.agreement_accept(
        agreement=agreement, by=signatory, sha256=agreement.sha256, client_address="192.0.2.1"
    )
    before, files = agreements_of(grant), stored_files()

    def accept():
        return services.agreement_accept(
            agreement=agreement, by=signatory, sha256=agreement.sha256, client_address=None
        )

    assert told(accept) == (
        ["already_signed"],
        f"Līgums {agreement.number} jau ir pieņemts vai parakstīts pašvaldības “Cēsu novads” vārdā.",
        f"Agreement {agreement.number} has already been accepted or signed for Cēsu novads.",
    )
    assert (agreements_of(grant), stored_files()) == (before, files)


def test_the_agreement_of_a_declined_grant_cannot_be_signed_naming_the_status(
    cesis,  # noqa: F811
):
    grant, agreement, signatory = cesis
    services.grant_decline(grant=grant, by=signatory, reason="Dome nolēma neīstenot.")
    before, files = agreements_of(grant), stored_files()
    for act in (
        lambda: services.agreement_accept(
            agreement=agreement, by=signatory, sha256=agreement.sha256, client_address=None
        ),
        lambda: services.agreement_upload_signed(
            agreement=agreement,
            by=signatory,
            file=upload("ligums.asice", asice(stored(agreement))),
        ),
    ):
        assert told(act) == (
            ["not_signing"],
            f"Līgumu {agreement.number} nevar parakstīt: granta statuss ir “atteikts”.",
            f"Agreement {agreement.number} cannot be signed: the grant is declined.",
        )
    assert (agreements_of(grant), stored_files()) == (before, files)


def test_an_agreement_whose_stored_file_changed_is_neither_accepted_nor_signed(
    cesis,  # noqa: F811
):
    grant, agreement, signatory = cesis
    pdf = stored(agreement)
    with agreement.pdf.open("wb") as file:
        file.write(pdf + b"%changed\n")
    before, files = agreements_of(grant), stored_files()
    for act in (
        lambda: services.agreement_accept(
            agreement=agreement, by=signatory, sha256=agreement.sha256, client_address=None
        ),
        lambda: services.agreement_upload_signed(
            agreement=agreement, by=signatory, file=upload("ligums.asice", asice(pdf))
        ),
    ):
        assert told(act) == (
            ["agreement_file_changed"],
            f"Saglabātā līguma {agreement.number} datne vairs neatbilst tā SHA-256 "
            "kontrolsummai; ziņojiet koordinatoram, kurš sagatavos līgumu no jauna.",
            f"The stored file of agreement {agreement.number} no longer matches its SHA-256; "
            "tell the coordinator, who will issue it again.",
        )
    assert (agreements_of(grant), stored_files()) == (before, files)


def test_an_agreement_is_not_accepted_by_another_sha256_than_its_own_naming_the_one_shown(
    cesis,  # noqa: F811
):
    grant, agreement, signatory = cesis
    before = agreements_of(grant)
    shown = "ab" * 32
    for given, named in ((f"  {shown.upper()} ", shown.upper()), (" ", "—")):

        def accept(given=given):
            return services.agreement_accept(
                agreement=agreement, by=signatory, sha256=given, client_address=None
            )

        assert told(accept) == (
            ["document_changed"],
            f"Līgums vairs nav tas dokuments, kas jums tika parādīts (SHA-256 {named}); "
            f"izlasiet līgumu {agreement.number} vēlreiz un tad pieņemiet to.",
            f"The agreement is no longer the document you were shown (SHA-256 {named}); read "
            f"agreement {agreement.number} again and accept it then.",
        )
    assert agreements_of(grant) == before


# --- the coordinator countersigns -----------------------------------------------------------


def test_only_a_coordinator_countersigns_an_agreement_told_in_both_languages(
    cesis,  # noqa: F811
):
    grant, agreement, signatory = cesis
    services.agreement_accept(
        agreement=agreement, by=signatory, sha256=agreement.sha256, client_address=None
    )
    before, files = agreements_of(grant), stored_files()
    assert told(lambda: services.agreement_countersign(agreement=agreement, by=signatory)) == (
        ["not_coordinator"],
        "Tikai koordinators var parakstīt līgumu reģiona vārdā.",
        "Only a coordinator can countersign an agreement.",
    )
    assert (agreements_of(grant), stored_files()) == (before, files)
    assert status_of(grant) == Grant.Status.SIGNING


def test_an_agreement_is_countersigned_once_naming_when_in_riga_time(cesis):  # noqa: F811
    grant, agreement, signatory = cesis
    boss = coordinator("coordinator-cesis")
    services.agreement_accept(
        agreement=agreement, by=signatory, sha256=agreement.sha256, client_address=None
    )
    # Countersigned at 10:05 UTC, 12:05 in Riga (winter time).
    with time_machine.travel(datetime(2027, 1, 14, 10, 5, tzinfo=UTC), tick=False):
        services.agreement_countersign(agreement=agreement, by=boss)
    before, files = agreements_of(grant), stored_files()

    def countersign():
        return services.agreement_countersign(agreement=agreement, by=boss)

    assert told(countersign) == (
        ["already_countersigned"],
        f"Līgums {agreement.number} jau ir parakstīts reģiona vārdā 14.01.2027. 12:05.",
        f"Agreement {agreement.number} was already countersigned on 14 Jan 2027, 12:05.",
    )
    assert (agreements_of(grant), stored_files()) == (before, files)
    assert status_of(grant) == Grant.Status.IN_PROGRESS


def test_an_agreement_is_countersigned_only_after_the_municipality_naming_it(
    cesis,  # noqa: F811
):
    grant, agreement, _signatory = cesis
    before, files = agreements_of(grant), stored_files()

    def countersign():
        return services.agreement_countersign(
            agreement=agreement,
            by=coordinator("coordinator-cesis"),
            file=upload("ligums.asice", asice(stored(agreement))),
        )

    assert told(countersign) == (
        ["municipality_not_signed"],
        f"Līgumu {agreement.number} reģiona vārdā paraksta pēc tam, kad to pieņēmusi vai "
        "parakstījusi pašvaldība (Cēsu novads), bet tas vēl nav noticis.",
        f"Agreement {agreement.number} is countersigned after Cēsu novads has accepted or "
        "signed it, and it has not yet.",
    )
    assert (agreements_of(grant), stored_files()) == (before, files)
    assert status_of(grant) == Grant.Status.SIGNING


def test_an_agreement_of_a_grant_no_longer_being_signed_is_not_countersigned_naming_the_status(
    cesis,  # noqa: F811
):
    """No service leaves an accepted agreement in a grant past signing; the rule guards the
    row against any other change of the grant (here written directly)."""
    grant, agreement, signatory = cesis
    services.agreement_accept(
        agreement=agreement, by=signatory, sha256=agreement.sha256, client_address=None
    )
    Grant.objects.filter(pk=grant.pk).update(status=Grant.Status.TERMINATED)
    before, files = agreements_of(grant), stored_files()

    def countersign():
        return services.agreement_countersign(agreement=agreement, by=coordinator("c-cesis"))

    assert told(countersign) == (
        ["not_signing"],
        f"Līgumu {agreement.number} nevar parakstīt reģiona vārdā: granta statuss ir “pārtraukts”.",
        f"Agreement {agreement.number} cannot be countersigned: the grant is terminated.",
    )
    assert (agreements_of(grant), stored_files()) == (before, files)
    assert status_of(grant) == Grant.Status.TERMINATED
