"""What a supporting document may be, decided by its content and not only by its name."""

import hashlib
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

import filetype
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_DOCUMENTS_PER_APPLICATION = 20

#: Detected kind -> (accepted file name endings, content type sent on download).
ACCEPTED = {
    "pdf": ((".pdf",), "application/pdf"),
    "docx": (
        (".docx",),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "xlsx": ((".xlsx",), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "odt": ((".odt",), "application/vnd.oasis.opendocument.text"),
    "jpg": ((".jpg", ".jpeg"), "image/jpeg"),
    "png": ((".png",), "image/png"),
}
ACCEPTED_NAMES = "PDF, DOCX, XLSX, ODT, JPG, PNG"

#: Detected kinds that are ZIP archives (Office and OpenDocument files, signature containers):
#: what they unpack to is limited as well as what they weigh, so that a small upload cannot
#: expand to fill a disk or a memory wherever it is opened (an archive bomb).
ARCHIVE_KINDS = {"docx", "xlsx", "odt", "zip"}
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_ARCHIVE_ENTRIES = 1000
#: Text compresses to a tenth or a thirtieth; only filler made to expand goes past this.
MAX_COMPRESSION_RATIO = 200
#: Entries smaller than this are not held to the ratio: a few kilobytes of blanks may shrink to
#: almost nothing and harm no one.
RATIO_CHECKED_FROM_BYTES = 1024 * 1024


@dataclass(frozen=True)
class CheckedDocument:
    name: str
    extension: str
    content_type: str
    size: int
    sha256: str


def clean_file_name(name: str) -> str:
    """The user's file name without folders, control characters or anything a file system or
    a header could misread; Latvian letters are kept."""
    base = PurePath(name.replace("\\", "/")).name
    base = "".join(
        ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C"
    )
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    try:
        stem = get_valid_filename(stem)[:150]
    except SuspiciousFileOperation:  # nothing usable was left of it
        stem = "dokuments"
    return f"{stem}.{suffix.lower()}" if suffix else stem


def _megabytes(size: int, limit: int) -> dict[str, str | int]:
    """A size and its limit in MB as a refusal names them (``12,3`` of ``10``)."""
    return {"size": f"{size / 1024 / 1024:.1f}".replace(".", ","), "max": limit // 1024 // 1024}


def check_document(
    file, *, accepted: dict = ACCEPTED, accepted_names: str = ACCEPTED_NAMES
) -> CheckedDocument:
    """Refuse what is too large, empty, or not really one of the ``accepted`` kinds (detected
    kind -> accepted name endings and the content type sent on download)."""
    name = clean_file_name(file.name or "")
    if file.size == 0:
        raise ValidationError(_("“%(name)s” is empty."), code="empty_file", params={"name": name})
    if file.size > MAX_DOCUMENT_BYTES:
        raise ValidationError(
            _("“%(name)s” is %(size)s MB; a document may be at most %(max)s MB."),
            code="file_too_large",
            params={"name": name, **_megabytes(file.size, MAX_DOCUMENT_BYTES)},
        )
    file.seek(0)
    head = file.read(8192)
    file.seek(0)
    kind = filetype.guess(head)
    allowed = accepted.get(kind.extension) if kind else None
    extension = PurePath(name).suffix.lower()
    if allowed is None or extension not in allowed[0]:
        raise ValidationError(
            _(
                "“%(name)s” is not a %(accepted)s file (its content was checked, not only its name)."
            ),
            code="file_type_not_accepted",
            params={"name": name, "accepted": accepted_names},
        )
    if kind.extension in ARCHIVE_KINDS:
        check_archive(file, name=name)
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return CheckedDocument(
        name=name,
        extension=allowed[0][0],
        content_type=allowed[1],
        size=file.size,
        sha256=digest.hexdigest(),
    )


def check_archive(file, *, name: str) -> None:
    """Refuse a ZIP-based document whose central directory declares more entries, more unpacked
    bytes or a steeper compression than a real document has. Only the directory is read:
    nothing is unpacked here, and the portal never unpacks Office documents at all (signature
    containers are read entry by entry with their own limit, grants/signatures.py)."""
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise ValidationError(
            _("“%(name)s” cannot be read: its archive structure is damaged."),
            code="archive_unreadable",
            params={"name": name},
        ) from error
    finally:
        file.seek(0)
    if len(entries) > MAX_ARCHIVE_ENTRIES:
        raise ValidationError(
            _(
                "“%(name)s” holds %(count)s files packed inside it; a document may hold at most "
                "%(max)s."
            ),
            code="archive_too_many_entries",
            params={"name": name, "count": len(entries), "max": MAX_ARCHIVE_ENTRIES},
        )
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > MAX_UNPACKED_BYTES:
        raise ValidationError(
            _("“%(name)s” unpacks to %(size)s MB; a document may unpack to at most %(max)s MB."),
            code="archive_too_large_unpacked",
            params={"name": name, **_megabytes(unpacked, MAX_UNPACKED_BYTES)},
        )
    for entry in entries:
        if (
            entry.file_size >= RATIO_CHECKED_FROM_BYTES
            and entry.file_size > MAX_COMPRESSION_RATIO * max(entry.compress_size, 1)
        ):
            raise ValidationError(
                _(
                    "“%(name)s” is compressed more than %(max)s times over (“%(entry)s” inside "
                    "it); a real document is not, so it was refused as an archive bomb."
                ),
                code="archive_compression_ratio",
                params={"name": name, "entry": entry.filename, "max": MAX_COMPRESSION_RATIO},
            )
