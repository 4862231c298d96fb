"""One application's whole life in a real browser (Debian Chromium through Playwright).

An enterprise registers, fills its profile, sees the badges, applies with uploads and submits;
a district reviewer returns it for amendment; the enterprise amends; the review goes through
the bureau and the expert panel to public notice, and the SLA sweep (with the clock moved past
the seven-day notice) approves it. Screenshots of the key pages go to artifacts/screenshots/;
axe-core checks the main pages for serious and critical violations.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect

from portal.db import migrations
from portal.db.tables import Application
from portal.services import experts
from portal.services.enterprises import actor_for_username, create_staff_user
from portal.services.sla import sweep
from portal.settings import Settings
from portal.web.app import create_app
from tests.browser.conftest import axe_violations, screenshot
from tests.support.rubrics import case_rubric
from tests.support.workflow_paths import find_path, is_unfavourable, kind
from tests.web.portal_helpers import PDF, new_uscc, xlsx_bytes

PASSWORD = "journey-password-1"
STAFF = {
    "hz_district": {"role": "reviewer", "district": "haizhu"},
    "hz_bureau": {"role": "reviewer", "bureau": "hzkgxj"},
    "expert_a": {"role": "expert"},
    "expert_b": {"role": "expert"},
    "expert_c": {"role": "expert"},
}


@pytest.fixture(scope="module")
def portal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    """The real app on a migrated SQLite file, served by uvicorn on a free loopback port."""
    root = tmp_path_factory.mktemp("journey")
    url = f"sqlite:///{root / 'portal.db'}"
    migrations.upgrade(url)
    app = create_app(Settings(database_url=url, data_dir=root / "data", secret_key="journey-secret"))
    for username, fields in STAFF.items():
        create_staff_user(
            app.state.portal, None, username=username, password=PASSWORD, display_name=username, **fields
        )
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", app
    server.should_exit = True
    thread.join(timeout=10)


def sign_in(page: Page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.fill("#field-username", username)
    page.fill("#field-password", password)
    page.get_by_role("button", name="登录").click()


def act(page: Page, event: str, comment: str = "") -> None:
    form = page.locator("form.action-form").filter(has=page.locator(f'input[name="event"][value="{event}"]'))
    if comment:
        form.locator("textarea").fill(comment)
    form.locator("button").click()


def assert_accessible(page: Page) -> None:
    assert axe_violations(page) == [], page.url


def verify_by_papers(clerk: Page, base: str, browser: Browser, tmp_path: Path) -> None:
    """The new enterprise is told it is unverified, sends its papers, and its district verifies it."""
    expect(clerk.locator("main .alert-warning").first).to_contain_text("企业身份尚未核验")
    clerk.goto(f"{base}/verification")
    assert_accessible(clerk)
    (tmp_path / "营业执照.pdf").write_bytes(PDF)
    (tmp_path / "授权书.pdf").write_bytes(PDF)
    clerk.set_input_files("#field-licence", str(tmp_path / "营业执照.pdf"))
    clerk.set_input_files("#field-authorisation", str(tmp_path / "授权书.pdf"))
    screenshot(clerk, "journey-01b-verification")
    clerk.get_by_role("button", name="提交核验").click()
    expect(clerk.locator("main")).to_contain_text("等待所在区审核人员核验")
    checker = browser.new_page()
    sign_in(checker, base, "hz_district")
    checker.goto(f"{base}/verifications")
    assert_accessible(checker)
    checker.get_by_role("link", name="广州旅程智能科技有限公司").click()
    assert_accessible(checker)
    screenshot(checker, "journey-01c-verification-check")
    checker.get_by_role("button", name="核验通过").click()
    expect(checker.locator("main")).to_contain_text("已核验")
    checker.close()
    clerk.goto(f"{base}/verification")
    expect(clerk.locator("main")).to_contain_text("企业身份已核验")


def test_enterprise_applies_and_the_case_is_reviewed_to_approval(
    portal_server: tuple[str, FastAPI], browser: Browser, tmp_path: Path
) -> None:
    base, app = portal_server
    portal = app.state.portal
    code = new_uscc("440105")
    (tmp_path / "合同.pdf").write_bytes(PDF)
    (tmp_path / "明细.xlsx").write_bytes(xlsx_bytes())

    clerk = browser.new_page()
    clerk.goto(f"{base}/register")
    assert_accessible(clerk)
    clerk.fill("#field-uscc", code)
    clerk.fill("#field-name", "广州旅程智能科技有限公司")
    clerk.select_option("#field-district", "haizhu")
    clerk.select_option("#field-ai_track", "cheng")
    clerk.fill("#field-username", "journey_clerk")
    clerk.fill("#field-display_name", "王会计")
    clerk.fill("#field-email", "clerk@example.cn")
    clerk.fill("#field-password", PASSWORD)
    clerk.fill("#field-password2", PASSWORD)
    screenshot(clerk, "journey-01-register")
    clerk.get_by_role("button", name="注册").click()
    expect(clerk.locator("h1")).to_have_text("注册申请已记录")
    sign_in(clerk, base, "journey_clerk")
    verify_by_papers(clerk, base, browser, tmp_path)
    clerk.goto(f"{base}/profile")

    expect(clerk.locator("h1")).to_have_text("企业信息")
    for fact, value in {
        "enterprise-ai_rd_expense": "9600000",
        "enterprise-ai_revenue": "88000000",
        "enterprise-certified_ai_staff": "24",
        "enterprise-employees": "180",
        "project-investment": "12000000",
    }.items():
        clerk.fill(f"#f-{fact}", value)
    clerk.select_option("#f-project-scenario_in_guangzhou", "true")
    clerk.select_option("#f-project-completed", "true")
    clerk.get_by_role("button", name="保存企业信息").click()
    expect(clerk.locator(".alert-success")).to_contain_text("第 1 版")
    assert_accessible(clerk)
    screenshot(clerk, "journey-02-profile")

    clerk.goto(f"{base}/catalogue")
    scenario = clerk.locator("li.result").filter(has_text="人工智能典型场景应用示范项目资助")
    expect(scenario.locator(".badge")).to_have_text("可申报")
    expect(clerk.locator(".badge-undetermined").first).to_have_text("需补充信息")
    assert_accessible(clerk)
    screenshot(clerk, "journey-03-catalogue")
    scenario.get_by_role("button", name="在线申报").click()

    expect(clerk.locator("#field-uscc")).to_have_value(code)  # prefilled from the profile
    clerk.fill("#field-contact_person", "王会计")
    clerk.fill("#field-contact_phone", "13800138000")
    clerk.fill("#field-project_name", "智慧城市视觉示范项目")
    clerk.fill("#field-start_on", "2025-03-01")
    clerk.fill("#field-end_on", "2026-02-28")
    clerk.fill("#field-requested_amount", "3000000")
    clerk.fill(
        "#field-summary",
        "本项目在海珠区落地城市视觉应用场景，覆盖数据采集、模型训练与部署运维，示范效果良好。" * 2,
    )
    clerk.set_input_files("#attachment-investment_evidence", str(tmp_path / "合同.pdf"))
    clerk.set_input_files("#attachment-budget_sheet", str(tmp_path / "明细.xlsx"))
    assert_accessible(clerk)
    screenshot(clerk, "journey-04-form")
    clerk.get_by_role("button", name="保存并检查填写内容").click()
    expect(clerk.locator("h1")).to_have_text("检查填写内容")
    expect(clerk.locator("main")).to_contain_text("明细.xlsx")
    assert_accessible(clerk)
    screenshot(clerk, "journey-05-check-answers")
    clerk.get_by_role("button", name="确认提交").click()
    expect(clerk.locator("h1")).to_have_text("申报已提交")
    expect(clerk.locator(".flash")).to_be_visible()
    expect(clerk.locator(".stage")).to_have_text("已提交待受理")
    application_id = int(re.search(r"/applications/(\d+)", clerk.url).group(1))  # type: ignore[union-attr]
    assert_accessible(clerk)
    screenshot(clerk, "journey-05-submitted")

    reviewer = browser.new_page()
    sign_in(reviewer, base, "hz_district")
    expect(reviewer.locator("table.queue")).to_contain_text("广州旅程智能科技有限公司")
    assert_accessible(reviewer)
    screenshot(reviewer, "journey-06-queue")
    reviewer.goto(f"{base}/review/{application_id}")
    act(reviewer, "accept")
    form = reviewer.locator("form.action-form").filter(
        has=reviewer.locator('input[value="return_for_amendment"]')
    )
    form.locator('input[name="sections"][value="budget"]').check()
    act(reviewer, "return_for_amendment", "请将申请金额调整为不超过项目总投资的 25%。")
    expect(reviewer.locator(".stage")).to_have_text("退回补正")
    assert_accessible(reviewer)
    screenshot(reviewer, "journey-07-case-returned")

    clerk.goto(f"{base}/applications/{application_id}")
    expect(clerk.locator("#reasons-title")).to_be_visible()
    clerk.get_by_role("link", name="补正材料").click()
    expect(clerk.locator("#field-contact_person")).to_be_disabled()
    expect(clerk.locator("#field-requested_amount")).to_be_enabled()
    expect(clerk.locator("#section-budget .reviewer-comment")).to_contain_text("25%")
    clerk.fill("#field-requested_amount", "2800000")
    screenshot(clerk, "journey-08-amend")
    clerk.get_by_role("button", name="保存并检查填写内容").click()
    clerk.get_by_role("button", name="补正后重新提交").click()
    expect(clerk.locator(".stage")).to_have_text("区级初审")

    reviewer.goto(f"{base}/review/{application_id}")
    expect(reviewer.locator("tr.changed").first).to_be_visible()  # the amended answer, flagged
    bureau = browser.new_page()
    sign_in(bureau, base, "hz_bureau")
    # The reviewers pass the case on to the panel by the workflow's favourable path.
    pages = {"district": reviewer, "bureau": bureau}
    workflow = portal.workflows["municipal"]
    amended = _state(app, application_id)
    for step in find_path(workflow, amended, kind("expert"), avoid=lambda e: is_unfavourable(workflow, e)):
        pages[step.party].goto(f"{base}/review/{application_id}")
        act(pages[step.party], step.event, "补正后符合要求。")
    bureau.goto(f"{base}/review/{application_id}")
    for name in ("expert_a", "expert_b", "expert_c"):
        bureau.select_option("#assign-expert", label=name)
        bureau.locator("form").filter(has=bureau.locator("#assign-expert")).get_by_role("button").click()

    panelist = browser.new_page()
    sign_in(panelist, base, "expert_a")
    panelist.goto(f"{base}/expert/{application_id}")
    panelist.check("#declare-confirm")
    panelist.get_by_role("button", name="签署声明").click()
    for criterion in case_rubric(portal, application_id).criteria:
        panelist.fill(f"#score-{criterion.id}", "86")
    assert_accessible(panelist)
    screenshot(panelist, "journey-09-expert-scoring")
    panelist.get_by_role("button", name="提交评分").click()
    expect(panelist.locator(".alert-success")).to_be_visible()
    # The other two panellists score through the same service the page calls.
    for name in ("expert_b", "expert_c"):
        expert = actor_for_username(portal, name)
        version = _version(app, application_id)
        version = experts.declare(portal, expert, application_id, "本人声明无利益冲突。", version)
        experts.score(
            portal,
            expert,
            application_id,
            {c.id: Decimal(80) for c in case_rubric(portal, application_id).criteria},
            version,
        )

    # The third score brings the panel to the pass mark, which moves the case to public notice.
    assert experts.panel(portal, actor_for_username(portal, "hz_bureau"), application_id).passed
    bureau.goto(f"{base}/review/{application_id}")
    expect(bureau.locator(".stage")).to_have_text("公示")

    # Seven calendar days later the nightly sweep closes the notice without objection.
    pinned = portal.today_override
    portal.today_override = portal.today() + dt.timedelta(days=8)
    try:
        report = sweep(portal)
    finally:
        # Back to the suite's pinned day (not the real clock, which would end the browser's
        # server-side session as long past its absolute limit).
        portal.today_override = pinned
    assert (application_id, "public_notice", "approved") in [
        (m.case_id, m.source, m.target) for m in report.advanced
    ]

    clerk.goto(f"{base}/applications/{application_id}")
    expect(clerk.locator(".stage")).to_have_text("已批准待拨付")
    letter = clerk.get_by_role("link", name=re.compile("下载批准决定书"))
    with clerk.expect_download() as download:
        letter.click()
    assert download.value.suggested_filename.endswith(".pdf")
    assert_accessible(clerk)
    screenshot(clerk, "journey-10-approved")


def _state(app: FastAPI, application_id: int) -> str:
    with app.state.portal.reading() as session:
        row = session.get(Application, application_id)
        assert row is not None
        return row.state


def _version(app: FastAPI, application_id: int) -> int:
    with app.state.portal.reading() as session:
        row = session.get(Application, application_id)
        assert row is not None
        return row.version
