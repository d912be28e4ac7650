"""The backup and restore scripts of docs/operations.md, run for real on PostgreSQL."""

import hashlib
import os
import subprocess
import uuid
from decimal import Decimal
from pathlib import Path

import psycopg2
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from applications import services
from competitions.models import Municipality

from .factories import category
from .source_case import DETAILS, activities_costing, build_source_case

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def database_url(name: str) -> str:
    settings = connection.settings_dict
    user = settings["USER"] or "postgres"
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    host = settings["HOST"] or "127.0.0.1"
    port = settings["PORT"] or "5432"
    return f"postgres://{user}{password}@{host}:{port}/{name}"


def run(script: str, folder: Path, *, database: str, media: Path):
    env = {**os.environ, "DATABASE_URL": database_url(database), "MEDIA_ROOT": str(media)}
    return subprocess.run(
        [str(ROOT / "scripts" / script), str(folder)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def media_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "media"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def empty_database():
    name = f"restore_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(database_url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield name
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_a_backup_restores_the_database_and_the_documents(settings, tmp_path, empty_database):
    case = build_source_case(close=False)
    smiltene = case.staff["smiltenes-novads"]
    draft_call = case.competition
    # A document on a draft of another municipality, so that files and rows both matter.
    apes = Municipality.objects.get(slug="apes-novads")
    apes.staff.add(smiltene)
    draft = services.application_start(competition=draft_call, municipality=apes, by=smiltene)
    services.application_save_draft(
        application=draft,
        by=smiltene,
        details=DETAILS,
        activities=activities_costing(Decimal("1500"), category().pk),
        new_files=[SimpleUploadedFile("tāme.pdf", PDF)],
    )
    document = draft.documents.get()

    backup = tmp_path / "backup"
    made = run(
        "backup.sh",
        backup,
        database=connection.settings_dict["NAME"],
        media=Path(settings.MEDIA_ROOT),
    )
    assert made.returncode == 0, made.stderr
    assert {p.name for p in backup.iterdir()} == {"db.dump", "media.tar.gz", "SHA256SUMS"}

    restored_media = tmp_path / "restored-media"
    restored = run("restore.sh", backup, database=empty_database, media=restored_media)
    assert restored.returncode == 0, restored.stderr

    with psycopg2.connect(database_url(empty_database)) as conn, conn.cursor() as cursor:
        cursor.execute(
            "select reference, requested_amount from applications_application "
            "where status = 'submitted' order by reference"
        )
        rows = cursor.fetchall()
        cursor.execute("select file, sha256 from applications_supportingdocument")
        ((stored_name, digest),) = cursor.fetchall()
    assert [amount for _ref, amount in rows] == [
        a.requested_amount for a in sorted(case.applications.values(), key=lambda a: a.reference)
    ]
    assert stored_name == document.file.name
    assert (
        hashlib.sha256((restored_media / stored_name).read_bytes()).hexdigest()
        == digest
        == document.sha256
    )


def test_restore_refuses_a_database_that_is_not_empty(settings, tmp_path):
    backup = tmp_path / "backup"
    assert (
        run(
            "backup.sh",
            backup,
            database=connection.settings_dict["NAME"],
            media=media_folder(tmp_path),
        ).returncode
        == 0
    )
    refused = run(
        "restore.sh", backup, database=connection.settings_dict["NAME"], media=tmp_path / "m"
    )
    assert refused.returncode != 0
    assert "restore only into an empty one" in refused.stderr


def test_restore_refuses_a_damaged_backup(settings, tmp_path, empty_database):
    backup = tmp_path / "backup"
    assert (
        run(
            "backup.sh",
            backup,
            database=connection.settings_dict["NAME"],
            media=media_folder(tmp_path),
        ).returncode
        == 0
    )
    with (backup / "db.dump").open("ab") as dump:
        dump.write(b"tampered")
    refused = run("restore.sh", backup, database=empty_database, media=tmp_path / "m")
    assert refused.returncode != 0
    assert "FAILED" in refused.stdout + refused.stderr
