"""The SLA sweep: escalation fires, fires once, and fires after a restart (the CLI in a new process)."""

import os
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from services_helpers import Driver, World
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from portal.db.audit import verify_chain
from portal.db.engine import make_engine
from portal.db.tables import Application, AuditEvent, Notification
from portal.services import access, applications, sla
from portal.services.context import Portal
from portal.services.notifications import note_text

# Submitted on Monday 2026-06-01 (SLA 2 working days, due 06-03), accepted never: overdue from 06-04.
DUE = date(2026, 6, 3)
PORTAL_BIN = str(Path(sys.executable).parent / "portal")


def _escalations(portal: Portal, app_id: int) -> tuple[int, int]:
    with portal.reading() as session:
        audits = session.execute(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.subject_id == str(app_id), AuditEvent.event == "sla_escalated")
        ).scalar_one()
        notes = session.execute(
            select(func.count()).select_from(Notification).where(Notification.kind == "escalation")
        ).scalar_one()
    return int(audits), int(notes)


def test_escalation_fires_once_per_stage_visit(portal: Portal, world: World) -> None:
    case = Driver(portal, world)
    case.submit()
    app = access.get_application_for(portal, world.actors["ent_a"], case.app_id)
    assert app.due_on == DUE
    portal.today_override = DUE
    assert sla.sweep(portal).escalated == []
    portal.today_override = date(2026, 6, 4)
    assert sla.sweep(portal).escalated == [case.app_id]
    assert sla.sweep(portal).escalated == []
    assert _escalations(portal, case.app_id) == (1, 1)
    app = access.get_application_for(portal, world.actors["ent_a"], case.app_id)
    assert app.overdue and app.escalated_for_stage == "submitted"
    # The bureau (escalate_to of `submitted`) is told, scoped to the case's lead unit.
    with portal.reading() as session:
        note = session.exec(select(Notification).where(Notification.kind == "escalation")).scalars().one()
    assert (note.role, note.bureau) == ("reviewer", "gzdev")
    # The deadline reads as a date within the sentence (no spaces around it in Chinese).
    assert f"已超过期限{DUE.year}年{DUE.month}月{DUE.day}日（" in "".join(note_text(portal, note, "zh"))
    # A new stage visit has its own deadline and may be escalated again.
    case.fire("rev_tianhe", "accept")
    portal.today_override = date(2026, 7, 1)
    assert sla.sweep(portal).escalated == [case.app_id]
    assert _escalations(portal, case.app_id) == (2, 2)


def test_paused_stage_is_not_escalated(portal: Portal, world: World) -> None:
    Driver(portal, world).to_returned()
    portal.today_override = date(2026, 12, 1)
    assert sla.sweep(portal).escalated == []


def _cli_sweep(url: str, data_dir: str, today: str) -> str:
    env = {**os.environ, "DATABASE_URL": url, "PORTAL_DATA_DIR": data_dir}
    done = subprocess.run(
        [PORTAL_BIN, "sla", "sweep", "--today", today],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_sweep_survives_restarts(
    portal: Portal, world: World, world_url: tuple[str, World], tmp_path: Path
) -> None:
    overdue = Driver(portal, world)
    overdue.submit()
    notice = Driver(portal, world).to_public_notice()
    url = world_url[0]
    first = _cli_sweep(url, str(tmp_path), "2026-06-08")
    assert f"escalated   application {overdue.app_id}" in first
    with portal.reading() as session:
        workflow = portal.workflows[session.get_one(Application, notice.app_id).workflow]
    moved = f"{workflow.state('public_notice').label.en} -> {workflow.state('approved').label.en}"
    assert f"advanced    application {notice.app_id}: {moved}" in first
    assert "public_notice" not in first  # stages in words, not their codes
    second = _cli_sweep(url, str(tmp_path), "2026-06-08")
    assert "0 escalated, 0 advanced, 0 reminded to reply, 0 replies late" in second
    assert _escalations(portal, overdue.app_id) == (1, 1)
    assert notice.state == "approved"
    with portal.reading() as session:
        assert verify_chain(session).ok


def test_bad_date_is_a_clear_cli_error() -> None:
    from typer.testing import CliRunner

    from portal.cli import app

    done = CliRunner().invoke(app, ["sla", "sweep", "--today", "2026-13-01"])
    assert done.exit_code != 0
    assert "--today" in done.output and "Traceback" not in done.output


# Returned on Tue 2026-12-08: reply by Tue 12-29 (15 working days); the reminder is due three
# working days before, on Thu 12-24 (over the weekend of 12-26/27); overdue from Wed 12-30.
RETURNED = date(2026, 12, 8)


def _notes(portal: Portal, message: str) -> list[Notification]:
    with portal.reading() as session:
        return list(session.exec(select(Notification).where(Notification.message == message)).scalars())


def _sweep_on(portal: Portal, day: date) -> sla.SweepReport:
    portal.today_override = day
    return sla.sweep(portal)


def test_reply_reminder_and_overdue_note_once_each(portal: Portal, world: World) -> None:
    portal.today_override = RETURNED
    case = Driver(portal, world).to_returned()
    assert _sweep_on(portal, date(2026, 12, 23)).reply_reminded == []
    assert _sweep_on(portal, date(2026, 12, 24)).reply_reminded == [case.app_id]
    assert _sweep_on(portal, date(2026, 12, 24)).reply_reminded == []
    last_day = _sweep_on(portal, date(2026, 12, 29))
    assert (last_day.reply_reminded, last_day.reply_overdue) == ([], [])
    [reminder] = _notes(portal, "note.reply_reminder")
    app = access.get_application_for(portal, world.actors["ent_a"], case.app_id)
    assert (reminder.enterprise_id, reminder.role, reminder.kind) == (app.enterprise_id, None, "case_update")
    zh, en = (" ".join(note_text(portal, reminder, lang)) for lang in ("zh", "en"))
    assert "请于2026年12月29日前" in zh and "退回补正" in zh
    assert "by December 29, 2026" in en and "Returned for amendment" in en
    assert "2026-12-29" not in zh + en and "returned_for_amendment" not in zh + en

    assert _sweep_on(portal, date(2026, 12, 30)).reply_overdue == [case.app_id]
    assert _sweep_on(portal, date(2026, 12, 31)).reply_overdue == []
    [overdue] = _notes(portal, "note.reply_overdue")
    # The district asked (it returned the case from district review): its reviewers are told,
    # as its work items are; nothing moves by itself.
    assert (overdue.role, overdue.district, overdue.bureau) == ("reviewer", app.district, None)
    zh, en = (" ".join(note_text(portal, overdue, lang)) for lang in ("zh", "en"))
    assert "2026年12月29日" in zh and "December 29, 2026" in en
    assert case.state == "returned_for_amendment"
    assert len(_notes(portal, "note.reply_reminder")) == 1


def test_no_reply_notes_after_a_resubmission(portal: Portal, world: World) -> None:
    portal.today_override = RETURNED
    case = Driver(portal, world).to_returned()
    portal.today_override = date(2026, 12, 10)
    case.submit()
    for day in (date(2026, 12, 24), date(2026, 12, 30)):
        report = _sweep_on(portal, day)
        assert (report.reply_reminded, report.reply_overdue) == ([], [])
    assert _notes(portal, "note.reply_reminder") == _notes(portal, "note.reply_overdue") == []


def test_a_resubmission_after_the_plan_stops_the_reply_notes(
    portal: Portal, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep has read the case as waiting; the enterprise resubmits before its note is sent."""
    portal.today_override = RETURNED
    case = Driver(portal, world).to_returned()
    planned = sla._open_cases

    def plan_then_resubmit(portal_: Portal) -> Any:
        cases = planned(portal_)
        assert [c.case_id for c, _ in cases[0]] == [case.app_id]
        case.submit()
        return cases

    monkeypatch.setattr(sla, "_open_cases", plan_then_resubmit)
    report = _sweep_on(portal, date(2026, 12, 24))
    assert (report.reply_reminded, report.skipped) == ([], [case.app_id])
    assert _notes(portal, "note.reply_reminder") == []


def _impatient(portal: Portal) -> Portal:
    """The same database through an engine that gives up at once on a lock another transaction
    holds instead of waiting for it (PostgreSQL's lock_timeout, SQLite's busy_timeout): the
    enterprise's side of a race, run in this thread while the sweep's transaction is open."""
    url = portal.engine.url.render_as_string(hide_password=False)
    engine = make_engine(url)

    @event.listens_for(engine, "connect")
    def _no_waiting(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA busy_timeout=0")
        else:
            cursor.execute("SET lock_timeout = 1")
            dbapi_connection.commit()
        cursor.close()

    return replace(portal, engine=engine)


def test_a_resubmission_cannot_land_between_the_check_and_the_reminder(
    portal: Portal, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The enterprise resubmits after the sweep's per-case transaction checked that the case still
    waits, before the reminder commits. It must wait for the reminder (then sent while the case
    was waiting), never commit first and leave a reminder of a case that has already answered."""
    portal.today_override = RETURNED
    case = Driver(portal, world).to_returned()
    enterprise = _impatient(portal)
    landed: list[bool] = []
    send = sla.notify

    def resubmit_then_send(session: Any, **note: Any) -> bool:
        try:
            applications.submit(enterprise, world.actors["ent_a"], case.app_id, case.version)
            landed.append(True)
        except OperationalError:  # it would have had to wait for the sweep's transaction
            landed.append(False)
        return send(session, **note)

    monkeypatch.setattr(sla, "notify", resubmit_then_send)
    try:
        report = _sweep_on(portal, date(2026, 12, 24))
    finally:
        enterprise.engine.dispose()
    reminders = _notes(portal, "note.reply_reminder")
    assert not (landed == [True] and reminders), "reminded a case that had already been resubmitted"
    assert landed == [False] and report.reply_reminded == [case.app_id] and len(reminders) == 1
    monkeypatch.undo()
    case.submit()  # after the reminder, the answer goes through as usual
    assert case.state != "returned_for_amendment"
