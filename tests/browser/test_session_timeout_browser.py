"""The inactivity warning in Chromium: it appears before the session ends, "stay" keeps it.

The browser's clock is driven by Playwright (no waiting); the server's session is real.
"""

import re

from playwright.sync_api import Page, expect
from stdnum.cn import uscc

from tests.browser.conftest import axe_violations, screenshot

PASSWORD = "quiet lantern over harbour"


def _register(page: Page) -> None:
    body = "91440106MA0007301"
    code = body + str(uscc.calc_check_digit(body))
    page.goto("/register")
    page.fill("#field-uscc", code)
    page.fill("#field-name", "广州超时测试科技有限公司")
    page.select_option("#field-district", index=1)
    page.fill("#field-username", "timeout_clerk")
    page.fill("#field-display_name", "超时测试")
    page.fill("#field-email", "timeout@example.cn")
    page.fill("#field-password", PASSWORD)
    page.fill("#field-password2", PASSWORD)
    page.click("form.narrow-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/register/done$"))
    page.goto("/login")
    page.fill("#field-username", "timeout_clerk")
    page.fill("#field-password", PASSWORD)
    page.click("main form button[type=submit]")
    expect(page).not_to_have_url(re.compile(r"/login"))


def test_a_warning_before_the_idle_timeout_and_a_way_to_stay(page: Page) -> None:
    page.clock.install()
    _register(page)
    page.goto("/account/password")
    warning = page.locator("#session-timeout")
    expect(warning).to_be_hidden()

    page.clock.fast_forward("28:30")  # 30 minutes idle by default; the warning comes 2 minutes before
    expect(warning).to_be_visible()
    expect(warning.locator("[data-when=warning]")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "session-timeout-warning-zh")

    with page.expect_response(lambda r: r.url.endswith("/api/v1/session")) as kept:
        warning.locator("[data-action=stay]").click()
    assert kept.value.status == 200
    expect(warning).to_be_hidden()

    page.clock.fast_forward("31:00")
    expect(warning.locator("[data-when=expired]")).to_be_visible()
    expect(warning.locator("[data-action=stay]")).to_be_hidden()
