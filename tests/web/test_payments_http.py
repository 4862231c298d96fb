"""`/payments` over HTTP on SQLite and PostgreSQL: batch, files, sent, return file, and who sees it."""

from __future__ import annotations

import csv
import io
import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import client_of, csrf_of, login, portal_app, staff
from pypdf import PdfReader
from test_exports import xlsx_rows

from portal.db.tables import Application
from portal.services import payments
from portal.services.context import Portal
from tests.support.payments import AUTO_MEASURE, approved_case, payer, state_of

__all__ = ["portal_app"]


def signed_in(app: FastAPI, username: str) -> TestClient:
    client = client_of(app)
    login(client, username)
    return client


def _post(client: TestClient, path: str, page: str, data: dict[str, object], **kwargs: object) -> object:
    token = csrf_of(client, page)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False, **kwargs)  # type: ignore[arg-type]


def test_a_batch_from_selection_to_the_banks_return_file(portal_app: FastAPI) -> None:
    portal: Portal = portal_app.state.portal
    first, second = (
        approved_case(portal, "海珠支付甲科技有限公司"),
        approved_case(portal, "海珠支付乙科技有限公司"),
    )
    payer(portal)
    bureau = signed_in(portal_app, "pay_bureau")
    page = bureau.get("/payments")
    assert page.status_code == 200 and "海珠支付甲科技有限公司" in page.text and "待拨付案件" in page.text
    bureau.cookies.set("lang", "en")
    assert "Cases waiting for payment" in bureau.get("/payments").text

    created = _post(bureau, "/payments", "/payments", {"case": [str(first), str(second)]})
    assert created.status_code == 303  # type: ignore[attr-defined]
    batch_path = created.headers["location"]  # type: ignore[attr-defined]
    batch_id = int(batch_path.rsplit("/", 1)[1])
    assert f"Batch {batch_id} is created." in bureau.get(batch_path).text  # what the action did, once
    # The same case again: refused on the page, naming the case in the reader's language.
    again = _post(bureau, "/payments", "/payments", {"case": [str(first)]})
    assert again.status_code == 422  # type: ignore[attr-defined]
    assert f"Case {first}: the case is already in an open payment batch" in again.text  # type: ignore[attr-defined]

    sheet = xlsx_rows(bureau.get(f"{batch_path}/payment.xlsx").content)
    bureau.cookies.set("lang", "zh")
    rows = list(csv.reader(io.StringIO(bureau.get(f"{batch_path}/payment.csv").content.decode("utf-8-sig"))))
    assert rows[0] == [
        "收款人名称",
        "统一社会信用代码",
        "收款账号",
        "开户银行",
        "金额（元）",
        "业务参考号",
        "政策名称",
    ]
    assert rows[1][2:6] == ["6217857000001234567", "中国银行广州海珠支行", "200000.00", str(first)]
    assert rows[1][6] == "算法备案奖励" and AUTO_MEASURE not in str(rows)
    assert sheet[0] == [
        "Payee name",
        "USCC",
        "Account number",
        "Bank",
        "Amount (yuan)",
        "Reference",
        "Measure",
    ]
    assert sheet[1][2] == "6217857000001234567" and sheet[1][4] == "200000"  # a number cell, 0.00 format
    pdf = bureau.get(f"{batch_path}/list.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "海珠支付甲科技有限公司" in text and "400,000.00" in text and "肆拾万元整" in text

    version = re.search(r'name="version" value="(\d+)"', bureau.get(batch_path).text)
    assert version is not None
    sent = _post(bureau, f"{batch_path}/send", batch_path, {"version": version.group(1)})
    assert sent.status_code == 303  # type: ignore[attr-defined]
    assert f"第 {batch_id} 批已标记为已送银行" in bureau.get(batch_path).text

    bad = f"业务参考号,金额（元）,状态\n{first},二十万,成功\n"
    refused = _post(
        bureau, f"{batch_path}/returns", batch_path, {}, files={"file": ("bad.csv", bad.encode())}
    )
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert "第 2 行“金额（元）”：须为金额" in refused.text  # type: ignore[attr-defined]
    assert state_of(portal, first) == payments.disbursement_edges(portal)["municipal"].source

    good = (
        f"reference,amount,status,message\n{first},200000.00,success,\n{second},200000.00,failed,户名不符\n"
    ).encode()
    imported = _post(bureau, f"{batch_path}/returns", batch_path, {}, files={"file": ("return.csv", good)})
    assert imported.status_code == 303  # type: ignore[attr-defined]
    shown = bureau.get(imported.headers["location"]).text  # type: ignore[attr-defined]
    assert "拨付成功 1 笔，支付失败 1 笔" in shown and "户名不符" in shown
    edge = payments.disbursement_edges(portal)["municipal"]
    assert (state_of(portal, first), state_of(portal, second)) == (edge.target, edge.source)
    repeat = _post(bureau, f"{batch_path}/returns", batch_path, {}, files={"file": ("return.csv", good)})
    assert "again=1" in repeat.headers["location"]  # type: ignore[attr-defined]
    assert "本次未作任何更改" in bureau.get(repeat.headers["location"]).text  # type: ignore[attr-defined]
    assert batch_id > 0


def test_payments_are_for_the_paying_unit_only(portal_app: FastAPI) -> None:
    """The authorization matrix of /payments: enterprises, experts and supervisors see none of it."""
    portal: Portal = portal_app.state.portal
    case_id = approved_case(portal, "海珠权限矩阵科技有限公司")
    batch_id = int(payments.create_batch(portal, payer(portal), [case_id]).id or 0)
    pages = ["/payments", f"/payments/{batch_id}", f"/payments/{batch_id}/payment.csv",
             f"/payments/{batch_id}/payment.xlsx", f"/payments/{batch_id}/list.pdf"]  # fmt: skip
    enterprise_user = f"pay{_uscc_of(portal, case_id)[-8:].lower()}"
    expected = {
        enterprise_user: [403] * 5,
        staff(portal, "expert"): [403] * 5,
        staff(portal, "supervisor"): [403] * 5,  # reads the dashboard, handles no money
        staff(portal, "reviewer", district="haizhu"): [403] * 5,  # reviews, but pays nothing
        staff(portal, "reviewer", bureau="gzdev"): [200, 404, 404, 404, 404],  # another unit's batch
        staff(portal, "admin"): [200] * 5,
        "pay_bureau": [200] * 5,
    }
    for username, statuses in expected.items():
        client = signed_in(portal_app, username)
        got = [client.get(path, follow_redirects=False).status_code for path in pages]
        assert got == statuses, username
        posted = client.post(f"/payments/{batch_id}/send", data={"version": "1"}, follow_redirects=False)
        assert posted.status_code == 403  # no CSRF token: refused before anything else
    assert client_of(portal_app).get("/payments", follow_redirects=False).status_code == 303


def _uscc_of(portal: Portal, case_id: int) -> str:
    from portal.db.tables import Enterprise

    with portal.reading() as session:
        application = session.get(Application, case_id)
        assert application is not None
        enterprise = session.get(Enterprise, application.enterprise_id)
        assert enterprise is not None
        return enterprise.uscc
