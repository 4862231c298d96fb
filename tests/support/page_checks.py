"""What no page may show a reader (issue 11 §4, §7), shared by the HTTP crawl and the browser sweep.

The codes come from the loaded pack, never from a list kept here: measure ids, qualified fact
names, benefit names, lead-unit codes, workflow state and event names, enum values, and the
events the portal audits (read from the database: create_draft, save_draft and the like). Only the
visible text is checked (tags, attributes and URLs are where codes belong). Codes that are also
plain English words (a state called `approved`, an enum value `patent`) are checked on zh pages
only, where no English word has any business; the rest on both. An en page has no Chinese but
what people typed and the few things `chinese_allowed_in_english` lists, each with why.

Pages are found by following the links of each role's pages from its start pages (GET only, same
site, no downloads), at most a few pages per URL shape, so a crawl stays small as the demo grows.
"""

from __future__ import annotations

import re
import shutil
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from fastapi import FastAPI
from sqlmodel import select
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route, compile_path

from portal.db import migrations
from portal.db.tables import (
    Application,
    ApplicationAnswers,
    Attachment,
    AuditEvent,
    Bank,
    Decision,
    Enterprise,
    ExpertScore,
    Listing,
    ListingEvent,
    Objection,
    PaymentLine,
    PaymentReturn,
    PaymentReturnLine,
    Transition,
    User,
)
from portal.demo.seed import seed_demo
from portal.services.context import Portal
from portal.settings import Settings
from portal.web.app import create_app
from portal.web.i18n import Translator

# One demo account per role, and the anonymous visitor (None); each starts from these pages.
ROLES: dict[str | None, list[str]] = {
    None: [
        "/",
        "/catalogue",
        "/self-check",
        "/notices",
        "/procurement",
        "/login",
        "/register",
        "/register/done",
        "/password/reset",
    ],
    "zhitong": ["/applications", "/catalogue", "/profile", "/inbox", "/access-log", "/consents"],
    "jiankang": ["/applications"],  # a second enterprise: its cases wait for amendment (the form pages)
    "haizhu_reviewer": ["/review", "/inbox", "/verifications", "/claims"],
    "bureau_reviewer": ["/review", "/inbox", "/payments", "/screening"],
    "expert_li": ["/expert", "/inbox"],
    "admin": ["/admin/users", "/review"],
    "supervisor": ["/supervision"],
    "tianhe_supervisor": ["/supervision"],
}
SKIP = re.compile(
    r"^/(lang/|static/|api/|metrics|logout|login/oidc)|\.(pdf|csv|xlsx|png|svg|json)$|/download|/export"
    r"|/attachments/|/file$|/letters/"
)
# Genuinely user-facing codes, with why (keep this short):
EXCEPTIONS: dict[str, str] = {}
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")
FULL_WIDTH_IN_ENGLISH = re.compile(r"[A-Za-z)]\s?[（）：、，；]|[（）：、，；]\s?[A-Za-z(]")


def _demo_settings(root: Path, secret_key: str) -> Settings:
    return Settings(
        database_url=f"sqlite:///{root / 'portal.db'}",
        data_dir=root / "data",
        secret_key=secret_key,
        login_ip_rate_limit_per_minute=10_000,
    )


def seed_demo_once(root: Path) -> Path:
    """The demo data seeded into a fresh SQLite file and data directory under `root`.

    Seeding plays every case through the services and renders its letters (several seconds of
    CPU), so a test process seeds once (the `demo_seed` fixture) and each app gets a copy.
    """
    migrations.upgrade(f"sqlite:///{root / 'portal.db'}")
    app = create_app(_demo_settings(root, "demo-seed-secret"))
    seed_demo(app.state.portal)
    app.state.engine.dispose()  # the last connection's close checkpoints the WAL into the file
    return root


def demo_app(seeded: Path, root: Path, secret_key: str) -> FastAPI:
    """The app on a copy, under `root`, of the demo data `seed_demo_once` wrote; sign-ins unlimited."""
    for part in seeded.glob("portal.db*"):
        shutil.copyfile(part, root / part.name)
    shutil.copytree(seeded / "data", root / "data")
    return create_app(_demo_settings(root, secret_key))


class _Text(HTMLParser):
    """The text a reader sees: no tags, attributes, scripts or styles.

    Nor `<kbd>`: it marks what the reader must type themselves, exactly as shown (a screening
    file's column names and values, /screening/columns), so there the code is the point.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template", "kbd"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template", "kbd") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def starts_of(portal: Portal, username: str | None) -> list[str]:
    """A role's start pages, and for an enterprise the pages only a form's button leads to (no
    link does): each draft's check-your-answers page and each sent case's confirmation page."""
    starts = list(ROLES[username])
    if username is None:
        return starts
    with portal.reading() as session:
        enterprise_id = session.exec(select(User.enterprise_id).where(User.username == username)).one()
        if enterprise_id is None:
            return starts
        cases = session.exec(
            select(Application.id, Application.workflow, Application.state, Application.submitted_at).where(
                Application.enterprise_id == enterprise_id
            )
        ).all()
    for case_id, workflow, state, submitted_at in cases:
        if portal.workflows[workflow].state(state).kind == "draft":
            starts.append(f"/applications/{case_id}/check")
        elif submitted_at is not None:
            starts.append(f"/applications/{case_id}/submitted")
    return starts


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def without_urls(text: str) -> str:
    """URLs shown as text are addresses, not words."""
    return re.sub(r"(https?://|/)[\w./?=&%#:-]*[\w/]", " ", text)


def links(html: str) -> Iterator[str]:
    for href in re.findall(r'<a\s[^>]*href="(/[^"#]*)"', html):
        yield href.replace("&amp;", "&")


def shape(path: str) -> str:
    """The URL's route shape: ids replaced, so one case stands for every case."""
    return re.sub(r"\d+", "N", path.split("?")[0]) + ("?" if "?" in path else "")


def _templates(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[str]:
    for route in routes:
        if isinstance(route, Route):
            yield prefix + route.path
        included = getattr(route, "original_router", None)  # FastAPI's included routers
        if included is not None:
            yield from _templates(included.routes, prefix + route.include_context.prefix)  # type: ignore[attr-defined]


def route_shape(app: Starlette) -> Callable[[str], str]:
    """The shape of a URL as the app's route template (/catalogue/{measure_id}), query or not."""
    templates = [(template, compile_path(template)[0]) for template in _templates(app.routes)]

    def shape_of(path: str) -> str:
        bare = path.split("?")[0]
        template = next((t for t, regex in templates if regex.match(bare)), shape(bare))
        return template + ("?" if "?" in path else "")

    return shape_of


def crawl(
    fetch: Callable[[str], str | None],
    starts: list[str],
    *,
    per_shape: int,
    max_pages: int,
    shape_of: Callable[[str], str] = shape,
    variant: Callable[[str], str] = lambda html: "",
) -> Iterator[tuple[str, str]]:
    """(path, html) of each page reached from `starts`; `fetch` answers None for what is not a page.

    `variant` tells pages of one shape apart by their content (a case page by its stage): a shape
    whose pages vary is fetched on, and `per_shape` pages are kept of each variant.
    """
    seen: set[str] = set()
    kept: dict[tuple[str, str], int] = {}
    varied: set[str] = set()
    queue = deque(starts)
    while queue and sum(kept.values()) < max_pages and len(seen) < 4 * max_pages:
        path = queue.popleft()
        kind = shape_of(path)
        if path in seen or SKIP.search(path.split("?")[0]):
            continue
        if kind not in varied and kept.get((kind, ""), 0) >= per_shape:
            continue
        seen.add(path)
        html = fetch(path)
        if html is None:
            continue
        key = (kind, variant(html))
        if key[1]:
            varied.add(kind)
        if kept.get(key, 0) >= per_shape:
            continue
        kept[key] = kept.get(key, 0) + 1
        yield path, html
        queue.extend(links(html))


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
    with portal.reading() as session:  # what the portal itself audits (create_draft, save_draft, ...)
        audited = set(session.exec(select(AuditEvent.event).distinct()).all())
    anywhere |= {e for e in audited if "_" in e}
    words |= {e for e in audited if "_" not in e}
    # District codes are never words (`outside` is one).
    anywhere |= set(portal.city.jurisdictions.inside)
    return anywhere - set(EXCEPTIONS), words - set(EXCEPTIONS)


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def typed_text(portal: Portal) -> list[str]:
    """What people typed (names, answers, comments, file names, a bank's words): it reads as they wrote it."""
    columns = (
        Enterprise.name,
        Enterprise.payee_bank_name,
        User.display_name,
        Bank.name,
        Listing.name,
        Listing.summary,
        Listing.specs,
        ListingEvent.reasons,
        Attachment.original_name,
        Transition.comment,
        Decision.reasons,
        Decision.granted_reason,
        Application.granted_reason,
        Objection.text,
        Objection.objector_name,
        Objection.decision_comment,
        PaymentLine.bank_message,  # the bank's own words from its return file
        PaymentReturnLine.bank_message,
        PaymentReturn.file_name,
    )
    with portal.reading() as session:
        typed = {text for column in columns for text in session.exec(select(column)).all() if text}
        for documents in (ApplicationAnswers.answers, ExpertScore.comments):
            typed |= {text for doc in session.exec(select(documents)).all() for text in _strings(doc)}
    lines = {line.strip() for text in typed for line in text.splitlines()}  # pages show long texts by line
    return sorted((t for t in lines if t), key=len, reverse=True)


# A document number (文号) as issued, such as 穗财〔2026〕2号 or an announcement's 公告2023年第7号:
# an English page cites it as it is.
DOCUMENT_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,10}〔\d{4}〕\d+号|(?:公告)?\d{4}年第\d+号")


def chinese_allowed_in_english(portal: Portal) -> list[str]:
    """The one list of Chinese an en page may show besides what people typed, each for a reason:

    - the site's one-character brand mark (a proper name, the city's short name);
    - the language switch, which names 中文 in Chinese so that a Chinese reader finds it;
    - document numbers (DOCUMENT_NUMBER), matched by pattern rather than listed.
    """
    return sorted({portal.city.site_mark, Translator("en")("lang.switch")}, key=len, reverse=True)


def found(text: str, names: set[str]) -> list[str]:
    return sorted(n for n in names if re.search(rf"(?<![\w.]){re.escape(n)}(?![\w])", text))


@dataclass(frozen=True)
class Reader:
    """Everything a page's text is held against, read once from the loaded pack and the database."""

    anywhere: set[str]
    words: set[str]
    usernames: set[str]
    typed: list[str]
    allowed: list[str]

    @classmethod
    def of(cls, portal: Portal) -> Reader:
        anywhere, words = codes(portal)
        with portal.reading() as session:  # people's own names for themselves are theirs to choose
            usernames = set(session.exec(select(User.username)).all())
        return cls(anywhere, words, usernames, typed_text(portal), chinese_allowed_in_english(portal))

    def problems(self, text: str, lang: str) -> list[str]:
        """What a reader of `lang` should not see in this visible text: codes, dict reprs, and on
        an en page full-width punctuation and Chinese other than names."""
        words = " ".join(w for w in without_urls(text).split() if w not in self.usernames)
        bad = found(words, self.anywhere) + (found(words, self.words) if lang == "zh" else [])
        if "{'" in text:
            bad.append("{'")
        if lang == "en":
            own = text
            for piece in [*self.typed, *self.allowed]:
                own = own.replace(piece, " ")
            own = DOCUMENT_NUMBER.sub(" ", without_urls(own))
            bad += FULL_WIDTH_IN_ENGLISH.findall(own)  # ASCII punctuation: no （required） or Submit：Draft
            bad += CJK.findall(own)
        return bad
