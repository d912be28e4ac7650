"""``/healthz`` and ``/readyz``: what a load balancer asks before it sends users to a server."""

import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

#: Nothing listens here: a broker or a cache that cannot be reached.
CLOSED = "redis://127.0.0.1:1/0"


def readyz(client: Client):
    response = client.get("/readyz")
    return response.status_code, json.loads(response.content)


def test_healthz_answers_while_the_process_runs(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_checks_each_service_and_is_ready_without_any_configured(client):
    status, body = readyz(client)
    assert (status, body["down"]) == (200, [])
    assert body["checks"] == {"database": "ok", "cache": "ok", "storage": "ok", "broker": "ok"}


def test_readyz_is_503_naming_the_broker_when_it_cannot_be_reached(client, settings):
    settings.CELERY_BROKER_URL = CLOSED
    settings.CELERY_TASK_ALWAYS_EAGER = False
    status, body = readyz(client)
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["down"] == ["broker"]
    assert body["checks"]["broker"].startswith("down")
    assert body["checks"]["database"] == "ok"
    # Only the kind of error: no address or password of a service leaks to the probe.
    assert "127.0.0.1" not in json.dumps(body)


def test_readyz_names_the_cache_and_the_storage_when_they_are_down(client, settings, tmp_path):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CLOSED}
    }
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "missing")},
        },
    }
    status, body = readyz(client)
    assert status == 503
    assert body["down"] == ["cache", "storage"]


def test_health_endpoints_only_read(client):
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405
