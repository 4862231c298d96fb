"""Scalar rule-engine speed: the high-tech rule on 100k synthetic enterprises, and all measures for one.

    .venv/bin/python bench/rules_bench.py [--pack rules] [--rows 100000]

Prints µs per evaluation with the trace off and on, and ms for every measure of the pack on one
enterprise (trace on). Goals (issue 2): ≤ 2 µs, ≤ 5 µs, ≤ 1 ms. Facts are parsed before timing:
the figure is the evaluator's, as a bank query or screening loop pays it per enterprise.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_enterprises import EVALUATION_DATE, generate

from portal.rules import Pack, RuleFileError, load_pack

REPO = Path(__file__).resolve().parent.parent
FIXTURE_PACK = REPO / "tests" / "rules" / "fixtures" / "pack"
MEASURE = "tax.high_tech_enterprise"


def _pack(path: Path | None) -> Pack:
    if path is not None:
        return load_pack(path)
    try:
        return load_pack(REPO / "rules")
    except RuleFileError as exc:
        print(f"(the repository pack does not load: {exc}; using the test fixture pack)")
        return load_pack(FIXTURE_PACK)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pack", type=Path, default=None)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    pack = _pack(args.pack)
    on = EVALUATION_DATE
    rule = pack.select(MEASURE, on)
    assert rule is not None, f"{MEASURE} is not in force on {on}"
    known = {spec.name for spec in pack.facts.entity_facts("enterprise") if not spec.derived}

    rows = generate(args.rows).to_pylist()
    enterprises = [
        pack.facts.parse({"enterprise": {k: v for k, v in row.items() if k in known}}) for row in rows
    ]
    print(f"pack {pack.root} · {MEASURE} {rule.version} · {len(enterprises):,} enterprises · on {on}")

    for trace in (False, True):
        evaluate = rule.evaluate
        start = time.perf_counter()
        outcomes: dict[str, int] = {}
        for facts in enterprises:
            outcome = evaluate(facts, on, trace).outcome
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        elapsed = time.perf_counter() - start
        per = elapsed / len(enterprises) * 1e6
        summary = ", ".join(f"{k.value} {v:,}" for k, v in sorted(outcomes.items()))
        print(f"  trace {'on ' if trace else 'off'}: {per:6.2f} µs/evaluation  ({summary})")

    one = enterprises[0]
    ids = pack.measure_ids()
    repeats = 2000
    start = time.perf_counter()
    for _ in range(repeats):
        for measure_id in ids:
            pack.evaluate(measure_id, one, on, trace=True)
    per_all = (time.perf_counter() - start) / repeats * 1e3
    print(f"  all {len(ids)} measures, one enterprise, trace on: {per_all:.3f} ms")
    start = time.perf_counter()
    for _ in range(200):
        pack.check(one, on)
    print(
        "  pack.check (parse + all measures + JSON incl. hints): "
        f"{(time.perf_counter() - start) / 200 * 1e3:.3f} ms"
    )


if __name__ == "__main__":
    main()
