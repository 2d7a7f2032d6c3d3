"""Validation of uploaded attachments by their content, not by their name.

Accepted: PDF, office documents (OOXML, OpenDocument, legacy MS Office), images (PNG, JPEG, GIF,
WebP), plain text (UTF-8 text, CSV) and zip archives. The extension must agree with the
content, so an executable renamed ``.pdf`` is refused; archives are inspected so that a zip bomb
is refused before anyone opens it.
"""

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# Archive limits (zip and office documents, which are zips).
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
MAX_ARCHIVE_ENTRIES = 5_000

_OOXML = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_OPENDOCUMENT = {
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".odp": "application/vnd.oasis.opendocument.presentation",
}
_LEGACY_OFFICE = {
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
}
_IMAGES = {
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".gif": ("image/gif", (b"GIF87a", b"GIF89a")),
}
_TEXT = {".txt": "text/plain", ".csv": "text/csv"}

ALLOWED_EXTENSIONS = sorted(
    {".pdf", ".zip", ".webp", *_OOXML, *_OPENDOCUMENT, *_LEGACY_OFFICE, *_IMAGES, *_TEXT}
)
_MARKUP_MARKERS = (b"<script", b"<svg", b"<html", b"<!doctype html", b"<iframe", b"javascript:")


@dataclass(frozen=True)
class CheckedUpload:
    name: str
    content_type: str
    size: int
    sha256: str


def _error(message: str) -> ValidationError:
    return ValidationError(message, code="invalid_attachment")


def _safe_name(raw_name: str) -> str:
    name = (raw_name or "").strip()
    if not name:
        raise _error(_("Le fichier n'a pas de nom."))
    if "/" in name or "\\" in name or "\x00" in name or name in {".", ".."}:
        raise _error(
            _("Le nom du fichier « %(name)s » contient des caractères interdits (/, \\).")
            % {"name": name[:80]}
        )
    if len(name) > 200:
        raise _error(_("Le nom du fichier est trop long (200 caractères au plus)."))
    return name


def _read_all(upload) -> bytes:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data


def _check_archive(data: bytes, name: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _error(_("« %(name)s » est une archive endommagée.") % {"name": name}) from exc
    if len(entries) > MAX_ARCHIVE_ENTRIES:
        raise _error(_("L'archive « %(name)s » contient trop de fichiers.") % {"name": name})
    total = sum(entry.file_size for entry in entries)
    compressed = max(1, sum(entry.compress_size for entry in entries))
    if total > MAX_UNCOMPRESSED_BYTES or total / compressed > MAX_COMPRESSION_RATIO:
        raise _error(
            _("L'archive « %(name)s » est refusée : une fois décompressée, elle serait démesurée.")
            % {"name": name}
        )
    return archive


def _sniff(data: bytes, extension: str, name: str) -> str | None:
    """The content type when the content matches the extension, else None."""
    head = data[:16]
    if extension == ".pdf":
        return "application/pdf" if data[:1024].lstrip().startswith(b"%PDF-") else None
    if extension in _IMAGES:
        content_type, signatures = _IMAGES[extension]
        return content_type if head.startswith(signatures) else None
    if extension == ".webp":
        return "image/webp" if head[:4] == b"RIFF" and head[8:12] == b"WEBP" else None
    if extension in _LEGACY_OFFICE:
        return _LEGACY_OFFICE[extension] if head.startswith(b"\xd0\xcf\x11\xe0") else None
    if extension in {".zip", *_OOXML, *_OPENDOCUMENT}:
        if not head.startswith(b"PK\x03\x04"):
            return None
        archive = _check_archive(data, name)
        names = set(archive.namelist())
        if extension in _OOXML:
            return _OOXML[extension] if "[Content_Types].xml" in names else None
        if extension in _OPENDOCUMENT:
            try:
                mimetype = archive.read("mimetype").decode("ascii", "replace").strip()
            except KeyError:
                return None
            return _OPENDOCUMENT[extension] if mimetype == _OPENDOCUMENT[extension] else None
        return "application/zip"
    if extension in _TEXT:
        if b"\x00" in data:
            return None
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            try:
                data.decode("cp1252")
            except UnicodeDecodeError:
                return None
        lowered = data[:65536].lower()
        if any(marker in lowered for marker in _MARKUP_MARKERS):
            return None
        return _TEXT[extension]
    return None


def check_upload(upload) -> CheckedUpload:
    """Validate one uploaded file; raise ``ValidationError`` with a French message otherwise."""
    name = _safe_name(getattr(upload, "name", ""))
    size = getattr(upload, "size", None)
    max_bytes = settings.ATTACHMENT_MAX_BYTES
    if size is not None and size > max_bytes:
        raise _error(
            _("« %(name)s » dépasse la taille maximale de %(max)s.")
            % {"name": name, "max": filesizeformat(max_bytes)}
        )
    data = _read_all(upload)
    size = len(data)
    if size == 0:
        raise _error(_("« %(name)s » est vide.") % {"name": name})
    if size > max_bytes:
        raise _error(
            _("« %(name)s » dépasse la taille maximale de %(max)s.")
            % {"name": name, "max": filesizeformat(max_bytes)}
        )
    extension = PurePosixPath(name).suffix.lower()
    if extension not in ALLOWED_EXTENSIONS:
        raise _error(
            _(
                "Le format de « %(name)s » n'est pas accepté. Formats acceptés : PDF, documents "
                "bureautiques, images (PNG, JPEG, GIF, WebP), texte, CSV et archives ZIP."
            )
            % {"name": name}
        )
    content_type = _sniff(data, extension, name)
    if content_type is None:
        raise _error(
            _(
                "Le contenu de « %(name)s » ne correspond pas à un fichier %(extension)s valide : "
                "il a été refusé."
            )
            % {"name": name, "extension": extension.lstrip(".").upper()}
        )
    return CheckedUpload(
        name=name, content_type=content_type, size=size, sha256=hashlib.sha256(data).hexdigest()
    )
