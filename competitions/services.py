"""Writes with a rule on calls and municipalities. Changes of a call's money (pool, cap) live
with the other money rules in ``applications.services.competition_set_limits``."""

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .history import changed_by
from .models import Competition, Municipality, StaffChange
from .rules import publish_problems, refusal, refuse_if_any, staff_problems
from .signals import call_published


def competition_publish(*, competition: Competition, by: User) -> Competition:
    """Publish a draft call once it has everything an applicant and a reviewer need."""
    with transaction.atomic():
        # Two coordinators publishing the same call at once would both find it a draft.
        competition = Competition.objects.select_for_update().get(pk=competition.pk)
        now = timezone.now()
        # The same instant for the check and the stamp; read again it would be a few µs later.
        refuse_if_any(publish_problems(competition, now=now))  # pragma: no mutate
        competition.status = Competition.Status.PUBLISHED
        competition.published_at = now
        recorded = changed_by(competition, by)
        # Only these fields change: saving every field would write the same values.
        recorded.save(update_fields=["status", "published_at", "updated_at"])  # pragma: no mutate
        # The eligible municipalities' staff are told once the publication has committed.
        transaction.on_commit(
            lambda: call_published.send(sender=Competition, competition=competition)
        )
        return competition


def municipality_set_staff(
    *, municipality: Municipality, staff: Iterable[User], signatories: Iterable[User], by: User
) -> Municipality:
    """Set who acts and who signs for a municipality, recorded as a ``StaffChange`` with who
    made it. Only a superuser may: the duties are separated, so no one who works for the
    authority (coordinator, reviewer, superuser) may be on a municipality's staff."""
    with transaction.atomic():
        # Two superusers changing the same staff at once would both record a change from the
        # same staff; the row lock makes the second record the change from the first's.
        municipality = Municipality.objects.select_for_update().get(pk=municipality.pk)
        if not (by.is_active and by.is_superuser):
            raise refusal(
                _("Only an administrator may change who acts for a municipality."),
                "staff_change_not_allowed",
            )
        staff, signatories = list(staff), list(signatories)
        refuse_if_any(staff_problems(staff=staff, signatories=signatories))
        before = {user.get_username() for user in municipality.staff.all()}
        after = {user.get_username() for user in staff}
        municipality.staff.set(staff)
        municipality.signatories.set(signatories)
        StaffChange.objects.create(
            municipality=municipality,
            changed_by=by,
            added=sorted(after - before),
            removed=sorted(before - after),
            signatories=sorted(user.get_username() for user in signatories),
        )
        return municipality
