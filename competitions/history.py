"""Who made a change, for the history django-simple-history keeps."""

from typing import TypeVar

Row = TypeVar("Row")


def changed_by(row: Row, user) -> Row:
    """The row, whose next save or delete the history records as ``user``'s.

    ``changed_by(application, by).save(update_fields=[...])``. Services are called outside a
    request, so the history cannot take the user from it; the admin's own saves do.
    """
    row._history_user = user
    return row
