"""Stored uploads sent back as downloads, whichever store holds their bytes."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import Response

from portal.web.uploads import download_name


def attachment_response(content: bytes, *, media_type: str, filename: str) -> Response:
    """The bytes as an attachment download, named for their detected type, per RFC 6266 (UTF-8 safe)."""
    name = download_name(filename, media_type)
    disposition = f"attachment; filename*=utf-8''{quote(name, safe='')}"
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})
