"""Property: the fast `Result.to_json` equals a plain reference built from the public trace.

The published JSON is built straight from the recorded trace, with hints from a compiled
explanation plan and numbers laid out without Babel's pattern parser. The reference here is
the obvious construction: one `CriterionResult.to_json()`-shaped entry per trace record, and
hints from a verdict recomputed at every level of the tree. They must agree on the facts the
SQL/scalar agreement test generates, for the fixture pack (every construct) and the real pack.
"""

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from portal.rules import Pack
from portal.rules.criteria import AllOf, AnyOf, Leaf, Node, Not, leaves
from portal.rules.explain import _provide, _undecidable, failure_hint, potential_hint
from portal.rules.result import CriterionResult, Outcome, Result, Verdict
from tests.batch.test_batch_property import DATES, _rows, _scalar_facts

FLIP = {Verdict.PASS: Verdict.FAIL, Verdict.FAIL: Verdict.PASS, Verdict.UNKNOWN: Verdict.UNKNOWN}


def _verdict(node: Node, records: dict[str, CriterionResult]) -> Verdict:
    if isinstance(node, Leaf):
        return records[node.id].outcome
    if isinstance(node, Not):
        return FLIP[_verdict(node.child, records)]
    assert isinstance(node, AllOf | AnyOf)
    found = [_verdict(c, records) for c in node.children]
    decisive = Verdict.FAIL if isinstance(node, AllOf) else Verdict.PASS
    if decisive in found:
        return decisive
    if Verdict.UNKNOWN in found:
        return Verdict.UNKNOWN
    return Verdict.PASS if isinstance(node, AllOf) else Verdict.FAIL


def _relevant(node: Node, records: dict[str, CriterionResult], negated: bool = False) -> list[Any]:
    verdict = _verdict(node, records)
    if verdict is Verdict.PASS:
        return []
    if isinstance(node, Leaf):
        return [(records[node.id], negated)]
    if isinstance(node, Not):
        if verdict is Verdict.UNKNOWN:
            return _relevant(node.child, records, not negated)
        return [
            (records[x.id], not negated) for x in leaves(node.child) if records[x.id].outcome is Verdict.PASS
        ]
    assert isinstance(node, AllOf | AnyOf)
    found = []
    for child in node.children:
        if _verdict(child, records) is verdict or (isinstance(node, AnyOf) and verdict is Verdict.FAIL):
            found += _relevant(child, records, negated)
    return found


def _reference_hints(result: Result, lang: str) -> list[str]:
    compiled = result._compiled
    assert compiled is not None
    records = {r.id: r for r in result.criteria}
    hints: list[str] = []
    named: set[str] = set()
    for record, negated in _relevant(compiled.rule.criteria, records) if records else []:
        if record.outcome is Verdict.UNKNOWN:
            fresh = [f for f in record.missing if f not in named]
            named.update(fresh)
            hints += [_provide(compiled, f, lang) for f in fresh]
            if not record.missing:
                hints.append(_undecidable(record, lang))
        elif negated:
            hints.append(
                f"不应满足：{record.message.zh}" if lang == "zh" else f"Must not hold: {record.message.en}"
            )
        else:
            hints.append(failure_hint(record, lang))
    for name in result.missing_facts:
        if name not in named:
            named.add(name)
            hints.append(_provide(compiled, name, lang))
    if result.potential_benefit and result.missing_facts:
        hints.append(potential_hint(result, compiled, lang))
    return hints


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value.isoformat() if hasattr(value, "isoformat") else value


def _reference(result: Result, lang: str) -> dict[str, object]:
    return {
        "measure": result.measure,
        "version": result.version,
        "category": result.category,
        "outcome": result.outcome.value,
        "rule_hash": result.rule_hash,
        "benefit": {k: str(v) for k, v in result.benefit.items()},
        "criteria": [
            {
                "id": c.id,
                "fact": c.fact,
                "value": _plain(c.value),
                "expected": {"op": c.op, "value": _plain(c.expected)},
                "outcome": c.outcome.value,
                "message": {"zh": c.message.zh, "en": c.message.en},
                "source": c.source.zh,
                "source_en": c.source.en,
            }
            for c in result.criteria
        ],
        "missing_facts": list(result.missing_facts),
        "hints": _reference_hints(result, lang),
        "potential_benefit": {k: str(v) for k, v in result.potential_benefit.items()},
        "potential_benefit_up_to": list(result.potential_up_to),
    }


@pytest.mark.parametrize(("pack_name", "examples"), [("fixture_pack", 40), ("real_pack", 15)])
def test_json_matches_reference(pack_name: str, examples: int, request: pytest.FixtureRequest) -> None:
    pack: Pack = request.getfixturevalue(pack_name)
    rules = [r for on in DATES for m in pack.measure_ids() if (r := pack.select(m, on)) is not None]
    specs = [s for s in pack.facts.specs.values() if not s.derived]
    seen: set[Outcome] = set()

    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(rows=_rows(specs, 10))
    def check(rows: list[dict[str, Any]]) -> None:
        for row in rows:
            facts = _scalar_facts(row)
            for rule in rules:
                for on in DATES:
                    for lang in ("zh", "en"):
                        fast = rule.evaluate(facts, on, trace=True)
                        seen.add(fast.outcome)
                        slow = rule.evaluate(facts, on, trace=True)
                        assert fast.to_json(lang) == _reference(slow, lang), (rule.id, on, row)

    check()
    assert {Outcome.ELIGIBLE, Outcome.INELIGIBLE, Outcome.UNDETERMINED} <= seen
