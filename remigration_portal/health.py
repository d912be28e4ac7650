"""Health checks for the load balancer and the orchestrator.

``/healthz`` answers as soon as the process can answer: the app server is alive. ``/readyz``
checks each service the portal needs to serve a request (the database, the cache, the file
storage and, when there is one, the task queue's broker) and answers 503 with a JSON body
naming what is down, so that the balancer sends no user to a server that would fail them.
The body names the service and the kind of error only; the details go to the log.
"""

import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from kombu import Connection

logger = logging.getLogger(__name__)

#: Seconds a check may take before its service counts as down.
TIMEOUT = 3


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    key, value = f"readyz:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, value, 10)
    if cache.get(key) != value:
        raise RuntimeError("the cache did not keep a value")
    cache.delete(key)


def check_storage() -> None:
    bucket = getattr(default_storage, "bucket_name", None)
    if bucket:
        # The bucket answers and these keys may use it; nothing is listed or read.
        default_storage.connection.meta.client.head_bucket(Bucket=bucket)
    elif not default_storage.exists(""):
        raise FileNotFoundError("the media folder is missing")


def check_broker() -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return  # tasks run in the process: no broker to wait for
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=TIMEOUT) as broker:
        broker.ensure_connection(max_retries=1, timeout=TIMEOUT)


CHECKS = {
    "database": check_database,
    "cache": check_cache,
    "storage": check_storage,
    "broker": check_broker,
}


@never_cache
@require_safe
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request):
    checks, down = {}, []
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:
            logger.warning("readyz: %s is down: %r", name, error)
            checks[name] = f"down ({type(error).__name__})"
            down.append(name)
        else:
            checks[name] = "ok"
    body = {"status": "unavailable" if down else "ok", "down": down, "checks": checks}
    return JsonResponse(body, status=503 if down else 200)
