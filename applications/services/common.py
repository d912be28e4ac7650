"""What the services share: row locks, the checks of who and when, counters, amounts.

Refusals are made by ``competitions.rules.refusal``, the one helper of every app.
"""

import logging
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from competitions import roles
from competitions.formatting import CENT, MONEY_LIMIT
from competitions.models import Competition, Municipality
from competitions.rules import refusal

from ..models import Application, NumberSequence

logger = logging.getLogger("applications.services")


def lock_competition(competition_id: int) -> Competition:
    # Two coordinators allocating in the same call at the same moment would both read the
    # same total and together exceed the pool; a submission racing the decision could slip
    # in after the applications were decided. Every write that touches a call's money or
    # state takes this row lock first, so they queue here and each re-reads what the one
    # before it committed.
    return Competition.objects.select_for_update().get(pk=competition_id)


def share_competition(competition_id: int) -> Competition:
    """The call, read under a lock that submissions share with one another and that every
    state change of the call (``lock_competition``) waits for, and makes them wait for.

    A submission must not land in a call being decided, but two submissions have nothing to
    keep apart (their reference numbers are the counter's business): at the deadline they
    would otherwise queue behind one another here. PostgreSQL's ``FOR SHARE``; where there
    are no row locks (SQLite, whose writers take turns anyway) a plain read.
    """
    return _shared_competition(Q(pk=competition_id), "id = %s", competition_id)


def share_competition_of(application_id: int) -> Competition:
    """``share_competition`` of an application's call, found by the application's id in the
    same query: the call's lock comes before the application's, as in every change of the
    call's state, and the application need not be read first to know its call."""
    applications = connection.ops.quote_name(Application._meta.db_table)
    return _shared_competition(
        Q(applications=application_id),
        f"id = (SELECT competition_id FROM {applications} WHERE id = %s)",  # noqa: S608
        application_id,
    )


def _shared_competition(plain: Q, where: str, param: int) -> Competition:
    """The call ``plain`` finds, or under the shared lock the one ``where`` finds (SQL with
    its one parameter, ``param``)."""
    if not connection.features.has_select_for_update:
        return Competition.objects.get(plain)
    # The rest is PostgreSQL's: make mutation runs on SQLite, which never reaches it (the
    # PostgreSQL tests of submissions racing the decision do).
    # pragma: no mutate block
    # The table's name is the model's own, quoted; the value is a parameter.
    table = connection.ops.quote_name(Competition._meta.db_table)
    sql = f"SELECT * FROM {table} WHERE {where} FOR SHARE"  # noqa: S608
    shared = Competition.objects.raw(sql, [param])
    for competition in shared:
        return competition
    raise Competition.DoesNotExist(f"No call found by {where % param}.")


def lock_application(
    application_id: int, *, acting: User | None = None, call: Competition | None = None
) -> Application:
    """The application under its row lock, with its call and its municipality; with
    ``acting`` (a user), whether they are on the municipality's staff is read in the same
    query, as ``application.acting``; with ``call``, the application's call as the caller
    has read it under the call's lock (``share_competition_of``), not joined again."""
    # Two browser tabs saving the same draft, or a save racing the submission, would
    # interleave their activity writes; the row lock makes them take turns. (SQLite takes no
    # row locks: only the PostgreSQL tests can tell what is locked.)
    locked = Application.objects.select_for_update(of=("self",))  # pragma: no mutate
    # Joined only to save the queries of the services that read them; not the call that the
    # caller has read (joined as well, the same row would be read twice: a change unseen).
    joined = ("municipality",) if call else ("competition", "municipality")  # pragma: no mutate
    queryset = locked.select_related(*joined)  # pragma: no mutate
    if acting is not None:
        queryset = queryset.annotate(acting=roles.acting_for(acting))
    application = queryset.get(pk=application_id)
    if call is not None:
        application.competition = call
    return application


def lock_acted_for(
    application_id: int, by: User, *, call: Competition | None = None
) -> Application:
    """The application, locked, if ``by`` acts for its municipality (read with the lock);
    ``call`` as ``lock_application`` takes it."""
    application = lock_application(application_id, acting=by, call=call)
    ensure_acts_for(by, application.municipality, on_staff=application.acting)
    return application


def editable_draft(
    application_id: int, by: User, *, call: Competition | None = None
) -> Application:
    """The application, locked, if ``by`` acts for its municipality and it is still a draft;
    ``call`` as ``lock_application`` takes it."""
    application = lock_acted_for(application_id, by, call=call)
    if not application.is_draft:
        raise refusal(
            _("Application %(reference)s has been submitted and can no longer be changed."),
            "not_draft",
            reference=application.reference,
        )
    return application


def ensure_acts_for(
    user: User, municipality: Municipality, *, on_staff: bool | None = None
) -> None:
    """Refused unless ``user`` acts for the municipality (``on_staff`` as ``roles.acts_for``
    takes it)."""
    if not roles.acts_for(user, municipality, on_staff=on_staff):
        raise refusal(
            _("Only staff of %(municipality)s can do this."),
            "not_municipality_staff",
            municipality=municipality.name,
        )


def ensure_eligible(competition: Competition, municipality: Municipality) -> None:
    if not competition.eligible_municipalities.filter(pk=municipality.pk).exists():
        raise refusal(
            _("%(municipality)s is not among the municipalities eligible for this call."),
            "not_eligible",
            municipality=municipality.name,
        )


def single_errors(error: ValidationError) -> list[ValidationError]:
    """The single errors inside a ValidationError, whether it holds a dict or a list."""
    if hasattr(error, "error_dict"):
        return [problem for problems in error.error_dict.values() for problem in problems]
    return error.error_list


def riga_time(moment) -> str:
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def ensure_accepting(competition: Competition, now) -> None:
    """The call is published and its deadline has not passed."""
    if competition.status != Competition.Status.PUBLISHED:
        raise refusal(
            _("The call “%(call)s” is not accepting applications."),
            "call_not_open",
            call=competition.title,
        )
    if now >= competition.closes_at:
        raise refusal(
            _("The deadline of the call passed on %(deadline)s (Riga time)."),
            "deadline_passed",
            deadline=riga_time(competition.closes_at),
        )


def next_number(key: str) -> int:
    """The next number of a counter, inside the caller's transaction.

    The counter's row stays locked until the caller commits, so two callers never get the
    same number, and a caller that rolls back gives its number back.
    """
    quote, meta = connection.ops.quote_name, NumberSequence._meta
    table, name = quote(meta.db_table), quote(meta.get_field("key").column)
    value = quote(meta.get_field("last_value").column)
    with connection.cursor() as cursor:
        # The increment and its read in one statement: the update locks the row, and another
        # caller's update waits for this transaction and then adds one to what it committed.
        cursor.execute(
            f"UPDATE {table} SET {value} = {value} + 1 WHERE {name} = %s RETURNING {value}",  # noqa: S608
            [key],
        )
        row = cursor.fetchone()
    if row is not None:
        return row[0]
    try:
        # A savepoint: when another transaction creates the same counter first, this insert
        # waits for it and fails on the unique key, and the update above then continues it.
        with transaction.atomic():
            NumberSequence.objects.create(key=key, last_value=1)
    except IntegrityError:
        # Only PostgreSQL's race test reaches this (SQLite's writers take turns).
        return next_number(key)  # pragma: no mutate
    return 1


def as_money(amount, *, field: str) -> Decimal:
    """Refuse anything that is not a finite amount in whole cents, within ``MONEY_LIMIT``.

    The size is asked before the cents: a number as large as ``1e30`` has more digits than
    the decimal context holds, and rounding it to the cent would fail instead of refusing."""
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        raise _not_an_amount(field) from None
    if not value.is_finite():
        raise _not_an_amount(field)
    if abs(value) > MONEY_LIMIT:
        raise refusal(
            _("%(field)s is too large: at most %(limit)s."),
            "amount_too_large",
            field=field,
            limit=MONEY_LIMIT,
        )
    if value != value.quantize(CENT):
        raise _not_an_amount(field)
    return value


def _not_an_amount(field: str) -> ValidationError:
    return refusal(
        _("%(field)s must be an amount in euros with at most two decimal places."),
        "invalid_amount",
        field=field,
    )


def over_cap_refusal(requested: Decimal, cap: Decimal) -> ValidationError:
    return refusal(
        _(
            "The requested amount %(requested)s exceeds the maximum award per municipality "
            "of %(cap)s by %(excess)s."
        ),
        "over_cap",
        requested=requested,
        cap=cap,
        excess=requested - cap,
    )
