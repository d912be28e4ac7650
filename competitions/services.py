"""Writes with a rule on calls. Changes of a call's money (pool, cap) live with the other
money rules in ``applications.services.competition_set_limits``."""

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from .history import changed_by
from .models import Competition
from .rules import publish_problems, refuse_if_any


def competition_publish(*, competition: Competition, by: User) -> Competition:
    """Publish a draft call once it has everything an applicant and a reviewer need."""
    with transaction.atomic():
        # Two coordinators publishing the same call at once would both find it a draft.
        competition = Competition.objects.select_for_update().get(pk=competition.pk)
        now = timezone.now()
        refuse_if_any(publish_problems(competition, now=now))
        competition.status = Competition.Status.PUBLISHED
        competition.published_at = now
        changed_by(competition, by).save(update_fields=["status", "published_at", "updated_at"])
        return competition
