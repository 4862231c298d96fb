"""The application's last steps in Chromium: task list, check your answers, submit, confirmation,
and the page that asks before withdrawing or rejecting; zh and en, at 1280 and 390 px.

The enterprise and its draft are prepared over HTTP with the web tests' helpers on the same app;
the browser then does what a person does. Screenshots go to artifacts/screenshots/apply/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, BrowserContext, Page, expect

from portal.db import migrations
from portal.settings import Settings
from portal.web.app import create_app
from tests.browser.conftest import SCREENSHOTS, axe_violations, screenshot, serving
from tests.web.portal_helpers import (
    PASSWORD,
    PDF,
    edit_target,
    enterprise_with_case,
    fire,
    login,
    register,
    save_profile,
    scenario_answers,
    staff,
    start_application,
    xlsx_bytes,
)

WIDTHS = (1280, 390)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    root = tmp_path_factory.mktemp("apply-steps")
    url = f"sqlite:///{root / 'portal.db'}"
    migrations.upgrade(url)
    app = create_app(Settings(database_url=url, data_dir=root / "data", secret_key="apply-steps-secret"))
    with TestClient(app), serving(app) as base:
        yield base, app


def signed_in(browser: Browser, base: str, username: str, lang: str) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "lang", "value": lang, "url": base}])
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#field-username", username)
    page.fill("#field-password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    return context, page


def shoot(page: Page, name: str, lang: str) -> None:
    """The page as it is, at each width; it must not scroll sideways and axe must find nothing serious."""
    (SCREENSHOTS / "apply").mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), (name, width)
        screenshot(page, f"apply/{name}-{lang}-{width}")
    assert axe_violations(page) == [], page.url
    page.set_viewport_size({"width": 1280, "height": 900})


def draft(app: FastAPI) -> tuple[str, int, str]:
    """An enterprise with the applicant section of a draft saved; its username, case id and USCC."""
    client = TestClient(app, raise_server_exceptions=False)
    username, code = register(client)
    save_profile(client)
    application_id = start_application(client)
    action, token = edit_target(client, application_id)
    answers = scenario_answers(code)
    applicant = {k: answers[k] for k in ("enterprise_name", "uscc", "contact_person", "contact_phone")}
    client.post(
        action, data={**applicant, "requested_amount": "3000000", "csrf_token": token, "action": "save"}
    )
    return username, application_id, code


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_task_list_check_answers_submit_confirmation_withdraw(
    server: tuple[str, FastAPI], browser: Browser, tmp_path: Path, lang: str
) -> None:
    base, app = server
    username, application_id, code = draft(app)
    context, page = signed_in(browser, base, username, lang)
    page.goto(f"{base}/applications/{application_id}/edit")
    statuses = page.locator(".task-status")
    expect(statuses).to_have_count(3)
    expect(page.locator("#task-status-applicant")).to_have_class("task-status task-status-done")
    expect(page.locator("#task-status-project")).to_have_class("task-status task-status-todo")
    expect(page.locator("#task-status-budget")).to_have_class("task-status task-status-started")
    shoot(page, "1-task-list", lang)

    answers = scenario_answers(code)
    for name in ("project_name", "start_on", "end_on", "investment", "summary"):
        page.fill(f"#field-{name}", answers[name])
    page.locator(f'input[name="track"][value="{answers["track"]}"]').check()
    (tmp_path / "合同.pdf").write_bytes(PDF)
    (tmp_path / "budget.xlsx").write_bytes(xlsx_bytes())
    page.set_input_files("#attachment-investment_evidence", str(tmp_path / "合同.pdf"))
    page.set_input_files("#attachment-budget_sheet", str(tmp_path / "budget.xlsx"))
    page.locator('button[name="action"][value="check"]').click()
    page.wait_for_url(f"{base}/applications/{application_id}/check")
    expect(page.locator("main")).to_contain_text("合同.pdf")
    expect(page.locator(".check-change")).to_have_count(3)
    shoot(page, "2-check-answers", lang)

    page.locator(f'form[action="/applications/{application_id}/submit"] button[type=submit]').click()
    page.wait_for_url(f"{base}/applications/{application_id}/submitted")
    expect(page.locator(".flash")).to_be_visible()
    expect(page.locator(".confirmation-reference")).to_contain_text(str(application_id))
    shoot(page, "3-confirmation", lang)

    page.goto(f"{base}/applications/{application_id}")
    page.locator(f'form[action="/applications/{application_id}/withdraw"] button').click()
    expect(page.locator("main .alert-warning")).to_be_visible()  # asked, nothing done yet
    shoot(page, "4-withdraw-confirm", lang)
    page.locator("main form button.button-danger").click()
    page.wait_for_url(f"{base}/applications/{application_id}")
    expect(page.locator(".flash")).to_be_visible()
    expect(page.locator(".stage")).to_have_class("stage stage-bad")
    shoot(page, "5-withdrawn", lang)
    context.close()


def test_the_end_date_picker_follows_the_start_being_typed(
    server: tuple[str, FastAPI], browser: Browser
) -> None:
    """`end_on` is `not_before: {field: start_on}`: the page drew `min` from the saved start, and
    /static/js/date-bounds.js moves it as the start changes, before anything is saved."""
    base, app = server
    username, application_id, _ = draft(app)
    context, page = signed_in(browser, base, username, "zh")
    page.goto(f"{base}/applications/{application_id}/edit")
    end = page.locator("#field-end_on")
    assert end.get_attribute("min") is None  # no start yet, no bound
    page.fill("#field-start_on", "2025-03-01")
    expect(end).to_have_attribute("min", "2025-03-01")
    page.fill("#field-start_on", "2025-06-15")
    expect(end).to_have_attribute("min", "2025-06-15")
    expect(end).to_have_attribute("max", "2026-11-27")  # its own bound, today, stays
    page.fill("#field-start_on", "")
    page.wait_for_function("!document.getElementById('field-end_on').hasAttribute('min')")
    context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_reject_asks_on_its_own_page(server: tuple[str, FastAPI], browser: Browser, lang: str) -> None:
    base, app = server
    _, application_id = enterprise_with_case(app)
    username = staff(app.state.portal, "reviewer", district="haizhu")
    reviewer = TestClient(app, raise_server_exceptions=False)
    login(reviewer, username)
    assert fire(reviewer, application_id, "accept") == 303
    context, page = signed_in(browser, base, username, lang)
    page.goto(f"{base}/review/{application_id}")
    form = page.locator("form.action-form").filter(has=page.locator('input[name="event"][value="reject"]'))
    form.locator("textarea").fill("申报材料与实际投资不符，经核查不予通过。")
    form.locator("button").click()
    expect(page.locator(".confirm-comment")).to_contain_text("经核查不予通过")
    shoot(page, "6-reject-confirm", lang)
    page.locator(".form-actions a.button").click()  # go back: the comment waits in its box
    expect(form.locator("textarea")).to_have_value("申报材料与实际投资不符，经核查不予通过。")
    context.close()
