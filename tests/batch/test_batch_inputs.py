"""Reading screening INPUT: three formats, typed validation, rejects with row number and reason."""

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from portal.rules import Pack
from portal.screening.inputs import (
    EXAMPLE_ROW_ID,
    InputError,
    ScreeningInput,
    count_rows,
    read_chunks,
    read_input,
    read_table,
)

HEADER = "row_id,uscc,district,registered_on,employees,revenue,core_ip,margin\n"
GOOD = "A1,914401040000000011,tianhe,2019-03-01,120,50000000.00,true,0.25\n"


def _read(pack: Pack, path: Path) -> ScreeningInput:
    return read_input(path, pack.facts.supplied())


def test_csv_values_are_typed_exactly(fixture_pack: Pack, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(HEADER + GOOD, encoding="utf-8")
    data = _read(fixture_pack, path)
    assert data.rejects == []
    row = data.facts.to_pylist()[0]
    assert row["row"] == 1
    assert row["row_id"] == "A1"
    assert row["enterprise__revenue"] == Decimal("50000000")
    assert row["enterprise__core_ip"] is True
    assert row["enterprise__margin"] == Decimal("0.25")
    assert row["enterprise__rd_expense"] is None  # absent column: unknown, not zero


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("A2,914401040000000011,tianhe,2019-03-01,120,-5,true,0.2", "revenue: negative money (-5)"),
        ("A2,914401040000000012,tianhe,2019-03-01,120,5,true,0.2", "uscc: invalid USCC (914401040000000012)"),
        ("A2,914401040000000011,tianhe,2019-03-01,120,5,yes,0.2", "core_ip: expected true or false (yes)"),
        ("A2,914401040000000011,tianhe,2019-02-30,120,5,true,0.2", "registered_on: not a date (YYYY-MM-DD)"),
        (
            "A2,914401040000000011,mars,2019-03-01,120,5,true,0.2",
            "district: not one of tianhe, huangpu, outside",
        ),
        ("A2,914401040000000011,tianhe,2019-03-01,12.5,5,true,0.2", "employees: not a whole number (12.5)"),
        ("A2,914401040000000011,tianhe,2019-03-01, 120,5,true,0.2", "employees: not a whole number ( 120)"),
        ("A2,914401040000000011,tianhe,2019-03-01,120,5e3,true,0.2", "revenue: not a decimal number (5e3)"),
    ],
)
def test_bad_values_reject_the_row_without_coercion(
    fixture_pack: Pack, tmp_path: Path, line: str, reason: str
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(HEADER + GOOD + line + "\n" + GOOD.replace("A1", "A3"), encoding="utf-8")
    data = _read(fixture_pack, path)
    assert [r.row for r in data.rejects] == [2]
    assert reason in data.rejects[0].reason
    assert data.facts.column("row").to_pylist() == [1, 3]  # the run goes on around the bad row


def test_every_reason_of_a_row_is_reported(fixture_pack: Pack, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(HEADER + "A1,bad,mars,2019-03-01,120,-1,true,0.2\n", encoding="utf-8")
    (reject,) = _read(fixture_pack, path).rejects
    assert "uscc: invalid USCC" in reject.reason
    assert "district: not one of" in reject.reason
    assert "revenue: negative money" in reject.reason


def test_jsonl_numbers_keep_their_text(fixture_pack: Pack, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    rows = [
        '{"uscc": "914401040000000011", "revenue": 0.1, "core_ip": true, "employees": 3}',
        '{"uscc": "914401040000000011", "revenue": "12.34", "core_ip": "true", "employees": 3}',
        '{"uscc": "914401040000000011", "revenue": 1, "core_ip": 1, "employees": 3}',
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    data = _read(fixture_pack, path)
    assert data.facts.column("enterprise__revenue").to_pylist()[:2] == [Decimal("0.1"), Decimal("12.34")]
    assert [r.row for r in data.rejects] == [3]  # 1 is not a boolean
    assert not data.has_row_id


def test_parquet_native_types(fixture_pack: Pack, tmp_path: Path) -> None:
    path = tmp_path / "in.parquet"
    table = pa.table(
        {
            "revenue": pa.array([Decimal("100.50"), None], pa.decimal128(12, 2)),
            "core_ip": pa.array([True, False]),
            "margin": pa.array([0.05, -0.5], pa.float64()),
        }
    )
    pq.write_table(table, path)
    data = _read(fixture_pack, path)
    assert data.rejects == []
    assert data.facts.column("enterprise__revenue").to_pylist() == [Decimal("100.5"), None]
    assert data.facts.column("enterprise__margin").to_pylist() == [Decimal("0.05"), Decimal("-0.5")]


def test_an_arrow_table_reads_as_its_parquet_file_does(fixture_pack: Pack, tmp_path: Path) -> None:
    table = pa.table(
        {
            "row_id": ["A1", "A2"],
            "revenue": pa.array([Decimal("100.50"), Decimal("-1")], pa.decimal128(12, 2)),
            "margin": pa.array([0.05, 0.1], pa.float64()),
        }
    )
    path = tmp_path / "in.parquet"
    pq.write_table(table, path)
    from_file = _read(fixture_pack, path)
    from_table = read_table(table, fixture_pack.facts.supplied(), source="register")
    assert from_table.facts.equals(from_file.facts)
    assert from_table.rejects == from_file.rejects == [from_file.rejects[0]]
    assert from_table.rejects[0].row == 2


def test_qualified_columns_reach_other_entities(fixture_pack: Pack, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("revenue,loan.amount\n10,20\n", encoding="utf-8")
    row = _read(fixture_pack, path).facts.to_pylist()[0]
    assert row["loan__amount"] == Decimal("20")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("in.csv", "revenue,turnover\n1,2\n", "unknown column(s) turnover"),
        ("in.txt", "x", "INPUT must be .csv, .parquet or .jsonl"),
        ("in.jsonl", "[1, 2]\n", "is not a JSON object"),
        ("in.jsonl", "{broken\n", "cannot be read"),
        ("in.csv", "revenue,enterprise.revenue\n1,2\n", "more than one column for enterprise.revenue"),
        ("in.csv", "row_id,revenue,row_id\nA,1,B\n", "more than one column for row_id"),
    ],
)
def test_unreadable_files_raise_one_clear_error(
    fixture_pack: Pack, tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        _read(fixture_pack, path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_generated_enterprises_are_all_valid(fixture_pack: Pack, real_pack: Pack, tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    import gen_enterprises

    path = tmp_path / "e.jsonl"
    gen_enterprises.write(gen_enterprises.generate(300), path)
    data = _read(real_pack, path)
    assert data.rejects == []
    assert data.facts.num_rows == 300
    assert json.loads(path.read_text(encoding="utf-8").splitlines()[0])["row_id"] == "E0000001"


def test_typed_parquet_columns_are_checked_as_values(fixture_pack: Pack, tmp_path: Path) -> None:
    path = tmp_path / "in.parquet"
    table = pa.table(
        {
            "employees": pa.array([10, -3, 10, 10], pa.int32()),
            "revenue": pa.array(
                [Decimal("1.50"), Decimal("1.50"), Decimal("-2.00"), None], pa.decimal128(20, 2)
            ),
            "rd_expense": pa.array(
                [Decimal("0.1234567"), Decimal(1), Decimal(1), Decimal("0.1")], pa.decimal128(38, 7)
            ),
        }
    )
    pq.write_table(table, path)
    data = _read(fixture_pack, path)
    assert [(r.row, r.reason) for r in data.rejects] == [
        (1, "rd_expense: more than 6 decimal places or too large (0.1234567)"),
        (2, "employees: must not be negative (-3)"),
        (3, "revenue: negative money (-2.00)"),
    ]
    assert data.facts.column("enterprise__rd_expense").to_pylist() == [Decimal("0.1")]
    assert data.facts.column("enterprise__employees").to_pylist() == [10]
    assert data.facts.column("row").to_pylist() == [4]


def test_only_kept_columns_are_loaded_and_checked(fixture_pack: Pack, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(HEADER + GOOD.replace("120", "-1"), encoding="utf-8")
    kept = read_input(path, fixture_pack.facts.supplied(), keep={"enterprise.revenue"})
    assert kept.rejects == []
    assert kept.facts.column("enterprise__revenue").to_pylist() == [Decimal("50000000")]
    assert "enterprise__employees" not in kept.facts.column_names
    assert [r.row for r in _read(fixture_pack, path).rejects] == [1]


def test_a_share_outside_zero_to_one_is_rejected(real_pack: Pack, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    rows = ["0.70", "1", "0", "1.2", "-0.1"]
    path.write_text(
        "row_id,uscc,product.self_reliance_rate\n"
        + "".join(f"R{i},914401040000000011,{v}\n" for i, v in enumerate(rows)),
        encoding="utf-8",
    )
    data = _read(real_pack, path)
    assert [r.row for r in data.rejects] == [4, 5]
    assert all("a share lies between 0 and 1" in r.reason for r in data.rejects)


def test_a_typed_share_outside_zero_to_one_is_rejected(real_pack: Pack, tmp_path: Path) -> None:
    """A Parquet decimal column is held to the same range as its text would be."""
    path = tmp_path / "in.parquet"
    shares = [Decimal(v) for v in ("0.70", "1", "0", "1.2", "-0.1")]
    pq.write_table(pa.table({"product.self_reliance_rate": pa.array(shares, pa.decimal128(12, 4))}), path)
    data = _read(real_pack, path)
    assert [(r.row, r.reason) for r in data.rejects] == [
        (4, "product.self_reliance_rate: a share lies between 0 and 1 (1.2000)"),
        (5, "product.self_reliance_rate: a share lies between 0 and 1 (-0.1000)"),
    ]
    column = data.facts.column("product__self_reliance_rate")
    assert column.type == pa.decimal128(38, 10)
    assert column.to_pylist() == shares[:3]


def test_a_number_outside_its_facts_range_is_rejected_as_the_profile_refuses_it(
    real_pack: Pack, tmp_path: Path
) -> None:
    """facts.yaml's `min`/`max` hold in batch screening too, for text and for typed columns."""
    scores = [0, 100, 101, 150, 71]
    text = tmp_path / "in.csv"
    text.write_text(
        "row_id,uscc,innovation_score\n"
        + "".join(f"R{i},914401040000000011,{v}\n" for i, v in enumerate(scores)),
        encoding="utf-8",
    )
    typed = tmp_path / "in.parquet"
    pq.write_table(pa.table({"innovation_score": pa.array(scores, pa.int64())}), typed)
    for path in (text, typed):
        data = _read(real_pack, path)
        assert [(r.row, r.reason) for r in data.rejects] == [
            (3, "innovation_score: outside the allowed range (101)"),
            (4, "innovation_score: outside the allowed range (150)"),
        ], path


def test_pieces_count_rows_across_pieces(fixture_pack: Pack, tmp_path: Path) -> None:
    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"employees": pa.array([1, 2, 3, -4, 5], pa.int64())}), path)
    pieces = list(read_chunks(path, fixture_pack.facts.supplied(), rows=2))
    assert [p.total_rows for p in pieces] == [2, 2, 1]
    assert [r.row for p in pieces for r in p.rejects] == [4]
    assert [n for p in pieces for n in p.facts.column("row").to_pylist()] == [1, 2, 3, 5]
    whole = _read(fixture_pack, path)
    assert pa.concat_tables(p.facts for p in pieces).equals(whole.facts)


def test_text_with_a_control_or_bidi_character_rejects_the_row(real_pack: Pack, tmp_path: Path) -> None:
    """The one boundary rule (portal.text_rules) holds for screening input too (issue 15)."""
    path = tmp_path / "in.parquet"
    names = ["广州甲公司", "nul\x00name", "scan\u202efdp", "乙公司"]
    pq.write_table(
        pa.table({"row_id": [f"R{i}" for i in range(4)], "uscc": ["914401040000000011"] * 4, "name": names}),
        path,
    )
    data = _read(real_pack, path)
    assert [r.row for r in data.rejects] == [2, 3]
    assert all(r.reason.startswith("name: a control or bidi character") for r in data.rejects)
    # The reason quotes the value escaped: the rejects file and the run page print no raw control.
    assert [r.reason.split("(", 1)[1] for r in data.rejects] == ["nul\\u0000name)", "scan\\u202efdp)"]


def test_typed_columns_that_cannot_fail_stay_aligned_with_checked_ones(
    fixture_pack: Pack, tmp_path: Path
) -> None:
    """Typed columns no value of which can fail skip the SQL checks; rows still line up with the
    checked text columns, and a too-wide decimal type is still checked value by value."""
    good = "914401040000000011"
    path = tmp_path / "in.parquet"
    table = pa.table(
        {
            "row_id": ["A", "B", "C", "D"],
            "uscc": [good, "914401040000000012", good, None],
            "employees": pa.array([1, 2, 3, 4], pa.uint32()),
            "registered_on": pa.array([date(2020, 1, d) for d in (1, 2, 3, 4)], pa.date32()),
            "core_ip": [True, False, True, False],
            "revenue": pa.array([Decimal(v) for v in ("1.10", "2.20", "3.30", "4.40")], pa.decimal128(38, 2)),
            "margin": pa.array([Decimal(v) for v in ("0.1", "-0.2", "0.3", "0.4")], pa.decimal128(10, 4)),
        }
    )
    pq.write_table(table, path)
    data = _read(fixture_pack, path)
    assert [(r.row, r.reason.split(":")[0]) for r in data.rejects] == [(2, "uscc")]
    kept = data.facts.to_pylist()
    assert [(r["row_id"], r["enterprise__employees"], r["enterprise__revenue"]) for r in kept] == [
        ("A", 1, Decimal("1.1")),
        ("C", 3, Decimal("3.3")),
        ("D", 4, Decimal("4.4")),
    ]
    assert [r["enterprise__registered_on"] for r in kept] == [date(2020, 1, d) for d in (1, 3, 4)]
    assert [r["enterprise__margin"] for r in kept] == [Decimal("0.1"), Decimal("0.3"), Decimal("0.4")]
    assert data.facts.schema.field("enterprise__employees").type == pa.int64()
    assert data.facts.schema.field("enterprise__revenue").type == pa.decimal128(38, 6)


BAD = GOOD.replace("A1", "A2").replace("50000000.00", "-5")


def test_a_reject_carries_the_line_the_file_shows_it_on(fixture_pack: Pack, tmp_path: Path) -> None:
    """A clerk looks a reject up by the row a spreadsheet shows: the CSV's header is line 1 and an
    empty line between rows still counts. The published `row` keeps counting data rows."""
    path = tmp_path / "in.csv"
    path.write_text(HEADER + GOOD + "\n" + BAD + GOOD.replace("A1", "A3") + "\n\n" + BAD, encoding="utf-8")
    data = _read(fixture_pack, path)
    assert [(r.row, r.line) for r in data.rejects] == [(2, 4), (4, 8)]
    # Read in pieces, the file's lines are counted across them.
    pieces = list(read_chunks(path, fixture_pack.facts.supplied(), csv_block=len(HEADER + GOOD) + 8))
    assert len(pieces) > 1
    assert [(r.row, r.line) for p in pieces for r in p.rejects] == [(2, 4), (4, 8)]


def test_jsonl_and_parquet_rejects_are_numbered_as_their_files_show_them(
    fixture_pack: Pack, tmp_path: Path
) -> None:
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text('{"employees": 1}\n\n{"employees": -4}\n', encoding="utf-8")
    assert [(r.row, r.line) for r in _read(fixture_pack, jsonl).rejects] == [(2, 3)]  # no header
    parquet = tmp_path / "in.parquet"
    pq.write_table(pa.table({"employees": pa.array([1, -4], pa.int64())}), parquet)
    assert [(r.row, r.line) for r in _read(fixture_pack, parquet).rejects] == [(2, 3)]  # under a header


def test_the_templates_example_row_is_never_read_as_data(fixture_pack: Pack, tmp_path: Path) -> None:
    """The row whose row_id is the template's marker is skipped (even with values that would be
    refused); the rows below keep the numbers and lines the file shows."""
    path = tmp_path / "in.csv"
    example = BAD.replace("A2", EXAMPLE_ROW_ID)
    path.write_text(HEADER + example + GOOD + BAD, encoding="utf-8")
    data = _read(fixture_pack, path)
    assert data.facts.column("row_id").to_pylist() == ["A1"]
    assert data.facts.column("row").to_pylist() == [2]
    assert [(r.row, r.line) for r in data.rejects] == [(3, 4)]
    # The rows a progress line counts are the data rows: the example row is not one of them.
    assert data.total_rows == 2 and count_rows(path, scan=True) == 2
    parquet = tmp_path / "in.parquet"
    pq.write_table(pa.table({"row_id": [EXAMPLE_ROW_ID, "A1", None], "employees": ["1", "2", "3"]}), parquet)
    assert count_rows(parquet, scan=True) == 2 and _read(fixture_pack, parquet).total_rows == 2
    assert count_rows(parquet) == 3  # unbounded (the CLI's bar): the metadata's count, no column read
    # Only that exact text marks it: a row id that merely starts alike is a row like any other.
    path.write_text(HEADER + GOOD.replace("A1", EXAMPLE_ROW_ID + "1"), encoding="utf-8")
    assert _read(fixture_pack, path).facts.num_rows == 1
