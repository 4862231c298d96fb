"""Batch screening benchmarks against the anchors of issue 7, measured in one run.

    python bench/batch_bench.py --rows 100000
    python bench/batch_bench.py --rows 1000000

Per record (on at most 100k enterprises): hand-written Python (the floor), the scalar evaluator
with and without its trace, zen-engine (JDM: decision table + expression node, through
`ZenEngine.evaluate` with a loader) with and without its trace.
In SQL (on all rows, each engine in its own process so its peak memory is its own): the
tax.high_tech_enterprise query and all enterprise measures on SQLite, DuckDB and PostgreSQL.
Every engine must report the same number of eligible enterprises, or the run fails.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import gen_enterprises
import pyarrow.parquet as pq
import zen
import zen_hightech

from portal.rules import load_pack
from portal.rules.batch.compiler import OUTCOME, compile_rule
from portal.screening.engines import load_facts, open_engine, run_rule
from portal.screening.inputs import read_input
from portal.settings import default_pack_dir

ON = gen_enterprises.EVALUATION_DATE
MEASURE = "tax.high_tech_enterprise"
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
ROOT = Path(__file__).resolve().parent.parent


def dataset(rows: int) -> Path:
    path = ROOT / "var" / "bench" / f"enterprises_{rows}_{gen_enterprises.SEED}.parquet"
    if not path.exists():
        gen_enterprises.write(gen_enterprises.generate(rows), path)
    return path


# --- per record ------------------------------------------------------------------------------


def hand_written(e: dict[str, Any], on: date) -> bool:
    """The high-tech rule as a programmer would write it by hand: the speed floor."""
    try:
        reg = e["registered_on"]
        if on.year - reg.year - ((on.month, on.day) < (reg.month, reg.day)) < 1:
            return False
        if e["core_ip"] is not True or e["tech_in_key_fields"] is not True:
            return False
        if e["st_staff"] * 10 < e["employees"] or e["employees"] <= 0:
            return False
        revenue = e["revenue"]
        band = (
            Decimal("0.05")
            if revenue <= 50_000_000
            else Decimal("0.04")
            if revenue <= 200_000_000
            else Decimal("0.03")
        )
        if e["revenue_3y"] <= 0 or e["rd_expense_3y"] < band * e["revenue_3y"]:
            return False
        if e["rd_expense_3y"] <= 0 or e["rd_expense_domestic_3y"] < Decimal("0.6") * e["rd_expense_3y"]:
            return False
        if revenue <= 0 or e["hightech_revenue"] < Decimal("0.6") * revenue:
            return False
        return bool(e["innovation_score"] >= 71 and e["major_violation_last_year"] is False)
    except KeyError:
        return False


def per_record(path: Path, limit: int) -> list[tuple[str, float, int]]:
    pack = load_pack(default_pack_dir() / "rules")
    rule = pack.select(MEASURE, ON)
    assert rule is not None
    rows = pq.read_table(path).slice(0, limit).to_pylist()
    enterprises = [{k: v for k, v in r.items() if v is not None and k != "row_id"} for r in rows]
    facts = [{"enterprise": e} for e in enterprises]
    contexts = [json.dumps({k: _json(v) for k, v in e.items()}) for e in enterprises]
    engine = zen.ZenEngine({"loader": zen_hightech.loader})
    engine.evaluate("high_tech.json", contexts[0])  # load and compile the decision once

    def timed(name: str, run: Callable[[], int]) -> tuple[str, float, int]:
        start = time.perf_counter()
        eligible = run()
        return name, (time.perf_counter() - start) / len(rows) * 1e6, eligible

    return [
        timed("hand-written Python", lambda: sum(hand_written(e, ON) for e in enterprises)),
        timed(
            "scalar, no trace",
            lambda: sum(rule.evaluate(f, ON, trace=False).outcome == "eligible" for f in facts),
        ),
        timed(
            "scalar, trace",
            lambda: sum(rule.evaluate(f, ON, trace=True).outcome == "eligible" for f in facts),
        ),
        timed(
            "zen-engine",
            lambda: sum(engine.evaluate("high_tech.json", c)["result"]["eligible"] for c in contexts),
        ),
        timed(
            "zen-engine, trace",
            lambda: sum(
                engine.evaluate("high_tech.json", c, {"trace": True})["result"]["eligible"] for c in contexts
            ),
        ),
    ]


def _json(value: object) -> object:
    # Decimals as JSON numbers written from their exact text (zen reads numbers as decimals).
    if isinstance(value, Decimal):
        return json.loads(format(value, "f"))
    if isinstance(value, date):
        return value.isoformat()
    return value


# --- SQL (one process per engine) ------------------------------------------------------------


def sql_worker(engine_name: str, path: Path, url: str | None) -> dict[str, Any]:
    pack = load_pack(default_pack_dir() / "rules")
    rules = [
        r
        for r in (pack.select(m, ON) for m in pack.measure_ids())
        if r is not None and r.applies_to == "enterprise"
    ]
    compiled = [compile_rule(r, pack.facts, ON) for r in rules]
    high_tech = next(c for c in compiled if c.rule.id == MEASURE)
    columns = [s for s in pack.facts.specs.values() if not s.derived]
    start = time.perf_counter()
    data = read_input(path, columns)
    read_s = time.perf_counter() - start
    needed = sorted({c for item in compiled for c in item.fact_columns})
    read_peak_mb = _peak_mb()
    _reset_peak()  # from here on, the peak is the SQL phase's own (load, query, fetch)
    engine = open_engine(engine_name, url)  # type: ignore[arg-type]
    with engine.begin() as conn:
        start = time.perf_counter()
        load_facts(conn, data.facts.select(["row", *needed]))
        load_s = time.perf_counter() - start
        run_rule(conn, high_tech)  # warm-up: plan caches, buffer pool
        times = []
        for _ in range(5 if data.facts.num_rows <= 100_000 else 2):
            start = time.perf_counter()
            result = run_rule(conn, high_tech)
            times.append(time.perf_counter() - start)
        eligible = sum(1 for o in result.column(OUTCOME).to_pylist() if o == "eligible")
        start = time.perf_counter()
        produced = sum(run_rule(conn, item).num_rows for item in compiled)
        all_s = time.perf_counter() - start
    return {
        "engine": engine_name,
        "rows": data.facts.num_rows,
        "rejects": len(data.rejects),
        "read_s": read_s,
        "load_s": load_s,
        "high_tech_ms": statistics.median(times) * 1000,
        "eligible": eligible,
        "measures": len(compiled),
        "all_measures_s": all_s,
        "result_rows": produced,
        "read_peak_mb": read_peak_mb,
        "sql_peak_mb": _peak_mb(),
    }


def _reset_peak() -> None:
    """Linux: writing 5 to clear_refs resets this process's peak RSS (VmHWM)."""
    Path("/proc/self/clear_refs").write_text("5")


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_sql(engine_name: str, path: Path) -> dict[str, Any]:
    url = None
    database = f"portal_bench_{os.getpid()}"
    if engine_name == "postgres":
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {database}")  # type: ignore[arg-type]
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"
    try:
        command = [sys.executable, __file__, "--sql-worker", engine_name, "--input", str(path)]
        if url:
            command += ["--db-url", url]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
        return result
    finally:
        if engine_name == "postgres":
            import psycopg

            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--per-record", type=int, default=100_000, help="rows for the per-record section")
    parser.add_argument("--engines", default="sqlite,duckdb,postgres")
    parser.add_argument("--sql-worker", help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sql_worker:
        print(json.dumps(sql_worker(args.sql_worker, args.input, args.db_url)))
        return

    path = dataset(args.rows)
    print(f"{args.rows} synthetic enterprises (seed {gen_enterprises.SEED}), evaluated on {ON}: {path}")
    counts: dict[str, int] = {}
    records = per_record(path, min(args.per_record, args.rows))
    print(f"\nper record, {MEASURE}, {min(args.per_record, args.rows)} enterprises")
    print(f"{'engine':<24}{'µs/eval':>10}{'eligible':>10}")
    for name, micros, eligible in records:
        print(f"{name:<24}{micros:>10.2f}{eligible:>10}")
        counts[name] = eligible
    by_name = {name: micros for name, micros, _ in records}
    ratio = by_name["zen-engine, trace"] / by_name["scalar, trace"]
    print(f"zen-engine with trace / scalar with trace = {ratio:.1f}× (goal ≥ 2.5×)")

    print(f"\nSQL, {args.rows} enterprises")
    header = f"{'engine':<10}{'read s':>8}{'load s':>8}{'high-tech ms':>14}{'eligible':>10}"
    print(header + f"{'all measures s':>16}{'result rows':>13}{'read MB':>9}{'SQL MB':>8}")
    sql_results = [run_sql(name, path) for name in args.engines.split(",")]
    for r in sql_results:
        print(
            f"{r['engine']:<10}{r['read_s']:>8.2f}{r['load_s']:>8.2f}{r['high_tech_ms']:>14.1f}{r['eligible']:>10}"
            f"{r['all_measures_s']:>16.2f}{r['result_rows']:>13}{r['read_peak_mb']:>9.0f}{r['sql_peak_mb']:>8.0f}"
        )
        if r["rows"] == min(args.per_record, args.rows):
            counts[f"SQL {r['engine']}"] = r["eligible"]
    if args.rows <= args.per_record:
        agreed = len(set(counts.values())) == 1
        print(f"\neligible counts {'agree' if agreed else 'DIFFER'}: {counts}")
        if not agreed:
            raise SystemExit(1)
    else:
        sql_counts = {r["engine"]: r["eligible"] for r in sql_results}
        agreed = len(set(sql_counts.values())) == 1
        print(f"\nSQL eligible counts {'agree' if agreed else 'DIFFER'}: {sql_counts}")
        if not agreed:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
