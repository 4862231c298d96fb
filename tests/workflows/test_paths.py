"""Every path through every workflow, fired edge by edge with the actor each edge names.

A path uses each edge at most once (so each amendment loop is taken once per stage) and
follows `resubmit` only back to the stage that actually returned the case.
"""

from collections.abc import Iterator
from dataclasses import replace

import pytest
from wf_helpers import BASE_CASE, actor_for, case_for, comment_for

from portal.workflows import Workflow
from portal.workflows.spec import TransitionSpec

Path_ = tuple[TransitionSpec, ...]


def all_paths(workflow: Workflow) -> Iterator[Path_]:
    def walk(state: str, used: Path_, returned_from: str | None) -> Iterator[Path_]:
        if workflow.state(state).final:
            yield used
            return
        for edge in workflow.transitions_from(state):
            if edge in used or edge.source == edge.target:
                continue
            if edge.route_by_returned_from and edge.target != returned_from:
                continue
            origin = edge.source if workflow.state(edge.target).kind == "amendment" else returned_from
            yield from walk(edge.target, (*used, edge), origin)

    yield from walk(workflow.initial, (), None)


def fire_path(workflow: Workflow, path: Path_) -> str:
    state = workflow.initial
    returned_from: str | None = None
    for edge in path:
        case = case_for(edge, returned_from)
        actor = actor_for(sorted(edge.roles)[0])
        assert edge.event in [e.name for e in workflow.allowed_events(state, actor, case)]
        state = workflow.fire(state, edge.event, actor, case, comment_for(edge))
        assert state == edge.target
        if workflow.state(state).kind == "amendment":
            returned_from = edge.source
    return state


@pytest.mark.parametrize("name", ["municipal", "short_track", "bank_loan"])
def test_every_path_reaches_a_terminal_state(workflows: dict[str, Workflow], name: str) -> None:
    workflow = workflows[name]
    paths = list(all_paths(workflow))
    assert len(paths) > 10
    terminals = set()
    for path in paths:
        end = fire_path(workflow, path)
        assert workflow.state(end).final
        terminals.add(end)
    assert terminals == {s.name for s in workflow.states if s.final}
    # Every edge that leaves its state lies on some path.
    covered = {edge for path in paths for edge in path}
    assert covered == {e for e in workflow.transitions if e.source != e.target}


@pytest.mark.parametrize(
    ("conclusion", "by"), [("pass_mark_reached", "system"), ("conclude_expert_review", "reviewer")]
)
def test_municipal_happy_path(workflows: dict[str, Workflow], conclusion: str, by: str) -> None:
    wf = workflows["municipal"]
    steps = [
        ("submit", "enterprise", "submitted"),
        ("accept", "reviewer", "district_review"),
        ("district_approve", "reviewer", "bureau_review"),
        ("bureau_approve", "reviewer", "expert_review"),
        ("score", "expert", "expert_review"),
        (conclusion, by, "public_notice"),
        ("close_notice", "system", "approved"),
        ("disburse", "reviewer", "disbursed"),
    ]
    state = wf.initial
    for event, role, expected in steps:
        state = wf.fire(state, event, actor_for(role), BASE_CASE)
        assert state == expected


@pytest.mark.parametrize("stage", ["district_review", "bureau_review", "expert_review"])
def test_amendment_goes_back_to_the_stage_that_returned_it(
    workflows: dict[str, Workflow], stage: str
) -> None:
    wf = workflows["municipal"]
    reviewer, enterprise = actor_for("reviewer"), actor_for("enterprise")
    returned = wf.fire(stage, "return_for_amendment", reviewer, BASE_CASE, comment="请补充审计报告")
    assert returned == "returned_for_amendment"
    assert wf.state(returned).paused_sla
    came_back = replace(BASE_CASE, returned_from=stage)
    [event] = [e for e in wf.allowed_events(returned, enterprise, came_back) if e.name == "resubmit"]
    assert event.target == stage
    assert wf.fire(returned, "resubmit", enterprise, came_back) == stage


def test_expert_declares_then_scores(workflows: dict[str, Workflow]) -> None:
    wf = workflows["municipal"]
    expert = actor_for("expert")
    undeclared = replace(BASE_CASE, coi_declared=False)
    assert [e.name for e in wf.allowed_events("expert_review", expert, undeclared)] == ["declare_no_conflict"]
    assert wf.fire("expert_review", "declare_no_conflict", expert, undeclared) == "expert_review"
    declared = replace(BASE_CASE, coi_declared=True)
    assert [e.name for e in wf.allowed_events("expert_review", expert, declared)] == ["score"]


def test_objection_outcomes_on_public_notice(workflows: dict[str, Workflow]) -> None:
    wf = workflows["municipal"]
    reviewer = actor_for("reviewer")
    pending = case_for(next(e for e in wf.transitions if e.event == "uphold_objection"))
    names = [e.name for e in wf.allowed_events("public_notice", reviewer, pending)]
    assert names == ["dismiss_objection", "uphold_objection"]
    assert wf.fire("public_notice", "uphold_objection", reviewer, pending, "异议属实") == "rejected"
    assert wf.fire("public_notice", "dismiss_objection", reviewer, pending, "异议不成立") == "public_notice"


def test_the_pass_mark_is_the_systems_to_act_on(workflows: dict[str, Workflow]) -> None:
    wf = workflows["municipal"]
    system, reviewer = actor_for("system"), actor_for("reviewer")
    assert [e.name for e in wf.allowed_events("expert_review", system, BASE_CASE)] == ["pass_mark_reached"]
    assert "pass_mark_reached" not in [
        e.name for e in wf.allowed_events("expert_review", reviewer, BASE_CASE)
    ]
    for verdict in (False, None):  # a failed panel, or too few scores: nothing moves by itself
        case = replace(BASE_CASE, scores_passed=verdict)
        assert wf.allowed_events("expert_review", system, case) == []
