"""The forms work with the keyboard alone (issue 11 §6): Tab, typing and Enter, never the mouse.

Sign in, answer the self-check and save one step of an application by keyboard in Chromium;
the skip link is the first Tab stop, and every element the keyboard reaches shows where focus
is (an outline or a box-shadow). The enterprise and its draft are prepared over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect

from portal.db import migrations
from portal.settings import Settings
from portal.web.app import create_app
from tests.browser.conftest import serving
from tests.web.portal_helpers import PASSWORD, register, save_profile, start_application

# What the focused element shows: its id or name, and whether an outline or a shadow marks it.
FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const outlined = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  return {id: el.id, href: el.getAttribute("href") || "", cls: el.className || "", tag: el.tagName,
          marked: outlined || style.boxShadow !== "none"};
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    root = tmp_path_factory.mktemp("keyboard")
    url = f"sqlite:///{root / 'portal.db'}"
    migrations.upgrade(url)
    app = create_app(Settings(database_url=url, data_dir=root / "data", secret_key="keyboard-secret"))
    with TestClient(app), serving(app) as base:
        yield base, app


def tab_to(page: Page, target: str, key: str = "id", limit: int = 120) -> None:
    """Press Tab until the focused element's `key` is `target`; each stop on the way must show focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        assert focused["marked"], f"no visible focus on {focused}"
        if focused[key] == target:
            return
    pytest.fail(f"Tab never reached {key}={target}")


def test_sign_in_self_check_and_an_application_step_by_keyboard(
    server: tuple[str, FastAPI], browser: Browser
) -> None:
    base, app = server
    client = TestClient(app, raise_server_exceptions=False)
    username, _ = register(client)
    save_profile(client)
    application_id = start_application(client)

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "lang", "value": "zh", "url": base}])
    page = context.new_page()
    page.goto(f"{base}/login")
    page.keyboard.press("Tab")
    first = page.evaluate(FOCUSED)
    assert "skip-link" in first["cls"] and first["marked"], first  # the first stop skips the menus
    expect(page.locator(".skip-link")).to_be_in_viewport()

    tab_to(page, "field-username")
    page.keyboard.type(username)
    tab_to(page, "field-password")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{base}/applications", page.url

    page.goto(f"{base}/self-check")
    tab_to(page, "f-enterprise-employees")
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("abc")  # a mistake first: the summary must lead back to the field
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator('.alert-error a[href="#f-enterprise-employees"]')).to_be_visible()
    tab_to(page, "#f-enterprise-employees", key="href")  # the summary's link is a Tab stop of its own
    tab_to(page, "f-enterprise-employees")
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("120")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#results-title")).to_be_visible()

    page.goto(f"{base}/applications/{application_id}/edit")
    tab_to(page, "field-project_name")
    page.keyboard.type("城市视觉示范项目")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # the form's first button: save
    expect(page.locator("#field-project_name")).to_have_value("城市视觉示范项目")
    expect(page.locator("#task-status-project")).to_have_class("task-status task-status-started")
    context.close()


def test_escape_closes_the_more_menu_and_returns_to_its_button(
    server: tuple[str, FastAPI], browser: Browser
) -> None:
    base, app = server
    client = TestClient(app, raise_server_exceptions=False)
    username, _ = register(client)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#field-username", username)
    page.fill("#field-password", PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    more = page.locator(".nav-more details")
    tab_to(page, "nav-more-summary", key="cls")
    page.keyboard.press("Enter")
    expect(more).to_have_attribute("open", "")
    page.keyboard.press("Tab")  # into the list
    page.keyboard.press("Escape")
    expect(more).not_to_have_attribute("open", "")
    assert page.evaluate(FOCUSED)["cls"] == "nav-more-summary"
    page.keyboard.press("Enter")
    expect(more).to_have_attribute("open", "")
    page.mouse.click(10, 880)  # a click elsewhere on the page closes it too
    expect(more).not_to_have_attribute("open", "")
    context.close()
