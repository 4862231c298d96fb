"""One menu: the public links come in one order on every page, signed in or out (issue 11 §1)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from portal.demo.seed import DEMO_PASSWORD, demo_logins
from tests.support.page_checks import demo_app

PUBLIC = ["/", "/catalogue", "/self-check", "/procurement", "/notices"]
SIGNED_OUT = [*PUBLIC, "/login", "/register"]
PAGES = ["/", "/catalogue", "/self-check", "/procurement", "/notices", "/login", "/register"]
_NAV = re.compile(r'<nav class="site-nav".*?</nav>', re.S)
_HREF = re.compile(r'<a href="([^"]+)"')


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, demo_seed: Path) -> Iterator[FastAPI]:
    app = demo_app(demo_seed, tmp_path_factory.mktemp("menu"), "one-menu-test-key")
    with TestClient(app):
        yield app


def menu(client: TestClient, path: str) -> list[str]:
    page = client.get(path)
    assert page.status_code == 200, path
    nav = _NAV.search(page.text)
    assert nav is not None, path
    return _HREF.findall(nav.group(0))


def test_a_visitor_sees_the_same_menu_on_every_public_page(app: FastAPI) -> None:
    client = TestClient(app)
    for path in PAGES:
        assert menu(client, path) == SIGNED_OUT, path


@pytest.mark.parametrize("username", ["zhizao", "tianhe_reviewer", "supervisor", "admin"])
def test_a_signed_in_person_keeps_the_public_links_first(app: FastAPI, username: str) -> None:
    client = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    client.post(
        "/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token.group(1)}
    )
    menus = [
        menu(client, path)
        for path in ["/", "/catalogue", "/notices", "/inbox" if username != "supervisor" else "/supervision"]
    ]
    for links in menus:
        assert links[: len(PUBLIC)] == PUBLIC and "/login" not in links
    assert all(m[len(PUBLIC) :] == menus[1][len(PUBLIC) :] for m in menus[1:]), menus
    assert len(set(menus[1])) == len(menus[1])  # no link twice


def test_every_link_of_every_demo_login_s_menu_opens(app: FastAPI) -> None:
    """The menu offers only what its reader may open: a bureau's reviewer, whom the district pages
    (企业核验, 认领申请) refuse, is not offered them (the reviewer's run found two 403 links)."""
    offered: dict[str, list[str]] = {}
    for username, _ in demo_logins(app.state.portal):
        client = TestClient(app)
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert token is not None
        client.post(
            "/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token.group(1)}
        )
        offered[username] = menu(client, "/")[len(PUBLIC) :]
        for href in offered[username]:
            assert client.get(href).status_code == 200, (username, href)
    for bureau in ("bureau_reviewer", "hz_bureau_reviewer"):
        assert "/verifications" not in offered[bureau] and "/claims" not in offered[bureau]
    assert {"/verifications", "/claims"} <= set(offered["haizhu_reviewer"])


_MORE = re.compile(r'<li class="nav-more">.*?</details>\s*</li>', re.S)


@pytest.mark.parametrize(
    ("username", "under_more"),
    [
        ("zhizao", ["/consents", "/access-log", "/verification", "/claims", "/account/password"]),
        ("bureau_reviewer", ["/account/password"]),
        ("admin", ["/admin/banks", "/screening", "/payments", "/account/password"]),
    ],
)
def test_less_used_links_wait_under_more(app: FastAPI, username: str, under_more: list[str]) -> None:
    """An enterprise's and a bureau reviewer's menu keeps one row at 1,280 px (the browser sweep's
    screenshots): the pages they seldom open sit under 更多, in the menu's order; sign-out stays out."""
    client = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    client.post(
        "/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token.group(1)}
    )
    nav = _NAV.search(client.get("/").text)
    assert nav is not None
    more = _MORE.search(nav.group(0))
    assert more is not None and '<summary class="nav-more-summary">更多</summary>' in more.group(0)
    assert _HREF.findall(more.group(0)) == under_more
    assert 'action="/logout"' not in more.group(0)
