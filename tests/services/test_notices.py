"""公示: the public list and archive, objections with their objector, the outcome by real SMTP,
and closing a notice by the sweep or by staff once the window has passed."""

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from email import message_from_bytes, policy

import pytest
from services_helpers import Driver, World, counts
from sqlmodel import col, select

from portal.db.tables import Application, AuditEvent, Decision, Letter, Notification, Objection
from portal.locales import long_date
from portal.messages import Lang, catalogue
from portal.services import cases, notices, notifications, sla
from portal.services.context import Portal, SmtpConfig
from portal.services.errors import NotFound, Refused, ValidationFailed
from tests.support.page_checks import CJK, DOCUMENT_NUMBER
from tests.support.smtp_sink import Sink, running_sink

TEXTS = catalogue()


@pytest.fixture
def smtp_server() -> Iterator[tuple[Sink, int]]:
    with running_sink() as server:
        yield server


def _object(portal: Portal, app_id: int, **changes: str) -> Objection:
    fields = {
        "name": "李四",
        "contact": "13800000000",
        "email": "li@example.test",
        "reasons": "研发投入数据存疑",
    }
    fields.update(changes)
    return notices.lodge_objection(portal, app_id, **fields)


def _dismissal_note(portal: Portal) -> Notification:
    with portal.reading() as session:
        [note] = session.exec(
            select(Notification).where(col(Notification.message) == "note.objection_dismissed_on")
        ).all()
        return note


def _dismissed(portal: Portal, app_id: int, lang: Lang, how: str, last_day: date) -> str:
    """The dismissal note's body as the catalogue words it: decided today, the notice's period."""
    stage = portal.workflows["municipal"].state("public_notice").label
    following = TEXTS[f"note.objection_dismissed_on.next.{how}"][lang].format(
        state=stage.en if lang == "en" else stage.zh, last_day=long_date(last_day, lang)
    )
    return TEXTS["note.objection_dismissed_on.body"][lang].format(
        id=app_id, date=long_date(portal.today(), lang), next=following
    )


def test_a_case_on_notice_is_public_then_archived_and_searchable(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_public_notice()
    [notice] = notices.list_notices(portal)
    assert notice.application_id == case.app_id and notice.open
    assert notice.enterprise_name == "广州智算科技有限公司"
    assert notice.granted_amount is not None and notice.unit.zh == "广州市发展和改革委员会"
    assert notice.closes_on == notice.opened_on + timedelta(days=7)
    assert notices.list_notices(portal, query="智算") == [notice]
    assert notices.list_notices(portal, query="no such firm") == []
    assert notices.list_notices(portal, archived=True) == []
    portal.today_override = portal.today() + timedelta(days=7)
    sla.sweep(portal)
    assert notices.list_notices(portal) == []
    [past] = notices.list_notices(portal, archived=True, query="发展和改革")
    assert past.application_id == case.app_id and not past.open and past.stage.zh == "已批准待拨付"
    assert notices.notice_of(portal, case.app_id).open is False
    other = Driver(portal, world)
    with pytest.raises(NotFound):
        notices.notice_of(portal, other.app_id)


def test_objection_fields_are_checked_and_nothing_is_stored(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_public_notice()
    before = counts(portal, case.app_id)
    with pytest.raises(ValidationFailed) as failed:
        _object(portal, case.app_id, name=" ", email="not-an-address", reasons="")
    assert [(p.path, p.code) for p in failed.value.errors] == [
        ("name", "required"),
        ("reasons", "required"),
        ("email", "email"),
    ]
    assert counts(portal, case.app_id) == before
    with pytest.raises(NotFound):  # only a case on notice takes objections
        _object(portal, Driver(portal, world).app_id)


def test_an_objection_holds_the_case_and_the_objector_hears_the_outcome_by_mail(
    portal: Portal, world: World, smtp_server: tuple[Sink, int]
) -> None:
    inbox, port = smtp_server
    mailing = replace(portal, smtp=SmtpConfig("127.0.0.1", port, "noreply@portal.test"))
    case = Driver(mailing, world).to_public_notice()
    file = notices.ObjectionFile(b"%PDF-1.4 evidence", "证据.pdf", "application/pdf")
    objection = _object(mailing, case.app_id, file=file)  # type: ignore[arg-type]
    assert objection.attachment_sha256 and objection.attachment_name == "证据.pdf"
    bureau = world.actors["rev_gzdev"]
    _, content = notices.objection_file(mailing, bureau, case.app_id, objection.id or 0)
    assert content == b"%PDF-1.4 evidence"
    notifications.deliver_email(mailing)
    inbox.messages.clear()
    start = mailing.today()
    mailing.today_override = start + timedelta(days=8)
    assert sla.sweep(mailing).advanced == []  # held by the pending objection
    with pytest.raises(Refused):  # staff cannot close it either
        notices.close_notice(mailing, bureau, case.app_id, case.version)
    case.fire("rev_gzdev", "dismiss_objection", "经核查，研发投入数据属实")
    [decided] = notices.objections_of(mailing, bureau, case.app_id)
    assert decided.sustained is False and decided.decision_comment == "经核查，研发投入数据属实"
    assert notifications.deliver_email(mailing) >= 1
    mails = [message_from_bytes(raw, policy=policy.default) for raw in inbox.messages]
    [to_objector] = [m for m in mails if m["To"] == "li@example.test"]
    assert "异议不成立" in str(to_objector["Subject"])
    assert "研发投入数据属实" in to_objector.get_content()
    assert f"受理编号 {objection.reference}" in to_objector.get_content()  # the number they were given
    # The window has passed and nothing is pending: staff close the notice from the case page.
    assert notices.notice_closable(mailing, bureau, case.app_id)
    assert notices.close_notice(mailing, bureau, case.app_id, case.version) == "approved"
    with mailing.reading() as session:
        last = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.subject_id) == str(case.app_id))
            .order_by(col(AuditEvent.seq).desc())
        ).first()
    assert (
        last is not None
        and last.actor_role == "system"
        and (last.payload or {}).get("requested_by") == bureau.user_id
    )
    with mailing.reading() as session:
        decision = session.exec(select(Decision).where(Decision.application_id == case.app_id)).one()
    # An objection came in and was dismissed: the approval's reasons do not say there was none.
    assert decision.reasons and "无异议" not in decision.reasons


def test_each_objector_hears_the_outcome_in_the_language_they_objected_in(
    portal: Portal, world: World, smtp_server: tuple[Sink, int]
) -> None:
    """An objector has no account: the page's language when they filed, else Chinese."""
    inbox, port = smtp_server
    mailing = replace(portal, smtp=SmtpConfig("127.0.0.1", port, "noreply@portal.test"))
    case = Driver(mailing, world).to_public_notice()
    notices.lodge_objection(
        mailing,
        case.app_id,
        name="Ann Lee",
        contact="+86 138",
        email="ann@example.test",
        reasons="The R&D figures look wrong",
        lang="en",
    )
    _object(mailing, case.app_id)  # no language given
    notifications.deliver_email(mailing)
    inbox.messages.clear()
    case.fire("rev_gzdev", "dismiss_objection", "Checked against the audited accounts")
    notifications.deliver_email(mailing)
    mails = {str(m["To"]): m for m in inbox.parsed()}
    english = f"{mails['ann@example.test']['Subject']}\n{mails['ann@example.test'].get_content()}"
    # The objector knows the notice by its number, cited as issued (as English pages cite 文号).
    number = notices.notice_of(mailing, case.app_id).number
    assert number == "穗发改公示〔2026〕1号"
    assert "Your objection: not upheld" in english and f"to public notice {number} " in english
    assert f"application {case.app_id}" not in english
    assert not CJK.search(DOCUMENT_NUMBER.sub(" ", english)), english
    chinese = str(mails["li@example.test"]["Subject"])
    assert chinese == "公示异议处理结果：异议不成立"
    assert f"公示编号 {number}" in mails["li@example.test"].get_content()


def test_an_upheld_objection_rejects_and_tells_the_enterprise(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_public_notice()
    _object(portal, case.app_id, email="")
    case.fire("rev_gzdev", "uphold_objection", "经核查，该企业已获同类奖励")
    assert case.state == "rejected"
    with portal.reading() as session:
        notes = session.exec(
            select(Notification).where(col(Notification.kind).in_(["case_update", "objection_outcome"]))
        ).all()
    [upheld] = [n for n in notes if n.message == "note.objection_upheld"]
    assert upheld.enterprise_id is not None
    # The case as its pages name it (#N), not 编号 N.
    assert notifications.note_text(portal, upheld, "zh")[1].startswith(f"您的申报 #{case.app_id} 在公示期内")
    assert f"your application #{case.app_id} during" in notifications.note_text(portal, upheld, "en")[1]
    assert not any(n.kind == "objection_outcome" for n in notes)  # no address given, nobody to mail


def test_a_dismissed_objection_tells_the_enterprise_in_the_decision_s_own_transaction(
    portal: Portal, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The enterprise hears its case goes on, never who objected or why; the note is written
    with the decision, so a note that cannot be written leaves the objection undecided."""
    case = Driver(portal, world).to_public_notice()
    _object(portal, case.app_id)
    bureau = world.actors["rev_gzdev"]
    written = cases.notify

    def inbox_down(session: object, **fields: object) -> bool:
        if fields["message"] == "note.objection_dismissed_on":
            raise RuntimeError("inbox down")
        return written(session, **fields)  # type: ignore[arg-type]

    monkeypatch.setattr(cases, "notify", inbox_down)
    with pytest.raises(RuntimeError):
        case.fire("rev_gzdev", "dismiss_objection", "经核查，研发投入数据属实")
    [objection] = notices.objections_of(portal, bureau, case.app_id)
    assert objection.sustained is None  # the decision went with the note
    monkeypatch.undo()
    portal.today_override = portal.today() + timedelta(days=2)  # decided two days on
    case.fire("rev_gzdev", "dismiss_objection", "经核查，研发投入数据属实")
    note = _dismissal_note(portal)
    assert note.enterprise_id == world.enterprise_ids["a"] and note.link == f"/applications/{case.app_id}"
    # The day it was decided, and the day the notice's period ends, which it still runs to.
    last_day = notices.notice_of(portal, case.app_id).last_day
    assert last_day is not None and last_day > portal.today()
    title, body = notifications.note_text(portal, note, "zh")
    assert title == TEXTS["note.objection_dismissed_on.title"]["zh"]
    assert body == _dismissed(portal, case.app_id, "zh", "until", last_day)
    assert "已于2026年6月3日核查" in body and "“公示”期至2026年6月7日届满，期满后即进入下一步。" in body
    english = " ".join(notifications.note_text(portal, note, "en"))
    assert _dismissed(portal, case.app_id, "en", "until", last_day) in english and not CJK.search(english)
    assert english.startswith(TEXTS["note.objection_dismissed_on.title"]["en"])
    assert "On June 3, 2026," in english and 'Its "Public notice" period ends on June 7, 2026;' in english
    for text in (body, english):  # neither the objector nor the objection
        assert "李四" not in text and "研发投入数据存疑" not in text and "13800000000" not in text


def test_an_objection_dismissed_after_the_notice_s_last_day_says_the_period_ended(
    portal: Portal, world: World
) -> None:
    """The objection held the notice past its last day: the note says the period ended on that
    day, so the case moves on now, not that it will once the period ends."""
    case = Driver(portal, world).to_public_notice()
    _object(portal, case.app_id)
    last_day = notices.notice_of(portal, case.app_id).last_day
    assert last_day is not None
    portal.today_override = last_day + timedelta(days=3)
    case.fire("rev_gzdev", "dismiss_objection", "经核查，研发投入数据属实")
    note = _dismissal_note(portal)
    for lang in ("zh", "en"):
        assert notifications.note_text(portal, note, lang)[1] == _dismissed(
            portal, case.app_id, lang, "ended", last_day
        )
    assert "于2026年6月10日核查" in notifications.note_text(portal, note, "zh")[1]
    assert "“公示”期已于2026年6月7日届满" in notifications.note_text(portal, note, "zh")[1]


def test_a_dismissal_into_an_untimed_stage_says_the_case_continues_there(
    portal: Portal, world: World
) -> None:
    """A workflow whose dismissal leaves the case in a stage without a timer: no period to speak of,
    the note names the stage the case continues in (read off the workflow, in words)."""
    case = Driver(portal, world).to_public_notice()
    workflow = portal.workflows["municipal"]
    untimed = next(s for s in workflow.states if s.timer is None and s.responsible == "bureau")
    with portal.reading() as session:
        row = session.get(Application, case.app_id)
        assert row is not None
        following = cases._after_dismissal(portal, row, row.state, untimed.name)
    assert following == {"next": "continues"}
    params = {"id": case.app_id, "workflow": "municipal", "state": untimed.name, "date": "2026-06-03"}
    note = Notification(message="note.objection_dismissed_on", params={**params, **following})
    for lang in ("zh", "en"):
        sentence = TEXTS["note.objection_dismissed_on.next.continues"][lang].format(
            state=untimed.label.en if lang == "en" else untimed.label.zh
        )
        assert sentence in notifications.note_text(portal, note, lang)[1]
        assert untimed.name not in notifications.note_text(portal, note, lang)[1]


def test_staff_cannot_close_a_notice_before_its_window_ends(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_public_notice()
    bureau = world.actors["rev_gzdev"]
    assert not notices.notice_closable(portal, bureau, case.app_id)
    with pytest.raises(Refused) as refused:
        notices.close_notice(portal, bureau, case.app_id, case.version)
    assert refused.value.code == "notice_not_elapsed"
    with pytest.raises(Refused):
        notices.close_notice(portal, world.actors["rev_tianhe"], case.app_id, case.version)


def test_one_notice_is_read_without_building_every_other(portal: Portal, world: World) -> None:
    """A public notice page reads its own case: it used to build every notice ever published."""
    from typing import Any

    from sqlalchemy import event

    first = Driver(portal, world).to_public_notice()
    second = Driver(portal, world).to_public_notice()
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(portal.engine, "before_cursor_execute", seen)
    try:
        notice = notices.notice_of(portal, first.app_id)
    finally:
        event.remove(portal.engine, "before_cursor_execute", seen)
    assert notice.application_id == first.app_id and notice.open
    assert notices.notice_of(portal, second.app_id).application_id == second.app_id
    assert sum("FROM objection" in s for s in statements) == 1


def test_a_notice_is_numbered_as_it_opens_from_its_unit_s_own_counter(portal: Portal, world: World) -> None:
    """公示编号: the lead unit's abbreviation, the pack's mark, the year and a serial of the unit's
    notices, so the letter that follows takes the unit's letter number 1 all the same."""
    first = Driver(portal, world).to_public_notice()
    second = Driver(portal, world).to_public_notice()
    numbers = [notices.notice_of(portal, case.app_id).number for case in (first, second)]
    assert numbers == ["穗发改公示〔2026〕1号", "穗发改公示〔2026〕2号"]
    assert [n.number for n in notices.list_notices(portal)] == numbers[::-1]
    assert [n.application_id for n in notices.list_notices(portal, query="公示〔2026〕2号")] == [
        second.app_id
    ]
    # The number stays as the notice ends, and the case's letter is numbered from its own counter.
    first.to_approved()  # the sweep closes both notices
    assert notices.notice_of(portal, first.app_id).number == numbers[0]
    with portal.reading() as session:
        letters = session.exec(select(Letter.doc_number)).all()
        audit = session.exec(
            select(AuditEvent.payload).where(col(AuditEvent.subject_id) == first.app_id)
        ).all()
    assert "穗发改〔2026〕1号" in letters and not any("公示" in n for n in letters), letters
    assert any((payload or {}).get("notice_number") == numbers[0] for payload in audit)
