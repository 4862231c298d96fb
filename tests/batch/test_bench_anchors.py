"""The benchmark's anchors compute the rule they are timed against.

`make bench` compares the portal with zen-engine, hand-written DuckDB SQL and polars on
`tax.high_tech_enterprise`, and stops when they disagree on the eligible count. A change to the
rule that the anchors do not follow (the certificate criterion of ed4fb1f went unnoticed until
the next bench run) fails here instead, with the suite. Nothing is timed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from portal.rules import load_pack

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import gen_enterprises  # bench/, put on the path just above
import perf
import zen_hightech


def test_every_anchor_counts_the_rules_eligible_enterprises(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import zen

    pack = load_pack(perf.ROOT / "rules")
    rule = pack.select(perf.MEASURE, perf.ON)
    assert rule is not None
    table = gen_enterprises.generate(800)
    source = tmp_path / "enterprises.parquet"
    gen_enterprises.write(table, source)
    known = {s.name for s in pack.facts.entity_facts("enterprise") if not s.derived}
    records = table.to_pylist()
    ours = sum(
        rule.evaluate(
            pack.facts.parse({"enterprise": {k: v for k, v in r.items() if k in known}}), perf.ON
        ).outcome.value
        == "eligible"
        for r in records
    )
    engine = zen.ZenEngine({"loader": zen_hightech.loader})
    contexts = (
        json.dumps({k: perf._zen_json(v) for k, v in r.items() if v is not None and k != "row_id"})
        for r in records
    )
    by_zen = sum(bool(engine.evaluate("high_tech.json", c)["result"]["eligible"]) for c in contexts)
    perf.anchor_duckdb(source, tmp_path / "anchor.parquet")
    by_sql = int(capsys.readouterr().out.split()[-1])
    by_polars = perf.anchor_polars(source)
    assert 0 < ours < len(records)  # both outcomes occur, so a dropped criterion would show
    assert (by_zen, by_sql, by_polars) == (ours, ours, ours)
