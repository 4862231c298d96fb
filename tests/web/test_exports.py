"""The queue's CSV/XLSX exports and the audit export, through HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from decimal import Decimal
from xml.etree import ElementTree

from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import (
    client_of,
    enterprise_with_case,
    login,
    portal_app,
    returned_case,
    scenario_answers,
    staff,
)
from review_helpers import to_public_notice
from sqlmodel import col, select

from portal.db.audit import verify_chain
from portal.db.tables import Application, Decision, Enterprise
from portal.services import grants, payments
from portal.services.payments_returns import import_return
from tests.support.payments import approved_case, payer

__all__ = ["portal_app"]

MEASURE = "subsidy.ai_scenario_demo"
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def page_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<td[^>]*><a href="/review/(\d+)">', html)]


def csv_rows(response: object) -> list[list[str]]:
    text = response.content.decode("utf-8")  # type: ignore[attr-defined]
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def xlsx_rows(content: bytes) -> list[list[str]]:
    """The first sheet's cells as text (shared strings resolved), read with zipfile and XML only."""
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        shared = [
            "".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t"))
            for si in ElementTree.fromstring(book.read("xl/sharedStrings.xml")).findall("m:si", NS)
        ]
        sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.iter(f"{{{NS['m']}}}row"):
        cells: dict[int, str] = {}
        for cell in row.findall("m:c", NS):
            column = ord(re.sub(r"\d", "", cell.attrib["r"])[0]) - ord("A")
            value = cell.findtext("m:v", "", NS)
            cells[column] = shared[int(value)] if cell.attrib.get("t") == "s" else value
        rows.append([cells.get(i, "") for i in range(max(cells) + 1)])
    return rows


def test_queue_exports_hold_the_pages_rows_in_the_readers_language(portal_app: FastAPI) -> None:
    _, haizhu = enterprise_with_case(portal_app, name="广州导出海珠科技有限公司")
    portal = portal_app.state.portal
    reviewer = client_of(portal_app)
    login(reviewer, staff(portal, "reviewer", district="haizhu"))
    query = f"?measure={MEASURE}&state=submitted"
    shown = page_ids(reviewer.get(f"/review{query}").text)
    assert haizhu in shown
    assert 'href="/review.csv?' in reviewer.get("/review").text

    table = csv_rows(reviewer.get(f"/review.csv{query}"))
    assert table[0][:3] == ["编号", "申报企业", "统一社会信用代码"]
    assert [int(r[0]) for r in table[1:]] == shown  # the same rows, in the same order
    line = next(r for r in table[1:] if int(r[0]) == haizhu)
    assert line[1] == "广州导出海珠科技有限公司" and line[4] == "海珠区"
    with portal.reading() as session:
        stored = session.get(Application, haizhu)
        assert stored is not None
    assert line[7] == portal.clock.local_date(stored.submitted_at).isoformat()
    assert line[8] == stored.due_on.isoformat()
    amount = Decimal(line[9])
    assert amount > 0 and amount == amount.quantize(Decimal("0.01"))

    sheet = xlsx_rows(reviewer.get(f"/review.xlsx{query}").content)
    assert sheet[0] == table[0]
    assert [int(r[0]) for r in sheet[1:]] == shown
    cell = next(r for r in sheet[1:] if int(r[0]) == haizhu)
    assert dt.date(1899, 12, 30) + dt.timedelta(days=int(cell[8])) == stored.due_on  # a real date
    assert Decimal(cell[9]) == amount  # the number, exact to the fen

    reviewer.get("/lang/en?next=/review")
    english = csv_rows(reviewer.get(f"/review.csv{query}"))
    assert english[0][:4] == ["No.", "Enterprise", "USCC", "Measure"]
    text = "\n".join(",".join(r) for r in english)
    for code in (MEASURE, "haizhu", "submitted"):
        assert code not in text  # labels, never codes

    narrowed = csv_rows(reviewer.get("/review.csv?state=approved"))
    assert haizhu not in [int(r[0]) for r in narrowed[1:]]

    elsewhere = client_of(portal_app)
    login(elsewhere, staff(portal, "reviewer", district="tianhe"))
    for path in (f"/review.csv{query}", "/review.csv"):
        assert haizhu not in [int(r[0]) for r in csv_rows(elsewhere.get(path))[1:]]
    assert str(haizhu) not in [r[0] for r in xlsx_rows(elsewhere.get("/review.xlsx").content)]
    everyone = client_of(portal_app)
    login(everyone, staff(portal, "admin"))
    assert haizhu in [int(r[0]) for r in csv_rows(everyone.get(f"/review.csv{query}"))[1:]]


def test_exports_refuse_who_may_not_see_the_queue(portal_app: FastAPI) -> None:
    enterprise, _ = enterprise_with_case(portal_app)
    for path in ("/review.csv", "/review.xlsx", "/audit/export"):
        assert enterprise.get(path, follow_redirects=False).status_code == 403
        anonymous = client_of(portal_app).get(path, follow_redirects=False)
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    reviewer = client_of(portal_app)
    login(reviewer, staff(portal_app.state.portal, "reviewer", district="haizhu"))
    assert reviewer.get("/audit/export").status_code == 403


def jsonl(client: TestClient, query: str) -> tuple[list[dict[str, object]], dict[str, object]]:
    response = client.get(f"/audit/export?format=jsonl{query}")
    assert response.status_code == 200, response.text
    lines = [json.loads(line) for line in response.text.splitlines()]
    *events, verification = lines
    assert verification["type"] == "verification" and all(e["type"] == "event" for e in events)
    assert response.headers["X-Audit-Last-Hash"] == (verification["last_hash"] or "")
    return events, verification


def test_audit_export_ends_on_the_chain_head_and_filters_narrow_it(portal_app: FastAPI) -> None:
    _, application_id = enterprise_with_case(portal_app)
    admin = client_of(portal_app)
    login(admin, staff(portal_app.state.portal, "admin"))
    events, verification = jsonl(admin, "")
    with portal_app.state.portal.reading() as session:
        report = verify_chain(session)
    assert verification["chain_ok"] is True and verification["checked"] == report.checked
    assert events[-1]["hash"] == verification["last_hash"] == report.head_hash
    assert [e["seq"] for e in events] == list(range(1, report.checked + 1))

    case, narrowed = jsonl(admin, f"&case={application_id}")
    assert 0 < len(case) < len(events)
    assert {(e["subject_type"], e["subject_id"]) for e in case} == {("application", str(application_id))}
    assert narrowed["last_hash"] == case[-1]["hash"] and narrowed["head_hash"] == report.head_hash
    submits, _ = jsonl(admin, f"&case={application_id}&event={case[0]['event']}")
    assert submits and all(e["event"] == case[0]["event"] for e in submits)
    with portal_app.state.portal.reading() as session:
        owner = session.get(Enterprise, session.get(Application, application_id).enterprise_id)
    by_enterprise, _ = jsonl(admin, f"&enterprise={owner.uscc}")
    assert {e["seq"] for e in case} <= {e["seq"] for e in by_enterprise}
    assert {e["subject_type"] for e in by_enterprise} <= {"application", "enterprise"}
    assert jsonl(admin, "&enterprise=91440101MA00000000")[0] == []
    assert jsonl(admin, "&actor=nobody-here")[0] == []
    # Dates are days in the pack's time zone, both ends inclusive.
    day = portal_app.state.portal.clock.local_date(dt.datetime.fromisoformat(str(case[-1]["at"])))
    same_day, _ = jsonl(admin, f"&case={application_id}&from={day}&to={day}")
    assert case[-1]["seq"] in [e["seq"] for e in same_day]
    assert jsonl(admin, f"&from={day + dt.timedelta(days=1)}")[0] == []
    assert jsonl(admin, f"&to={day - dt.timedelta(days=1)}&case={application_id}")[0] == []

    response = admin.get(f"/audit/export?case={application_id}")
    assert response.headers["X-Audit-Chain-Ok"] == "true"
    table = csv_rows(response)
    assert table[0][0] == "序号" and len([r for r in table[1:] if r and r[0].isdigit()]) == len(case)
    trailer = {r[0]: r[1] for r in table if len(r) == 2}
    assert trailer["哈希链校验"] == "通过" and trailer["导出最后一条哈希"] == case[-1]["hash"]
    assert trailer["链头哈希"] == report.head_hash


def test_exports_count_the_form_s_track_and_add_granted_and_paid_at_the_end(portal_app: FastAPI) -> None:
    """A firm registered under 城 applying under 造 is filtered and exported under 造; the rule's
    amount keeps its column and the granted and paid amounts follow (#21 showed only the first)."""
    portal = portal_app.state.portal
    _, case = enterprise_with_case(portal_app, track="zao")
    admin = client_of(portal_app)
    login(admin, staff(portal, "admin"))
    assert case in page_ids(admin.get("/review?track=zao").text)
    assert case not in page_ids(admin.get("/review?track=cheng").text)
    line = next(r for r in csv_rows(admin.get("/review.csv?track=zao"))[1:] if int(r[0]) == case)
    assert line[5] == portal.city.tracks.label("zao", "zh")

    paid, unpaid = (approved_case(portal, f"海珠导出拨付{i}有限公司") for i in range(2))
    with portal.reading() as session:
        granted = {
            d.application_id: Decimal(d.granted_amount)
            for d in session.exec(select(Decision).where(col(Decision.application_id).in_([paid, unpaid])))
        }
    bureau = payer(portal)
    batch = payments.create_batch(portal, bureau, [paid])
    payments.mark_sent(portal, bureau, int(batch.id or 0), batch.version)
    answer = f"业务参考号,金额（元）,状态,说明\n{paid},{granted[paid]:.2f},成功,\n".encode()
    import_return(portal, bureau, int(batch.id or 0), "r.csv", answer)

    table = csv_rows(admin.get("/review.csv"))
    assert table[0][9:12] == ["测算金额（元）", "核定金额（元）", "已拨付金额（元）"]
    rows = {int(r[0]): r for r in table[1:]}
    assert Decimal(rows[paid][10]) == Decimal(rows[paid][11]) == granted[paid] > 0
    assert Decimal(rows[unpaid][10]) == granted[unpaid] and rows[unpaid][11] == ""
    # Not yet decided: granted as the case page says, the rule's amount or the amount requested if less.
    requested = Decimal(scenario_answers("")["requested_amount"])
    assert Decimal(rows[case][10]) == min(Decimal(rows[case][9]), requested) and rows[case][11] == ""
    sheet = xlsx_rows(admin.get("/review.xlsx").content)
    assert sheet[0] == table[0]
    assert Decimal(next(r for r in sheet[1:] if r[0] == str(paid))[11]) == granted[paid]
    admin.get("/lang/en?next=/review")
    assert csv_rows(admin.get("/review.csv"))[0][10:12] == [
        "Granted amount (yuan)",
        "Disbursed amount (yuan)",
    ]


def test_the_queue_exports_end_with_the_reply_by_day(portal_app: FastAPI) -> None:
    """A column added after the published ones: the reply-by day, empty for a case without one."""
    _, reviewer, returned = returned_case(portal_app, "请补充投资明细")
    _, waiting = enterprise_with_case(portal_app, name="广州未补正对照科技有限公司")
    reviewer.cookies.set("lang", "zh")
    table = csv_rows(reviewer.get("/review.csv"))
    assert (
        len(table[0]) == 13 and table[0][-1] == "补正截止日" and table[0][8] == "办理时限（补正期间暂停计时）"
    )
    rows = {int(r[0]): r for r in table[1:]}
    assert rows[returned][-1] == "2026-12-18" and rows[waiting][-1] == ""
    sheet = xlsx_rows(reviewer.get("/review.xlsx").content)
    assert sheet[0] == table[0]
    cell = next(r for r in sheet[1:] if r[0] == str(returned))[12]
    assert dt.date(1899, 12, 30) + dt.timedelta(days=int(cell)) == dt.date(2026, 12, 18)  # a real date
    reviewer.cookies.set("lang", "en")
    assert csv_rows(reviewer.get("/review.csv"))[0][-1] == "Reply by"


def test_the_export_gives_a_notice_s_day_and_amount_as_the_case_page_does(portal_app: FastAPI) -> None:
    """In 公示 the case has no working-day deadline and no decision yet: the export gives the day the
    notice's event follows and the amount granted as the page does, then that an objection holds it."""
    case = to_public_notice(portal_app, name="广州导出公示科技有限公司")
    page = case.bureau.get(f"/review/{case.application_id}").text
    header = csv_rows(case.bureau.get("/review.csv"))[0]
    line = next(r for r in csv_rows(case.bureau.get("/review.csv"))[1:] if int(r[0]) == case.application_id)
    assert (
        len(header) == 13 and header[8] == "办理时限（补正期间暂停计时）" and header[10] == "核定金额（元）"
    )
    due = dt.date.fromisoformat(line[8])
    assert f"{due.year}年{due.month}月{due.day}日（届时：公示期满，结束公示）" in page
    grant = grants.grant_of(case.portal, case.bureau_actor, case.application_id)
    assert grant.amount is None and grant.effective is not None and Decimal(line[10]) == grant.effective
    assert f"¥{grant.effective:,.2f}" in page and "按申请金额" in page
    public = client_of(portal_app)
    path = f"/notices/{case.application_id}"
    token = re.search(r'name="csrf_token" value="([^"]+)"', public.get(path).text)
    assert token is not None
    data = {
        "csrf_token": token.group(1),
        "name": "王某",
        "contact": "020-5678",
        "reasons": "项目未在广州落地",
    }
    assert public.post(f"{path}/objection", data=data, follow_redirects=False).status_code == 303
    line = next(r for r in csv_rows(case.bureau.get("/review.csv"))[1:] if int(r[0]) == case.application_id)
    assert line[8] == "异议处理完毕前暂停办理"
