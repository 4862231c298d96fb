"""Workflow engine speed: one `Workflow.fire`, before and after pooling the machine instances.

    .venv/bin/python bench/workflow_engine_bench.py [--workflows workflows] [--repeats 7]

"before" is the engine's first design, rebuilt here as the baseline: a new python-statemachine
instance for every event, with per-state configuration updates. "after" is `Workflow.fire`
as shipped: the class built at load, per-thread instances re-pointed at the stored state,
rebuilt only after entering a final state. Both run the same machine class and the same
validators. Workloads:

- steady: every edge that does not end the case, fired by an actor it allows;
- refused: the same edges fired by a role they refuse (the refusal raises inside the machine);
- lifecycle: the municipal happy path from draft to disbursed (its last event ends the case,
  so the pooled path pays one rebuild per lifecycle).

Prints µs per fire, the speed-up (goal ≥ 10×) and the library's floor: one event sent to a
reused two-state machine with no callbacks, which no engine firing python-statemachine per
event can beat (so before ÷ floor bounds the speed-up). Then pooled fires/s from 1 and 4 threads.
The machine is shared, so absolute figures drift with its load: runs are interleaved and the
best of N is kept, which makes the ratios the comparable figures.
"""

import argparse
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

from statemachine import StateChart
from statemachine.exceptions import TransitionNotAllowed
from statemachine.io import create_machine_class_from_definition

from portal.workflows import Actor, CaseContext, TransitionRefused, Workflow, load_workflows
from portal.workflows.spec import TransitionSpec

REPO = Path(__file__).resolve().parent.parent
ENTERPRISE_ID, BANK_ID, EXPERT_ID = 501, 7, 900
BASE_CASE = CaseContext(
    enterprise_id=ENTERPRISE_ID,
    district="tianhe",
    lead_unit="gzsti",
    bank_id=BANK_ID,
    attachments_complete=True,
    eligibility_outcome="eligible",
    assigned_expert_ids=frozenset({EXPERT_ID}),
    scores_passed=True,
    notice_elapsed=True,
)
ACTORS: dict[str, Actor] = {
    "enterprise": Actor(user_id=11, role="enterprise", enterprise_id=ENTERPRISE_ID),
    "reviewer": Actor(user_id=12, role="reviewer", district="tianhe", bureau="gzsti"),
    "expert": Actor(user_id=EXPERT_ID, role="expert"),
    "bank": Actor(user_id=14, role="bank", bank_id=BANK_ID),
    "system": Actor(user_id=0, role="system"),
    "admin": Actor(user_id=15, role="admin", district="tianhe", bureau="gzsti"),
}


def happy_path(workflow: Workflow) -> list[TransitionSpec]:
    """The lifecycle the bench fires, read off the workflow so a new stage joins it.

    From the initial state: each stage's primary self-loops (an expert's declaration and score),
    then its primary way forward (a person's before the system's), until a final state.
    """
    path: list[TransitionSpec] = []
    state = workflow.initial
    while not workflow.state(state).final:
        primary = [
            edge
            for edge in workflow.transitions_from(state)
            if edge.style == "primary" and workflow.state(edge.target).kind != "confirmation"
        ]
        path += [edge for edge in primary if edge.target == edge.source]
        onward = [edge for edge in primary if edge.target != edge.source]
        [edge, *_] = sorted(onward, key=lambda edge: "system" in edge.roles)
        path.append(edge)
        state = edge.target
    return path


@dataclass(frozen=True)
class Call:
    workflow: Workflow
    state: str
    event: str
    actor: Actor
    case: CaseContext
    comment: str | None


@dataclass
class _Cursor:
    state: str


FireFn = Callable[[Call], str | None]


def legacy_fire(classes: dict[str, type[StateChart[Any]]]) -> FireFn:
    """The first design: check the event leaves the state, then a new machine per event."""

    def fire(call: Call) -> str | None:
        workflow = call.workflow
        if not [e for e in workflow.transitions_from(call.state) if e.event == call.event]:
            return None
        cursor = _Cursor(state=call.state)
        machine = classes[workflow.name](model=cursor)
        try:
            machine.send(call.event, actor=call.actor, case=call.case, comment=call.comment)
        except (TransitionRefused, TransitionNotAllowed):
            return None
        return cursor.state

    return fire


def pooled_fire(call: Call) -> str | None:
    try:
        return call.workflow.fire(call.state, call.event, call.actor, call.case, call.comment)
    except TransitionRefused:
        return None


def case_for(edge: TransitionSpec) -> CaseContext:
    return replace(
        BASE_CASE,
        coi_declared="coi_not_declared" not in edge.guards,
        objection_pending="objection_pending" in edge.guards,
        returned_from=edge.target if edge.route_by_returned_from else None,
    )


def call_for(workflow: Workflow, edge: TransitionSpec, role: str) -> Call:
    comment = "理由 / reasons" if edge.comment_required else None
    return Call(workflow, edge.source, edge.event, ACTORS[role], case_for(edge), comment)


def workloads(workflows: dict[str, Workflow]) -> dict[str, list[Call]]:
    steady: list[Call] = []
    refused: list[Call] = []
    for workflow in workflows.values():
        for edge in workflow.transitions:
            if workflow.state(edge.target).final:
                continue
            steady.append(call_for(workflow, edge, sorted(edge.roles)[0]))
            wrong = sorted(set(ACTORS) - edge.roles)[0]
            refused.append(call_for(workflow, edge, wrong))
    municipal = workflows["municipal"]
    lifecycle = [call_for(municipal, edge, sorted(edge.roles)[0]) for edge in happy_path(municipal)]
    return {"steady": steady, "refused": refused, "lifecycle": lifecycle}


def per_fire_us(fire: FireFn, calls: list[Call], rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        for call in calls:
            fire(call)
    return (time.perf_counter() - start) / (rounds * len(calls)) * 1e6


def check_same(before: FireFn, after: FireFn, calls: list[Call]) -> None:
    """Refuse to time two paths that disagree: a fast wrong answer is no figure."""
    for call in calls:
        old, new = before(call), after(call)
        if old != new:
            raise SystemExit(
                f"{call.workflow.name}.{call.event} from {call.state}: before {old!r}, after {new!r}"
            )


def library_floor() -> FireFn:
    """One event on a reused two-state machine with no callbacks: what any fire through
    python-statemachine costs at least, whatever the engine around it does."""
    machine_class = create_machine_class_from_definition(
        "Floor",
        states={
            "a": {"initial": True, "on": {"go": [{"target": "b"}]}},
            "b": {"on": {"go": [{"target": "a"}]}},
        },
        allow_event_without_transition=False,
        catch_errors_as_events=False,
        atomic_configuration_update=True,
    )
    cursor = _Cursor(state="a")
    machine = machine_class(model=cursor)

    def fire(_call: Call) -> str | None:
        machine.send("go")
        return cursor.state

    return fire


def threaded_fires_per_s(calls: list[Call], threads: int, rounds: int) -> float:
    barrier = threading.Barrier(threads + 1)

    def work() -> None:
        barrier.wait()
        for _ in range(rounds):
            for call in calls:
                pooled_fire(call)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    barrier.wait()
    start = time.perf_counter()
    for worker in workers:
        worker.join()
    return threads * rounds * len(calls) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=Path, default=REPO / "workflows")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    workflows = load_workflows(args.workflows)
    # The first design's class: the same definition, but updating the configuration per state.
    legacy_classes: dict[str, type[StateChart[Any]]] = {
        name: type(
            f"Legacy{wf.machine_class.__name__}", (wf.machine_class,), {"atomic_configuration_update": False}
        )
        for name, wf in workflows.items()
    }
    before = legacy_fire(legacy_classes)
    floor = library_floor()
    print(f"python-statemachine {version('python-statemachine')}; best of {args.repeats}, interleaved")
    print(f"{'workload':<10} {'fires':>5} {'before µs':>10} {'after µs':>9} {'speed-up':>9} {'floor µs':>9}")
    for name, calls in workloads(workflows).items():
        check_same(before, pooled_fire, calls)
        rounds_after = max(1, 3000 // len(calls))
        rounds_before = max(1, rounds_after // 10)
        best_before = best_after = best_floor = float("inf")
        for _ in range(args.repeats):
            best_before = min(best_before, per_fire_us(before, calls, rounds_before))
            best_after = min(best_after, per_fire_us(pooled_fire, calls, rounds_after))
            best_floor = min(best_floor, per_fire_us(floor, calls, rounds_after))
        timings = (
            f"{best_before:>10.1f} {best_after:>9.1f} {best_before / best_after:>8.1f}× {best_floor:>9.1f}"
        )
        print(f"{name:<10} {len(calls):>5} {timings}")
    steady = workloads(workflows)["steady"]
    for threads in (1, 4):
        rate = max(threaded_fires_per_s(steady, threads, 3000 // len(steady) // threads) for _ in range(3))
        print(f"pooled, {threads} thread(s): {rate:,.0f} fires/s")


if __name__ == "__main__":
    main()
