"""Every event the services write into a case's audit trail has a label in both languages.

The reviewer's case page shows the trail; a workflow event is named by its edge's label, and
every other event (a draft saved, an expert assigned, an escalation) by `audit.event.<name>`.
The events are read from the services' source: the event argument of each `audit_case` call
and each `append_audit(subject_type="application", event=...)`, followed through module
constants and through helpers that pass their own parameter on.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import portal.services
from portal.messages import catalogue

SERVICES = Path(portal.services.__file__).parent


def _constants(tree: ast.Module) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            if isinstance(target, ast.Name) and isinstance(node.value, ast.Constant):
                found[target.id] = str(node.value.value)
            if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                for name, value in zip(target.elts, node.value.elts, strict=True):
                    if isinstance(name, ast.Name) and isinstance(value, ast.Constant):
                        found[name.id] = str(value.value)
    return found


class _Module:
    def __init__(self, path: Path) -> None:
        self.tree = ast.parse(path.read_text(), str(path))
        self.constants = _constants(self.tree)
        self.functions = {f.name: f for f in ast.walk(self.tree) if isinstance(f, ast.FunctionDef)}
        self.parents = {child: f for f in self.functions.values() for child in ast.walk(f) if child is not f}

    def values(self, expr: ast.expr, at: ast.AST) -> Iterator[str]:
        """The strings `expr` can be where it stands."""
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            yield expr.value
        elif isinstance(expr, ast.IfExp):
            yield from self.values(expr.body, at)
            yield from self.values(expr.orelse, at)
        elif isinstance(expr, ast.Name):
            function = self.parents.get(at)
            params = [a.arg for a in function.args.args] if function else []
            if expr.id in self.constants:
                yield self.constants[expr.id]
            elif function is not None and expr.id in params:
                yield from self.passed(function, params.index(expr.id), expr.id)
            else:
                local = [
                    n.value
                    for n in ast.walk(function or self.tree)
                    if isinstance(n, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == expr.id for t in n.targets)
                ]
                assert local, f"cannot follow {expr.id!r} at line {expr.lineno}"
                for value in local:
                    yield from self.values(value, at)
        else:
            raise AssertionError(f"cannot read the event at line {expr.lineno}: {ast.dump(expr)}")

    def passed(self, function: ast.FunctionDef, position: int, name: str) -> Iterator[str]:
        """What the module's callers give `function` for its parameter `name`."""
        for call in ast.walk(self.tree):
            if isinstance(call, ast.Call) and getattr(call.func, "id", None) == function.name:
                assert isinstance(call, ast.Call)
                keyword = next((k.value for k in call.keywords if k.arg == name), None)
                argument = call.args[position] if position < len(call.args) else keyword
                assert argument is not None
                yield from self.values(argument, call)


def case_audit_events() -> set[str]:
    events: set[str] = set()
    for path in sorted(SERVICES.glob("*.py")):
        module = _Module(path)
        for call in ast.walk(module.tree):
            if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
                continue
            kw = {k.arg: k.value for k in call.keywords}
            if call.func.id == "audit_case" and len(call.args) >= 4:
                events |= set(module.values(call.args[3], call))
            subject = kw.get("subject_type")
            if (
                call.func.id == "append_audit"
                and isinstance(subject, ast.Constant)
                and subject.value == "application"
                and "event" in kw
            ):
                kind = kw["event"]
                if not (isinstance(kind, ast.Name) and kind.id == "event"):  # advance(): a workflow event
                    events |= set(module.values(kind, call))
    return events


def test_every_case_audit_event_has_a_label_in_both_languages() -> None:
    events = case_audit_events()
    # The reader found the events of drafts, files, panels, escalations and ownership.
    seen = {"create_draft", "save_draft", "attach", "expert_assigned", "sla_escalated", "case_claimed"}
    assert seen <= events
    texts = catalogue()
    missing = sorted(e for e in events if f"audit.event.{e}" not in texts)
    assert not missing, missing
    for event in events:
        label = texts[f"audit.event.{event}"]
        assert label["zh"] and label["en"].isascii(), (event, label)
