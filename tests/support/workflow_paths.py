"""Event sequences read off a workflow definition, so tests follow the pack instead of scripting events.

A test asks for "the way from the submitted state to an approving state" and gets the events in
order, each with the party who fires it. A pack whose states and events carry other names gives
its own sequence, so the same test runs over it unchanged.

Everything here is derived from the structure of the workflow (state kinds, roles, jurisdictions,
guards, edge styles), never from a state's or an event's name:

- `find_path(workflow, start, goal)`: the shortest event sequence between two states, or from a
  state to any state of a kind (`kind("decided")`), following a "go back where you came from"
  event only to the stage that returned the case;
- `Step.party`: who fires the event (enterprise, district, bureau, expert, bank, system, admin);
- `journeys(workflow)`: the named paths a case can take from its first state to a terminal one
  (approve, reject, withdraw, amend, objection upheld/dismissed, expert replaced), each once per
  stage where the workflow allows it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from portal.workflows import StateSpec, Workflow
from portal.workflows.spec import TransitionSpec

StatePredicate = Callable[[StateSpec], bool]
EdgePredicate = Callable[[TransitionSpec], bool]
Target = str | StatePredicate
Conditions = frozenset[str] | None

# Jurisdiction → the party that acts; `none` falls back to the edge's roles (system, admin).
_PARTY_OF_JURISDICTION = {
    "owner": "enterprise",
    "district": "district",
    "bureau": "bureau",
    "assigned": "expert",
    "bank": "bank",
}


def applies(edge: TransitionSpec, holds: Conditions) -> bool:
    """Whether an edge chosen by a `when:` condition is the one a case with `holds` takes."""
    when = getattr(edge, "when", None)
    return when is None or holds is None or when in holds


class NoPath(LookupError):
    """The workflow has no way from `start` to `goal` under the given constraints."""


def party_of(edge: TransitionSpec) -> str:
    """Who fires `edge`: the system for timed and automatic events, else by jurisdiction."""
    if "system" in edge.roles:
        return "system"
    party = _PARTY_OF_JURISDICTION.get(edge.jurisdiction)
    if party is not None:
        return party
    return sorted(edge.roles)[0]


@dataclass(frozen=True)
class Step:
    """One event of a path: fire `event` in `source` (as `party`) and the case is in `target`."""

    edge: TransitionSpec

    @property
    def event(self) -> str:
        return self.edge.event

    @property
    def source(self) -> str:
        return self.edge.source

    @property
    def target(self) -> str:
        return self.edge.target

    @property
    def party(self) -> str:
        return party_of(self.edge)

    @property
    def comment_required(self) -> bool:
        return self.edge.comment_required

    def __str__(self) -> str:
        return f"{self.source} --{self.event} ({self.party})--> {self.target}"


def kind(*kinds: str) -> StatePredicate:
    """A goal matching every state of one of `kinds` (draft, intake, review, notice, decided, terminal…)."""
    wanted = frozenset(kinds)
    return lambda state: state.kind in wanted


def _matcher(workflow: Workflow, target: Target) -> StatePredicate:
    if isinstance(target, str):
        workflow.state(target)  # an unknown name is a mistake in the test, not "no path"
        return lambda state: state.name == target
    return target


def find_path(
    workflow: Workflow,
    start: str,
    goal: Target,
    *,
    avoid: EdgePredicate | None = None,
    returned_from: str | None = None,
    holds: Conditions = None,
) -> list[Step]:
    """The shortest event sequence from state `start` to `goal` (a state name or a predicate).

    Self-loops (declarations, scores, dismissed objections) are never part of a path: they do not
    move the case. Edges for which `avoid` is true are not taken. Entering a state of kind
    `amendment` remembers the stage that returned the case, and a routed resubmission edge is
    taken only back to that stage (`returned_from` seeds it when `start` is such a state).
    `holds` names the `when:` conditions true of the case (e.g. {"money_benefit"}): an edge
    whose `when` is not among them is not taken. None takes any (the first in file order wins
    where the shortest ways tie).
    Raises NoPath when the goal cannot be reached; a `start` that already matches gives [].
    """
    matches = _matcher(workflow, goal)
    workflow.state(start)
    seen = {(start, returned_from)}
    queue: deque[tuple[str, str | None, list[Step]]] = deque([(start, returned_from, [])])
    while queue:
        state, origin, steps = queue.popleft()
        if matches(workflow.state(state)):
            return steps
        for edge in workflow.transitions_from(state):
            if edge.source == edge.target or (avoid is not None and avoid(edge)):
                continue
            if not applies(edge, holds):
                continue
            if edge.route_by_returned_from and edge.target != origin:
                continue
            # The 免申即享 route starts from a screening hit, not from the applicant's draft;
            # tests/services/test_auto_grant.py and tests/web/test_auto_grant_http.py drive it.
            if workflow.state(edge.target).kind == "confirmation":
                continue
            next_origin = edge.source if workflow.state(edge.target).kind == "amendment" else origin
            key = (edge.target, next_origin)
            if key not in seen:
                seen.add(key)
                queue.append((edge.target, next_origin, [*steps, Step(edge)]))
    raise NoPath(f"workflow {workflow.name!r}: no path from {start!r} to {goal!r}")


# -- what kind of edge is this ------------------------------------------------------------------


def is_self_loop(edge: TransitionSpec) -> bool:
    return edge.source == edge.target


def is_objection_decision(edge: TransitionSpec) -> bool:
    """Deciding a pending objection (upholding it leaves the notice; dismissing it does not)."""
    return "objection_pending" in edge.guards


def is_withdrawal(workflow: Workflow, edge: TransitionSpec) -> bool:
    """The applicant ends its own case: an applicant's `danger` edge into a terminal state."""
    return (
        edge.style == "danger"
        and party_of(edge) in ("enterprise", "bank")
        and workflow.state(edge.target).final
    )


def is_refusal(workflow: Workflow, edge: TransitionSpec) -> bool:
    """A reviewer ends the case against the applicant: a `danger` staff edge into a terminal state."""
    return (
        edge.style == "danger"
        and workflow.state(edge.target).final
        and party_of(edge) not in ("enterprise", "bank", "system")
        and not is_objection_decision(edge)
    )


def is_return(workflow: Workflow, edge: TransitionSpec) -> bool:
    """A reviewer sends the case back for amendment."""
    return workflow.state(edge.target).kind == "amendment" and not is_self_loop(edge)


def is_unfavourable(workflow: Workflow, edge: TransitionSpec) -> bool:
    """Edges a favourable path never takes: withdrawals, refusals, returns and upheld objections."""
    return (
        is_withdrawal(workflow, edge)
        or is_refusal(workflow, edge)
        or is_return(workflow, edge)
        or (is_objection_decision(edge) and not is_self_loop(edge))
    )


def is_expert_stage(workflow: Workflow, state: StateSpec) -> bool:
    """The stage where assigned experts declare and score (kind `expert`, or experts' own events)."""
    if state.kind == "expert":
        return True
    return any(
        is_self_loop(edge) and party_of(edge) == "expert" for edge in workflow.transitions_from(state.name)
    )


def is_notice_stage(state: StateSpec) -> bool:
    return state.kind == "notice"


def start_state(workflow: Workflow) -> str:
    """Where an application's review starts: the state the applicant's first event leads to.

    For an application workflow that is the state after the draft is submitted; a workflow
    without a draft (a bank's filing) starts in its initial state.
    """
    if workflow.state(workflow.initial).kind != "draft":
        return workflow.initial
    for edge in workflow.transitions_from(workflow.initial):
        if not is_self_loop(edge) and not workflow.state(edge.target).final:
            return edge.target
    raise NoPath(f"workflow {workflow.name!r}: its draft state leads nowhere but to an end")


# -- the named journeys -------------------------------------------------------------------------


@dataclass(frozen=True)
class Journey:
    """A path from the initial state to a terminal state, with what must happen along the way.

    `kind` names the family (approve, reject, withdraw, amend, objection_upheld,
    objection_dismissed, expert_replaced); `at` is the stage where the family's defining event
    happens (where the case is rejected, withdrawn, returned…), or None.
    """

    kind: str
    steps: tuple[Step, ...]
    at: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        return self.kind if self.at is None else f"{self.kind}@{self.at}"

    @property
    def end(self) -> str:
        return self.steps[-1].target

    def states(self) -> Iterator[str]:
        yield self.steps[0].source
        for step in self.steps:
            yield step.target


def _favourable(workflow: Workflow) -> EdgePredicate:
    return lambda edge: is_unfavourable(workflow, edge)


def approval_path(workflow: Workflow, start: str | None = None, holds: Conditions = None) -> list[Step]:
    """From `start` (default: initial) through the approving stage to the terminal state after it.

    The approving stage is the first state of kind `decided` on the favourable way; where the
    workflow has none (a status that is closed at approval), the favourable way ends at a
    terminal state directly.
    """
    origin = start or workflow.initial
    avoid = _favourable(workflow)
    try:
        to_decision = find_path(workflow, origin, kind("decided"), avoid=avoid, holds=holds)
    except NoPath:
        return find_path(workflow, origin, kind("terminal"), avoid=avoid, holds=holds)
    middle = to_decision[-1].target if to_decision else origin
    return [*to_decision, *find_path(workflow, middle, kind("terminal"), avoid=avoid, holds=holds)]


def _through(
    workflow: Workflow, edge: TransitionSpec, then: list[Step] | None = None, holds: Conditions = None
) -> list[Step]:
    """The shortest way from the initial state to `edge.source`, then `edge`, then `then`.

    Shortest means a return for amendment is taken only where `edge` leaves the amendment stage.
    """
    before = find_path(workflow, workflow.initial, edge.source, holds=holds)
    return [*before, Step(edge), *(then or [])]


def journeys(workflow: Workflow, holds: Conditions = None) -> list[Journey]:
    """Every named journey the workflow allows, once per stage where its defining event is offered.

    `holds` is what is true of the case for `when:` edges (a measure that grants money is
    disbursed, one that grants a status closes at approval); see `find_path`.
    """
    found: list[Journey] = [Journey("approve", tuple(approval_path(workflow, holds=holds)))]
    for edge in workflow.transitions:
        if workflow.state(edge.source).kind == "confirmation" or not applies(edge, holds):
            continue
        if is_refusal(workflow, edge):
            found.append(Journey("reject", tuple(_through(workflow, edge, holds=holds)), at=edge.source))
        elif is_withdrawal(workflow, edge):
            found.append(Journey("withdraw", tuple(_through(workflow, edge, holds=holds)), at=edge.source))
        elif is_return(workflow, edge):
            resubmitted = find_path(
                workflow,
                edge.target,
                edge.source,
                returned_from=edge.source,
                avoid=_favourable(workflow),
                holds=holds,
            )
            rest = approval_path(workflow, edge.source, holds)
            steps = _through(workflow, edge, [*resubmitted, *rest], holds)
            found.append(Journey("amend", tuple(steps), at=edge.source))
        elif is_objection_decision(edge) and not is_self_loop(edge):
            steps = _through(workflow, edge, holds=holds)
            found.append(Journey("objection_upheld", tuple(steps), at=edge.source))
        elif is_objection_decision(edge):
            steps = _through(workflow, edge, approval_path(workflow, edge.source, holds), holds)
            found.append(Journey("objection_dismissed", tuple(steps), at=edge.source))
    for state in workflow.states:
        if is_expert_stage(workflow, state):
            before = find_path(workflow, workflow.initial, state.name, holds=holds)
            rest = approval_path(workflow, state.name, holds)
            found.append(Journey("expert_replaced", (*before, *rest), at=state.name))
    return found
