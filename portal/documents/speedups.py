"""What keeps a letter's render cost near that of a bare page: state WeasyPrint would rebuild.

bench/pdf_bench.py measured a letter at 2.8 times a bare CJK page with the same text. Most of the
difference was work WeasyPrint repeats for every document although it never changes between
letters; each helper here keeps one such piece, and says what it saved on the bench machine.
"""

from __future__ import annotations

import threading
import zlib
from functools import cache

import pydyf  # type: ignore[import-untyped]  # WeasyPrint's PDF writer; ships no type hints
from weasyprint import CSS, Document
from weasyprint.text.fonts import FontConfiguration

from portal.documents.fetcher import ASSET_SCHEME, AssetOnlyFetcher

STYLESHEET = "letter.css"
# pydyf's own level, so that compressing ahead of it gives the very bytes it would write.
_ZLIB_LEVEL = 9
_per_thread = threading.local()


@cache
def letter_stylesheet() -> CSS:
    """letter.css, parsed and its selectors compiled once per process (~6 ms a letter).

    A CSS object is only read once built, so concurrent renders can share it. It has no
    @font-face rule, so it needs no font configuration of its own.
    """
    return CSS(url=ASSET_SCHEME + STYLESHEET, url_fetcher=AssetOnlyFetcher())


def thread_font_config() -> FontConfiguration:
    """This thread's font configuration, kept from one letter to the next (~30 ms a letter).

    A fresh configuration, WeasyPrint's default, starts with a cold Pango font map: the CJK face
    is opened again and every text run is shaped without HarfBuzz's caches. Pango objects must
    not be used by two threads at once, hence one per thread. A document's @font-face rules are
    added to the configuration it is rendered with, so only HTML made by the letter template
    (which has no stylesheet of its own and escapes every value) may be rendered with this one.
    """
    config: FontConfiguration | None = getattr(_per_thread, "font_config", None)
    if config is None:
        config = FontConfiguration()
        _per_thread.font_config = config
    return config


def compress_byte_streams_once(_document: Document, pdf: pydyf.PDF) -> None:
    """A `write_pdf` finisher: deflate each finished stream now, so that pydyf does not do it twice.

    PDF/A requires a file identifier, and pydyf derives it from the md5 of every object as
    written, so it compresses each stream once for the hash and again for the file. The embedded
    CJK font is about 800 KB before compression (WeasyPrint's subsets keep glyph IDs), and its
    second pass cost ~13 ms a letter. Streams made only of bytes (fonts, page contents) are
    compressed here exactly as pydyf would, so the PDF's bytes do not change.
    """
    for obj in pdf.objects:
        if not isinstance(obj, pydyf.Stream) or not obj.compress or "Filter" in obj.extra:
            continue
        if not all(isinstance(item, bytes) for item in obj.stream):
            continue
        compressor = zlib.compressobj(level=_ZLIB_LEVEL)
        obj.stream = [compressor.compress(b"\n".join(obj.stream)) + compressor.flush()]
        obj.extra["Filter"] = "/FlateDecode"
        obj.compress = False
