"""Pooled machines answer exactly as a fresh machine per event did, on any thread.

The oracle is the engine's first design, rebuilt here: a new python-statemachine instance
of the same definition for every event, updating its configuration state by state. Random
walks jump between states as the portal does between cases, so one pooled instance serves
many "cases", passes through refusals and final states, and is re-pointed every time.
"""

import random
import sys
import threading
from dataclasses import dataclass, replace
from typing import Any, cast

import pytest
from statemachine import StateChart
from statemachine.exceptions import TransitionNotAllowed
from wf_helpers import BASE_CASE, actor_for

from portal.workflows import Actor, CaseContext, TransitionRefused, Workflow
from portal.workflows.context import ROLES

Outcome = tuple[str, ...]


@dataclass(frozen=True)
class Call:
    state: str
    event: str
    actor: Actor
    case: CaseContext
    comment: str | None


@dataclass
class _Cursor:
    state: str


def refusal(exc: TransitionRefused) -> Outcome:
    return ("refused", exc.code, exc.detail or "", exc.message_zh, exc.message_en)


def fresh_machine_fire(workflow: Workflow, machine: type[StateChart[Any]], call: Call) -> Outcome:
    """What `fire` answered when it built a machine per event."""
    if not any(edge.event == call.event for edge in workflow.transitions_from(call.state)):
        return ("refused", "not_allowed_in_state")
    cursor = _Cursor(state=call.state)
    try:
        machine(model=cursor).send(call.event, actor=call.actor, case=call.case, comment=call.comment)
    except TransitionRefused as exc:
        return refusal(exc)
    except TransitionNotAllowed:
        return ("refused", "no_route")
    return ("fired", cursor.state)


def pooled_fire(workflow: Workflow, call: Call) -> Outcome:
    try:
        return ("fired", workflow.fire(call.state, call.event, call.actor, call.case, call.comment))
    except TransitionRefused as exc:
        if exc.code in ("not_allowed_in_state", "no_route"):
            return ("refused", exc.code)
        return refusal(exc)


def legacy_class(workflow: Workflow) -> type[StateChart[Any]]:
    return cast(
        "type[StateChart[Any]]",
        type("Legacy", (workflow.machine_class,), {"atomic_configuration_update": False}),
    )


def random_plan(workflow: Workflow, seed: int, steps: int) -> list[tuple[Call, Outcome]]:
    """Calls with the oracle's answers: mostly events that may pass, plus wrong actors,
    failed guards, blank comments, bad routes, and jumps to another state (another case)."""
    rng = random.Random(seed)
    oracle = legacy_class(workflow)
    states = [state.name for state in workflow.states]
    events = sorted({edge.event for edge in workflow.transitions})
    plan: list[tuple[Call, Outcome]] = []
    state = workflow.initial
    for _ in range(steps):
        if workflow.state(state).final or rng.random() < 0.2:
            state = rng.choice(states)
        outgoing = workflow.transitions_from(state)
        if outgoing and rng.random() < 0.8:
            edge = rng.choice(outgoing)
            event, role = edge.event, rng.choice([*sorted(edge.roles), rng.choice(sorted(ROLES))])
        else:
            event, role = rng.choice(events), rng.choice(sorted(ROLES))
        actor = actor_for(role)
        if rng.random() < 0.1:
            actor = replace(actor, district="yuexiu", bureau="gzfinance", enterprise_id=1, bank_id=1)
        case = replace(
            BASE_CASE,
            coi_declared=rng.random() < 0.7,
            objection_pending=rng.random() < 0.3,
            scores_passed=rng.choice([True, True, False, None]),
            returned_from=rng.choice([*states, None]),
        )
        call = Call(state, event, actor, case, rng.choice(["意见 / reasons", None, "  "]))
        expected = fresh_machine_fire(workflow, oracle, call)
        plan.append((call, expected))
        if expected[0] == "fired":
            state = expected[1]
    return plan


@pytest.mark.parametrize("name", ["municipal", "short_track", "bank_loan"])
def test_pooled_fire_answers_like_a_fresh_machine_per_event(
    workflows: dict[str, Workflow], name: str
) -> None:
    workflow = workflows[name]
    outcomes: set[str] = set()
    for call, expected in random_plan(workflow, seed=len(name), steps=400):
        assert pooled_fire(workflow, call) == expected, call
        outcomes.add(expected[0] if expected[0] == "fired" else expected[1])
    # The walk really exercised every kind of answer, including the machine's own refusals.
    assert {"fired", "not_allowed_in_state", "wrong_role", "comment_required"} <= outcomes
    if name != "bank_loan":  # only routed workflows can refuse with no_route
        assert "no_route" in outcomes


def test_a_final_state_does_not_stop_later_fires_on_the_same_thread(workflows: dict[str, Workflow]) -> None:
    wf = workflows["municipal"]
    reviewer = actor_for("reviewer")
    for _ in range(3):
        assert wf.fire("approved", "disburse", reviewer, BASE_CASE) == "disbursed"
        assert wf.fire("district_review", "reject", reviewer, BASE_CASE, "不符合条件") == "rejected"
        assert wf.fire("submitted", "accept", reviewer, BASE_CASE) == "district_review"


def test_an_unforeseen_error_inside_the_machine_leaves_later_fires_intact(
    workflows: dict[str, Workflow],
) -> None:
    wf = workflows["municipal"]
    reviewer = actor_for("reviewer")
    assert wf.fire("submitted", "accept", reviewer, BASE_CASE) == "district_review"
    with pytest.raises(AttributeError):  # the jurisdiction check reads attributes of the case
        wf.fire("submitted", "accept", reviewer, cast(CaseContext, None))
    assert wf.fire("submitted", "accept", reviewer, BASE_CASE) == "district_review"
    with pytest.raises(TransitionRefused, match="wrong_role"):
        wf.fire("submitted", "accept", actor_for("bank"), BASE_CASE)


def test_concurrent_fires_from_several_threads_match_the_oracle(workflows: dict[str, Workflow]) -> None:
    plans = [
        (workflow, random_plan(workflow, seed=100 + index, steps=150))
        for index, workflow in enumerate(list(workflows.values()) * 2)
    ]
    # Switch threads as often as the interpreter allows, so fires interleave mid-event.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    barrier = threading.Barrier(len(plans))
    mismatches: list[tuple[str, Call, Outcome, Outcome]] = []
    errors: list[BaseException] = []

    def run(workflow: Workflow, plan: list[tuple[Call, Outcome]]) -> None:
        try:
            barrier.wait()
            for call, expected in plan:
                got = pooled_fire(workflow, call)
                if got != expected:
                    mismatches.append((workflow.name, call, expected, got))
        except BaseException as exc:  # reported below: a thread must not fail silently
            errors.append(exc)

    threads = [threading.Thread(target=run, args=plan) for plan in plans]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(previous)
    assert not errors
    assert not mismatches
