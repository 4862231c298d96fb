"""Concurrency, crash safety and bad stored state: a case changes whole or not at all."""

import threading
from collections import Counter
from typing import Any

import pytest
from services_helpers import Driver, World, counts
from sqlalchemy import event, func, select, text

from portal.db.audit import verify_chain
from portal.db.tables import AuditEvent, Transition
from portal.services import access, applications, sla
from portal.services.context import Portal
from portal.services.errors import BadStoredState, StaleVersion

THREADS = 20


def test_conflicting_approvals_exactly_one_wins(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_district_review()
    version = case.version
    reviewer = world.actors["rev_tianhe"]
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def approve() -> None:
        barrier.wait()
        try:
            applications.transition(portal, reviewer, case.app_id, "district_approve", None, version)
            result = "ok"
        except StaleVersion:
            result = "conflict"
        except Exception as exc:  # anything else is a failure of the test, reported below
            result = f"error: {exc!r}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=approve) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert Counter(outcomes) == {"ok": 1, "conflict": THREADS - 1}
    assert (case.state, case.version) == ("bureau_review", version + 1)
    with portal.reading() as session:
        audits = session.execute(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.subject_id == str(case.app_id), AuditEvent.event == "district_approve")
        ).scalar_one()
        moves = session.execute(
            select(func.count())
            .select_from(Transition)
            .where(Transition.application_id == case.app_id, Transition.event == "district_approve")
        ).scalar_one()
        report = verify_chain(session)
    assert (audits, moves) == (1, 1)
    assert report.ok, report


def test_failure_before_the_audit_insert_leaves_neither(portal: Portal, world: World) -> None:
    case = Driver(portal, world)
    case.submit()
    before = counts(portal, case.app_id)

    class Injected(RuntimeError):
        pass

    seen: list[str] = []

    def explode(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        seen.append(statement.split()[0].upper())
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_EVENT"):
            raise Injected("crash between the state update and the audit insert")

    event.listen(portal.engine, "before_cursor_execute", explode)
    try:
        with pytest.raises(Injected):
            applications.transition(
                portal, world.actors["rev_tianhe"], case.app_id, "accept", None, before[1]
            )
    finally:
        event.remove(portal.engine, "before_cursor_execute", explode)
    assert "UPDATE" in seen  # the state update did run before the crash
    assert counts(portal, case.app_id) == before
    with portal.reading() as session:
        assert verify_chain(session).ok


def test_unknown_stored_state_is_a_clear_error(portal: Portal, world: World) -> None:
    case = Driver(portal, world)
    case.submit()
    with portal.engine.begin() as connection:
        connection.execute(text("UPDATE application SET state = 'limbo' WHERE id = :id"), {"id": case.app_id})
    reviewer = world.actors["rev_tianhe"]
    with pytest.raises(BadStoredState) as error:
        applications.transition(portal, reviewer, case.app_id, "accept", None, case.version)
    assert "limbo" in str(error.value) and "municipal" in str(error.value)
    with pytest.raises(BadStoredState):
        applications.allowed_events(portal, reviewer, case.app_id)
    assert access.get_application_for(portal, reviewer, case.app_id).state == "limbo"


def test_unknown_stored_state_in_a_timed_stage_is_reported_by_the_sweep(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_district_review()
    with portal.engine.begin() as connection:
        connection.execute(
            text("UPDATE application SET workflow = 'gone' WHERE id = :id"), {"id": case.app_id}
        )
    report = sla.sweep(portal)
    assert report.broken == [(case.app_id, "unknown workflow 'gone'")]
    assert report.escalated == [] and report.advanced == []
