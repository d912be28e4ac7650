"""Two gunicorn app servers and one Celery worker, each in a working folder of its own with
nothing on a shared disk, against one PostgreSQL, one Redis (broker, cache, sessions) and
one S3 bucket: whatever a user does on one server holds on the other."""

import hashlib
import re
from pathlib import Path

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.urls import reverse

from applications import services
from applications.models import AwardLetter
from applications.tasks import call_letters_job
from competitions.models import JobRun

from .external import (
    celery_worker,
    flush_redis,
    gunicorn,
    queue_to_redis,
    s3_server,
    service_env,
    wait_until,
)
from .factories import PDF, CompetitionFactory, municipality, staff_of
from .test_portal_views import form_data

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, django_db_setup, django_db_blocker):
    """The bucket, servers A and B and a worker, for every test of this module."""
    root = tmp_path_factory.mktemp("cluster")
    flush_redis()
    with s3_server(root / "s3") as store:
        folders = {name: root / name for name in ("a", "b", "worker")}
        env = {name: service_env(folder, **store.env) for name, folder in folders.items()}
        with (
            gunicorn(folders["a"], env=env["a"]) as a,
            gunicorn(folders["b"], env=env["b"]) as b,
            celery_worker(folders["worker"], "worker", env=env["worker"]),
        ):
            yield {"a": a, "b": b, "store": store, "folders": folders}
    flush_redis()


def with_password(user):
    """The servers check passwords with the production hashers, not the tests' fast one."""
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, "multiserversalt")
    user.save(update_fields=["password"])
    return user


def csrf_token(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=30)
    assert page.status_code == 200, url
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def log_in(session: requests.Session, base: str, username: str, password: str = PASSWORD):
    login = base + reverse("login")
    token = csrf_token(session, login)
    return session.post(
        login,
        data={"csrfmiddlewaretoken": token, "username": username, "password": password},
        headers={"Referer": login},
        allow_redirects=False,
        timeout=30,
    )


def files_in(folder: Path) -> list[Path]:
    return [p for p in (folder / "var").rglob("*") if p.is_file()]


def test_a_session_made_on_a_is_valid_on_b(cluster):
    user = with_password(staff_of("smiltenes-novads"))
    session = requests.Session()
    assert log_in(session, cluster["a"], user.username).status_code == 302
    dashboard = reverse("applications:dashboard")
    on_b = session.get(cluster["b"] + dashboard, allow_redirects=False, timeout=30)
    assert on_b.status_code == 200
    # Without the session's cookie, B sends the same request to the login.
    anonymous = requests.get(cluster["b"] + dashboard, allow_redirects=False, timeout=30)
    assert anonymous.status_code == 302


def test_a_lockout_earned_on_a_holds_on_b(cluster):
    user = with_password(staff_of("valkas-novads"))
    answers = [
        log_in(requests.Session(), cluster["a"], user.username, "wrong password").status_code
        for _ in range(5)
    ]
    assert answers == [200, 200, 200, 200, 429]  # the form again with its error; the fifth locks
    # The right password, on the other server: still locked out.
    locked = log_in(requests.Session(), cluster["b"], user.username)
    assert locked.status_code == 429
    # Another user from the same address is not.
    other = with_password(staff_of("cesu-novads"))
    assert log_in(requests.Session(), cluster["b"], other.username).status_code == 302


def test_a_document_uploaded_through_a_downloads_through_b_and_no_disk_holds_it(cluster):
    user = with_password(staff_of("smiltenes-novads", username="smiltene-uploads"))
    draft = services.application_start(
        competition=CompetitionFactory(), municipality=municipality("smiltenes-novads"), by=user
    )
    session = requests.Session()
    assert log_in(session, cluster["a"], user.username).status_code == 302
    edit = cluster["a"] + reverse("applications:edit", kwargs={"pk": draft.pk})
    data = {**form_data(draft, [{"cost": "100"}]), "csrfmiddlewaretoken": csrf_token(session, edit)}
    posted = session.post(
        edit,
        data=data,
        files={"new_documents": ("Budžets.pdf", PDF, "application/pdf")},
        headers={"Referer": edit},
        allow_redirects=False,
        timeout=60,
    )
    assert posted.status_code == 302, posted.text[:2000]
    document = draft.documents.get()
    assert document.file.name in cluster["store"].object_keys()

    url = reverse(
        "applications:document_download", kwargs={"pk": draft.pk, "document_pk": document.pk}
    )
    on_b = session.get(cluster["b"] + url, timeout=30)
    assert on_b.status_code == 200
    assert on_b.content == PDF
    # Another municipality's staff, on either server: 404.
    other = requests.Session()
    assert (
        log_in(other, cluster["b"], with_password(staff_of("valkas-novads")).username).status_code
        == 302
    )
    assert other.get(cluster["a"] + url, timeout=30).status_code == 404
    assert other.get(cluster["b"] + url, timeout=30).status_code == 404
    for folder in cluster["folders"].values():
        assert files_in(folder) == [], folder


def test_letters_issued_by_the_worker_download_from_both_servers(cluster, settings, decided_call):
    with queue_to_redis(settings):
        job = call_letters_job(competition=decided_call.competition, by=decided_call.coordinator)

        def finished():
            job.refresh_from_db()
            return job.is_finished

        wait_until(finished, what="the worker's letters")
    assert (job.status, job.done) == (JobRun.Status.DONE, 6)
    letter = AwardLetter.objects.select_related("application__municipality").first()
    assert letter.file.name in cluster["store"].object_keys()
    reader = with_password(staff_of(letter.application.municipality.slug, username="letter-reader"))
    url = reverse("applications:letter_download", args=[letter.application_id, letter.pk])
    for server in ("a", "b"):
        session = requests.Session()
        assert log_in(session, cluster[server], reader.username).status_code == 302
        response = session.get(cluster[server] + url, timeout=30)
        assert response.status_code == 200, server
        assert hashlib.sha256(response.content).hexdigest() == letter.sha256
    for folder in cluster["folders"].values():
        assert files_in(folder) == [], folder


def test_password_reset_requests_counted_on_a_are_counted_on_b(cluster):
    """The counts live in the shared cache (Redis): three requests for one address through A
    use up the hour's allowance on B too."""
    user = with_password(staff_of("gulbenes-novads"))
    reset = reverse("password_reset")

    def request_reset(server: str) -> int:
        session = requests.Session()
        url = cluster[server] + reset
        token = csrf_token(session, url)
        return session.post(
            url,
            data={"csrfmiddlewaretoken": token, "email": user.email},
            headers={"Referer": url},
            allow_redirects=False,
            timeout=30,
        ).status_code

    assert [request_reset("a") for _ in range(3)] == [302, 302, 302]
    assert request_reset("b") == 429
