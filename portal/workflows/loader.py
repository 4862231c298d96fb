"""Read `workflows/*.yaml` into `Workflow` objects, rejecting any file that is not fully sound.

Everything a reviewer could mistype (a state, a role, a guard, a jurisdiction, a key) is
checked here, so a running portal never meets a workflow it cannot execute.
"""

import re
from collections.abc import Collection
from pathlib import Path
from typing import Any, cast

from portal.rules.errors import RuleFileError
from portal.rules.yaml_loader import load_yaml
from portal.workflows.checks import GUARDS, JURISDICTIONS
from portal.workflows.context import ROLES
from portal.workflows.errors import WorkflowFileError
from portal.workflows.spec import (
    DECISION_OUTCOMES,
    ISSUED_LETTERS,
    PARTIES,
    REPLY_DAYS,
    STATE_KINDS,
    STYLES,
    DecisionOutcome,
    IssuedLetter,
    Label,
    Party,
    ReplyDays,
    ReplyPeriod,
    StateKind,
    StateSpec,
    Style,
    Timer,
    TransitionSpec,
)
from portal.workflows.workflow import Workflow

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP_KEYS = {"name", "title", "description", "initial", "states", "transitions"}
_STATE_KEYS = {
    "label",
    "kind",
    "sla_working_days",
    "responsible",
    "escalate_to",
    "paused_sla",
    "timer",
    "issues_letter",
    "decides",
    "reply_within",
}
# The optional key of `reply_within` next to its count: when the sweep reminds the applicant.
_REMIND_BEFORE = "remind_before_working_days"
_TRANSITION_KEYS = {
    "event",
    "label",
    "from",
    "to",
    "roles",
    "jurisdiction",
    "guards",
    "comment_required",
    "style",
    "when",
}


def load_workflows(workflows_dir: Path) -> dict[str, Workflow]:
    """Every `*.yaml` directly in `workflows_dir`, keyed by workflow name (= file stem)."""
    paths = sorted(workflows_dir.glob("*.yaml"))
    if not paths:
        raise WorkflowFileError(workflows_dir, "no workflow files (*.yaml) found")
    return {path.stem: load_workflow(path) for path in paths}


def load_workflow(path: Path) -> Workflow:
    """One workflow file; raises WorkflowFileError naming the file and the offending field."""
    try:
        raw = load_yaml(path)
    except RuleFileError as exc:
        raise WorkflowFileError(path, f"cannot read YAML: {exc}") from exc
    return _Reader(path).workflow(raw)


class _Reader:
    """Carries the file path so every error message can name it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, message: str) -> WorkflowFileError:
        return WorkflowFileError(self.path, f"{where}: {message}")

    def mapping(self, value: object, where: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "must be a mapping")
        unknown = set(map(str, value)) - allowed
        if unknown:
            raise self.fail(where, f"unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
        return cast(dict[str, Any], value)

    def label(self, value: object, where: str) -> Label:
        data = self.mapping(value, where, {"zh", "en"})
        zh, en = data.get("zh"), data.get("en")
        if not (isinstance(zh, str) and zh.strip() and isinstance(en, str) and en.strip()):
            raise self.fail(where, "needs non-empty `zh` and `en` texts")
        return Label(zh=zh, en=en)

    def identifier(self, value: object, where: str) -> str:
        if not isinstance(value, str) or not _IDENTIFIER.match(value):
            raise self.fail(where, f"{value!r} is not a lower_snake_case name")
        return value

    def choice(self, value: object, where: str, allowed: Collection[str]) -> str:
        if not isinstance(value, str) or value not in allowed:
            raise self.fail(where, f"{value!r} is not one of {sorted(allowed)}")
        return value

    def positive_int(self, value: object, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.fail(where, f"{value!r} must be a positive whole number")
        return value

    def flag(self, value: object, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, f"{value!r} must be true or false")
        return value

    def names(self, value: object, where: str) -> list[str]:
        items = value if isinstance(value, list) else [value]
        return [self.identifier(item, where) for item in items]

    def workflow(self, raw: object) -> Workflow:
        data = self.mapping(raw, "top level", _TOP_KEYS)
        for key in ("name", "title", "initial", "states", "transitions"):
            if key not in data:
                raise self.fail("top level", f"missing `{key}`")
        name = self.identifier(data["name"], "name")
        if name != self.path.stem:
            raise self.fail("name", f"{name!r} must equal the file name {self.path.stem!r}")
        title = self.label(data["title"], "title")
        states_raw = data["states"]
        if not isinstance(states_raw, dict) or not states_raw:
            raise self.fail("states", "must be a non-empty mapping of state name → definition")
        states = [self.state(str(key), value) for key, value in states_raw.items()]
        state_names = {state.name for state in states}
        initial = self.choice(data["initial"], "initial", state_names)
        transitions_raw = data["transitions"]
        if not isinstance(transitions_raw, list) or not transitions_raw:
            raise self.fail("transitions", "must be a non-empty list")
        transitions = [
            edge
            for index, item in enumerate(transitions_raw)
            for edge in self.transition(item, f"transitions[{index}]", state_names)
        ]
        self.check_graph(states, initial, transitions)
        try:
            return Workflow(name=name, title=title, initial=initial, states=states, transitions=transitions)
        except ValueError as exc:  # the state-machine library's own definition checks
            raise self.fail("definition", str(exc)) from exc

    def state(self, name: str, raw: object) -> StateSpec:
        where = f"states.{name}"
        self.identifier(name, where)
        data = self.mapping(raw, where, _STATE_KEYS)
        if "label" not in data or "kind" not in data:
            raise self.fail(where, "needs `label` and `kind`")
        kind = cast(StateKind, self.choice(data["kind"], f"{where}.kind", STATE_KINDS))
        sla = data.get("sla_working_days")
        if sla is not None:
            sla = self.positive_int(sla, f"{where}.sla_working_days")
        responsible = data.get("responsible")
        if responsible is not None:
            responsible = self.choice(responsible, f"{where}.responsible", PARTIES)
        escalate_to = data.get("escalate_to")
        if escalate_to is not None:
            escalate_to = self.choice(escalate_to, f"{where}.escalate_to", PARTIES)
        if sla is not None and (responsible is None or escalate_to is None):
            raise self.fail(where, "a state with an SLA must name `responsible` and `escalate_to`")
        paused = self.flag(data.get("paused_sla", False), f"{where}.paused_sla")
        if paused and sla is not None:
            raise self.fail(where, "a state that pauses the SLA clock cannot have its own SLA")
        timer = None
        if "timer" in data:
            timer_data = self.mapping(data["timer"], f"{where}.timer", {"calendar_days", "event"})
            timer = Timer(
                calendar_days=self.positive_int(
                    timer_data.get("calendar_days"), f"{where}.timer.calendar_days"
                ),
                event=self.identifier(timer_data.get("event"), f"{where}.timer.event"),
            )
        reply_within = self.reply_period(data, where, kind, paused, responsible)
        if kind == "terminal" and (sla is not None or timer is not None):
            raise self.fail(where, "a terminal state has no SLA and no timer")
        letter = data.get("issues_letter")
        if letter is not None:
            letter = self.choice(letter, f"{where}.issues_letter", ISSUED_LETTERS)
        decides = data.get("decides")
        if decides is not None:
            decides = self.choice(decides, f"{where}.decides", DECISION_OUTCOMES)
        if (decides is not None) != (letter in ("approval", "rejection")):
            raise self.fail(
                where, "`decides` goes with an approval or rejection letter, and only with one of them"
            )
        if decides is not None and (decides == "approved") != (letter == "approval"):
            raise self.fail(where, "an approval letter records `approved`, a rejection letter `rejected`")
        return StateSpec(
            name=name,
            label=self.label(data["label"], f"{where}.label"),
            kind=kind,
            sla_working_days=sla,
            responsible=cast(Party | None, responsible),
            escalate_to=cast(Party | None, escalate_to),
            paused_sla=paused,
            timer=timer,
            issues_letter=cast(IssuedLetter | None, letter),
            decides=cast(DecisionOutcome | None, decides),
            reply_within=reply_within,
        )

    def reply_period(
        self, data: dict[str, Any], where: str, kind: str, paused: bool, responsible: str | None
    ) -> ReplyPeriod | None:
        """`reply_within: {working_days: n}` or `{calendar_days: n}`, on an amendment stage only:
        the clock that stops there (`paused_sla`) and the applicant (enterprise or bank) who answers."""
        if "reply_within" not in data:
            return None
        field = f"{where}.reply_within"
        period = dict(self.mapping(data["reply_within"], field, {*REPLY_DAYS, _REMIND_BEFORE}))
        remind = period.pop(_REMIND_BEFORE, None)
        if len(period) != 1:
            raise self.fail(field, f"give exactly one of {sorted(REPLY_DAYS)}")
        counted, days = next(iter(period.items()))
        if kind != "amendment" or not paused or responsible not in ("enterprise", "bank"):
            raise self.fail(
                field,
                "only a `kind: amendment` state with `paused_sla: true` and `responsible: "
                "enterprise` or `bank` has a reply period",
            )
        days = self.positive_int(days, f"{field}.{counted}")
        if remind is not None:
            remind = self.positive_int(remind, f"{field}.{_REMIND_BEFORE}")
            if remind >= days:
                raise self.fail(f"{field}.{_REMIND_BEFORE}", f"must be fewer than the {days} days to answer")
        return ReplyPeriod(days=days, counted=cast(ReplyDays, counted), remind_before_working_days=remind)

    def transition(self, raw: object, where: str, state_names: set[str]) -> list[TransitionSpec]:
        data = self.mapping(raw, where, _TRANSITION_KEYS)
        for key in ("event", "label", "from", "to", "roles", "jurisdiction"):
            if key not in data:
                raise self.fail(where, f"missing `{key}`")
        event = self.identifier(data["event"], f"{where}.event")
        if event in state_names:
            raise self.fail(f"{where}.event", f"{event!r} is also a state name")
        label = self.label(data["label"], f"{where}.label")
        sources = [
            self.choice(source, f"{where}.from", state_names)
            for source in self.names(data["from"], f"{where}.from")
        ]
        routed = isinstance(data["to"], dict)
        if routed:
            to = self.mapping(data["to"], f"{where}.to", {"returned_from"})
            targets = self.names(to.get("returned_from"), f"{where}.to.returned_from")
        else:
            targets = self.names(data["to"], f"{where}.to")
            if len(targets) != 1:
                raise self.fail(f"{where}.to", "give one state, or {returned_from: [states]}")
        for target in targets:
            self.choice(target, f"{where}.to", state_names)
        roles_raw = data["roles"]
        if not isinstance(roles_raw, list) or not roles_raw:
            raise self.fail(f"{where}.roles", "must be a non-empty list")
        roles = frozenset(self.choice(role, f"{where}.roles", ROLES) for role in roles_raw)
        jurisdiction = self.choice(data["jurisdiction"], f"{where}.jurisdiction", JURISDICTIONS)
        guards_raw = data.get("guards", [])
        if not isinstance(guards_raw, list):
            raise self.fail(f"{where}.guards", "must be a list")
        guards = tuple(self.choice(guard, f"{where}.guards", GUARDS) for guard in guards_raw)
        when = data.get("when")
        if when is not None:
            when = self.choice(when, f"{where}.when", GUARDS)
            if routed:
                raise self.fail(f"{where}.when", "a routed target already chooses the edge")
        comment_required = self.flag(data.get("comment_required", False), f"{where}.comment_required")
        style = cast(Style, self.choice(data.get("style", "secondary"), f"{where}.style", STYLES))
        return [
            TransitionSpec(
                event=event,
                source=source,
                target=target,
                label=label,
                roles=roles,
                jurisdiction=jurisdiction,
                guards=guards,
                comment_required=comment_required,
                style=style,
                route_by_returned_from=routed,
                when=when,
            )
            for source in sources
            for target in targets
        ]

    def check_graph(self, states: list[StateSpec], initial: str, transitions: list[TransitionSpec]) -> None:
        """Terminal states are dead ends, every other state has a way out, all are reachable."""
        by_name = {state.name: state for state in states}
        seen_edges: set[tuple[str, str, str]] = set()
        for edge in transitions:
            key = (edge.event, edge.source, edge.target)
            if key in seen_edges:
                raise self.fail("transitions", f"event {edge.event!r} from {edge.source!r} is declared twice")
            seen_edges.add(key)
        routed_events = {(e.event, e.source) for e in transitions if e.route_by_returned_from}
        plain_events = {(e.event, e.source) for e in transitions if not e.route_by_returned_from}
        clash = routed_events & plain_events
        if clash:
            raise self.fail("transitions", f"event {sorted(clash)[0]} mixes a fixed and a routed target")
        alternatives: dict[tuple[str, str], list[TransitionSpec]] = {}
        for edge in transitions:
            if not edge.route_by_returned_from:
                alternatives.setdefault((edge.event, edge.source), []).append(edge)
        for (event, source), edges in alternatives.items():
            whens = [edge.when for edge in edges]
            if len(edges) > 1 and (None in whens or len(set(whens)) != len(whens)):
                raise self.fail(
                    "transitions",
                    f"event {event!r} from {source!r} has several targets: give each a different `when`",
                )
        for state in states:
            outgoing = [edge for edge in transitions if edge.source == state.name]
            if state.final and outgoing:
                raise self.fail(f"states.{state.name}", "a terminal state cannot have outgoing transitions")
            if not state.final and not outgoing:
                raise self.fail(f"states.{state.name}", "a non-terminal state needs at least one transition")
            if state.timer is not None:
                fired = [e for e in outgoing if e.event == state.timer.event]
                if not fired or not all("system" in e.roles for e in fired):
                    raise self.fail(
                        f"states.{state.name}.timer",
                        f"event {state.timer.event!r} must leave this state and be allowed to `system`",
                    )
        reachable = {initial}
        frontier = [initial]
        while frontier:
            current = frontier.pop()
            for edge in transitions:
                if edge.source == current and edge.target not in reachable:
                    reachable.add(edge.target)
                    frontier.append(edge.target)
        unreachable = sorted(set(by_name) - reachable)
        if unreachable:
            raise self.fail("states", f"unreachable from {initial!r}: {unreachable}")
