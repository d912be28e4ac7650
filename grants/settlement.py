"""Every write with a rule once the agreement is signed: payments, reports on what was done
and spent, their review, and the close (money rules 5, 6 and 7).

The services of ``grants.services`` grew past a module's size; these follow them exactly:
one transaction opened as the first statement, the grant's row locked (after its call's, the
one order of locks) before anything is read, keyword-only plain arguments, and a refusal that
is a ``ValidationError`` with a ``code`` and the amounts in its message. Mail goes out with
``transaction.on_commit``.

The ledger (``Payment``) is append-only: no service changes or deletes a row; a mistake is
reversed by a new row. The grant keeps the ledger's sums (``paid_total``, ``repaid_total``)
beside it, written in the same transaction as the row, so that database constraints hold
money rules 5 and 7 even against a write that bypassed the services.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from applications.models import snapshot_digest
from applications.services import files_removed_on_failure
from applications.uploads import MAX_DOCUMENTS_PER_APPLICATION, check_document
from competitions.formatting import CENT
from competitions.history import changed_by
from competitions.roles import acts_for, is_coordinator
from competitions.rules import refusal

from . import notifications
from .models import (
    Grant,
    Payment,
    PaymentKind,
    PlanLine,
    PlanVersion,
    Report,
    ReportDocument,
    ReportKind,
    ReportLine,
    ReportStatus,
)
from .services import lock_grant

#: Grants whose agreement is signed by both sides and not yet closed: money moves, reports come.
ACTIVE = (Grant.Status.IN_PROGRESS, Grant.Status.REPORTING)


def _ensure_coordinator(by: User, what: str) -> None:
    if not is_coordinator(by):
        raise refusal(_("Only a coordinator can %(what)s."), "not_coordinator", what=what)


def _ensure_staff_of(grant: Grant, by: User) -> None:
    if not acts_for(by, grant.municipality):
        raise refusal(
            _("Only staff of %(municipality)s can do this."),
            "not_municipality_staff",
            municipality=grant.municipality.name,
        )


def _ensure_amount(amount) -> None:
    if (
        not isinstance(amount, Decimal)
        or not amount.is_finite()
        or amount != amount.quantize(CENT)
        or amount <= 0
    ):
        raise refusal(
            _("The amount must be more than zero euros, with at most two decimal places."),
            "invalid_amount",
        )


def percent(value: Decimal) -> str:
    """A share as people write it, ``10`` or ``12,5``: a string, so that ``refusal`` does not
    take it for an amount of money."""
    return number_format(value.normalize())


def advance_limit(grant: Grant) -> Decimal:
    """The advance the call allows: its share of the agreed total, rounded down to the cent,
    as the agreement prints it (``grants.agreements.advance_amount``)."""
    share = grant.competition.advance_share
    return (grant.agreed_total * share / Decimal(100)).quantize(CENT, rounding=ROUND_DOWN)


def line_limit(cost: Decimal, tolerance: Decimal) -> Decimal:
    """The most a plan line's actual cost may be: its agreed cost and the call's tolerance,
    rounded down to the cent."""
    return (cost * (Decimal(100) + tolerance) / Decimal(100)).quantize(CENT, rounding=ROUND_DOWN)


def _accepted_report(grant: Grant, kind: str) -> Report | None:
    return grant.reports.filter(kind=kind, status=ReportStatus.ACCEPTED).first()


# --- payments (money rule 5) ----------------------------------------------------------------


def payment_record(
    *,
    grant: Grant,
    by: User,
    kind: str,
    amount: Decimal,
    paid_on: date,
    reference: str,
    note: str = "",
) -> Payment:
    """Record a payment or a repayment in the ledger (a coordinator) and keep the grant's sums.

    Money rule 5 under the grant's row lock: paid minus repaid never exceeds the agreed total,
    and the advance never exceeds its share. The final payment pays at most what the accepted
    final report leaves unpaid; a repayment returns at most what was paid above it.
    """
    with transaction.atomic():
        # Two coordinators recording payments at the same moment would each read what was paid
        # before the other's row and together pay more than the agreed total; with the grant
        # locked, the second reads the first's row.
        grant = lock_grant(grant.pk)
        _ensure_coordinator(by, _("record a payment"))
        if kind not in PaymentKind.values:
            raise refusal(_("Unknown kind of payment “%(kind)s”."), "unknown_kind", kind=kind)
        _ensure_amount(amount)
        if not reference.strip():
            raise refusal(_("Give the payment order's reference."), "reference_required")
        if grant.status not in ACTIVE:
            raise refusal(
                _(
                    "Payments are recorded once the agreement is signed and until the grant is "
                    "closed; the grant of %(municipality)s is %(status)s."
                ),
                "not_payable",
                municipality=grant.municipality.name,
                status=grant.get_status_display(),
            )
        ledger = Payment.objects.filter(grant=grant)
        {
            PaymentKind.ADVANCE: _check_advance,
            PaymentKind.INTERIM: _check_interim,
            PaymentKind.FINAL: _check_final,
            PaymentKind.REPAYMENT: _check_repayment,
        }[PaymentKind(kind)](grant, ledger, amount)
        if kind != PaymentKind.REPAYMENT:
            _ensure_within_agreed_total(grant, amount)
        payment = Payment.objects.create(
            grant=grant,
            kind=kind,
            amount=amount,
            paid_on=paid_on,
            reference=reference.strip(),
            note=note.strip(),
            recorded_by=by,
            recorded_at=timezone.now(),
        )
        _apply(grant, payment, by)
        transaction.on_commit(lambda: notifications.payment_recorded(payment))
        return payment


def _ensure_within_agreed_total(grant: Grant, amount: Decimal) -> None:
    """Money rule 5: paid minus repaid, with ``amount`` paid on top, is at most the agreed
    total."""
    after = grant.net_paid + amount
    if after > grant.agreed_total:
        raise refusal(
            _(
                "Paying %(amount)s would bring what %(municipality)s holds to %(after)s, more "
                "than the agreed total of %(agreed)s by %(excess)s; at most %(room)s can be paid."
            ),
            "over_agreed_total",
            amount=amount,
            municipality=grant.municipality.name,
            after=after,
            agreed=grant.agreed_total,
            excess=after - grant.agreed_total,
            room=max(grant.agreed_total - grant.net_paid, Decimal("0.00")),
        )


def _check_advance(grant: Grant, ledger, amount: Decimal) -> None:
    advances = ledger.filter(kind=PaymentKind.ADVANCE)
    # An advance is never a repayment: False and None (the change) read the same rows.
    paid = advances.signed_sum(repayments=False)  # pragma: no mutate
    limit = advance_limit(grant)
    if paid + amount > limit:
        raise refusal(
            _(
                "The advance is at most %(share)s %% of the agreed total, %(limit)s; "
                "%(paid)s is paid already, so %(amount)s is more by %(excess)s."
            ),
            "advance_over_share",
            share=percent(grant.competition.advance_share),
            limit=limit,
            paid=paid,
            amount=amount,
            excess=paid + amount - limit,
        )


def _check_interim(grant: Grant, ledger, amount: Decimal) -> None:
    if grant.competition.interim_report_due_on is None:
        raise refusal(
            _("This call has no interim report, and so no interim payments."),
            "no_interim_payments",
        )
    if _accepted_report(grant, ReportKind.INTERIM) is None:
        raise refusal(
            _("An interim payment is made once the interim report is accepted."),
            "interim_report_not_accepted",
        )


def _ensure_final_accepted(grant: Grant, what: str) -> None:
    if grant.accepted_total is None:
        raise refusal(
            _("The %(what)s is worked out from the accepted final report, which there is not yet."),
            "final_report_not_accepted",
            what=what,
        )


def _check_final(grant: Grant, ledger, amount: Decimal) -> None:
    _ensure_final_accepted(grant, _("final payment"))
    if amount > grant.to_pay:
        raise refusal(
            _(
                "The final payment is at most the accepted spending of %(accepted)s less what "
                "%(municipality)s holds, %(held)s: %(due)s, not %(amount)s."
            ),
            "final_over_accepted",
            accepted=grant.accepted_total,
            municipality=grant.municipality.name,
            held=grant.net_paid,
            due=grant.to_pay,
            amount=amount,
        )


def _check_repayment(grant: Grant, ledger, amount: Decimal) -> None:
    _ensure_final_accepted(grant, _("repayment"))
    if amount > grant.to_repay:
        raise refusal(
            _(
                "%(municipality)s holds %(held)s against accepted spending of %(accepted)s: "
                "%(due)s is to be repaid, not %(amount)s."
            ),
            "repayment_over_due",
            municipality=grant.municipality.name,
            held=grant.net_paid,
            accepted=grant.accepted_total,
            due=grant.to_repay,
            amount=amount,
        )


def _apply(grant: Grant, payment: Payment, by: User) -> None:
    """Add the row to the grant's sums, in the row's transaction."""
    signed = -payment.amount if payment.is_reversal else payment.amount
    if payment.kind == PaymentKind.REPAYMENT:
        grant.repaid_total += signed
    else:
        grant.paid_total += signed
    recorded = changed_by(grant, by)
    # The row was read under its lock by the caller: saving every field writes the same values.
    recorded.save(update_fields=["paid_total", "repaid_total", "updated_at"])  # pragma: no mutate


def payment_reverse(
    *, payment: Payment, by: User, paid_on: date, reference: str, note: str
) -> Payment:
    """Reverse a mistaken row with a new row of the same kind and amount that points to it
    (a coordinator, with the reason). The mistaken row stays as it was."""
    with transaction.atomic():
        grant = lock_grant(payment.grant_id)
        _ensure_coordinator(by, _("reverse a payment"))
        # select_related saves a query only: the row is read the same without it.
        payment = Payment.objects.select_related("reverses").get(pk=payment.pk)  # pragma: no mutate
        if payment.is_reversal:
            raise refusal(
                _("A reversal cannot itself be reversed; record the payment again instead."),
                "reversal_of_reversal",
            )
        if Payment.objects.filter(reverses=payment).exists():
            raise refusal(
                _("This payment of %(amount)s has already been reversed."),
                "already_reversed",
                amount=payment.amount,
            )
        if grant.status == Grant.Status.CLOSED:
            raise refusal(_("The grant is closed; its ledger is final."), "grant_closed")
        if not reference.strip() or not note.strip():
            raise refusal(
                _("Give the reference of the correcting document and the reason."),
                "reason_required",
            )
        if payment.kind == PaymentKind.REPAYMENT:
            # Undoing a repayment gives the money back to the municipality: rule 5 again.
            _ensure_within_agreed_total(grant, payment.amount)
        elif grant.paid_total - payment.amount < grant.repaid_total:
            raise refusal(
                _(
                    "Reversing %(amount)s would leave less paid than repaid (%(repaid)s); "
                    "reverse the repayment first."
                ),
                "reversal_below_repaid",
                amount=payment.amount,
                repaid=grant.repaid_total,
            )
        reversal = Payment.objects.create(
            grant=grant,
            kind=payment.kind,
            amount=payment.amount,
            paid_on=paid_on,
            reference=reference.strip(),
            note=note.strip(),
            reverses=payment,
            recorded_by=by,
            recorded_at=timezone.now(),
        )
        _apply(grant, reversal, by)
        return reversal


# --- reports (money rule 6) -----------------------------------------------------------------


@dataclass(frozen=True)
class ReportLineData:
    """One line of a report as the municipality's form gives it, for a line of the approved
    plan."""

    plan_line: PlanLine
    done: str = ""
    actual_cost: Decimal = Decimal("0.00")
    people_reached: int = 0
    events_held: int = 0
    materials_produced: int = 0


def approved_plan(grant: Grant) -> PlanVersion | None:
    return grant.plan_versions.filter(status=PlanVersion.Status.APPROVED).first()


def report_due_on(grant: Grant, kind: str) -> date | None:
    competition = grant.competition
    return (
        competition.interim_report_due_on
        if kind == ReportKind.INTERIM
        else (competition.report_due_on)
    )


def _ensure_reportable(grant: Grant, kind: str) -> None:
    if kind not in ReportKind.values:
        raise refusal(_("Unknown kind of report “%(kind)s”."), "unknown_kind", kind=kind)
    if grant.status not in ACTIVE:
        raise refusal(
            _("Reports are filed once the agreement is signed; the grant is %(status)s."),
            "not_reporting",
            status=grant.get_status_display(),
        )
    if kind == ReportKind.INTERIM:
        if grant.competition.interim_report_due_on is None:
            raise refusal(_("This call asks for no interim report."), "no_interim_report")
        if grant.reports.filter(kind=ReportKind.FINAL).exclude(status=ReportStatus.DRAFT).exists():
            raise refusal(
                _("The final report is submitted; the interim report is no longer filed."),
                "final_report_submitted",
            )
    if _accepted_report(grant, kind) is not None:
        # The label in the language of the message, as get_kind_display() gives it: a lazy
        # one would follow whatever language is active when the message is read.
        label = str(ReportKind(kind).label)
        raise refusal(_("The %(kind)s is already accepted."), "report_accepted", kind=label)


def _check_report_lines(plan: PlanVersion, lines: Sequence[ReportLineData]) -> None:
    problems = []
    # values_list(flat=True) without a field name gives the id too: the name is for the reader.
    keys = set(plan.lines.values_list("pk", flat=True))  # pragma: no mutate
    for line in lines:
        if line.plan_line.pk not in keys:
            problems.append(
                refusal(
                    _("“%(line)s” is not a line of the approved plan."),
                    "unknown_line",
                    line=line.plan_line.title,
                )
            )
        cost = line.actual_cost
        if not isinstance(cost, Decimal) or not cost.is_finite() or cost != cost.quantize(CENT):
            problems.append(
                refusal(
                    _("“%(line)s”: the actual cost must be an amount in euros with cents."),
                    "invalid_amount",
                    line=line.plan_line.title,
                )
            )
        elif cost < 0:
            problems.append(
                refusal(
                    _("“%(line)s”: the actual cost cannot be negative."),
                    "invalid_amount",
                    line=line.plan_line.title,
                )
            )
        for value in (line.people_reached, line.events_held, line.materials_produced):
            if not isinstance(value, int) or value < 0:
                problems.append(
                    refusal(
                        _("“%(line)s”: the indicators are whole numbers, zero or more."),
                        "invalid_indicator",
                        line=line.plan_line.title,
                    )
                )
                break
    if problems:
        raise ValidationError(problems)


def _open_report(grant: Grant, kind: str) -> Report | None:
    return grant.reports.filter(
        kind=kind, status__in=[ReportStatus.DRAFT, ReportStatus.SUBMITTED]
    ).first()


def report_save_draft(
    *, grant: Grant, kind: str, by: User, summary: str, lines: Sequence[ReportLineData]
) -> Report:
    """Save the municipality's report as a draft and return it: one line per line of the
    approved plan. Where the report has no draft (none yet, or the last version was returned),
    a new version is started with the documents of the one before, so that every submitted
    version stays as it was submitted. A draft may break rule 6 (the page shows where);
    submitting it is refused."""
    with transaction.atomic():
        grant = lock_grant(grant.pk)
        _ensure_staff_of(grant, by)
        _ensure_reportable(grant, kind)
        plan = approved_plan(grant)
        _check_report_lines(plan, lines)
        report = _open_report(grant, kind)
        if report is not None and report.status == ReportStatus.SUBMITTED:
            raise refusal(
                _(
                    "Version %(number)s of the %(kind)s is submitted and awaits the "
                    "coordinator; it cannot be changed until then."
                ),
                "report_awaiting_decision",
                number=report.number,
                kind=report.get_kind_display(),
            )
        if report is None:
            report = _new_version(grant, kind, by)
        given = {line.plan_line.pk: line for line in lines}
        existing = {line.plan_line_id: line for line in report.lines.all()}
        # A plan's lines are written in the order of their positions, so "id" orders them the
        # same; it is there for the reader.
        plan_lines = plan.lines.order_by("position", "id")  # pragma: no mutate
        for position, plan_line in enumerate(plan_lines, start=1):
            # A line the form left out is saved empty; this plan line is not read from it.
            empty = ReportLineData(plan_line=plan_line)  # pragma: no mutate
            data = given.get(plan_line.pk, empty)
            row = existing.get(plan_line.pk) or ReportLine(report=report, plan_line=plan_line)
            row.position = position
            row.done = data.done.strip()
            row.actual_cost = data.actual_cost
            row.people_reached = data.people_reached
            row.events_held = data.events_held
            row.materials_produced = data.materials_produced
            row.save()
        report.summary = summary.strip()
        start = Decimal("0.00")
        # A report has a line for each line of an approved plan, which has at least one: the
        # sum is never the start alone.
        report.claimed_total = sum(  # pragma: no mutate
            (line.actual_cost for line in report.lines.all()), start
        )
        recorded = changed_by(report, by)
        # Read or made under the grant's lock: saving every field writes the same values.
        recorded.save(update_fields=["summary", "claimed_total"])  # pragma: no mutate
        return report


def _new_version(grant: Grant, kind: str, by: User) -> Report:
    """The next version of a report, carrying the returned one's documents over."""
    latest = grant.reports.filter(kind=kind).order_by("-number").first()
    number = (grant.reports.filter(kind=kind).aggregate(n=Max("number"))["n"] or 0) + 1
    report = Report(
        grant=grant,
        kind=kind,
        number=number,
        due_on=report_due_on(grant, kind) or timezone.localdate(),
        created_by=by,
    )
    changed_by(report, by).save()
    if latest is not None:
        ReportDocument.objects.bulk_create(
            ReportDocument(
                report=report,
                file=document.file.name,
                original_name=document.original_name,
                description=document.description,
                content_type=document.content_type,
                size=document.size,
                sha256=document.sha256,
                uploaded_by=document.uploaded_by,
                uploaded_at=document.uploaded_at,
            )
            for document in latest.documents.all()
        )
    return report


def _lock_report(report: Report) -> tuple[Grant, Report]:
    grant = lock_grant(report.grant_id)
    # Read again under the grant's lock, which every write to its reports takes first.
    report = Report.objects.get(pk=report.pk)
    report.grant = grant
    return grant, report


def _ensure_draft(report: Report) -> None:
    if report.status != ReportStatus.DRAFT:
        raise refusal(
            _("Version %(number)s of the %(kind)s is %(status)s; only a draft can be changed."),
            "not_draft",
            number=report.number,
            kind=report.get_kind_display(),
            status=report.get_status_display(),
        )


def report_document_add(
    *, report: Report, by: User, file: File, description: str = ""
) -> ReportDocument:
    """Attach evidence to a draft report; its content decides whether it is accepted
    (``applications.uploads``), as for an application's documents."""
    with files_removed_on_failure() as files, transaction.atomic():
        grant, report = _lock_report(report)
        _ensure_staff_of(grant, by)
        _ensure_draft(report)
        if report.documents.count() >= MAX_DOCUMENTS_PER_APPLICATION:
            raise refusal(
                _("A report may have at most %(max)s documents."),
                "too_many_documents",
                max=MAX_DOCUMENTS_PER_APPLICATION,
            )
        checked = check_document(file)
        document = ReportDocument(
            report=report,
            # The stored name is random: it cannot collide, traverse or be guessed.
            file=File(file, name=f"{uuid.uuid4().hex}{checked.extension}"),
            original_name=checked.name,
            description=description.strip(),
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            uploaded_by=by,
            uploaded_at=timezone.now(),
        )
        # The stored file, removed again if the row or the transaction fails after it.
        files.append(document.file)
        # Stores the file through the storage's API (FileField.pre_save), then writes the row.
        document.save()
        return document


def report_document_delete(*, document: ReportDocument, by: User) -> None:
    """Remove a document from a draft. The stored file goes once no version keeps it: an
    earlier, submitted version may share it."""
    with transaction.atomic():
        grant, report = _lock_report(document.report)
        _ensure_staff_of(grant, by)
        _ensure_draft(report)
        name = document.file.name
        storage = document.file.storage
        document.delete()
        if not ReportDocument.objects.filter(file=name).exists():
            transaction.on_commit(lambda: storage.delete(name))


def rule_6_problems(
    grant: Grant, amounts: Mapping[PlanLine, Decimal], *, what: str
) -> list[ValidationError]:
    """Money rule 6 for ``amounts`` (a plan line -> its actual or accepted cost): each line at
    most its agreed cost with the call's tolerance, the total at most the agreed total. Each
    problem names the line and the amounts. Writes nothing."""
    tolerance = grant.competition.cost_tolerance
    problems = []
    for plan_line, amount in amounts.items():
        limit = line_limit(plan_line.cost, tolerance)
        if amount > limit:
            problems.append(
                refusal(
                    _(
                        "“%(line)s”: the %(what)s of %(amount)s is more than the agreed "
                        "%(agreed)s with the call's tolerance of %(tolerance)s %% "
                        "(at most %(limit)s) by %(excess)s."
                    ),
                    "line_over_tolerance",
                    line=plan_line.title,
                    what=what,
                    amount=amount,
                    agreed=plan_line.cost,
                    tolerance=percent(tolerance),
                    limit=limit,
                    excess=amount - limit,
                )
            )
    start = Decimal("0.00")
    # Without the start the sum of no amounts is the integer 0, which is over no total.
    total = sum(amounts.values(), start)  # pragma: no mutate
    if total > grant.agreed_total:
        problems.append(
            refusal(
                _(
                    "The %(what)s in total, %(total)s, is more than the agreed total of "
                    "%(agreed)s by %(excess)s."
                ),
                "over_agreed_total",
                what=what,
                total=total,
                agreed=grant.agreed_total,
                excess=total - grant.agreed_total,
            )
        )
    return problems


def report_frozen(report: Report) -> dict:
    """The report as submitted, in plain JSON values: what its SHA-256 is taken of."""
    # Joined only to save two queries a line.
    lines = report.lines.select_related("plan_line__category")  # pragma: no mutate
    lines = lines.order_by("position")
    return {
        "grant": report.grant_id,
        "application": report.grant.application.reference,
        "kind": report.kind,
        "version": report.number,
        "summary": report.summary,
        "claimed_total": str(report.claimed_total),
        "lines": [
            {
                "plan_line": line.plan_line.key,
                "title": line.plan_line.title,
                "category": line.plan_line.category.code,
                "agreed_cost": str(line.plan_line.cost),
                "done": line.done,
                "actual_cost": str(line.actual_cost),
                "people_reached": line.people_reached,
                "events_held": line.events_held,
                "materials_produced": line.materials_produced,
            }
            for line in lines
        ],
        "documents": [
            {"name": d.original_name, "description": d.description, "sha256": d.sha256}
            # Documents are written in the order they were uploaded (a new version copies its
            # predecessor's in that order), so either field alone orders them the same.
            for d in report.documents.order_by("uploaded_at", "id")  # pragma: no mutate
        ],
    }


def report_submit(*, report: Report, by: User) -> Report:
    """Submit a draft report: refused where a line breaks rule 6 or says nothing of what was
    done, or where a final report has no evidence; frozen with its SHA-256 otherwise. The
    final report's submission moves the grant to reporting."""
    with transaction.atomic():
        grant, report = _lock_report(report)
        _ensure_staff_of(grant, by)
        _ensure_draft(report)
        _ensure_reportable(grant, report.kind)
        # The plan lines joined only to save a query each (their titles name the refusals).
        lines = report.lines.select_related("plan_line")  # pragma: no mutate
        lines = list(lines.order_by("position"))
        problems = [
            refusal(
                _("“%(line)s”: say what was done (the actual cost is %(amount)s)."),
                "line_done_required",
                line=line.plan_line.title,
                amount=line.actual_cost,
            )
            for line in lines
            if line.actual_cost > 0 and not line.done
        ]
        problems += rule_6_problems(
            grant, {line.plan_line: line.actual_cost for line in lines}, what=_("actual cost")
        )
        unevidenced = report.kind == ReportKind.FINAL and report.claimed_total > 0
        if unevidenced and not report.documents.exists():
            problems.append(
                refusal(
                    _(
                        "Attach the evidence of the spending (invoices, photos, published "
                        "materials) before submitting the final report."
                    ),
                    "documents_required",
                )
            )
        if problems:
            raise ValidationError(problems)
        report.snapshot = report_frozen(report)
        report.sha256 = snapshot_digest(report.snapshot)
        report.status = ReportStatus.SUBMITTED
        report.submitted_at = timezone.now()
        report.submitted_by = by
        changed_by(report, by).save(
            update_fields=[  # pragma: no mutate: the rest is as read under the lock
                "snapshot",
                "sha256",
                "status",
                "submitted_at",
                "submitted_by",
            ]
        )
        if report.kind == ReportKind.FINAL and grant.status == Grant.Status.IN_PROGRESS:
            grant.status = Grant.Status.REPORTING
            recorded = changed_by(grant, by)
            # The grant was read under its lock: saving every field writes the same values.
            recorded.save(update_fields=["status", "updated_at"])  # pragma: no mutate
        transaction.on_commit(lambda: notifications.report_submitted(report))
        return report


def _ensure_submitted(report: Report) -> None:
    if report.status != ReportStatus.SUBMITTED:
        raise refusal(
            _(
                "Version %(number)s of the %(kind)s is %(status)s; only a submitted report is "
                "accepted or returned."
            ),
            "not_submitted",
            number=report.number,
            kind=report.get_kind_display(),
            status=report.get_status_display(),
        )


@dataclass(frozen=True)
class LineDecision:
    """The coordinator's answer to one line: the amount accepted and, where it is less than
    claimed, the reason (shown to the municipality)."""

    amount: Decimal
    reason: str = ""


def report_accept(
    *, report: Report, by: User, decisions: Mapping[int, LineDecision] | None = None
) -> Report:
    """Accept a submitted report (a coordinator). ``decisions`` maps a report line's id to
    the amount accepted on it; a line not named is accepted as claimed. Less than claimed
    needs the reason; rule 6 holds for the accepted amounts too. The accepted final report
    sets the grant's accepted spending, from which the final payment or the repayment
    follows."""
    decisions = decisions or {}
    with transaction.atomic():
        grant, report = _lock_report(report)
        _ensure_coordinator(by, _("accept a report"))
        _ensure_submitted(report)
        # The plan lines joined only to save a query each (their titles name the refusals).
        lines = report.lines.select_related("plan_line")  # pragma: no mutate
        lines = list(lines.order_by("position"))
        problems = []
        for line in lines:
            decision = decisions.get(line.pk, LineDecision(line.actual_cost))
            amount = decision.amount
            if not isinstance(amount, Decimal) or amount != amount.quantize(CENT) or amount < 0:
                problems.append(
                    refusal(
                        _("“%(line)s”: the accepted amount must be in euros with cents."),
                        "invalid_amount",
                        line=line.plan_line.title,
                    )
                )
                continue
            if amount > line.actual_cost:
                problems.append(
                    refusal(
                        _(
                            "“%(line)s”: at most the claimed %(claimed)s can be accepted, not "
                            "%(amount)s."
                        ),
                        "accepted_over_claimed",
                        line=line.plan_line.title,
                        claimed=line.actual_cost,
                        amount=amount,
                    )
                )
            elif amount < line.actual_cost and not decision.reason.strip():
                problems.append(
                    refusal(
                        _(
                            "“%(line)s”: give the reason for accepting %(amount)s of the claimed "
                            "%(claimed)s."
                        ),
                        "reason_required",
                        line=line.plan_line.title,
                        amount=amount,
                        claimed=line.actual_cost,
                    )
                )
            line.accepted_amount = amount
            line.acceptance_reason = decision.reason.strip() if amount < line.actual_cost else ""
            line.comment = ""
        if not problems:
            problems = rule_6_problems(
                grant,
                {line.plan_line: line.accepted_amount for line in lines},
                what=_("accepted amount"),
            )
        if problems:
            raise ValidationError(problems)
        ReportLine.objects.bulk_update(lines, ["accepted_amount", "acceptance_reason", "comment"])
        accepted = [line.accepted_amount for line in lines]
        start = Decimal("0.00")
        # A report has a line for each line of the plan, so the start is never the total alone:
        # summed without it, the total would be the same Decimal.
        report.accepted_total = sum(accepted, start)  # pragma: no mutate
        report.status = ReportStatus.ACCEPTED
        report.decided_at = timezone.now()
        report.decided_by = by
        changed_by(report, by).save(
            update_fields=[  # pragma: no mutate: the rest is as read under the lock
                "accepted_total",
                "status",
                "decided_at",
                "decided_by",
            ]
        )
        if report.kind == ReportKind.FINAL:
            grant.accepted_total = report.accepted_total
            recorded = changed_by(grant, by)
            # The grant was read under its lock: saving every field writes the same values.
            recorded.save(update_fields=["accepted_total", "updated_at"])  # pragma: no mutate
        transaction.on_commit(lambda: notifications.report_accepted(report))
        return report


def report_return(
    *, report: Report, by: User, comment: str, line_comments: Mapping[int, str] | None = None
) -> Report:
    """Return a submitted report for correction (a coordinator), with a comment on the whole
    or on lines (at least one). The version is kept as submitted, with the comments."""
    line_comments = {pk: text.strip() for pk, text in (line_comments or {}).items()}
    with transaction.atomic():
        _grant, report = _lock_report(report)
        _ensure_coordinator(by, _("return a report"))
        _ensure_submitted(report)
        if not comment.strip() and not any(line_comments.values()):
            raise refusal(
                _("Say what is to be corrected: a comment on the report or on a line."),
                "comment_required",
            )
        lines = list(report.lines.all())
        for line in lines:
            line.comment = line_comments.get(line.pk, "")
        ReportLine.objects.bulk_update(lines, ["comment"])
        report.status = ReportStatus.RETURNED
        report.return_comment = comment.strip()
        report.decided_at = timezone.now()
        report.decided_by = by
        changed_by(report, by).save(
            update_fields=[  # pragma: no mutate: the rest is as read under the lock
                "status",
                "return_comment",
                "decided_at",
                "decided_by",
            ],
        )
        transaction.on_commit(lambda: notifications.report_returned(report))
        return report


# --- closing (money rule 7) -----------------------------------------------------------------


def grant_close(*, grant: Grant, by: User) -> Grant:
    """Close a grant (a coordinator): only once its final report is accepted and paid minus
    repaid equals the accepted spending; the refusal names the difference and what settles it."""
    with transaction.atomic():
        grant = lock_grant(grant.pk)
        _ensure_coordinator(by, _("close a grant"))
        if grant.status != Grant.Status.REPORTING or grant.accepted_total is None:
            raise refusal(
                _(
                    "A grant closes once its final report is accepted; the stage of the grant "
                    "of %(municipality)s is: %(status)s."
                ),
                "final_report_not_accepted",
                municipality=grant.municipality.name,
                status=grant.get_status_display(),
            )
        if grant.net_paid != grant.accepted_total:
            values = {
                "municipality": grant.municipality.name,
                "held": grant.net_paid,
                "accepted": grant.accepted_total,
            }
            if grant.net_paid < grant.accepted_total:  # pragma: no mutate: never equal here (<=)
                raise refusal(
                    _(
                        "Paid minus repaid, %(held)s, is less than the accepted spending of "
                        "%(accepted)s by %(difference)s: record the final payment of "
                        "%(difference)s to %(municipality)s first."
                    ),
                    "not_settled",
                    difference=grant.accepted_total - grant.net_paid,
                    **values,
                )
            raise refusal(
                _(
                    "Paid minus repaid, %(held)s, is more than the accepted spending of "
                    "%(accepted)s by %(difference)s: record the repayment of %(difference)s by "
                    "%(municipality)s first."
                ),
                "not_settled",
                difference=grant.net_paid - grant.accepted_total,
                **values,
            )
        grant.status = Grant.Status.CLOSED
        grant.closed_at = timezone.now()
        grant.closed_by = by
        changed_by(grant, by).save(
            update_fields=[  # pragma: no mutate: the rest is as read under the lock
                "status",
                "closed_at",
                "closed_by",
                "updated_at",
            ],
        )
        transaction.on_commit(lambda: notifications.grant_closed(grant))
        return grant
