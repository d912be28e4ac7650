"""What a web worker does once, as it loads the application, so that its first users do not
wait for it.

Without it, each worker's first save of an application form waited about 0.1 s for Django to
compile the pattern of an e-mail address's domain, and its first submission about 0.1 s more
for the task queue: Celery builds its registry of tasks, finds its result backend among the
installed packages and connects to the broker on the first task sent. At a deadline every
worker's first users met that wait (bench/README.md, the deadline rush).
"""

import logging

from django.conf import settings
from django.core.validators import validate_email

logger = logging.getLogger(__name__)


def warm_up() -> None:
    """Compile the e-mail check and make the task queue ready (wsgi.py calls this)."""
    # Compiled on its first use, which is the first contact e-mail a form checks.
    validate_email("warm-up@example.lv")
    _task_queue_ready()


def _task_queue_ready() -> None:
    from .celery import app

    app.finalize(auto=True)
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # No broker: tasks run in this process (applications.notifications.later).
        return
    # Looked up among the installed packages' entry points on first use.
    app.backend  # noqa: B018
    try:
        with app.producer_or_acquire() as producer:
            producer.connection.ensure_connection(max_retries=1, interval_start=0)
            producer.maybe_declare(app.amqp.default_queue)
    except Exception as error:
        # Nothing is lost: the first task sent connects again, or runs here if it cannot.
        logger.warning("The task queue could not be reached as the worker started: %s", error)
