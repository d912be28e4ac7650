"""The cache of a decided call's public results page (``grants/results.py``).

Each page of the results is kept in Django's cache under a key that names the call, the
language, the page and the call's *version*. Whatever the page shows changing (the call's
texts and limits, an application's award or status, a grant's stage or money, a final report
accepted, a municipality's or category's name) gives the call a new version, once the change
commits: the next visitor reads the new figures, and the pages under the old version are left
to expire. The apps that own those models connect their ``post_save``/``post_delete``
receivers to ``bump_after_commit`` (this app knows none of their models); the cache's
timeout bounds what a change made past them (a bulk ``UPDATE`` in a shell) could leave.
"""

import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

#: Every call's results: a municipality's or category's name is shown on the pages of all.
ALL_CALLS = "all"


def page_timeout() -> int:
    """How long a page is kept, in seconds. Invalidation is by version; this only bounds what
    a change made outside the models' signals could leave shown, and, where each process keeps
    its own cache (no ``CACHE_URL``), how long another process shows a page from before a
    change: a minute there, ten with the shared cache."""
    own_memory = settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")
    return 60 if own_memory else 600


def version_key(competition_id: int | str) -> str:
    return f"results:v:{competition_id}"


def _new_version() -> str:
    return uuid.uuid4().hex[:12]


def results_version(competition_id: int) -> str:
    """The call's current version joined to the one of every call: two keys, one round trip."""
    keys = [version_key(competition_id), version_key(ALL_CALLS)]
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            # ``add``: of two visitors who find no version, both use the one stored first.
            cache.add(key, _new_version(), timeout=None)
            found[key] = cache.get(key) or ""
    return "-".join(found[key] for key in keys)


def page_key(*, competition_id: int, language: str, page: int) -> str:
    version = results_version(competition_id)
    return f"results:page:{competition_id}:{language}:{page}:{version}"


def bump(competition_id: int | str | None) -> None:
    """Give the call (or ``ALL_CALLS``) a new version now."""
    if competition_id is not None:
        cache.set(version_key(competition_id), _new_version(), timeout=None)


def bump_after_commit(competition_id: int | str | Callable[[], int | None] | None) -> None:
    """Give the call a new version now and again once the current transaction commits (once,
    at once, outside one): a visitor between the change and its commit reads, and caches,
    what was before it, under the version the first bump gave; the second leaves that behind.

    However many rows of a call a transaction changes (a decision saves each application),
    the call is bumped twice. ``competition_id`` may be a function that finds the call, for
    a receiver that does not know it: it is called after the commit only, so that the
    writer's transaction makes no query more."""
    marker = ("results", competition_id if not callable(competition_id) else id(competition_id))
    connection = transaction.get_connection()
    # Already to be bumped by this transaction (by a callback of the same savepoints: a test's
    # own transaction, which never commits, keeps the callbacks of the tests' earlier steps).
    savepoints = set(connection.savepoint_ids)
    if connection.in_atomic_block and any(
        getattr(callback, "results_marker", None) == marker and registered == savepoints
        for registered, callback, _ in connection.run_on_commit
    ):
        return
    if not callable(competition_id) and connection.in_atomic_block:
        bump(competition_id)

    def run():
        bump(competition_id() if callable(competition_id) else competition_id)

    run.results_marker = marker
    transaction.on_commit(run)


def competition_changed(sender, instance, **kwargs):
    """Receiver: a call's texts, limits, status or decision changed."""
    bump_after_commit(instance.pk)


def shown_everywhere_changed(sender, instance, **kwargs):
    """Receiver: a municipality's or an activity category's name, shown on every call's
    results, changed."""
    bump_after_commit(ALL_CALLS)


def eligible_changed(sender, instance, action, **kwargs):
    """Receiver of the calls' eligible municipalities (the summary counts them), changed from
    either side."""
    from .models import Competition

    if action.startswith("post_"):
        bump_after_commit(instance.pk if isinstance(instance, Competition) else ALL_CALLS)


def connect() -> None:
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from .models import ActivityCategory, Competition, Municipality

    for name, signal in (("save", post_save), ("delete", post_delete)):
        signal.connect(competition_changed, sender=Competition, dispatch_uid=f"results.call.{name}")
        for model in (Municipality, ActivityCategory):
            signal.connect(
                shown_everywhere_changed,
                sender=model,
                dispatch_uid=f"results.{model.__name__}.{name}",
            )
    m2m_changed.connect(
        eligible_changed,
        sender=Competition.eligible_municipalities.through,
        dispatch_uid="results.eligible",
    )
