"""Closures over one entity's facts, specialised to the shapes rule files use most.

A rule reads mostly the facts of the entity it applies to, so the evaluator fetches that
entity's dict once per evaluation and hands it to every closure here as `values`; `facts` (all
entities) is still passed for the rare formula that reaches into another entity. Shapes that
get a closure of their own instead of a chain of nested formula closures:

- a supplied fact of the rule's entity: one dict lookup;
- a derived share of two supplied facts of that entity (`enterprise.st_staff / enterprise.employees`):
  both lookups and the division in one closure;
- whole years or days since a supplied date (`years_between(enterprise.registered_on, on)`,
  `days_between(…)`);
- a decision table whose rows test constants, with each test a C-level bound comparison.

Everything else falls back to the general formula closures of `portal.rules.formula`. Facts
must come through `FactDictionary.parse`: money and ratios are then Decimal and counts int,
which is what lets a share skip re-wrapping its operands.
"""

import operator
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from functools import partial
from types import MappingProxyType
from typing import Any

from portal.rules.criteria import Table
from portal.rules.facts import FactDictionary, FactSpec
from portal.rules.formula import Binary, Call, Closure, Expr, FactRef, Facts, OnDate

Values = Mapping[str, object]
Local = Callable[[Values, Facts, date], object]
Check = Callable[[object], bool]

NO_VALUES: Values = MappingProxyType({})
"""What a rule sees of an entity absent from the facts: every fact unknown."""

# `value op bound` as a call on the bound alone: partial(_BOUND_FIRST[op], bound)(value).
_BOUND_FIRST: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.le,
    ">": operator.lt,
    "<=": operator.ge,
    "<": operator.gt,
    "==": operator.eq,
    "!=": operator.ne,
}


def check_against(op: str, bound: object, decimal: bool = False) -> Check:
    """`value op bound` for a constant bound, as one C-level call where Python allows it.

    `decimal` says the values are Decimal (money, ratios): a whole-number bound is then made a
    Decimal once here, because `int < Decimal` first fails over to Decimal's reflected method,
    which costs more than the comparison itself. Decimal(int) is exact, so verdicts are the same.
    """
    if op == "in":
        return frozenset(bound).__contains__  # type: ignore[call-overload, no-any-return]
    if op == "is":
        return partial(operator.is_, bound)
    if op == "between":
        low, high = (check_bound(b, decimal) for b in bound)  # type: ignore[attr-defined]
        return lambda value: low <= value <= high  # type: ignore[operator]
    return partial(_BOUND_FIRST[op], check_bound(bound, decimal))


def _supplied(expr: Expr, entity: str, facts: FactDictionary) -> FactSpec | None:
    if not isinstance(expr, FactRef):
        return None
    spec = facts.get(expr.qualified)
    return spec if spec is not None and not spec.derived and spec.entity == entity else None


def share_of(spec: FactSpec, facts: FactDictionary) -> tuple[str, str, bool] | None:
    """(numerator, denominator, wrap) when a derived fact is a share of two supplied facts of
    its own entity; `wrap` when both are counts, whose int / int would give a float."""
    formula = spec.formula
    if not (isinstance(formula, Binary) and formula.op == "/"):
        return None
    top, bottom = _supplied(formula.left, spec.entity, facts), _supplied(formula.right, spec.entity, facts)
    if top is None or bottom is None:
        return None
    return top.name, bottom.name, top.type == "int" and bottom.type == "int"


def years_since(spec: FactSpec, facts: FactDictionary, func: str = "years_between") -> str | None:
    """The supplied date fact when a derived fact is `years_between(entity.date, on)` (or `func`)."""
    formula = spec.formula
    if not (isinstance(formula, Call) and formula.func == func and len(formula.args) == 2):
        return None
    start = _supplied(formula.args[0], spec.entity, facts)
    if start is None or not isinstance(formula.args[1], OnDate):
        return None
    return start.name


def read_share(top: str, bottom: str, wrap: bool) -> Local:
    def share(values: Values, facts: Facts, on: date) -> object:
        a = values.get(top)
        b = values.get(bottom)
        if a is None or not b:  # a missing or zero denominator leaves the share unknown
            return None
        return Decimal(a) / b if wrap else a / b  # type: ignore[arg-type, operator]

    return share


def read_years(name: str) -> Local:
    def years(values: Values, facts: Facts, on: date) -> object:
        start = values.get(name)
        if start is None:
            return None
        return on.year - start.year - ((on.month, on.day) < (start.month, start.day))  # type: ignore[attr-defined]

    return years


def read_days(name: str) -> Local:
    def days(values: Values, facts: Facts, on: date) -> object:
        start = values.get(name)
        return None if start is None else (on - start).days  # type: ignore[operator]

    return days


def read_supplied(name: str) -> Local:
    def supplied(values: Values, facts: Facts, on: date) -> object:
        return values.get(name)

    return supplied


def read_general(read: Closure) -> Local:
    def general(values: Values, facts: Facts, on: date) -> object:
        return read(facts, on)

    return general


def check_bound(bound: object, decimal: bool) -> object:
    """The bound as compared at run time: see `check_against`."""
    if decimal and isinstance(bound, int) and not isinstance(bound, bool):
        return Decimal(bound)
    return bound


def table_lookup(table: Table, read: Local, decimal: bool, supplied: str | None = None) -> Local:
    """A decision table as one closure; rows are tried in order with C-level bound checks.

    `supplied` names the input when it is a supplied fact of the rule's entity, read in place
    rather than through `read`. unique: lint proves that rows do not overlap, so the first match
    is the only one. No match is unknown for first/unique, and the aggregate's empty value (0)
    for collect.
    """
    rows = tuple(
        (tuple(check_against(c.op, c.value, decimal) for c in row.when), row.then) for row in table.rows
    )
    if table.hit == "collect":
        fold = {"sum": sum, "max": max, "min": min, "count": len}[table.aggregate or "sum"]

        def collect(values: Values, facts: Facts, on: date) -> object:
            value = read(values, facts, on)
            if value is None:
                return None
            hits = [out for checks, out in rows if all(check(value) for check in checks)]
            return fold(hits) if hits else 0  # type: ignore[operator]

        return collect

    def first(values: Values, facts: Facts, on: date) -> object:
        value = values.get(supplied) if supplied is not None else read(values, facts, on)
        if value is None:
            return None
        for checks, out in rows:
            for check in checks:
                if not check(value):
                    break
            else:
                return out
        return None

    return first
