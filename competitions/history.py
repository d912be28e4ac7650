"""Who made a change, for the history django-simple-history keeps."""

from collections import defaultdict
from collections.abc import Sequence
from typing import TypeVar

from django.db.models import Model
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

Row = TypeVar("Row")


def changed_by(row: Row, user) -> Row:
    """The row, whose next save or delete the history records as ``user``'s.

    ``changed_by(application, by).save(update_fields=[...])``. Services are called outside a
    request, so the history cannot take the user from it; the admin's own saves do.
    """
    row._history_user = user
    return row


#: Rows a statement of a bulk write carries: a call of 10 000 is written in a few dozen.
BULK_BATCH = 500


def saved_with_history(rows: Sequence[Model], *, fields: Sequence[str], by) -> None:
    """Save ``fields`` of many rows of one model, each with its history row as ``by``'s, in a
    few statements: what ``changed_by(row, by).save(update_fields=fields)`` writes for each.

    ``updated_at``, if among the fields, is set to now, as a save would set it. Rows that take
    the same values are written by one ``UPDATE ... WHERE id IN`` (a decision's rejections
    share their status and reason); the rest by ``bulk_update``.
    """
    if not rows:
        return
    model = type(rows[0])
    if "updated_at" in fields:
        now = timezone.now()
        for row in rows:
            row.updated_at = now
    attnames = {name: model._meta.get_field(name).attname for name in fields}
    alike: dict[tuple, list[Model]] = defaultdict(list)
    for row in rows:
        alike[tuple(getattr(row, attnames[name]) for name in fields)].append(row)
    single = []
    for values, group in alike.items():
        if len(group) == 1:
            single += group
            continue
        pks = [row.pk for row in group]
        for start in range(0, len(pks), BULK_BATCH):
            model._default_manager.filter(pk__in=pks[start : start + BULK_BATCH]).update(
                **dict(zip(fields, values, strict=True))
            )
    if single:
        model._default_manager.bulk_update(single, list(fields), batch_size=BULK_BATCH)
    for row in rows:
        changed_by(row, by)
    # The history rows only (no field written again): every row as saved above.
    bulk_update_with_history(rows, model, [], batch_size=BULK_BATCH, default_user=by)
