"""What happens after the decision: the grant, its plan agreed to the award, the agreement.

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
