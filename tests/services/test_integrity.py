"""Concurrency, crash safety and bad stored state: a case changes whole or not at all."""

import pytest
from services_helpers import Driver, World
from sqlalchemy import text

from portal.services import access, applications, sla
from portal.services.context import Portal
from portal.services.errors import BadStoredState

THREADS = 20


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
