"""A rule version → one SQL SELECT over a facts table, with the scalar evaluator's semantics.

Each leaf criterion becomes a nullable boolean column (NULL = unknown). The tree over the leaves
uses SQL's AND / OR / NOT, which are Kleene logic on NULL exactly as `all` / `any` / `not` are
in the evaluator. Leaves are computed in an inner query so the outer query can combine them by
name instead of repeating their expressions; a rule's decision tables are computed in a step
before that, once per row. Benefits are present only when the outcome is
eligible; money is rounded half-up to the fen, as the evaluator does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Dialect, Select, and_, case, column, literal_column, not_, null, or_, select, table
from sqlalchemy.sql.expression import CTE, ColumnElement, TableClause

from portal.rules.batch.bounds_sql import refined_leaf
from portal.rules.batch.columns import sql_column
from portal.rules.batch.formula_sql import FormulaCompiler, NotCompilable, SqlExpr
from portal.rules.batch.sql_functions import RoundHalfUp, VerdictCodes
from portal.rules.bounds import refines
from portal.rules.criteria import AllOf, AnyOf, BenefitSpec, Leaf, Node, Not, leaves
from portal.rules.facts import FactDictionary
from portal.rules.formula import Binary, Expr, FactRef, walk
from portal.rules.model import Rule

FACTS_TABLE = "facts"
ROW_KEY = "row"
OUTCOME = "outcome"
VERDICTS = "verdicts"
MONEY_DIGITS = 2


@dataclass(frozen=True)
class CompiledRule:
    """The statement plus the map from its result columns back to criterion ids and benefit names."""

    rule: Rule
    on: date
    statement: Select[Any]
    criteria: tuple[tuple[str, str], ...]
    """(leaf id, result column), in document order."""
    benefits: tuple[tuple[str, str], ...]
    """(benefit name, result column)."""
    fact_columns: tuple[str, ...]
    """The facts-table columns the statement reads (supplied facts only)."""
    _sql: dict[tuple[str, bool, bool], str] = field(default_factory=dict, repr=False, compare=False)

    def packed(self) -> Select[Any]:
        """The statement with the criterion columns folded into one text column, `verdicts`.

        Character i is the verdict of criterion i: p(ass), f(ail) or u(nknown). Drivers that
        hand rows to Python one object per value (sqlite3, psycopg) then build 3 objects per
        row instead of 2 + one per criterion, which is most of the fetch time on those engines.
        """
        inner = self.statement.order_by(None).subquery("verdict_rows")  # the outer query orders
        codes = VerdictCodes([inner.c[label] for _, label in self.criteria])
        benefits = [inner.c[label] for _, label in self.benefits]
        return select(inner.c[ROW_KEY], inner.c[OUTCOME], codes.label(VERDICTS), *benefits).order_by(
            inner.c[ROW_KEY]
        )

    def sql(self, dialect: Dialect, packed: bool = False, ordered: bool = True) -> str:
        """The statement's text for `dialect`, rendered once: screening reruns it per batch.

        `ordered=False` leaves out the ORDER BY, for a caller that checks the order itself.
        """
        text = self._sql.get((dialect.name, packed, ordered))
        if text is None:
            statement = self.packed() if packed else self.statement
            if not ordered:
                statement = statement.order_by(None)
            text = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            self._sql[(dialect.name, packed, ordered)] = text
        return text


@dataclass(frozen=True)
class CompileProblem:
    """What keeps a rule out of SQL, at the line of the criterion or benefit that holds it."""

    line: int
    message: str


def compile_rule(
    rule: Rule, facts: FactDictionary, on: date, table_name: str = FACTS_TABLE, key: str = ROW_KEY
) -> CompiledRule:
    """Compile `rule` as evaluated at `on` against table `table_name` keyed by `key`.

    Raises NotCompilable for a construct that has no faithful SQL form.
    """
    needed = _supplied_facts(rule, facts)
    source = table(table_name, column(key), *(column(sql_column(q)) for q in needed))
    formulas = _formulas(rule, facts, on, lambda qualified: source.c[sql_column(qualified)])
    rows: TableClause | CTE = source
    if rule.tables:
        rows, formulas = _with_tables(rule, facts, on, source, formulas)
    leaf_nodes = leaves(rule.criteria)
    labels = {id(leaf): f"c{i}" for i, leaf in enumerate(leaf_nodes)}
    benefit_labels = {name: f"b{i}" for i, name in enumerate(rule.benefit)}

    inner_columns: list[ColumnElement[Any]] = [rows.c[key]]
    for leaf in leaf_nodes:
        inner_columns.append(_leaf(leaf, formulas).label(labels[id(leaf)]))
    for name, spec in rule.benefit.items():
        inner_columns.append(_benefit(spec, formulas).label(benefit_labels[name]))
    # Materialised so each leaf is computed once per row: SQLite would otherwise flatten the
    # subquery and recompute a leaf at every reference (outcome, NOT outcome, each benefit).
    inner = _materialized(select(*inner_columns).cte("criteria"))

    tree = _tree(rule.criteria, lambda leaf: inner.c[labels[id(leaf)]])
    outcome = case((tree, literal_column("'eligible'")), (not_(tree), literal_column("'ineligible'")),
                   else_=literal_column("'undetermined'"))  # fmt: skip
    outer: list[ColumnElement[Any]] = [inner.c[key], outcome.label(OUTCOME)]
    outer += [inner.c[labels[id(leaf)]] for leaf in leaf_nodes]
    outer += [case((tree, inner.c[label]), else_=null()).label(label) for label in benefit_labels.values()]
    return CompiledRule(
        rule=rule,
        on=on,
        statement=select(*outer).order_by(inner.c[key]),
        criteria=tuple((leaf.id, labels[id(leaf)]) for leaf in leaf_nodes),
        benefits=tuple(benefit_labels.items()),
        fact_columns=tuple(sql_column(q) for q in needed),
    )


def compile_check(rule: Rule, facts: FactDictionary) -> list[CompileProblem]:
    """Everything that keeps `rule` out of SQL, one problem per criterion or benefit; empty when it compiles.

    Each criterion and benefit is compiled on its own, so one lint run lists every refusal
    instead of stopping at the first, as `compile_rule` does.
    """
    criteria_line = rule.lines.get("criteria", 1)
    try:
        _supplied_facts(rule, facts)
    except NotCompilable as exc:
        return [CompileProblem(criteria_line, f"cannot be compiled to SQL: {exc}")]
    formulas = _formulas(rule, facts, rule.effective_from, lambda qualified: column(sql_column(qualified)))
    problems: list[CompileProblem] = []
    for leaf in leaves(rule.criteria):
        try:
            _leaf(leaf, formulas)
        except NotCompilable as exc:
            problems.append(CompileProblem(leaf.line, f"cannot be compiled to SQL: {exc}"))
    for name, spec in rule.benefit.items():
        if spec.type == "money" and any(
            isinstance(n, Binary) and n.op == "/" for n in _inlined(spec.expr, facts)
        ):
            # SQLite and DuckDB divide in binary floating point; a rounded money amount built on
            # a quotient could then differ by a fen from the evaluator's Decimal.
            problems.append(CompileProblem(
                spec.line,
                f"benefit {name}: money computed with `/` cannot be reproduced exactly in SQL; "
                "multiply by a ratio parameter instead",
            ))  # fmt: skip
            continue
        try:
            _benefit(spec, formulas)
        except NotCompilable as exc:
            problems.append(CompileProblem(spec.line, f"cannot be compiled to SQL: {exc}"))
    if not problems:
        # The parts compile; the statement around them must too (it is what screening runs).
        try:
            compile_rule(rule, facts, rule.effective_from)
        except NotCompilable as exc:
            problems.append(CompileProblem(criteria_line, f"cannot be compiled to SQL: {exc}"))
    return problems


def _materialized(step: CTE) -> CTE:
    """`step` computed once, where the engine would otherwise copy its expressions into each use.

    SQLite and PostgreSQL flatten a subquery into its references, so the hint keeps each leaf
    and table computed once per row. DuckDB keeps a step's columns as columns when it inlines
    it, and materialising only copied every row (1M rows, all measures: the rule statements
    15 % faster without the hint; `qualification.st_sme` 0.51 → 0.47 s).
    """
    return step.prefix_with("MATERIALIZED", dialect="sqlite").prefix_with(
        "MATERIALIZED", dialect="postgresql"
    )


def _with_tables(
    rule: Rule, facts: FactDictionary, on: date, source: TableClause, formulas: FormulaCompiler
) -> tuple[CTE, FormulaCompiler]:
    """`source` plus one column per decision table, and a compiler that reads those columns.

    Each table is then computed once per row. Inlined at every reference (a score inside max()
    inside a comparison, each side repeated by the unknown-aware forms), one rule's statement
    grew to 62 KB and was most of an all-measures screening.
    """
    labels = {name: f"t{i}" for i, name in enumerate(rule.tables)}
    values = [formulas.table(t).label(labels[name]) for name, t in rule.tables.items()]
    tabled = _materialized(select(*source.c, *values).cte("tables"))
    reading = _formulas(
        rule,
        facts,
        on,
        lambda qualified: tabled.c[sql_column(qualified)],
        {name: tabled.c[label] for name, label in labels.items()},
    )
    return tabled, reading


def _formulas(
    rule: Rule,
    facts: FactDictionary,
    on: date,
    fact_column: Callable[[str], SqlExpr],
    table_values: Mapping[str, SqlExpr] | None = None,
) -> FormulaCompiler:
    return FormulaCompiler(
        facts,
        fact_column,
        on,
        {name: p.value for name, p in rule.parameters.items()},
        rule.tables,
        table_values,
    )


def _benefit(spec: BenefitSpec, formulas: FormulaCompiler) -> SqlExpr:
    amount = _checked(f"benefit {spec.name}", lambda: formulas.compile(spec.expr))
    return RoundHalfUp(amount, MONEY_DIGITS) if spec.type == "money" else amount


def _checked(where: str, build: Any) -> SqlExpr:
    try:
        result: SqlExpr = build()
    except NotCompilable as exc:
        raise NotCompilable(f"{where}: {exc}") from exc
    return result


def _leaf(leaf: Leaf, formulas: FormulaCompiler) -> SqlExpr:
    def build() -> SqlExpr:
        operand = leaf.operand
        if leaf.op == "in":
            assert isinstance(operand, tuple)
            return formulas.compile(leaf.subject).in_([formulas.compile(item) for item in operand])
        if leaf.op == "between":
            assert isinstance(operand, tuple)
            low, high = operand
            return and_(formulas.compare(">=", leaf.subject, low), formulas.compare("<=", leaf.subject, high))
        assert not isinstance(operand, tuple)
        if leaf.op == "is":
            return formulas.compile(leaf.subject) == formulas.compile(operand)
        return formulas.compare(leaf.op, leaf.subject, operand)

    def build_refined() -> SqlExpr:
        plain = build()
        return refined_leaf(leaf, formulas, plain) if refines(leaf, formulas.facts) else plain

    return _checked(f"criterion {leaf.id}", build_refined)


def _tree(node: Node, leaf_column: Any) -> SqlExpr:
    if isinstance(node, Leaf):
        result: SqlExpr = leaf_column(node)
        return result
    if isinstance(node, Not):
        return not_(_tree(node.child, leaf_column))
    if isinstance(node, AllOf):
        return and_(*[_tree(c, leaf_column) for c in node.children])
    if isinstance(node, AnyOf):
        return or_(*[_tree(c, leaf_column) for c in node.children])
    raise NotCompilable(f"criteria node {type(node).__name__} has no SQL form")


def _rule_formulas(rule: Rule) -> list[Expr]:
    found: list[Expr] = []
    for leaf in leaves(rule.criteria):
        found.append(leaf.subject)
        found += list(leaf.operand) if isinstance(leaf.operand, tuple) else [leaf.operand]
    found += [t.input for t in rule.tables.values()]
    found += [b.expr for b in rule.benefit.values()]
    return found


def _inlined(expr: Expr, facts: FactDictionary) -> list[Expr]:
    """Every node of `expr` with derived facts expanded, as the SQL sees it."""
    nodes: list[Expr] = []
    for node in walk(expr):
        nodes.append(node)
        if isinstance(node, FactRef):
            spec = facts.get(node.qualified)
            if spec is not None and spec.formula is not None:
                nodes += _inlined(spec.formula, facts)
    return nodes


def _supplied_facts(rule: Rule, facts: FactDictionary) -> list[str]:
    needed: list[str] = []
    for expr in _rule_formulas(rule):
        for node in walk(expr):
            if not isinstance(node, FactRef):
                continue
            if facts.get(node.qualified) is None:
                raise NotCompilable(f"unknown fact {node.qualified}")
            needed += [q for q in facts.base_facts(node.qualified) if q not in needed]
    return needed
