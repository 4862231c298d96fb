"""Synthetic enterprises with a fixed seed, for the batch benchmarks and screening tests.

About half are built to qualify for `tax.high_tech_enterprise`; the others break one or two of
its conditions. About a tenth sit exactly on a threshold (revenue of exactly 5,000万 or 2亿, an
R&D ratio, S&T-staff share or high-tech-income share exactly at its minimum, registered exactly
one year before the evaluation date), because those are the rows where a float or an off-by-one
would show. A small share leave one fact empty, so the undetermined path is exercised too.

    python bench/gen_enterprises.py --rows 100000 --out var/bench/enterprises_100k.parquet
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

SEED = 20260601
EVALUATION_DATE = dt.date(2026, 6, 30)
"""The `--on` date the benchmarks use; 'registered exactly one year' is relative to it."""

DISTRICTS = [
    "yuexiu", "haizhu", "liwan", "tianhe", "baiyun", "huangpu",
    "panyu", "huadu", "nansha", "conghua", "zengcheng", "outside",
]  # fmt: skip
AI_TRACKS = ["zao", "che", "jian", "cheng", "other"]
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_BAND_EDGES = (Decimal(50_000_000), Decimal(200_000_000))

# Each failure mode breaks one condition of the high-tech rule.
_FAILURES = (
    "young", "no_ip", "not_key_field", "few_st_staff", "low_rd",
    "foreign_rd", "low_hightech_income", "low_score", "violation",
)  # fmt: skip

MONEY = pa.decimal128(18, 2)
SCHEMA = pa.schema(
    [
        ("row_id", pa.string()),
        ("uscc", pa.string()),
        ("name", pa.string()),
        ("district", pa.string()),
        ("registered_on", pa.date32()),
        ("employees", pa.int64()),
        ("st_staff", pa.int64()),
        ("rd_staff", pa.int64()),
        ("bachelor_staff", pa.int64()),
        ("revenue", MONEY),
        ("revenue_3y", MONEY),
        ("rd_expense", MONEY),
        ("rd_expense_3y", MONEY),
        ("rd_expense_domestic_3y", MONEY),
        ("total_cost", MONEY),
        ("total_assets", MONEY),
        ("hightech_revenue", MONEY),
        ("software_revenue", MONEY),
        ("self_dev_software_revenue", MONEY),
        ("ic_design_revenue", MONEY),
        ("core_ip", pa.bool_()),
        ("invention_patents", pa.int64()),
        ("software_copyrights", pa.int64()),
        ("ip_class1", pa.int64()),
        ("ip_class2", pa.int64()),
        ("tech_in_key_fields", pa.bool_()),
        ("innovation_score", pa.int64()),
        ("hightech_certified", pa.bool_()),
        ("is_sme", pa.bool_()),
        ("is_small_micro", pa.bool_()),
        ("major_violation_last_year", pa.bool_()),
        ("bad_credit_record_3y", pa.bool_()),
        ("on_key_support_list", pa.bool_()),
        ("restricted_industry", pa.bool_()),
        ("ai_track", pa.string()),
        ("ai_rd_expense", MONEY),
        ("ai_revenue", MONEY),
        ("certified_ai_staff", pa.int64()),
    ]
)
_OPTIONAL = [f.name for f in SCHEMA if f.name not in ("row_id", "uscc", "name")]


def uscc_for(serial: int) -> str:
    """A valid 18-character USCC for a Guangzhou (4401xx) company, distinct per serial."""
    district = 4401_00 + serial % 18 + 3
    body = f"9{1}{district:06d}"
    org = ""
    n = serial
    for _ in range(9):
        n, digit = divmod(n, 31)
        org = _USCC_ALPHABET[digit] + org
    head = body + org
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(head, _USCC_WEIGHTS, strict=True))
    return head + _USCC_ALPHABET[(31 - total) % 31]


def _min_rd_ratio(revenue: Decimal) -> Decimal:
    if revenue <= _BAND_EDGES[0]:
        return Decimal("0.05")
    if revenue <= _BAND_EDGES[1]:
        return Decimal("0.04")
    return Decimal("0.03")


def _enterprise(rng: random.Random, serial: int) -> dict[str, object]:
    eligible = rng.random() < 0.5
    on_threshold = rng.random() < 0.1
    failures = set() if eligible else set(rng.sample(_FAILURES, rng.choice((1, 1, 2))))

    if on_threshold and rng.random() < 0.4:
        revenue = rng.choice(_BAND_EDGES)
    else:
        revenue = Decimal(rng.randrange(2_000_000, 600_000_000, 1000))
    revenue_3y = revenue * Decimal(rng.choice((2, 3))) + Decimal(rng.randrange(0, 10_000_000, 100))
    min_ratio = _min_rd_ratio(revenue)
    rd_ratio = min_ratio if on_threshold else min_ratio + Decimal(rng.randrange(1, 400)) / 10_000
    if "low_rd" in failures:
        rd_ratio = min_ratio - Decimal(rng.randrange(1, 200)) / 10_000
    rd_expense_3y = (revenue_3y * rd_ratio).quantize(Decimal("0.01"))
    domestic_share = Decimal("0.6") if on_threshold else Decimal(rng.randrange(61, 101)) / 100
    if "foreign_rd" in failures:
        domestic_share = Decimal(rng.randrange(20, 60)) / 100
    hightech_share = Decimal("0.6") if on_threshold else Decimal(rng.randrange(61, 100)) / 100
    if "low_hightech_income" in failures:
        hightech_share = Decimal(rng.randrange(10, 60)) / 100

    employees = rng.randrange(10, 2000) * 10
    st_share = Decimal("0.1") if on_threshold else Decimal(rng.randrange(11, 60)) / 100
    if "few_st_staff" in failures:
        st_share = Decimal(rng.randrange(1, 10)) / 100
    years = 1 if on_threshold else rng.randrange(2, 30)
    if "young" in failures:
        registered_on = EVALUATION_DATE - dt.timedelta(days=rng.randrange(1, 365))
    else:
        registered_on = EVALUATION_DATE.replace(year=EVALUATION_DATE.year - years)
    score = 71 if on_threshold else rng.randrange(72, 101)
    if "low_score" in failures:
        score = rng.randrange(30, 71)

    software_revenue = (revenue * Decimal(rng.randrange(0, 100)) / 100).quantize(Decimal("0.01"))
    row: dict[str, object] = {
        "row_id": f"E{serial:07d}",
        "uscc": uscc_for(serial),
        "name": f"合成企业{serial:07d}",
        "district": rng.choice(DISTRICTS),
        "registered_on": registered_on,
        "employees": employees,
        "st_staff": int(employees * st_share),
        "rd_staff": int(employees * Decimal(rng.randrange(5, 60)) / 100),
        "bachelor_staff": int(employees * Decimal(rng.randrange(20, 95)) / 100),
        "revenue": revenue,
        "revenue_3y": revenue_3y,
        "rd_expense": (rd_expense_3y / 3).quantize(Decimal("0.01")),
        "rd_expense_3y": rd_expense_3y,
        "rd_expense_domestic_3y": (rd_expense_3y * domestic_share).quantize(Decimal("0.01")),
        "total_cost": (revenue * Decimal(rng.randrange(50, 95)) / 100).quantize(Decimal("0.01")),
        "total_assets": Decimal(rng.randrange(1_000_000, 900_000_000, 1000)),
        "hightech_revenue": (revenue * hightech_share).quantize(Decimal("0.01")),
        "software_revenue": software_revenue,
        "self_dev_software_revenue": (software_revenue * Decimal(rng.randrange(0, 100)) / 100).quantize(
            Decimal("0.01")
        ),
        "ic_design_revenue": (revenue * Decimal(rng.randrange(0, 80)) / 100).quantize(Decimal("0.01")),
        "core_ip": "no_ip" not in failures,
        "invention_patents": rng.randrange(0, 40),
        "software_copyrights": rng.randrange(0, 60),
        "ip_class1": rng.randrange(0, 3),
        "ip_class2": rng.randrange(0, 8),
        "tech_in_key_fields": "not_key_field" not in failures,
        "innovation_score": score,
        "hightech_certified": rng.random() < 0.4,
        "is_sme": rng.random() < 0.7,
        "is_small_micro": rng.random() < 0.4,
        "major_violation_last_year": "violation" in failures,
        "bad_credit_record_3y": rng.random() < 0.05,
        "on_key_support_list": rng.random() < 0.2,
        "restricted_industry": rng.random() < 0.05,
        "ai_track": rng.choice(AI_TRACKS),
        "ai_rd_expense": (rd_expense_3y * Decimal(rng.randrange(0, 50)) / 300).quantize(Decimal("0.01")),
        "ai_revenue": (revenue * Decimal(rng.randrange(0, 70)) / 100).quantize(Decimal("0.01")),
        "certified_ai_staff": rng.randrange(0, 50),
    }
    if rng.random() < 0.02:
        row[rng.choice(_OPTIONAL)] = None
    return row


def generate(rows: int, seed: int = SEED) -> pa.Table:
    """`rows` enterprises as an Arrow table whose columns are the `facts.yaml` names."""
    rng = random.Random(seed)
    records = [_enterprise(rng, serial) for serial in range(1, rows + 1)]
    return pa.Table.from_pylist(records, schema=SCHEMA)


def write(table: pa.Table, out: Path) -> None:
    """Parquet, CSV or JSON Lines, chosen by the file's extension."""
    out.parent.mkdir(parents=True, exist_ok=True)
    writers: dict[str, Callable[[pa.Table, Path], None]] = {
        ".parquet": lambda t, p: pq.write_table(t, p),
        ".csv": lambda t, p: pacsv.write_csv(t, p),
        ".jsonl": _write_jsonl,
    }
    writers[out.suffix](table, out)


def _write_jsonl(table: pa.Table, out: Path) -> None:
    import json

    with out.open("w", encoding="utf-8") as fh:
        for record in table.to_pylist():
            fh.write(json.dumps({k: _json_value(v) for k, v in record.items()}, ensure_ascii=False))
            fh.write("\n")


def _json_value(value: object) -> object:
    # Money goes out as decimal strings: JSON numbers would tempt readers into floats.
    if isinstance(value, Decimal | dt.date):
        return str(value)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, required=True, help=".parquet, .csv or .jsonl")
    args = parser.parse_args()
    write(generate(args.rows, args.seed), args.out)
    print(f"wrote {args.rows} enterprises to {args.out}")


if __name__ == "__main__":
    main()
