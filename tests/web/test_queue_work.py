"""Claiming, assigning and moving cases, and saved queue views, over HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import (
    case_form,
    client_of,
    csrf_of,
    enterprise_with_case,
    login,
    portal_app,
    save_profile,
    staff,
)
from sqlmodel import select

from portal.db.audit import verify_chain
from portal.db.tables import Application, AuditEvent, Enterprise, User
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
    case_page = a.get(page).text
    assert "认领案件" in case_page and "case_claimed" not in case_page  # the audit row, in words
    # Every row of the trail in words, each actor by name and role, never by code or number.
    trail = case_page[case_page.index("审计记录") :]
    assert "创建申报草稿" in trail and "create_draft" not in trail and "save_draft" not in trail
    assert re.search(r"<td[^>]*>[^<#]+（审核人员）</td>", trail) and " #" not in trail
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
    # The summary names the field and links to it; the field is marked (issue 11 §3).
    assert 'href="#to_user">新经办人：新经办人不能与原经办人相同' in same.text
    assert re.search(r'<select id="to_user"[^>]*aria-invalid="true"', same.text)


def test_the_move_page_counts_each_reviewer_s_cases_and_moves_none_as_no_move(portal_app: FastAPI) -> None:
    """Each reviewer is listed with the cases they hold; moving from one who holds none is refused
    in words at the field, never reported as "0 of 0 cases moved"."""
    portal = portal_app.state.portal
    _, case = enterprise_with_case(portal_app)
    away, idle, head = (staff(portal, "reviewer", district="haizhu") for _ in range(3))
    admin = staff(portal, "admin")
    with portal.reading() as session:
        admin_actor = actor_of(session.exec(select(User).where(User.username == admin)).one())
    assignment.set_unit_head(portal, admin_actor, user_id(portal, head), True)
    assert post(signed_in(portal_app, away), f"/review/{case}/claim", f"/review/{case}") == 303
    boss = signed_in(portal_app, head)
    page = boss.get("/review/team/move").text
    assert f">{away}（在办 1 件）<" in page and f">{idle}（在办 0 件）<" in page
    boss.cookies.set("lang", "en")
    assert f">{away} (cases held: 1)<" in boss.get("/review/team/move").text
    token = csrf_of(boss, "/review/team/move")
    form = {
        "csrf_token": token,
        "from_user": str(user_id(portal, idle)),
        "to_user": str(user_id(portal, away)),
    }
    refused = boss.post("/review/team/move", data=form)
    assert refused.status_code == 422 and "0 of 0" not in refused.text
    assert 'href="#from_user">From: This reviewer holds no cases; there is nothing to move.' in refused.text
    assert re.search(r'<select id="from_user"[^>]*aria-invalid="true"', refused.text)
    boss.cookies.set("lang", "zh")
    refused = boss.post("/review/team/move", data=form)
    assert refused.status_code == 422 and "该人员目前没有在办案件，无需转交" in refused.text
    assert "已转交 0 件" not in refused.text and holder(portal, case) == user_id(portal, away)


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
    refused = me.get(again.headers["location"]).text
    assert 'href="#view-name">将当前筛选保存为：已有同名的筛选，请换一个名称。' in refused
    assert them.get(address, follow_redirects=False).status_code == 404
    view_id = address.rsplit("/", 1)[1]
    assert post(them, f"/review/views/{view_id}/delete", "/review") == 404
    assert post(me, f"/review/views/{view_id}/delete", "/review") == 303
    assert me.get(address, follow_redirects=False).status_code == 404


def district_choices(client: TestClient) -> list[str] | None:
    """The district filter's choices on the queue, None when it is not offered."""
    html = client.get("/review").text
    district = re.search(r'<select id="filter-district" name="district">(.*?)</select>', html, re.S)
    return None if district is None else re.findall(r'<option value="(\w+)"', district.group(1))


def test_a_district_reviewer_has_no_district_to_choose(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    reviewer = signed_in(portal_app, staff(portal, "reviewer", district="haizhu"))
    assert district_choices(reviewer) is None  # their own district only: nothing to choose
    html = reviewer.get("/review").text
    stages = re.search(r'<select id="filter-state" name="state">(.*?)</select>', html, re.S)
    assert stages is not None
    offered = set(re.findall(r'<option value="(\w+)"', stages.group(1)))
    assert "submitted" in offered and "registered" not in offered  # no bank-loan (bureau) stages
    # Where the district's cases went next is offered too: the list shows them, the filter finds them.
    assert {"bureau_review", "public_notice", "disbursed"} <= offered
    everything = district_choices(signed_in(portal_app, staff(portal, "admin")))
    assert everything is not None and len(everything) > 5


def test_a_bureau_is_offered_the_districts_its_cases_come_from(portal_app: FastAPI) -> None:
    """A district-level bureau's cases are one district's: it is not offered the city's others."""
    portal = portal_app.state.portal
    reviewer = signed_in(portal_app, staff(portal, "reviewer", bureau="hzkgxj"))
    enterprise_with_case(portal_app)
    assert district_choices(reviewer) is None
    _, elsewhere = enterprise_with_case(portal_app)
    with portal.transaction() as session:  # the unit's case filed in another district
        moved = session.get(Application, elsewhere)
        assert moved is not None
        moved.district = "tianhe"
        session.add(moved)
    assert district_choices(reviewer) == ["haizhu", "tianhe"]
    assert district_choices(signed_in(portal_app, staff(portal, "reviewer", bureau="gzsti"))) is None


def test_bulk_accept_confirms_first_and_reports_each_case_in_words(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    first, second = (enterprise_with_case(portal_app)[1] for _ in range(2))
    reviewer = signed_in(portal_app, staff(portal, "reviewer", district="haizhu"))
    queue = reviewer.get(f"/review?q=%23{first}").text
    picked = re.findall(r'name="case" value="(\d+:\d+)"', queue)
    assert picked and picked[0].startswith(f"{first}:")
    seen = [
        picked[0],
        re.findall(r'name="case" value="(\d+:\d+)"', reviewer.get(f"/review?q=%23{second}").text)[0],
    ]
    event = re.search(r'<select id="bulk-event" name="event"><option value="(\w+)"', queue)
    assert event is not None
    token = csrf_of(reviewer, "/review")
    form = {"csrf_token": token, "event": event.group(1), "case": seen}
    confirm = reviewer.post("/review/bulk", data=form)
    assert confirm.status_code == 200 and 'action="/review/bulk/run"' in confirm.text
    assert f"#{first}" in confirm.text and f"#{second}" in confirm.text
    with portal.reading() as session:
        assert session.get(Application, first).state == "submitted"  # type: ignore[union-attr]  # nothing yet

    colleague = signed_in(portal_app, staff(portal, "reviewer", district="haizhu"))
    assert post(colleague, f"/review/{second}/claim", f"/review/{second}") == 303  # not a version change
    version, colleague_token = case_form(colleague, f"/review/{second}")
    moved = colleague.post(
        f"/review/{second}/transition",
        data={"csrf_token": colleague_token, "event": event.group(1), "expected_version": str(version)},
    )
    assert moved.status_code == 200, (event.group(1), moved.text[-3000:])  # the colleague acted first

    done = reviewer.post("/review/bulk/run", data=form)
    assert done.status_code == 200
    assert "已办理 1 件，共 2 件。" in done.text
    assert "未办理：在您查看之后已被他人处理" in done.text
    with portal.reading() as session:
        assert session.get(Application, first).state != "submitted"  # type: ignore[union-attr]

    far = signed_in(portal_app, staff(portal, "reviewer", district="tianhe"))
    far_form = {**form, "csrf_token": csrf_of(far, "/review")}
    assert far.post("/review/bulk", data=far_form).status_code == 422  # nothing of theirs to confirm
    assert "未办理：案件不存在或不在您的办理范围内" in far.post("/review/bulk/run", data=far_form).text
    bad = reviewer.post("/review/bulk", data={**form, "case": ["1; drop"]})
    assert bad.status_code == 422
    assert reviewer.post("/review/bulk", data={**form, "event": "reject"}).status_code == 422  # never in bulk
    enterprise, _ = enterprise_with_case(portal_app)
    assert (
        enterprise.post(
            "/review/bulk/run", data={**form, "csrf_token": csrf_of(enterprise, "/applications")}
        ).status_code
        == 403
    )


def test_the_enterprise_file_is_for_its_districts_staff_only(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    enterprise, case = enterprise_with_case(portal_app, name="广州一企一档科技有限公司")
    with portal.reading() as session:
        application = session.get(Application, case)
        assert application is not None
        owner = session.get(Enterprise, application.enterprise_id)
        assert owner is not None
    path = f"/enterprises/{owner.uscc}"
    district = signed_in(portal_app, staff(portal, "reviewer", district=owner.district))
    page = district.get(path)
    assert page.status_code == 200
    assert "广州一企一档科技有限公司" in page.text and f'href="/review/{case}"' in page.text
    assert "第 1 版" in page.text
    save_profile(enterprise, **{"enterprise.model_filed": "false"})
    changed = district.get(path).text
    label = portal.pack.facts.get("enterprise.model_filed").label.get("zh")
    assert "较上一版修改了：" in changed and label in changed and "model_filed" not in changed
    # The diff shows the old and the new value, in words, beside the fact's label.
    assert (
        f'<td data-label="信息项">{label}</td><td data-label="原值">是</td><td data-label="新值">否</td>'
        in changed
    )
    for heading in ("银行查询记录", "筛查命中", "多件申报共用的附件", "公示异议"):
        assert heading in changed
    assert signed_in(portal_app, staff(portal, "admin")).get(path).status_code == 200
    other = "tianhe" if owner.district != "tianhe" else "haizhu"
    assert signed_in(portal_app, staff(portal, "reviewer", district=other)).get(path).status_code == 404
    assert district.get("/enterprises/91440101MA00000000").status_code == 404
    assert enterprise.get(path, follow_redirects=False).status_code == 403
    assert client_of(portal_app).get(path, follow_redirects=False).status_code == 303


def test_claim_unclaim_and_assign_each_say_what_happened(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    _, case = enterprise_with_case(portal_app, name="广州认领消息测试科技有限公司")
    ann, bob = staff(portal, "reviewer", district="haizhu"), staff(portal, "reviewer", district="haizhu")
    a = signed_in(portal_app, ann)
    page = f"/review/{case}"
    assert post(a, f"{page}/claim", page) == 303
    assert f"已认领申报 #{case}" in a.get(page).text
    assert f"已认领申报 #{case}" not in a.get(page).text  # said once
    assert post(a, f"{page}/unclaim", page) == 303
    assert f"申报 #{case} 已放回待办" in a.get(page).text
    bob_name = assignment.holder_names(portal, {user_id(portal, bob)})
    assert post(a, f"{page}/assign", page, assignee_id=str(user_id(portal, bob))) == 303
    assert f"申报 #{case} 已交由{bob_name[user_id(portal, bob)]}办理" in a.get(page).text


def test_a_closed_case_is_nobodys_work(portal_app: FastAPI) -> None:
    """A withdrawn case offers no claim or assignment, and a forged one is refused in words."""
    portal = portal_app.state.portal
    enterprise, case = enterprise_with_case(portal_app)
    version, token = case_form(enterprise, f"/applications/{case}")
    withdrawn = enterprise.post(
        f"/applications/{case}/withdraw",
        data={"csrf_token": token, "expected_version": str(version), "confirm": "yes"},
        follow_redirects=False,
    )
    assert withdrawn.status_code == 303
    ann, bob = staff(portal, "reviewer", district="haizhu"), staff(portal, "reviewer", district="haizhu")
    a = signed_in(portal_app, ann)
    page = f"/review/{case}"
    html = a.get(page).text
    assert f'action="{page}/claim"' not in html and f'action="{page}/assign"' not in html
    token = csrf_of(a, page)
    claimed = a.post(f"{page}/claim", data={"csrf_token": token}, follow_redirects=False)
    assert claimed.status_code == 409 and "该案件已办结，无需认领或指派" in claimed.text
    a.cookies.set("lang", "en")
    bob_id = str(user_id(portal, bob))
    given = a.post(f"{page}/assign", data={"csrf_token": token, "assignee_id": bob_id})
    assert given.status_code == 409 and "The case is closed; there is no work to take or give." in given.text
    assert holder(portal, case) is None


def test_the_bulk_confirm_page_offers_only_what_it_can_do_and_says_what_it_leaves_out(
    portal_app: FastAPI,
) -> None:
    portal = portal_app.state.portal
    ready = enterprise_with_case(portal_app, name="广州批量可办科技有限公司")[1]
    owner, withdrawn = enterprise_with_case(portal_app, name="广州批量撤回科技有限公司")
    changed = enterprise_with_case(portal_app, name="广州批量变动科技有限公司")[1]
    reviewer = signed_in(portal_app, staff(portal, "reviewer", district="haizhu"))
    queue = reviewer.get("/review").text
    event = re.search(r'<select id="bulk-event" name="event"><option value="(\w+)"', queue)
    assert event is not None
    seen = {
        case: re.findall(r'name="case" value="(\d+:\d+)"', reviewer.get(f"/review?q=%23{case}").text)[0]
        for case in (ready, withdrawn, changed)
    }
    # The enterprise withdraws one case; another changes after the reviewer looked.
    version, token = case_form(owner, f"/applications/{withdrawn}")
    gone = owner.post(
        f"/applications/{withdrawn}/withdraw",
        data={"csrf_token": token, "expected_version": str(version), "comment": "不再申报", "confirm": "yes"},
        follow_redirects=False,
    )
    assert gone.status_code == 303
    after_withdrawal = f"{withdrawn}:{version + 1}"  # as a queue reloaded now shows it
    colleague = signed_in(portal_app, staff(portal, "reviewer", district="haizhu"))
    assert fire_event(colleague, changed, event.group(1)) == 200
    workflow = portal.workflows[stored_state(portal, withdrawn)[0]]
    action = {e.event: e.label for e in workflow.transitions}[event.group(1)]
    withdrawn_stage = workflow.state(stored_state(portal, withdrawn)[1]).label

    form = {
        "csrf_token": csrf_of(reviewer, "/review"),
        "event": event.group(1),
        "case": [seen[ready], after_withdrawal, seen[changed]],
    }
    confirm = reviewer.post("/review/bulk", data=form)
    assert confirm.status_code == 200
    page = confirm.text
    # Only the case the action can be taken on is listed and sent on.
    assert f"将对以下 1 件案件执行“{action.zh}”" in page
    assert re.findall(r'name="case" value="(\d+):\d+"', page) == [str(ready)]
    # The others are named, each with its reason in words.
    assert "不在本次办理之列：2 件" in page
    assert f"广州批量撤回科技有限公司：当前阶段为“{withdrawn_stage.zh}”，不能执行“{action.zh}”" in page
    assert "广州批量变动科技有限公司：在您查看之后已被他人处理，请打开案件核对" in page
    reviewer.cookies.set("lang", "en")
    english = reviewer.post("/review/bulk", data=form).text
    assert "Left out of this action: 2" in english
    assert f"its stage is now “{withdrawn_stage.en}”, where “{action.en}” cannot be taken" in english
    reviewer.cookies.set("lang", "zh")

    sent = {**form, "case": re.findall(r'name="case" value="(\d+:\d+)"', page)}
    done = reviewer.post("/review/bulk/run", data=sent)
    assert done.status_code == 200 and "已办理 1 件，共 1 件。" in done.text
    assert stored_state(portal, withdrawn)[1] == "withdrawn"


def stored_state(portal: Portal, application_id: int) -> tuple[str, str]:
    """(workflow, state) of a case as stored now."""
    with portal.reading() as session:
        application = session.get(Application, application_id)
        assert application is not None
        return application.workflow, application.state


def fire_event(client: TestClient, application_id: int, event: str) -> int:
    version, token = case_form(client, f"/review/{application_id}")
    return client.post(
        f"/review/{application_id}/transition",
        data={"csrf_token": token, "event": event, "expected_version": str(version)},
    ).status_code


def test_a_bureau_reviewer_is_offered_its_own_workflow_only(portal_app: FastAPI) -> None:
    """A unit that leads subsidies but no bank loans is offered neither the loan filings' stages
    nor their actions; a stage two workflows name alike reads as its own workflow's."""
    portal = portal_app.state.portal
    reviewer = signed_in(portal_app, staff(portal, "reviewer", bureau="hzkgxj"))
    html = reviewer.get("/review").text
    stages = re.search(r'<select id="filter-state" name="state">(.*?)</select>', html, re.S)
    assert stages is not None
    offered = dict(re.findall(r'<option value="(\w+)"[^>]*>([^<]*)</option>', stages.group(1)))
    assert "registered" not in offered and offered.get("rejected") == "不予通过"
    assert {"bureau_review", "public_notice", "disbursed"} <= set(offered)
    bulk = re.search(r'<select id="bulk-event" name="event">(.*?)</select>', html, re.S)
    assert bulk is None or "备案" not in bulk.group(1)
