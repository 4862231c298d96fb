"""A payment batch in Chromium (issue 12 §7): create → export CSV/XLSX → sent → a return file with one
failed line → the paid cases are disbursed with their letters, the failed one has not moved, and the
settled batch takes no further file. Screenshots of /payments, the batch and the enterprise file, zh/en at
1280 and 390 px, go to artifacts/screenshots/payments/.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect

from portal.db import migrations
from portal.db.tables import Application, Enterprise
from portal.services import banks, consents, enterprises, payments
from portal.services.context import Portal
from portal.services.loan_eligibility import check_eligibility
from portal.settings import Settings
from portal.web.app import create_app
from tests.browser.conftest import SCREENSHOTS, axe_violations, screenshot, serving
from tests.support.payments import (
    PASSWORD,
    approved_case,
    letter_kinds,
    payer,
    staff_actor,
    state_of,
)

NAMES = ("海珠拨付浏览器甲有限公司", "海珠拨付浏览器乙有限公司", "海珠拨付浏览器丙有限公司")


@dataclass(frozen=True)
class Served:
    url: str
    app: FastAPI
    cases: tuple[int, ...]

    @property
    def portal(self) -> Portal:
        return self.app.state.portal  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("payments")
    url = f"sqlite:///{root / 'portal.db'}"
    migrations.upgrade(url)
    app = create_app(Settings(database_url=url, data_dir=root / "data", secret_key="payments-browser-secret"))
    portal = app.state.portal
    cases = tuple(approved_case(portal, name) for name in NAMES)
    payer(portal)
    staff_actor(portal, "pay_district", "reviewer", district="haizhu")
    _file_worth_reading(portal, cases[0])
    with serving(app) as base:
        yield Served(base, app, cases)


def _file_worth_reading(portal: Portal, case_id: int) -> None:
    """Give the first enterprise's file a second profile version and a bank query to show."""
    with portal.reading() as session:
        application = session.get(Application, case_id)
        assert application is not None
        uscc = session.get(Enterprise, application.enterprise_id).uscc  # type: ignore[union-attr]
    owner = enterprises.actor_for_username(portal, f"pay{uscc[-8:].lower()}")
    profile = enterprises.latest_profile(portal, owner)
    assert profile is not None
    facts = {**profile.facts, "enterprise": {**profile.facts["enterprise"], "certified_ai_staff": 9}}
    enterprises.confirm_profile(
        portal, owner, enterprises.save_profile(portal, owner, facts, profile.version).version
    )
    banks.add_bank(portal, name="广州测试银行", code="gztest")
    caller = banks.authenticate(portal, banks.issue_key(portal, "gztest").key)
    assert caller is not None
    consents.grant_consent(portal, owner, bank_code="gztest", products=["credit_risk_compensation"])
    check_eligibility(
        portal, caller, uscc=uscc, product="credit_risk_compensation", loan={"amount": "3000000"}
    )


def signed_in(browser: Browser, base: str, username: str, width: int = 1280, lang: str = "zh") -> Page:
    page = browser.new_page(base_url=base, viewport={"width": width, "height": 900}, accept_downloads=True)
    page.goto("/login")
    page.fill("#field-username", username)
    page.fill("#field-password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/*")
    if lang == "en":
        page.goto("/lang/en?next=/")
    return page


def _download(page: Page, link_text: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_text).click()
    return Path(info.value.path()).read_bytes()


def test_a_payment_batch_in_the_browser(browser: Browser, served: Served, tmp_path: Path) -> None:
    portal, (paid1, paid2, failed) = served.portal, served.cases
    edge = payments.disbursement_edges(portal)["municipal"]
    page = signed_in(browser, served.url, "pay_bureau")
    page.goto("/payments")
    for case_id in served.cases:
        page.locator(f"#case-{case_id}").check()
    page.get_by_role("button", name="以所选案件生成拨付批次").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("批")

    payment_csv = _download(page, "下载支付文件（CSV）").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(payment_csv)))
    assert [r["业务参考号"] for r in rows] == [str(c) for c in served.cases]
    assert {r["金额（元）"] for r in rows} == {"200000.00"} and rows[0]["收款人名称"] == NAMES[0]
    assert _download(page, "下载支付文件（Excel）")[:2] == b"PK"
    page.get_by_role("button", name="标记为已发送银行").click()
    expect(page.get_by_text("已发送银行").first).to_be_visible()

    # The bank returns the file it was sent, with a status column: one transfer failed.
    returned = tmp_path / "回单.csv"
    lines = ["业务参考号,金额（元）,状态,说明"]
    lines += [f"{r['业务参考号']},{r['金额（元）']},{'失败' if r['业务参考号'] == str(failed) else '成功'},"
              + ("账户已冻结" if r["业务参考号"] == str(failed) else "") for r in rows]  # fmt: skip
    returned.write_text("\n".join(lines) + "\n", encoding="utf-8")
    page.set_input_files("#return-file", str(returned))
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("拨付成功 2 笔，支付失败 1 笔")
    expect(page.get_by_text("账户已冻结").first).to_be_visible()
    assert [state_of(portal, c) for c in (paid1, paid2, failed)] == [edge.target, edge.target, edge.source]
    assert "disbursement" in letter_kinds(portal, paid1) and "disbursement" in letter_kinds(portal, paid2)
    assert "disbursement" not in letter_kinds(portal, failed)

    # Every line has the bank's answer: the batch is settled (办结) and read-only, with no form for
    # another file (a file posted anyway is refused: tests/web/test_settled_batch_http.py).
    expect(page.get_by_text("本批次已办结").first).to_be_visible()
    expect(page.locator("#return-file")).to_have_count(0)
    assert [state_of(portal, c) for c in (paid1, paid2, failed)] == [edge.target, edge.target, edge.source]

    (SCREENSHOTS / "payments").mkdir(parents=True, exist_ok=True)
    with page.expect_download() as info:
        page.eval_on_selector('a[href$="/list.pdf"]', "a => { a.download = ''; a.click(); }")
    pdf = Path(info.value.path()).read_bytes()
    assert pdf[:4] == b"%PDF"
    (SCREENSHOTS / "payments" / "batch-list.pdf").write_bytes(pdf)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width", [1280, 390])
def test_payment_pages_read_at_both_widths(browser: Browser, served: Served, lang: str, width: int) -> None:
    page = signed_in(browser, served.url, "pay_bureau", width, lang)
    for path, name in (("/payments", "index"), (f"/payments/{_any_batch(served)}", "batch")):
        page.goto(path)
        width_px = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert width_px[0] <= width_px[1], (path, width_px)
        screenshot(page, f"payments/{name}-{lang}-{width}")
        assert axe_violations(page) == []
    with served.portal.reading() as session:
        application = session.get(Application, served.cases[0])
        assert application is not None
        uscc = session.get(Enterprise, application.enterprise_id).uscc  # type: ignore[union-attr]
    district = signed_in(browser, served.url, "pay_district", width, lang)
    district.goto(f"/enterprises/{uscc}")
    expect(district.get_by_role("heading", level=1)).to_have_text(NAMES[0])
    screenshot(district, f"payments/enterprise-file-{lang}-{width}")
    assert axe_violations(district) == []


def _any_batch(served: Served) -> int:
    portal = served.portal
    admin = staff_actor(portal, "pay_admin", "admin")
    summaries = payments.list_batches(portal, admin)
    if summaries:
        return int(summaries[0].batch.id or 0)
    return int(payments.create_batch(portal, payer(portal), list(served.cases)).id or 0)
