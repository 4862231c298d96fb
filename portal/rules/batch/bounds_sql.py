"""Partial knowledge in SQL: the intervals of `portal.rules.bounds`, built as SQL expressions.

Each formula node becomes a (low, high) pair of SQL expressions, NULL meaning unbounded, by the
same rules as `ScalarBounds`, so a leaf the evaluator settles from known facts is settled the
same way in the database. A side that is a quotient is compared by cross-multiplication
(`FormulaCompiler.compare`), never through a floating-point division.
"""

from __future__ import annotations

from sqlalchemy import and_, case, false, func, literal_column, not_, null, or_, true

from portal.rules.batch.formula_sql import FormulaCompiler, SqlExpr, compare, sql_literal
from portal.rules.batch.sql_functions import Extreme, RoundHalfUp, SkipNullExtreme
from portal.rules.bounds import (
    UNBOUNDED,
    Interval,
    constant_factor,
    fact_range,
    quotient,
    sides,
    table_range,
)
from portal.rules.criteria import Leaf
from portal.rules.formula import Binary, Call, Cond, Expr, FactRef, Num, ParamRef, TableRef, Unary

SqlInterval = tuple[SqlExpr, SqlExpr]
Side = tuple[Expr | None, SqlInterval]
"""A leaf side: the quotient it is (compared exactly), or its interval."""

_MIRROR = {">=": "<=", ">": "<", "<=": ">=", "<": ">"}


def refined_leaf(leaf: Leaf, formulas: FormulaCompiler, plain: SqlExpr) -> SqlExpr:
    """`plain` where it is known, else the verdict the intervals settle, else NULL."""
    bounds = SqlBounds(formulas)
    subject, *operands = (bounds.side(part) for part in sides(leaf))
    settled, refuted = bounds.decide(leaf.op, subject, operands)
    return case((plain.is_not(None), plain), (settled, true()), (refuted, false()), else_=null())


class SqlBounds:
    """Interval SQL over the formulas of one rule at one date (see `FormulaCompiler`)."""

    def __init__(self, formulas: FormulaCompiler) -> None:
        self.formulas = formulas

    def side(self, expr: Expr) -> Side:
        """A leaf side: a quotient stays a formula (compared exactly), anything else an interval."""
        if quotient(expr, self.formulas.facts) is not None:
            return (expr, (null(), null()))
        return (None, self.compile(expr))

    def decide(self, op: str, subject: Side, operands: list[Side]) -> tuple[SqlExpr, SqlExpr]:
        """(holds, fails) conditions, as `portal.rules.bounds.decide`; NULL decides nothing."""
        if op == "between":
            low, high = operands
            return (
                and_(self._cmp(subject, 0, ">=", low, 1), self._cmp(subject, 1, "<=", high, 0)),
                or_(self._cmp(subject, 1, "<", low, 0), self._cmp(subject, 0, ">", high, 1)),
            )
        (operand,) = operands
        if op in (">=", ">"):
            return (
                self._cmp(subject, 0, op, operand, 1),
                self._cmp(subject, 1, "<" if op == ">=" else "<=", operand, 0),
            )
        return (
            self._cmp(subject, 1, op, operand, 0),
            self._cmp(subject, 0, ">" if op == "<=" else ">=", operand, 1),
        )

    def _cmp(self, left: Side, left_end: int, op: str, right: Side, right_end: int) -> SqlExpr:
        """`left[left_end] op right[right_end]`, a quotient side compared by cross-multiplication."""
        left_q, left_iv = left
        right_q, right_iv = right
        if left_q is not None:
            return self.formulas.compare(op, left_q, right_iv[right_end])
        if right_q is not None:
            return self.formulas.compare(_MIRROR[op], right_q, left_iv[left_end])
        return compare(op, left_iv[left_end], right_iv[right_end])

    def compile(self, expr: Expr) -> SqlInterval:
        """(low, high) of `expr` as SQL; NULL is unbounded."""
        formulas = self.formulas
        if isinstance(expr, Num | ParamRef):
            value = constant_factor(expr, formulas.parameters)
            return _fixed(UNBOUNDED if value is None else (value, value))
        if isinstance(expr, FactRef):
            spec = formulas.facts.get(expr.qualified)
            if spec is None:
                return (null(), null())
            if spec.formula is not None:
                return self.compile(spec.formula)
            if spec.type not in ("int", "money", "ratio"):
                return (null(), null())
            return _known(formulas.compile(expr), fact_range(spec))
        if isinstance(expr, TableRef):
            return _known(formulas.compile(expr), table_range(formulas.tables[expr.name]))
        if isinstance(expr, Unary) and expr.op == "-":
            low, high = self.compile(expr.operand)
            return (-high, -low)
        if isinstance(expr, Binary):
            return self._binary(expr)
        if isinstance(expr, Cond):
            test = formulas.compile(expr.test)
            (a_low, a_high), (b_low, b_high) = self.compile(expr.then), self.compile(expr.orelse)
            return (
                case((test, a_low), (not_(test), b_low), else_=Extreme("min", [a_low, b_low])),
                case((test, a_high), (not_(test), b_high), else_=Extreme("max", [a_high, b_high])),
            )
        if isinstance(expr, Call):
            return self._call(expr)
        return (null(), null())

    def _binary(self, expr: Binary) -> SqlInterval:
        if expr.op == "/":
            return (null(), null())
        (a_low, a_high), (b_low, b_high) = self.compile(expr.left), self.compile(expr.right)
        if expr.op == "+":
            return (a_low + b_low, a_high + b_high)
        if expr.op == "-":
            return (a_low - b_high, a_high - b_low)
        parameters = self.formulas.parameters
        factor = constant_factor(expr.left, parameters)
        low, high = b_low, b_high
        if factor is None:
            factor, low, high = constant_factor(expr.right, parameters), a_low, a_high
        if factor is not None:
            scale = sql_literal(factor)
            return (scale * low, scale * high) if factor >= 0 else (scale * high, scale * low)
        zero: SqlExpr = literal_column("0")
        both = and_(a_low >= zero, b_low >= zero)
        return (case((both, a_low * b_low), else_=null()), case((both, a_high * b_high), else_=null()))

    def _call(self, expr: Call) -> SqlInterval:
        name = expr.func
        if name in ("min", "max"):
            found = [self.compile(a) for a in expr.args]
            lows, highs = [f[0] for f in found], [f[1] for f in found]
            if name == "min":
                return (Extreme("min", lows), SkipNullExtreme("min", highs))
            return (SkipNullExtreme("max", lows), Extreme("max", highs))
        if name == "round":
            digits = int(expr.args[1].value) if len(expr.args) == 2 else 0  # type: ignore[attr-defined]
            low, high = self.compile(expr.args[0])
            return (RoundHalfUp(low, digits), RoundHalfUp(high, digits))
        exact = self.formulas.compile(expr)
        if name == "abs":
            return (func.coalesce(exact, literal_column("0")), exact)
        return (exact, exact)


def _fixed(interval: Interval) -> SqlInterval:
    low, high = interval
    return (
        null() if low is None else sql_literal(low),
        null() if high is None else sql_literal(high),
    )


def _known(value: SqlExpr, fallback: Interval) -> SqlInterval:
    """The value where it is known, else the range it can take (NULL: unbounded)."""
    low, high = fallback
    return (
        value if low is None else func.coalesce(value, sql_literal(low)),
        value if high is None else func.coalesce(value, sql_literal(high)),
    )
