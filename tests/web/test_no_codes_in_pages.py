"""No internal code where people read (issue 11 §4): every page each demo role reaches, in zh and en.

The codes come from the loaded pack, never from a list kept here: measure ids, qualified fact
names, benefit names, lead-unit codes, workflow state and event names, and enum values. Only the
visible text is checked (tags, attributes and URLs are where codes belong). Codes that are also
plain English words (a state called `approved`, an enum value `patent`) are checked on zh pages
only, where no English word has any business; the rest on both.

Pages are found by following the links of each role's pages from its home (GET only, same site,
no downloads), at most a few pages per URL shape, so the crawl stays small as the demo grows.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from portal_helpers import login
from sqlmodel import select

from portal.db.tables import Enterprise, Listing, User
from portal.demo.seed import DEMO_PASSWORD, seed_demo
from portal.services.context import Portal
from portal.settings import Settings
from portal.web.app import create_app

# One account per role, and the anonymous visitor; each starts from its home and the public pages.
ROLES = {
    None: ["/", "/catalogue", "/self-check", "/notices", "/procurement", "/login", "/register"],
    "zhitong": ["/applications", "/catalogue", "/profile", "/inbox", "/access-log", "/consents"],
    "haizhu_reviewer": ["/review", "/inbox", "/verifications", "/claims"],
    "expert_li": ["/expert", "/inbox"],
    "admin": ["/admin/users", "/review"],
    "supervisor": ["/supervision"],
}
SKIP = re.compile(
    r"^/(lang/|static/|api/|metrics|logout|login/oidc)|\.(pdf|csv|xlsx|png|svg)$|/download|/export"
)
PER_SHAPE = 2  # pages per URL shape (ids replaced): two cases show what every case shows
MAX_PAGES = 60  # per role and language
# Genuinely user-facing codes, with why (keep this short):
EXCEPTIONS: dict[str, str] = {}


class _Text(HTMLParser):
    """The text a reader sees: no tags, attributes, scripts or styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    text = " ".join(parser.parts)
    return re.sub(r"(https?://|/)[\w./?=&%#:-]*[\w/]", " ", text)  # URLs shown as text are addresses


def links(html: str) -> Iterator[str]:
    for href in re.findall(r'<a\s[^>]*href="(/[^"#]*)"', html):
        yield href.replace("&amp;", "&")


def shape(path: str) -> str:
    return re.sub(r"\d+", "N", path.split("?")[0]) + ("?" if "?" in path else "")


def codes(portal: Portal) -> tuple[set[str], set[str]]:
    """(codes never shown in any language, codes that are English words: never shown on zh pages)."""
    pack = portal.pack
    anywhere: set[str] = set(pack.measure_ids()) | set(pack.facts.specs) | set(pack.units)
    words: set[str] = set()
    for rule in pack.rules:
        anywhere |= {b for b in rule.benefit if "_" in b}
        words |= {b for b in rule.benefit if "_" not in b}
    for workflow in portal.workflows.values():
        names = {s.name for s in workflow.states} | {e.event for e in workflow.transitions}
        anywhere |= {n for n in names if "_" in n}
        words |= {n for n in names if "_" not in n}
    for spec in pack.facts.specs.values():
        values = {v for v in spec.values if len(v) > 1}  # single letters (industry sections A–T) are letters
        anywhere |= {v for v in values if "_" in v}
        words |= {v for v in values if "_" not in v}
    # District codes are never words (`outside` is one).
    anywhere |= set(portal.city.jurisdictions.inside)
    return anywhere - set(EXCEPTIONS), words - set(EXCEPTIONS)


FULL_WIDTH_IN_ENGLISH = re.compile(r"[A-Za-z)]\s?[（）：、，；]|[（）：、，；]\s?[A-Za-z(]")


def typed_text(portal: Portal) -> list[str]:
    """What people typed (names, product texts): it reads as they wrote it, in any language."""
    with portal.reading() as session:
        found = {
            *session.exec(select(Enterprise.name)).all(),
            *session.exec(select(User.display_name)).all(),
            *session.exec(select(Listing.name)).all(),
            *session.exec(select(Listing.summary)).all(),
            *session.exec(select(Listing.specs)).all(),
        }
    lines = {line.strip() for text in found if text for line in text.splitlines()}  # pages show specs by line
    return sorted((t for t in lines if t), key=len, reverse=True)


def found(text: str, names: set[str]) -> list[str]:
    return sorted(n for n in names if re.search(rf"(?<![\w.]){re.escape(n)}(?![\w])", text))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Portal]]:
    from portal.db import migrations

    data = tmp_path_factory.mktemp("codes")
    url = f"sqlite:///{data / 'portal.db'}"
    migrations.upgrade(url)
    settings = Settings(
        database_url=url, data_dir=data, secret_key="codes-test-key", login_ip_rate_limit_per_minute=10_000
    )
    app = create_app(settings)
    seed_demo(app.state.portal)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, app.state.portal
    app.state.engine.dispose()


def crawl(client: TestClient, starts: list[str]) -> Iterator[tuple[str, str]]:
    seen: set[str] = set()
    shapes: dict[str, int] = {}
    queue = deque(starts)
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        if path in seen or SKIP.search(path.split("?")[0]) or shapes.get(shape(path), 0) >= PER_SHAPE:
            continue
        seen.add(path)
        shapes[shape(path)] = shapes.get(shape(path), 0) + 1
        page = client.get(path)
        if page.status_code != 200 or not page.headers["content-type"].startswith("text/html"):
            continue
        yield path, page.text
        queue.extend(links(page.text))


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("username", list(ROLES), ids=lambda u: u or "visitor")
def test_no_code_of_the_pack_is_read_on_any_page(
    demo: tuple[TestClient, Portal], username: str | None, lang: str
) -> None:
    client, portal = demo
    with portal.reading() as session:  # people's own names for themselves are theirs to choose
        usernames = set(session.exec(select(User.username)).all())
    typed = typed_text(portal)
    client.cookies.clear()
    if username is not None:
        login(client, username, DEMO_PASSWORD)
    client.get(f"/lang/{lang}?next=/")
    anywhere, words = codes(portal)
    leaks: dict[str, list[str]] = {}
    pages = 0
    for path, html in crawl(client, ROLES[username]):
        pages += 1
        text = " ".join(w for w in visible_text(html).split() if w not in usernames)
        bad = found(text, anywhere) + (found(text, words) if lang == "zh" else [])
        if "{'" in text:
            bad.append("{'")
        if lang == "en":  # ASCII punctuation in English: no （required） or Submit：Draft
            own = visible_text(html)
            for piece in typed:
                own = own.replace(piece, " ")
            bad += FULL_WIDTH_IN_ENGLISH.findall(own)
        if bad:
            leaks[path] = bad
    print(f"{username or 'visitor'} {lang}: {pages} pages")
    assert pages >= len(ROLES[username]) - 1
    assert not leaks, leaks


def test_the_exceptions_are_few_and_explained() -> None:
    assert len(EXCEPTIONS) <= 5 and all(why.strip() for why in EXCEPTIONS.values())


CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")


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
