"""公示 over HTTP: the anonymous /notices list, archive and search in zh and en, an objection
with a file (CSRF-protected, rate-limited), and the lead unit's view and close on the case page."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import PDF, case_form, client_of, fire, login, portal_app
from review_helpers import field_errors, sweep_after, to_public_notice
from sqlalchemy import update

from portal.db.tables import Application, Transition
from portal.services import notices
from portal.web.i18n import Translator

ZH, EN = Translator("zh"), Translator("en")

__all__ = ["portal_app"]


def _token(client, path: str) -> str:  # type: ignore[no-untyped-def]
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, path
    return match.group(1)


def _lodge(app: FastAPI, application_id: int, name: str, reasons: str) -> None:
    """A member of the public lodges an objection to the case's notice through its form, from an
    address of its own per case: the per-address throttle has a test of its own."""
    public = TestClient(
        app, raise_server_exceptions=False, client=(f"198.51.100.{application_id % 256}", 50000)
    )
    path = f"/notices/{application_id}"
    data = {"csrf_token": _token(public, path), "name": name, "contact": "020-5678", "reasons": reasons}
    assert public.post(f"{path}/objection", data=data, follow_redirects=False).status_code == 303


def test_anyone_reads_the_notice_and_lodges_an_objection_that_holds_the_case(portal_app: FastAPI) -> None:
    case = to_public_notice(portal_app, name="广州公示测试科技有限公司")
    public = client_of(portal_app)
    listing = public.get("/notices")
    assert listing.status_code == 200 and "广州公示测试科技有限公司" in listing.text
    assert "公示期" in listing.text and "受理异议单位" in listing.text
    assert "ai_scenario" not in listing.text and "hzkgxj" not in listing.text
    assert "广州公示测试科技有限公司" in public.get("/notices", params={"q": "公示测试"}).text
    assert "广州公示测试科技有限公司" not in public.get("/notices", params={"q": "没有这家"}).text
    public.cookies.set("lang", "en")
    english = public.get("/notices").text
    assert "Public notices" in english and "Notice period" in english
    public.cookies.set("lang", "zh")

    path = f"/notices/{case.application_id}"
    # No CSRF token: refused before anything is read.
    forged = public.post(f"{path}/objection", data={"name": "x", "contact": "y", "reasons": "z"})
    assert forged.status_code == 403
    token = _token(public, path)
    bad = public.post(
        f"{path}/objection",
        data={"csrf_token": token, "name": "", "contact": "020-1234", "email": "nope", "reasons": ""},
    )
    assert bad.status_code == 422
    assert field_errors(bad.text) == [
        "此项为必填项。",
        "请输入有效的电子邮箱地址，例如 name@example.com。",
        "此项为必填项。",
    ]
    wrong_file = public.post(
        f"{path}/objection",
        data={"csrf_token": token, "name": "王五", "contact": "020-1234", "reasons": "材料造假"},
        files={"file": ("evil.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")},
    )
    assert wrong_file.status_code == 422 and "文件内容不是可接受的格式" in wrong_file.text
    lodged = public.post(
        f"{path}/objection",
        data={
            "csrf_token": token,
            "name": "王五",
            "contact": "020-1234",
            "email": "wang@example.test",
            "reasons": "合同金额与发票不符",
        },
        files={"file": ("证据.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert lodged.status_code == 303
    [objection] = notices.objections_of(case.portal, case.bureau_actor, case.application_id)
    reference = objection.reference
    told = public.get(lodged.headers["location"]).text
    assert f"异议已提交，受理编号 {reference}" in told and "处理结果将发送至您留下的电子邮箱" in told
    # The acknowledgement names the notice by its formal number, not the case id.
    number = notices.notice_of(case.portal, case.application_id).number
    assert number and f"您对公示事项（公示编号 {number}）的异议已提交" in told
    assert "最多 5000 个字。" in told  # the limit is stated before anyone reaches it

    page = case.bureau.get(f"/review/{case.application_id}").text
    assert "公示异议" in page and "王五" in page and "合同金额与发票不符" in page and "待处理" in page
    assert f"受理编号 {reference}" in page  # staff see the number the objector quotes
    file = case.bureau.get(f"/review/{case.application_id}/objections/{objection.id}/file")
    assert file.status_code == 200 and file.content == PDF
    stranger = public.get(
        f"/review/{case.application_id}/objections/{objection.id}/file", follow_redirects=False
    )
    assert stranger.status_code in (303, 401, 403, 404) and stranger.content != PDF

    sweep_after(case.portal, 8)  # held: the sweep does not close a notice with a pending objection
    assert "王五" in case.bureau.get(f"/review/{case.application_id}").text
    version, token = case_form(case.bureau, f"/review/{case.application_id}")
    dismissed = case.bureau.post(
        f"/review/{case.application_id}/transition",
        data={
            "csrf_token": token,
            "expected_version": str(version),
            "event": "dismiss_objection",
            "comment": "经核查不成立",
        },
        follow_redirects=False,
    )
    assert dismissed.status_code == 303
    saved = case.portal.today_override
    case.portal.today_override = case.portal.today() + timedelta(days=8)
    try:
        bureau = client_of(portal_app)  # eight days on, the earlier session has expired: sign in again
        login(bureau, case.bureau_name)
        page = bureau.get(f"/review/{case.application_id}").text
        assert "结束公示" in page
        version, token = case_form(bureau, f"/review/{case.application_id}")
        closed = bureau.post(
            f"/review/{case.application_id}/close-notice",
            data={"csrf_token": token, "expected_version": str(version)},
            follow_redirects=False,
        )
        assert closed.status_code == 303
    finally:
        case.portal.today_override = saved
    archive = public.get("/notices", params={"archived": "true", "q": "公示测试"}).text
    assert "广州公示测试科技有限公司" in archive and "已批准待拨付" in archive


def test_the_case_page_says_how_to_decide_an_objection_only_while_it_can_be_decided(
    portal_app: FastAPI,
) -> None:
    case = to_public_notice(portal_app)
    _lodge(portal_app, case.application_id, "李四", "项目未建成")
    review = f"/review/{case.application_id}"
    pending = case.bureau.get(review).text
    assert ZH("objections.decide_help") in pending and "异议已于" not in pending
    assert 'value="dismiss_objection"' in pending  # the actions the help points to are there
    version, token = case_form(case.bureau, review)
    dismissed = case.bureau.post(
        f"{review}/transition",
        data={
            "csrf_token": token,
            "expected_version": str(version),
            "event": "dismiss_objection",
            "comment": "经核查项目已建成",
        },
        follow_redirects=False,
    )
    assert dismissed.status_code == 303
    decided = case.bureau.get(review).text
    # The flash says what was done in a sentence (it read "已异议不成立"), and that the notice goes on.
    assert "已办理“异议不成立”。本申报仍处于“公示”阶段。" in decided
    # The actions are gone, and so is the help that pointed to them: the outcome is said instead.
    assert 'value="dismiss_objection"' not in decided and ZH("objections.decide_help") not in decided
    assert re.search(r"<p>异议已于 [^<]+ 处理：异议不成立。</p>", decided)
    case.bureau.cookies.set("lang", "en")
    english = case.bureau.get(review).text
    assert EN("objections.decide_help") not in english
    assert re.search(r"<p>The objection was decided on [^<]+: dismissed\.</p>", english)


def _card(listing: str, application_id: int) -> str:
    """The notice card that links to the case, as the list shows it."""
    [card] = [
        c for c in listing.split('<li class="notice-card">')[1:] if f'href="/notices/{application_id}"' in c
    ]
    return card


def test_two_notices_of_one_enterprise_and_measure_are_told_apart(portal_app: FastAPI) -> None:
    first = to_public_notice(portal_app, name="广州同名公示科技有限公司", project_name="城市视觉一期示范项目")
    second = to_public_notice(
        portal_app, name="广州同名公示科技有限公司", project_name="城市视觉二期示范项目"
    )
    public = client_of(portal_app)
    listing = public.get("/notices", params={"q": "同名公示"}).text
    one, two = _card(listing, first.application_id), _card(listing, second.application_id)
    # Each entry carries its formal notice number, taken as it opened from the lead unit's own
    # counter for notices (not the case id), and the project the form names the case by.
    numbers = [notices.notice_of(portal_app.state.portal, c.application_id).number for c in (first, second)]
    serials = [re.fullmatch(r"海科工商信公示〔2026〕(\d+)号", n or "") for n in numbers]
    assert serials[0] and serials[1] and int(serials[1][1]) == int(serials[0][1]) + 1, numbers
    assert f'<dt>公示编号</dt><dd class="doc-number">{numbers[0]}</dd>' in one
    assert "<dt>项目名称</dt><dd>城市视觉一期示范项目</dd>" in one and "二期" not in one
    assert (
        f'<dt>公示编号</dt><dd class="doc-number">{numbers[1]}</dd>' in two and "城市视觉二期示范项目" in two
    )
    assert f"<dd>{first.application_id}</dd>" not in one and f"<dd>{second.application_id}</dd>" not in two
    # Nothing more of the answers than the title: not the contact person or the phone.
    assert "张三" not in listing and "13800138000" not in listing and "project_name" not in listing
    # The number and the project are searchable.
    by_project = public.get("/notices", params={"q": "二期示范"}).text
    assert "城市视觉二期示范项目" in by_project and "城市视觉一期示范项目" not in by_project
    by_number = public.get("/notices", params={"q": numbers[0]}).text
    assert "城市视觉一期示范项目" in by_number and "城市视觉二期示范项目" not in by_number
    by_case = public.get("/notices", params={"q": f"#{first.application_id}"}).text
    assert "城市视觉一期示范项目" in by_case and "城市视觉二期示范项目" not in by_case
    detail = public.get(f"/notices/{first.application_id}").text
    assert (
        f'<dt>公示编号</dt><dd class="doc-number">{numbers[0]}</dd>' in detail
        and "城市视觉一期示范项目" in detail
    )
    assert f"本异议针对公示编号 {numbers[0]} 的事项。" in detail
    public.cookies.set("lang", "en")
    english = _card(public.get("/notices", params={"q": "同名公示"}).text, second.application_id)
    assert f'<dt>Notice number</dt><dd class="doc-number">{numbers[1]}</dd>' in english
    assert "<dt>Project name</dt><dd>城市视觉二期示范项目</dd>" in english
    english_detail = public.get(f"/notices/{second.application_id}").text
    assert f"This objection concerns notice number {numbers[1]}." in english_detail


def test_objections_are_rate_limited_per_address(portal_app: FastAPI) -> None:
    case = to_public_notice(portal_app)
    # Its own address, so the other tests' objections do not share its window.
    public = TestClient(portal_app, raise_server_exceptions=False, client=("203.0.113.7", 50000))
    path = f"/notices/{case.application_id}"
    token = _token(public, path)
    limit = portal_app.state.objection_limiter.limit
    statuses = []
    for _ in range(limit + 1):
        response = public.post(
            f"{path}/objection",
            data={"csrf_token": token, "name": "赵六", "contact": "020-1", "reasons": "重复提交测试"},
            follow_redirects=False,
        )
        statuses.append(response.status_code)
    assert statuses[-1] == 429 and "Retry-After" in response.headers and "提交过于频繁" in response.text
    assert len(notices.objections_of(case.portal, case.bureau_actor, case.application_id)) <= limit


def test_the_case_header_gives_the_notice_s_end_day(portal_app: FastAPI) -> None:
    """A notice has no working-day deadline; its header says the day its timed event follows, and
    with nothing to do during the notice, its actions say its last day and the step from the day after."""
    case = to_public_notice(portal_app)
    with case.portal.reading() as session:
        application = session.get(Application, case.application_id)
        assert application is not None and application.stage_entered_at is not None
        entered = case.portal.clock.local_date(application.stage_entered_at)
    last, end = entered + timedelta(days=6), entered + timedelta(days=7)
    page = unescape(case.bureau.get(f"/review/{case.application_id}").text)
    due = page.split("办理时限")[1].split("</dd>")[0]
    assert f"{end.year}年{end.month}月{end.day}日（届时：公示期满，结束公示）" in due
    actions = page.split('id="objections"')[0].split("<h2>办理</h2>")[1]
    assert f"“公示”阶段至{ZH.date(last)}止；期满后（{ZH.date(end)}起）可办理：公示期满，结束公示。" in actions
    assert "当前阶段您没有可执行的操作" not in actions
    case.bureau.cookies.set("lang", "en")
    english = unescape(case.bureau.get(f"/review/{case.application_id}").text)
    assert "(then: Close the notice)" in english
    assert (
        f'The stage "Public notice" runs until {EN.date(last)}; once it has ended (from {EN.date(end)})'
        " the next step is: Close the notice." in english
    )


def test_the_enterprise_is_told_its_notice_is_held_by_an_objection(portal_app: FastAPI) -> None:
    """The notice's end day and its event are not shown while an objection holds the case: the
    enterprise reads that one came in (not who lodged it or why) and is notified."""
    case = to_public_notice(portal_app)
    own = f"/applications/{case.application_id}"
    assert "（届时：公示期满，结束公示）" in unescape(case.enterprise.get(own).text)
    _lodge(portal_app, case.application_id, "钱七", "产值虚报")
    today = case.portal.today()
    page = unescape(case.enterprise.get(own).text)
    due = page.split("办理时限")[1].split("</dd>")[0]
    assert "公示期满，结束公示" not in due and ZH("due.held_by_objection") in due
    assert ZH("app.objection_held", day=ZH.date(today)) in page
    assert "钱七" not in page and "020-9999" not in page and "产值虚报" not in page
    inbox = unescape(case.enterprise.get("/inbox").text)
    assert ZH("note.objection_received.title") in inbox and "钱七" not in inbox
    case.enterprise.cookies.set("lang", "en")
    english = unescape(case.enterprise.get(own).text)
    assert "(then: Close the notice" not in english
    assert EN("due.held_by_objection") in english and EN("app.objection_held", day=EN.date(today)) in english

    version, token = case_form(case.bureau, f"/review/{case.application_id}")
    dismissed = case.bureau.post(
        f"/review/{case.application_id}/transition",
        data={
            "csrf_token": token,
            "expected_version": str(version),
            "event": "dismiss_objection",
            "comment": "不成立",
        },
        follow_redirects=False,
    )
    assert dismissed.status_code == 303
    case.enterprise.cookies.set("lang", "zh")
    decided = unescape(case.enterprise.get(own).text)  # decided: the notice runs to its day again
    assert "（届时：公示期满，结束公示）" in decided and 'id="objection-held"' not in decided


def _row(listing: str, application_id: int, link: str) -> str:
    """The table row of a case list that links to the case."""
    [row] = [r for r in unescape(listing).split("<tr")[1:] if f'href="{link}/{application_id}"' in r]
    return row


def test_the_case_lists_and_the_reviewer_say_an_objection_holds_the_notice(portal_app: FastAPI) -> None:
    """Not the notice's end day and the step that follows an undisturbed notice: the enterprise's
    list says the case is held, the reviewer's page that an objection is open and where to decide it."""
    case = to_public_notice(portal_app)
    _lodge(portal_app, case.application_id, "孙八", "营收数据不实")
    today = case.portal.today()
    mine = _row(case.enterprise.get("/applications").text, case.application_id, "/applications")
    assert ZH("due.held_by_objection") in mine and "公示期满，结束公示" not in mine and "孙八" not in mine
    queued = _row(case.bureau.get("/review").text, case.application_id, "/review")
    assert ZH("due.held_by_objection") in queued and "公示期满，结束公示" not in queued
    review = unescape(case.bureau.get(f"/review/{case.application_id}").text)
    due = review.split("办理时限")[1].split("</dd>")[0]
    assert ZH("due.held_by_objection") in due and "公示期满，结束公示" not in due
    held = review.split('id="objection-open"')[1].split("</section>")[0]
    assert ZH("review.objection_open", day=ZH.date(today)) in held
    assert (
        f'<a href="#objections">{ZH("review.objection_decide")}</a>' in held and 'id="objections"' in review
    )
    case.enterprise.cookies.set("lang", "en")
    case.bureau.cookies.set("lang", "en")
    english = _row(case.enterprise.get("/applications").text, case.application_id, "/applications")
    assert EN("due.held_by_objection") in english and "(then: Close the notice" not in english
    held = unescape(case.bureau.get(f"/review/{case.application_id}").text).split('id="objection-open"')[1]
    assert EN("review.objection_open", day=EN.date(today)) in held and EN("review.objection_decide") in held
    case.bureau.cookies.set("lang", "zh")

    assert fire(case.bureau, case.application_id, "dismiss_objection", "经核查不成立") == 303
    decided = unescape(case.bureau.get(f"/review/{case.application_id}").text)
    assert 'id="objection-open"' not in decided and "（届时：公示期满，结束公示）" in decided
    mine = _row(case.enterprise.get("/applications").text, case.application_id, "/applications")
    assert "(then: Close the notice)" in mine
    # An objection was filed and dismissed: the day's event no longer claims there was none.
    due = decided.split("办理时限")[1].split("</dd>")[0]
    assert "届时" in due and "无异议" not in due
    case.bureau.cookies.set("lang", "en")
    for page in (unescape(case.bureau.get(f"/review/{case.application_id}").text), unescape(mine)):
        assert "(then: " in page and "without objection" not in page


def test_the_enterprise_hears_a_dismissed_objection_but_not_who_lodged_it(portal_app: FastAPI) -> None:
    case = to_public_notice(portal_app)
    _lodge(portal_app, case.application_id, "周九", "专利权属存疑")
    assert fire(case.bureau, case.application_id, "dismiss_objection", "权属清晰") == 303
    # Decided today; the notice runs to its last day, then the case moves on.
    today, last_day = case.portal.today(), notices.notice_of(case.portal, case.application_id).last_day
    assert last_day is not None and last_day >= today
    inbox = unescape(case.enterprise.get("/inbox").text)
    until = ZH("note.objection_dismissed_on.next.until", state="公示", last_day=ZH.date(last_day))
    body = ZH("note.objection_dismissed_on.body", id=case.application_id, date=ZH.date(today), next=until)
    assert ZH("note.objection_dismissed_on.title") in inbox and body in inbox
    assert "周九" not in inbox and "专利权属存疑" not in inbox
    case.enterprise.cookies.set("lang", "en")
    english = unescape(case.enterprise.get("/inbox").text)
    until = EN("note.objection_dismissed_on.next.until", state="Public notice", last_day=EN.date(last_day))
    body = EN("note.objection_dismissed_on.body", id=case.application_id, date=EN.date(today), next=until)
    assert EN("note.objection_dismissed_on.title") in english and body in english


def test_a_held_notice_past_its_last_day_says_its_period_ended(portal_app: FastAPI) -> None:
    """Past the last day, an objection holds the notice open: it says the period ended and that an
    objection is under review (nothing of it), and takes no more objections."""
    case = to_public_notice(portal_app, name="广州逾期公示科技有限公司")
    _lodge(portal_app, case.application_id, "吴十", "项目已转让")
    notice = notices.notice_of(case.portal, case.application_id)
    assert notice.last_day is not None and notice.held and not notice.period_over
    public = client_of(portal_app)
    path = f"/notices/{case.application_id}"
    token = _token(public, path)  # a form read on the last day, posted after it
    saved = case.portal.today_override
    case.portal.today_override = notice.last_day + timedelta(days=1)
    try:
        sweep_after(case.portal, 0)  # held: the notice stays open
        page = unescape(public.get(path).text)
        ended = ZH("notices.period_ended", day=ZH.date(notice.last_day))
        assert ended in page and ZH("notices.objection_under_review") in page
        assert "至 " + ZH.date(notice.last_day) not in page and 'action="/notices/' not in page
        assert "吴十" not in page and "项目已转让" not in page
        card = _card(public.get("/notices", params={"q": "逾期公示"}).text, case.application_id)
        assert ended in unescape(card) and ZH("notices.objection_under_review") in card
        assert f'href="/notices/{case.application_id}#objection"' not in card
        late = public.post(
            f"{path}/objection",
            data={"csrf_token": token, "name": "郑一", "contact": "020-1", "reasons": "迟到"},
        )
        assert late.status_code == 422 and ended in unescape(late.text)
        assert len(notices.objections_of(case.portal, case.bureau_actor, case.application_id)) == 1
        public.cookies.set("lang", "en")
        english = unescape(public.get(path).text)
        assert EN("notices.period_ended", day=EN.date(notice.last_day)) in english
        assert (
            EN("notices.objection_under_review") in english and "Until the notice period ends" not in english
        )
    finally:
        case.portal.today_override = saved


def test_the_notice_says_who_may_object_until_when_and_when_it_may_no_longer(portal_app: FastAPI) -> None:
    case = to_public_notice(portal_app)
    public = client_of(portal_app)
    path = f"/notices/{case.application_id}"
    notice = notices.notice_of(case.portal, case.application_id)
    assert notice.last_day is not None
    open_page = unescape(public.get(path).text)
    form = open_page.split('id="objection"')[1]
    assert f"公示期内（至 {ZH.date(notice.last_day)}），任何单位和个人均可对本公示事项提出异议。" in form
    assert "不再受理异议" not in open_page
    public.cookies.set("lang", "en")
    english = unescape(public.get(path).text)
    assert (
        f"Until the notice period ends on {EN.date(notice.last_day)}, anyone may object to this case."
        in english
    )
    public.cookies.set("lang", "zh")

    sweep_after(case.portal, 8)  # no objection: the sweep closes the notice
    closed = unescape(public.get(path).text)
    assert "本事项公示期已结束，不再受理异议。" in closed
    assert 'action="/notices/' not in closed and "均可对本公示事项提出异议" not in closed
    public.cookies.set("lang", "en")
    assert (
        "The notice period has ended: objections to this case are no longer taken." in public.get(path).text
    )


def test_a_seven_day_notice_takes_objections_on_its_seventh_day_and_not_when_it_closes(
    portal_app: FastAPI,
) -> None:
    """A 7-day notice entered on day D runs D to D+6: it says so, takes an objection on D+6, and
    refuses one on D+7, the day its timer closes it (it said D+7 and closed that morning)."""
    case = to_public_notice(portal_app, name="广州公示末日科技有限公司")
    notice = notices.notice_of(case.portal, case.application_id)
    assert notice.closes_on is not None and notice.last_day == notice.opened_on + timedelta(days=6)
    public = client_of(portal_app)
    path = f"/notices/{case.application_id}"
    page = unescape(public.get(path).text)
    assert f"{ZH.date(notice.opened_on)} – {ZH.date(notice.last_day)}" in page
    assert f"公示期内（至 {ZH.date(notice.last_day)}）" in page and ZH.date(notice.closes_on) not in page
    saved = case.portal.today_override
    try:
        case.portal.today_override = notice.last_day
        _lodge(portal_app, case.application_id, "钱七", "数据存疑")  # the last day: taken
        token = _token(public, path)  # a form read on the last day, posted the next
        case.portal.today_override = notice.closes_on
        late = public.post(
            f"{path}/objection",
            data={"csrf_token": token, "name": "孙八", "contact": "020-1", "reasons": "迟到"},
        )
        assert late.status_code == 422
        assert ZH("notices.period_ended", day=ZH.date(notice.last_day)) in unescape(late.text)
        assert len(notices.objections_of(case.portal, case.bureau_actor, case.application_id)) == 1
    finally:
        case.portal.today_override = saved


def test_a_search_that_finds_no_open_notice_points_to_the_past_ones_it_finds(portal_app: FastAPI) -> None:
    to_public_notice(portal_app, name="广州往期检索科技有限公司")
    sweep_after(portal_app.state.portal, 8)  # the notice closes: it is past now
    public = client_of(portal_app)
    current = unescape(public.get("/notices", params={"q": "往期检索"}).text)
    assert "公示中没有与搜索匹配的事项；往期公示中有 1 项匹配。" in current
    assert re.search(r'<a href="/notices\?archived=true&q=%E5%BE%80[^"]*">在往期公示中查看</a>', current)
    assert "暂无公示事项" not in current
    past = public.get("/notices", params={"archived": "true", "q": "往期检索"}).text
    assert "广州往期检索科技有限公司" in past
    nothing = public.get("/notices", params={"q": "哪里都没有"}).text
    assert "暂无公示事项" in nothing and "往期公示中有" not in nothing
    public.cookies.set("lang", "en")
    english = public.get("/notices", params={"q": "往期检索"}).text
    assert "No open notice matches your search; past notices that match: 1." in english
    assert "See them among the past notices" in english


def test_english_notices_label_what_is_proposed_not_what_was_granted(portal_app: FastAPI) -> None:
    """A notice publishes what the authorities intend to grant (拟兑现): English says so too."""
    case = to_public_notice(portal_app, name="广州英文公示科技有限公司")
    public = client_of(portal_app)
    public.cookies.set("lang", "en")
    for page in (
        public.get(f"/notices/{case.application_id}").text,
        _card(public.get("/notices", params={"q": "英文公示"}).text, case.application_id),
    ):
        assert (
            "<dt>Proposed amount or recognition</dt>" in page and "<dt>Unit handling objections</dt>" in page
        )
        assert "granted" not in page.split("<dl")[1].split("</dl>")[0]


def test_the_past_notices_have_their_own_heading_and_the_open_tab_is_marked(portal_app: FastAPI) -> None:
    public = client_of(portal_app)
    for lang, t in (("zh", ZH), ("en", EN)):
        public.cookies.set("lang", lang)
        current, past = public.get("/notices").text, public.get("/notices", params={"archived": "true"}).text
        assert f"<h1>{t('notices.title')}</h1>" in current and t("notices.lead") in current
        assert f"<h1>{t('notices.title_archive')}</h1>" in past and t("notices.lead_archive") in past
        assert t("notices.lead") not in past and t("notices.lead_archive") not in current
        assert f"<title>{t('notices.title_archive')}" in past
        # The tab of the page one is on is marked, for screen readers and (the tab-nav style) visibly.
        assert '<nav class="tab-nav"' in current and '<nav class="tab-nav"' in past
        assert f'<a href="/notices" aria-current="page">{t("notices.current")}</a>' in current
        assert f'<a href="/notices?archived=true">{t("notices.archive")}</a>' in current
        assert f'<a href="/notices?archived=true" aria-current="page">{t("notices.archive")}</a>' in past
        assert f'<a href="/notices">{t("notices.current")}</a>' in past


def test_a_notice_that_does_not_exist_is_a_404_page_in_the_reader_s_language(portal_app: FastAPI) -> None:
    public = client_of(portal_app)
    for lang, words in (("zh", "页面不存在"), ("en", "page not found")):
        public.cookies.set("lang", lang)
        for path in ("/notices/abc", "/notices/999999", "/notices/0", "/notices/-1", "/notices/１２"):
            page = public.get(path)
            assert page.status_code == 404, (path, page.status_code)
            assert page.headers["content-type"].startswith("text/html")
            assert words in page.text.lower(), (lang, path)
    token = _token(public, "/login")
    data = {"csrf_token": token, "name": "王五", "contact": "020-1234", "reasons": "材料造假"}
    assert public.post("/notices/abc/objection", data=data).status_code == 404


def test_a_notice_opened_before_notices_were_numbered_says_so_not_its_case_id(portal_app: FastAPI) -> None:
    """The migration numbers no old notice (its number needs the pack): the pages say it has none."""
    case = to_public_notice(portal_app, name="广州旧公示科技有限公司")
    with portal_app.state.portal.transaction() as session:
        session.execute(
            update(Transition)
            .where(Transition.application_id == case.application_id)  # type: ignore[arg-type]
            .values(notice_number=None)
        )
    # Its own address, so the other tests' objections do not share its throttle window.
    public = TestClient(portal_app, raise_server_exceptions=False, client=("203.0.113.9", 50000))
    for lang, t in (("zh", ZH), ("en", EN)):
        public.cookies.set("lang", lang)
        card = _card(public.get("/notices", params={"q": "旧公示"}).text, case.application_id)
        detail = public.get(f"/notices/{case.application_id}").text
        for page in (card, detail):
            assert f"<dd>{t('notices.unnumbered')}</dd>" in page
            assert f"<dd>{case.application_id}</dd>" not in page
    public.cookies.set("lang", "zh")
    path = f"/notices/{case.application_id}"
    data = {"csrf_token": _token(public, path), "name": "王五", "contact": "020-1234", "reasons": "材料造假"}
    lodged = public.post(f"{path}/objection", data=data, follow_redirects=False)
    told = public.get(lodged.headers["location"]).text
    assert f"您对公示事项（公示编号 {ZH('notices.unnumbered')}）的异议已提交" in told
