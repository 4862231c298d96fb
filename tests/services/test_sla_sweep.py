"""The SLA sweep: escalation fires, fires once, and fires after a restart (the CLI in a new process)."""

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from services_helpers import Driver, World
from sqlalchemy import func, select

from portal.db.audit import verify_chain
from portal.db.tables import AuditEvent, Notification
from portal.services import access, sla
from portal.services.context import Portal

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
    assert f"advanced    application {notice.app_id}: public_notice -> approved" in first
    second = _cli_sweep(url, str(tmp_path), "2026-06-08")
    assert "0 escalated, 0 advanced" in second
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
