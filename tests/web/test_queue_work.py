"""Claiming, assigning and moving cases, and saved queue views, over HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import client_of, csrf_of, enterprise_with_case, login, portal_app, staff
from sqlmodel import select

from portal.db.audit import verify_chain
from portal.db.tables import Application, AuditEvent, User
from portal.services import assignment
from portal.services.access import actor_of
from portal.services.context import Portal

__all__ = ["portal_app"]


def user_id(portal: Portal, username: str) -> int:
    with portal.reading() as session:
        user = session.exec(select(User).where(User.username == username)).one()
        return int(user.id or 0)


def holder(portal: Portal, application_id: int) -> int | None:
    with portal.reading() as session:
        application = session.get(Application, application_id)
        assert application is not None
        return application.assignee_id


def signed_in(app: FastAPI, username: str) -> TestClient:
    client = client_of(app)
    login(client, username)
    return client


def post(client: TestClient, path: str, page: str, **data: str) -> int:
    token = csrf_of(client, page)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False).status_code


def test_claim_assign_reassign_unclaim_are_audited_and_scoped(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    enterprise, case = enterprise_with_case(portal_app, name="广州认领测试科技有限公司")
    ann, bob = staff(portal, "reviewer", district="haizhu"), staff(portal, "reviewer", district="haizhu")
    other = staff(portal, "reviewer", district="tianhe")
    a, b, far = signed_in(portal_app, ann), signed_in(portal_app, bob), signed_in(portal_app, other)
    page = f"/review/{case}"
    with portal.reading() as session:  # the case's version must not move with its holder
        version = session.get(Application, case).version  # type: ignore[union-attr]

    assert post(a, f"{page}/claim", page) == 303 and holder(portal, case) == user_id(portal, ann)
    assert "广州认领测试科技有限公司" in a.get("/review?holder=me").text
    assert ann in a.get("/review?q=认领测试").text  # the assignee column
    assert post(b, f"{page}/claim", page) == 409  # a colleague holds it
    assert post(far, f"{page}/claim", "/review") == 404  # another district: nothing there
    assert post(far, f"{page}/assign", "/review", assignee_id=str(user_id(portal, other))) == 404
    assert post(a, f"{page}/assign", page, assignee_id=str(user_id(portal, other))) == 404  # cannot serve it
    # Reassigning from a stale holder is refused; from the holder shown, it moves.
    assert post(b, f"{page}/assign", page, assignee_id=str(user_id(portal, bob))) == 409
    bob_id, ann_id = user_id(portal, bob), user_id(portal, ann)
    assert post(b, f"{page}/assign", page, assignee_id=str(bob_id), seen=str(ann_id)) == 303
    assert holder(portal, case) == bob_id
    assert post(a, f"{page}/unclaim", page) == 409  # no longer hers, and she heads nothing
    assert post(b, f"{page}/unclaim", page) == 303 and holder(portal, case) is None
    own_token = csrf_of(enterprise, "/applications")
    for path in (f"{page}/claim", f"{page}/unclaim"):
        assert enterprise.post(path, data={"csrf_token": own_token}).status_code == 403
    assert b.post(f"{page}/claim", data={}).status_code == 403  # no CSRF token

    with portal.reading() as session:
        assert session.get(Application, case).version == version  # type: ignore[union-attr]
        rows = session.exec(
            select(AuditEvent).where(AuditEvent.subject_id == str(case)).order_by(AuditEvent.seq)  # type: ignore[arg-type]
        ).all()
        assert verify_chain(session).ok
    moves = [(r.event, r.payload) for r in rows if r.event.startswith("case_")]
    assert moves == [
        ("case_claimed", {"from_assignee": None, "to_assignee": ann_id}),
        ("case_reassigned", {"from_assignee": ann_id, "to_assignee": bob_id}),
        ("case_unclaimed", {"from_assignee": bob_id, "to_assignee": None}),
    ]


def test_a_unit_head_moves_an_absent_reviewers_cases(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    cases = [enterprise_with_case(portal_app)[1] for _ in range(2)]
    away, cover, head = (staff(portal, "reviewer", district="haizhu") for _ in range(3))
    admin = staff(portal, "admin")
    with portal.reading() as session:
        admin_actor = actor_of(session.exec(select(User).where(User.username == admin)).one())
    assignment.set_unit_head(portal, admin_actor, user_id(portal, head), True)
    absent = signed_in(portal_app, away)
    for case in cases:
        assert post(absent, f"/review/{case}/claim", f"/review/{case}") == 303

    plain = signed_in(portal_app, cover)
    form = {"from_user": str(user_id(portal, away)), "to_user": str(user_id(portal, cover))}
    assert post(plain, "/review/team/move", "/review", **form) == 403  # not a head
    tianhe_head = staff(portal, "reviewer", district="tianhe")
    assignment.set_unit_head(portal, admin_actor, user_id(portal, tianhe_head), True)
    assert post(signed_in(portal_app, tianhe_head), "/review/team/move", "/review", **form) == 403

    boss = signed_in(portal_app, head)
    assert 'href="/review/team/move"' in boss.get("/review").text
    token = csrf_of(boss, "/review/team/move")
    page = boss.post("/review/team/move", data={"csrf_token": token, **form})
    assert page.status_code == 200
    assert "已转交 2 件，共 2 件。" in page.text
    assert all(holder(portal, case) == user_id(portal, cover) for case in cases)
    same = boss.post("/review/team/move", data={"csrf_token": token, **form, "from_user": form["to_user"]})
    assert same.status_code == 422 and "新经办人不能与原经办人相同" in same.text


def test_saved_views_are_bookmarkable_and_private(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    mine, theirs = staff(portal, "reviewer", district="haizhu"), staff(portal, "reviewer", district="haizhu")
    me, them = signed_in(portal_app, mine), signed_in(portal_app, theirs)
    token = csrf_of(me, "/review")
    data = {
        "csrf_token": token,
        "name": "待受理 按金额",
        "state": "submitted",
        "sort": "amount",
        "dir": "desc",
    }
    saved = me.post("/review/views", data=data, follow_redirects=False)
    assert saved.status_code == 303
    address = saved.headers["location"]
    assert re.fullmatch(r"/review/views/\d+", address)
    opened = me.get(address, follow_redirects=False)
    assert opened.headers["location"] == "/review?state=submitted&sort=amount&dir=desc"
    assert "待受理 按金额" in me.get("/review").text
    again = me.post("/review/views", data=data, follow_redirects=False)
    assert "view_error=taken" in again.headers["location"]
    assert "已有同名的筛选" in me.get(again.headers["location"]).text
    assert them.get(address, follow_redirects=False).status_code == 404
    view_id = address.rsplit("/", 1)[1]
    assert post(them, f"/review/views/{view_id}/delete", "/review") == 404
    assert post(me, f"/review/views/{view_id}/delete", "/review") == 303
    assert me.get(address, follow_redirects=False).status_code == 404


def test_a_district_reviewer_is_offered_only_their_district(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    reviewer = signed_in(portal_app, staff(portal, "reviewer", district="haizhu"))
    html = reviewer.get("/review").text
    district = re.search(r'<select id="filter-district" name="district">(.*?)</select>', html, re.S)
    assert district is not None
    assert re.findall(r'<option value="(\w+)"', district.group(1)) == ["haizhu"]
    admin = signed_in(portal_app, staff(portal, "admin"))
    everything = re.search(
        r'<select id="filter-district" name="district">(.*?)</select>', admin.get("/review").text, re.S
    )
    assert everything is not None and len(re.findall(r'<option value="\w+"', everything.group(1))) > 5
