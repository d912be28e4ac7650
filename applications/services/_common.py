"""Pieces every service shares: refusals, row locks, counters, amounts."""

import logging
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from competitions import roles
from competitions.formatting import CENT, MONEY_LIMIT, format_money
from competitions.models import Competition, Municipality

from ..models import (
    Application,
    NumberSequence,
)

logger = logging.getLogger("applications.services")


def _refuse(message: str, code: str, **params) -> ValidationError:
    """A refusal whose amounts are already written the Latvian way (``9 800,00 €``)."""
    shown = {
        key: format_money(value) if isinstance(value, Decimal) else value
        for key, value in params.items()
    }
    return ValidationError(message, code=code, params=shown)


def _lock_competition(competition_id: int) -> Competition:
    # Two coordinators allocating in the same call at the same moment would both read the
    # same total and together exceed the pool; a submission racing the decision could slip
    # in after the applications were decided. Every write that touches a call's money or
    # state takes this row lock first, so they queue here and each re-reads what the one
    # before it committed.
    return Competition.objects.select_for_update().get(pk=competition_id)


def _lock_application(application_id: int) -> Application:
    # Two browser tabs saving the same draft, or a save racing the submission, would
    # interleave their activity writes; the row lock makes them take turns.
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("competition", "municipality")
        .get(pk=application_id)
    )


def _editable_draft(application_id: int, by: User) -> Application:
    """The application, locked, if ``by`` acts for its municipality and it is still a draft."""
    application = _lock_application(application_id)
    _ensure_staff(by, application.municipality)
    if not application.is_draft:
        raise _refuse(
            _("Application %(reference)s has been submitted and can no longer be changed."),
            "not_draft",
            reference=application.reference,
        )
    return application


def _ensure_staff(user: User, municipality: Municipality) -> None:
    if not roles.acts_for(user, municipality):
        raise _refuse(
            _("Only staff of %(municipality)s can do this."),
            "not_municipality_staff",
            municipality=municipality.name,
        )


def _ensure_eligible(competition: Competition, municipality: Municipality) -> None:
    if not competition.eligible_municipalities.filter(pk=municipality.pk).exists():
        raise _refuse(
            _("%(municipality)s is not among the municipalities eligible for this call."),
            "not_eligible",
            municipality=municipality.name,
        )


def _problems(error: ValidationError) -> list[ValidationError]:
    """The single errors inside a ValidationError, whether it holds a dict or a list."""
    if hasattr(error, "error_dict"):
        return [problem for problems in error.error_dict.values() for problem in problems]
    return error.error_list


def _riga_time(moment) -> str:
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _ensure_accepting(competition: Competition, now) -> None:
    """The call is published and its deadline has not passed."""
    if competition.status != Competition.Status.PUBLISHED:
        raise _refuse(
            _("The call “%(call)s” is not accepting applications."),
            "call_not_open",
            call=competition.title,
        )
    if now >= competition.closes_at:
        raise _refuse(
            _("The deadline of the call passed on %(deadline)s (Riga time)."),
            "deadline_passed",
            deadline=_riga_time(competition.closes_at),
        )


def next_number(key: str) -> int:
    """The next number of a counter, inside the caller's transaction.

    The counter's row stays locked until the caller commits, so two callers never get the
    same number, and a caller that rolls back gives its number back.
    """
    sequence = NumberSequence.objects.select_for_update().filter(key=key).first()
    if sequence is None:
        try:
            # A savepoint: when another transaction creates the same counter first, this
            # insert waits for it, fails on the unique key, and we lock the row it made.
            with transaction.atomic():
                sequence = NumberSequence.objects.create(key=key)
        except IntegrityError:
            sequence = NumberSequence.objects.select_for_update().get(key=key)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return sequence.last_value


def _as_money(amount, *, field: str) -> Decimal:
    """Refuse anything that is not a finite amount in whole cents."""
    try:
        value = Decimal(amount)
        finite = value.is_finite()
    except (InvalidOperation, TypeError, ValueError):
        finite = False
    if not finite or value != value.quantize(CENT, rounding=ROUND_HALF_UP):
        raise _refuse(
            _("%(field)s must be an amount in euros with at most two decimal places."),
            "invalid_amount",
            field=field,
        )
    if abs(value) > MONEY_LIMIT:
        raise _refuse(
            _("%(field)s is too large: at most %(limit)s."),
            "amount_too_large",
            field=field,
            limit=MONEY_LIMIT,
        )
    return value


def _excess_over_cap_message(requested: Decimal, cap: Decimal) -> ValidationError:
    return _refuse(
        _(
            "The requested amount %(requested)s exceeds the maximum award per municipality "
            "of %(cap)s by %(excess)s."
        ),
        "over_cap",
        requested=requested,
        cap=cap,
        excess=requested - cap,
    )
