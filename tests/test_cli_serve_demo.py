"""`portal serve --demo` points the seeded letters' verification links at the demo it serves."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from portal.cli.serve import _demo_environment
from portal.settings import get_settings


@pytest.fixture
def clean_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.delenv("PORTAL_PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("PORTAL_SECRET_KEY", "test-only-secret-0123456789abcdef")
    get_settings.cache_clear()  # settings an earlier test cached must not decide for this one
    yield monkeypatch
    get_settings.cache_clear()  # so the next read sees the environment monkeypatch restores


@pytest.mark.parametrize(
    ("host", "expected"),
    [("127.0.0.1", "127.0.0.1"), ("0.0.0.0", "127.0.0.1"), ("::", "127.0.0.1"), ("::1", "[::1]")],
)
def test_a_demo_on_another_port_links_its_letters_to_that_port(
    clean_settings: pytest.MonkeyPatch, host: str, expected: str
) -> None:
    _demo_environment(host, 8101)
    assert get_settings().public_base_url == f"http://{expected}:8101"
    assert os.environ["PORTAL_SECRET_KEY"] == "test-only-secret-0123456789abcdef"  # a set key is kept


def test_an_operators_public_address_is_kept(clean_settings: pytest.MonkeyPatch) -> None:
    clean_settings.setenv("PORTAL_PUBLIC_BASE_URL", "https://zcdx.example.gov.cn")
    _demo_environment("127.0.0.1", 8101)
    assert get_settings().public_base_url == "https://zcdx.example.gov.cn"
