import calendar
import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .formatting import format_money

MONEY = {"max_digits": 12, "decimal_places": 2}


class Localized:
    """Reads ``<name>_lv`` or ``<name>_en`` by the active language.

    Latvian is the language of record: an English text left empty falls back to it.
    """

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        if (get_language() or "lv").startswith("en"):
            english = getattr(obj, f"{self.name}_en")
            if english:
                return english
        return getattr(obj, f"{self.name}_lv")


class Municipality(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff"),
        related_name="municipalities",
        blank=True,
        help_text=_("Users who act for this municipality in the portal."),
    )
    signatories = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("authorised signatories"),
        related_name="signatory_of",
        blank=True,
        help_text=_(
            "Staff members authorised to accept and sign grant agreements for this "
            "municipality; each must also be among its staff."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")

    def __str__(self):
        return self.name


class StaffChange(models.Model):
    """A change of a municipality's staff or signatories, who made it and when: written by
    ``competitions.services.municipality_set_staff`` in the change's transaction, never
    changed."""

    municipality = models.ForeignKey(
        Municipality,
        verbose_name=_("municipality"),
        on_delete=models.CASCADE,
        related_name="staff_changes",
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    added = models.JSONField(_("added to the staff"), default=list, blank=True)
    removed = models.JSONField(_("removed from the staff"), default=list, blank=True)
    signatories = models.JSONField(_("signatories after the change"), default=list, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("change of a municipality's staff")
        verbose_name_plural = _("changes of municipalities' staff")

    def __str__(self):
        return f"{self.municipality} · {self.changed_at:%Y-%m-%d %H:%M}"


class SentReminder(models.Model):
    """One reminder sent to one person: the unique row that makes ``send_reminders`` safe to run
    every hour. ``kind`` names the reminder ("grants.report_due_14"), ``key`` the thing it is
    about ("report:12"); a second run finds the row and sends nothing."""

    kind = models.CharField(_("kind"), max_length=64)
    key = models.CharField(_("about"), max_length=128)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("reminder sent")
        verbose_name_plural = _("reminders sent")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "key", "user"], name="sent_reminder_once_per_person"
            )
        ]

    def __str__(self):
        return f"{self.kind} · {self.key} · {self.user}"


def job_file_path(job: "JobRun", filename: str) -> str:
    return f"jobs/{job.pk}/{filename}"


class JobRun(models.Model):
    """A piece of work in bulk done on a worker (a call's letters, agreements): who started it,
    how far it has got and what failed, for the admin's page that follows it. The count of
    what is done while a job runs is kept in the shared cache (``competitions.jobs``): the
    letters of a call commit all at once, so the row learns the count when the job ends."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    title = models.CharField(_("job"), max_length=300)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    total = models.PositiveIntegerField(_("to do"), default=0)
    done = models.PositiveIntegerField(_("done"), default=0)
    #: One line per item that failed, naming it and saying why.
    failures = models.JSONField(_("failures"), default=list, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    #: The file the job wrote (a call's export), in the default storage, never public: only
    #: its starter downloads it, through the admin, until it is removed ``JOB_FILE_DAYS``
    #: after the job ends (``competitions.jobs.job_files_remove_expired``).
    file = models.FileField(_("file"), upload_to=job_file_path, blank=True, max_length=300)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(done__lte=models.F("total")), name="job_done_within_total"
            )
        ]

    def __str__(self):
        return self.title

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class UserProfile(models.Model):
    """What the portal keeps of a user beside Django's account: the language they last used on
    the portal, in which their mail is written. No row yet means Latvian, the portal's
    default."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="portal_profile",
    )
    language = models.CharField(
        _("language"), max_length=5, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )

    class Meta:
        verbose_name = _("user's profile")
        verbose_name_plural = _("users' profiles")

    def __str__(self):
        return f"{self.user} · {self.language}"


class ActivityCategory(models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name_lv = models.CharField(_("name (Latvian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    name = Localized()

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("activity category")
        verbose_name_plural = _("activity categories")

    def __str__(self):
        return self.name


class CompetitionQuerySet(models.QuerySet):
    def published(self):
        """Calls the public may see: published or already decided."""
        return self.exclude(status=Competition.Status.DRAFT)

    def open_at(self, moment):
        return self.filter(
            status=Competition.Status.PUBLISHED, opens_at__lte=moment, closes_at__gt=moment
        )

    def upcoming_at(self, moment):
        return self.filter(status=Competition.Status.PUBLISHED, opens_at__gt=moment)

    def closed_at(self, moment):
        """Published calls whose deadline has passed but which are not decided yet."""
        return self.filter(status=Competition.Status.PUBLISHED, closes_at__lte=moment)

    def decided(self):
        return self.filter(status=Competition.Status.DECIDED)


class CompetitionStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    PUBLISHED = "published", _("published")
    DECIDED = "decided", _("decided")


class Competition(models.Model):
    """A call for applications ("konkurss") with its pool, cap and rules."""

    Status = CompetitionStatus

    title_lv = models.CharField(_("title (Latvian)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    description_lv = models.TextField(_("description (Latvian)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    organiser_lv = models.CharField(
        _("organiser (Latvian)"), max_length=200, default="Vidzemes plānošanas reģions"
    )
    organiser_en = models.CharField(
        _("organiser (English)"), max_length=200, blank=True, default="Vidzeme Planning Region"
    )
    organiser_details = models.CharField(
        _("organiser's details"),
        max_length=300,
        blank=True,
        help_text=_(
            "Printed under the organiser's name at the head of the letters: registration "
            "number, address, phone, e-mail, website."
        ),
    )
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    results_expected_on = models.DateField(
        _("results expected on"),
        null=True,
        blank=True,
        help_text=_("Shown on the public results page until the decision is recorded."),
    )
    pool_amount = models.DecimalField(
        _("pool amount"), **MONEY, validators=[MinValueValidator(Decimal("0.01"))]
    )
    max_award_amount = models.DecimalField(
        _("maximum award per municipality"),
        **MONEY,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    partial_awards_allowed = models.BooleanField(
        _("partial awards allowed"),
        default=True,
        help_text=_("Whether an application may be funded for less than it requested."),
    )
    eligible_municipalities = models.ManyToManyField(
        Municipality,
        verbose_name=_("eligible municipalities"),
        related_name="eligible_competitions",
        blank=True,
    )
    categories = models.ManyToManyField(
        ActivityCategory,
        verbose_name=_("activity categories"),
        related_name="competitions",
        blank=True,
    )
    reviewers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewers"),
        related_name="reviewed_competitions",
        blank=True,
    )
    regulations = models.FileField(_("regulations document"), upload_to="regulations/", blank=True)
    signatory_name = models.CharField(_("letter signatory"), max_length=200, blank=True)
    signatory_position = models.CharField(_("signatory's position"), max_length=200, blank=True)
    objection_period_months = models.PositiveSmallIntegerField(
        _("objection period, months"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text=_(
            "How long after the decision letter is issued a municipality may object to the "
            "decision; the letter and the application's page print the last day."
        ),
    )
    implementation_ends_on = models.DateField(
        _("activities to be completed by"), null=True, blank=True
    )
    # The final report's due date: the award letters print it as "the report".
    report_due_on = models.DateField(_("report due on"), null=True, blank=True)
    interim_report_due_on = models.DateField(
        _("interim report due on"),
        null=True,
        blank=True,
        help_text=_("Leave empty when the call asks for no interim report."),
    )
    advance_share = models.DecimalField(
        _("advance, percent of the agreed total"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("50.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_("The share of the agreed total paid in advance once the agreement is signed."),
    )
    cost_tolerance = models.DecimalField(
        _("cost tolerance per line (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("10.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_(
            "How far a plan line's actual cost may exceed its agreed cost while the total "
            "stays within the agreed total."
        ),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=CompetitionStatus.choices,
        default=CompetitionStatus.DRAFT,
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    title = Localized()
    description = Localized()
    organiser = Localized()

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = CompetitionQuerySet.as_manager()

    class Meta:
        ordering = ["-opens_at"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")),
                name="competition_closes_after_opening",
                violation_error_message=_("The call must close after it opens."),
            ),
            # With the cap within the pool, a positive cap makes the pool positive too.
            models.CheckConstraint(
                condition=Q(max_award_amount__gt=0),
                name="competition_cap_positive",
                violation_error_message=_("The maximum award must be more than zero."),
            ),
            models.CheckConstraint(
                condition=Q(max_award_amount__lte=models.F("pool_amount")),
                name="competition_cap_within_pool",
                violation_error_message=_(
                    "The maximum award per municipality cannot exceed the pool."
                ),
            ),
            models.CheckConstraint(
                condition=Q(status__in=CompetitionStatus.values),
                name="competition_status_valid",
                violation_error_message=_("Unknown call status."),
            ),
            models.CheckConstraint(
                condition=Q(advance_share__gte=0, advance_share__lte=100),
                name="competition_advance_share_a_percentage",
                violation_error_message=_("The advance must be a percentage from 0 to 100."),
            ),
            models.CheckConstraint(
                condition=Q(cost_tolerance__gte=0, cost_tolerance__lte=100),
                name="competition_cost_tolerance_a_percentage",
                violation_error_message=_("The cost tolerance must be a percentage from 0 to 100."),
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("competitions:detail", kwargs={"slug": self.slug})

    def clean(self):
        # The constraints say the same; here the message lands on the field that is wrong.
        errors = {}
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            errors["closes_at"] = ValidationError(
                _("The call must close after it opens."), code="closes_before_opening"
            )
        if (
            self.pool_amount is not None
            and self.max_award_amount is not None
            and self.max_award_amount > self.pool_amount
        ):
            errors["max_award_amount"] = ValidationError(
                _("The maximum award (%(cap)s) cannot exceed the pool (%(pool)s)."),
                code="cap_above_pool",
                params={
                    "cap": format_money(self.max_award_amount),
                    "pool": format_money(self.pool_amount),
                },
            )
        errors.update(self._grant_dates_errors())
        if errors:
            raise ValidationError(errors)

    def _grant_dates_errors(self) -> dict:
        """The dates the agreements print, in their order: the deadline, the interim report
        (within implementation), the end of implementation, the final report (not before it)."""
        errors = {}
        deadline = timezone.localdate(self.closes_at) if self.closes_at else None
        ends = self.implementation_ends_on
        interim, final = self.interim_report_due_on, self.report_due_on
        if deadline and ends and ends <= deadline:
            errors["implementation_ends_on"] = ValidationError(
                _("Implementation must end after the call's deadline (%(deadline)s)."),
                code="implementation_before_deadline",
                params={"deadline": date_format(deadline, "SHORT_DATE_FORMAT")},
            )
        if interim and deadline and interim <= deadline:
            errors["interim_report_due_on"] = ValidationError(
                _("The interim report is due after the call's deadline (%(deadline)s)."),
                code="interim_report_before_deadline",
                params={"deadline": date_format(deadline, "SHORT_DATE_FORMAT")},
            )
        elif interim and ends and interim >= ends:
            errors["interim_report_due_on"] = ValidationError(
                _("The interim report is due before implementation ends (%(ends)s)."),
                code="interim_report_after_implementation",
                params={"ends": date_format(ends, "SHORT_DATE_FORMAT")},
            )
        if final and ends and final < ends:
            errors["report_due_on"] = ValidationError(
                _("The final report is due on or after the end of implementation (%(ends)s)."),
                code="report_before_implementation_ends",
                params={"ends": date_format(ends, "SHORT_DATE_FORMAT")},
            )
        elif final and deadline and final <= deadline:
            errors["report_due_on"] = ValidationError(
                _("The final report is due after the call's deadline (%(deadline)s)."),
                code="report_before_deadline",
                params={"deadline": date_format(deadline, "SHORT_DATE_FORMAT")},
            )
        return errors

    def is_open(self, moment=None) -> bool:
        moment = moment or timezone.now()
        return self.status == self.Status.PUBLISHED and self.opens_at <= moment < self.closes_at

    def is_accepting(self, moment=None) -> bool:
        """Whether its drafts can still be saved and submitted: published, deadline not passed.

        The services refuse on their own (``ensure_accepting``); pages ask this to avoid
        offering a form that could only be refused.
        """
        moment = moment or timezone.now()
        return self.status == self.Status.PUBLISHED and moment < self.closes_at

    @property
    def is_decided(self) -> bool:
        return self.status == self.Status.DECIDED

    def objection_deadline(self, issued_on: datetime.date) -> datetime.date:
        """The last day to object to a decision whose letter was issued on ``issued_on``: the
        same day of the month ``objection_period_months`` later (the month's last day where it
        is shorter)."""
        month = issued_on.month - 1 + self.objection_period_months
        year, month = issued_on.year + month // 12, month % 12 + 1
        return datetime.date(year, month, min(issued_on.day, calendar.monthrange(year, month)[1]))


class ScoringCriterion(models.Model):
    competition = models.ForeignKey(
        Competition,
        verbose_name=_("call"),
        related_name="criteria",
        on_delete=models.CASCADE,
    )
    name_lv = models.CharField(_("name (Latvian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    description_lv = models.TextField(_("description (Latvian)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    max_points = models.PositiveSmallIntegerField(
        _("maximum points"), validators=[MinValueValidator(1)]
    )
    weight = models.DecimalField(
        _("weight"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    name = Localized()
    description = Localized()

    history = HistoricalRecords()

    class Meta:
        ordering = ["competition", "order", "id"]
        verbose_name = _("scoring criterion")
        verbose_name_plural = _("scoring criteria")
        constraints = [
            models.CheckConstraint(
                condition=Q(max_points__gt=0),
                name="criterion_max_points_positive",
                violation_error_message=_("A criterion must be worth at least one point."),
            ),
            models.CheckConstraint(
                condition=Q(weight__gt=0),
                name="criterion_weight_positive",
                violation_error_message=_("A criterion's weight must be more than zero."),
            ),
            models.UniqueConstraint(
                fields=["competition", "name_lv"],
                name="criterion_name_unique_per_call",
                violation_error_message=_("This call already has a criterion of that name."),
            ),
        ]

    def __str__(self):
        return self.name
