"""Kleene three-valued logic: truth tables, and the compiled evaluator against a naive reference."""

from datetime import date
from decimal import Decimal
from itertools import product
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.rules.criteria import AllOf, AnyOf, Leaf, Node, Not
from portal.rules.evaluate import CompiledRule
from portal.rules.facts import FactDictionary, FactSpec
from portal.rules.formula import FactRef, Num
from portal.rules.model import Rule, Source
from portal.rules.result import Outcome
from portal.rules.text import Text

ON = date(2026, 1, 1)
FACTS = FactDictionary(
    Path("facts.yaml"),
    {
        f"enterprise.f{i}": FactSpec("enterprise", f"f{i}", "int", "count", Text(f"f{i}", f"f{i}"))
        for i in range(4)
    },
)
T, F, U = True, False, None


def rule_with(tree: Node) -> CompiledRule:
    rule = Rule(
        id="test.logic",
        version="1",
        title=Text("t", "t"),
        category="subsidy",
        applies_to="enterprise",
        workflow="municipal",
        lead_unit=None,
        auto_grant=False,
        effective_from=date(2000, 1, 1),
        effective_to=None,
        source=Source("doc", "art", None, None, None),
        parameters={},
        tables={},
        criteria=tree,
        benefit={},
        examples=[],
        rule_hash="0" * 64,
        path=Path("test.yaml"),
    )
    return CompiledRule(rule, FACTS)


def leaf(i: int, n: int = 0) -> Leaf:
    """f{i} >= 1, with a distinct id per occurrence."""
    return Leaf(f"l{i}_{n}", f"enterprise.f{i}", FactRef(f"enterprise.f{i}"), ">=", Num(1), None, 0)


def facts_for(values: tuple[bool | None, ...]) -> dict[str, dict[str, object]]:
    return {"enterprise": {f"f{i}": (1 if v else 0) for i, v in enumerate(values) if v is not None}}


OUTCOME = {T: Outcome.ELIGIBLE, F: Outcome.INELIGIBLE, U: Outcome.UNDETERMINED}
AND = {(T, T): T, (T, F): F, (T, U): U, (F, T): F, (F, F): F, (F, U): F, (U, T): U, (U, F): F, (U, U): U}
OR = {(T, T): T, (T, F): T, (T, U): T, (F, T): T, (F, F): F, (F, U): U, (U, T): T, (U, F): U, (U, U): U}
NOT = {T: F, F: T, U: U}


def test_truth_tables() -> None:
    conj, disj, neg = (
        rule_with(AllOf((leaf(0), leaf(1)), 0)),
        rule_with(AnyOf((leaf(0), leaf(1)), 0)),
        rule_with(Not(leaf(0), 0)),
    )
    for a, b in product((T, F, U), repeat=2):
        facts = facts_for((a, b))
        for trace in (True, False):
            assert conj.evaluate(facts, ON, trace).outcome is OUTCOME[AND[a, b]], (a, b)
            assert disj.evaluate(facts, ON, trace).outcome is OUTCOME[OR[a, b]], (a, b)
    for a in (T, F, U):
        assert neg.evaluate(facts_for((a,)), ON).outcome is OUTCOME[NOT[a]]


def reference(node: Node, values: tuple[bool | None, ...]) -> bool | None:
    """The definition, written as plainly as possible."""
    if isinstance(node, Leaf):
        return values[int(node.id[1])]
    if isinstance(node, Not):
        inner = reference(node.child, values)
        return None if inner is None else not inner
    results = [reference(c, values) for c in node.children]  # type: ignore[attr-defined]
    if isinstance(node, AllOf):
        return False if False in results else None if None in results else True
    return True if True in results else None if None in results else False


def trees() -> st.SearchStrategy[Node]:
    counter = iter(range(10**9))
    leaves = st.integers(0, 3).map(lambda i: leaf(i, next(counter)))
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, min_size=1, max_size=4).map(lambda cs: AllOf(tuple(cs), 0)),
            st.lists(children, min_size=1, max_size=4).map(lambda cs: AnyOf(tuple(cs), 0)),
            children.map(lambda c: Not(c, 0)),
        ),
        max_leaves=12,
    )


@settings(max_examples=300, deadline=None)
@given(tree=trees(), values=st.tuples(*[st.sampled_from((T, F, U))] * 4))
def test_compiled_evaluator_agrees_with_reference(tree: Node, values: tuple[bool | None, ...]) -> None:
    compiled = rule_with(tree)
    expected = OUTCOME[reference(tree, values)]
    facts = facts_for(values)
    traced = compiled.evaluate(facts, ON, trace=True)
    assert traced.outcome is expected
    assert compiled.evaluate(facts, ON, trace=False).outcome is expected
    if expected is Outcome.UNDETERMINED:
        # Every fact named as missing really is missing.
        assert traced.missing_facts
        assert all(values[int(f[-1])] is None for f in traced.missing_facts)
    else:
        assert traced.missing_facts == []


def test_decimal_formulas_are_exact() -> None:
    from portal.rules.formula import compile_expr, parse_formula

    def value(text: str, **facts: object) -> object:
        return compile_expr(parse_formula(text), lambda ref: FACTS.reader(ref.qualified))(  # type: ignore[attr-defined]
            {"enterprise": facts}, ON
        )

    assert value("0.1 + 0.2") == Decimal("0.3")
    assert value("round(2.5)") == Decimal("3") and value("round(0.125, 2)") == Decimal("0.13")
    assert value("round(-2.5)") == Decimal("-3")
    assert value("enterprise.f0 / enterprise.f1", f0=1, f1=0) is None  # division by zero is unknown
    assert value("max(enterprise.f0, 3)", f0=None) is None
    assert value("1 if enterprise.f0 >= 2 else 2", f0=5) == 1
    assert value("10_000_000 * 0.5") == Decimal("5000000.0")
