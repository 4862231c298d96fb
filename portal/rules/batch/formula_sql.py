"""Formula IR → SQLAlchemy Core expression over the facts table.

Derived facts are inlined (their formula is compiled in place), parameters become literals,
tables become CASE expressions (or the columns `table_values` names, where the statement
computed them once) and the evaluation date is a constant, so the statement reads only
supplied facts. Unknown (NULL) propagates exactly as `None` does in the scalar closures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, false, func, literal_column, not_, null, or_, true
from sqlalchemy.sql.expression import ColumnElement

from portal.rules.batch.sql_functions import (
    DateLiteral,
    DaysBetween,
    Divide,
    Extreme,
    RoundHalfUp,
    SnappedDifference,
    YearsBetween,
)
from portal.rules.criteria import Condition, Table
from portal.rules.facts import FactDictionary
from portal.rules.formula import (
    Binary,
    Bool,
    Call,
    Compare,
    Cond,
    DateLit,
    Expr,
    FactRef,
    Logical,
    Num,
    OnDate,
    ParamRef,
    Str,
    TableRef,
    Unary,
)

SqlExpr = ColumnElement[Any]


class NotCompilable(ValueError):
    """A construct the SQL compiler refuses; lint reports the message, nothing falls back to Python."""


def sql_literal(value: object) -> SqlExpr:
    """A constant rendered inline, so every engine types it itself (0.05 is DECIMAL, not a float bind)."""
    if isinstance(value, bool):
        return true() if value else false()
    if isinstance(value, int):
        return literal_column(str(value))
    if isinstance(value, Decimal):
        return literal_column(format(value, "f"))
    if isinstance(value, date):
        return DateLiteral(value)
    if isinstance(value, str):
        return literal_column("'" + value.replace("'", "''") + "'")
    raise NotCompilable(f"constant {value!r} has no SQL form")


_COMPARE: dict[str, Callable[[SqlExpr, SqlExpr], SqlExpr]] = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


_MIRROR = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}


def compare(op: str, left: SqlExpr, right: SqlExpr) -> SqlExpr:
    return _COMPARE[op](left, right)


class FormulaCompiler:
    """Compiles the formulas of one rule version at one evaluation date."""

    def __init__(
        self,
        facts: FactDictionary,
        column: Callable[[str], SqlExpr],
        on: date,
        parameters: dict[str, object],
        tables: dict[str, Table],
        table_values: Mapping[str, SqlExpr] | None = None,
    ) -> None:
        self.facts = facts
        self.column = column
        self.on = on
        self.parameters = parameters
        self.tables = tables
        self.table_values = table_values or {}
        """Tables already computed into a column (see `compile_rule`): referenced, not inlined."""

    def compile(self, expr: Expr) -> SqlExpr:
        if isinstance(expr, Num | Bool | Str | DateLit):
            return sql_literal(expr.value)
        if isinstance(expr, OnDate):
            return DateLiteral(self.on)
        if isinstance(expr, FactRef):
            return self._fact(expr.qualified)
        if isinstance(expr, ParamRef):
            if expr.name not in self.parameters:
                raise NotCompilable(f"unknown parameter param.{expr.name}")
            return sql_literal(self.parameters[expr.name])
        if isinstance(expr, TableRef):
            table = self.tables.get(expr.name)
            if table is None:
                raise NotCompilable(f"unknown table table.{expr.name}")
            computed = self.table_values.get(expr.name)
            return computed if computed is not None else self.table(table)
        if isinstance(expr, Unary):
            inner = self.compile(expr.operand)
            return -inner if expr.op == "-" else not_(inner)
        if isinstance(expr, Binary):
            left, right = self.compile(expr.left), self.compile(expr.right)
            if expr.op == "/":
                return Divide(left, right)
            return {"+": left + right, "-": left - right, "*": left * right}[expr.op]
        if isinstance(expr, Compare):
            return self.compare(expr.op, expr.left, expr.right)
        if isinstance(expr, Logical):
            parts = [self.compile(e) for e in expr.operands]
            return and_(*parts) if expr.op == "and" else or_(*parts)
        if isinstance(expr, Cond):
            test = self.compile(expr.test)
            # A NULL test must give NULL, not the else branch: hence the explicit NOT arm.
            return case(
                (test, self.compile(expr.then)), (not_(test), self.compile(expr.orelse)), else_=null()
            )
        if isinstance(expr, Call):
            return self._call(expr)
        raise NotCompilable(f"formula node {type(expr).__name__} has no SQL form")

    def compare(self, op: str, left: Expr, right: Expr | SqlExpr) -> SqlExpr:
        """`left op right`, cross-multiplied when a side is a quotient.

        `a / b >= t` is tested as `a - t * b >= 0` (mirrored when b < 0, NULL when b = 0): SQLite
        and DuckDB divide in binary floating point, where 0.03 / 0.6 lands just below 0.05, while
        multiplication stays exact in DECIMAL/NUMERIC. This keeps rows sitting exactly on a ratio
        threshold on the evaluator's side (SQLite: see SnappedDifference).
        """
        right_sql = right if not isinstance(right, Expr) else self.compile(right)
        crossed = self._cross(op, left, right_sql)
        if crossed is None and isinstance(right, Expr):
            crossed = self._cross(_MIRROR[op], right, self.compile(left))
        return crossed if crossed is not None else compare(op, self.compile(left), right_sql)

    def _cross(self, op: str, left: Expr, right: SqlExpr) -> SqlExpr | None:
        quotient = self._quotient(left)
        if quotient is None:
            return None
        numerator, denominator = self.compile(quotient.left), self.compile(quotient.right)
        gap = SnappedDifference(numerator, right * denominator)
        zero: SqlExpr = literal_column("0")
        return case(
            (denominator == 0, null()),
            (denominator > 0, compare(op, gap, zero)),
            else_=compare(_MIRROR[op], gap, zero),
        )

    def _quotient(self, expr: Expr) -> Binary | None:
        """The division `expr` is, looking through derived facts; None when it is not one."""
        while isinstance(expr, FactRef):
            spec = self.facts.get(expr.qualified)
            if spec is None or spec.formula is None:
                return None
            expr = spec.formula
        return expr if isinstance(expr, Binary) and expr.op == "/" else None

    def _fact(self, qualified: str) -> SqlExpr:
        spec = self.facts.get(qualified)
        if spec is None:
            raise NotCompilable(f"unknown fact {qualified}")
        if spec.formula is not None:
            return self.compile(spec.formula)
        return self.column(qualified)

    def _call(self, expr: Call) -> SqlExpr:
        args = [self.compile(a) for a in expr.args]
        if expr.func in ("min", "max"):
            return Extreme(expr.func, args)
        if expr.func == "abs":
            return func.abs(args[0])
        if expr.func == "round":
            digits = expr.args[1].value if len(expr.args) == 2 and isinstance(expr.args[1], Num) else 0
            return RoundHalfUp(args[0], int(digits))
        if expr.func == "years_between":
            return YearsBetween(args[0], args[1])
        if expr.func == "days_between":
            return DaysBetween(args[0], args[1])
        raise NotCompilable(f"function {expr.func}() has no SQL form")

    def table(self, table: Table) -> SqlExpr:
        """A decision table as CASE; an unknown input gives NULL for every hit policy."""
        value = self.compile(table.input)
        if table.hit in ("first", "unique"):
            # `unique` tables are proven non-overlapping by lint, so first-match is the same answer.
            whens = [
                (self._row_test(table.input, value, row.when), sql_literal(row.then)) for row in table.rows
            ]
            return case(*whens, else_=null())
        matched = [(self._row_test(table.input, value, row.when), row.then) for row in table.rows]
        if table.aggregate == "count":
            total: SqlExpr = literal_column("0")
            for test, _ in matched:
                total = total + case((test, literal_column("1")), else_=literal_column("0"))
            return case((value.is_(None), null()), else_=total)
        if table.aggregate == "sum":
            total = literal_column("0")
            for test, then in matched:
                total = total + case((test, sql_literal(then)), else_=literal_column("0"))
            return case((value.is_(None), null()), else_=total)
        # max / min of constant outputs: the first matching row in output order wins.
        ordered = sorted(matched, key=lambda m: _number(m[1]), reverse=table.aggregate == "max")
        return case(
            (value.is_(None), null()),
            *[(test, sql_literal(then)) for test, then in ordered],
            else_=literal_column("0"),
        )

    def _row_test(self, source: Expr, value: SqlExpr, conditions: tuple[Condition, ...]) -> SqlExpr:
        if not conditions:
            return value.is_not(None)
        tests: list[SqlExpr] = []
        for condition in conditions:
            if condition.op == "in":
                assert isinstance(condition.value, tuple)
                tests.append(value.in_([sql_literal(v) for v in condition.value]))
            else:
                tests.append(self.compare(condition.op, source, sql_literal(condition.value)))
        return and_(*tests)


def _number(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise NotCompilable(f"a collect table's max/min needs numeric outputs, got {value!r}")
    return Decimal(value)
