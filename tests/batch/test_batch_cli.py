"""`portal screen` and `portal rules impact` end to end, through the real CLI and real files."""

import csv
import io
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from portal.cli import app
from portal.settings import get_settings

FIXTURE_PACK = Path(__file__).parent / "fixtures" / "pack"
PACK_RULES = FIXTURE_PACK / "rules" / "fixture"
INPUT = (
    "row_id,uscc,district,registered_on,employees,st_staff,revenue,rd_expense,core_ip,restricted,score,margin\n"
    # eligible for banded: revenue exactly 5,000万 with R&D exactly 5%
    "A,914401040000000011,tianhe,2019-03-01,100,10,50000000,2500000,true,false,70,0.3\n"
    # the same at 4.99%: fails rd_ratio
    "B,914401040000000011,tianhe,2019-03-01,100,10,50000000,2495000,true,false,70,0.3\n"
    # bad row: negative money
    "C,914401040000000011,tianhe,2019-03-01,100,10,-1,2500000,true,false,70,0.3\n"
    # core_ip unknown
    "D,914401040000000011,huangpu,2019-03-01,100,10,25000000,2500000,,false,70,0.3\n"
    # 2,500万 revenue: over the 2021 credit limit of 2,000万, under the 2025 one of 3,000万
    "E,914401040000000011,huangpu,2019-03-01,100,10,25000000,2500000,true,false,70,0.3\n"
)


@pytest.fixture
def fixture_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PORTAL_PACK_DIR", str(FIXTURE_PACK))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _screen(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    source = tmp_path / "in.csv"
    source.write_text(INPUT, encoding="utf-8")
    result = CliRunner().invoke(app, ["screen", str(source), *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("engine", ["sqlite", "duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_screen_writes_one_row_per_enterprise_and_measure(
    fixture_settings: None, tmp_path: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    out = tmp_path / "out.csv"
    extra = ["--db-url", request.getfixturevalue("postgres_url")] if engine == "postgres" else []
    code, stdout, stderr = _screen(
        tmp_path, "--out", str(out), "--on", "2026-06-30", "--engine", engine, *extra
    )
    assert code == 0, stderr
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    banded = {r["row_id"]: r for r in rows if r["measure"] == "fixture.banded"}
    measures = ["fixture.banded", "fixture.credit", "fixture.partial", "fixture.points"]
    assert sorted({r["measure"] for r in rows}) == measures
    assert len(rows) == 4 * len(measures)  # four valid rows × the measures in force
    ids = list(dict.fromkeys(r["row_id"] for r in rows))
    assert ids == ["A", "B", "D", "E"]  # input order, the rejected C left out
    assert [(r["row_id"], r["measure"]) for r in rows] == [(i, m) for i in ids for m in measures]
    hashes = {(r["measure"], r["version"], r["rule_hash"]) for r in rows}
    assert len(hashes) == len({h for _, _, h in hashes}) == len(measures)  # each measure's own
    assert banded["A"]["outcome"] == "eligible"
    assert banded["A"]["benefit.grant"] == "300000.00"  # min(5e7 × 1.23 %, cap)
    assert banded["B"]["outcome"] == "ineligible"
    assert banded["B"]["failed"] == "rd_ratio"
    assert banded["D"]["outcome"] == "undetermined"
    assert banded["D"]["unknown"] == "core_ip"
    assert banded["B"]["benefit.grant"] == ""  # benefits only for eligible rows
    assert len(banded["A"]["rule_hash"]) == 64
    with (tmp_path / "out.rejects.csv").open(encoding="utf-8") as fh:
        assert list(csv.DictReader(fh)) == [
            {"row": "3", "reason": "revenue: negative money (-1)", "line": "4"}
        ]
    assert "fixture.banded" in stdout  # the summary table
    assert "1 rejected" in stdout


def test_screen_parquet_and_row_numbers(fixture_settings: None, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"revenue": "100", "core_ip": true}\n{"revenue": "x"}\n', encoding="utf-8")
    out = tmp_path / "res.parquet"
    result = CliRunner().invoke(
        app, ["screen", str(source), "--out", str(out), "--measure", "fixture.credit"]
    )
    assert result.exit_code == 0, result.stderr
    table = pq.read_table(out)
    assert table.column_names[:3] == ["row", "uscc", "measure"]
    # Written from dictionary columns (measure, version, rule hash), read back as published: text.
    assert pq.read_schema(out).field("row").type == pa.int64()
    assert {str(f.type) for f in pq.read_schema(out) if f.name != "row"} == {"string"}
    assert table.to_pylist()[0]["outcome"] == "eligible"
    assert pacsv.read_csv(tmp_path / "res.rejects.csv").to_pylist()[0]["row"] == 2
    # Statistics only where they let a reader skip row groups: the row key.
    group = pq.ParquetFile(out).metadata.row_group(0)
    with_statistics = [
        group.column(i).path_in_schema for i in range(group.num_columns) if group.column(i).is_stats_set
    ]
    assert with_statistics == ["row"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "x.txt"], "OUT must end in .csv or .parquet"),
        (["--out", "x.csv", "--engine", "oracle"], "--engine"),
        (["--out", "x.csv", "--measure", "nope.nope"], "unknown measure(s) nope.nope"),
        (["--out", "x.csv", "--on", "2026-13-01"], "--on"),
        # Python 3.11's date.fromisoformat reads both; only YYYY-MM-DD is a date here.
        (["--out", "x.csv", "--on", "20261127"], "--on: '20261127' is not a date (YYYY-MM-DD)"),
        (["--out", "x.csv", "--on", "2026-W48-5"], "--on: '2026-W48-5' is not a date (YYYY-MM-DD)"),
    ],
)
def test_screen_bad_options_exit_2(
    fixture_settings: None, tmp_path: Path, args: list[str], message: str
) -> None:
    code, _, stderr = _screen(tmp_path, *args)
    assert code == 2
    assert message in stderr
    assert "Traceback" not in stderr


def test_screen_out_that_cannot_be_written_exits_2(fixture_settings: None, tmp_path: Path) -> None:
    (tmp_path / "taken.csv").mkdir()
    blocked = tmp_path / "file"
    blocked.write_text("", encoding="utf-8")
    for out, message in [
        (tmp_path / "taken.csv", "is a directory"),
        (blocked / "out.csv", "cannot be written"),
    ]:
        code, _, stderr = _screen(tmp_path, "--out", str(out), "--engine", "sqlite")
        assert (code, "Traceback" in stderr) == (2, False)
        assert message in stderr


@pytest.mark.parametrize(
    ("engine", "url", "message"),
    [
        ("sqlite", "duckdb:///:memory:", "a duckdb URL cannot run the sqlite engine"),
        ("postgres", "mysql://u@localhost/db", "a mysql URL cannot run the postgres engine"),
        ("postgres", "postgresql+asyncpg://u@localhost/db", "driver is not installed"),
    ],
)
def test_screen_db_url_of_another_engine_exits_2(
    fixture_settings: None, tmp_path: Path, engine: str, url: str, message: str
) -> None:
    code, _, stderr = _screen(tmp_path, "--out", str(tmp_path / "o.csv"), "--engine", engine, "--db-url", url)
    assert code == 2
    assert message in stderr
    assert "Traceback" not in stderr


def test_impact_ref_cannot_pass_an_option_to_git(fixture_settings: None, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(INPUT, encoding="utf-8")
    planted = tmp_path / "planted.tar"
    result = CliRunner().invoke(
        app, ["rules", "impact", "--input", str(source), "--repo", str(Path(__file__).parent), "--",
              f"--output={planted}", "HEAD"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "cannot start with -" in result.stderr
    assert not planted.exists()


def test_impact_between_rule_files(fixture_settings: None, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(INPUT, encoding="utf-8")
    old, new = PACK_RULES / "credit.2021.yaml", PACK_RULES / "credit.2025.yaml"
    base = ["rules", "impact", str(old), str(new), "--input", str(source), "--on", "2026-06-30"]
    result = CliRunner().invoke(app, [*base, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    # Only the 2,500万 rows cross from the 2,000万 limit to the 3,000万 one; D lacks core_ip.
    assert report["flips"] == {"ineligible->eligible": 1, "ineligible->undetermined": 1}
    assert [(a["key"], a["old"], a["new"]) for a in report["affected"]] == [
        ("D", "ineligible", "undetermined"),
        ("E", "ineligible", "eligible"),
    ]
    assert report["affected"][1]["new_benefit"] == {"compensation_ratio": "0.4", "compensable": "5000000.00"}
    assert report["benefit_change"]["compensable"] == {
        "old": "0",
        "new": "5000000.00",
        "change": "5000000.00",
    }
    csv_out = CliRunner().invoke(app, [*base, "--format", "csv"])
    assert csv_out.stdout.splitlines()[0] == "key,uscc,measure,old,new,old_benefit,new_benefit"
    table = CliRunner().invoke(app, base)
    assert "affected rows" in table.stdout


@pytest.mark.parametrize("on", ["20260630", "2026-W27-2"])
def test_impact_on_accepts_only_yyyy_mm_dd(fixture_settings: None, tmp_path: Path, on: str) -> None:
    source = tmp_path / "in.csv"
    source.write_text(INPUT, encoding="utf-8")
    old, new = PACK_RULES / "credit.2021.yaml", PACK_RULES / "credit.2025.yaml"
    result = CliRunner().invoke(
        app, ["rules", "impact", str(old), str(new), "--input", str(source), "--on", on]
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: --on: {on!r} is not a date (YYYY-MM-DD)"


def test_impact_between_git_revisions(fixture_settings: None, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "rules").mkdir(parents=True)
    (repo / "rules" / "facts.yaml").write_bytes((FIXTURE_PACK / "rules" / "facts.yaml").read_bytes())
    rule = (PACK_RULES / "banded.2020.yaml").read_text(encoding="utf-8")
    (repo / "rules" / "banded.yaml").write_text(rule, encoding="utf-8")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "v1"], check=True)
    # A deliberate threshold change: the S&T staff share rises from 10 % to 12 %.
    (repo / "rules" / "banded.yaml").write_text(rule.replace("value: 0.10", "value: 0.12"), encoding="utf-8")
    subprocess.run([*git, "commit", "-qam", "v2"], check=True)
    source = tmp_path / "in.csv"
    source.write_text(INPUT, encoding="utf-8")
    args = ["rules", "impact", "HEAD~1", "HEAD", "--repo", str(repo), "--input", str(source)]
    result = CliRunner().invoke(app, [*args, "--on", "2026-06-30", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    # Every row has S&T staff at exactly 10 %: all that passed or were open now fail.
    assert report["flips"] == {"eligible->ineligible": 2, "undetermined->ineligible": 1}
    assert [a["key"] for a in report["affected"]] == ["A", "D", "E"]
    assert report["benefit_change"]["grant"]["change"] == "-600000.00"
    bad = CliRunner().invoke(
        app, ["rules", "impact", "nope", "HEAD", "--repo", str(repo), "--input", str(source)]
    )
    assert bad.exit_code == 2
    assert "neither a rule file nor a git revision" in bad.stderr


def test_screen_rejects_file_prints_control_characters_escaped(
    fixture_settings: None, tmp_path: Path
) -> None:
    """A refused value is quoted in the rejects file with its control character as an escape."""
    source = tmp_path / "in.csv"
    source.write_text(
        INPUT.replace(
            "C,914401040000000011,tianhe,2019-03-01,100,10,-1,",
            "C,914401040000000011,tianhe,2019-03-01,1\x1b0,10,1,",
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["screen", str(source), "--out", str(out), "--on", "2026-06-30"])
    assert result.exit_code == 0, result.stderr
    text = (tmp_path / "out.rejects.csv").read_text(encoding="utf-8")
    assert "\x1b" not in text
    assert list(csv.DictReader(io.StringIO(text))) == [
        {"row": "3", "reason": "employees: not a whole number (1\\u001b0)", "line": "4"}
    ]


def test_screen_names_each_reject_by_the_row_a_spreadsheet_shows(
    fixture_settings: None, tmp_path: Path
) -> None:
    """Row C is the file's fourth line (the header is the first): the message and the rejects
    file's added `line` say 4; `row` keeps its published meaning, the third data row."""
    out = tmp_path / "out.csv"
    code, _, stderr = _screen(tmp_path, "--out", str(out), "--on", "2026-06-30")
    assert code == 0, stderr
    assert "row 4: revenue: negative money (-1)" in stderr
    assert "row 3" not in stderr and "the header is row 1" in " ".join(stderr.split())
    with (tmp_path / "out.rejects.csv").open(encoding="utf-8") as fh:
        assert [(r["row"], r["line"]) for r in csv.DictReader(fh)] == [("3", "4")]
