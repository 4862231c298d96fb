"""Experts: conflicts refused, declaration before documents and scores, consensus of at least three."""

from decimal import Decimal

import pytest
from services_helpers import GOOD_SCORES, LOW_SCORES, Driver, World, counts

from portal.services import applications, experts
from portal.services.context import Portal
from portal.services.errors import Conflict, Forbidden, Refused


def _scores(values: dict[str, int]) -> dict[str, Decimal]:
    return {k: Decimal(v) for k, v in values.items()}


@pytest.mark.parametrize(
    ("expert", "reason"), [("expert4", "declared_relationship"), ("expert_same_employer", "same_enterprise")]
)
def test_conflicted_expert_cannot_be_assigned(portal: Portal, world: World, expert: str, reason: str) -> None:
    case = Driver(portal, world).to_expert_review()
    before = counts(portal, case.app_id)
    with pytest.raises(Refused) as refused:
        experts.assign_expert(
            portal, world.actors["rev_gzdev"], case.app_id, world.actors[expert].user_id, case.version
        )
    assert refused.value.code == "conflict_of_interest" and reason in (refused.value.detail or "")
    assert counts(portal, case.app_id) == before


def test_declaration_comes_before_documents_and_scores(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_expert_review()
    expert = world.actors["expert1"]
    experts.assign_expert(portal, world.actors["rev_gzdev"], case.app_id, expert.user_id, case.version)
    with pytest.raises(Forbidden):
        applications.answer_versions(portal, expert, case.app_id)
    before = counts(portal, case.app_id)
    with pytest.raises(Refused) as refused:
        experts.score(portal, expert, case.app_id, _scores(GOOD_SCORES), case.version)
    assert (refused.value.code, refused.value.detail) == ("guard_failed", "coi_declared")
    assert counts(portal, case.app_id) == before
    experts.declare(portal, expert, case.app_id, "本人与申报单位无利益冲突。", case.version)
    assert applications.answer_versions(portal, expert, case.app_id) == []
    scored = experts.score(portal, expert, case.app_id, _scores(GOOD_SCORES), case.version)
    assert scored.total == Decimal("80.00") and scored.consensus.outcome == "not_enough_scores"
    with pytest.raises(Conflict):
        experts.score(portal, expert, case.app_id, _scores(GOOD_SCORES), case.version)


def test_consensus_needs_three_and_excludes_the_conflicted(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_expert_review()
    case.panel(GOOD_SCORES, ("expert1", "expert2"))
    with pytest.raises(Refused) as refused:
        case.fire("rev_gzdev", "conclude_expert_review")
    assert refused.value.detail == "scores_passed"
    case.panel(LOW_SCORES, ("expert3",))
    # (80 + 80 + 50) / 3 = 70.00 meets the pass mark of 70 …
    assert experts.panel(portal, world.actors["rev_gzdev"], case.app_id).mean == Decimal("70.00")
    # … until expert1 turns out to be conflicted: two scores left, not enough to conclude.
    result = experts.exclude_conflicted(
        portal,
        world.actors["rev_gzdev"],
        case.app_id,
        world.actors["expert1"].user_id,
        "发现与申报单位存在合作关系",
        case.version,
    )
    assert result.outcome == "not_enough_scores" and result.excluded_expert_ids == (
        world.actors["expert1"].user_id,
    )
    with pytest.raises(Refused):
        case.fire("rev_gzdev", "conclude_expert_review")


def test_pass_mark_moves_the_case_on(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_expert_review()
    case.panel(GOOD_SCORES)
    events = [e.name for e in applications.allowed_events(portal, world.actors["rev_gzdev"], case.app_id)]
    assert "conclude_expert_review" in events
    case.fire("rev_gzdev", "conclude_expert_review")
    assert case.state == "public_notice"


def test_failed_panel_cannot_conclude(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_expert_review()
    case.panel(LOW_SCORES)
    with pytest.raises(Refused):
        case.fire("rev_gzdev", "conclude_expert_review")
    case.fire("rev_gzdev", "reject", "专家评审未达合格线")
    assert case.state == "rejected"
