"""Hostile text in a letter must neither reach files or the network nor vanish from the page.

Payloads go into the enterprise's name and the reviewer's comment (issue 5 §4). A real
loopback HTTP server is the canary. Each case is also run as raw HTML straight into the
renderer, past Jinja2's escaping, so that the restricted fetcher is tested on its own; and
once through WeasyPrint's default fetcher, to prove these checks do catch a leak.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pdf_inspect import all_text, decompressed_streams
from sample_letters import APPROVAL, REJECTION
from weasyprint import HTML

from portal.documents import render_letter
from portal.documents.fetcher import AssetOnlyFetcher
from portal.documents.render import html_to_pdf

pytestmark = pytest.mark.filterwarnings("ignore:unclosed file.*sRGB:ResourceWarning")

PASSWD_MARK = b"root:x:0:0"
ISSUED_AT = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)


@dataclass
class Canary:
    port: int
    paths: list[str] = field(default_factory=list)


@pytest.fixture
def canary() -> Iterator[Canary]:
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Canary(server.server_address[1], hits)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def secret_file(tmp_path: Path) -> tuple[Path, bytes]:
    """A local file with a random token, so a leak of it cannot be a coincidence."""
    token = f"SECRET-{secrets.token_hex(16)}".encode()
    path = tmp_path / "secret.svg"
    path.write_bytes(
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><desc>' + token + b"</desc></svg>"
    )
    return path, token


def payload(port: int, secret: Path) -> str:
    return (
        '<link rel="attachment" href="file:///etc/passwd">'
        f'<a rel="attachment" href="{secret.as_uri()}">x</a>'
        '<img src="file:///etc/hostname">'
        f'<img src="{secret.as_uri()}">'
        f'<img src="http://127.0.0.1:{port}/canary">'
        f"<style>@font-face{{font-family:evil;src:url(http://127.0.0.1:{port}/font)}}"
        "html{font-family:evil}</style>"
    )


def assert_nothing_leaked(pdf: bytes, canary: Canary, token: bytes) -> None:
    streams = decompressed_streams(pdf)
    blobs = [pdf, *streams]
    assert not any(PASSWD_MARK in blob for blob in blobs)
    assert not any(token in blob for blob in blobs)
    hostname = Path("/etc/hostname").read_bytes().strip()
    if len(hostname) >= 8:  # shorter names would match by chance
        assert not any(hostname in blob for blob in blobs)
    assert canary.paths == []


def test_payload_in_name_and_comment_renders_as_escaped_text(
    canary: Canary, secret_file: tuple[Path, bytes]
) -> None:
    secret, token = secret_file
    evil = payload(canary.port, secret)
    for letter in (
        replace(APPROVAL, enterprise_name="恶意企业" + evil, reasons=[evil]),
        replace(REJECTION, enterprise_name=evil, reasons="审核意见：" + evil),
    ):
        pdf = render_letter(letter)
        assert_nothing_leaked(pdf, canary, token)
        text = all_text(pdf)
        # The tags are printed as the applicant typed them, not interpreted.
        assert '<linkrel="attachment"href="file:///etc/passwd">' in text
        assert f"@font-face{{font-family:evil;src:url(http://127.0.0.1:{canary.port}/font)}}" in text
        assert text.count("<imgsrc=") >= 2


def test_fetcher_alone_blocks_raw_html(canary: Canary, secret_file: tuple[Path, bytes]) -> None:
    secret, token = secret_file
    html = f"<html><body><p>正文</p>{payload(canary.port, secret)}</body></html>"
    pdf = html_to_pdf(html, "{}", ISSUED_AT)
    assert_nothing_leaked(pdf, canary, token)
    assert "正文" in all_text(pdf)


def test_the_checks_catch_the_default_fetcher(canary: Canary, secret_file: tuple[Path, bytes]) -> None:
    """Control: WeasyPrint's default fetcher leaks on the same HTML, so the checks above can fail."""
    secret, token = secret_file
    html = f"<html><body><p>正文</p>{payload(canary.port, secret)}</body></html>"
    pdf = HTML(string=html).write_pdf()
    streams = decompressed_streams(pdf)
    assert any(PASSWD_MARK in stream for stream in streams)
    assert any(token in stream for stream in streams)
    assert "/canary" in canary.paths


def test_fetcher_serves_packaged_assets_and_data_only() -> None:
    fetcher = AssetOnlyFetcher()
    css = fetcher.fetch("portal-asset:letter.css")
    assert b"@page" in css.read()
    assert css.content_type == "text/css"
    assert fetcher.fetch("data:text/plain;base64,5q2j5paH").read() == "正文".encode()
    for url in (
        "portal-asset:../render.py",
        "portal-asset:/etc/passwd",
        "portal-asset:missing.css",
        "file:///etc/passwd",
        "http://127.0.0.1:9/",
        "https://example.org/",
        "ftp://example.org/x",
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
