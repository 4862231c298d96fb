"""A work item (待办) waits only while its case is still at its stage, and only once per visit."""

from services_helpers import Driver, World

from portal.services import applications, notifications
from portal.services.context import Portal


def _waiting(portal: Portal, world: World, who: str, case: int) -> list[str]:
    """The stages of the work items about `case` that `who`'s inbox still shows as waiting."""
    received = [n for n in notifications.inbox(portal, world.actors[who]) if notifications.case_of(n) == case]
    settled = notifications.settled_work(portal, received)
    return [
        str((n.params or {})["state"])
        for n in received
        if n.kind == notifications.WORK_ITEM and n.id not in settled
    ]


def test_a_work_item_settles_when_its_case_moves_on_comes_back_or_is_withdrawn(
    portal: Portal, world: World
) -> None:
    case = Driver(portal, world)
    reviewer = case.district_reviewer
    case.submit()
    assert _waiting(portal, world, reviewer, case.app_id) == [case.state]
    case.to_district_review()
    # The note about the stage it left no longer waits; the one about the stage it is at does.
    review = case.state
    assert _waiting(portal, world, reviewer, case.app_id) == [review]
    case.fire(reviewer, "return_for_amendment", "请补充算力采购合同")
    assert _waiting(portal, world, reviewer, case.app_id) == []
    case.submit()  # back at the same review stage: one item waits for it, not two
    assert case.state == review
    assert _waiting(portal, world, reviewer, case.app_id) == [review]
    applications.withdraw(portal, world.actors["ent_a"], case.app_id, case.version)
    assert _waiting(portal, world, reviewer, case.app_id) == []


def test_a_settled_work_item_says_it_no_longer_waits(portal: Portal, world: World) -> None:
    case = Driver(portal, world)
    case.submit()
    [item] = [
        n for n in notifications.inbox(portal, world.actors[case.district_reviewer]) if n.kind == "work_item"
    ]
    assert notifications.note_text(portal, item, "en")[0].startswith("To do: ")
    title, body = notifications.note_text(portal, item, "en", settled=True)
    assert title.startswith("No longer waiting: ") and f"#{case.app_id} " in body
    title, body = notifications.note_text(portal, item, "zh", settled=True)
    assert title.startswith("无需再办：") and f"#{case.app_id} " in body
