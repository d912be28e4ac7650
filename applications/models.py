import hashlib
import json
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Avg, Count, F, Max, Min, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Round, RowNumber
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from competitions import roles
from competitions.formatting import format_money
from competitions.models import MONEY, ActivityCategory, Competition, Municipality, ScoringCriterion


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    SUBMITTED = "submitted", _("submitted")
    WITHDRAWN = "withdrawn", _("withdrawn")
    AWARDED = "awarded", _("awarded")
    REJECTED = "rejected", _("rejected")
    # Awarded by the decision, then turned down by the municipality: its award is 0 again.
    DECLINED = "declined", _("award declined")


#: Statuses of applications that were submitted and not withdrawn: the ones reviewed and ranked.
RANKED_STATUSES = [
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.AWARDED,
    ApplicationStatus.REJECTED,
    ApplicationStatus.DECLINED,
]

#: Statuses of the applications the decision decided, as the results show them.
DECIDED_STATUSES = [
    ApplicationStatus.AWARDED,
    ApplicationStatus.REJECTED,
    ApplicationStatus.DECLINED,
]


#: The scores kept on each application from its reviews (``ApplicationQuerySet.refresh_scores``).
SCORE_FIELDS = ["score_mean", "review_count", "score_min", "score_max"]
SCORE_MEAN_FIELD = models.DecimalField(max_digits=9, decimal_places=6)
SCORE_FIELD = models.DecimalField(max_digits=5, decimal_places=2)
UNSCORED = Decimal("-1")


def ranking_order() -> list[models.OrderBy]:
    """The order of a call's ranking: weighted mean score, highest first; unscored last; ties
    to the earlier submission."""
    # Unscored as -1, below any score (0-100), rather than NULLS LAST: SQLite cannot index
    # that, and the index application_call_list holds this order.
    scored_first = Coalesce(F("score_mean"), Value(UNSCORED), output_field=SCORE_MEAN_FIELD)
    return [scored_first.desc(), F("submitted_at").asc(), F("id").asc()]


def call_list_order() -> list[models.OrderBy]:
    """The order of one call's applications in the coordinators' list: the ranked ones in the
    ranking's order, then the withdrawn ones. The index ``application_call_list`` holds it, so
    that a page of a call of thousands is read without sorting the call."""
    withdrawn_last = models.Case(
        models.When(status__in=RANKED_STATUSES, then=models.Value(0)),
        default=models.Value(1),
        output_field=models.IntegerField(),
    )
    return [withdrawn_last.asc(), *ranking_order()]


class ApplicationQuerySet(models.QuerySet):
    def of_municipality_staff(self, user):
        """Applications of the municipalities the user acts for."""
        return self.filter(roles.acting_for(user))

    def visible_to(self, user):
        """What a user may read: their municipality's applications, drafts included; once
        submitted, also the calls they review, and everything for coordinators (``roles``)."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        submitted = ~Q(status=ApplicationStatus.DRAFT)
        if roles.is_coordinator(user):
            return self.filter(roles.acting_for(user) | submitted)
        return self.filter(roles.acting_for(user) | (roles.reviewing(user) & submitted))

    def ranked(self):
        return self.filter(status__in=RANKED_STATUSES)

    def refresh_scores(self) -> int:
        """Store again, on each application, the weighted mean (0-100) of its reviews without a
        conflict of interest, how many there are, and the lowest and highest of them.

        One ``UPDATE``. The review service calls it in the transaction that records a review;
        so do the bulk writers of the benchmarks and tests, which bypass the service.
        """
        counted = Review.objects.filter(
            application=OuterRef("pk"), conflict_of_interest=False
        ).order_by()

        def of_counted(aggregate, output_field):
            return Subquery(
                counted.values("application").annotate(value=aggregate).values("value")[:1],
                output_field=output_field,
            )

        return self.update(
            # Rounded in the database to the column's places, so that SQLite's floating-point
            # mean of 92.01 and 92.01 cannot fall below their minimum.
            score_mean=of_counted(Round(Avg("score"), 6), SCORE_MEAN_FIELD),
            score_min=of_counted(Min("score"), SCORE_FIELD),
            score_max=of_counted(Max("score"), SCORE_FIELD),
            review_count=Coalesce(of_counted(Count("pk"), models.PositiveIntegerField()), 0),
        )

    def with_rank(self):
        """Rank by weighted mean score; unscored last; ties to the earlier submission."""
        return self.annotate(rank=models.Window(RowNumber(), order_by=ranking_order()))


class Application(models.Model):
    """One municipality's application to one call."""

    Status = ApplicationStatus

    competition = models.ForeignKey(
        Competition, verbose_name=_("call"), related_name="applications", on_delete=models.PROTECT
    )
    municipality = models.ForeignKey(
        Municipality,
        verbose_name=_("municipality"),
        related_name="applications",
        on_delete=models.PROTECT,
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.DRAFT,
    )
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    goals = models.TextField(_("goals"), blank=True)
    target_groups = models.TextField(_("target groups"), blank=True)
    summary = models.TextField(_("summary"), blank=True)
    requested_amount = models.DecimalField(
        _("requested amount"),
        **MONEY,
        default=Decimal("0.00"),
        help_text=_("The sum of the planned activities' costs."),
    )
    awarded_amount = models.DecimalField(_("awarded amount"), **MONEY, default=Decimal("0.00"))
    reference = models.CharField(_("reference"), max_length=20, unique=True, null=True, blank=True)
    # The scores of the reviews without a conflict of interest, kept by the review service
    # (``ApplicationQuerySet.refresh_scores``) so that a ranking reads columns, not an
    # aggregate over every review of the call.
    score_mean = models.DecimalField(
        _("weighted mean score"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    review_count = models.PositiveIntegerField(_("reviews counted"), default=0)
    score_min = models.DecimalField(
        _("lowest review score"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    score_max = models.DecimalField(
        _("highest review score"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    snapshot = models.JSONField(_("snapshot at submission"), null=True, blank=True)
    snapshot_sha256 = models.CharField(_("SHA-256 of the snapshot"), max_length=64, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # The scores are kept from the reviews, whose own history records every change.
    history = HistoricalRecords(excluded_fields=SCORE_FIELDS)
    objects = ApplicationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        indexes = [
            models.Index(F("competition"), *call_list_order(), name="application_call_list"),
            # Covering: the list's counts by call and by status, and a call's allocated total
            # (taken under the call's lock by every change of an amount) are read from this
            # index alone, not from the applications' rows.
            models.Index(
                fields=["competition", "status", "awarded_amount", "id"],
                name="application_call_totals",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["competition", "municipality"],
                name="application_one_per_call_and_municipality",
                violation_error_message=_(
                    "This municipality already has an application in this call."
                ),
            ),
            models.CheckConstraint(
                condition=Q(awarded_amount__gte=0),
                name="application_awarded_not_negative",
                violation_error_message=_("The awarded amount cannot be negative."),
            ),
            # With the award not negative, this also keeps the request from going below zero.
            models.CheckConstraint(
                condition=Q(awarded_amount__lte=F("requested_amount")),
                name="application_awarded_within_request",
                violation_error_message=_(
                    "The awarded amount cannot be more than the requested amount."
                ),
            ),
            models.CheckConstraint(
                condition=Q(status__in=ApplicationStatus.values),
                name="application_status_valid",
                violation_error_message=_("Unknown application status."),
            ),
            models.CheckConstraint(
                condition=Q(status=ApplicationStatus.DRAFT)
                | Q(reference__isnull=False, submitted_at__isnull=False, snapshot__isnull=False),
                name="application_submitted_has_reference",
                violation_error_message=_(
                    "A submitted application must have a reference, a time and a snapshot."
                ),
            ),
            models.CheckConstraint(
                condition=Q(awarded_amount=0)
                | Q(status__in=[ApplicationStatus.SUBMITTED, ApplicationStatus.AWARDED]),
                name="application_award_only_when_in_play",
                violation_error_message=_(
                    "Only a submitted or awarded application can have an awarded amount."
                ),
            ),
            models.CheckConstraint(
                condition=Q(
                    review_count=0,
                    score_mean__isnull=True,
                    score_min__isnull=True,
                    score_max__isnull=True,
                )
                | Q(
                    review_count__gt=0,
                    score_mean__isnull=False,
                    score_min__isnull=False,
                    score_max__isnull=False,
                    score_min__lte=F("score_mean"),
                    score_mean__lte=F("score_max"),
                ),
                name="application_scores_consistent",
                violation_error_message=_(
                    "An application's mean score lies between its lowest and highest review "
                    "score, and exists exactly when a review counts."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(status=ApplicationStatus.AWARDED) | Q(awarded_amount__gt=0),
                name="application_awarded_has_amount",
                violation_error_message=_("An awarded application must have an awarded amount."),
            ),
        ]

    def __str__(self):
        return f"{self.reference or _('draft')} · {self.municipality}"

    def get_absolute_url(self):
        return reverse("applications:detail", kwargs={"pk": self.pk})

    @property
    def is_draft(self) -> bool:
        return self.status == ApplicationStatus.DRAFT

    @property
    def is_partial_award(self) -> bool:
        return Decimal("0") < self.awarded_amount < self.requested_amount


def snapshot_digest(snapshot: dict) -> str:
    """SHA-256 of a snapshot in its canonical JSON form (sorted keys, no spaces, UTF-8).

    The database may store JSON with its own key order and spacing; the digest is always
    taken of this canonical form so that it can be checked again later.
    """
    canonical = json.dumps(snapshot, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


#: What staff write about a planned activity beside its category and its cost, in the order the
#: form shows it: the form, the service's ``ActivityData``, the saved row and the frozen snapshot
#: all carry these fields under these names.
ACTIVITY_DETAIL_FIELDS = (
    "title",
    "description",
    "starts_on",
    "ends_on",
    "target_group",
    "expected_result",
)


class PlannedActivity(models.Model):
    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        related_name="activities",
        on_delete=models.CASCADE,
    )
    category = models.ForeignKey(
        ActivityCategory,
        verbose_name=_("category"),
        related_name="activities",
        on_delete=models.PROTECT,
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    target_group = models.CharField(_("target group"), max_length=300, blank=True)
    expected_result = models.TextField(_("expected result"), blank=True)
    cost = models.DecimalField(_("cost"), **MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["application", "order", "id"]
        verbose_name = _("planned activity")
        verbose_name_plural = _("planned activities")
        constraints = [
            models.CheckConstraint(
                condition=Q(cost__gt=0),
                name="activity_cost_positive",
                violation_error_message=_("An activity's cost must be more than zero."),
            ),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True)
                | Q(ends_on__isnull=True)
                | Q(ends_on__gte=F("starts_on")),
                name="activity_ends_after_it_starts",
                violation_error_message=_("An activity cannot end before it starts."),
            ),
        ]

    def __str__(self):
        return self.title

    #: Each of ``Meta.constraints`` in Python: the fields it reads and whether a row keeps it
    #: (a NULL keeps it, as in the database's CHECK).
    CONSTRAINT_CHECKS = {
        "activity_cost_positive": (("cost",), lambda row: row.cost is None or row.cost > 0),
        "activity_ends_after_it_starts": (
            ("starts_on", "ends_on"),
            lambda row: (
                row.starts_on is None or row.ends_on is None or row.ends_on >= row.starts_on
            ),
        ),
    }

    def constraint_errors(self, *, exclude: frozenset[str] = frozenset()) -> list[ValidationError]:
        """What ``validate_constraints`` says of this row, without its query per constraint:
        the errors of the constraints it breaks, leaving out those that read a field in
        ``exclude`` (a field already in error), as ``full_clean`` does."""
        errors = []
        for constraint in self._meta.constraints:
            fields, holds = self.CONSTRAINT_CHECKS[constraint.name]
            if exclude.isdisjoint(fields) and not holds(self):
                errors.append(
                    ValidationError(
                        constraint.get_violation_error_message(),
                        code=constraint.violation_error_code,
                    )
                )
        return errors


def document_upload_path(document: "SupportingDocument", filename: str) -> str:
    # The upload service names the file with a random token, never with the user's name: it
    # cannot collide, traverse or be guessed. The user's name is kept in original_name.
    return f"documents/{document.application_id}/{filename}"


class SupportingDocument(models.Model):
    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        related_name="documents",
        on_delete=models.CASCADE,
    )
    file = models.FileField(_("file"), upload_to=document_upload_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("supporting document")
        verbose_name_plural = _("supporting documents")
        constraints = [
            models.CheckConstraint(
                condition=Q(size__gt=0),
                name="document_not_empty",
                violation_error_message=_("A document cannot be empty."),
            ),
        ]

    def __str__(self):
        return self.original_name


class Review(models.Model):
    """One reviewer's assessment of one application."""

    application = models.ForeignKey(
        Application, verbose_name=_("application"), related_name="reviews", on_delete=models.CASCADE
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        related_name="reviews",
        on_delete=models.PROTECT,
    )
    conflict_of_interest = models.BooleanField(
        _("conflict of interest"),
        default=False,
        help_text=_("A review with a declared conflict is left out of the ranking."),
    )
    conflict_note = models.TextField(_("conflict of interest explained"), blank=True)
    comment = models.TextField(_("comment"), blank=True)
    score = models.DecimalField(
        _("weighted score (0-100)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Kept by the review service from the criterion scores and weights."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["application", "created_at"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        constraints = [
            models.UniqueConstraint(
                fields=["application", "reviewer"],
                name="review_one_per_reviewer_and_application",
                violation_error_message=_("This reviewer has already reviewed this application."),
            ),
            models.CheckConstraint(
                condition=Q(conflict_of_interest=True, score__isnull=True)
                | Q(conflict_of_interest=False, score__isnull=False),
                name="review_scored_unless_conflicted",
                violation_error_message=_(
                    "A review has a score exactly when no conflict of interest is declared."
                ),
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100),
                name="review_score_between_0_and_100",
                violation_error_message=_("A review's score must be between 0 and 100."),
            ),
        ]

    def __str__(self):
        return f"{self.application} · {self.reviewer}"


class CriterionScore(models.Model):
    review = models.ForeignKey(
        Review, verbose_name=_("review"), related_name="scores", on_delete=models.CASCADE
    )
    criterion = models.ForeignKey(
        ScoringCriterion,
        verbose_name=_("criterion"),
        related_name="scores",
        on_delete=models.PROTECT,
    )
    points = models.SmallIntegerField(_("points"), validators=[MinValueValidator(0)])

    history = HistoricalRecords()

    class Meta:
        ordering = ["review", "criterion__order", "criterion_id"]
        verbose_name = _("criterion score")
        verbose_name_plural = _("criterion scores")
        constraints = [
            models.UniqueConstraint(
                fields=["review", "criterion"],
                name="score_one_per_review_and_criterion",
                violation_error_message=_("This criterion is already scored in this review."),
            ),
            models.CheckConstraint(
                condition=Q(points__gte=0),
                name="score_points_not_negative",
                violation_error_message=_("Points cannot be negative."),
            ),
        ]

    def __str__(self):
        return f"{self.criterion}: {self.points}"

    def clean(self):
        # The maximum lives on the criterion, another table: it cannot be a CHECK constraint.
        if (
            self.criterion_id
            and self.points is not None
            and self.points > self.criterion.max_points
        ):
            raise ValidationError(
                {
                    "points": ValidationError(
                        _("%(criterion)s: %(points)s points is more than the maximum %(max)s."),
                        code="points_out_of_range",
                        params={
                            "criterion": self.criterion,
                            "points": self.points,
                            "max": self.criterion.max_points,
                        },
                    )
                }
            )


class AllocationEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The allocation ledger is append-only.")

    def delete(self):
        raise TypeError("The allocation ledger is append-only.")


class AllocationEvent(models.Model):
    """An append-only ledger row for every change of an awarded amount."""

    competition = models.ForeignKey(
        Competition,
        verbose_name=_("call"),
        related_name="allocation_events",
        on_delete=models.PROTECT,
    )
    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        related_name="allocation_events",
        on_delete=models.PROTECT,
    )
    amount_before = models.DecimalField(_("amount before"), **MONEY)
    amount_after = models.DecimalField(_("amount after"), **MONEY)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        related_name="allocation_events",
        on_delete=models.PROTECT,
    )
    at = models.DateTimeField(_("changed at"), auto_now_add=True, db_index=True)
    reason = models.TextField(_("reason"))

    objects = AllocationEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("allocation event")
        verbose_name_plural = _("allocation ledger")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_before__gte=0, amount_after__gte=0),
                name="allocation_event_amounts_not_negative",
                violation_error_message=_("Amounts in the ledger cannot be negative."),
            ),
            models.CheckConstraint(
                condition=~Q(amount_before=F("amount_after")),
                name="allocation_event_changes_the_amount",
                violation_error_message=_("A ledger row must change the amount."),
            ),
        ]

    def __str__(self):
        return f"{self.application}: {format_money(self.amount_before)} → {format_money(self.amount_after)}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise TypeError("The allocation ledger is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The allocation ledger is append-only.")

    @property
    def change(self) -> Decimal:
        return self.amount_after - self.amount_before


class AwardLetterQuerySet(models.QuerySet):
    def current(self):
        return self.filter(replaced_by__isnull=True)


class AwardLetter(models.Model):
    """A decision letter as issued: its number, its PDF and the PDF's SHA-256."""

    class Kind(models.TextChoices):
        AWARD = "award", _("award letter")
        REJECTION = "rejection", _("rejection letter")

    application = models.ForeignKey(
        Application, verbose_name=_("application"), related_name="letters", on_delete=models.PROTECT
    )
    number = models.CharField(_("number"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES)
    file = models.FileField(_("PDF"), upload_to="letters/%Y/", max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        related_name="+",
        on_delete=models.PROTECT,
    )
    issued_at = models.DateTimeField(_("issued at"))
    replaced_by = models.OneToOneField(
        "self",
        verbose_name=_("replaced by"),
        related_name="replaces",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )

    objects = AwardLetterQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("decision letter")
        verbose_name_plural = _("decision letters")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["award", "rejection"]),
                name="letter_kind_valid",
                violation_error_message=_("Unknown letter kind."),
            ),
            models.CheckConstraint(
                condition=~Q(replaced_by=F("id")),
                name="letter_not_replaced_by_itself",
                violation_error_message=_("A letter cannot replace itself."),
            ),
        ]

    def __str__(self):
        return self.number


class NumberSequence(models.Model):
    """Counters behind the human-readable numbers (``REM-2019-003``, letter numbers)."""

    key = models.CharField(_("key"), max_length=100, unique=True)
    last_value = models.PositiveIntegerField(_("last value"), default=0)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")

    def __str__(self):
        return f"{self.key}: {self.last_value}"
