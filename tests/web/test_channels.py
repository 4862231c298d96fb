"""Every catalogue card says honestly how its measure is obtained (issue 10 §1), over HTTP.

An application can be started only for a measure applied for through a form that exists; a
refused start writes nothing, through the page and the JSON API alike.
"""

from __future__ import annotations

from fastapi import FastAPI
from portal_helpers import client_of, csrf_of, portal_app, register, save_profile
from sqlalchemy import func
from sqlmodel import select

from portal.db.tables import Application, AuditEvent
from portal.services import banks

__all__ = ["portal_app"]


def _rows(app: FastAPI) -> tuple[int, int]:
    with app.state.portal.reading() as session:
        return (
            int(session.exec(select(func.count()).select_from(Application)).one()),
            int(session.exec(select(func.count()).select_from(AuditEvent)).one()),
        )


def _card(page: str, title: str) -> str:
    """The HTML of the catalogue card whose heading is `title`."""
    start = page.index(f">{title}</a></h2>")
    return page[start : page.index("\n  </li>", start)]


def test_cards_show_the_channel_and_offer_only_applications_that_can_be_made(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    if not any(b.code == "icbc_gz" for b in banks.active_banks(portal)):
        banks.add_bank(portal, name="工商银行广州分行", code="icbc_gz")
    client = client_of(portal_app)
    register(client)
    save_profile(client)
    page = client.get("/catalogue").text
    online = _card(page, "人工智能算力券")
    assert "本平台在线申报" in online and 'value="subsidy.compute_voucher"' in online
    tax = _card(page, "研发费用税前加计扣除")
    assert "纳税申报时自行享受" in tax and "A107012" in tax and "5月31日" in tax
    assert "留存备查资料" in tax and "研发支出辅助账及汇总表" in tax
    assert "measure_id" not in tax
    bank = _card(page, "信贷风险补偿（银行模式）")
    assert "工商银行广州分行" in bank and 'href="/consents"' in bank and "measure_id" not in bank
    talent = _card(page, "人工智能高端紧缺人才购房补贴")
    assert "由用人单位在本平台为人才申报" in talent and "为本单位人才申报" in talent
    # No internal measure id is printed where people read (only in the hidden form value).
    assert "<code>" not in page
    client.get("/lang/en?next=/catalogue")
    english = client.get("/catalogue").text
    tax_en = _card(english, "R&amp;D expense super-deduction")
    assert "Claimed in your tax return" in tax_en and "Documents to keep for inspection" in tax_en
    bank_en = _card(english, "Credit risk compensation (bank model)")
    assert "：" not in bank_en[bank_en.index('<div class="channel') :]


def test_no_route_creates_a_draft_for_a_measure_without_a_form(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    register(client)
    save_profile(client)
    token = csrf_of(client, "/catalogue")
    before = _rows(portal_app)
    for measure in (
        "tax.rd_super_deduction",
        "finance.credit_risk_compensation",
        "procurement.sme_price_deduction",
    ):
        page = client.post(
            "/applications", data={"csrf_token": token, "measure_id": measure}, follow_redirects=False
        )
        assert page.status_code == 409, page.text[:500]
        assert "不通过本平台网上申报办理" in page.text
        # A refusal says the action was not taken, never that someone else changed something.
        assert "操作未执行" in page.text and "数据已被他人更新" not in page.text
        api_token = client.get("/api/v1/session").json()["csrf_token"]
        api = client.post(
            "/api/v1/applications", json={"measure_id": measure}, headers={"X-CSRF-Token": api_token}
        )
        assert api.status_code == 409 and api.headers["content-type"].startswith("application/problem+json")
    assert _rows(portal_app) == before


def test_the_new_forms_take_applications(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    register(client)
    save_profile(client)
    token = csrf_of(client, "/catalogue")
    for measure, heading in (
        ("subsidy.compute_voucher", "人工智能算力券申领表"),
        ("subsidy.algorithm_filing", "算法备案奖励申请表"),
        ("talent.housing", "人工智能高端紧缺人才购房补贴申请表"),
    ):
        response = client.post("/applications", data={"csrf_token": token, "measure_id": measure})
        assert response.status_code == 200 and heading in response.text, response.text[:500]


def test_a_no_application_measure_offers_applying_only_as_the_fallback(portal_app: FastAPI) -> None:
    """免申即享 cards said 本平台在线申报 under "无需申报": the channel now says both, in order."""
    client = client_of(portal_app)
    register(client)
    save_profile(client)
    card = _card(client.get("/catalogue").text, "算法备案奖励")
    assert "免申即享：平台核对数据后主动推送，企业确认即可；未收到推送的，也可在本平台在线申报" in card
    assert "：</strong>本平台在线申报" not in card and ">本平台在线申报</p>" not in card
    if "<form" in card:  # offered to an enterprise that may qualify: the button names the fallback
        assert "未收到推送，在线申报" in card
    client.get("/lang/en?next=/catalogue")
    card_en = _card(client.get("/catalogue").text, "Award for filing an algorithm")
    assert "No application needed: the portal checks its data and notifies qualifying enterprises" in card_en
