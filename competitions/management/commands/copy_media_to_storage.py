import hashlib
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, storages
from django.core.management.base import BaseCommand, CommandError

#: Read in pieces of this many bytes, so that a large file is never held whole in memory.
CHUNK = 1024 * 1024


def sha256_of(stream) -> str:
    digest = hashlib.sha256()
    for piece in iter(lambda: stream.read(CHUNK), b""):
        digest.update(piece)
    return digest.hexdigest()


class Command(BaseCommand):
    help = (
        "Copy the files of a local media folder (by default MEDIA_ROOT) into the configured "
        "storage (the S3 bucket, with S3_BUCKET set) under the same names, and check the "
        "SHA-256 of each object against its local file. A file already in the bucket is "
        "checked, not copied again; any mismatch is named and the command fails. The local "
        "files are left as they are."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--from",
            dest="source",
            metavar="FOLDER",
            help="the local media folder (default: MEDIA_ROOT)",
        )

    def handle(self, *args, source, verbosity, **options):
        folder = Path(source or settings.MEDIA_ROOT).resolve()
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder.")
        storage = storages["default"]
        if isinstance(storage, FileSystemStorage):
            raise CommandError(
                "The default storage is a local folder: set S3_BUCKET (and S3_ENDPOINT_URL, "
                "the keys and S3_REGION) to copy the files into the bucket."
            )
        copied = present = 0
        failed = []
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            name = path.relative_to(folder).as_posix()
            with path.open("rb") as local:
                expected = sha256_of(local)
            if storage.exists(name):
                present += 1
            else:
                with path.open("rb") as local:
                    saved = storage.save(name, File(local, name=name))
                if saved != name:
                    failed.append(f"{name}: stored as {saved}")
                    continue
                copied += 1
            with storage.open(name, "rb") as stored:
                actual = sha256_of(stored)
            if actual != expected:
                failed.append(f"{name}: SHA-256 {actual} in the storage, {expected} on disk")
            elif verbosity > 1:
                self.stdout.write(f"{name}\t{expected}")
        for line in failed:
            self.stderr.write(line)
        summary = f"{copied} copied, {present} already there, {len(failed)} failed."
        if failed:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
