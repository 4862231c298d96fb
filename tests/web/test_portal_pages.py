"""The signed-in portal through HTTP on SQLite and PostgreSQL: enterprise, reviewer, expert, admin.

Each test registers its own enterprise on the module's database, so tests stay independent
without paying for a new app (the pack load) per test.
"""

from __future__ import annotations

import re

from fastapi import FastAPI
from portal_helpers import (
    PASSWORD,
    PDF,
    case_form,
    client_of,
    csrf_of,
    edit_target,
    enterprise_with_case,
    fire,
    login,
    portal_app,
    register,
    save_profile,
    scenario_answers,
    staff,
    start_application,
    submitted_case,
)
from review_helpers import pass_to_experts
from sqlmodel import select

from portal.db.tables import Application, AuditEvent, EnterpriseProfile
from portal.services.case_files import audit_trail
from portal.services.enterprises import actor_for_username
from tests.support.rubrics import case_rubric

__all__ = ["portal_app"]


def stored(app: FastAPI, application_id: int) -> Application:
    with app.state.portal.reading() as session:
        row = session.get(Application, application_id)
        assert row is not None
        return row


def stage_of(html: str) -> list[str]:
    return re.findall(r'class="stage stage-[a-z_]+">([^<]+)<', html)


def test_register_then_profile_then_badges(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    _, code = register(client)
    assert code in client.get("/profile").text
    save_profile(client)
    page = client.get("/profile").text
    assert "已保存为第 1 版" in page
    catalogue = client.get("/catalogue").text
    for badge in ("可申报", "不符合", "需补充信息"):
        assert badge in catalogue
    # Each badge explains itself criterion by criterion, with the hints to pass.
    assert 'class="criterion criterion-fail ' in catalogue and "如何满足条件" in catalogue
    assert 'name="measure_id" value="subsidy.ai_scenario_demo"' in catalogue


def test_english_is_one_click_away(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    register(client)
    client.get("/lang/en?next=/catalogue")
    page = client.get("/catalogue").text
    assert 'lang="en"' in page and "Measures for my enterprise" in page and "More information needed" in page
    # No profile yet: the page asks for one instead of naming a version that does not exist.
    assert "Fill in the profile first" in page and "version None" not in page and "None" not in page
    measure = client.get("/catalogue/subsidy.compute_voucher").text
    assert "Fill in the profile first" in measure and "None" not in measure
    client.get("/lang/zh?next=/catalogue")
    page = client.get("/catalogue").text
    assert "请先填写企业信息" in page and "None" not in page
    measure = client.get("/catalogue/subsidy.compute_voucher").text
    assert "请先填写企业信息" in measure and "None" not in measure


def test_draft_resumes_and_submission_is_tracked(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    _, code = register(client)
    save_profile(client)
    application_id = start_application(client)
    # Prefilled from the profile before anything is typed.
    assert code in client.get(f"/applications/{application_id}/edit").text
    action, token = edit_target(client, application_id)
    draft = {"csrf_token": token, "action": "save", "project_name": "半途保存的项目", "uscc": code}
    assert client.post(action, data=draft, follow_redirects=False).status_code == 303
    assert "半途保存的项目" in client.get(f"/applications/{application_id}/edit").text

    action, token = edit_target(client, application_id)
    refused = client.post(action, data={**scenario_answers(code), "csrf_token": token, "action": "submit"})
    assert refused.status_code == 409 and "附件" in refused.text  # required uploads missing

    application_id = submitted_case(client, code)
    detail = client.get(f"/applications/{application_id}").text
    assert stage_of(detail) == ["已提交待受理"]
    assert "海珠区" in detail  # the responsible unit, named
    assert stored(portal_app, application_id).due_on is not None
    assert "提交申报" in detail  # the history


def test_the_enterprise_reads_what_it_submitted_and_downloads_its_files(portal_app: FastAPI) -> None:
    client, application_id = enterprise_with_case(portal_app)
    page = client.get(f"/applications/{application_id}").text
    assert "已提交的申报内容" in page and "第 1 版，提交于" in page
    assert "城市视觉示范项目" in page and "合同.pdf" in page and "budget.xlsx" in page
    assert "<input" not in page.split("已提交的申报内容")[1]  # read-only
    [link] = re.findall(rf'href="(/applications/{application_id}/attachments/\d+)">合同.pdf', page)
    download = client.get(link)
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    with portal_app.state.portal.reading() as session:
        audited = session.exec(
            select(AuditEvent.event).where(AuditEvent.subject_id == str(application_id))  # type: ignore[arg-type]
        ).all()
    assert "attachment_downloaded" in audited
    stranger, _ = enterprise_with_case(portal_app)
    assert stranger.get(link).status_code == 404
    client.cookies.set("lang", "en")
    assert "What you submitted" in client.get(f"/applications/{application_id}").text
    draft = start_application(client)
    assert "What you submitted" not in client.get(f"/applications/{draft}").text


def test_profile_edit_never_changes_a_submitted_case(portal_app: FastAPI) -> None:
    client, application_id = enterprise_with_case(portal_app)
    before = stored(portal_app, application_id)
    save_profile(client, **{"enterprise.revenue": "1", "enterprise.district": "tianhe"})
    after = stored(portal_app, application_id)
    assert (after.profile_version, after.eligibility_trace) == (
        before.profile_version,
        before.eligibility_trace,
    )
    with portal_app.state.portal.reading() as session:
        rows = session.exec(
            select(EnterpriseProfile).where(EnterpriseProfile.enterprise_id == after.enterprise_id)
        ).all()
    assert sorted(r.version for r in rows) == [1, 2]
    assert (
        next(r for r in rows if r.version == before.profile_version).facts["enterprise"]["district"]
        == "haizhu"
    )


def test_review_amend_resubmit_round_trip(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    enterprise, application_id = enterprise_with_case(portal_app, name="广州审核往返科技有限公司")

    reviewer = client_of(portal_app)
    login(reviewer, staff(portal, "reviewer", district="haizhu"))
    queue = reviewer.get("/review").text
    assert f'href="/review/{application_id}"' in queue and "广州审核往返科技有限公司" in queue
    case = reviewer.get(f"/review/{application_id}").text
    assert re.findall(r'name="event" value="([^"]+)"', case) == ["accept"]

    files = re.findall(rf'href="(/review/{application_id}/attachments/\d+)">([^<]+)<', case)
    assert sorted(name for _, name in files) == ["budget.xlsx", "合同.pdf"]
    download = reviewer.get(next(url for url, name in files if name == "合同.pdf"))
    assert download.status_code == 200 and download.content == PDF

    outsider = client_of(portal_app)
    login(outsider, staff(portal, "reviewer", district="tianhe"))
    assert outsider.get(f"/review/{application_id}").status_code == 404
    assert f'href="/review/{application_id}"' not in outsider.get("/review").text
    assert all(outsider.get(url).status_code == 404 for url, _ in files)

    assert fire(reviewer, application_id, "accept") == 303
    events = re.findall(r'name="event" value="([^"]+)"', reviewer.get(f"/review/{application_id}").text)
    assert events == ["district_approve", "return_for_amendment", "reject"]
    # A required comment is required: the case page again, its error summary naming the box.
    assert fire(reviewer, application_id, "return_for_amendment") == 422
    assert fire(reviewer, application_id, "return_for_amendment", "请补充投资明细", sections="budget") == 303

    detail = enterprise.get(f"/applications/{application_id}").text
    assert stage_of(detail) == ["退回补正"] and "请补充投资明细" in detail
    form = enterprise.get(f"/applications/{application_id}/edit").text
    assert form.count("form-section-locked") == 2 and 'id="section-budget"' in form
    assert "请补充投资明细" in form.split('id="section-budget"')[1]

    action, token = edit_target(enterprise, application_id)
    data = {
        "csrf_token": token,
        "action": "submit",
        "investment": "15000000",
        "requested_amount": "4000000",
        # Fields of locked sections are ignored even if a client sends them.
        "project_name": "篡改后的项目名称",
    }
    assert enterprise.post(action, data=data, follow_redirects=False).status_code == 303
    assert stage_of(enterprise.get(f"/applications/{application_id}").text) == ["区级初审"]

    case = reviewer.get(f"/review/{application_id}").text
    assert "有变化" in case and "比较第 1 版与第 2 版" in case
    assert "城市视觉示范项目" in case and "篡改后的项目名称" not in case
    assert "15,000,000.00" in case and ">15000000<" not in case  # money as people read it
    assert "提交时" in case and "按现行规则重新判断" in case
    # Its 符合 are the declared figures', not verified facts, and it says so.
    assert "“符合”表示所填信息满足该项条件，并不表示已核实" in case
    # The audit trail says who acted by name and role, and what they did in words (issue 11 §4).
    trail = case.split("审计记录")[1]
    assert "张会计（企业用户）" in trail and "创建申报草稿" in trail
    assert not re.search(r"#\d|create_draft", trail)


def test_stale_version_gets_the_conflict_page(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    _, application_id = enterprise_with_case(portal_app)
    reviewer = client_of(portal_app)
    login(reviewer, staff(portal, "reviewer", district="haizhu"))
    version, token = case_form(reviewer, f"/review/{application_id}")
    data = {"csrf_token": token, "event": "accept", "expected_version": str(version)}
    assert (
        reviewer.post(f"/review/{application_id}/transition", data=data, follow_redirects=False).status_code
        == 303
    )
    stale = reviewer.post(f"/review/{application_id}/transition", data=data, follow_redirects=False)
    assert stale.status_code == 409 and "操作冲突" in stale.text
    assert stored(portal_app, application_id).state == "district_review"


def test_the_district_stage_names_the_district_bureau(portal_app: FastAPI) -> None:
    """办理单位 of a case at its district stage names the district's bureau, as a bureau stage
    names the city's, in both languages (not the bare district, 海珠区)."""
    client, application_id = enterprise_with_case(portal_app)
    assert stored(portal_app, application_id).district == "haizhu"
    handled = re.compile(r"<dt>(?:办理单位|Handled by)</dt><dd>([^<]*)</dd>")
    zh = handled.search(client.get(f"/applications/{application_id}").text)
    assert zh is not None and zh.group(1) == "广州市海珠区科技工业商务和信息化局"
    client.cookies.set("lang", "en")
    en = handled.search(client.get(f"/applications/{application_id}").text)
    assert en is not None
    assert (
        en.group(1)
        == "Haizhu District Bureau of Science, Technology, Industry, Commerce and Information Technology"
    )
    listed = client.get("/applications").text
    assert "Haizhu District Bureau of Science" in listed


def test_withdraw_before_approval(portal_app: FastAPI) -> None:
    client, application_id = enterprise_with_case(portal_app)
    version, token = case_form(client, f"/applications/{application_id}")
    data = {"csrf_token": token, "expected_version": str(version)}
    asked = client.post(f"/applications/{application_id}/withdraw", data=data, follow_redirects=False)
    assert asked.status_code == 200 and "是否撤回申报？" in asked.text
    response = client.post(
        f"/applications/{application_id}/withdraw",
        data={**data, "confirm": "yes"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert stage_of(client.get(f"/applications/{application_id}").text) == ["已撤回"]


def test_login_lockout_is_enforced_and_audited(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    client = client_of(portal_app)
    username, _ = register(client)
    client = client_of(portal_app)
    for _ in range(portal.login_max_failures):
        token = csrf_of(client, "/login")
        wrong = client.post(
            "/login", data={"username": username, "password": "wrong-password", "csrf_token": token}
        )
        assert wrong.status_code == 401
    token = csrf_of(client, "/login")
    locked = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    # Locked, the right password gets exactly the wrong-password answer: it confirms nothing.
    strip = re.compile(r'name="csrf_token" value="[^"]+"')
    assert locked.status_code == 401
    assert strip.sub("", locked.text) == strip.sub("", wrong.text)
    actor = actor_for_username(portal, username)
    with portal.reading() as session:
        rows = session.exec(select(AuditEvent).where(AuditEvent.subject_id == str(actor.user_id))).all()
        refused = session.exec(
            select(AuditEvent).where(AuditEvent.subject_type == "login", AuditEvent.subject_id == username)
        ).all()
    assert "account_locked" in [e.event for e in rows]
    assert [(e.event, (e.payload or {}).get("reason")) for e in refused] == [("login_failed", "not_open")]


def test_expert_declares_before_scoring_and_admin_manages_users(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    _, application_id = enterprise_with_case(portal_app)
    district = client_of(portal_app)
    login(district, staff(portal, "reviewer", district="haizhu"))
    bureau = client_of(portal_app)
    login(bureau, staff(portal, "reviewer", bureau="hzkgxj"))
    pass_to_experts(portal, application_id, {"district": district, "bureau": bureau})

    expert_name = staff(portal, "expert")
    expert_id = actor_for_username(portal, expert_name).user_id
    version, token = case_form(bureau, f"/review/{application_id}")
    assigned = bureau.post(
        f"/review/{application_id}/experts",
        data={"csrf_token": token, "expert_id": str(expert_id), "expected_version": str(version)},
        follow_redirects=False,
    )
    assert assigned.status_code == 303
    # The reviewer is told whom they put on the panel (the page used to reload without a word).
    assert f"已指派评审专家：{expert_name}。" in bureau.get(assigned.headers["location"]).text

    expert = client_of(portal_app)
    login(expert, expert_name)
    page = expert.get(f"/expert/{application_id}").text
    assert "无利益冲突声明" in page and 'name="score:technology"' not in page
    version, token = case_form(expert, f"/expert/{application_id}")
    unconfirmed = expert.post(
        f"/expert/{application_id}/declare", data={"csrf_token": token, "expected_version": str(version)}
    )
    assert unconfirmed.status_code == 422
    declared = expert.post(
        f"/expert/{application_id}/declare",
        data={"csrf_token": token, "expected_version": str(version), "confirm": "true"},
        follow_redirects=False,
    )
    assert declared.status_code == 303
    version, token = case_form(expert, f"/expert/{application_id}")
    scores = {f"score:{c.id}": "85" for c in case_rubric(portal, application_id).criteria}
    scored = expert.post(
        f"/expert/{application_id}/score",
        data={"csrf_token": token, "expected_version": str(version), **scores},
    )
    assert scored.status_code == 200 and "评分已提交" in scored.text

    admin = client_of(portal_app)
    admin_name = staff(portal, "admin")
    login(admin, admin_name)
    assert expert_name in admin.get("/admin/users").text
    token = csrf_of(admin, "/admin/users")
    created = admin.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": f"new_{expert_name}",
            "display_name": "新审核员",
            "role": "reviewer",
            "district": "panyu",
            "password": PASSWORD,
        },
        follow_redirects=False,
    )
    assert created.status_code == 303 and f"new_{expert_name}" in admin.get("/admin/users").text
    supervisor = admin.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": f"sup_{expert_name}",
            "display_name": "海珠区监管员",
            "role": "supervisor",
            "district": "haizhu",
            "password": PASSWORD,
        },
        follow_redirects=False,
    )
    assert supervisor.status_code == 303
    assert actor_for_username(portal, f"sup_{expert_name}").role == "supervisor"
    assert "监管人员" in admin.get("/admin/users").text
    trail = [e.event for e in audit_trail(portal, actor_for_username(portal, admin_name), application_id)]
    assert trail[0] == "create_draft" and {"declare_no_conflict", "score"} <= set(trail)


def test_the_reviewer_is_told_of_the_enterprises_other_cases_for_the_measure(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    _, code = register(client)
    save_profile(client)
    first, second = submitted_case(client, code), submitted_case(client, code)
    _, lone = enterprise_with_case(portal_app)
    reviewer = client_of(portal_app)
    login(reviewer, staff(portal_app.state.portal, "reviewer", district="haizhu"))
    page = reviewer.get(f"/review/{second}").text
    assert "该企业另有 1 件本政策的申报，请核对是否重复申报" in page
    assert f'<a href="/review/{first}">#{first}</a> · 已提交待受理' in page
    assert f'href="/review/{second}">' not in page.split("请核对是否重复申报")[1].split("</ul>")[0]
    assert "请核对是否重复申报" not in reviewer.get(f"/review/{lone}").text
    reviewer.cookies.set("lang", "en")
    english = reviewer.get(f"/review/{first}").text
    assert "Other applications by this enterprise for this measure (1)" in english
    assert f'<a href="/review/{second}">#{second}</a> · ' in english
    # A draft is the enterprise's own until it is sent: not counted, not linked.
    draft = start_application(client)
    reviewer.cookies.set("lang", "zh")
    page = reviewer.get(f"/review/{first}").text
    assert "该企业另有 1 件本政策的申报" in page and f'href="/review/{draft}"' not in page
    # The lead unit sees the same pair.
    bureau = client_of(portal_app)
    login(bureau, staff(portal_app.state.portal, "reviewer", bureau="hzkgxj"))
    assert f'<a href="/review/{second}">#{second}</a>' in bureau.get(f"/review/{first}").text
