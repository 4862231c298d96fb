"""Helpers that look inside rendered PDFs with pypdf and poppler, as a reader would."""

from __future__ import annotations

import io
import re
import subprocess

from pypdf import PdfReader
from pypdf.generic import IndirectObject, StreamObject


def reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def page_texts(pdf: bytes) -> list[str]:
    """Each page's text with all white space removed: line breaks fall anywhere in CJK text."""
    return [re.sub(r"\s+", "", page.extract_text()) for page in reader(pdf).pages]


def all_text(pdf: bytes) -> str:
    """The letter's text as one run: each page's number (its footer, "—1—") is left out, so a
    paragraph that a page break splits reads whole."""
    return "".join(re.sub(r"—\d+—$", "", page) for page in page_texts(pdf))


def decompressed_streams(pdf: bytes) -> list[bytes]:
    """The decoded data of every stream object in the file (pages, fonts, XMP, attachments)."""
    pdf_reader = reader(pdf)
    streams = []
    size = pdf_reader.trailer["/Size"]
    assert isinstance(size, int)
    for number in range(1, size):
        obj = pdf_reader.get_object(IndirectObject(number, 0, pdf_reader))
        if isinstance(obj, StreamObject):
            streams.append(obj.get_data())
    return streams


def pdffonts(pdf_path: str) -> list[dict[str, str]]:
    """poppler's pdffonts table: name, type, emb and sub for each font."""
    out = subprocess.run(["pdffonts", pdf_path], check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines()[2:]:
        parts = line.split()
        # name, then type words, encoding, then emb sub uni object-id generation.
        rows.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3]})
    return rows
