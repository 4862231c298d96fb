"""The supervision dashboard in Chromium on a generated year: zh/en at 1280 and 390 px.

Every section renders its SVG charts under the strict CSP (no script on the page), nothing
scrolls sideways on a phone, axe finds no serious violation, and a figure's link opens the
cases behind it. Screenshots go to artifacts/screenshots/supervision-*.png.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from playwright.sync_api import Browser, Page, expect

from portal.db import migrations
from portal.services.enterprises import create_staff_user
from portal.settings import Settings
from portal.web.app import create_app
from tests.browser.conftest import axe_violations, screenshot, serving
from tests.support.supervision_data import generate

PASSWORD = "Supervise-2026-gz!"


@pytest.fixture(scope="module")
def generated_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("supervision")
    url = f"sqlite:///{root / 'portal.db'}"
    migrations.upgrade(url)
    app = create_app(Settings(database_url=url, data_dir=root / "data", secret_key="supervision-browser"))
    portal = app.state.portal
    generate(replace(portal, clock=portal.clock.pinned_to(dt.date(2026, 11, 27))), 300)
    create_staff_user(portal, None, username="city_supervisor", password=PASSWORD, display_name="监管员",
                      role="supervisor")  # fmt: skip
    with serving(app) as base:
        yield base


def signed_in(browser: Browser, base: str, width: int) -> Page:
    page = browser.new_page(base_url=base, viewport={"width": width, "height": 900})
    page.goto("/login")
    page.fill("#field-username", "city_supervisor")
    page.fill("#field-password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/supervision")
    return page


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_dashboard_reads_at_both_widths_in_both_languages(
    browser: Browser, generated_server: str, lang: str, width: int
) -> None:
    page = signed_in(browser, generated_server, width)
    if lang == "en":
        page.goto("/lang/en?next=/supervision")
    page.goto("/supervision?from=2026-01-01&to=2026-11-27")
    expect(page.locator("svg.chart").first).to_be_visible()
    assert page.locator("script").count() == 0 or page.locator("script:not([src])").count() == 0
    assert page.locator("section.dashboard-section").count() == 6
    sizes = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert sizes[0] <= sizes[1], sizes
    # Every chart's words (its legend, labels and the bars' values: CNY 8,000,000.00) inside it.
    clipped = page.evaluate(
        """() => [...document.querySelectorAll("svg.chart")].flatMap(svg => [...svg.querySelectorAll("text")]
            .filter(text => { const box = text.getBBox();
                              return box.x + box.width > svg.viewBox.baseVal.width; })
            .map(text => svg.closest(".figure").id + " " + text.textContent))"""
    )
    assert clipped == [], clipped
    screenshot(page, f"supervision-{lang}-{width}")
    assert axe_violations(page) == []
    page.locator("#figure-received_by_measure tbody a").first.click()
    expect(page.locator("h1")).to_have_text(
        "The cases behind the figure" if lang == "en" else "数据对应的案件"
    )
    expect(page.locator("table.data-table tbody tr").first).to_be_visible()
    screenshot(page, f"supervision-cases-{lang}-{width}")


def test_the_money_csv_gives_every_amount_to_the_fen(browser: Browser, generated_server: str) -> None:
    """A month with approvals but no payment reads 0.00, as every other amount, never 0."""
    page = signed_in(browser, generated_server, 1280)
    answer = page.request.get("/supervision.csv?figure=money_by_month&from=2026-01-01&to=2026-11-27")
    assert answer.status == 200
    rows = list(csv.reader(io.StringIO(answer.text().lstrip("\ufeff"))))
    amounts = [cell for row in rows[1:] for cell in row[1:]]
    assert amounts and all(re.fullmatch(r"\d+\.\d\d", cell) for cell in amounts), amounts
