"""The role and jurisdiction matrix: every event fired by every actor who may not fire it, in every stage.

Each refusal must leave the case exactly as it was: same state, same version, no new audit
row and no new transition row.
"""

from decimal import Decimal

import pytest
from services_helpers import GOOD_SCORES, Driver, World, counts

from portal.services import access, applications, experts
from portal.services.context import Portal
from portal.services.errors import NotFound, ServiceError
from portal.workflows import Actor

ACTORS = [
    "ent_a",
    "ent_b",
    "rev_tianhe",
    "rev_haizhu",
    "rev_gzdev",
    "rev_gzsti",
    "expert1",
    "expert4",
    "admin",
]
EVENTS = [
    "submit",
    "accept",
    "district_approve",
    "bureau_approve",
    "declare_no_conflict",
    "score",
    "conclude_expert_review",
    "pass_mark_reached",
    "close_notice",
    "dismiss_objection",
    "uphold_objection",
    "disburse",
    "return_for_amendment",
    "reject",
    "withdraw",
]
# (state → the (event, actor) pairs that legitimately succeed there); everything else must be refused.
ALLOWED = {
    "draft": {("submit", "ent_a"), ("withdraw", "ent_a")},
    "submitted": {("accept", "rev_tianhe"), ("withdraw", "ent_a")},
    "district_review": {
        ("district_approve", "rev_tianhe"),
        ("return_for_amendment", "rev_tianhe"),
        ("reject", "rev_tianhe"),
        ("withdraw", "ent_a"),
    },
    "bureau_review": {
        ("bureau_approve", "rev_gzdev"),
        ("return_for_amendment", "rev_gzdev"),
        ("reject", "rev_gzdev"),
        ("withdraw", "ent_a"),
    },
    "expert_review": {
        ("declare_no_conflict", "expert1"),
        ("return_for_amendment", "rev_gzdev"),
        ("reject", "rev_gzdev"),
        ("withdraw", "ent_a"),
    },
    "returned_for_amendment": {("submit", "ent_a"), ("withdraw", "ent_a")},
    "public_notice": {("withdraw", "ent_a")},
    "approved": {("disburse", "rev_gzdev")},
}


def _setup(case: Driver, stage: str) -> None:
    steps = {
        "draft": lambda: None,
        "submitted": case.submit,
        "district_review": case.to_district_review,
        "bureau_review": case.to_bureau_review,
        "expert_review": case.to_expert_review,
        "returned_for_amendment": case.to_returned,
        "public_notice": case.to_public_notice,
        "approved": case.to_approved,
    }
    steps[stage]()
    if stage == "expert_review":  # an assigned expert who has not declared yet
        experts.assign_expert(
            case.portal, case.actor("rev_gzdev"), case.app_id, case.actor("expert1").user_id, case.version
        )


def _fire(portal: Portal, actor: Actor, app_id: int, event: str, version: int) -> None:
    if event == "submit":
        applications.submit(portal, actor, app_id, version)
    elif event == "declare_no_conflict":
        experts.declare(portal, actor, app_id, "无利益冲突", version)
    elif event == "score":
        experts.score(portal, actor, app_id, {k: Decimal(v) for k, v in GOOD_SCORES.items()}, version)
    else:
        applications.transition(portal, actor, app_id, event, "意见", version)


@pytest.mark.parametrize("stage", list(ALLOWED))
def test_every_wrong_actor_is_refused_and_nothing_changes(portal: Portal, world: World, stage: str) -> None:
    case = Driver(portal, world)
    _setup(case, stage)
    assert case.state == stage
    tried = 0
    for event in EVENTS:
        for name in ACTORS:
            if (event, name) in ALLOWED[stage]:
                continue
            before = counts(portal, case.app_id)
            with pytest.raises(ServiceError):
                _fire(portal, world.actors[name], case.app_id, event, before[1])
            assert counts(portal, case.app_id) == before, (stage, event, name)
            tried += 1
    assert tried > 100


def test_reading_is_authorised_per_object(portal: Portal, world: World) -> None:
    case = Driver(portal, world)
    for outsider in ("ent_b", "rev_tianhe", "rev_gzdev", "expert1", "rev_haizhu"):
        with pytest.raises(NotFound):  # nobody but the owner sees a draft
            access.get_application_for(portal, world.actors[outsider], case.app_id)
    case.to_expert_review()
    for insider in ("ent_a", "rev_tianhe", "rev_gzdev", "admin"):
        assert access.get_application_for(portal, world.actors[insider], case.app_id).id == case.app_id
    for outsider in ("ent_b", "rev_haizhu", "rev_gzsti", "expert1", "expert4"):
        with pytest.raises(NotFound):
            access.get_application_for(portal, world.actors[outsider], case.app_id)
    with pytest.raises(NotFound):
        access.get_application_for(portal, world.actors["ent_a"], 999_999)
    assert [a.id for a in access.list_applications_for(portal, world.actors["rev_haizhu"])] == []
    assert [a.id for a in access.list_applications_for(portal, world.actors["rev_tianhe"])] == [case.app_id]
