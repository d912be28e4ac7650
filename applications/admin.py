"""The review workspace in the admin.

Reviewers see the submitted applications of the calls they are assigned to and record their
own review of each; coordinators see every submitted application with its scores, its rank in
its call and its award. Which role a user acts in is answered by ``competitions.roles``.

Every write goes through ``applications.services``; the admin turns a refusal into a form error
or an error message that names the amounts.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ALL_VAR, ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from competitions import roles
from competitions.admin_base import (
    CALL_PARAMETER,
    HiddenFieldLookupsMixin,
    ObjectTool,
    ObjectToolsMixin,
    ReadOnlyAdmin,
    VisibleOnlyMixin,
)
from competitions.models import Competition
from competitions.templatetags.portal import money

from . import services
from .admin_allocation import CompetitionAllocationAdmin
from .admin_letters import LetterAdminMixin, issue_letters
from .models import (
    RANKED_STATUSES,
    AllocationEvent,
    Application,
    PlannedActivity,
    Review,
    call_list_order,
    ranking_order,
    snapshot_digest,
)
from .selectors import (
    APPLICATION_TEXTS,
    DISAGREEMENT_SHARE,
    SCORE_MAXIMUM,
    awaiting_score,
    pool_state,
    ranks_within_calls,
    reviewers_disagree,
)


def score_text(value) -> str:
    """A score out of 100 as ``94,50`` (the active language's decimal mark)."""
    return "—" if value is None else number_format(value, 2)


@admin.register(AllocationEvent)
class AllocationEventAdmin(VisibleOnlyMixin, ReadOnlyAdmin):
    list_display = ["at", "application", "before", "after", "by", "reason"]
    list_filter = ["competition"]
    list_select_related = ["application__municipality", "by"]
    search_fields = ["application__reference", "application__municipality__name", "reason"]
    date_hierarchy = "at"

    def has_view_permission(self, request, obj=None):
        # The ledger names every award of every call: coordinators' reading, as the
        # allocation screen is.
        return roles.is_coordinator(request.user)

    @admin.display(description=AllocationEvent._meta.get_field("amount_before").verbose_name)
    def before(self, event):
        return money(event.amount_before)

    @admin.display(description=AllocationEvent._meta.get_field("amount_after").verbose_name)
    def after(self, event):
        return money(event.amount_after)


# --- the application list -----------------------------------------------------------------------


#: The facet count of how many related objects occur in a list too long to offer them all.
OCCURRING = "__occurring"


class OccurringFilter(admin.RelatedFieldListFilter):
    """The related objects that occur in the list, each with its count, read once a request
    (Django builds the filters again for every facet count).

    At most ``max_listed`` are offered. A call open to thousands of municipalities would
    otherwise list thousands of links and count each of them in one query, which PostgreSQL
    refuses beyond 1 664 columns; past the limit the filter offers only the chosen object and
    points to the search, which finds municipalities by name, saying how many there are. A
    real call stays under it: Vidzeme has 26 municipalities, Latvia 43.
    """

    max_listed = 50
    template = "admin/applications/application/occurring_filter.html"

    def occurring(self, request, model_admin):
        """The applications whose related objects are offered."""
        return model_admin.get_queryset(request)

    def field_choices(self, field, request, model_admin):
        cache = request.__dict__.setdefault("_occurring_filter_choices", {})
        if self.field_path not in cache:
            # One query however large the list: the ids are read in the order of an index
            # and the reading stops after one more than can be listed.
            occurring = (
                self.occurring(request, model_admin)
                .order_by(field.attname)
                .values(field.attname)
                .distinct()[: self.max_listed + 1]
            )
            cache[self.field_path] = field.get_choices(
                include_blank=False,
                limit_choices_to={"pk__in": occurring},
                ordering=self.field_admin_ordering(field, request, model_admin),
            )
        choices = cache[self.field_path]
        self.too_many = len(choices) > self.max_listed
        if not self.too_many:
            return choices
        chosen = [value for value in self.lookup_val or [] if str(value).isdigit()]
        if not chosen:
            return []
        return field.get_choices(include_blank=False, limit_choices_to={"pk__in": chosen})

    def has_output(self):
        return self.too_many or super().has_output()

    def get_facet_counts(self, pk_attname, filtered_qs):
        counts = super().get_facet_counts(pk_attname, filtered_qs)
        if self.too_many:  # how many there are, in the same query as the others' counts
            counts[OCCURRING] = self.occurring_aggregate()
        return counts

    def occurring_aggregate(self):
        return models.Count(self.field.attname, distinct=True)

    def get_facet_queryset(self, changelist):
        self.facet_counts = super().get_facet_queryset(changelist)
        return self.facet_counts

    def occurring_count(self) -> int | None:
        """How many there are in the list, past ``max_listed``, when the counts are shown."""
        return getattr(self, "facet_counts", {}).get(OCCURRING)


class MunicipalityFilter(OccurringFilter):
    """The municipalities that applied, to the chosen call when the list shows one."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        call = request.GET.get(CALL_PARAMETER, "")
        self.call = int(call) if call.isdigit() else None
        super().__init__(field, request, params, model, model_admin, field_path)

    def occurring(self, request, model_admin):
        applications = super().occurring(request, model_admin)
        return applications if self.call is None else applications.filter(competition_id=self.call)

    def occurring_aggregate(self):
        if self.call is not None:
            # A municipality applies once to a call: its applications are its municipalities.
            return models.Count("pk")
        return super().occurring_aggregate()


class ToScoreFilter(admin.SimpleListFilter):
    """A reviewer's applications that still await the reviewer's score."""

    title = _("my score")
    parameter_name = "to_score"

    def lookups(self, request, model_admin):
        return [("yes", _("To score"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(pk__in=awaiting_score(request.user).values("pk"))
        return queryset


class RankedChangeList(ChangeList):
    """The coordinators' list: each application with its scores (kept on the application by
    the review service) and its rank within its whole call.

    When the list is exactly one call's ranking (filtered by the call and nothing else, in the
    ranking's order), a row's rank is its place in the list; otherwise the ranks are read apart
    from the list's filters, search and order (one query), so that a filtered list still shows
    true ranks.
    """

    def get_queryset(self, request, exclude_parameters=None):
        applications = super().get_queryset(request, exclude_parameters)
        if exclude_parameters is not None:  # a filter's counts
            return applications
        # The list shows none of the texts; the frozen snapshot holds the whole application.
        return applications.defer(*APPLICATION_TEXTS)

    def get_results(self, request):
        super().get_results(request)
        rows = self.result_list = list(self.result_list)
        first = 0
        if self.multi_page and not (self.show_all and self.can_show_all):
            first = self.paginator.page(self.page_num).start_index() - 1
        if self.is_one_calls_ranking():
            # Withdrawn applications come after the ranked ones, so the ranked rows of the
            # page follow every ranked row of the pages before it.
            ranked = [row for row in rows if row.status in RANKED_STATUSES]
            ranks = {row.pk: first + place for place, row in enumerate(ranked, start=1)}
        else:
            ranks = ranks_within_calls(competition_ids={row.competition_id for row in rows})
        for row in rows:
            row.call_rank = ranks.get(row.pk)

    def is_one_calls_ranking(self) -> bool:
        return (
            CALL_PARAMETER in self.params
            and set(self.params) <= {CALL_PARAMETER, ALL_VAR}
            and not self.query
        )


class ReviewForm(forms.Form):
    """A reviewer's own review: one score per criterion, a comment, or a declared conflict."""

    conflict_of_interest = forms.BooleanField(
        label=_("I have a conflict of interest with this application"),
        required=False,
        help_text=_(
            "A declared conflict records no scores and leaves your review out of the ranking."
        ),
    )
    conflict_note = forms.CharField(
        label=_("Conflict of interest explained"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 6})
    )

    def __init__(self, *args, criteria, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        for criterion in self.criteria:
            self.fields[self.field_name(criterion)] = forms.IntegerField(
                label=criterion.name,
                required=False,
                min_value=0,
                max_value=criterion.max_points,
                widget=forms.NumberInput(attrs={"min": 0, "max": criterion.max_points}),
            )

    @staticmethod
    def field_name(criterion) -> str:
        return f"criterion_{criterion.pk}"

    def criterion_fields(self):
        return [(criterion, self[self.field_name(criterion)]) for criterion in self.criteria]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("conflict_of_interest"):
            for criterion in self.criteria:
                name = self.field_name(criterion)
                if name not in self.errors and cleaned.get(name) is None:
                    self.add_error(
                        name,
                        ValidationError(
                            _("Give 0 to %(max)s points."),
                            code="missing_score",
                            params={"max": criterion.max_points},
                        ),
                    )
        return cleaned

    def scores(self) -> dict[int, int]:
        if self.cleaned_data["conflict_of_interest"]:
            return {}
        return {
            criterion.pk: self.cleaned_data[self.field_name(criterion)]
            for criterion in self.criteria
        }


@admin.register(Application)
class ApplicationAdmin(
    LetterAdminMixin,
    ObjectToolsMixin,
    VisibleOnlyMixin,
    HiddenFieldLookupsMixin,
    SimpleHistoryAdmin,
    ReadOnlyAdmin,
):
    """Applications for reviewers and coordinators; nothing is edited here directly.

    A further action or button comes as a mixin that extends ``actions``, ``get_urls()``
    (calling ``super()``) and ``get_object_tools()``, as ``LetterAdminMixin`` does for the
    decision letters.
    """

    list_per_page = 100
    show_facets = admin.ShowFacets.ALWAYS
    list_filter = [
        ("competition", OccurringFilter),
        "status",
        ("municipality", MunicipalityFilter),
    ]
    list_select_related = ["municipality", "competition"]
    # Shows the search box; the search itself is get_search_results().
    search_fields = ["reference", "municipality__name", "contact_name"]
    search_help_text = _(
        "Reference, municipality, contact person or the title of a planned activity."
    )
    change_form_template = "admin/applications/application/change_form.html"
    view_on_site = False  # the portal's page of an application is for its municipality
    review_template = "admin/applications/application/review.html"
    actions = [issue_letters]

    # The list, by role.

    def action_checkbox(self, application):
        # Django renders this checkbox through the form widget templates, which took a third
        # of the time spent on a hundred rows; the markup is the same.
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            admin.helpers.ACTION_CHECKBOX_NAME,
            application.pk,
            format_html(gettext("Select this object for an action - {}"), str(application)),
        )

    def get_queryset(self, request):
        applications = super().get_queryset(request).select_related("municipality", "competition")
        user = request.user
        if roles.is_coordinator(user):
            # Drafts belong to their municipality until they are submitted. The list reads the
            # scores of its page (RankedChangeList).
            return applications.exclude(status=Application.Status.DRAFT)
        mine = Review.objects.filter(application=OuterRef("pk"), reviewer=user)
        return (
            applications.filter(roles.reviewing(user))
            .ranked()
            .annotate(
                my_review=Exists(mine),
                my_score=Subquery(mine.values("score")[:1]),
                my_conflict=Subquery(mine.values("conflict_of_interest")[:1]),
                acts_for_municipality=roles.acting_for(user),
            )
        )

    def get_changelist(self, request, **kwargs):
        return RankedChangeList if roles.is_coordinator(request.user) else ChangeList

    def get_list_display(self, request):
        if roles.is_coordinator(request.user):
            columns = [
                "reference",
                "municipality",
                "competition",
                "status",
                "requested",
                "score",
                "counted_reviews",
                "spread",
                "rank",
                "awarded",
            ]
            if CALL_PARAMETER in request.GET:
                columns.remove("competition")  # the whole list is one call
            return columns
        return ["reference", "municipality", "competition", "requested", "my_review_state"]

    def get_ordering(self, request):
        if roles.is_coordinator(request.user):
            # Call by call, each in the ranking's order (ApplicationQuerySet.with_rank()), the
            # withdrawn applications after the ranked ones. A list of one call is read in the
            # order of an index (models.call_list_order()).
            calls = [] if CALL_PARAMETER in request.GET else ["-competition__opens_at"]
            return [*calls, "competition_id", *call_list_order()]
        return ["-competition__opens_at", "competition_id", F("my_review").asc(), "reference"]

    def get_search_results(self, request, queryset, search_term):
        """Every word must match the reference, the municipality, the contact person or an
        activity's title. Activities are matched with EXISTS, not a join, so that the score
        annotations are not multiplied by an application's activities."""
        for bit in smart_split(search_term):
            if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
                bit = unescape_string_literal(bit)
            queryset = queryset.filter(
                Q(reference__icontains=bit)
                | Q(municipality__name__icontains=bit)
                | Q(contact_name__icontains=bit)
                | Exists(
                    PlannedActivity.objects.filter(application=OuterRef("pk"), title__icontains=bit)
                )
            )
        return queryset, False

    @admin.display(description=_("requested amount"), ordering="requested_amount")
    def requested(self, application):
        return money(application.requested_amount)

    @admin.display(description=_("awarded amount"), ordering="awarded_amount")
    def awarded(self, application):
        return money(application.awarded_amount)

    @admin.display(description=_("weighted mean score"), ordering=F("score_mean"))
    def score(self, application):
        return score_text(application.score_mean)

    # Not called "reviews": the admin would take that for the relation and sort by it, one row
    # for each review.
    @admin.display(description=_("reviews"), ordering=F("review_count"))
    def counted_reviews(self, application):
        return application.review_count

    @admin.display(description=_("spread"), ordering=F("score_max") - F("score_min"))
    def spread(self, application):
        if application.review_count < 2:
            return "—"
        spread = score_text(application.score_max - application.score_min)
        if reviewers_disagree(score_min=application.score_min, score_max=application.score_max):
            return format_html(
                '<strong class="review-disagreement" title="{}">⚠ {}</strong>',
                gettext("The reviewers disagree: their scores are %(spread)s points apart.")
                % {"spread": spread},
                spread,
            )
        return spread

    @admin.display(description=_("rank"), ordering=ranking_order()[0])
    def rank(self, application):
        return getattr(application, "call_rank", None) or "—"

    @admin.display(description=_("my review"), ordering="my_review")
    def my_review_state(self, application):
        if application.acts_for_municipality:
            return gettext("You act for this municipality: not for you to review")
        if not application.my_review:
            return format_html("<strong>{}</strong>", gettext("To review"))
        if application.my_conflict:
            return gettext("Conflict of interest declared")
        return gettext("Reviewed: %(score)s") % {"score": score_text(application.my_score)}

    def get_list_filter(self, request):
        if roles.is_coordinator(request.user):
            return self.list_filter
        return [ToScoreFilter, *self.list_filter]

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        if not roles.is_coordinator(request.user):
            extra_context["awaiting_score"] = awaiting_score(request.user).count()
            return super().changelist_view(request, extra_context=extra_context)
        extra_context["disagreement_points"] = number_format(DISAGREEMENT_SHARE * SCORE_MAXIMUM, 0)
        call_id = request.GET.get(CALL_PARAMETER, "")
        if call_id.isdigit():
            competition = Competition.objects.filter(pk=int(call_id)).first()
            if competition is not None:
                extra_context["call"] = competition
                extra_context["pool"] = pool_state(competition=competition)
        return super().changelist_view(request, extra_context=extra_context)

    # One application.

    def get_fieldsets(self, request, obj=None):
        coordinator = roles.is_coordinator(request.user)
        fieldsets = [
            (
                None,
                {
                    "fields": [
                        "reference",
                        "competition",
                        "municipality",
                        "status",
                        "submitted_at",
                        "requested",
                    ]
                },
            ),
            (_("Contact"), {"fields": ["contact_name", "contact_email", "contact_phone"]}),
            (_("The application"), {"fields": ["goals", "target_groups", "summary"]}),
        ]
        if coordinator or (obj is not None and obj.competition.is_decided):
            fieldsets.append(
                (_("Decision"), {"fields": ["awarded", "decision_reason", "decided_at"]})
            )
        fieldsets.append(
            (
                _("Snapshot at submission"),
                {"fields": ["snapshot_check", "snapshot_json"], "classes": ["collapse"]},
            )
        )
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [
            field
            for _name, options in self.get_fieldsets(request, obj)
            for field in options["fields"]
        ]

    @admin.display(description=_("SHA-256 of the snapshot"))
    def snapshot_check(self, application):
        if not application.snapshot:
            return "—"
        if snapshot_digest(application.snapshot) == application.snapshot_sha256:
            verdict = gettext("matches the snapshot")
            css = "snapshot-ok"
        else:
            verdict = gettext("does NOT match the snapshot: it was changed after submission")
            css = "snapshot-broken"
        return format_html(
            '<code>{}</code> <span class="{}">{}</span>', application.snapshot_sha256, css, verdict
        )

    @admin.display(description=_("snapshot at submission"))
    def snapshot_json(self, application):
        if not application.snapshot:
            return "—"
        return format_html(
            '<pre class="snapshot">{}</pre>',
            json.dumps(application.snapshot, indent=2, ensure_ascii=False, sort_keys=True),
        )

    def visible_reviews(self, request, application) -> list[Review]:
        """Coordinators see every review. A reviewer sees their own, and the others only once
        they have recorded their own without a conflict of interest."""
        reviews = list(
            application.reviews.select_related("reviewer")
            .prefetch_related("scores__criterion")
            .order_by("created_at", "id")
        )
        if roles.is_coordinator(request.user):
            return reviews
        own = [review for review in reviews if review.reviewer_id == request.user.pk]
        if own and not own[0].conflict_of_interest:
            return reviews
        return own

    def get_object_tools(self, request, application) -> list[ObjectTool]:
        tools = super().get_object_tools(request, application)
        if roles.reviews_call(request.user, application.competition):
            tools.append(
                ObjectTool(
                    gettext("Record my review"),
                    reverse("admin:applications_application_review", args=[application.pk]),
                )
            )
        if roles.is_coordinator(request.user) or roles.reviews_call(
            request.user, application.competition
        ):
            # The thread with the municipality: conversations, an app above, reached by name.
            tools.append(
                ObjectTool(
                    gettext("Messages"),
                    reverse("admin:conversations_message_thread", args=[application.pk]),
                )
            )
        if roles.is_coordinator(request.user):
            tools.append(
                ObjectTool(
                    gettext("Allocation of the call"),
                    reverse(
                        "admin:competitions_competition_allocation",
                        args=[application.competition_id],
                    ),
                )
            )
        return tools

    def change_view(self, request, object_id, form_url="", extra_context=None):
        application = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if application is not None:
            extra_context.update(self.application_context(request, application))
            extra_context["object_tools"] = self.get_object_tools(request, application)
        return super().change_view(request, object_id, form_url, extra_context)

    def application_context(self, request, application) -> dict:
        reviews = self.visible_reviews(request, application)
        return {
            "application": application,
            "activities": application.activities.select_related("category"),
            "documents": [
                (
                    document,
                    reverse(
                        "applications:document_download",
                        kwargs={"pk": application.pk, "document_pk": document.pk},
                    ),
                )
                for document in application.documents.all()
            ],
            "reviews": reviews,
            "sees_all_reviews": roles.is_coordinator(request.user)
            or any(
                r.reviewer_id == request.user.pk and not r.conflict_of_interest for r in reviews
            ),
        }

    # A reviewer's own review.

    def get_urls(self):
        return [
            path(
                "<int:object_id>/review/",
                self.admin_site.admin_view(self.review_view),
                name="applications_application_review",
            ),
            *super().get_urls(),
        ]

    def review_view(self, request, object_id):
        """Record or change the signed-in reviewer's own review; nobody else's."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        application = get_object_or_404(self.get_queryset(request), pk=object_id)
        competition = application.competition
        if not roles.reviews_call(request.user, competition):
            raise PermissionDenied
        review = Review.objects.filter(application=application, reviewer=request.user).first()
        criteria = list(competition.criteria.all())
        # The service's own rules, asked before a form is offered; it asks them again when
        # the review is recorded.
        problems = services.review_problems(application=application, reviewer=request.user)
        refusal = " ".join(ValidationError(problems).messages) if problems else None

        if request.method == "POST" and refusal is None:
            form = ReviewForm(request.POST, criteria=criteria)
            if form.is_valid():
                try:
                    review = services.review_record(
                        application=application,
                        reviewer=request.user,
                        scores=form.scores(),
                        comment=form.cleaned_data["comment"],
                        conflict_of_interest=form.cleaned_data["conflict_of_interest"],
                        conflict_note=form.cleaned_data["conflict_note"],
                    )
                except ValidationError as error:
                    for message in error.messages:
                        form.add_error(None, message)
                    self.message_user(request, " ".join(error.messages), messages.ERROR)
                else:
                    if review.conflict_of_interest:
                        text = gettext(
                            "Your conflict of interest with %(reference)s is recorded; your "
                            "review is left out of the ranking."
                        )
                    else:
                        text = gettext(
                            "Your review of %(reference)s is recorded: %(score)s of 100."
                        )
                    self.message_user(
                        request,
                        text
                        % {"reference": application.reference, "score": score_text(review.score)},
                        messages.SUCCESS,
                    )
                    return redirect("admin:applications_application_change", application.pk)
        else:
            initial = {}
            if review is not None:
                initial = {
                    "conflict_of_interest": review.conflict_of_interest,
                    "conflict_note": review.conflict_note,
                    "comment": review.comment,
                    **{
                        ReviewForm.field_name(score.criterion): score.points
                        for score in review.scores.select_related("criterion")
                    },
                }
            form = ReviewForm(initial=initial, criteria=criteria)
            if refusal is not None and request.method == "POST":
                self.message_user(request, refusal, messages.ERROR)

        context = {
            **self.admin_site.each_context(request),
            **self.application_context(request, application),
            "opts": self.opts,
            "page_class": "review-form",
            "original": application,
            "breadcrumb": gettext("My review"),
            "title": gettext("My review of %(application)s") % {"application": application},
            "application": application,
            "form": form,
            "review": review,
            "refusal": refusal,
        }
        return TemplateResponse(request, self.review_template, context)


# --- reviews --------------------------------------------------------------------------------


@admin.register(Review)
class ReviewAdmin(VisibleOnlyMixin, ReadOnlyAdmin):
    """Reviews as a list: a reviewer's own, or every review for coordinators. A review is
    recorded and changed from its application (``ApplicationAdmin.review_view``)."""

    list_display = [
        "application",
        "call",
        "reviewer",
        "score_display",
        "conflict_of_interest",
        "updated_at",
    ]
    list_select_related = ["application__municipality", "application__competition", "reviewer"]
    search_fields = ["application__reference", "application__municipality__name"]
    fields = [
        "application",
        "reviewer",
        "conflict_of_interest",
        "conflict_note",
        "points",
        "score_display",
        "comment",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        reviews = super().get_queryset(request)
        if roles.is_coordinator(request.user):
            return reviews
        return reviews.filter(reviewer=request.user)

    def get_list_filter(self, request):
        filters = [("application__competition", admin.RelatedOnlyFieldListFilter)]
        if roles.is_coordinator(request.user):
            filters.append(("reviewer", admin.RelatedOnlyFieldListFilter))
        return [*filters, "conflict_of_interest"]

    @admin.display(description=_("call"), ordering="application__competition")
    def call(self, review):
        return review.application.competition

    @admin.display(description=_("weighted score (0-100)"), ordering="score")
    def score_display(self, review):
        return score_text(review.score)

    @admin.display(description=_("points"))
    def points(self, review):
        scores = review.scores.select_related("criterion")
        if not scores:
            return "—"
        return format_html(
            '<ul class="criterion-points">{}</ul>',
            format_html_join(
                "",
                "<li>{}: {} / {}</li>",
                ((s.criterion.name, s.points, s.criterion.max_points) for s in scores),
            ),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        review = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if review is not None and review.reviewer_id == request.user.pk:
            extra_context["object_tools"] = [
                ObjectTool(
                    gettext("Change my review"),
                    reverse("admin:applications_application_review", args=[review.application_id]),
                )
            ]
        return super().change_view(request, object_id, form_url, extra_context)


# --- calls ------------------------------------------------------------------------------------

# competitions registers the call's admin; this app's screens on a call (the allocation, the
# decision, the export) extend it in admin_allocation.py, so the extended one takes its place.
admin.site.unregister(Competition)
admin.site.register(Competition, CompetitionAllocationAdmin)
