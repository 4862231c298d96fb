"""Two roles in Chromium: an expert who declares, reads the file, scores with comments and is
locked; and a member of the public who finds a case on /notices and lodges an objection.

The cases are prepared over HTTP with the web tests' helpers (an in-process client on the same
app and database); the roles under test then use the real browser against uvicorn.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect

from portal.db import migrations
from portal.services import notices
from portal.settings import Settings
from portal.web.app import create_app
from tests.browser.conftest import axe_violations, screenshot
from tests.web.portal_helpers import PASSWORD, PDF, client_of, register
from tests.web.review_helpers import assign, to_expert_review, to_public_notice


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    root = tmp_path_factory.mktemp("panel-notices")
    url = f"sqlite:///{root / 'portal.db'}"
    migrations.upgrade(url)
    app = create_app(
        Settings(
            database_url=url,
            data_dir=root / "data",
            secret_key="panel-notices-secret",
            # Every test signs in from one address; the per-address throttle has tests of its own.
            login_ip_rate_limit_per_minute=10_000,
        )
    )
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    port = uv.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", app
    uv.should_exit = True
    thread.join(timeout=10)


def test_an_expert_reads_the_file_and_scores_with_comments(
    server: tuple[str, FastAPI], browser: Browser
) -> None:
    base, app = server
    case = to_expert_review(app)
    name, _ = assign(case)
    page = browser.new_page()
    page.goto(f"{base}/login")
    page.fill("#field-username", name)
    page.fill("#field-password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.goto(f"{base}/expert/{case.application_id}")
    expect(page.locator("#declaration-title")).to_be_visible()
    page.check("#declare-confirm")
    page.get_by_role("button", name="签署声明").click()
    expect(page.get_by_role("heading", name="申报内容")).to_be_visible()
    expect(page.get_by_role("link", name="合同.pdf")).to_be_visible()
    for criterion in case.rubric.criteria:
        assert criterion.guidance is not None
        expect(page.get_by_text(criterion.guidance.zh)).to_be_visible()
        page.fill(f"#score-{criterion.id}", "84")
        page.fill(f"#comment-{criterion.id}", f"{criterion.label.zh}论证充分")
    page.fill("#score-technology", "150")
    page.get_by_role("button", name="提交评分").click()
    expect(page.locator("#score-technology-error")).to_have_text("分数须在 0 至 100 之间。")
    assert axe_violations(page) == []
    screenshot(page, "panel-01-expert-error")
    page.fill("#score-technology", "90")
    page.get_by_role("button", name="提交评分").click()
    expect(page.get_by_text("评分已提交并锁定，不可修改。")).to_be_visible()
    expect(page.locator("input[name='score:technology']")).to_have_count(0)
    screenshot(page, "panel-02-expert-locked")


def test_a_member_of_the_public_objects_on_notices(
    server: tuple[str, FastAPI], browser: Browser, tmp_path: Path
) -> None:
    base, app = server
    case = to_public_notice(app, name="广州浏览器公示科技有限公司")
    evidence = tmp_path / "证据.pdf"
    evidence.write_bytes(PDF)
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{base}/")
    page.get_by_text("菜单").click()  # on a phone the menu is folded
    page.get_by_role("link", name="公示公告").click()
    page.fill("#notice-q", "浏览器公示")
    page.get_by_role("button", name="搜索").click()
    card = page.locator(".notice-card").filter(has_text="广州浏览器公示科技有限公司")
    expect(card).to_have_count(1)
    assert axe_violations(page) == []
    card.get_by_role("link", name="提出异议").click()
    page.get_by_role("button", name="提交异议").click()
    expect(page.locator("#objection-name-error")).to_have_text("此项为必填项。")
    page.fill("#objection-name", "市民刘先生")
    page.fill("#objection-contact", "020-88886666")
    page.fill("#objection-email", "liu@example.test")
    page.fill("#objection-reasons", "该项目的验收报告日期与实际不符。")
    page.set_input_files("#objection-file", str(evidence))
    assert axe_violations(page) == []
    screenshot(page, "panel-03-objection-form")
    page.get_by_role("button", name="提交异议").click()
    expect(page.get_by_text("异议已提交")).to_be_visible()
    [objection] = notices.objections_of(case.portal, case.bureau_actor, case.application_id)
    assert objection.objector_name == "市民刘先生" and objection.attachment_name == "证据.pdf"
    assert objection.sustained is None


def _sign_in(browser: Browser, base: str, name: str, width: int, height: int) -> Page:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{base}/login")
    page.fill("#field-username", name)
    page.fill("#field-password", PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    return page


def _focused(page: Page) -> str:
    return str(page.evaluate("document.activeElement.id"))


def test_a_refused_form_opens_at_its_summary_and_a_taken_one_at_its_confirmation(
    server: tuple[str, FastAPI], browser: Browser
) -> None:
    """The long expert and case pages: the error summary is in view and focused; a sheet that goes
    in is answered by a GET page (a refresh sends nothing) with the confirmation in view."""
    base, app = server
    case = to_expert_review(app)
    name, _ = assign(case)
    page = _sign_in(browser, base, name, 1280, 900)
    page.goto(f"{base}/expert/{case.application_id}")
    page.check("#declare-confirm")
    page.get_by_role("button", name="签署声明").click()
    typed = dict(zip((c.id for c in case.rubric.criteria), ("120", "abc", "", "-3"), strict=False))
    for criterion in case.rubric.criteria:
        page.fill(f"#score-{criterion.id}", typed.get(criterion.id, "80"))
    page.get_by_role("button", name="提交评分").click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("表单有")
    expect(summary).to_be_in_viewport()
    assert _focused(page) == "error-summary"
    for criterion_id, value in typed.items():
        expect(page.locator(f"#score-{criterion_id}")).to_have_value(value)  # what was typed stays
    screenshot(page, "errors-01-expert-summary")

    for criterion in case.rubric.criteria:
        page.fill(f"#score-{criterion.id}", "80")
    page.get_by_role("button", name="提交评分").click()
    page.wait_for_url(f"{base}/expert/{case.application_id}")
    expect(page.get_by_text("评分已提交。")).to_be_in_viewport()
    screenshot(page, "errors-02-expert-scored")

    bureau = _sign_in(browser, base, case.bureau_name, 1280, 900)
    bureau.goto(f"{base}/review/{case.application_id}")
    bureau.fill("#granted_amount", "abc")
    bureau.locator("#grant button[type=submit]").click()
    expect(bureau.locator("#error-summary")).to_be_in_viewport()
    assert _focused(bureau) == "error-summary"
    expect(bureau.locator("#granted_amount")).to_have_value("abc")
    screenshot(bureau, "errors-03-grant-summary")


def test_a_phone_gets_a_folded_menu_and_the_panel_as_cards(
    server: tuple[str, FastAPI], browser: Browser
) -> None:
    """At 390 px the menu is one "菜单" line that opens to the links, and the expert panel's table
    stacks into labelled lines instead of running off the screen."""
    base, app = server
    case = to_expert_review(app)
    name, _ = assign(case)
    expert = _sign_in(browser, base, name, 390, 844)
    expert.goto(f"{base}/expert/{case.application_id}")
    expert.check("#declare-confirm")
    expert.get_by_role("button", name="签署声明").click()
    expert.close()

    user, _ = register(client_of(app))
    enterprise = _sign_in(browser, base, user, 390, 844)
    menu = enterprise.locator("nav.site-nav")
    assert menu.bounding_box()["height"] < 60  # type: ignore[index]
    expect(enterprise.get_by_role("link", name="我的申报")).to_be_hidden()
    enterprise.get_by_text("菜单").click()
    expect(enterprise.get_by_role("link", name="我的申报")).to_be_visible()
    screenshot(enterprise, "phone-01-menu-open")

    bureau = _sign_in(browser, base, case.bureau_name, 390, 844)
    bureau.goto(f"{base}/review/{case.application_id}")
    table = bureau.locator("#panel table")
    expect(table).to_be_visible()
    assert bureau.evaluate("document.documentElement.scrollWidth") <= 390
    assert table.evaluate("t => t.scrollWidth <= t.clientWidth && t.getBoundingClientRect().right <= 390")
    cell = table.locator("td[data-label]").first
    assert cell.bounding_box()["height"] < 80  # type: ignore[index]  # not one character a line
    table.scroll_into_view_if_needed()
    screenshot(bureau, "phone-02-panel-cards")

    wide = _sign_in(browser, base, case.bureau_name, 1280, 900)
    wide.goto(f"{base}/review/{case.application_id}")
    expect(wide.get_by_text("菜单")).to_be_hidden()
    expect(wide.get_by_role("link", name="审核工作台")).to_be_visible()
