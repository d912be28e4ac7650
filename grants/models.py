"""What happens after the decision: the grant, its plan agreed to the award, the agreement,
the payments, the reports on what was done and spent, and the close.

Every status and amount here changes only in ``grants.services``.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from applications.models import Application, PlannedActivity
from competitions.models import MONEY, ActivityCategory, Municipality
from competitions.roles import is_coordinator


class GrantStatus(models.TextChoices):
    AGREEING = "agreeing", _("plan being agreed")
    SIGNING = "signing", _("agreement being signed")
    IN_PROGRESS = "in_progress", _("in progress")
    REPORTING = "reporting", _("final report submitted")
    CLOSED = "closed", _("closed")
    DECLINED = "declined", _("declined")
    TERMINATED = "terminated", _("terminated")


#: Statuses in which the grant has an approved plan, and so an agreed total.
AGREED_STATUSES = [
    GrantStatus.SIGNING,
    GrantStatus.IN_PROGRESS,
    GrantStatus.REPORTING,
    GrantStatus.CLOSED,
]


class GrantQuerySet(models.QuerySet):
    def for_user(self, user):
        """The grants a user may see: coordinators all, staff their municipality's, others
        (reviewers among them) none."""
        if is_coordinator(user):
            return self.all()
        return self.of_municipality_staff(user)

    def of_municipality_staff(self, user):
        """The grants of the municipalities the user acts for: the portal's pages, where a
        coordinator (who works in the admin) has none, as with the applications."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        return self.filter(
            Exists(
                Municipality.staff.through.objects.filter(
                    municipality_id=OuterRef("application__municipality_id"), user_id=user.pk
                )
            )
        )


class Grant(models.Model):
    """An awarded application's life after the decision, opened with the decision."""

    Status = GrantStatus

    application = models.OneToOneField(
        Application,
        verbose_name=_("application"),
        related_name="grant",
        on_delete=models.PROTECT,
    )
    status = models.CharField(
        _("status"), max_length=20, choices=GrantStatus.choices, default=GrantStatus.AGREEING
    )
    opened_at = models.DateTimeField(_("opened at"))
    agreed_total = models.DecimalField(
        _("agreed total"),
        **MONEY,
        null=True,
        blank=True,
        help_text=_("The approved plan's total; empty until a plan is approved."),
    )
    declined_at = models.DateTimeField(_("declined at"), null=True, blank=True)
    declined_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("declined by"),
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    # The ledger's sums, kept by the payment services under the grant's row lock, so that the
    # constraints below hold money rules 5 and 7 in the database too, and the portfolio reads
    # them without summing the ledger of every grant.
    paid_total = models.DecimalField(
        _("paid"),
        **MONEY,
        default=Decimal("0.00"),
        help_text=_("Advance, interim and final payments, less their reversals."),
    )
    repaid_total = models.DecimalField(
        _("repaid"),
        **MONEY,
        default=Decimal("0.00"),
        help_text=_("Repayments received, less their reversals."),
    )
    accepted_total = models.DecimalField(
        _("accepted spending"),
        **MONEY,
        null=True,
        blank=True,
        help_text=_("The accepted final report's total; empty until it is accepted."),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = GrantQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "application__municipality__name"]
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=GrantStatus.values),
                name="grant_status_valid",
                violation_error_message=_("Unknown grant status."),
            ),
            models.CheckConstraint(
                condition=Q(agreed_total__isnull=True) | Q(agreed_total__gt=0),
                name="grant_agreed_total_positive",
                violation_error_message=_("The agreed total must be more than zero."),
            ),
            models.CheckConstraint(
                condition=~Q(status__in=AGREED_STATUSES) | Q(agreed_total__isnull=False),
                name="grant_agreed_total_once_agreed",
                violation_error_message=_(
                    "A grant past the agreement of its plan must have an agreed total."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(status=GrantStatus.DECLINED)
                | (Q(declined_at__isnull=False) & ~Q(decline_reason="")),
                name="grant_declined_with_reason",
                violation_error_message=_("A declined grant must say when and why."),
            ),
            models.CheckConstraint(
                condition=Q(paid_total__gte=0, repaid_total__gte=0)
                & Q(repaid_total__lte=F("paid_total")),
                name="grant_paid_and_repaid_not_negative",
                violation_error_message=_(
                    "Paid and repaid cannot be negative, and no more can be repaid than was paid."
                ),
            ),
            models.CheckConstraint(
                condition=Q(paid_total=0)
                | Q(paid_total__lte=F("agreed_total") + F("repaid_total")),
                name="grant_paid_within_agreed_total",
                violation_error_message=_(
                    "Paid minus repaid cannot exceed the agreed total (money rule 5)."
                ),
            ),
            models.CheckConstraint(
                condition=Q(accepted_total__isnull=True)
                | Q(accepted_total__gte=0, accepted_total__lte=F("agreed_total")),
                name="grant_accepted_within_agreed_total",
                violation_error_message=_(
                    "The accepted spending cannot exceed the agreed total (money rule 6)."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(status=GrantStatus.CLOSED)
                | Q(
                    closed_at__isnull=False,
                    accepted_total__isnull=False,
                    paid_total=F("accepted_total") + F("repaid_total"),
                ),
                name="grant_closed_when_settled",
                violation_error_message=_(
                    "A grant closes only when paid minus repaid equals the accepted spending "
                    "(money rule 7)."
                ),
            ),
        ]

    def __str__(self):
        return str(self.application)

    def get_absolute_url(self):
        return reverse("grants:detail", kwargs={"pk": self.pk})

    @property
    def competition(self):
        return self.application.competition

    @property
    def municipality(self):
        return self.application.municipality

    @property
    def award(self) -> Decimal:
        return self.application.awarded_amount

    @property
    def net_paid(self) -> Decimal:
        """Paid minus repaid: what the municipality holds of the grant."""
        return self.paid_total - self.repaid_total

    @property
    def to_repay(self) -> Decimal:
        """What the municipality owes back once its spending is accepted below what it holds."""
        if self.accepted_total is None or self.net_paid <= self.accepted_total:
            return Decimal("0.00")
        return self.net_paid - self.accepted_total

    @property
    def to_pay(self) -> Decimal:
        """What is still to be paid of the accepted spending."""
        if self.accepted_total is None or self.net_paid >= self.accepted_total:
            return Decimal("0.00")
        return self.accepted_total - self.net_paid


class PlanVersionStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    PROPOSED = "proposed", _("proposed")
    RETURNED = "returned", _("returned")
    APPROVED = "approved", _("approved")
    SUPERSEDED = "superseded", _("superseded")


#: A version still being worked on: at most one per grant. A returned version is closed and
#: kept; the municipality's next save starts a new draft from it.
OPEN_PLAN_STATUSES = [PlanVersionStatus.DRAFT, PlanVersionStatus.PROPOSED]
#: Versions frozen at approval: an approved one and one an amendment has superseded.
FROZEN_PLAN_STATUSES = [PlanVersionStatus.APPROVED, PlanVersionStatus.SUPERSEDED]


class PlanVersion(models.Model):
    """One version of a grant's plan. Version 1 is copied from the submitted activities when
    the grant opens; every proposed version is kept, and an approved one is frozen."""

    Status = PlanVersionStatus

    grant = models.ForeignKey(
        Grant, verbose_name=_("grant"), related_name="plan_versions", on_delete=models.PROTECT
    )
    number = models.PositiveSmallIntegerField(_("version"))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=PlanVersionStatus.choices,
        default=PlanVersionStatus.DRAFT,
    )
    total = models.DecimalField(
        _("total"),
        **MONEY,
        default=Decimal("0.00"),
        help_text=_("The sum of the lines' costs, kept by the service."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    proposed_at = models.DateTimeField(_("proposed at"), null=True, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    decided_at = models.DateTimeField(_("approved or returned at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved or returned by"),
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    return_comment = models.TextField(_("comment on return"), blank=True)
    frozen = models.JSONField(_("frozen plan"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256 of the frozen plan"), max_length=64, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["grant", "number"]
        verbose_name = _("plan version")
        verbose_name_plural = _("plan versions")
        constraints = [
            models.UniqueConstraint(
                fields=["grant", "number"],
                name="plan_version_number_unique_per_grant",
                violation_error_message=_("This grant already has a plan version of that number."),
            ),
            models.UniqueConstraint(
                fields=["grant"],
                condition=Q(status__in=OPEN_PLAN_STATUSES),
                name="plan_version_one_open_per_grant",
                violation_error_message=_(
                    "A grant can have only one plan version in draft or proposed at a time."
                ),
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1),
                name="plan_version_number_positive",
                violation_error_message=_("Plan versions are numbered from 1."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=PlanVersionStatus.values),
                name="plan_version_status_valid",
                violation_error_message=_("Unknown plan version status."),
            ),
            models.CheckConstraint(
                condition=Q(total__gte=0),
                name="plan_version_total_not_negative",
                violation_error_message=_("A plan's total cannot be negative."),
            ),
            models.CheckConstraint(
                condition=~Q(status__in=FROZEN_PLAN_STATUSES)
                | (Q(frozen__isnull=False, decided_at__isnull=False) & ~Q(sha256="")),
                name="plan_version_approved_is_frozen",
                violation_error_message=_(
                    "An approved plan version must be frozen with its SHA-256 and the time of "
                    "approval."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(status=PlanVersionStatus.RETURNED) | ~Q(return_comment=""),
                name="plan_version_returned_with_comment",
                violation_error_message=_("A returned plan version must carry a comment."),
            ),
        ]

    def __str__(self):
        return _("%(grant)s, plan version %(number)s") % {
            "grant": self.grant,
            "number": self.number,
        }

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_PLAN_STATUSES


class PlanLine(models.Model):
    """One line of a plan version: what the money is spent on, and how much.

    The history of the lines is the versions themselves: a draft's lines are its working copy,
    and every proposed version is kept and never changed.
    """

    version = models.ForeignKey(
        PlanVersion, verbose_name=_("plan version"), related_name="lines", on_delete=models.CASCADE
    )
    position = models.PositiveSmallIntegerField(_("position"))
    key = models.CharField(
        _("line key"),
        max_length=32,
        help_text=_(
            "Carried from version to version, so that a changed line can be told from a new one."
        ),
    )
    category = models.ForeignKey(
        ActivityCategory,
        verbose_name=_("category"),
        related_name="plan_lines",
        on_delete=models.PROTECT,
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    cost = models.DecimalField(_("cost"), **MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    activity = models.ForeignKey(
        PlannedActivity,
        verbose_name=_("submitted activity"),
        related_name="plan_lines",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("The activity of the application this line comes from, if any."),
    )

    class Meta:
        ordering = ["version", "position", "id"]
        verbose_name = _("plan line")
        verbose_name_plural = _("plan lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(cost__gt=0),
                name="plan_line_cost_positive",
                violation_error_message=_("A plan line's cost must be more than zero."),
            ),
            models.UniqueConstraint(
                fields=["version", "key"],
                name="plan_line_key_unique_per_version",
                violation_error_message=_("A plan version cannot hold the same line twice."),
            ),
            models.UniqueConstraint(
                fields=["version", "position"],
                name="plan_line_position_unique_per_version",
                violation_error_message=_("Two lines of a plan version cannot share a position."),
            ),
        ]

    def __str__(self):
        return self.title


def agreement_upload_path(agreement: "Agreement", filename: str) -> str:
    # The services name the files (number and a random token), never the user.
    return f"grants/{agreement.grant_id}/agreements/{filename}"


class SignedFileKind(models.TextChoices):
    EDOC = "edoc", _("eDoc container (.edoc)")
    ASICE = "asice", _("ASiC-E container (.asice)")
    PDF = "pdf", _("PDF with an electronic signature")


class AgreementQuerySet(models.QuerySet):
    def current(self):
        return self.filter(replaced_by__isnull=True)


class Agreement(models.Model):
    """The grant agreement (līgums) generated from an approved plan version.

    The municipality's side is completed either by a signatory accepting it on the portal
    (who, when, from where, the SHA-256 of the exact PDF accepted) or by uploading the
    agreement signed with a secure electronic signature; a coordinator countersigns. An
    amendment's agreement replaces this one, which is kept.
    """

    SignedKind = SignedFileKind

    grant = models.ForeignKey(
        Grant, verbose_name=_("grant"), related_name="agreements", on_delete=models.PROTECT
    )
    plan_version = models.ForeignKey(
        PlanVersion,
        verbose_name=_("plan version"),
        related_name="agreements",
        on_delete=models.PROTECT,
    )
    number = models.CharField(_("number"), max_length=60, unique=True)
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES)
    pdf = models.FileField(_("PDF"), upload_to=agreement_upload_path, max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    generated_at = models.DateTimeField(_("generated at"))
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("generated by"),
        related_name="+",
        on_delete=models.PROTECT,
    )
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    accepted_from = models.GenericIPAddressField(_("accepted from"), null=True, blank=True)
    accepted_sha256 = models.CharField(_("SHA-256 of the accepted PDF"), max_length=64, blank=True)
    signed_file = models.FileField(
        _("signed agreement"), upload_to=agreement_upload_path, max_length=255, blank=True
    )
    signed_file_sha256 = models.CharField(
        _("SHA-256 of the signed agreement"), max_length=64, blank=True
    )
    signed_file_kind = models.CharField(
        _("kind of signed file"), max_length=10, choices=SignedFileKind.choices, blank=True
    )
    signed_file_uploaded_at = models.DateTimeField(
        _("signed agreement uploaded at"), null=True, blank=True
    )
    signed_file_uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("signed agreement uploaded by"),
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    countersigned_at = models.DateTimeField(_("countersigned at"), null=True, blank=True)
    countersigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("countersigned by"),
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    countersigned_file = models.FileField(
        _("countersigned agreement"), upload_to=agreement_upload_path, max_length=255, blank=True
    )
    countersigned_file_sha256 = models.CharField(
        _("SHA-256 of the countersigned agreement"), max_length=64, blank=True
    )
    replaced_by = models.OneToOneField(
        "self",
        verbose_name=_("replaced by"),
        related_name="replaces",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )

    history = HistoricalRecords()
    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = ["-generated_at", "-id"]
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    accepted_at__isnull=True,
                    accepted_by__isnull=True,
                    accepted_from__isnull=True,
                    accepted_sha256="",
                )
                | Q(
                    accepted_at__isnull=False,
                    accepted_by__isnull=False,
                    accepted_sha256=F("sha256"),
                ),
                name="agreement_accepted_as_generated",
                violation_error_message=_(
                    "An accepted agreement records who accepted it, when, and the SHA-256 of "
                    "exactly the PDF generated."
                ),
            ),
            models.CheckConstraint(
                condition=Q(
                    signed_file="",
                    signed_file_sha256="",
                    signed_file_kind="",
                    signed_file_uploaded_at__isnull=True,
                    signed_file_uploaded_by__isnull=True,
                )
                | (
                    ~Q(signed_file="")
                    & Q(
                        signed_file_kind__in=SignedFileKind.values,
                        signed_file_uploaded_at__isnull=False,
                        signed_file_uploaded_by__isnull=False,
                    )
                    & ~Q(signed_file_sha256="")
                ),
                name="agreement_signed_file_complete",
                violation_error_message=_(
                    "A signed agreement file needs its kind, its SHA-256, and who uploaded it when."
                ),
            ),
            models.CheckConstraint(
                condition=Q(countersigned_at__isnull=True, countersigned_by__isnull=True)
                | (
                    Q(countersigned_at__isnull=False, countersigned_by__isnull=False)
                    & (Q(accepted_at__isnull=False) | ~Q(signed_file=""))
                ),
                name="agreement_countersigned_after_municipality",
                violation_error_message=_(
                    "An agreement is countersigned only after the municipality has accepted or "
                    "signed it."
                ),
            ),
            models.CheckConstraint(
                condition=Q(countersigned_file="", countersigned_file_sha256="")
                | (~Q(countersigned_file="") & ~Q(countersigned_file_sha256="")),
                name="agreement_countersigned_file_has_sha256",
                violation_error_message=_(
                    "A countersigned agreement file is kept with its SHA-256."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(replaced_by=F("id")),
                name="agreement_not_replaced_by_itself",
                violation_error_message=_("An agreement cannot replace itself."),
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def municipality_signed(self) -> bool:
        return self.accepted_at is not None or bool(self.signed_file)


# --- payments -------------------------------------------------------------------------------


class PaymentKind(models.TextChoices):
    ADVANCE = "advance", _("advance")
    INTERIM = "interim", _("interim payment")
    FINAL = "final", _("final payment")
    REPAYMENT = "repayment", _("repayment")


class PaymentQuerySet(models.QuerySet):
    def signed_sum(self, *, repayments: bool) -> Decimal:
        """The sum of the payments (or of the repayments), their reversals subtracted."""
        rows = (
            self.filter(kind=PaymentKind.REPAYMENT)
            if repayments
            else self.exclude(kind=PaymentKind.REPAYMENT)
        )
        totals = rows.aggregate(
            forward=models.Sum("amount", filter=Q(reverses__isnull=True), default=Decimal(0)),
            back=models.Sum("amount", filter=Q(reverses__isnull=False), default=Decimal(0)),
        )
        return totals["forward"] - totals["back"]


class Payment(models.Model):
    """One row of a grant's append-only payment ledger: money paid to the municipality (the
    advance, an interim or the final payment) or repaid by it. A row is never changed or
    deleted: a mistaken one is reversed by a new row of the same kind and amount that points
    to it (``reverses``), and each row can be reversed once."""

    Kind = PaymentKind

    grant = models.ForeignKey(
        Grant, verbose_name=_("grant"), related_name="payments", on_delete=models.PROTECT
    )
    kind = models.CharField(_("kind"), max_length=20, choices=PaymentKind.choices)
    amount = models.DecimalField(
        _("amount"), **MONEY, validators=[MinValueValidator(Decimal("0.01"))]
    )
    paid_on = models.DateField(_("date"))
    reference = models.CharField(
        _("payment order"), max_length=100, help_text=_("The payment order's number.")
    )
    note = models.TextField(_("note"), blank=True)
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        related_name="reversed_by",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("The mistaken row this row cancels."),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        related_name="+",
        on_delete=models.PROTECT,
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    objects = PaymentQuerySet.as_manager()

    class Meta:
        ordering = ["grant", "recorded_at", "id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="payment_amount_positive",
                violation_error_message=_("A payment's amount must be more than zero."),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=PaymentKind.values),
                name="payment_kind_valid",
                violation_error_message=_("Unknown kind of payment."),
            ),
            models.CheckConstraint(
                condition=~Q(reverses=F("id")),
                name="payment_not_reversing_itself",
                violation_error_message=_("A payment cannot reverse itself."),
            ),
            models.CheckConstraint(
                condition=~Q(reference=""),
                name="payment_reference_required",
                violation_error_message=_("A payment needs its payment order's reference."),
            ),
            # That a reversal points to a row of the same grant is held by a composite foreign
            # key (reverses_id, grant_id) -> (id, grant_id), made in migration 0003: Django
            # has no field for it.
        ]

    def __str__(self):
        return _("%(kind)s %(amount)s, %(date)s") % {
            "kind": self.get_kind_display(),
            "amount": self.amount,
            "date": self.paid_on,
        }

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None

    @property
    def signed_amount(self) -> Decimal:
        """The row's effect on what the municipality holds: a payment adds, a repayment
        subtracts, a reversal undoes its row."""
        sign = -1 if self.kind == PaymentKind.REPAYMENT else 1
        return self.amount * sign * (-1 if self.is_reversal else 1)


# --- reports --------------------------------------------------------------------------------


class ReportKind(models.TextChoices):
    INTERIM = "interim", _("interim report")
    FINAL = "final", _("final report")


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    SUBMITTED = "submitted", _("submitted")
    RETURNED = "returned", _("returned")
    ACCEPTED = "accepted", _("accepted")


#: A version still being worked on or awaiting the coordinator: at most one per report kind.
OPEN_REPORT_STATUSES = [ReportStatus.DRAFT, ReportStatus.SUBMITTED]


class Report(models.Model):
    """One version of a grant's interim or final report. Each submission is frozen with its
    SHA-256; a returned version is kept, and the municipality's next save starts a new
    version from it, as with the plan."""

    Kind = ReportKind
    Status = ReportStatus

    grant = models.ForeignKey(
        Grant, verbose_name=_("grant"), related_name="reports", on_delete=models.PROTECT
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ReportKind.choices)
    number = models.PositiveSmallIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=20, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    due_on = models.DateField(_("due on"))
    summary = models.TextField(_("summary of what was done"), blank=True)
    claimed_total = models.DecimalField(
        _("actual cost"),
        **MONEY,
        default=Decimal("0.00"),
        help_text=_("The sum of the lines' actual costs, kept by the service."),
    )
    accepted_total = models.DecimalField(_("accepted"), **MONEY, null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    snapshot = models.JSONField(_("submitted report"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256 of the submitted report"), max_length=64, blank=True)
    decided_at = models.DateTimeField(_("accepted or returned at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted or returned by"),
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    return_comment = models.TextField(_("comment on return"), blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["grant", "kind", "number"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [
            models.UniqueConstraint(
                fields=["grant", "kind", "number"],
                name="report_number_unique_per_grant_and_kind",
                violation_error_message=_("This grant already has this report's version."),
            ),
            models.UniqueConstraint(
                fields=["grant", "kind"],
                condition=Q(status__in=OPEN_REPORT_STATUSES),
                name="report_one_open_per_kind",
                violation_error_message=_(
                    "A grant can have only one version of a report in draft or submitted."
                ),
            ),
            models.UniqueConstraint(
                fields=["grant", "kind"],
                condition=Q(status=ReportStatus.ACCEPTED),
                name="report_accepted_once_per_kind",
                violation_error_message=_("A grant's report of this kind is already accepted."),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ReportKind.values),
                name="report_kind_valid",
                violation_error_message=_("Unknown kind of report."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=ReportStatus.values),
                name="report_status_valid",
                violation_error_message=_("Unknown report status."),
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1),
                name="report_number_positive",
                violation_error_message=_("Report versions are numbered from 1."),
            ),
            models.CheckConstraint(
                condition=Q(claimed_total__gte=0),
                name="report_claimed_total_not_negative",
                violation_error_message=_("A report's actual cost cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(status=ReportStatus.DRAFT)
                | (Q(snapshot__isnull=False, submitted_at__isnull=False) & ~Q(sha256="")),
                name="report_submitted_is_frozen",
                violation_error_message=_(
                    "A submitted report must be frozen with its SHA-256 and the time of submission."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(status=ReportStatus.ACCEPTED)
                | Q(accepted_total__isnull=False, accepted_total__lte=F("claimed_total")),
                name="report_accepted_within_claimed",
                violation_error_message=_(
                    "An accepted report's accepted amount is at most what it claimed."
                ),
            ),
        ]

    def __str__(self):
        return _("%(grant)s, %(kind)s, version %(number)s") % {
            "grant": self.grant,
            "kind": self.get_kind_display(),
            "number": self.number,
        }

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REPORT_STATUSES


class ReportLine(models.Model):
    """What was done and spent on one line of the approved plan, with the call's indicators,
    and the coordinator's answer: the amount accepted (with the reason where it is less than
    claimed), or a comment where the report is returned."""

    report = models.ForeignKey(
        Report, verbose_name=_("report"), related_name="lines", on_delete=models.CASCADE
    )
    plan_line = models.ForeignKey(
        PlanLine,
        verbose_name=_("plan line"),
        related_name="report_lines",
        on_delete=models.PROTECT,
    )
    position = models.PositiveSmallIntegerField(_("position"))
    done = models.TextField(_("what was done"), blank=True)
    actual_cost = models.DecimalField(
        _("actual cost"), **MONEY, default=Decimal("0.00"), validators=[MinValueValidator(0)]
    )
    people_reached = models.PositiveIntegerField(_("people reached"), default=0)
    events_held = models.PositiveIntegerField(_("events held"), default=0)
    materials_produced = models.PositiveIntegerField(_("materials produced"), default=0)
    accepted_amount = models.DecimalField(_("accepted"), **MONEY, null=True, blank=True)
    acceptance_reason = models.TextField(_("why less is accepted"), blank=True)
    comment = models.TextField(_("coordinator's comment"), blank=True)

    class Meta:
        ordering = ["report", "position", "id"]
        verbose_name = _("report line")
        verbose_name_plural = _("report lines")
        constraints = [
            models.UniqueConstraint(
                fields=["report", "plan_line"],
                name="report_line_once_per_plan_line",
                violation_error_message=_("A report has one line per line of the plan."),
            ),
            models.CheckConstraint(
                condition=Q(actual_cost__gte=0),
                name="report_line_actual_cost_not_negative",
                violation_error_message=_("An actual cost cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(accepted_amount__isnull=True)
                | Q(accepted_amount__gte=0, accepted_amount__lte=F("actual_cost")),
                name="report_line_accepted_within_claimed",
                violation_error_message=_(
                    "The amount accepted on a line is from zero to its actual cost."
                ),
            ),
            models.CheckConstraint(
                condition=Q(accepted_amount__isnull=True)
                | Q(accepted_amount=F("actual_cost"))
                | ~Q(acceptance_reason=""),
                name="report_line_less_accepted_with_reason",
                violation_error_message=_(
                    "Accepting less than claimed on a line needs the reason."
                ),
            ),
        ]

    def __str__(self):
        return self.plan_line.title

    @property
    def reduced_by(self) -> Decimal | None:
        if self.accepted_amount is None or self.accepted_amount >= self.actual_cost:
            return None
        return self.actual_cost - self.accepted_amount


def report_document_path(document: "ReportDocument", filename: str) -> str:
    # The service names the file (a random token), never the user.
    return f"grants/{document.report.grant_id}/reports/{filename}"


class ReportDocument(models.Model):
    """Evidence attached to a report: an invoice, a photo, a published material. Checked by
    ``applications.uploads`` as an application's documents are, kept on the default storage,
    and served only through a permission-checking view. A new version of the report carries
    its documents over (the rows point to the same stored file)."""

    report = models.ForeignKey(
        Report, verbose_name=_("report"), related_name="documents", on_delete=models.CASCADE
    )
    file = models.FileField(_("file"), upload_to=report_document_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    description = models.CharField(_("what it shows"), max_length=200, blank=True)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        related_name="+",
        on_delete=models.PROTECT,
    )
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        ordering = ["report", "uploaded_at", "id"]
        verbose_name = _("report document")
        verbose_name_plural = _("report documents")

    def __str__(self):
        return self.original_name
