"""Services started for the tests marked ``services``: an S3 server (moto's, from the dev
dependencies), Celery workers and gunicorn servers as separate processes, each in a working
folder of its own, against the machine's Redis (a database number of their own) and the test
database. Nothing here is shared through the disk but the logs the tests read."""

import os
import smtplib
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest
import redis
from django.db import connection

#: The Redis database of these tests: broker, cache and sessions (flushed before each test).
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
BUCKET = "portal-files"
#: moto accepts any key; a real store would check them.
S3_KEYS = {"S3_ACCESS_KEY_ID": "test-key", "S3_SECRET_ACCESS_KEY": "test-secret"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_answers() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


def flush_redis() -> None:
    redis.Redis.from_url(REDIS_URL).flushdb()


def database_url() -> str:
    """The test database, for the processes a test starts."""
    db = connection.settings_dict
    return (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


def wait_for_port(port: int, process: subprocess.Popen, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail(f"{what} did not start")
            time.sleep(0.2)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- S3 ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectStore:
    endpoint: str

    @property
    def env(self) -> dict[str, str]:
        """What a process needs to keep its files in the bucket."""
        return {
            "S3_BUCKET": BUCKET,
            "S3_ENDPOINT_URL": self.endpoint,
            "S3_REGION": "eu-north-1",
            **S3_KEYS,
        }

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="eu-north-1",
            aws_access_key_id=S3_KEYS["S3_ACCESS_KEY_ID"],
            aws_secret_access_key=S3_KEYS["S3_SECRET_ACCESS_KEY"],
        )

    def object_keys(self) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=BUCKET)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client().get_object(Bucket=BUCKET, Key=key)["Body"].read()


@contextmanager
def s3_server(folder: Path):
    """moto's S3 server on loopback, with the portal's (private) bucket made."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = (folder / "moto.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, process, "the S3 server")
        store = ObjectStore(f"http://127.0.0.1:{port}")
        store.client().create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-north-1"}
        )
        yield store
    finally:
        stop(process)
        log.close()


# --- Celery workers -----------------------------------------------------------------------------


@dataclass
class Worker:
    name: str
    log: Path
    process: subprocess.Popen = field(repr=False)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def succeeded(self, task: str) -> int:
        return sum(
            1
            for line in self.text().splitlines()
            if f"Task {task}[" in line and "succeeded" in line
        )


def service_env(folder: Path, **extra: str) -> dict[str, str]:
    """The environment of a worker or an app server working in ``folder``: its own var/ and
    media folder, the test database, the broker and the cache in Redis."""
    env = {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": database_url(),
        "DJANGO_VAR_DIR": str(folder / "var"),
        "MEDIA_ROOT": str(folder / "var" / "media"),
        "CELERY_BROKER_URL": REDIS_URL,
        "REDIS_URL": REDIS_URL,
        **extra,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


@contextmanager
def celery_worker(folder: Path, name: str, *, env: dict[str, str], concurrency: int = 1):
    """``celery -A remigration_portal worker`` in ``folder``, once it is ready for tasks."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "var" / "media").mkdir(parents=True, exist_ok=True)
    log_path = folder / "worker.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "remigration_portal",
            "worker",
            "--loglevel",
            "INFO",
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "--hostname",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    worker = Worker(name, log_path, process)
    deadline = time.monotonic() + 60
    while " ready." not in worker.text():
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail(f"the worker {name} did not start:\n{worker.text()[-3000:]}")
        time.sleep(0.3)
    try:
        yield worker
    finally:
        stop(process)
        log.close()


@contextmanager
def queue_to_redis(settings):
    """This process queues its tasks to Redis, as an app server does, instead of running them."""
    from remigration_portal.celery import app

    before = {"broker_url": app.conf.broker_url, "task_always_eager": app.conf.task_always_eager}
    settings.CELERY_BROKER_URL = REDIS_URL
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.update(broker_url=REDIS_URL, task_always_eager=False)
    forget_connections(app)
    try:
        yield app
    finally:
        app.conf.update(before)
        forget_connections(app)


def forget_connections(app) -> None:
    """The app's connection and producer pools are made for the broker of the moment: made
    again for the next one. (kombu keeps its pools per broker for the whole process, and one
    closed stays closed, so they are let go of rather than closed.)"""
    app._pool = None
    app.amqp._producer_pool = None


def wait_until(condition, *, seconds: float = 120, what: str = "the condition"):
    deadline = time.monotonic() + seconds
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.3)


# --- an SMTP server that refuses the first message ------------------------------------------


class RefusingOnceSink:
    """aiosmtpd handler: the first message is refused with a temporary error (451), as a
    mail server that is briefly unwell does; every later one is accepted and kept."""

    def __init__(self):
        self.refused = 0
        self.received: list = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.refused == 0:
                self.refused += 1
                return "451 4.3.0 Try again later"
            self.received.append(envelope)
        return "250 OK"


@contextmanager
def smtp_sink():
    from aiosmtpd.controller import Controller

    handler = RefusingOnceSink()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


def smtp_answers(port: int) -> bool:
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=2) as client:
            return client.noop()[0] == 250
    except OSError:
        return False


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname, parts.port


# --- gunicorn -----------------------------------------------------------------------------------


@contextmanager
def gunicorn(folder: Path, *, env: dict[str, str], workers: int = 2):
    """An app server in ``folder``, on a port of its own, once it answers ``/healthz``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "var" / "media").mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = (folder / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "remigration_portal.wsgi",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, process, "gunicorn")
        base = f"http://127.0.0.1:{port}"
        import requests

        wait_until(
            lambda: _answers(requests, base + "/healthz"), seconds=60, what="gunicorn's /healthz"
        )
        yield base
    finally:
        stop(process)
        log.close()


def _answers(requests, url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False
