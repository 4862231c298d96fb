"""Expert review over HTTP: the expert's read-only file, guidance and per-criterion scores with
comments; the panel on the bureau's case page; recusal, replacement and removal."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from fastapi import FastAPI
from portal_helpers import (
    PDF,
    case_form,
    client_of,
    edit_target,
    login,
    portal_app,
    register,
    save_profile,
    staff,
    start_application,
    stored,
)
from review_helpers import (
    ReviewedCase,
    assign,
    declare,
    expert_client,
    field_errors,
    pass_to_experts,
    score,
    score_form,
    to_expert_review,
)
from sqlmodel import col, select

from portal.db.tables import Application, AuditEvent, Enterprise, ExpertAssignment, ExpertConflict, User
from portal.services.enterprises import actor_for_username

__all__ = ["portal_app"]


def test_the_expert_is_told_who_applied_before_declaring_and_reads_nothing_else(portal_app: FastAPI) -> None:
    case = to_expert_review(portal_app, name="广州声明测试科技有限公司")
    with case.portal.reading() as session:
        application = session.get(Application, case.application_id)
        assert application is not None
        enterprise = session.get(Enterprise, application.enterprise_id)
        assert enterprise is not None
        uscc = enterprise.uscc
    name, expert_id = assign(case)
    expert = expert_client(case, name)
    page = expert.get(f"/expert/{case.application_id}").text
    # Who applied and for what, before the declaration: name, code and the form's title answer.
    before = page.split('id="declaration-title"')[0]
    assert "申报单位" in before and "广州声明测试科技有限公司" in before and uscc in before
    assert "项目名称" in before and "城市视觉示范项目" in before
    assert f"本人承诺与申报单位广州声明测试科技有限公司（统一社会信用代码 {uscc}）及其关联方" in page
    # Nothing else of the file: no other answer, no attachment, and the download is still refused.
    assert "张三" not in page and "合同.pdf" not in page and "project_name" not in page
    assert expert.get(f"/expert/{case.application_id}/attachments/1").status_code == 403
    expert.cookies.set("lang", "en")
    english = expert.get(f"/expert/{case.application_id}").text.split('id="declaration-title"')
    assert "The applicant" in english[0] and "Unified social credit code" in english[0] and uscc in english[0]
    assert "Project name" in english[0] and "城市视觉示范项目" in english[0]
    assert (
        f"tie to the applicant, 广州声明测试科技有限公司 (unified social credit code {uscc})," in english[1]
    )
    expert.cookies.set("lang", "zh")
    declare(expert, case.application_id)
    with case.portal.reading() as session:
        seat = session.exec(
            select(ExpertAssignment)
            .where(col(ExpertAssignment.application_id) == case.application_id)
            .where(col(ExpertAssignment.expert_id) == expert_id)
        ).one()
    # The statement kept is the one signed, naming the applicant.
    assert seat.declaration_text is not None and "广州声明测试科技有限公司" in seat.declaration_text
    assert uscc in seat.declaration_text


def test_the_expert_reads_the_file_scores_with_comments_and_is_locked(portal_app: FastAPI) -> None:
    case = to_expert_review(portal_app)
    name, expert_id = assign(case)
    expert = expert_client(case, name)
    before = expert.get(f"/expert/{case.application_id}").text
    assert "无利益冲突声明" in before and "合同.pdf" not in before
    assert expert.get(f"/expert/{case.application_id}/attachments/1").status_code == 403
    declare(expert, case.application_id)

    page = expert.get(f"/expert/{case.application_id}").text
    # The answers, the files and the trace, read-only; the rubric with its guidance and scale.
    assert (
        "合同.pdf" in page
        and "资格判断记录" in page
        and "<input" not in page.split("</h1>")[1].split("评分")[0]
    )
    for criterion in case.rubric.criteria:
        assert criterion.label.zh in page and criterion.guidance is not None and criterion.guidance.zh in page
    assert "90–100 优秀" in page
    # The trace says its 符合 are the declared figures, not verified facts.
    assert "“符合”表示所填信息满足该项条件，并不表示已核实" in page
    link = page.split('href="/expert/' + str(case.application_id) + "/attachments/")[1].split('"')[0]
    download = expert.get(f"/expert/{case.application_id}/attachments/{link}")
    assert download.status_code == 200 and download.content[:4] in (b"%PDF", b"PK\x03\x04")
    with case.portal.reading() as session:
        audited = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.subject_id) == str(case.application_id))
            .where(col(AuditEvent.event) == "attachment_downloaded")
        ).all()
    assert [e.actor_id for e in audited] == [expert_id]

    # 150 out of 100 is refused, per field, in Chinese only; nothing is stored.
    version, token = case_form(expert, f"/expert/{case.application_id}")
    form = score_form(case, "85", "论证充分")
    form["score:technology"] = "150"
    form["score:team"] = "abc"
    refused = expert.post(
        f"/expert/{case.application_id}/score",
        data={"csrf_token": token, "expected_version": str(version), **form},
    )
    assert refused.status_code == 422
    assert field_errors(refused.text) == ["分数须在 0 至 100 之间。", "请输入 0 至 100 之间的分数。"]
    assert "must" not in refused.text and "150" in refused.text
    expert.cookies.set("lang", "en")
    english = expert.post(
        f"/expert/{case.application_id}/score",
        data={"csrf_token": token, "expected_version": str(version), **form},
    )
    assert field_errors(english.text)[0] == "The score must be between 0 and 100."
    assert "分数" not in "".join(field_errors(english.text))
    expert.cookies.set("lang", "zh")

    # Post/Redirect/Get: the sheet goes in, the browser is sent to the case page (a refresh of which
    # sends nothing), and the confirmation is said there once, above the content.
    posted = score(expert, case, "85", "技术路线清晰")
    assert posted.status_code == 303 and posted.headers["location"] == f"/expert/{case.application_id}"
    done = expert.get(posted.headers["location"])
    flash = re.search(r'<div class="alert alert-success flash" role="status">(.*?)</div>', done.text, re.S)
    assert flash is not None and "评分已提交。" in flash[1]
    assert done.text.index("评分已提交。") < done.text.index("<h1>")
    assert "评分已提交并锁定" in done.text and "技术路线清晰" in done.text
    assert 'name="score:technology"' not in done.text
    assert "评分已提交。" not in expert.get(f"/expert/{case.application_id}").text  # said once
    # The sheet is locked: the form is gone, and a replayed post is refused.
    again = expert.post(
        f"/expert/{case.application_id}/score",
        data={"csrf_token": token, "expected_version": str(version + 1), **score_form(case, "90")},
    )
    # Said as what it is (the expert's own sheet is locked), not as someone else's change.
    assert again.status_code == 409 and "您已提交过对该申报的评分，评分提交后不能修改" in again.text

    panel = case.bureau.get(f"/review/{case.application_id}").text
    assert "评审专家组" in panel and name in panel and "已签署无利益冲突声明" in panel
    assert "技术路线清晰" in panel and "85.00" in panel
    assert "有效评分不足 3 份" in panel


def test_a_declining_expert_is_replaced_from_the_case_page(portal_app: FastAPI) -> None:
    case = to_expert_review(portal_app)
    name, expert_id = assign(case)
    expert = expert_client(case, name)
    version, token = case_form(expert, f"/expert/{case.application_id}")
    empty = expert.post(
        f"/expert/{case.application_id}/recuse",
        data={"csrf_token": token, "expected_version": str(version), "reason": " "},
    )
    assert empty.status_code == 422 and field_errors(empty.text) == ["请说明利益冲突情况。"]
    declined = expert.post(
        f"/expert/{case.application_id}/recuse",
        data={"csrf_token": token, "expected_version": str(version), "reason": "曾任该企业技术顾问"},
        follow_redirects=False,
    )
    assert declined.status_code == 303
    assert expert.get(f"/expert/{case.application_id}").status_code == 404

    page = case.bureau.get(f"/review/{case.application_id}").text
    assert "声明存在利益冲突并回避" in page and "曾任该企业技术顾问" in page
    _, replacement_id = assign(case)  # makes the account; put on the panel directly …
    version, token = case_form(case.bureau, f"/review/{case.application_id}")
    swapped = case.bureau.post(
        f"/review/{case.application_id}/experts/{expert_id}/replace",
        data={
            "csrf_token": token,
            "expected_version": str(version),
            "new_expert_id": str(replacement_id),
            "reason": "原专家回避",
        },
    )
    # … so replacing with an expert already on the panel is refused and changes nothing.
    assert swapped.status_code == 409
    with case.portal.reading() as session:
        row = session.get(Application, case.application_id)
        assert row is not None and row.version == version


def test_removing_a_conflicted_scorer_moves_a_passing_panel_to_notice(portal_app: FastAPI) -> None:
    case = to_expert_review(portal_app)
    values = ["20", "85", "85", "85"]
    ids = []
    for value in values:
        name, expert_id = assign(case)
        client = expert_client(case, name)
        declare(client, case.application_id)
        assert score(client, case, value).status_code == 303
        ids.append(expert_id)
    with case.portal.reading() as session:
        row = session.get(Application, case.application_id)
        assert row is not None and row.state == "expert_review"  # mean 68.75 < 70
    version, token = case_form(case.bureau, f"/review/{case.application_id}")
    removed = case.bureau.post(
        f"/review/{case.application_id}/experts/{ids[0]}/exclude",
        data={"csrf_token": token, "expected_version": str(version), "reason": "发现与申报单位存在合作关系"},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    with case.portal.reading() as session:
        row = session.get(Application, case.application_id)
        assert row is not None and row.state == "public_notice"
    page = case.bureau.get(f"/review/{case.application_id}").text
    assert "已移出评审组" in page and "85.00" in page and "已达合格线" in page


def _options(page: str, select_id: str) -> list[tuple[str, bool, str]]:
    """A picker's options as (value, disabled, text), in order."""
    match = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', page, re.S)
    assert match is not None, select_id
    return [
        (value, bool(disabled), unescape(text).strip())
        for value, disabled, text in re.findall(
            r'<option value="(\d+)"( disabled)?>([^<]*)</option>', match[1]
        )
    ]


def test_a_conflicted_expert_is_listed_barred_and_the_default_pick_is_assignable(portal_app: FastAPI) -> None:
    case = to_expert_review(portal_app)
    barred = staff(case.portal, "expert")
    barred_id = actor_for_username(case.portal, barred).user_id
    with case.portal.transaction() as session:
        application = session.get(Application, case.application_id)
        assert application is not None
        session.add(ExpertConflict(expert_id=barred_id, enterprise_id=application.enterprise_id))
    staff(case.portal, "expert"), staff(case.portal, "expert")  # assignable, made after the barred one

    page = case.bureau.get(f"/review/{case.application_id}").text
    options = _options(page, "assign-expert")
    assert (str(barred_id), True, f"{barred}（利益冲突：已申报与申报单位存在利益关系，不可指派）") in options
    first, disabled, _ = options[0]
    # The assignable come first, so the select's default is one the service accepts.
    assert not disabled and [d for _, d, _ in options] == sorted(d for _, d, _ in options)
    case.bureau.cookies.set("lang", "en")
    english = _options(case.bureau.get(f"/review/{case.application_id}").text, "assign-expert")
    assert (
        str(barred_id),
        True,
        f"{barred} (conflict of interest: declared a tie to the applicant; cannot be assigned)",
    ) in english
    case.bureau.cookies.set("lang", "zh")

    # The default pick goes on the panel; when it declines, the replacement picker bars the same expert.
    version, token = case_form(case.bureau, f"/review/{case.application_id}")
    assigned = case.bureau.post(
        f"/review/{case.application_id}/experts",
        data={"csrf_token": token, "expert_id": first, "expected_version": str(version)},
        follow_redirects=False,
    )
    assert assigned.status_code == 303
    with case.portal.reading() as session:
        username = session.get(User, int(first))
        assert username is not None
    expert = expert_client(case, username.username)
    version, token = case_form(expert, f"/expert/{case.application_id}")
    declined = expert.post(
        f"/expert/{case.application_id}/recuse",
        data={"csrf_token": token, "expected_version": str(version), "reason": "曾任该企业技术顾问"},
        follow_redirects=False,
    )
    assert declined.status_code == 303
    page = case.bureau.get(f"/review/{case.application_id}").text
    replace = _options(page, f"replace-{first}")
    assert (str(barred_id), True, f"{barred}（利益冲突：已申报与申报单位存在利益关系，不可指派）") in replace
    assert not replace[0][1] and first not in [value for value, _, _ in replace]


def _trace_rows(page: str) -> list[str]:
    """The trace table's rows as text: each cell's words, joined by "|"."""
    table = page.split("<h2>资格判断记录</h2>" if "资格判断记录" in page else "<h2>Eligibility trace</h2>")[1]
    body = table.split("<tbody>")[1].split("</tbody>")[0]
    return [
        "|".join(
            re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        )
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def test_the_reviewer_and_the_expert_read_an_any_of_group_as_a_group(portal_app: FastAPI) -> None:
    """The scenario award asks for any one of AI R&D, AI revenue or six certified staff: with three
    staff the group is met by the others, and the staff option reads as not needed, not 不符合."""
    case = to_expert_review(portal_app, profile={"enterprise.certified_ai_staff": "3"})
    review = _trace_rows(case.bureau.get(f"/review/{case.application_id}").text)
    assert "满足下列任一项即可|符合|符合" in review
    assert "持证人工智能人员不少于6人|未满足（已由其他条件满足）|未满足（已由其他条件满足）" in review
    assert not any("不符合" in row for row in review)
    case.bureau.cookies.set("lang", "en")
    english = _trace_rows(case.bureau.get(f"/review/{case.application_id}").text)
    assert "Any one of the following|Met|Met" in english
    assert (
        "At least 6 certified AI staff|Not met (another option is met)|Not met (another option is met)"
        in english
    )

    name, _ = assign(case)
    expert = expert_client(case, name)
    declare(expert, case.application_id)
    file = _trace_rows(expert.get(f"/expert/{case.application_id}").text)
    assert file[1:5] == [
        "满足下列任一项即可|符合",
        "上年度人工智能研发投入超过500万元|符合",
        "上年度人工智能业务收入超过500万元|符合",
        "持证人工智能人员不少于6人|未满足（已由其他条件满足）",
    ]
    expert.cookies.set("lang", "en")
    assert "At least 6 certified AI staff|Not met (another option is met)" in _trace_rows(
        expert.get(f"/expert/{case.application_id}").text
    )


def _forms(page: str) -> list[str]:
    """The panel's action forms, as their targets' last two path segments ("<expert id>/<action>")."""
    panel = page.split('id="panel"')[1].split("</section>")[0]
    return ["/".join(a.split("/")[-2:]) for a in re.findall(r'<form[^>]*action="([^"]+)"', panel)]


def test_a_late_expert_is_removed_from_the_page_even_when_nobody_can_replace_them(
    portal_app: FastAPI,
) -> None:
    """The demo's dead end: one scorer, one late expert, every other expert conflicted."""
    case = to_expert_review(portal_app)
    scorer, scorer_id = assign(case)
    client = expert_client(case, scorer)
    declare(client, case.application_id)
    assert score(client, case).status_code == 303
    late, late_id = assign(case)
    staff(case.portal, "expert")
    with case.portal.transaction() as session:  # everyone else in the pool (this module's too) is barred
        application = session.get(Application, case.application_id)
        assert application is not None
        others = session.exec(
            select(User.id).where(col(User.role) == "expert").where(col(User.id).not_in([scorer_id, late_id]))
        ).all()
        for other in others:
            session.add(ExpertConflict(expert_id=other, enterprise_id=application.enterprise_id))
    url = f"/review/{case.application_id}"
    saved = case.portal.today_override
    case.portal.today_override = case.portal.today() + timedelta(days=14)
    try:
        login(case.bureau, case.bureau_name)  # two weeks on: signed in afresh
        late_client = expert_client(case, late)
        page = unescape(case.bureau.get(url).text)
        # The scorer may still be removed for a conflict found later; the late expert for lateness only.
        assert _forms(page) == [f"{scorer_id}/exclude", f"{late_id}/remove-late"]
        assert f"因逾期未评分移出（{late}）" in page and 'value="逾期未评分，予以更换"' in page
        # Nobody to replace them with: said, with what to do about it.
        assert f"专家库中暂无可替换{late}的专家。可先将其移出评审组" in page
        assert "请联系平台管理员在“用户管理”中为专家库添加专家" in page
        case.bureau.cookies.set("lang", "en")
        english = unescape(case.bureau.get(url).text)
        assert (
            f"Remove for not scoring in time ({late})" in english
            and "Did not score by the deadline" in english
        )
        assert f"No expert in the pool can replace {late}." in english and "Ask an administrator" in english
        case.bureau.cookies.set("lang", "zh")

        version, token = case_form(case.bureau, url)
        removed = case.bureau.post(
            f"{url}/experts/{late_id}/remove-late",
            data={"csrf_token": token, "expected_version": str(version), "reason": "逾期未评分，予以更换"},
            follow_redirects=False,
        )
        assert removed.status_code == 303
        assert late_client.get(f"/expert/{case.application_id}").status_code == 404
        inbox = late_client.get("/inbox").text
        assert "评审任务已取消" in inbox
        # The scorer cannot be removed for lateness: the service refuses what the page does not offer.
        version, token = case_form(case.bureau, url)
        refused = case.bureau.post(
            f"{url}/experts/{scorer_id}/remove-late",
            data={"csrf_token": token, "expected_version": str(version), "reason": "逾期"},
            follow_redirects=False,
        )
        assert refused.status_code == 409
        page = unescape(case.bureau.get(url).text)
        assert "已将逾期未评分的专家移出评审组" not in page  # the flash was said once, after the removal
        assert "已移出评审组" in page and _forms(page) == [f"{scorer_id}/exclude"]

        # Once the pool has someone assignable, the removed seat can be filled from the page.
        fresh_id = actor_for_username(case.portal, staff(case.portal, "expert")).user_id
        page = case.bureau.get(url).text
        assert _forms(page) == [f"{scorer_id}/exclude", f"{late_id}/replace"]
        assert str(fresh_id) in page
        version, token = case_form(case.bureau, url)
        replaced = case.bureau.post(
            f"{url}/experts/{late_id}/replace",
            data={"csrf_token": token, "expected_version": str(version), "new_expert_id": str(fresh_id)},
            follow_redirects=False,
        )
        assert replaced.status_code == 303
        # The seat is filled, so it is not offered again (though the pool has someone else now); the new
        # expert has no button before their deadline.
        staff(case.portal, "expert")
        assert _forms(case.bureau.get(url).text) == [f"{scorer_id}/exclude"]
    finally:
        case.portal.today_override = saved


def _task_row(page: str, application_id: int) -> str:
    """The expert task list's row of one case, as text."""
    row = page.split(f'href="/expert/{application_id}"', 1)[1].split("</tr>", 1)[0]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split())


def test_the_task_list_says_who_applied_by_when_and_what_is_owed(portal_app: FastAPI) -> None:
    case = to_expert_review(portal_app, name="广州任务清单科技有限公司")
    name, _ = assign(case)
    idle, _ = assign(case)  # never declares: the panel decides without them
    expert = expert_client(case, name)
    due = case.portal.calendar.add_working_days(case.portal.today(), case.rubric.response_working_days)
    row = _task_row(expert.get("/expert").text, case.application_id)
    assert "广州任务清单科技有限公司" in row and f"{due.year}年{due.month}月{due.day}日" in row
    assert "待签署声明" in row and "逾期" not in row
    declare(expert, case.application_id)
    assert "待评分" in _task_row(expert.get("/expert").text, case.application_id)
    expert.cookies.set("lang", "en")
    assert "Scores to give" in _task_row(expert.get("/expert").text, case.application_id)
    expert.cookies.set("lang", "zh")
    assert score(expert, case).status_code == 303
    row = _task_row(expert.get("/expert").text, case.application_id)
    assert "已评分" in row and str(due.day) + "日" not in row
    # The case's history says a step that left the case in its stage once, not "专家评审 → 专家评审".
    page = unescape(case.bureau.get(f"/review/{case.application_id}").text)
    history = page.split('<ol class="history">')[1].split("</ol>")[0]
    assert "签署无利益冲突声明：专家评审<" in history and "评分：专家评审<" in history
    assert "主管部门复核 → 专家评审<" in history  # a step that moves the case still says both
    assert "专家评审 → 专家评审" not in history

    # Past the day to score by, the idle expert's case is flagged late; once the panel has decided,
    # their case reads closed, with the stage it is in, and no longer late.
    idle_client = expert_client(case, idle)
    saved = case.portal.today_override
    try:
        case.portal.today_override = due + timedelta(days=1)
        login(idle_client, idle)
        row = _task_row(idle_client.get("/expert").text, case.application_id)
        assert "逾期未评分" in row and "待签署声明" in row
        case.portal.today_override = saved
        for _ in range(case.rubric.min_scores - 1):  # the rest of the quorum scores
            other = expert_client(case, assign(case)[0])
            declare(other, case.application_id)
            assert score(other, case).status_code == 303
        case.portal.today_override = due + timedelta(days=1)
        login(idle_client, idle)
        row = _task_row(idle_client.get("/expert").text, case.application_id)
        assert "评分已结束 · 公示" in row and "逾期" not in row
        idle_client.cookies.set("lang", "en")
        row = _task_row(idle_client.get("/expert").text, case.application_id)
        assert "Scoring closed" in row and "Late" not in row
    finally:
        case.portal.today_override = saved


ST_SME = "qualification.st_sme"


def _st_sme_in_expert_review(app: FastAPI) -> ReviewedCase:
    """An S&T SME evaluation applied for through its form and passed on to the experts, over HTTP."""
    portal = app.state.portal
    enterprise = client_of(app)
    _, code = register(enterprise)
    save_profile(enterprise)
    application_id = start_application(enterprise, ST_SME)
    action, token = edit_target(enterprise, application_id)
    answers = {
        "enterprise_name": "广州测试人工智能有限公司",
        "uscc": code,
        "contact_person": "王工",
        "contact_phone": "13800000000",
        "employees": "120",
        "st_staff": "30",
        "revenue": "50000000",
        "total_assets": "80000000",
        "rd_expense": "4000000",
        "total_cost": "40000000",
        "ip_class1": "2",
        "ip_class2": "5",
        "not_restricted": "true",
    }
    files = [("attachment:financial_statements", ("报表.pdf", PDF, "application/pdf"))]
    response = enterprise.post(
        action, data={**answers, "csrf_token": token, "action": "submit"}, files=files, follow_redirects=False
    )
    assert response.status_code == 303, response.text[-3000:]
    district, bureau = client_of(app), client_of(app)
    login(district, staff(portal, "reviewer", district="haizhu"))
    bureau_name = staff(portal, "reviewer", bureau="gzsti")
    login(bureau, bureau_name)
    pass_to_experts(portal, application_id, {"district": district, "bureau": bureau})
    return ReviewedCase(app, application_id, enterprise, bureau, bureau_name, district)


def test_the_expert_on_an_st_sme_case_sees_and_is_scored_on_its_rubric(portal_app: FastAPI) -> None:
    """The score sheet, its check and the panel follow the case's measure: the S&T SME evaluation's
    indicators and pass mark of 60, never the project rubric (技术先进性 …)."""
    case = _st_sme_in_expert_review(portal_app)
    project = to_expert_review(portal_app)
    names = [assign(case)[0] for _ in range(case.rubric.min_scores)]
    expert = expert_client(case, names[0])
    declare(expert, case.application_id)
    page = expert.get(f"/expert/{case.application_id}").text
    for criterion in ("科技人员", "研发投入", "科技成果"):
        assert f"<legend>{criterion} <span" in page, criterion
    assert "科技型中小企业评价专家评审评分表" in page and "达到 60 分为通过" in page
    assert "技术先进性" not in page and "应用场景与示范效应" not in page
    expert.cookies.set("lang", "en")
    english = expert.get(f"/expert/{case.application_id}").text
    assert "Expert scoring rubric for the S&amp;T SME evaluation" in english and "R&amp;D spending" in english
    assert "Technological advancement" not in english
    expert.cookies.set("lang", "zh")
    # The project case's sheet is posted to the S&T SME case: its boxes are missing, so it is refused.
    version, token = case_form(expert, f"/expert/{case.application_id}")
    refused = expert.post(
        f"/expert/{case.application_id}/score",
        data={"csrf_token": token, "expected_version": str(version), **score_form(project, "85")},
    )
    assert refused.status_code == 422 and "score:st_staff" in refused.text
    # 65 on each indicator: below the project rubric's 70, above the S&T SME evaluation's 60.
    for n, name in enumerate(names):
        client = expert if n == 0 else expert_client(case, name)
        if n:
            declare(client, case.application_id)
        assert score(client, case, "65").status_code == 303
    panel = case.bureau.get(f"/review/{case.application_id}").text
    # Weights read as on the expert's own sheet, 权重 50, never ×50 (a multiplication).
    assert "科技人员" in panel and "（权重 50）" in panel and "×50" not in panel and "技术先进性" not in panel
    row = stored(portal_app, case.application_id)
    assert case.portal.workflows[row.workflow].state(row.state).kind == "notice"
    # The project case next to it keeps the project rubric.
    name, _ = assign(project)
    other = expert_client(project, name)
    declare(other, project.application_id)
    sheet = other.get(f"/expert/{project.application_id}").text
    assert "技术先进性" in sheet and "达到 70 分为通过" in sheet and "科技人员" not in sheet


def test_a_task_due_today_says_so(portal_app: FastAPI) -> None:
    """On the day to answer by, an owed step carries a badge: the last day, not yet late."""
    case = to_expert_review(portal_app, name="广州当日期限科技有限公司")
    name, _ = assign(case)
    expert = expert_client(case, name)
    due = case.portal.calendar.add_working_days(case.portal.today(), case.rubric.response_working_days)
    assert "今日到期" not in _task_row(expert.get("/expert").text, case.application_id)
    saved = case.portal.today_override
    try:
        case.portal.today_override = due
        login(expert, name)
        row = _task_row(expert.get("/expert").text, case.application_id)
        assert "今日到期" in row and "逾期" not in row and "待签署声明" in row
        expert.cookies.set("lang", "en")
        assert "Due today" in _task_row(expert.get("/expert").text, case.application_id)
        declare(expert, case.application_id)
        assert score(expert, case).status_code == 303
        assert "Due today" not in _task_row(expert.get("/expert").text, case.application_id)  # nothing owed
    finally:
        case.portal.today_override = saved
