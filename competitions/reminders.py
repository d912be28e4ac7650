"""Reminders sent once: the shared part of ``manage.py send_reminders``.

Each app that reminds anyone of anything has a ``reminders`` module with
``send_due(now) -> int``: it finds what is due at ``now`` and calls :func:`once` for each
reminder and recipient. The command finds those modules itself, so an app adds reminders
without touching the command.
"""

from collections.abc import Callable, Iterable

from django.db import IntegrityError, transaction

from .models import SentReminder


def once(kind: str, key: str, users: Iterable, send: Callable[[list], None]) -> int:
    """Send the reminder ``kind`` about ``key`` to those of ``users`` who have not had it yet,
    and record that they have. ``send`` receives the list of users still to remind and is
    called after the records commit; two runs at the same time remind each person once.
    Returns how many people were reminded."""
    due = []
    for user in users:
        if not user.is_active or not user.email:
            continue
        try:
            with transaction.atomic():
                SentReminder.objects.create(kind=kind, key=key, user=user)
        except IntegrityError:
            continue  # reminded already, by an earlier run or one running now
        due.append(user)
    if due:
        transaction.on_commit(lambda: send(due))
    return len(due)
