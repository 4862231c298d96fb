"""Partial knowledge: the range a formula can still take while some of its facts are missing.

A criterion such as `max(table.rd_sales_points, table.rd_cost_points) + ... >= 60` is decided
before every fact is known when the known part already settles it: an arm of `max` at the
other arms' ceiling, an arm of `min` at their floor, or a sum whose known part meets the
threshold while the unknown parts cannot be negative. Each formula node gets an interval
(low, high), `None` meaning unbounded; a known value is the interval (v, v). A missing fact
ranges over what facts.yaml allows (money and counts are never negative, a `share` lies in
[0, 1]); a decision table over an unknown input ranges over its outputs.

Only comparisons (`>=`, `>`, `<=`, `<`, `between`) of a compound side (a table, `min`/`max`,
`round`, `abs`, `+`, `-`, `*` or `if ... else`) are refined, and only when the plain verdict is
unknown. A quotient is exact or unbounded: as a whole side it is compared exactly (the SQL path
cross-multiplies), inside a formula it gives no bound. `portal.rules.batch.bounds_sql` builds
the same intervals in SQL, so batch screening agrees with this module row for row.
"""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from portal.rules.criteria import Leaf, Table
from portal.rules.facts import FactDictionary, FactSpec
from portal.rules.formula import (
    Binary,
    Call,
    Closure,
    Cond,
    Expr,
    FactRef,
    Facts,
    Num,
    ParamRef,
    TableRef,
    Unary,
    round_half_up,
)

Interval = tuple[Any, Any]
"""(low, high), inclusive; None is unbounded on that side."""
Bounded = Callable[[Facts, date], Interval]

UNBOUNDED: Interval = (None, None)
REFINED_OPS = frozenset({">=", ">", "<=", "<", "between"})
_NON_NEGATIVE = ("money", "int")


def fact_range(spec: FactSpec) -> Interval:
    """What a supplied fact can be when it is missing (FactDictionary.parse enforces these):
    its type's range (money and counts are never negative, a share lies in [0, 1]) narrowed by
    its own `min`/`max`."""
    low: Decimal | int | None = None
    high: Decimal | int | None = None
    if spec.type in _NON_NEGATIVE:
        low = 0
    elif spec.type == "ratio" and spec.unit == "share":
        low, high = 0, 1
    if spec.minimum is not None:
        low = spec.minimum if low is None else max(low, spec.minimum)
    if spec.maximum is not None:
        high = spec.maximum if high is None else min(high, spec.maximum)
    return (low, high)


def table_range(table: Table) -> Interval:
    """The outputs a decision table can give; a row that does not match counts as unknown."""
    outputs: list[Any] = [row.then for row in table.rows]
    if not outputs or not all(isinstance(v, int | Decimal) and not isinstance(v, bool) for v in outputs):
        return UNBOUNDED
    if table.hit != "collect":
        return (min(outputs), max(outputs))
    if table.aggregate == "count":
        return (0, len(outputs))
    if table.aggregate == "sum":
        return (sum(min(v, 0) for v in outputs), sum(max(v, 0) for v in outputs))
    return (min([*outputs, 0]), max([*outputs, 0]))


def quotient(expr: Expr, facts: FactDictionary) -> Binary | None:
    """The division `expr` is, looking through derived facts; None when it is not one."""
    while isinstance(expr, FactRef):
        spec = facts.get(expr.qualified)
        if spec is None or spec.formula is None:
            return None
        expr = spec.formula
    return expr if isinstance(expr, Binary) and expr.op == "/" else None


def constant_factor(expr: Expr, parameters: dict[str, object]) -> Decimal | int | None:
    """A number fixed when the rule is written (a literal or a parameter), else None."""
    value: object = None
    if isinstance(expr, Num):
        value = expr.value
    elif isinstance(expr, ParamRef):
        value = parameters.get(expr.name)
    return value if isinstance(value, int | Decimal) and not isinstance(value, bool) else None


def _compound(expr: Expr, facts: FactDictionary) -> bool:
    if isinstance(expr, TableRef | Cond):
        return True
    if isinstance(expr, Unary):
        return expr.op == "-"
    if isinstance(expr, Binary):
        return expr.op != "/"
    if isinstance(expr, Call):
        return expr.func in ("min", "max", "round", "abs")
    if isinstance(expr, FactRef):
        spec = facts.get(expr.qualified)
        return spec is not None and spec.formula is not None and _compound(spec.formula, facts)
    return False


def sides(leaf: Leaf) -> tuple[Expr, ...]:
    """The subject, then the operand(s) of a leaf."""
    operands = leaf.operand if isinstance(leaf.operand, tuple) else (leaf.operand,)
    return (leaf.subject, *operands)


def refines(leaf: Leaf, facts: FactDictionary) -> bool:
    """Whether an unknown verdict of `leaf` is worth refining with intervals (same rule in SQL)."""
    if leaf.op not in REFINED_OPS:
        return False
    parts = sides(leaf)
    if sum(quotient(part, facts) is not None for part in parts) > 1:
        return False
    return any(_compound(part, facts) for part in parts)


def decide(op: str, subject: Interval, operands: list[Interval]) -> bool | None:
    """The verdict of `subject op operand(s)` when the intervals settle it, else None."""
    low, high = subject
    if op == "between":
        (a_low, a_high), (b_low, b_high) = operands
        if _holds(low, ">=", a_high) and _holds(high, "<=", b_low):
            return True
        if _holds(high, "<", a_low) or _holds(low, ">", b_high):
            return False
        return None
    o_low, o_high = operands[0]
    if op in (">=", ">"):
        if _holds(low, op, o_high):
            return True
        return False if _holds(high, "<" if op == ">=" else "<=", o_low) else None
    if _holds(high, op, o_low):
        return True
    return False if _holds(low, ">" if op == "<=" else ">=", o_high) else None


def _holds(a: Any, op: str, b: Any) -> bool:
    if a is None or b is None:
        return False
    if op == ">=":
        return bool(a >= b)
    if op == ">":
        return bool(a > b)
    if op == "<=":
        return bool(a <= b)
    return bool(a < b)


class ScalarBounds:
    """Interval closures over formulas, for the scalar evaluator."""

    def __init__(
        self,
        facts: FactDictionary,
        parameters: dict[str, object],
        tables: dict[str, Table],
        exact: Callable[[Expr], Closure],
    ) -> None:
        self.facts = facts
        self.parameters = parameters
        self.tables = tables
        self.exact = exact

    def leaf(self, leaf: Leaf) -> Callable[[Facts, date], bool | None]:
        """The refined verdict of a leaf whose plain verdict is unknown."""
        subject, *operands = (self.side(part) for part in sides(leaf))
        op = leaf.op

        def refine(facts: Facts, on: date) -> bool | None:
            return decide(op, subject(facts, on), [o(facts, on) for o in operands])

        return refine

    def side(self, expr: Expr) -> Bounded:
        """A leaf side: a quotient is its exact value or unbounded, anything else its interval."""
        if quotient(expr, self.facts) is not None:
            return self._known(self.exact(expr), UNBOUNDED)
        return self.compile(expr)

    def _known(self, read: Closure, fallback: Interval) -> Bounded:
        def bounded(facts: Facts, on: date) -> Interval:
            value = read(facts, on)
            return fallback if value is None else (value, value)

        return bounded

    def compile(self, expr: Expr) -> Bounded:
        """The interval of `expr` as a closure over the facts."""
        if isinstance(expr, Num | ParamRef):
            value = constant_factor(expr, self.parameters)
            fixed = UNBOUNDED if value is None else (value, value)
            return lambda facts, on: fixed
        if isinstance(expr, FactRef):
            spec = self.facts.get(expr.qualified)
            if spec is None:
                return lambda facts, on: UNBOUNDED
            if spec.formula is not None:
                return self.compile(spec.formula)
            if spec.type not in ("int", "money", "ratio"):
                return lambda facts, on: UNBOUNDED
            return self._known(self.facts.reader(spec.qualified), fact_range(spec))
        if isinstance(expr, TableRef):
            return self._known(self.exact(expr), table_range(self.tables[expr.name]))
        if isinstance(expr, Unary) and expr.op == "-":
            inner = self.compile(expr.operand)
            return lambda facts, on: _negate(inner(facts, on))
        if isinstance(expr, Binary):
            return self._binary(expr)
        if isinstance(expr, Cond):
            return self._cond(expr)
        if isinstance(expr, Call):
            return self._call(expr)
        return lambda facts, on: UNBOUNDED

    def _binary(self, expr: Binary) -> Bounded:
        if expr.op == "/":
            return lambda facts, on: UNBOUNDED
        left, right = self.compile(expr.left), self.compile(expr.right)
        if expr.op == "+":
            return lambda facts, on: _add(left(facts, on), right(facts, on))
        if expr.op == "-":
            return lambda facts, on: _add(left(facts, on), _negate(right(facts, on)))
        factor = constant_factor(expr.left, self.parameters)
        other = right
        if factor is None:
            factor, other = constant_factor(expr.right, self.parameters), left
        if factor is not None:
            fixed = factor
            return lambda facts, on: _scale(fixed, other(facts, on))
        return lambda facts, on: _product(left(facts, on), right(facts, on))

    def _cond(self, expr: Cond) -> Bounded:
        test = self.exact(expr.test)
        then, orelse = self.compile(expr.then), self.compile(expr.orelse)

        def conditional(facts: Facts, on: date) -> Interval:
            chosen = test(facts, on)
            if chosen is None:
                (a_low, a_high), (b_low, b_high) = then(facts, on), orelse(facts, on)
                return (_strict("min", [a_low, b_low]), _strict("max", [a_high, b_high]))
            return then(facts, on) if chosen else orelse(facts, on)

        return conditional

    def _call(self, expr: Call) -> Bounded:
        name = expr.func
        if name in ("min", "max"):
            args = tuple(self.compile(a) for a in expr.args)

            def extreme(facts: Facts, on: date) -> Interval:
                found = [a(facts, on) for a in args]
                lows, highs = [f[0] for f in found], [f[1] for f in found]
                if name == "min":
                    return (_strict("min", lows), _lenient("min", highs))
                return (_lenient("max", lows), _strict("max", highs))

            return extreme
        if name == "round":
            digits = int(expr.args[1].value) if len(expr.args) == 2 else 0  # type: ignore[attr-defined]
            inner = self.compile(expr.args[0])

            def rounded(facts: Facts, on: date) -> Interval:
                low, high = inner(facts, on)
                return (
                    None if low is None else round_half_up(low, digits),
                    None if high is None else round_half_up(high, digits),
                )

            return rounded
        if name == "abs":
            return self._known(self.exact(expr), (0, None))
        return self._known(self.exact(expr), UNBOUNDED)


def _negate(interval: Interval) -> Interval:
    low, high = interval
    return (None if high is None else -high, None if low is None else -low)


def _add(a: Interval, b: Interval) -> Interval:
    return (
        None if a[0] is None or b[0] is None else a[0] + b[0],
        None if a[1] is None or b[1] is None else a[1] + b[1],
    )


def _scale(factor: Decimal | int, interval: Interval) -> Interval:
    low, high = interval
    scaled = (None if low is None else factor * low, None if high is None else factor * high)
    return scaled if factor >= 0 else (scaled[1], scaled[0])


def _product(a: Interval, b: Interval) -> Interval:
    """Both sides known to be non-negative: monotone; anything else is unbounded."""
    if a[0] is None or b[0] is None or a[0] < 0 or b[0] < 0:
        return UNBOUNDED
    return (a[0] * b[0], None if a[1] is None or b[1] is None else a[1] * b[1])


def _strict(name: str, values: list[Any]) -> Any:
    """min/max that is unbounded when any value is (SQL: Extreme)."""
    if any(v is None for v in values):
        return None
    return min(values) if name == "min" else max(values)


def _lenient(name: str, values: list[Any]) -> Any:
    """min/max over the bounded values; unbounded only when all are (SQL: LEAST/GREATEST)."""
    bounded = [v for v in values if v is not None]
    if not bounded:
        return None
    return min(bounded) if name == "min" else max(bounded)
