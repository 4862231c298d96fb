"""The enterprise's own case page follows its payment: under way, failed at the bank (in plain words,
with the bank's explanation and what to do), and a new payment under way after a new batch. In zh
and en, through the real app on SQLite and PostgreSQL; no batch number and no code on the page."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import client_of, login, portal_app
from sqlmodel import col, select

from portal.db.tables import Application, User
from portal.services import payments
from portal.services.context import Portal
from portal.services.payments_returns import import_return
from tests.support.page_checks import Reader, visible_text
from tests.support.payments import PASSWORD, approved_case, payer

__all__ = ["portal_app"]

WORDS = {
    "zh": {
        "title": "资金拨付",
        "pending": "正在通过银行支付",
        "failed": "未成功，款项未到账",
        "reason": "银行的说明：户名与账号不符",
        "todo": "请核对收款账户（开户银行和账号），如有误请更正；主管部门将重新安排支付",
        "link": "核对收款账户",
        "retry": "新的支付已在办理中",
        "inbox": "奖补资金支付未成功",
    },
    "en": {
        "title": "Payment of your grant",
        "pending": "is being paid through the bank",
        "failed": "did not go through, so no money has arrived",
        "reason": "The bank's explanation: 户名与账号不符",
        "todo": "Please check the account for payments (bank and account number)",
        "link": "Check the account for payments",
        "retry": "A new payment is under way",
        "inbox": "Your grant payment did not go through",
    },
}


def _owner(app: FastAPI, case_id: int, lang: str) -> TestClient:
    portal: Portal = app.state.portal
    with portal.reading() as session:
        application = session.get(Application, case_id)
        assert application is not None
        user = session.exec(select(User).where(col(User.enterprise_id) == application.enterprise_id)).one()
    client = client_of(app)
    login(client, user.username, PASSWORD)
    client.cookies.set("lang", lang)
    return client


def _main(client: TestClient, path: str) -> tuple[str, str]:
    page = client.get(path)
    assert page.status_code == 200, path
    html = page.text[page.text.index("<main") : page.text.index("</main>")]
    return html, visible_text(html)


def _sent(portal: Portal, case_id: int) -> int:
    bureau = payer(portal)
    batch = payments.create_batch(portal, bureau, [case_id])
    payments.mark_sent(portal, bureau, int(batch.id or 0), batch.version)
    return int(batch.id or 0)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_case_page_says_the_payment_failed_and_what_to_do(portal_app: FastAPI, lang: str) -> None:
    portal: Portal = portal_app.state.portal
    case_id = approved_case(portal, f"海珠到账测试{lang}有限公司")
    client = _owner(portal_app, case_id, lang)
    words = WORDS[lang]
    path = f"/applications/{case_id}"
    html, _ = _main(client, path)
    assert 'id="payment"' not in html  # nothing is being paid yet

    batch_id = _sent(portal, case_id)
    _, text = _main(client, path)
    assert words["title"] in text and words["pending"] in text

    content = f"业务参考号,金额（元）,状态,说明\n{case_id},200000.00,失败,户名与账号不符\n".encode()
    import_return(portal, payer(portal), batch_id, "r.csv", content)
    html, text = _main(client, path)
    assert 'id="payment-failed"' in html and 'href="/profile#payee"' in html
    for part in ("failed", "reason", "todo", "link"):
        assert words[part] in text, (part, text)
    section = visible_text(
        html[html.index('id="payment"') : html.index("</section>", html.index('id="payment"'))]
    )
    assert "批" not in section and "batch" not in section.lower()  # the bureau's bookkeeping, not shown
    reader = Reader.of(portal)
    told = text.replace("户名与账号不符", " ")  # the bank's own words are shown as it wrote them
    assert not reader.problems(told, lang), reader.problems(told, lang)
    _, inbox = _main(client, "/inbox")
    assert words["inbox"] in inbox

    _sent(portal, case_id)  # the bureau pays again
    html, text = _main(client, path)
    assert 'id="payment-failed"' not in html and words["retry"] in text
    assert "户名与账号不符" in text  # the earlier attempt stays told
    assert words["todo"] not in text
