"""`crosscheck`: the working tables agree with the audit chain until someone edits them by hand."""

from decimal import Decimal

from services_helpers import Driver, World, valid_uscc_b
from sqlalchemy import text

from portal.services import registration
from portal.services.audit_crosscheck import crosscheck
from portal.services.context import Portal
from tests.support.workflow_paths import find_path, is_unfavourable, start_state


def _problems(portal: Portal) -> list[str]:
    with portal.reading() as session:
        return crosscheck(session)


def _edit(portal: Portal, sql: str, **params: object) -> None:
    with portal.engine.begin() as connection:
        connection.execute(text(sql), params)


def test_edits_behind_the_services_back_are_named(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_bureau_review()
    stage = case.state
    assert _problems(portal) == [], "real use must leave the tables and the chain in agreement"
    # The reviewers' first move on the case, read off the workflow.
    workflow = portal.workflows["municipal"]
    [first, *_] = find_path(
        workflow, start_state(workflow), stage, avoid=lambda e: is_unfavourable(workflow, e)
    )

    _edit(portal, "UPDATE application SET state = 'approved' WHERE id = :id", id=case.app_id)
    _edit(
        portal,
        "DELETE FROM transition WHERE application_id = :id AND event = :event",
        id=case.app_id,
        event=first.event,
    )
    _edit(
        portal,
        "UPDATE user_account SET role = 'admin' WHERE id = :id",
        id=world.actors["rev_tianhe"].user_id,
    )
    problems = _problems(portal)
    assert f"application {case.app_id}: state is 'approved', the audit chain says '{stage}'" in problems
    assert any(
        p.startswith(
            f"application {case.app_id}: transition {first.event} {first.source} → {first.target} is missing"
        )
        for p in problems
    ), problems
    assert (
        f"user {world.actors['rev_tianhe'].user_id}: role is 'admin', the audit chain says 'reviewer'"
        in problems
    )


def test_a_decision_edited_by_hand_is_named(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_approved()
    assert _problems(portal) == [], "a real decision must agree with the chain's record of it"
    with portal.reading() as session:
        decision_id, amount = session.execute(
            text("SELECT id, granted_amount FROM decision WHERE application_id = :id"), {"id": case.app_id}
        ).one()

    _edit(portal, "UPDATE decision SET outcome = 'rejected' WHERE id = :id", id=decision_id)
    _edit(portal, "UPDATE decision SET granted_amount = 99999999 WHERE id = :id", id=decision_id)
    problems = _problems(portal)
    assert any(
        p.startswith(f"decision {decision_id}: outcome is 'rejected', the audit chain (row ")
        for p in problems
    ), problems
    assert any(
        p.startswith(f"decision {decision_id}: granted amount is 99999999")
        and p.endswith(f"says {Decimal(str(amount)).quantize(Decimal('0.01'))}")
        for p in problems
    ), problems


def test_an_account_made_by_a_claim_is_on_record(portal: Portal) -> None:
    """A second person registering a held code gets an inactive account through a claim; the
    claim's audit row records how that account was made, so the cross-check stays clean."""
    registration.register(
        portal,
        registration.Registration(
            uscc=valid_uscc_b(),
            name="海珠模型科技有限公司",
            district="haizhu",
            username="second_person",
            display_name="第二位联系人",
            email="second@example.test",
            password="a quiet harbour lantern 2026",
            password2="a quiet harbour lantern 2026",
        ),
    )
    assert _problems(portal) == []
