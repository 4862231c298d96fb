"""The policy catalogue and the pages people read most, in Chromium on the demo data (issue 11 §1, §6):
/catalogue, a measure page, the one-measure self-check, the inbox and the admin's user table, in zh
and en at 1280 and 390 px. Nothing scrolls sideways and axe finds nothing serious. Screenshots go
to artifacts/screenshots/catalogue/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, BrowserContext, Page

from portal.demo.seed import DEMO_PASSWORD
from tests.browser.conftest import SCREENSHOTS, axe_violations, screenshot, serving
from tests.support.page_checks import demo_app

WIDTHS = (1280, 390)
MEASURE = "subsidy.algorithm_filing"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_seed: Path) -> Iterator[tuple[str, FastAPI]]:
    app = demo_app(demo_seed, tmp_path_factory.mktemp("catalogue"), "catalogue-browser-secret")
    with TestClient(app), serving(app) as base:
        yield base, app


def visit(browser: Browser, base: str, lang: str, username: str | None) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "lang", "value": lang, "url": base}])
    page = context.new_page()
    if username is not None:
        page.goto(f"{base}/login")
        page.fill("#field-username", username)
        page.fill("#field-password", DEMO_PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
    return context, page


def shoot(page: Page, name: str, lang: str) -> None:
    """At each width: no sideways scroll, a screenshot; then axe at desktop width."""
    (SCREENSHOTS / "catalogue").mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, (name, lang, width, wide)
        screenshot(page, f"catalogue/{name}-{lang}-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert axe_violations(page) == [], page.url


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_public_catalogue_measure_page_and_one_measure_check(
    browser: Browser, server: tuple[str, FastAPI], lang: str
) -> None:
    base, _ = server
    context, page = visit(browser, base, lang, None)
    page.goto(f"{base}/catalogue")
    shoot(page, "catalogue", lang)
    page.locator(f'a[href="/catalogue/{MEASURE}"]').first.click()
    page.wait_for_url(f"**/catalogue/{MEASURE}")
    shoot(page, "measure", lang)
    page.locator(f'a[href="/self-check?measure={MEASURE}"]').click()
    page.wait_for_load_state()
    shoot(page, "self-check-measure", lang)
    page.select_option("#f-enterprise-district", "haizhu")
    page.select_option("#f-enterprise-algorithm_filed", "true")
    page.locator("#check-form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".badge").count() == 1
    shoot(page, "self-check-measure-result", lang)
    page.goto(f"{base}/self-check")
    shoot(page, "self-check", lang)
    # Every measure answered, with every criterion list open: the longest the page gets.
    page.select_option("#f-enterprise-district", "tianhe")
    page.fill("#f-enterprise-revenue", "40000000")
    page.fill("#f-enterprise-employees", "120")
    page.locator("#check-form button[type=submit]").click()
    page.wait_for_load_state()
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    shoot(page, "self-check-results", lang)
    context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_signed_in_pages(browser: Browser, server: tuple[str, FastAPI], lang: str) -> None:
    base, _ = server
    for username, pages in (
        (
            "zhitong",
            [
                ("catalogue-enterprise", "/catalogue"),
                ("measure-enterprise", f"/catalogue/{MEASURE}"),
                ("inbox-enterprise", "/inbox"),
                ("access-log", "/access-log"),
            ],
        ),
        ("haizhu_reviewer", [("inbox-reviewer", "/inbox")]),
        ("admin", [("admin-users", "/admin/users")]),
    ):
        context, page = visit(browser, base, lang, username)
        for name, path in pages:
            page.goto(f"{base}{path}")
            shoot(page, name, lang)
        context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_menu_keeps_one_row_at_1280_and_folds_on_a_phone(
    browser: Browser, server: tuple[str, FastAPI], lang: str
) -> None:
    """Every staff role's and an enterprise's menu on one row at 1,280 px and at 1,024 (a district
    reviewer's wrapped there in English), the seldom-opened pages under 更多 (a district reviewer's
    and an administrator's wrapped in English); under 40rem all of it folds under 菜单."""
    base, _ = server
    rows = "new Set([...document.querySelectorAll('.site-nav ul.wrap > li')].map(li => li.offsetTop)).size"
    for username in ("zhitong", "bureau_reviewer", "haizhu_reviewer", "expert_li", "supervisor", "admin"):
        context, page = visit(browser, base, lang, username)
        page.goto(f"{base}/")
        assert page.evaluate(rows) == 1, (username, lang)
        page.set_viewport_size({"width": 1024, "height": 900})
        assert page.evaluate(rows) == 1, (username, lang, 1024)
        page.set_viewport_size({"width": 390, "height": 900})
        assert page.locator(".nav-menu > summary").is_visible()
        assert not page.locator(".site-nav ul.wrap").is_visible()
        context.close()
