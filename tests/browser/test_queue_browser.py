"""The review queue in Chromium on the demo data: search, sort, a bulk accept, zh/en at 1280 and 390 px.

At 390 px every row is a card (`.stack-table`) and nothing scrolls sideways.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from portal.demo.seed import DEMO_PASSWORD
from tests.browser.conftest import axe_violations, screenshot, serving
from tests.support.page_checks import demo_app


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory, demo_seed: Path) -> Iterator[str]:
    app = demo_app(demo_seed, tmp_path_factory.mktemp("queue"), "queue-browser-secret")
    with serving(app) as base:
        yield base
    app.state.engine.dispose()


def signed_in(browser: Browser, base: str, username: str, width: int) -> Page:
    page = browser.new_page(base_url=base, viewport={"width": width, "height": 900})
    page.goto("/login")
    page.fill("#field-username", username)
    page.fill("#field-password", DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/*")
    return page


# The text of each short-word cell (`.short`) that runs over more than one line: each text
# node's line boxes, counted by their distinct tops.
LINES_OF_SHORT_CELLS = """() => [...document.querySelectorAll('.data-table .short')].filter(cell => {
  const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
    if (tops.size > 1) return true;
  }
  return false;
}).map(cell => cell.textContent.trim())"""


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert width[0] <= width[1], width


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_queue_reads_at_both_widths_in_both_languages(
    browser: Browser, demo_server: str, lang: str, width: int
) -> None:
    page = signed_in(browser, demo_server, "tianhe_head", width)
    if lang == "en":
        page.goto("/lang/en?next=/review")
    page.goto("/review?sort=submitted&dir=desc")
    expect(page.locator("table.queue tbody tr").first).to_be_visible()
    assert page.locator("#filter-district").count() == 0  # Tianhe's cases only: nothing to choose
    no_sideways_scroll(page)
    screenshot(page, f"queue-{lang}-{width}")
    assert axe_violations(page) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_short_words_in_tables_stay_whole(browser: Browser, demo_server: str, lang: str) -> None:
    """编号, 海珠区, 未认领, 系统管理员: a squeezed column broke them mid-word at 1,280 px (编/号,
    海珠/区, 未认/领 in a user trial), beside long names and titles that may wrap instead."""
    for username, path in (("haizhu_reviewer", "/review"), ("admin", "/admin/users")):
        page = signed_in(browser, demo_server, username, 1280)
        if lang == "en":
            page.goto(f"/lang/en?next={path}")
        page.goto(path)
        assert page.locator(".data-table .short").count() > 0
        assert page.evaluate(LINES_OF_SHORT_CELLS) == [], (username, lang)
        page.close()


def test_a_bulk_accept_confirms_then_reports(browser: Browser, demo_server: str) -> None:
    page = signed_in(browser, demo_server, "tianhe_reviewer", 1280)
    page.goto("/review?state=submitted&holder=none")
    boxes = page.locator("input[name=case]")
    expect(boxes.first).to_be_visible()
    boxes.first.check()
    page.locator(".bulk-bar button").click()
    expect(page.locator("form[action='/review/bulk/run']")).to_be_visible()
    screenshot(page, "queue-bulk-confirm-zh-1280")
    page.locator("form[action='/review/bulk/run'] button").click()
    expect(page.locator("[role=status]")).to_contain_text("已办理 1 件，共 1 件")
    screenshot(page, "queue-bulk-result-zh-1280")
    phone = signed_in(browser, demo_server, "tianhe_head", 390)
    phone.goto("/review/team/move")
    no_sideways_scroll(phone)
    screenshot(phone, "queue-team-zh-390")


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_enterprise_file_reads_at_both_widths(
    browser: Browser, demo_server: str, lang: str, width: int
) -> None:
    page = signed_in(browser, demo_server, "tianhe_reviewer", width)
    if lang == "en":
        page.goto("/lang/en?next=/review")
    page.goto("/review?sort=submitted")
    page.locator("table.queue tbody tr a").first.click()
    page.locator("a[href^='/enterprises/']").click()
    expect(page.locator("h1")).to_be_visible()
    no_sideways_scroll(page)
    screenshot(page, f"enterprise-file-{lang}-{width}")
    assert axe_violations(page) == []
