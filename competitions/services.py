"""Writes with a rule on calls. Changes of a call's money (pool, cap) live with the other
money rules in ``applications.services.competition_set_limits``."""

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .history import changed_by
from .models import Competition
from .rules import refusal


@transaction.atomic
def competition_publish(*, competition: Competition, by: User) -> Competition:
    """Publish a draft call once it has everything an applicant and a reviewer need."""
    competition = Competition.objects.select_for_update().get(pk=competition.pk)
    if competition.status != Competition.Status.DRAFT:
        raise refusal(
            _("Only a draft call can be published; this one is %(status)s."),
            "not_draft",
            status=competition.get_status_display(),
        )
    missing = []
    if not competition.criteria.exists():
        missing.append(_("scoring criteria"))
    if not competition.categories.exists():
        missing.append(_("activity categories"))
    if not competition.eligible_municipalities.exists():
        missing.append(_("eligible municipalities"))
    if not competition.reviewers.exists():
        missing.append(_("reviewers"))
    if not competition.signatory_name or not competition.signatory_position:
        missing.append(_("the letter signatory and position"))
    if missing:
        raise refusal(
            _("The call cannot be published without: %(missing)s."),
            "incomplete_call",
            missing=", ".join(str(item) for item in missing),
        )
    if competition.closes_at <= timezone.now():
        raise refusal(
            _("The call's deadline has already passed; move it before publishing."),
            "deadline_passed",
        )
    competition.status = Competition.Status.PUBLISHED
    competition.published_at = timezone.now()
    changed_by(competition, by).save(update_fields=["status", "published_at", "updated_at"])
    return competition
