"""The QR code still scans, and the render speed-ups change no byte of a letter."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import segno
import zxingcpp
from pdf_inspect import reader
from PIL import Image
from sample_letters import APPROVAL, REJECTION
from weasyprint import HTML, Attachment

from portal.documents import render_letter, render_letter_html
from portal.documents.decision_json import ATTACHMENT_NAME, letter_json
from portal.documents.fetcher import AssetOnlyFetcher
from portal.documents.render import PDF_VARIANT, html_to_pdf
from portal.documents.speedups import compress_byte_streams_once, letter_stylesheet
from portal.documents.verification import QR_BORDER, qr_png

pytestmark = pytest.mark.filterwarnings("ignore:unclosed file.*sRGB:ResourceWarning")

# Midnight of APPROVAL's issue date in Guangzhou, as render_letter stamps its attachment.
ISSUED_AT = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def approval_pdf() -> bytes:
    return render_letter(APPROVAL)


def test_the_printed_qr_code_scans_to_the_verify_url(approval_pdf: bytes, tmp_path: Path) -> None:
    """Rasterise the appendix page as a scanner would see a print, and decode it."""
    path = tmp_path / "letter.pdf"
    path.write_bytes(approval_pdf)
    prefix = tmp_path / "appendix"
    subprocess.run(
        ["pdftoppm", "-r", "100", "-png", "-f", "2", "-l", "2", "-singlefile", str(path), str(prefix)],
        check=True,
    )
    codes = zxingcpp.read_barcodes(Image.open(prefix.with_suffix(".png")))
    assert [(code.format, code.text) for code in codes] == [
        (zxingcpp.BarcodeFormat.QRCode, APPROVAL.verify_url)
    ]


def test_the_qr_image_is_segnos_matrix_drawn_sharp(approval_pdf: bytes) -> None:
    appendix = reader(approval_pdf).pages[1]
    (image,) = appendix.images
    assert image.indirect_reference is not None and image.image is not None
    xobject: Any = image.indirect_reference.get_object()  # pypdf types PDF objects loosely
    # PDF/A forbids interpolated images, and smoothing would blur the modules.
    assert xobject.get("/Interpolate") in (None, False)
    drawn = image.image.convert("1")
    matrix = segno.make(APPROVAL.verify_url, error="m", micro=False).matrix
    size = len(matrix) + 2 * QR_BORDER
    assert drawn.size == (size, size)
    for y in range(size):
        for x in range(size):
            inside = QR_BORDER <= x < size - QR_BORDER and QR_BORDER <= y < size - QR_BORDER
            dark = inside and bool(matrix[y - QR_BORDER][x - QR_BORDER])
            assert (drawn.getpixel((x, y)) == 0) == dark, (x, y)


def test_each_letter_carries_its_own_qr_code() -> None:
    assert qr_png(APPROVAL.verify_url) != qr_png(REJECTION.verify_url)
    assert qr_png(APPROVAL.verify_url).startswith(b"\x89PNG\r\n\x1a\n")


def test_a_warm_font_configuration_gives_the_same_bytes_as_a_fresh_one(approval_pdf: bytes) -> None:
    # render_letter reuses the thread's font configuration; html_to_pdf's default is a new one.
    fresh = html_to_pdf(render_letter_html(APPROVAL), letter_json(APPROVAL), ISSUED_AT)
    assert fresh == approval_pdf
    assert render_letter(APPROVAL) == approval_pdf


def test_compressing_streams_ahead_of_pydyf_changes_no_byte() -> None:
    def write(**finisher: Any) -> bytes:
        fetcher = AssetOnlyFetcher()
        attachment = Attachment(
            string=letter_json(APPROVAL),
            name=ATTACHMENT_NAME,
            created=ISSUED_AT,
            modified=ISSUED_AT,
            relationship="Data",
            url_fetcher=fetcher,
        )
        pdf: bytes = HTML(string=render_letter_html(APPROVAL), url_fetcher=fetcher).write_pdf(
            stylesheets=[letter_stylesheet()], pdf_variant=PDF_VARIANT, attachments=[attachment], **finisher
        )
        return pdf

    assert write(finisher=compress_byte_streams_once) == write()
