"""Notifications are a message key plus parameters, read in each reader's language (issue 11 §4).

Every `notify` in the services names a catalogue message that has a title and a body in zh and
en with the same placeholders. On the demo data, an English reader's inbox and e-mails are
English, with no internal code; a Chinese reader's are Chinese. E-mail goes through a real SMTP
relay (aiosmtpd).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from string import Formatter

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import PASSWORD, csrf_of, login, register
from sqlmodel import col, select

import portal.services
from portal.db.tables import Application, Notification, User
from portal.demo.seed import DEMO_PASSWORD
from portal.messages import catalogue
from portal.services import notifications
from portal.services.context import Portal, SmtpConfig
from tests.support.page_checks import CJK, Reader, demo_app, visible_text
from tests.support.smtp_sink import running_sink

SERVICES = Path(portal.services.__file__).parent
NOTE_KEY = re.compile(r"note\.[a-z_]+")


def _notify_calls() -> Iterator[tuple[str, ast.Call]]:
    """Every call that writes a notification: `notify`, or `note` building a row for `notify_all`."""
    for path in sorted(SERVICES.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = (
                    node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                )
                if name in {"notify", "note"}:
                    yield f"{path.name}:{node.lineno}", node


def _message_keys() -> set[str]:
    """Every message key the services' source names (a `note.*` string, wherever it is set)."""
    keys: set[str] = set()
    for path in SERVICES.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and NOTE_KEY.fullmatch(node.value)
            ):
                keys.add(node.value)
    return keys


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def test_every_notify_names_a_message() -> None:
    calls = list(_notify_calls())
    assert len(calls) >= 20
    # `notify(session, **fields)` forwards a NoteFields, whose `message` the type checker requires.
    named = [(where, {k.arg for k in call.keywords}) for where, call in calls]
    missing = [where for where, keys in named if "message" not in keys and None not in keys]
    assert not missing, missing
    stored_text = [where for where, call in calls if {"title", "body"} & {k.arg for k in call.keywords}]
    assert not stored_text, stored_text


def test_every_message_the_services_send_is_in_both_languages() -> None:
    keys = _message_keys()
    assert len(keys) >= 20, keys
    texts = catalogue()
    for key in sorted(keys):
        for part in ("title", "body"):
            entry = texts.get(f"{key}.{part}")
            assert entry is not None, f"{key}.{part} is not in the catalogue"
            assert _placeholders(entry["zh"]) == _placeholders(entry["en"]), f"{key}.{part}"
            assert not CJK.findall(entry["en"]), f"{key}.{part}: {entry['en']}"


def test_every_message_writes_a_case_number_as_its_pages_do() -> None:
    """A case is 申报 #20 / "application #20" on its pages, so in notes and labels too."""
    bare = {
        f"{key}.{lang}": text
        for key, entry in catalogue().items()
        for lang, text in entry.items()
        if re.search(r"(?<!#)\{id\}", text)
    }
    assert not bare, bare


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, demo_seed: Path) -> Iterator[tuple[TestClient, Portal]]:
    app = demo_app(demo_seed, tmp_path_factory.mktemp("notes"), "notes-test-key")
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, app.state.portal
    app.state.engine.dispose()


def _inbox(client: TestClient, username: str, lang: str) -> str:
    client.cookies.clear()
    client.get(f"/lang/{lang}")
    login(client, username, DEMO_PASSWORD)
    html = client.get("/inbox").text
    return visible_text(html[html.index("<main") : html.index("</main>")])


@pytest.mark.slow
@pytest.mark.parametrize("username", ["zhitong", "bureau_reviewer"])
def test_the_inbox_reads_in_the_readers_language_with_date_and_case(
    demo: tuple[TestClient, Portal], username: str
) -> None:
    client, portal = demo
    reader = Reader.of(portal)
    english = _inbox(client, username, "en")
    assert "Inbox" in english and "Application #" in english
    assert re.search(r"[A-Z][a-z]+ \d{1,2}, \d{4}, \d{2}:\d{2}", english)
    assert not reader.problems(english, "en"), reader.problems(english, "en")
    chinese = _inbox(client, username, "zh")
    assert "申报 #" in chinese and re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}", chinese)
    assert len(CJK.findall(chinese)) > 10
    assert not reader.problems(chinese, "zh"), reader.problems(chinese, "zh")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("lang", "to_do", "done"), [("zh", "待办：", "无需再办："), ("en", "To do:", "No longer waiting:")]
)
def test_a_withdrawn_cases_work_items_no_longer_wait(
    demo: tuple[TestClient, Portal], lang: str, to_do: str, done: str
) -> None:
    """The demo's withdrawn case of Haizhu: its to-dos read as done, and nothing else of it waits."""
    client, portal = demo
    with portal.reading() as session:
        [withdrawn] = session.exec(
            select(col(Application.id)).where(
                col(Application.state) == "withdrawn", col(Application.district) == "haizhu"
            )
        ).all()
    client.cookies.clear()
    client.get(f"/lang/{lang}")
    login(client, "haizhu_reviewer", DEMO_PASSWORD)
    html = client.get("/inbox").text
    items = [visible_text(item) for item in html.split('<li class="note')[1:]]
    about = [item for item in items if f"#{withdrawn} " in f"{item} "]
    assert about and all(done in item and to_do not in item for item in about), about
    assert any(to_do in item for item in items)


@pytest.mark.slow
def test_each_e_mail_is_in_its_recipients_language(demo: tuple[TestClient, Portal]) -> None:
    """zhitong switches to English while signed in; everyone else keeps Chinese."""
    client, portal = demo
    client.cookies.clear()
    login(client, "zhitong", DEMO_PASSWORD)
    # A link (GET), as another site could plant, changes this browser only; the page's own switch
    # is a form with the CSRF token, and it makes English the account's language.
    client.get("/lang/en")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/inbox").text)
    assert token is not None
    switched = client.post(
        "/lang/en?next=/inbox", data={"csrf_token": token.group(1)}, follow_redirects=False
    )
    assert switched.status_code == 303
    assert client.post("/lang/en", follow_redirects=False).status_code == 403  # no token, no change
    client.cookies.clear()
    with portal.reading() as session:
        languages = {
            str(user.email): user.locale
            for user in session.exec(select(User).where(col(User.email).is_not(None))).all()
        }
        queued = session.exec(select(Notification).where(col(Notification.emailed_at).is_(None))).all()
    assert languages[next(e for e in languages if e.startswith("zhitong"))] == "en"
    assert len(queued) >= 10
    reader = Reader.of(portal)
    with running_sink() as (sink, port):
        mailing = replace(portal, smtp=SmtpConfig("127.0.0.1", port, "noreply@portal.test"))
        assert notifications.deliver_email(mailing, batch=len(queued)) == len(queued)
        mails = sink.parsed()
    read_in = {"en": 0, "zh": 0}
    for mail in mails:
        lang = "en" if languages.get(str(mail["To"]), "zh") == "en" else "zh"
        text = f"{mail['Subject']}\n{mail.get_content()}"
        read_in[lang] += 1
        assert not reader.problems(text, lang), (mail["To"], text, reader.problems(text, lang))
        assert "note." not in text
        if lang == "zh":
            assert CJK.search(str(mail["Subject"])), text
    assert read_in["en"] >= 3 and read_in["zh"] >= 3, read_in


def test_registration_keeps_the_language_it_was_made_in(client: TestClient, app: FastAPI) -> None:
    """The account reads its mail in the page's language; a second claimant's outcome mail too."""
    portal: Portal = app.state.portal
    client.get("/lang/en")
    username, code = register(client)
    client.cookies.clear()  # signed out, and a zh visitor: no lang cookie
    second = {
        "csrf_token": csrf_of(client, "/register"),
        "uscc": code,
        "name": "Second claimant Ltd",
        "district": "haizhu",
        "username": f"{username}x",
        "display_name": "Wang",
        "email": "wang@example.cn",
        "password": PASSWORD,
        "password2": PASSWORD,
    }
    assert client.post("/register", data=second, follow_redirects=False).status_code == 303
    with portal.reading() as session:
        first = session.exec(select(User).where(col(User.username) == username)).one()
        claimant = session.exec(select(User).where(col(User.username) == f"{username}x")).one()
        recorded = session.exec(
            select(Notification).where(col(Notification.email) == "wang@example.cn")
        ).one()
    assert (first.locale, claimant.locale, recorded.message, recorded.lang) == (
        "en",
        "zh",
        "note.claim_recorded",
        "zh",
    )


def test_a_link_changes_the_browser_not_the_account(client: TestClient, app: FastAPI) -> None:
    """GET /lang is a link any site may plant: it sets this browser's cookie, never the account."""
    client.get("/lang/zh")
    username, _ = register(client)  # made in zh, and signed in
    client.get("/lang/en")
    portal: Portal = app.state.portal
    with portal.reading() as session:
        stored = session.exec(select(User.locale).where(col(User.username) == username)).one()
    assert stored == "zh"


def test_a_new_browser_reads_the_portal_in_the_accounts_language(client: TestClient, app: FastAPI) -> None:
    client.get("/lang/en")
    username, _ = register(client)  # made in English
    client.cookies.clear()  # another device: no language cookie
    login(client, username)
    assert client.cookies.get("lang") == "en"
    assert "My applications" in client.get("/applications").text
