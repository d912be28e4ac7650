"""What a supporting document may be, decided by its content and not only by its name."""

import hashlib
import unicodedata
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
            params={
                "name": name,
                "size": f"{file.size / 1024 / 1024:.1f}".replace(".", ","),
                "max": MAX_DOCUMENT_BYTES // 1024 // 1024,
            },
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
