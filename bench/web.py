"""What the HTTP cases share: gunicorn serving the benchmark's settings, sessions made in the
database, a small HTTP client, and the forms of a page read as a browser reads them.

The client is ``http.client`` with the cookies it is given and those the server sets: one
client per simulated user, one connection each (gunicorn's sync workers close it after every
answer, as they do for browsers behind a proxy).
"""

import http.client
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
)
from django.utils.crypto import get_random_string
from django.utils.module_loading import import_string

ROOT = Path(__file__).resolve().parent.parent
#: gunicorn's own default, which the production command line (docs/operations.md) keeps.
WORKER_TIMEOUT = 30


# --- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    base: str
    process: subprocess.Popen
    log: Path

    def workers(self) -> list[int]:
        """The pids of the master's worker processes, as /proc lists its children."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def worker_memory(self) -> dict[str, float]:
        """Resident memory of the (only) worker now and at its peak, in MB."""
        (pid,) = self.workers()
        status = Path(f"/proc/{pid}/status").read_text()
        values = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, flags=re.M))
        return {"pid": pid, **{key: int(value) / 1024 for key, value in values.items()}}

    def timeouts(self) -> int:
        """How many times gunicorn has killed a worker for running past its timeout."""
        return self.log.read_text(errors="replace").count("WORKER TIMEOUT")


@contextmanager
def gunicorn(*, workers: int, name: str, env: dict | None = None):
    """gunicorn serving the benchmark's settings on a free loopback port with ``workers`` sync
    workers (production's kind and timeout), until the block ends."""
    port = free_port()
    log = ROOT / "var" / "bench" / f"gunicorn-{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "gunicorn",
                "remigration_portal.wsgi:application",
                f"--workers={workers}",
                f"--timeout={WORKER_TIMEOUT}",
                f"--bind=127.0.0.1:{port}",
                "--log-level=warning",
                f"--chdir={ROOT}",
            ],
            env={**os.environ, **(env or {})},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + 60
        client = Client(server.base)
        while True:
            try:
                if client.get("/bench/bare/").status == 200 and len(server.workers()) == workers:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"gunicorn did not start; see {log}")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- sessions -------------------------------------------------------------------------------


def session_cookie(username: str) -> dict[str, str]:
    """A session of ``username`` made in the session store as a login would make it, and a
    CSRF cookie (the unmasked secret, which Django also accepts as the form's token)."""
    user = get_user_model().objects.get(username=username)
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return {
        settings.SESSION_COOKIE_NAME: store.session_key,
        settings.CSRF_COOKIE_NAME: get_random_string(32),
    }


# --- the client -----------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]
    seconds: float

    @property
    def location(self) -> str:
        return self.headers.get("location", "")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass
class Client:
    """One user: a connection and cookies. Redirects are not followed: each request is timed
    alone, and the caller says what it expects."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)
    timeout: float = WORKER_TIMEOUT + 30

    def __post_init__(self):
        parsed = urllib.parse.urlsplit(self.base)
        self._connection = http.client.HTTPConnection(
            parsed.hostname, parsed.port, timeout=self.timeout
        )

    def request(self, method: str, path: str, fields=None) -> Answer:
        headers = {"Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            self._connection.request(method, path, body=body, headers=headers)
            response = self._connection.getresponse()
            content = response.read()
        except (http.client.HTTPException, OSError):
            self._connection.close()
            raise
        seconds = time.perf_counter() - started
        if response.getheader("Connection", "").lower() == "close":
            self._connection.close()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return Answer(
            response.status,
            content,
            {key.lower(): value for key, value in response.getheaders()},
            seconds,
        )

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(self, path: str, fields) -> Answer:
        return self.request("POST", path, fields)

    def csrf_fields(self) -> dict[str, str]:
        return {"csrfmiddlewaretoken": self.cookies[settings.CSRF_COOKIE_NAME]}


def expect(answer: Answer, status: int, what: str) -> Answer:
    if answer.status != status:
        raise RuntimeError(f"{what} answered {answer.status}, not {status}: {answer.text[:300]}")
    return answer


# --- forms ----------------------------------------------------------------------------------

FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
CONTROL = re.compile(
    r"<(input|button)\b([^>]*)>|<(select|textarea)\b([^>]*)>(.*?)</\3>", re.S | re.I
)
ATTRIBUTE = re.compile(r"""([\w:-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
OPTION = re.compile(r"<option\b([^>]*)>(.*?)</option>", re.S | re.I)


def attributes(text: str) -> dict[str, str]:
    return {
        match[1].lower(): unescape(match[2] or match[3] or match[4] or "")
        for match in ATTRIBUTE.finditer(text)
    }


@dataclass
class Form:
    attrs: dict[str, str]
    #: Every named control: (tag, attributes, value), as the page holds them.
    controls: list[tuple[str, dict[str, str], str]]

    def fields(self) -> list[tuple[str, str]]:
        """What a browser posts with no button pressed: text, hidden, checked boxes, selected
        options, textareas (file inputs left empty)."""
        posted = []
        for tag, attrs, value in self.controls:
            kind = attrs.get("type", "text").lower()
            if tag == "button" or kind in ("submit", "button", "reset", "image", "file"):
                continue
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                continue
            if "disabled" in attrs:
                continue
            posted.append((attrs["name"], value))
        return posted


def forms(html: str) -> list[Form]:
    """The page's forms and their named controls (including controls outside a form that
    name it with ``form=``)."""
    found = []
    by_id = {}
    for match in FORM.finditer(html):
        form = Form(attributes(match[1]), list(named_controls(match[2])))
        found.append(form)
        if "id" in form.attrs:
            by_id[form.attrs["id"]] = form
    outside = FORM.sub("", html)
    for control in named_controls(outside):
        owner = by_id.get(control[1].get("form", ""))
        if owner is not None:
            owner.controls.append(control)
    return found


def named_controls(html: str):
    for match in CONTROL.finditer(html):
        tag = (match[1] or match[3]).lower()
        attrs = attributes(match[2] if match[1] else match[4])
        if "name" not in attrs:
            continue
        if tag == "select":
            options = [(attributes(option[1]), option[2]) for option in OPTION.finditer(match[5])]
            chosen = [o for o in options if "selected" in o[0]] or options[:1]
            value = chosen[0][0].get("value", unescape(chosen[0][1]).strip()) if chosen else ""
        elif tag == "textarea":
            value = unescape(match[5]).removeprefix("\n")
        else:
            value = attrs.get("value", "")
        yield tag, attrs, value


def largest_post(html: str) -> int:
    """The most named controls any one form of the page posts (method POST): what the
    biggest request the page can send carries, against Django's limit of 1 000 fields."""
    counts = [
        len(form.controls)
        for form in forms(html)
        if form.attrs.get("method", "get").lower() == "post"
    ]
    return max(counts, default=0)
