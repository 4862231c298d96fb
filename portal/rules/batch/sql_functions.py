"""SQL constructs whose text differs between SQLite, PostgreSQL and DuckDB.

Each one keeps the scalar evaluator's meaning on every engine: a NULL argument gives NULL,
division is never integer division and never fails on zero, dates compare as dates. Each
declares its attributes in `_traverse_internals`, so SQLAlchemy's statement cache tells
`round(x, 2)` from `round(x, 0)` and one evaluation date from another.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement, case, literal_column, not_
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import Date, Integer, Numeric, String


class DateLiteral(ColumnElement[date]):
    """A date constant: ISO text on SQLite (where facts store dates as text), DATE elsewhere."""

    inherit_cache = True
    type = Date()
    _traverse_internals: list[tuple[str, InternalTraversal]] = [  # noqa: RUF012 - SQLAlchemy's cache-key protocol
        ("value", InternalTraversal.dp_plain_obj)
    ]

    def __init__(self, value: date) -> None:
        self.value = value


@compiles(DateLiteral)
def _date_default(element: DateLiteral, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST('{element.value.isoformat()}' AS DATE)"


@compiles(DateLiteral, "sqlite")
def _date_sqlite(element: DateLiteral, compiler: SQLCompiler, **kw: Any) -> str:
    return f"'{element.value.isoformat()}'"


class Divide(ColumnElement[Any]):
    """`a / b` as an exact-as-possible quotient; a zero divisor gives NULL, like the evaluator."""

    inherit_cache = True
    type = Numeric()
    _traverse_internals: list[tuple[str, InternalTraversal]] = [  # noqa: RUF012 - SQLAlchemy's cache-key protocol
        ("left", InternalTraversal.dp_clauseelement),
        ("right", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, left: ColumnElement[Any], right: ColumnElement[Any]) -> None:
        self.left = left
        self.right = right


@compiles(Divide)
def _divide_default(element: Divide, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL NUMERIC division is exact to 20 significant digits; integers must not truncate.
    left, right = compiler.process(element.left, **kw), compiler.process(element.right, **kw)
    return f"(CAST({left} AS NUMERIC) / NULLIF(CAST({right} AS NUMERIC), 0))"


@compiles(Divide, "duckdb")
def _divide_duckdb(element: Divide, compiler: SQLCompiler, **kw: Any) -> str:
    # DuckDB's `/` on DECIMAL yields DOUBLE anyway; a double quotient compared with a decimal
    # threshold gives the exact answer for integer-valued operands below 2^53 (see docs/performance.md).
    left, right = compiler.process(element.left, **kw), compiler.process(element.right, **kw)
    return f"(CAST({left} AS DOUBLE) / NULLIF(CAST({right} AS DOUBLE), 0))"


@compiles(Divide, "sqlite")
def _divide_sqlite(element: Divide, compiler: SQLCompiler, **kw: Any) -> str:
    left, right = compiler.process(element.left, **kw), compiler.process(element.right, **kw)
    return f"(CAST({left} AS REAL) / NULLIF({right}, 0))"


class Extreme(ColumnElement[Any]):
    """min()/max() of several values, NULL when any is NULL (LEAST/GREATEST skip NULLs)."""

    inherit_cache = True
    type = Numeric()
    _traverse_internals: list[tuple[str, InternalTraversal]] = [  # noqa: RUF012 - SQLAlchemy's cache-key protocol
        ("func", InternalTraversal.dp_string),
        ("args", InternalTraversal.dp_clauseelement_list),
    ]

    def __init__(self, func: str, args: list[ColumnElement[Any]]) -> None:
        self.func = func
        self.args = args


@compiles(Extreme)
def _extreme_default(element: Extreme, compiler: SQLCompiler, **kw: Any) -> str:
    args = [compiler.process(a, **kw) for a in element.args]
    name = "LEAST" if element.func == "min" else "GREATEST"
    any_null = " OR ".join(f"{a} IS NULL" for a in args)
    return f"(CASE WHEN {any_null} THEN NULL ELSE {name}({', '.join(args)}) END)"


@compiles(Extreme, "sqlite")
def _extreme_sqlite(element: Extreme, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite's multi-argument min()/max() already return NULL when any argument is NULL.
    args = [compiler.process(a, **kw) for a in element.args]
    return f"{element.func}({', '.join(args)})"


class SkipNullExtreme(ColumnElement[Any]):
    """min()/max() of the values that are not NULL; NULL only when all are (partial knowledge:
    an unbounded end of one argument does not hide the bound the others give)."""

    inherit_cache = True
    type = Numeric()
    _traverse_internals: list[tuple[str, InternalTraversal]] = [  # noqa: RUF012 - SQLAlchemy's cache-key protocol
        ("func", InternalTraversal.dp_string),
        ("args", InternalTraversal.dp_clauseelement_list),
    ]

    def __init__(self, func: str, args: list[ColumnElement[Any]]) -> None:
        self.func = func
        self.args = args


@compiles(SkipNullExtreme)
def _skip_null_default(element: SkipNullExtreme, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL's and DuckDB's LEAST/GREATEST ignore NULL arguments.
    name = "LEAST" if element.func == "min" else "GREATEST"
    return f"{name}({', '.join(compiler.process(a, **kw) for a in element.args)})"


@compiles(SkipNullExtreme, "sqlite")
def _skip_null_sqlite(element: SkipNullExtreme, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite's min()/max() return NULL on any NULL: argument i becomes COALESCE(a_i, a_i+1, ...),
    # which is a_i where known and another known argument otherwise.
    args = [compiler.process(a, **kw) for a in element.args]
    rotated = [", ".join(args[i:] + args[:i]) for i in range(len(args))]
    return f"{element.func}({', '.join(f'COALESCE({r})' for r in rotated)})"


class YearsBetween(ColumnElement[int]):
    """Whole years from `start` to `end`, as `portal.rules.formula.years_between`."""

    inherit_cache = True
    type = Integer()
    _traverse_internals: list[tuple[str, InternalTraversal]] = [  # noqa: RUF012 - SQLAlchemy's cache-key protocol
        ("start", InternalTraversal.dp_clauseelement),
        ("end", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, start: ColumnElement[Any], end: ColumnElement[Any]) -> None:
        self.start = start
        self.end = end


@compiles(YearsBetween)
def _years_default(element: YearsBetween, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = compiler.process(element.start, **kw), compiler.process(element.end, **kw)

    def month_day(d: str) -> str:
        return f"(EXTRACT(MONTH FROM {d}) * 100 + EXTRACT(DAY FROM {d}))"

    return (
        f"(CAST(EXTRACT(YEAR FROM {end}) AS INTEGER) - CAST(EXTRACT(YEAR FROM {start}) AS INTEGER)"
        f" - CASE WHEN {month_day(end)} < {month_day(start)} THEN 1 ELSE 0 END)"
    )


@compiles(YearsBetween, "sqlite")
def _years_sqlite(element: YearsBetween, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = compiler.process(element.start, **kw), compiler.process(element.end, **kw)
    # Dates are ISO text on SQLite, so substr() reads year and month-day far cheaper than strftime().
    return (
        f"(CAST(substr({end}, 1, 4) AS INTEGER) - CAST(substr({start}, 1, 4) AS INTEGER)"
        f" - (substr({end}, 6, 5) < substr({start}, 6, 5)))"
    )


class DaysBetween(ColumnElement[int]):
    """Calendar days from `start` to `end`, as `portal.rules.formula.days_between`."""

    inherit_cache = True
    type = Integer()
    _traverse_internals: list[tuple[str, InternalTraversal]] = [  # noqa: RUF012 - SQLAlchemy's cache-key protocol
        ("start", InternalTraversal.dp_clauseelement),
        ("end", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, start: ColumnElement[Any], end: ColumnElement[Any]) -> None:
        self.start = start
        self.end = end


@compiles(DaysBetween)
def _days_default(element: DaysBetween, compiler: SQLCompiler, **kw: Any) -> str:
    # DATE - DATE is a whole number of days on PostgreSQL and DuckDB.
    start, end = compiler.process(element.start, **kw), compiler.process(element.end, **kw)
    return f"(CAST({end} AS DATE) - CAST({start} AS DATE))"


@compiles(DaysBetween, "sqlite")
def _days_sqlite(element: DaysBetween, compiler: SQLCompiler, **kw: Any) -> str:
    # Dates are ISO text on SQLite; julianday() of a date is a whole number plus .5, so the
    # difference is exact.
    start, end = compiler.process(element.start, **kw), compiler.process(element.end, **kw)
    return f"CAST(julianday({end}) - julianday({start}) AS INTEGER)"


class RoundHalfUp(ColumnElement[Any]):
    """round(x, digits), half away from zero as the evaluator's ROUND_HALF_UP."""

    inherit_cache = True
    type = Numeric()
    _traverse_internals: list[tuple[str, InternalTraversal]] = [  # noqa: RUF012 - SQLAlchemy's cache-key protocol
        ("value", InternalTraversal.dp_clauseelement),
        ("digits", InternalTraversal.dp_plain_obj),
    ]

    def __init__(self, value: ColumnElement[Any], digits: int) -> None:
        self.value = value
        self.digits = digits


@compiles(RoundHalfUp)
def _round_default(element: RoundHalfUp, compiler: SQLCompiler, **kw: Any) -> str:
    # NUMERIC (PostgreSQL) and DECIMAL (DuckDB) round half away from zero exactly.
    return f"ROUND({compiler.process(element.value, **kw)}, {element.digits})"


class SnappedDifference(ColumnElement[Any]):
    """`a - b` for a threshold test; on SQLite, binary-float noise below 1e-6 is rounded away.

    SQLite stores fractional money as REAL, so `0.6 * 1234567.85` and the stored 740740.71 differ
    in the last bit although the decimals are equal. Facts carry at most 2 decimals in practice and
    thresholds at most 4, so a true non-zero gap is a multiple of 1e-6 and survives ROUND(…, 6),
    while the float noise (below 1e-7 for amounts under 10^9 yuan) does not. DECIMAL and NUMERIC
    subtract exactly and need no snapping. It is only compared with 0: its sign is what counts.
    """

    inherit_cache = True
    type = Numeric()
    _traverse_internals: list[tuple[str, InternalTraversal]] = [  # noqa: RUF012 - SQLAlchemy's cache-key protocol
        ("left", InternalTraversal.dp_clauseelement),
        ("right", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, left: ColumnElement[Any], right: ColumnElement[Any]) -> None:
        self.left = left
        self.right = right


@compiles(SnappedDifference)
def _difference_default(element: SnappedDifference, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.left, **kw)} - {compiler.process(element.right, **kw)})"


@compiles(SnappedDifference, "sqlite")
def _difference_sqlite(element: SnappedDifference, compiler: SQLCompiler, **kw: Any) -> str:
    # Only the gap's sign is read (it is compared with 0), and a gap of at least 0.001 keeps its
    # sign under ROUND(…, 6), so only a gap near zero is rounded: SQLite's ROUND prints and parses
    # the number, ~0.5 µs a call, most of qualification.st_sme's decision tables.
    gap = f"({compiler.process(element.left, **kw)} - {compiler.process(element.right, **kw)})"
    return f"CASE WHEN abs({gap}) >= 0.001 THEN {gap} ELSE ROUND({gap}, 6) END"


class VerdictCodes(ColumnElement[str]):
    """Verdicts as one text, a character each: p(ass), f(ail) or u(nknown) for true, false, NULL."""

    inherit_cache = True
    type = String()
    _traverse_internals: list[tuple[str, InternalTraversal]] = [  # noqa: RUF012 - SQLAlchemy's cache-key protocol
        ("verdicts", InternalTraversal.dp_clauseelement_list)
    ]

    def __init__(self, verdicts: list[ColumnElement[Any]]) -> None:
        self.verdicts = verdicts


@compiles(VerdictCodes)
def _codes_default(element: VerdictCodes, compiler: SQLCompiler, **kw: Any) -> str:
    codes: ColumnElement[Any] = literal_column("''")
    for value in element.verdicts:
        code = case(
            (value, literal_column("'p'")), (not_(value), literal_column("'f'")), else_=literal_column("'u'")
        )
        codes = codes.concat(code)
    return compiler.process(codes, **kw)


@compiles(VerdictCodes, "sqlite")
def _codes_sqlite(element: VerdictCodes, compiler: SQLCompiler, **kw: Any) -> str:
    # One char() call instead of a CASE and a concatenation per verdict (a new string each):
    # f is 102, p 112, u 117; `!= 0` is true for what CASE WHEN takes as true, NULL for NULL.
    codes = [f"ifnull(102 + 10 * ({compiler.process(v, **kw)} != 0), 117)" for v in element.verdicts]
    return f"char({', '.join(codes)})" if codes else "''"
