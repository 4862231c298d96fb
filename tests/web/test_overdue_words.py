"""Two kinds of lateness, never mixed, zh and en: 补正已逾期 (the applicant's reply to an amendment
request is late) and 办理已超期 (the office's own time limit passed); a near time limit is the
office's too (办理时限将至), not a task for the enterprise's clerk.

Once the reply is late, the office's clock is still stopped, but the next move is the office's:
staff pages say a decision is due instead of "on hold while the enterprise amends". The suite's day
is Fri 27 Nov 2026.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import enterprise_with_case, portal_app, returned_case

from portal.db.tables import Application

__all__ = ["portal_app"]

WORDS = {
    "zh": {
        "reply": "补正已逾期",
        "act": "待审核决定后续处理",
        "handling": "办理已超期",
        "hold": "补正期间暂停计时",
    },
    "en": {
        "reply": "Reply overdue",
        "act": "Reviewer to decide next step",
        "handling": "Handling overdue",
        "hold": "On hold while the enterprise amends",
    },
}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _late_cases(app: FastAPI) -> tuple[TestClient, TestClient, int, int]:
    """A case whose reply was due Thu 26 Nov (returned Thu 5 Nov) and one whose handling deadline
    passed on Fri 20 Nov, both in Haizhu: the enterprise's and the reviewer's clients and the ids."""
    enterprise, reviewer, reply_late = returned_case(app, "请补充投资明细")
    _, handling_late = enterprise_with_case(app)
    with app.state.portal.transaction() as session:
        returned = session.get(Application, reply_late)
        waiting = session.get(Application, handling_late)
        assert returned is not None and waiting is not None
        returned.stage_entered_at = datetime(2026, 11, 5, 4, tzinfo=UTC)
        waiting.due_on = date(2026, 11, 20)
    return enterprise, reviewer, reply_late, handling_late


def _row(client: TestClient, lang: str, case_id: int) -> str:
    client.cookies.set("lang", lang)
    html = client.get("/review").text
    return _text(html.split(f'href="/review/{case_id}"', 1)[1].split("</tr>", 1)[0])


def _due_of(client: TestClient, lang: str, path: str) -> str:
    """The deadline entry of a case page (the summary's 办理时限 / Due)."""
    client.cookies.set("lang", lang)
    html = client.get(path).text
    label = "办理时限" if lang == "zh" else "Due"
    return _text(html.split(f"<dt>{label}</dt>", 1)[1].split("</dd>", 1)[0])


def test_queue_and_case_page_say_whose_lateness_it_is(portal_app: FastAPI) -> None:
    _, reviewer, reply_late, handling_late = _late_cases(portal_app)
    for lang, words in WORDS.items():
        for shown in (_row(reviewer, lang, reply_late), _due_of(reviewer, lang, f"/review/{reply_late}")):
            assert words["reply"] in shown and words["act"] in shown, shown
            assert words["handling"] not in shown and words["hold"] not in shown, shown
        for shown in (
            _row(reviewer, lang, handling_late),
            _due_of(reviewer, lang, f"/review/{handling_late}"),
        ):
            assert words["handling"] in shown, shown
            assert words["reply"] not in shown and words["act"] not in shown, shown
    reviewer.cookies.set("lang", "zh")
    assert "已逾期" not in _row(reviewer, "zh", handling_late) and "超期" not in _row(
        reviewer, "zh", reply_late
    )


def test_the_enterprise_reads_its_reply_as_late_without_the_on_hold_tag(portal_app: FastAPI) -> None:
    enterprise, _, reply_late, _ = _late_cases(portal_app)
    for lang, words in WORDS.items():
        shown = _due_of(enterprise, lang, f"/applications/{reply_late}")
        assert words["reply"] in shown, shown
        assert words["hold"] not in shown and words["act"] not in shown, shown
    # Its list marks the row as late, as the reviewers' queue does.
    opening = enterprise.get("/applications").text.split(f'href="/applications/{reply_late}"', 1)[0]
    assert opening.rsplit("<tr", 1)[1].startswith(' class="due-overdue"')


def test_a_near_time_limit_is_named_as_the_offices_on_every_page(portal_app: FastAPI) -> None:
    """Due Mon 30 Nov, one working day after the suite's Friday: the enterprise's case page and
    list, and the reviewer's queue, say whose time limit is near in the words of 办理已超期."""
    enterprise, case_id = enterprise_with_case(portal_app)
    with portal_app.state.portal.transaction() as session:
        case = session.get(Application, case_id)
        assert case is not None
        case.due_on = date(2026, 11, 30)
    reviewer = returned_case(portal_app, "请补充投资明细")[1]
    for lang, soon in (("zh", "办理时限将至"), ("en", "Handling due soon")):
        enterprise.cookies.set("lang", lang)
        listed = _text(enterprise.get("/applications").text.split(f'href="/applications/{case_id}"', 1)[1])
        for shown in (
            _due_of(enterprise, lang, f"/applications/{case_id}"),
            listed.split("</tr>", 1)[0],
            _row(reviewer, lang, case_id),
        ):
            assert soon in shown, shown
            assert "即将到期" not in shown and "Due soon" not in shown, shown


def test_the_queue_exports_name_the_office_clock_in_their_header(portal_app: FastAPI) -> None:
    """Same 13 columns in the same order; the 9th says it is the office's time limit, frozen while
    the applicant amends, apart from the reply-by day at the end."""
    _, reviewer, _, _ = _late_cases(portal_app)
    expected = {
        "zh": ("办理时限（补正期间暂停计时）", "补正截止日"),
        "en": ("Handling due (on hold while the applicant amends)", "Reply by"),
    }
    for lang, (due, reply_by) in expected.items():
        reviewer.cookies.set("lang", lang)
        header = reviewer.get("/review.csv").content.decode("utf-8-sig").splitlines()[0].split(",")
        assert len(header) == 13 and header[8] == due and header[12] == reply_by, header
