"""The reply period of an amendment request (`reply_within`), as both sides read it, zh and en.

The suite's day is Fri 27 Nov 2026; Guangzhou's amendment stages give 15 working days, so a
case returned that day is due on Fri 18 Dec 2026 (three weekends skipped, no holiday between).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import portal_app, returned_case

from portal.db.tables import Application

__all__ = ["portal_app"]


def _text(html: str) -> str:
    """The visible words of a page, tags dropped, so an assertion reads what a person reads."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _in(client: TestClient, lang: str, path: str) -> str:
    client.cookies.set("lang", lang)
    return _text(client.get(path).text)


def _entered_on(app: FastAPI, application_id: int, day: int) -> None:
    """Date the case's return back to `day` November 2026 (at noon in Guangzhou): the reply date is
    derived from when the case entered the stage, and a session would not outlive a moved clock."""
    with app.state.portal.transaction() as session:
        application = session.get(Application, application_id)
        assert application is not None
        application.stage_entered_at = datetime(2026, 11, day, 4, tzinfo=UTC)


def test_the_enterprise_is_told_by_when_to_reply(portal_app: FastAPI) -> None:
    enterprise, _, application_id = returned_case(portal_app, "请补充投资明细")
    page = _in(enterprise, "zh", f"/applications/{application_id}")
    assert "请于2026年12月18日前补正" in page and "已逾期" not in page
    inbox = _in(enterprise, "zh", "/inbox")
    assert "请于2026年12月18日前补正：登录平台修改后重新提交。审核意见：请补充投资明细" in inbox
    page = _in(enterprise, "en", f"/applications/{application_id}")
    assert "Please reply by December 18, 2026" in page and "overdue" not in page.lower()
    assert "Please reply by December 18, 2026: sign in" in _in(enterprise, "en", "/inbox")
    for lang in ("zh", "en"):
        assert "2026-12-18" not in _in(enterprise, lang, f"/applications/{application_id}")
        assert "2026-12-18" not in _in(enterprise, lang, "/inbox")

    # Returned on Thu 5 Nov: 6, 9–13, 16–20, 23–26 Nov are the 15 working days; today is late.
    _entered_on(portal_app, application_id, 5)
    page = _in(enterprise, "zh", f"/applications/{application_id}")
    assert "补正期限已于2026年11月26日届满，已逾期" in page
    page = _in(enterprise, "en", f"/applications/{application_id}")
    assert "The period to reply ended on November 26, 2026: the reply is overdue" in page


def test_reviewers_see_the_reply_date_and_when_it_is_overdue(portal_app: FastAPI) -> None:
    _, reviewer, application_id = returned_case(portal_app, "请补充投资明细")
    row = f'href="/review/{application_id}"'

    def queue_row(lang: str) -> str:
        reviewer.cookies.set("lang", lang)
        html = reviewer.get("/review").text
        return _text(html.split(row, 1)[1].split("</tr>", 1)[0])

    def row_class() -> str:
        opening = reviewer.get("/review").text.split(row, 1)[0].rsplit("<tr", 1)[1]
        return re.findall(r'class="([^"]*)"', opening)[0]

    assert "2026年12月18日前补正" in queue_row("zh") and "已逾期" not in queue_row("zh")
    assert "Reply by December 18, 2026" in queue_row("en") and "overdue" not in queue_row("en").lower()
    assert "2026年12月18日前补正" in _in(reviewer, "zh", f"/review/{application_id}")
    # Returned on Fri 6 Nov, the 15th working day is today: still in time.
    _entered_on(portal_app, application_id, 6)
    assert "2026年11月27日前补正" in queue_row("zh") and "已逾期" not in queue_row("zh")
    assert row_class() == "due-paused"
    # Returned on Thu 5 Nov, it was due yesterday: overdue, on the queue and the case page.
    _entered_on(portal_app, application_id, 5)
    assert "2026年11月26日前补正 补正已逾期" in queue_row("zh")
    assert "Reply by November 26, 2026 Reply overdue" in queue_row("en")
    assert row_class() == "due-overdue"  # marked as the queue marks other overdue rows, label and all
    assert "2026年11月26日前补正 补正已逾期" in _in(reviewer, "zh", f"/review/{application_id}")
    assert "Reply by November 26, 2026 Reply overdue" in _in(reviewer, "en", f"/review/{application_id}")
    assert "2026-11-26" not in queue_row("zh") + queue_row("en")
