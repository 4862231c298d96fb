"""The path finder of tests/support against every workflow of the pack, fired on the real engine.

Each derived journey must be accepted event by event by `Workflow.fire`, with an actor of the
party the step names, and must end in a terminal state; so a path the matrix drives over HTTP
is one the engine really allows.
"""

from dataclasses import replace
from pathlib import Path

import pytest

from portal.city import load_city
from portal.workflows import Actor, CaseContext, Workflow, load_workflows
from tests.support.workflow_paths import NoPath, Step, find_path, journeys, kind, start_state

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = load_workflows(ROOT / "workflows")
# A case's journeys (approve, reject, withdraw, amend); the papers of verification have none.
CASE_WORKFLOWS = sorted(set(WORKFLOWS) - {load_city(ROOT).verification.workflow})

CASE = CaseContext(
    enterprise_id=1,
    district="d",
    lead_unit="u",
    bank_id=2,
    attachments_complete=True,
    eligibility_outcome="eligible",
    coi_declared=True,
    assigned_expert_ids=frozenset({3}),
    scores_passed=True,
    notice_elapsed=True,
)
ACTORS = {
    "enterprise": Actor(user_id=10, role="enterprise", enterprise_id=1),
    "bank": Actor(user_id=11, role="bank", bank_id=2),
    "district": Actor(user_id=12, role="reviewer", district="d"),
    "bureau": Actor(user_id=13, role="reviewer", bureau="u"),
    "expert": Actor(user_id=3, role="expert"),
    "system": Actor(user_id=0, role="system"),
}


def fire_all(workflow: Workflow, steps: tuple[Step, ...] | list[Step]) -> str:
    state, returned_from = workflow.initial, None
    for step in steps:
        assert step.source == state
        case = replace(
            CASE,
            returned_from=returned_from,
            objection_pending="objection_pending" in step.edge.guards,
            coi_declared="coi_not_declared" not in step.edge.guards,
            # A routed approval (`when:`) goes where the journey's step goes: money or status only.
            money_benefit="no_money_benefit" not in (*step.edge.guards, step.edge.when),
        )
        state = workflow.fire(
            state, step.event, ACTORS[step.party], case, "理由" if step.comment_required else None
        )
        assert state == step.target
        if workflow.state(state).kind == "amendment":
            returned_from = step.source
    return state


@pytest.mark.parametrize("name", CASE_WORKFLOWS)
def test_every_journey_fires_on_the_engine_and_ends(name: str) -> None:
    workflow = WORKFLOWS[name]
    found = journeys(workflow)
    assert {j.kind for j in found} >= {"approve", "reject", "withdraw", "amend"}
    for journey in found:
        end = fire_all(workflow, journey.steps)
        assert workflow.state(end).final, journey.id
    ids = [j.id for j in found]
    assert len(ids) == len(set(ids))


def test_the_municipal_journeys_cover_notice_objections_and_the_panel() -> None:
    workflow = WORKFLOWS["municipal"]
    kinds = {j.kind for j in journeys(workflow)}
    assert {"objection_upheld", "objection_dismissed", "expert_replaced"} <= kinds
    approve = next(j for j in journeys(workflow) if j.kind == "approve")
    parties = [step.party for step in approve.steps]
    assert parties[0] == "enterprise" and "system" in parties  # the notice closes by itself
    assert any(workflow.state(s).kind == "decided" for s in approve.states())


def test_find_path_by_kind_and_the_resubmission_route() -> None:
    workflow = WORKFLOWS["short_track"]
    first = start_state(workflow)
    to_decision = find_path(workflow, first, kind("decided"))
    assert workflow.state(to_decision[-1].target).kind == "decided"
    assert find_path(workflow, first, first) == []
    amendment = next(s.name for s in workflow.states if s.kind == "amendment")
    review = [s.name for s in workflow.states if s.kind == "review"]
    for stage in review:  # a resubmission goes back to the stage that returned the case
        back = find_path(workflow, amendment, stage, returned_from=stage)
        assert [step.target for step in back] == [stage]
    with pytest.raises(NoPath):
        find_path(workflow, amendment, review[0], returned_from=None)
