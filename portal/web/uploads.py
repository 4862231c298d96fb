"""What an uploaded attachment really is, decided by its bytes, and a name that is safe to keep.

The extension and the browser's Content-Type are the uploader's claims, so neither is trusted:
a renamed .exe must be refused even when it is called `invoice.pdf`. OFD and XLSX are both ZIP
containers, told apart by the entries the formats require (GB/T 33190 `OFD.xml`; OOXML
`[Content_Types].xml` plus `xl/workbook.xml`). Only the ZIP's central directory is read,
never a member's content, so a ZIP bomb costs nothing here.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import Final

from portal.forms.model import kind_of
from portal.text_rules import without_bidi

MAX_UPLOAD_BYTES: Final = 20 * 1024 * 1024
MAX_NAME_CHARS: Final = 120
# The extension a download takes for each kind: the detected type's, whatever the upload was called.
EXTENSIONS: Final = {"pdf": "pdf", "jpeg": "jpg", "png": "png", "ofd": "ofd", "xlsx": "xlsx"}
_UNSAFE_NAME_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"|?*\\/]')


@dataclass(frozen=True)
class UploadRejected(Exception):
    """Why a file was refused, said so the applicant can fix it (both languages)."""

    code: str
    zh: str
    en: str

    def message(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


def _zip_kind(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError):
        return None
    if "OFD.xml" in names:
        return "ofd"
    if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
        return "xlsx"
    return None


def sniff_kind(data: bytes) -> str | None:
    """The attachment kind (pdf, jpeg, png, ofd, xlsx) the bytes are, or None for anything else."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    return None


def check_upload(data: bytes, allowed: tuple[str, ...]) -> str:
    """The sniffed kind if this slot accepts it; otherwise UploadRejected saying exactly why."""
    if not data:
        raise UploadRejected(
            "empty", "文件为空，请重新选择文件。", "The file is empty; choose the file again."
        )
    if len(data) > MAX_UPLOAD_BYTES:
        # No size in figures: callers read a large file only up to just past the limit, so
        # `len(data)` is not the file's size.
        raise UploadRejected(
            "too_large", "文件超过 20 MB 的上限。", "The file is larger than the 20 MB limit."
        )
    kind = sniff_kind(data)
    wanted_zh = "、".join(k.upper() for k in allowed)
    wanted_en = ", ".join(k.upper() for k in allowed)
    if kind is None:
        raise UploadRejected(
            "unknown_type",
            f"文件内容不是可接受的格式（{wanted_zh}），与文件扩展名无关。",
            f"The file's content is not an accepted format ({wanted_en}), whatever its extension says.",
        )
    if kind not in allowed:
        raise kind_refused(kind, allowed)
    return kind


def kind_refused(kind: str, allowed: tuple[str, ...]) -> UploadRejected:
    """A file of `kind` offered where only `allowed` kinds go: uploaded, or reused from the library."""
    wanted_zh = "、".join(k.upper() for k in allowed)
    wanted_en = ", ".join(k.upper() for k in allowed)
    return UploadRejected(
        "kind_not_allowed",
        f"文件内容为 {kind.upper()}，此处只接受 {wanted_zh}。",
        f"The file's content is {kind.upper()}; this slot accepts only {wanted_en}.",
    )


def name_part(words: str) -> str:
    """Words (a kept name, a figure's title) as (part of) a file's name: what a file system
    refuses (control characters, <>:"|?*, slashes) becomes `_`."""
    return _UNSAFE_NAME_CHARS.sub("_", words).strip(" .")


def safe_name(name: str | None, kind: str) -> str:
    """A display name with no directories, control or bidi characters, or path tricks.

    The name is only ever metadata (files are stored under their sha256), but it is shown on
    pages, so `../../etc/passwd` becomes `passwd` and `scan\u202efdp.hta` (which displays as
    "scanath.pdf") becomes `scanfdp.hta`, which reads as what it is.
    """
    text = without_bidi(unicodedata.normalize("NFC", name or ""))
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = name_part(text)
    if not text:
        text = f"attachment.{kind}"
    if len(text) > MAX_NAME_CHARS:
        stem, dot, ext = text.rpartition(".")
        text = (
            (stem[: MAX_NAME_CHARS - len(ext) - 1] + dot + ext)
            if dot and len(ext) <= 8
            else text[:MAX_NAME_CHARS]
        )
    return text


def download_name(name: str, media_type: str) -> str:
    """The name a stored upload is offered under: its kept name with the detected type's extension.

    An upload called `invoice.hta` whose bytes are a PDF downloads as `invoice.pdf`, so the
    browser and the operating system treat it as what it is, never as what it claimed to be.
    """
    kind = kind_of(media_type)
    text = safe_name(name, kind or "bin")
    if kind is None:
        return text
    stem, dot, _ = text.rpartition(".")
    return f"{stem if dot and stem else text}.{EXTENSIONS[kind]}"
