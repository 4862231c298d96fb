"""`crosscheck`: the working tables agree with the audit chain until someone edits them by hand."""

from services_helpers import Driver, World
from sqlalchemy import text

from portal.services.audit_crosscheck import crosscheck
from portal.services.context import Portal


def _problems(portal: Portal) -> list[str]:
    with portal.reading() as session:
        return crosscheck(session)


def _edit(portal: Portal, sql: str, **params: object) -> None:
    with portal.engine.begin() as connection:
        connection.execute(text(sql), params)


def test_edits_behind_the_services_back_are_named(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_bureau_review()
    assert _problems(portal) == [], "real use must leave the tables and the chain in agreement"

    _edit(portal, "UPDATE application SET state = 'approved' WHERE id = :id", id=case.app_id)
    _edit(portal, "DELETE FROM transition WHERE application_id = :id AND event = 'accept'", id=case.app_id)
    _edit(
        portal,
        "UPDATE user_account SET role = 'admin' WHERE id = :id",
        id=world.actors["rev_tianhe"].user_id,
    )
    problems = _problems(portal)
    assert f"application {case.app_id}: state is 'approved', the audit chain says 'bureau_review'" in problems
    assert any(
        p.startswith(f"application {case.app_id}: transition accept submitted → district_review is missing")
        for p in problems
    ), problems
    assert (
        f"user {world.actors['rev_tianhe'].user_id}: role is 'admin', the audit chain says 'reviewer'"
        in problems
    )
