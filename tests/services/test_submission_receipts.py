"""回执: the enterprise's own submission and resubmission each leave it a receipt in its inbox
(and by e-mail), with the day and the stage the case now waits at; a reviewer's move does not."""

from datetime import date

from services_helpers import Driver, World
from sqlmodel import col, select

from portal.db.tables import Notification
from portal.services import access
from portal.services.context import Portal
from portal.services.notifications import note_text


def _receipts(portal: Portal) -> list[Notification]:
    with portal.reading() as session:
        query = select(Notification).where(col(Notification.message) == "note.case_received")
        return list(session.exec(query.order_by(col(Notification.id))).all())


def test_a_submission_and_a_resubmission_each_leave_a_receipt(portal: Portal, world: World) -> None:
    portal.today_override = date(2026, 12, 7)
    case = Driver(portal, world)
    case.submit()
    [receipt] = _receipts(portal)
    app = access.get_application_for(portal, world.actors["ent_a"], case.app_id)
    assert (receipt.enterprise_id, receipt.role, receipt.kind) == (app.enterprise_id, None, "case_update")
    assert receipt.link == f"/applications/{case.app_id}"
    zh_title, zh_body = note_text(portal, receipt, "zh")
    en_title, en_body = note_text(portal, receipt, "en")
    assert zh_title.startswith("申报已提交：") and en_title.startswith("Application submitted: ")
    assert f"您的申报 #{case.app_id}（" in zh_body and "已于2026年12月7日提交" in zh_body
    assert f"Your application #{case.app_id} for " in en_body and "submitted on December 7, 2026" in en_body
    submitted = next(s for s in portal.workflows[app.workflow].states if s.name == case.state).label
    assert f"“{submitted.zh}”" in zh_body and f'"{submitted.en}"' in en_body
    words = zh_title + zh_body + en_title + en_body
    assert case.measure not in words and "2026-12-07" not in words
    assert case.state not in zh_title + zh_body  # in English the code is also the word "submitted"

    # The reviewers' moves tell the enterprise of its case's progress, but are no receipt.
    case.to_district_review()
    case.fire(case.district_reviewer, "return_for_amendment", "请补充算力采购合同")
    assert len(_receipts(portal)) == 1
    portal.today_override = date(2026, 12, 10)
    case.submit()
    _, second = _receipts(portal)
    assert "已于2026年12月10日提交" in note_text(portal, second, "zh")[1]
