"""What an uploaded file must be to count as a given agreement signed electronically.

Latvian institutions exchange documents signed with a secure electronic signature in two
forms, and both are accepted:

- an **ASiC-E container** (``.edoc``, ``.asice``): a ZIP whose first entry is ``mimetype``
  holding ``application/vnd.etsi.asic-e+zip``, with the signed files and
  ``META-INF/signatures*.xml`` (XAdES signatures). The container must hold the generated
  agreement PDF byte for byte, and a signature must reference that file with its digest;
- a **signed PDF**: the generated agreement with an incremental update appended that adds a
  signature dictionary (``/Type /Sig``, ``/ByteRange``, ``/Contents``). Its first bytes must be
  exactly the generated PDF, and the byte range must cover the whole file but the signature.

What is checked here is the file's structure and that what was signed is this agreement.
Whether a signature's value is correct and its certificate was a qualified one at the time
needs the signer's certificate chain checked against the national trust list (and revocation
data), which the portal does not have: that is left to the coordinator's signing software, and
the README says so.

Every function here is pure: bytes in, a ``SignedFile`` or a ``ValidationError`` out.
"""

import base64
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from urllib.parse import unquote
from xml.etree import ElementTree

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from applications.uploads import check_document

from .models import SignedFileKind

ASIC_E_MIMETYPE = b"application/vnd.etsi.asic-e+zip"
#: What the upload accepts, for the upload rules' content sniffing: kind -> (endings, type).
SIGNED_KINDS = {
    "zip": ((".edoc", ".asice"), "application/vnd.etsi.asic-e+zip"),
    "pdf": ((".pdf",), "application/pdf"),
}
SIGNED_KIND_NAMES = "EDOC, ASICE, PDF"
#: A signature file larger than this is not a signature of one agreement.
MAX_SIGNATURE_XML_BYTES = 2 * 1024 * 1024
SIGNATURES_NAME = re.compile(r"META-INF/(.*)signatures(.*)\.xml")
XMLDSIG = "{http://www.w3.org/2000/09/xmldsig#}"
DIGESTS = {
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
}


@dataclass(frozen=True)
class SignedFile:
    kind: str  # a SignedFileKind value
    extension: str
    sha256: str


def _refuse(message: str, code: str, **params) -> ValidationError:
    return ValidationError(message, code=code, params=params)


def check_signed_agreement(file, *, pdf: bytes, number: str) -> SignedFile:
    """Refuse an upload that is not the agreement ``number`` (whose generated PDF is ``pdf``)
    signed electronically; say which kind it is otherwise.

    The project's upload rules come first (size, an empty file, the kind read from the content
    and matching the name), then the signature's structure and what it signed.
    """
    checked = check_document(file, accepted=SIGNED_KINDS, accepted_names=SIGNED_KIND_NAMES)
    data = b"".join(file.chunks())
    file.seek(0)
    if checked.extension == ".pdf":
        check_signed_pdf(data, pdf=pdf, number=number)
        return SignedFile(kind=SignedFileKind.PDF, extension=".pdf", sha256=checked.sha256)
    check_container(data, pdf=pdf, number=number)
    if checked.name.lower().endswith(".edoc"):
        return SignedFile(kind=SignedFileKind.EDOC, extension=".edoc", sha256=checked.sha256)
    return SignedFile(kind=SignedFileKind.ASICE, extension=".asice", sha256=checked.sha256)


# --- ASiC-E containers ----------------------------------------------------------------------


def check_container(data: bytes, *, pdf: bytes, number: str) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise _refuse(
            _("The file is not a readable signature container (ASiC-E)."), "container_unreadable"
        ) from error
    first = entries[0] if entries else None
    if first is None or first.filename != "mimetype":
        raise _refuse(
            _("The file is not an ASiC-E signature container: its first entry must be “mimetype”."),
            "container_without_mimetype",
        )
    if _read(archive, first, limit=100).strip() != ASIC_E_MIMETYPE:
        raise _refuse(
            _("The container is not ASiC-E: its “mimetype” is not %(mimetype)s."),
            "container_wrong_mimetype",
            mimetype=ASIC_E_MIMETYPE.decode(),
        )
    signatures = [entry for entry in entries if SIGNATURES_NAME.fullmatch(entry.filename)]
    if not signatures:
        raise _refuse(
            _(
                "The file is not signed: the container holds no signature (META-INF/signatures*.xml)."
            ),
            "not_signed",
        )
    expected = hashlib.sha256(pdf).digest()
    holding = [
        entry
        for entry in entries
        if not entry.filename.startswith("META-INF/")
        and entry.filename != "mimetype"
        and entry.file_size == len(pdf)
        and hashlib.sha256(_read(archive, entry, limit=len(pdf))).digest() == expected
    ]
    if not holding:
        raise _refuse(
            _(
                "The container does not hold agreement %(number)s: none of its files is the "
                "agreement's PDF as generated (compare the SHA-256)."
            ),
            "container_without_agreement",
            number=number,
        )
    names = {entry.filename for entry in holding}
    for signature in signatures:
        xml = _read(archive, signature, limit=MAX_SIGNATURE_XML_BYTES)
        if _signs(xml, names=names, pdf=pdf):
            return
    raise _refuse(
        _(
            "The container holds agreement %(number)s, but no signature in it signs that file "
            "(no signature reference carries its name and digest)."
        ),
        "agreement_not_signed",
        number=number,
    )


def _read(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, *, limit: int) -> bytes:
    """An entry's bytes, refused past ``limit`` whatever its header claims (a ZIP bomb)."""
    with archive.open(entry) as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise _refuse(
            _("The container's entry “%(name)s” is larger than a signature container allows."),
            "container_entry_too_large",
            name=entry.filename,
        )
    return data


def _signs(xml: bytes, *, names: set[str], pdf: bytes) -> bool:
    """Whether an XAdES signature file holds a reference to one of ``names`` whose digest is
    the PDF's (the signature value itself is not verified: see the module's docstring)."""
    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        return False  # no signature needs them, and entities can expand without end
    try:
        root = ElementTree.fromstring(xml)  # noqa: S314 - no DTD, so no entities (above)
    except ElementTree.ParseError:
        return False
    if root.find(f".//{XMLDSIG}SignatureValue") is None:
        return False
    for reference in root.iter(f"{XMLDSIG}Reference"):
        uri = _unquote(reference.get("URI", ""))
        method = reference.find(f"{XMLDSIG}DigestMethod")
        value = reference.find(f"{XMLDSIG}DigestValue")
        if uri not in names or method is None or value is None:
            continue
        algorithm = DIGESTS.get(method.get("Algorithm", ""))
        if algorithm is None:
            continue
        try:
            stated = base64.b64decode("".join((value.text or "").split()), validate=True)
        except ValueError:
            continue
        if stated == hashlib.new(algorithm, pdf).digest():
            return True
    return False


def _unquote(uri: str) -> str:
    return unquote(uri.removeprefix("./"))


# --- signed PDFs ----------------------------------------------------------------------------

BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


def check_signed_pdf(data: bytes, *, pdf: bytes, number: str) -> None:
    if not data.startswith(pdf):
        raise _refuse(
            _(
                "The PDF is not agreement %(number)s: a signed agreement begins with the "
                "agreement's PDF as generated, byte for byte, and this one does not."
            ),
            "pdf_not_the_agreement",
            number=number,
        )
    update = data[len(pdf) :]
    ranges = BYTE_RANGE.findall(update)
    if not ranges or b"/Contents" not in update or b"/Sig" not in update:
        raise _refuse(
            _(
                "The file is not signed: it is agreement %(number)s without an electronic "
                "signature added to it."
            ),
            "not_signed",
            number=number,
        )
    for found in ranges:
        start, first, second, length = (int(value) for value in found)
        # The signature covers the file from its first byte to its last, all but the hole
        # that holds the signature value itself, which lies in the appended update.
        if start == 0 and len(pdf) <= first < second and second + length == len(data):
            return
    raise _refuse(
        _(
            "The signature in the PDF does not cover the whole agreement %(number)s (its "
            "/ByteRange leaves part of the file unsigned)."
        ),
        "signature_incomplete",
        number=number,
    )
