"""The evaluator's specialised closures agree with a plain reading of the rule, on every pack rule.

The evaluator compiles common shapes (a supplied fact, a share of two facts, years since a date,
a banded table, whole-number bounds against Decimal values) into closures of their own and
records traces lazily. The reference here reads the same IR naively: formulas through the
general formula closures, tables row by row, Kleene logic written out. Random facts include
missing facts, absent entities, zero denominators and the band edges.
"""

import operator
from collections.abc import Callable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.rules import Outcome, Pack, Rule, Verdict, load_pack
from portal.rules.bounds import refines
from portal.rules.criteria import AllOf, AnyOf, Condition, Leaf, Node, Not, Table
from portal.rules.formula import Closure, Expr, FactRef, ParamRef, TableRef, compile_expr, constant_value

REPO_PACK = Path(__file__).resolve().parents[2] / "rules"
FIXTURE_PACK = Path(__file__).parent / "fixtures" / "pack"
Facts = dict[str, dict[str, Any]]
OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
MONEY_EDGES = [0, 1, 1000, 49_999_999.99, 50_000_000, 50_000_000.01, 200_000_000, 10_000_000, 30_000_000]


def _reference_table(table: Table, resolve: "Resolver") -> Closure:
    """A table row by row: every condition of a row must hold; no hit is unknown (or 0 for collect)."""
    read = compile_expr(table.input, resolve)

    def matches(value: Any, row_when: tuple[Condition, ...]) -> bool:
        for cond in row_when:
            if cond.op == "in":
                if value not in cond.value:  # type: ignore[operator]
                    return False
            elif not OPS[cond.op](value, cond.value):
                return False
        return True

    def lookup(facts: Mapping[str, Mapping[str, object]], on: date) -> object:
        value: Any = read(facts, on)
        if value is None:
            return None
        hits = [row.then for row in table.rows if matches(value, row.when)]
        if table.hit == "collect":
            folds: dict[str, Callable[[list[Any]], Any]] = {"sum": sum, "max": max, "min": min, "count": len}
            return folds[table.aggregate or "sum"](hits) if hits else 0
        return hits[0] if hits else None

    return lookup


class Resolver:
    """Formula references the slow, obvious way."""

    def __init__(self, pack: Pack, rule: Rule) -> None:
        self.pack, self.rule = pack, rule

    def __call__(self, ref: Expr) -> Closure:
        if isinstance(ref, FactRef):
            spec = self.pack.facts.get(ref.qualified)
            assert spec is not None
            if spec.formula is not None:
                return compile_expr(spec.formula, self)
            entity, name = spec.entity, spec.name
            return lambda facts, on: (facts.get(entity) or {}).get(name)
        if isinstance(ref, ParamRef):
            value = self.rule.parameters[ref.name].value
            return lambda facts, on: value
        assert isinstance(ref, TableRef)
        return _reference_table(self.rule.tables[ref.name], self)


def reference_leaf(leaf: Leaf, resolve: Resolver, facts: Facts, on: date) -> tuple[Any, Any, bool | None]:
    value: Any = compile_expr(leaf.subject, resolve)(facts, on)
    if isinstance(leaf.operand, tuple):
        parts = tuple(compile_expr(item, resolve)(facts, on) for item in leaf.operand)
        expected: Any = None if None in parts else parts
    else:
        expected = compile_expr(leaf.operand, resolve)(facts, on)
    if value is None or expected is None:
        return value, expected, None
    if leaf.op == "in":
        return value, expected, value in expected
    if leaf.op == "between":
        low, high = expected
        return value, expected, low <= value <= high
    if leaf.op == "is":
        return value, expected, value is expected
    return value, expected, OPS[leaf.op](value, expected)


def reference_verdict(node: Node, verdicts: dict[str, bool | None]) -> bool | None:
    if isinstance(node, Leaf):
        return verdicts[node.id]
    if isinstance(node, Not):
        inner = reference_verdict(node.child, verdicts)
        return None if inner is None else not inner
    assert isinstance(node, AllOf | AnyOf)
    results = [reference_verdict(child, verdicts) for child in node.children]
    if isinstance(node, AllOf):
        return False if False in results else None if None in results else True
    return True if True in results else None if None in results else False


def _value(kind: str, values: tuple[str, ...]) -> st.SearchStrategy[object]:
    if kind == "money":
        return st.one_of(
            st.sampled_from(MONEY_EDGES).map(lambda v: Decimal(str(v))),
            st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
        )
    if kind == "ratio":
        return st.decimals(min_value=0, max_value=1, places=4, allow_nan=False, allow_infinity=False)
    if kind == "int":
        return st.integers(0, 300)
    if kind == "bool":
        return st.booleans()
    if kind == "date":
        return st.dates(date(2000, 1, 1), date(2027, 12, 31))
    if kind == "enum":
        return st.sampled_from(values)
    return st.text(max_size=5)


def facts_strategy(pack: Pack) -> st.SearchStrategy[Facts]:
    entities: dict[str, st.SearchStrategy[Any]] = {}
    for entity in sorted({spec.entity for spec in pack.facts.specs.values()}):
        supplied = [s for s in pack.facts.entity_facts(entity) if not s.derived]
        fields = {s.name: st.one_of(st.none(), _value(s.type, s.values)) for s in supplied}
        entity_values = st.fixed_dictionaries(fields).map(
            lambda d: {k: v for k, v in d.items() if v is not None}
        )
        entities[entity] = st.one_of(st.none(), entity_values)
    return st.fixed_dictionaries(entities).map(lambda d: {k: v for k, v in d.items() if v is not None})


PACKS = {"fixture": load_pack(FIXTURE_PACK), "repository": load_pack(REPO_PACK)}
OUTCOME = {True: Outcome.ELIGIBLE, False: Outcome.INELIGIBLE, None: Outcome.UNDETERMINED}
VERDICT = {True: Verdict.PASS, False: Verdict.FAIL, None: Verdict.UNKNOWN}


@pytest.mark.parametrize("pack_name", sorted(PACKS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), on=st.dates(date(2016, 1, 1), date(2027, 12, 31)))
def test_evaluator_agrees_with_a_plain_reading(pack_name: str, data: st.DataObject, on: date) -> None:
    pack = PACKS[pack_name]
    facts = data.draw(facts_strategy(pack))
    for rule in pack.rules:
        if not rule.in_force(on):
            continue
        resolve = Resolver(pack, rule)
        leaves = {}
        for leaf in rule.compiled.leaves:  # type: ignore[union-attr]
            value, expected, plain = reference_leaf(leaf, resolve, facts, on)
            if plain is None and refines(leaf, pack.facts):
                # Partial knowledge (portal.rules.bounds) has its own tests, and the SQL path's
                # agreement test; here it only has to be applied after the plain reading.
                plain = rule.compiled.bounds.leaf(leaf)(facts, on)  # type: ignore[union-attr]
            leaves[leaf.id] = (value, expected, plain)
        verdict = reference_verdict(rule.criteria, {k: v[2] for k, v in leaves.items()})
        traced, fast = rule.evaluate(facts, on, trace=True), rule.evaluate(facts, on, trace=False)
        where = f"{rule.id} {rule.version} on {on} with {facts}"
        assert traced.outcome is OUTCOME[verdict], where
        assert fast.outcome is OUTCOME[verdict], where
        assert fast.missing_facts == traced.missing_facts, where
        assert [(c.id, c.value, c.expected, c.outcome) for c in traced.criteria] == [
            (leaf_id, value, expected, VERDICT[v]) for leaf_id, (value, expected, v) in leaves.items()
        ], where
        assert fast.criteria == [], where
        if verdict is True:
            assert traced.benefit == fast.benefit == _reference_benefit(rule, resolve, facts, on), where


def _reference_benefit(rule: Rule, resolve: Resolver, facts: Facts, on: date) -> dict[str, Decimal]:
    found = {}
    for spec in rule.benefit.values():
        is_const, value = constant_value(spec.expr)
        amount: Any = value if is_const else compile_expr(spec.expr, resolve)(facts, on)
        if amount is None:
            continue
        amount = Decimal(amount)
        found[spec.name] = amount.quantize(Decimal("0.01"), ROUND_HALF_UP) if spec.type == "money" else amount
    return found


def test_the_trace_is_built_once_and_only_when_read() -> None:
    pack = PACKS["fixture"]
    facts = pack.facts.parse(
        {"enterprise": {"registered_on": "2020-01-01", "employees": 10, "st_staff": 0, "core_ip": True}}
    )
    result = pack.evaluate("tax.high_tech_enterprise", facts, date(2026, 6, 1))
    first = result.criteria
    assert result.criteria is first
    assert [c.outcome for c in first if c.id == "st_staff"] == [Verdict.FAIL]
    assert result.outcome is Outcome.INELIGIBLE
