"""Name resolution and type checking of a rule against facts.yaml.

Everything here would otherwise surface at run time as an always-unknown criterion or a
TypeError (comparing a date with money), so load_pack refuses a rule with any of these
problems and `portal rules lint` lists them all.
"""

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from portal.rules.criteria import BenefitSpec, Leaf, Table, leaves
from portal.rules.errors import FormulaError, RuleFileError
from portal.rules.facts import FactDictionary
from portal.rules.formula import (
    NUMERIC_TYPES,
    Expr,
    FactRef,
    ParamRef,
    Str,
    TableRef,
    check_comparable,
    infer_type,
    walk,
)
from portal.rules.model import Rule, literal


class Scope:
    """Types of everything a rule's formulas may name."""

    def __init__(self, rule: Rule, facts: FactDictionary) -> None:
        self.rule = rule
        self.facts = facts

    def resolve(self, ref: Expr) -> str:
        if isinstance(ref, FactRef):
            spec = self.facts.get(ref.qualified)
            if spec is None:
                raise FormulaError(f"unknown fact {ref.qualified} (not in facts.yaml)")
            return spec.type
        if isinstance(ref, ParamRef):
            param = self.rule.parameters.get(ref.name)
            if param is None:
                raise FormulaError(f"unknown parameter param.{ref.name}")
            return param.type
        if isinstance(ref, TableRef):
            table = self.rule.tables.get(ref.name)
            if table is None:
                raise FormulaError(f"unknown table table.{ref.name}")
            return table.type
        raise FormulaError(f"cannot resolve {ref!r}")

    def type_of(self, expr: Expr) -> str:
        return infer_type(expr, self.resolve)

    def leaf_type(self, leaf: Leaf) -> str:
        return self.type_of(leaf.subject)


def check_rule(rule: Rule, facts: FactDictionary) -> list[RuleFileError]:
    """Every unknown name and type mismatch in the rule, each naming its line and field."""
    scope = Scope(rule, facts)
    problems: list[RuleFileError] = []

    def guard(line: int, fld: str, check: Callable[[], None]) -> None:
        try:
            check()
        except FormulaError as exc:
            problems.append(RuleFileError(rule.path, line, fld, str(exc)))

    for param in rule.parameters.values():
        guard(param.line, f"parameters.{param.name}", lambda p=param: _check_value(p.type, p.value, ()))  # type: ignore[misc]
    for table in rule.tables.values():
        guard(table.line, f"tables.{table.name}", lambda t=table: _check_table(scope, t))  # type: ignore[misc]
    seen: set[str] = set()
    for leaf in leaves(rule.criteria):
        fld = f"criteria[{leaf.id}]"
        if leaf.id in seen:
            problems.append(RuleFileError(rule.path, leaf.line, fld, f"duplicate criterion id {leaf.id!r}"))
        seen.add(leaf.id)
        guard(leaf.line, fld, lambda lf=leaf: _check_leaf(scope, lf))  # type: ignore[misc]
    for spec in rule.benefit.values():
        guard(spec.line, f"benefit.{spec.name}", lambda b=spec: _check_benefit(scope, b))  # type: ignore[misc]
    return problems


def _check_leaf(scope: Scope, leaf: Leaf) -> None:
    subject = scope.type_of(leaf.subject)
    if leaf.op == "is":
        if subject != "bool":
            raise FormulaError(f"`is` needs a boolean fact, {leaf.fact or leaf.expr_text} is {subject}")
        return
    if leaf.op == "in":
        assert isinstance(leaf.operand, tuple)
        allowed = _enum_values(scope, leaf)
        for item in leaf.operand:
            check_comparable("==", subject, scope.type_of(item))
            if allowed and isinstance(item, Str) and item.value not in allowed:
                raise FormulaError(f"{item.value!r} is not a value of {leaf.fact} ({', '.join(allowed)})")
        return
    operands = leaf.operand if isinstance(leaf.operand, tuple) else (leaf.operand,)
    op = ">=" if leaf.op == "between" else leaf.op
    allowed = _enum_values(scope, leaf)
    for item in operands:
        check_comparable(op, subject, scope.type_of(item))
        if allowed and isinstance(item, Str) and item.value not in allowed:
            raise FormulaError(f"{item.value!r} is not a value of {leaf.fact} ({', '.join(allowed)})")


def _enum_values(scope: Scope, leaf: Leaf) -> tuple[str, ...]:
    spec = scope.facts.get(leaf.fact) if leaf.fact else None
    return spec.values if spec is not None and spec.type == "enum" else ()


def _check_table(scope: Scope, table: Table) -> None:
    if any(isinstance(node, TableRef) for node in walk(table.input)):
        raise FormulaError("a table input may not refer to another table")
    kind = scope.type_of(table.input)
    allowed: tuple[str, ...] = ()
    if isinstance(table.input, FactRef):
        spec = scope.facts.get(table.input.qualified)
        allowed = spec.values if spec is not None else ()
    for index, row in enumerate(table.rows):
        for cond in row.when:
            values = cond.value if isinstance(cond.value, tuple) else (cond.value,)
            for value in values:
                found = literal(value)
                assert found is not None
                try:
                    check_comparable("==" if cond.op == "in" else cond.op, kind, scope.type_of(found))
                    _check_value(kind, value, allowed)
                except FormulaError as exc:
                    raise FormulaError(f"rows[{index}] (line {row.line}): {exc}") from exc
        try:
            _check_value(table.type, row.then, ())
        except FormulaError as exc:
            raise FormulaError(f"rows[{index}] (line {row.line}) then: {exc}") from exc


def _check_value(kind: str, value: object, allowed: tuple[str, ...]) -> None:
    ok = {
        "bool": isinstance(value, bool),
        "date": isinstance(value, date),
        "enum": isinstance(value, str) and (not allowed or value in allowed),
        "text": isinstance(value, str),
    }.get(kind)
    if ok is None:  # numeric kinds
        ok = isinstance(value, int | Decimal) and not isinstance(value, bool)
        if ok and kind == "int":
            ok = Decimal(value) == Decimal(value).to_integral_value()  # type: ignore[arg-type]
    if not ok:
        raise FormulaError(f"{value!r} is not a valid {kind}")


def _check_benefit(scope: Scope, spec: BenefitSpec) -> None:
    kind = scope.type_of(spec.expr)
    declared = spec.type
    if kind not in NUMERIC_TYPES:
        raise FormulaError(f"a benefit must be numeric, the formula gives {kind}")
    if declared != "number" and kind != "number" and kind != declared:
        raise FormulaError(f"declared {declared} but the formula gives {kind}")
