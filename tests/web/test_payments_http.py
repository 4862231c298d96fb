"""`/payments` over HTTP on SQLite and PostgreSQL: batch, files, sent, return file, and who sees it."""

from __future__ import annotations

import csv
import html
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
from portal.web.confirm_step import CONFIRM_VALUE
from tests.support.page_checks import Reader, visible_text
from tests.support.payments import AUTO_MEASURE, approved_case, letter_kinds, payer, state_of

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


def _text(client: TestClient, path: str) -> str:
    """The page as read: markup removed, entities decoded, white space collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", client.get(path).text)).split())


def _sent_batch(portal: Portal, *cases: int) -> int:
    bureau = payer(portal)
    batch = payments.create_batch(portal, bureau, list(cases))
    payments.mark_sent(portal, bureau, int(batch.id or 0), batch.version)
    return int(batch.id or 0)


def test_a_payment_the_bank_failed_is_told_on_the_case_page_and_is_not_disbursed_by_hand(
    portal_app: FastAPI,
) -> None:
    """The QA demo: #21 failed at the bank ("账户已冻结"). Its page says so, in words, in zh and
    en; it offers no disbursement, and a forged post of one is refused with the reason."""
    portal: Portal = portal_app.state.portal
    paid, failed = (
        approved_case(portal, "海珠回单甲科技有限公司"),
        approved_case(portal, "海珠回单乙科技有限公司"),
    )
    batch_id = _sent_batch(portal, paid, failed)
    batch_path = f"/payments/{batch_id}"
    bureau = signed_in(portal_app, "pay_bureau")
    returned = (
        f"业务参考号,金额（元）,状态,说明\n{paid},200000.00,成功,\n{failed},200000.00,失败,账户已冻结\n"
    )
    imported = _post(
        bureau, f"{batch_path}/returns", batch_path, {}, files={"file": ("回单.csv", returned.encode())}
    )
    assert imported.status_code == 303  # type: ignore[attr-defined]
    edge = payments.disbursement_edges(portal)["municipal"]

    page = bureau.get(f"/review/{failed}").text
    assert f'name="event" value="{edge.event}"' not in page  # the button is not offered
    shown = _text(bureau, f"/review/{failed}")
    assert (
        "拨付情况" in shown and "账户已冻结" in shown and f"报告第 {batch_id} 批中本案件的拨付失败" in shown
    )
    assert "请将案件纳入新的拨付批次" in shown and f"查看第 {batch_id} 批" in shown
    bureau.cookies.set("lang", "en")
    shown = _text(bureau, f"/review/{failed}")
    assert (
        f"in batch {batch_id} failed: 账户已冻结" in shown
        and "put the case into a new payment batch" in shown
    )
    assert "payment_failed" not in shown and "failed_before" not in shown
    bureau.cookies.set("lang", "zh")

    # A post of the disbursement anyway (an old tab, a forged form): refused, nothing moves.
    with portal.reading() as session:
        row = session.get(Application, failed)
        assert row is not None
        version = row.version
    forced = _post(
        bureau, f"/review/{failed}/transition", f"/review/{failed}",
        {"event": edge.event, "expected_version": str(version), "confirm": CONFIRM_VALUE},
    )  # fmt: skip
    assert forced.status_code == 409  # type: ignore[attr-defined]
    assert "银行已报告该案件的拨付失败" in html.unescape(forced.text)  # type: ignore[attr-defined]
    assert state_of(portal, failed) == edge.source and "disbursement" not in letter_kinds(portal, failed)
    # The paid case's page tells which batch paid it.
    assert f"第 {batch_id} 批：银行于" in _text(bureau, f"/review/{paid}")

    # The batch, on its page and in the list: closed with a failure, paid and failed amounts apart.
    shown = _text(bureau, batch_path)
    assert "已办结，部分支付失败" in shown and "已结清" not in shown
    assert "已拨付金额 1 笔，¥200,000.00" in shown and "支付失败金额 1 笔，¥200,000.00" in shown
    row = next(r for r in _text(bureau, "/payments").split(f"第 {batch_id} 批")[1:2])
    assert "已办结，部分支付失败" in row and "1 笔，¥200,000.00" in row
    bureau.cookies.set("lang", "en")
    shown = _text(bureau, batch_path)
    assert "Closed; some payments failed" in shown and "Settled" not in shown
    assert "Amount paid CNY 200,000.00 (1)" in shown and "Amount failed CNY 200,000.00 (1)" in shown
    assert "Closed; some payments failed" in _text(bureau, "/payments")
    assert "closed_some_failed" not in _text(bureau, "/payments")

    # The retry: a new batch takes the case; the case page says it waits for the bank there.
    again = _post(bureau, "/payments", "/payments", {"case": [str(failed)]})
    assert again.status_code == 303  # type: ignore[attr-defined]
    again_id = int(again.headers["location"].rsplit("/", 1)[1])  # type: ignore[attr-defined]
    shown = _text(bureau, f"/review/{failed}")
    assert f"The case is in batch {again_id}" in shown and f"Batch {batch_id}: on" in shown

    # Words, not codes, on every page this told, in both languages.
    reader = Reader.of(portal)
    for lang in ("zh", "en"):
        bureau.cookies.set("lang", lang)
        for path in (
            f"/review/{failed}",
            f"/review/{paid}",
            batch_path,
            f"/payments/{again_id}",
            "/payments",
        ):
            assert reader.problems(visible_text(bureau.get(path).text), lang) == [], (path, lang)


def test_the_return_file_help_text_names_exactly_the_columns_the_import_reads(portal_app: FastAPI) -> None:
    """A bank clerk who writes the header row as the help text says has the file read, in zh and en."""
    portal: Portal = portal_app.state.portal
    first, second = (
        approved_case(portal, "海珠列名甲科技有限公司"),
        approved_case(portal, "海珠列名乙科技有限公司"),
    )
    for lang, case_id in (("zh", first), ("en", second)):
        batch_path = f"/payments/{_sent_batch(portal, case_id)}"
        bureau = signed_in(portal_app, "pay_bureau")
        bureau.cookies.set("lang", lang)
        hint = re.search(r'id="return-file-hint">([^<]*)<', bureau.get(batch_path).text)
        assert hint is not None
        required_part, optional_part = re.split(r"；可选列|, and optionally", html.unescape(hint.group(1)))
        required = re.findall(r"“([^”]+)”", required_part)
        optional = re.findall(r"“([^”]+)”", optional_part.split("。")[0].split(". ")[0])
        assert len(required) == 3 and len(optional) == 1, hint.group(1)
        header = ",".join(required + optional)
        status = "失败" if lang == "zh" else "failed"
        content = f"{header}\n{case_id},200000.00,{status},户名不符\n".encode()
        imported = _post(bureau, f"{batch_path}/returns", batch_path, {}, files={"file": ("r.csv", content)})
        assert imported.status_code == 303, html.unescape(imported.text)  # type: ignore[attr-defined]
        shown = _text(bureau, imported.headers["location"])  # type: ignore[attr-defined]
        assert "户名不符" in shown
