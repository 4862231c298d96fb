"""A loaded workflow: its python-statemachine class plus the role, jurisdiction and guard rules.

Every `fire` starts the machine from the stored state it is given, so the engine holds no
per-case memory and the database stays the truth. The machine class is built once, at load;
its instances are pooled per thread (`machine_pool`), because building one costs several
times more than firing an event on it.
"""

import copy
from collections.abc import Callable
from typing import Any, cast

from statemachine import StateChart
from statemachine.exceptions import InvalidDefinition, TransitionNotAllowed
from statemachine.io import StateDefinition, create_machine_class_from_definition

from portal.workflows.checks import GUARDS, JURISDICTIONS
from portal.workflows.context import Actor, CaseContext
from portal.workflows.diagrams import mermaid
from portal.workflows.errors import TransitionRefused, UnknownState
from portal.workflows.machine_pool import MachinePool
from portal.workflows.refusals import refusal_for
from portal.workflows.spec import EventSpec, Label, StateSpec, TransitionSpec


def _validator(edge: TransitionSpec) -> Callable[..., None]:
    def validate(actor: Actor, case: CaseContext, comment: str | None) -> None:
        refused = refusal_for(edge, actor, case, comment, check_comment=True)
        if refused is not None:
            raise refused

    return validate


def _route(edge: TransitionSpec) -> Callable[..., bool]:
    def goes_back_there(case: CaseContext) -> bool:
        return case.returned_from == edge.target

    return goes_back_there


def _when(edge: TransitionSpec) -> Callable[..., bool]:
    holds = GUARDS[edge.when or ""][0]

    def chosen(actor: Actor, case: CaseContext) -> bool:
        return holds(actor, case)

    return chosen


def _takes(edge: TransitionSpec, actor: Actor, case: CaseContext) -> bool:
    """Whether `edge` is the one its event takes for this case (routing, not permission)."""
    if edge.route_by_returned_from and case.returned_from != edge.target:
        return False
    return edge.when is None or GUARDS[edge.when][0](actor, case)


class Workflow:
    """One review workflow: ask which events an actor may fire, fire one, draw the diagram."""

    def __init__(
        self,
        *,
        name: str,
        title: Label,
        initial: str,
        states: list[StateSpec],
        transitions: list[TransitionSpec],
    ) -> None:
        self.name = name
        self.title = title
        self.initial = initial
        self.states = list(states)
        self.transitions = list(transitions)
        self._states = {state.name: state for state in states}
        self._outgoing = {
            state.name: [edge for edge in transitions if edge.source == state.name] for state in states
        }
        self._events_from = {
            name: frozenset(edge.event for edge in edges) for name, edges in self._outgoing.items()
        }
        self._machines = MachinePool(self._build_machine())

    def _build_machine(self) -> type[StateChart[Any]]:
        definition: dict[str, dict[str, Any]] = {}
        for state in self.states:
            events: dict[str, list[dict[str, Any]]] = {}
            for edge in self.transitions:
                if edge.source != state.name:
                    continue
                events.setdefault(edge.event, []).append(
                    {
                        "target": edge.target,
                        "internal": edge.target == edge.source,
                        "validators": [_validator(edge)],
                        "cond": [
                            *([_route(edge)] if edge.route_by_returned_from else []),
                            *([_when(edge)] if edge.when is not None else []),
                        ],
                    }
                )
            definition[state.name] = {
                "name": state.label.en,
                "initial": state.name == self.initial,
                "final": state.final,
                "on": events,
            }
        try:
            # The library mutates what it is given; strict flags make a forbidden event raise
            # and let a validator's exception abort the transition instead of becoming an event.
            # Atomic configuration updates (StateMachine's default) write the new state once
            # instead of once per exited and entered state (each write copies the configuration),
            # with the same outcome, since no enter/exit callback could observe the difference.
            return create_machine_class_from_definition(
                f"{self.name.title().replace('_', '')}Workflow",
                states=cast("dict[str, StateDefinition]", copy.deepcopy(definition)),
                allow_event_without_transition=False,
                catch_errors_as_events=False,
                atomic_configuration_update=True,
            )
        except InvalidDefinition as exc:
            raise ValueError(str(exc)) from exc

    def states_of_kind(self, kind: str) -> list[StateSpec]:
        """The stages of one kind, in file order (e.g. the expert stage is the one of kind `expert`)."""
        return [state for state in self.states if state.kind == kind]

    def state(self, name: str) -> StateSpec:
        """The declared stage `name`; raises UnknownState for a value the workflow does not know."""
        try:
            return self._states[name]
        except KeyError:
            raise UnknownState(self.name, name) from None

    def transitions_from(self, state: str) -> list[TransitionSpec]:
        """Every transition declared from `state`, in file order, whoever may fire it."""
        self.state(state)
        return list(self._outgoing[state])

    def irreversible(self, state: str, event: str) -> bool:
        """Whether `event` from `state` cannot be undone: a `danger` edge, or one into a final stage.

        The portal asks for confirmation on a page of its own before firing such an event.
        """
        return any(
            edge.style == "danger" or self.state(edge.target).final
            for edge in self.transitions_from(state)
            if edge.event == event
        )

    def acts_at(self, state: str, actor: Actor, case: CaseContext) -> bool:
        """Whether a step out of `state` is `actor`'s by role and jurisdiction, whether or not its
        guards hold yet: who can move the case on, so is the first to give it to."""
        return any(
            actor.role in edge.roles and JURISDICTIONS[edge.jurisdiction][0](actor, case)
            for edge in self.transitions_from(state)
        )

    def allowed_events(self, state: str, actor: Actor, case: CaseContext) -> list[EventSpec]:
        """The events `actor` may fire now, in file order; a required comment is not yet judged."""
        allowed: dict[str, EventSpec] = {}
        for edge in self.transitions_from(state):
            if edge.event in allowed:
                continue
            if not _takes(edge, actor, case):
                continue
            if refusal_for(edge, actor, case, None, check_comment=False) is None:
                allowed[edge.event] = EventSpec(
                    name=edge.event,
                    label=edge.label,
                    target=edge.target,
                    comment_required=edge.comment_required,
                    roles=tuple(sorted(edge.roles)),
                    style=edge.style,
                )
        return list(allowed.values())

    def fire(
        self, state: str, event: str, actor: Actor, case: CaseContext, comment: str | None = None
    ) -> str:
        """Take `event` from `state` and return the new state, or raise TransitionRefused."""
        if event not in self._events_from.get(state, ()):
            # An unknown stored state raises UnknownState here, while building the message.
            raise TransitionRefused(
                "not_allowed_in_state",
                f"“{self.state(state).label.zh}”阶段不能执行“{event}”",
                f"event {event!r} is not allowed in state {state!r}",
            )
        try:
            return self._machines.send(state, event, actor=actor, case=case, comment=comment)
        except TransitionNotAllowed:
            # Only routed events get here: the validators passed but no route matched.
            if any(edge.when for edge in self._outgoing[state] if edge.event == event):
                raise TransitionRefused(
                    "no_route",
                    "该案件不满足此操作任何一个去向的条件",
                    f"no target of event {event!r} applies to this case",
                ) from None
            raise TransitionRefused(
                "no_route",
                f"无法确定退回前所在阶段（记录为“{case.returned_from}”）",
                f"cannot tell which stage returned the case (returned_from={case.returned_from!r})",
            ) from None

    @property
    def machine_class(self) -> type[StateChart[Any]]:
        """The python-statemachine class `fire` runs, built once from this workflow at load."""
        return self._machines.machine_class

    def mermaid(self) -> str:
        """The workflow as a Mermaid state diagram, labelled in Chinese with roles on edges."""
        return mermaid(self)
