"""Property: on random facts (with NULLs), SQL and the scalar evaluator agree on every measure.

Outcome, every criterion's verdict and every benefit amount must match, on SQLite, DuckDB and
PostgreSQL, for the fixture pack (which exercises every construct) and for the real pack.
Each example is a batch of rows so one load and one query per measure cover many cases.
"""

from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection

from portal.rules import Pack
from portal.rules.batch.columns import sql_column
from portal.rules.batch.compiler import OUTCOME, ROW_KEY, CompiledRule, compile_rule
from portal.rules.explain import relevant
from portal.rules.facts import FactSpec
from portal.screening.engines import load_facts, run_rule
from portal.screening.explain import explaining_ids
from portal.screening.inputs import ARROW_TYPES

DATES = [date(2026, 6, 30), date(2025, 10, 1)]
# Amounts that sit on the pack's band edges and caps, so the threshold cases are common.
MONEY_EDGES = [
    Decimal(v) for v in ("0", "5000000", "10000000", "20000000", "30000000", "50000000", "200000000")
]


def _money() -> st.SearchStrategy[Decimal]:
    return st.one_of(
        st.sampled_from(MONEY_EDGES),
        st.decimals(min_value=0, max_value=300_000_000, places=2, allow_nan=False, allow_infinity=False),
        st.integers(min_value=0, max_value=1000).map(lambda n: Decimal(n) * 100_000),
    )


def _value(spec: FactSpec) -> st.SearchStrategy[Any]:
    kind = spec.type
    if kind == "bool":
        return st.booleans()
    if kind == "int":
        return st.one_of(st.integers(min_value=0, max_value=120), st.integers(min_value=0, max_value=5000))
    if kind == "money":
        return _money()
    if kind == "ratio":
        return st.decimals(min_value=0, max_value=1, places=4, allow_nan=False, allow_infinity=False)
    if kind == "date":
        anniversaries = st.sampled_from([d.replace(year=d.year - n) for d in DATES for n in (0, 1, 2, 5)])
        return st.one_of(anniversaries, st.dates(min_value=date(2000, 1, 1), max_value=date(2027, 12, 31)))
    if kind == "enum":
        return st.sampled_from(spec.values)
    return st.sampled_from(["914401040000000011", "x"])


def _rows(specs: list[FactSpec], size: int) -> st.SearchStrategy[list[dict[str, Any]]]:
    row = st.fixed_dictionaries({s.qualified: st.one_of(st.none(), _value(s), _value(s)) for s in specs})
    return st.lists(row, min_size=1, max_size=size)


def _table(specs: list[FactSpec], rows: list[dict[str, Any]]) -> pa.Table:
    columns = {ROW_KEY: pa.array(range(1, len(rows) + 1), pa.int64())}
    for spec in specs:
        columns[sql_column(spec.qualified)] = pa.array(
            [r[spec.qualified] for r in rows], ARROW_TYPES[spec.type]
        )
    return pa.table(columns)


def _scalar_facts(row: dict[str, Any]) -> dict[str, dict[str, object]]:
    facts: dict[str, dict[str, object]] = {}
    for qualified, value in row.items():
        entity, name = qualified.split(".", 1)
        if value is not None:
            facts.setdefault(entity, {})[name] = value
    return facts


VERDICT = {True: "pass", False: "fail", None: "unknown"}


def _check_agreement(
    conn: Connection, pack: Pack, compiled: list[CompiledRule], rows: list[dict[str, Any]]
) -> None:
    specs = [s for s in pack.facts.specs.values() if not s.derived]
    load_facts(conn, _table(specs, rows))
    for item in compiled:
        results = run_rule(conn, item)
        verdicts = {leaf: results.column(label).combine_chunks() for leaf, label in item.criteria}
        failed, unknown = (ids.to_pylist() for ids in explaining_ids(item.rule.criteria, verdicts))
        for i, (row, got) in enumerate(zip(rows, results.to_pylist(), strict=True)):
            want = item.rule.evaluate(_scalar_facts(row), item.on, trace=True)
            where = f"{item.rule.id} on {row}"
            assert got[OUTCOME] == want.outcome.value, where
            verdicts = {c.id: c.outcome.value for c in want.criteria}
            assert {leaf: VERDICT[got[label]] for leaf, label in item.criteria} == verdicts, where
            amounts = {name: Decimal(got[label]) for name, label in item.benefits if got[label] is not None}
            assert amounts == want.benefit, where
            records = {c.id: c for c in want.criteria}
            reasons = list(relevant(item.rule.criteria, records))
            want_failed = [
                r.id for r, negated in reasons if r.outcome.value == ("pass" if negated else "fail")
            ]
            want_unknown = [r.id for r, _ in reasons if r.outcome.value == "unknown"]
            assert (failed[i].split(";") if failed[i] else []) == _unique(want_failed), where
            assert (unknown[i].split(";") if unknown[i] else []) == _unique(want_unknown), where
            # What a run's reason counts rely on: only ineligible rows name failed criteria,
            # only undetermined rows unknown ones.
            assert bool(failed[i]) == (got[OUTCOME] == "ineligible"), where
            assert bool(unknown[i]) == (got[OUTCOME] == "undetermined"), where


def _unique(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def _compiled(pack: Pack) -> list[CompiledRule]:
    chosen = []
    for on in DATES:
        for measure in pack.measure_ids():
            rule = pack.select(measure, on)
            if rule is not None:
                chosen.append(compile_rule(rule, pack.facts, on))
    return chosen


# The real pack has ~25 measures per date, so it gets fewer but larger batches: each example
# costs one query per measure, and DuckDB plans every query afresh.
@pytest.mark.parametrize(("pack_name", "examples", "batch"), [("fixture_pack", 30, 12), ("real_pack", 8, 30)])
def test_sql_matches_scalar(
    connection: Connection, pack_name: str, examples: int, batch: int, request: pytest.FixtureRequest
) -> None:
    pack: Pack = request.getfixturevalue(pack_name)
    compiled = _compiled(pack)
    assert compiled, "the pack has no measure in force on the test dates"
    specs = [s for s in pack.facts.specs.values() if not s.derived]

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(rows=_rows(specs, batch))
    def agree(rows: list[dict[str, Any]]) -> None:
        _check_agreement(connection, pack, compiled, rows)

    agree()


# Rows where the known facts settle a criterion although some of its facts are missing
# (fixture.partial): the SQL path must settle it the same way, on every engine.
PARTIAL_ROWS: list[tuple[dict[str, Any], dict[str, str]]] = [
    # R&D share 6%: rd_points is 50, the ceiling of staff_points, so max() is known; min() is not.
    (
        {"enterprise.rd_expense": Decimal(600), "enterprise.revenue": Decimal(10000)},
        {"best": "pass", "worst": "unknown"},
    ),
    # A known score of 61 already exceeds 60; employees and rd_points cannot be negative.
    ({"enterprise.score": 61}, {"sum": "pass", "absolute": "unknown"}),
    # min(9M, cap) is the 5M cap; the R&D expense only adds to it.
    ({"enterprise.revenue": Decimal(9000000)}, {"capped": "pass"}),
    # R&D share 2%: rd_points 0 is the floor of staff_points, so min() is known; a share of 2%
    # is below every band of the table, whichever the revenue.
    (
        {"enterprise.rd_expense": Decimal(2), "enterprise.revenue": Decimal(100)},
        {"worst": "pass", "banded": "fail"},
    ),
    # Score unknown: -round(score / 2) + 20 is at most 20.
    ({"enterprise.st_staff": 2, "enterprise.employees": 10}, {"negated": "pass", "product": "unknown"}),
    # A revenue of 0 and an unknown R&D expense: revenue - 2 * rd is at most 0.
    ({"enterprise.revenue": Decimal(0)}, {"difference": "pass"}),
    # Nothing known: nothing settled.
    ({}, {"best": "unknown", "sum": "unknown", "capped": "unknown", "chosen": "unknown"}),
]


def test_partial_knowledge_agrees(connection: Connection, fixture_pack: Pack) -> None:
    specs = [s for s in fixture_pack.facts.specs.values() if not s.derived]
    rows = [{s.qualified: known.get(s.qualified) for s in specs} for known, _ in PARTIAL_ROWS]
    on = DATES[0]
    rule = fixture_pack.select("fixture.partial", on)
    assert rule is not None
    _check_agreement(connection, fixture_pack, [compile_rule(rule, fixture_pack.facts, on)], rows)
    for row, (_, wanted) in zip(rows, PARTIAL_ROWS, strict=True):
        got = {c.id: c.outcome.value for c in rule.evaluate(_scalar_facts(row), on).criteria}
        assert {leaf: got[leaf] for leaf in wanted} == wanted, row
