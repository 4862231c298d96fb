"""No internal code where people read (issue 11 §4): every page each demo role reaches, in zh and en.

The checks and the roles are shared with the browser sweep (tests/support/page_checks.py); this
crawl reads the HTML over HTTP, so it runs without Chromium.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from portal_helpers import login

from portal.demo.seed import DEMO_PASSWORD
from portal.services.context import Portal
from tests.support.page_checks import (
    CJK,
    EXCEPTIONS,
    ROLES,
    Reader,
    crawl,
    demo_app,
    starts_of,
    typed_text,
    visible_text,
)

PER_SHAPE = 2  # pages per URL shape (ids replaced): two cases show what every case shows
MAX_PAGES = 60  # per role and language


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, demo_seed: Path) -> Iterator[tuple[TestClient, Portal]]:
    app = demo_app(demo_seed, tmp_path_factory.mktemp("codes"), "codes-test-key")
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, app.state.portal
    app.state.engine.dispose()


def pages_of(client: TestClient, starts: list[str]) -> Iterator[tuple[str, str]]:
    def fetch(path: str) -> str | None:
        page = client.get(path)
        ok = page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        return page.text if ok else None

    return crawl(fetch, starts, per_shape=PER_SHAPE, max_pages=MAX_PAGES)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("username", list(ROLES), ids=lambda u: u or "visitor")
def test_no_code_of_the_pack_is_read_on_any_page(
    demo: tuple[TestClient, Portal], username: str | None, lang: str
) -> None:
    client, portal = demo
    reader = Reader.of(portal)
    client.cookies.clear()
    if username is not None:
        login(client, username, DEMO_PASSWORD)
    client.get(f"/lang/{lang}?next=/")
    leaks: dict[str, list[str]] = {}
    pages = 0
    for path, html in pages_of(client, starts_of(portal, username)):
        pages += 1
        bad = reader.problems(visible_text(html), lang)
        if bad:
            leaks[path] = bad
    print(f"{username or 'visitor'} {lang}: {pages} pages")
    assert pages >= len(ROLES[username]) - 1
    assert not leaks, leaks


def test_the_exceptions_are_few_and_explained() -> None:
    assert len(EXCEPTIONS) <= 5 and all(why.strip() for why in EXCEPTIONS.values())


@pytest.mark.slow
@pytest.mark.parametrize("username", ["zhitong", "haizhu_reviewer", "expert_li"])
def test_the_english_inbox_is_english(demo: tuple[TestClient, Portal], username: str) -> None:
    """Notes are stored as a message key and parameters: each reader reads them in their language.

    Names people gave (enterprises, users, listed products) stay as written.
    """
    client, portal = demo
    client.cookies.clear()
    login(client, username, DEMO_PASSWORD)
    client.get("/lang/en?next=/inbox")
    html = client.get("/inbox").text
    main = visible_text(html[html.index("<main") : html.index("</main>")])
    for piece in typed_text(portal):
        main = main.replace(piece, "")
    assert "Inbox" in main and not CJK.findall(main), CJK.findall(main)
