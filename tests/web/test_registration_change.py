"""A change of registration (登记信息变更), recorded by the administrator on the enterprise's file.

The enterprise cannot edit its registered name and district; the administrator records a change
with its grounds, the enterprise is told in its own words, its file lists the change, and the
cases it has already filed stay with the district they were filed in.
"""

from __future__ import annotations

import re
from html import unescape

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from portal_helpers import client_of, csrf_of, enterprise_with_case, login, portal_app, staff, stored
from sqlmodel import col, select

from portal.db.tables import AuditEvent, Enterprise

__all__ = ["portal_app"]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", unescape(html)))


def _admin(app: FastAPI) -> TestClient:
    client = client_of(app)
    login(client, staff(app.state.portal, "admin"))
    return client


def _registered(app: FastAPI, uscc: str) -> tuple[str, str]:
    with app.state.portal.reading() as session:
        firm = session.exec(select(Enterprise).where(col(Enterprise.uscc) == uscc)).one()
        return firm.name, firm.district


def _post(client: TestClient, uscc: str, **fields: str) -> Response:
    path = f"/enterprises/{uscc}/registration"
    data = {"csrf_token": csrf_of(client, path), **fields}
    return client.post(path, data=data, follow_redirects=False)


def test_a_bad_change_names_each_field_in_the_readers_language_and_changes_nothing(
    portal_app: FastAPI,
) -> None:
    enterprise, _ = enterprise_with_case(portal_app)
    uscc = _uscc_of(portal_app, enterprise)
    admin = _admin(portal_app)
    before = _registered(portal_app, uscc)
    for lang, summary in (
        ("zh", ("企业名称：此项为必填项。", "变更依据：此项为必填项。")),
        ("en", ("Enterprise name: This field is required.", "Grounds for the change: This field is")),
    ):
        admin.cookies.set("lang", lang)
        response = _post(admin, uscc, name=" ", district="haizhu", reason="")
        assert response.status_code == 422
        shown = _text(response.text)
        for item in summary:
            assert item in shown, shown
    admin.cookies.set("lang", "zh")
    unchanged = _post(admin, uscc, name=before[0], district=before[1], reason="核对")
    assert unchanged.status_code == 422
    assert "没有需要变更的内容" in _text(unchanged.text)
    assert _registered(portal_app, uscc) == before
    enterprise_with_case(portal_app, name="广州另一家人工智能有限公司")
    held = _post(admin, uscc, name="广州另一家人工智能有限公司", district=before[1], reason="核对")
    assert held.status_code == 422 and "已有其他企业以该名称登记" in _text(held.text)
    assert _registered(portal_app, uscc) == before
    # Without the form's token nothing is recorded either.
    forged = admin.post(
        f"/enterprises/{uscc}/registration",
        data={"name": "新名称", "district": "tianhe", "reason": "x"},
        follow_redirects=False,
    )
    assert forged.status_code == 403 and _registered(portal_app, uscc) == before


def _uscc_of(app: FastAPI, client: TestClient) -> str:
    """The USCC of the enterprise `client` is signed in as, from its session's account."""
    html = client.get("/profile").text
    match = re.search(r"9[0-9A-Z]{17}", html)
    assert match is not None
    return match.group(0)


def test_only_the_administrator_records_a_change(portal_app: FastAPI) -> None:
    enterprise, _ = enterprise_with_case(portal_app)
    uscc = _uscc_of(portal_app, enterprise)
    reviewer = client_of(portal_app)
    login(reviewer, staff(portal_app.state.portal, "reviewer", district="haizhu"))
    for client in (enterprise, reviewer):
        page = client.get(f"/enterprises/{uscc}/registration", follow_redirects=False)
        assert page.status_code == 403, page.status_code
    assert "/registration" not in reviewer.get(f"/enterprises/{uscc}").text


def test_a_recorded_change_is_told_listed_and_leaves_filed_cases_where_they_were(
    portal_app: FastAPI,
) -> None:
    enterprise, case_id = enterprise_with_case(portal_app)
    uscc = _uscc_of(portal_app, enterprise)
    old_name, old_district = _registered(portal_app, uscc)
    assert old_district == "haizhu"
    admin = _admin(portal_app)
    admin.cookies.set("lang", "zh")
    form = _text(admin.get(f"/enterprises/{uscc}/registration").text)
    assert "变更登记信息" in form and old_name in form
    new_name, grounds = "广州更名后人工智能有限公司", "2026年11月20日换发的营业执照"
    done = _post(admin, uscc, name=new_name, district="tianhe", reason=grounds)
    assert done.status_code == 303
    assert done.headers["location"] == f"/enterprises/{uscc}"
    assert _registered(portal_app, uscc) == ("广州更名后人工智能有限公司", "tianhe")

    listed = {lang: _text(_get(admin, lang, f"/enterprises/{uscc}")) for lang in ("zh", "en")}
    assert f"企业名称由“{old_name}”改为“广州更名后人工智能有限公司”、所在区由海珠区改为天河区" in listed["zh"]
    assert "依据：2026年11月20日换发的营业执照" in listed["zh"]
    assert "district changed from Haizhu to Tianhe" in listed["en"], listed["en"]

    inbox = {lang: _text(_get(enterprise, lang, "/inbox")) for lang in ("zh", "en")}
    assert "企业登记信息已更新" in inbox["zh"] and "所在区：天河区" in inbox["zh"]
    assert "district Tianhe" in inbox["en"] and "tianhe" not in inbox["en"]
    profile = _text(_get(enterprise, "zh", "/profile"))
    assert "广州更名后人工智能有限公司" in profile and "天河区" in profile

    # The case filed before the change stays with Haizhu's reviewers.
    assert stored(portal_app, case_id).district == "haizhu"
    with portal_app.state.portal.reading() as session:
        events = session.exec(select(AuditEvent).where(col(AuditEvent.event) == "registration_changed")).all()
    recorded = [e.payload for e in events if e.payload and e.payload["after"]["district"] == "tianhe"]
    assert recorded and recorded[-1]["before"] == {"name": old_name, "district": "haizhu"}


def _get(client: TestClient, lang: str, path: str) -> str:
    client.cookies.set("lang", lang)
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.text
