"""Stored uploads sent back as downloads, whichever store holds their bytes, and the
Content-Disposition header of a file named in the reader's words."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from fastapi.responses import Response

from portal.web.uploads import download_name

_NOT_ASCII_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def attachment_response(content: bytes, *, media_type: str, filename: str) -> Response:
    """The bytes as an attachment download, named for their detected type, per RFC 6266 (UTF-8 safe)."""
    name = download_name(filename, media_type)
    disposition = f"attachment; filename*=utf-8''{quote(name, safe='')}"
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})


def ascii_name(text: str) -> str:
    """`text` as a plain ASCII file name (accents dropped, anything else a hyphen), for clients
    that do not read RFC 5987's `filename*`."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"-{2,}", "-", _NOT_ASCII_NAME.sub("-", plain)).strip("-")


def attachment_disposition(name: str, fallback: str) -> str:
    """An attachment named `name` (any script, as `filename*` in UTF-8), with `fallback` made
    ASCII as `filename` for older clients (RFC 6266 §4.3)."""
    return f"attachment; filename=\"{ascii_name(fallback)}\"; filename*=UTF-8''{quote(name, safe='')}"
