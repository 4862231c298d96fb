"""The published command line, through Typer's runner: exit codes, messages, the JSON document."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from portal.cli import app
from portal.settings import get_settings

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner()


@pytest.fixture
def fixture_pack(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A pack directory whose rules/ is the fixture pack, read through the real settings.

    Its workflows/ (with the calendar that names the pack's time zone, for "today") is the repository's.
    """
    pack_dir = tmp_path_factory.mktemp("pack_dir")
    (pack_dir / "rules").symlink_to(FIXTURES / "pack", target_is_directory=True)
    (pack_dir / "workflows").symlink_to(FIXTURES.parents[2] / "workflows", target_is_directory=True)
    monkeypatch.setenv("PORTAL_PACK_DIR", str(pack_dir))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def write_facts(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "facts.json"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """{"enterprise": {"registered_on": "2020-03-01", "employees": 100, "st_staff": 20,
  "revenue": 40000000, "revenue_3y": "100000000", "rd_expense_3y": 6000000.00,
  "rd_expense_domestic_3y": "5000000", "hightech_revenue": 30000000, "core_ip": true,
  "tech_in_key_fields": true, "major_violation_last_year": false}}"""


def test_check_json_document(fixture_pack: None, tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(write_facts(tmp_path, GOOD)), "--on", "2026-06-01", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["on"] == "2026-06-01"
    (only,) = doc["results"]  # the loan measure is skipped: no loan entity
    assert only["measure"] == "tax.high_tech_enterprise" and only["outcome"] == "eligible"
    assert only["benefit"] == {"income_tax_rate": "0.15"}
    assert set(only) == {
        "measure",
        "version",
        "category",
        "outcome",
        "rule_hash",
        "benefit",
        "criteria",
        "missing_facts",
        "hints",
        "potential_benefit",
        "potential_benefit_up_to",
    }
    assert only["potential_benefit"] == {} and only["potential_benefit_up_to"] == []
    assert set(only["criteria"][0]) == {
        "id",
        "fact",
        "value",
        "expected",
        "outcome",
        "message",
        "source",
        "source_en",
    }
    rd = next(c for c in only["criteria"] if c["id"] == "rd_ratio")
    assert rd["fact"] == "enterprise.rd_ratio_3y" and rd["value"] == "0.06"


def test_check_table_in_english(fixture_pack: None, tmp_path: Path) -> None:
    facts = write_facts(tmp_path, GOOD.replace('"revenue": 40000000, ', ""))
    result = runner.invoke(app, ["check", str(facts), "--on", "2026-06-01", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "undetermined" in result.stdout and "Provide" in result.stdout and "Revenue" in result.stdout


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"enterprise": {"revenue": -1}}', "enterprise.revenue: money cannot be negative"),
        ('{"enterprise": {"revnue": 1}}', "enterprise.revnue: unknown fact"),
        ('{"enterprise": {"registered_on": "2020-13-01"}}', "enterprise.registered_on: not a valid date"),
        ('{"enterprise": {"core_ip": 1}}', "enterprise.core_ip: expected true or false"),
        ("{not json", "not valid JSON"),
        ('{"enterprise": {"revenue": 1, "revenue": 2}}', "duplicate key 'revenue'"),
        ('{"enterprise": {}, "enterprise": {"revenue": 1}}', "duplicate key 'enterprise'"),
        (
            '{"enterprise": {"revenue": 40000000.001}}',
            "enterprise.revenue: money has at most 2 decimal places",
        ),
        ('{"enterprise": {"revenue": "1.000"}}', "enterprise.revenue: money has at most 2 decimal places"),
        ('{"enterprise": {"revenue": NaN}}', "not valid JSON"),
    ],
)
def test_check_bad_facts_exit_2(fixture_pack: None, tmp_path: Path, text: str, needle: str) -> None:
    result = runner.invoke(app, ["check", str(write_facts(tmp_path, text))])
    assert result.exit_code == 2
    assert needle in result.stderr
    assert "Traceback" not in result.output


def test_check_bad_facts_is_one_line(fixture_pack: None, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["check", str(write_facts(tmp_path, '{"enterprise": {"revenue": 1, "revenue": 1}}'))]
    )
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1


def test_check_accepts_a_byte_order_mark(fixture_pack: None, tmp_path: Path) -> None:
    path = tmp_path / "facts.json"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    result = runner.invoke(app, ["check", str(path), "--on", "2026-06-01", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["results"][0]["outcome"] == "eligible"


@pytest.mark.parametrize("on", ["20260601", "2026-W23-1", "2026-6-1", "2026-06-01T00:00"])
def test_check_on_accepts_only_yyyy_mm_dd(fixture_pack: None, tmp_path: Path, on: str) -> None:
    result = runner.invoke(app, ["check", str(write_facts(tmp_path, GOOD)), "--on", on])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: --on: {on!r} is not a date (YYYY-MM-DD)"


def test_check_measure_whose_entity_is_absent_is_undetermined(fixture_pack: None, tmp_path: Path) -> None:
    facts = write_facts(tmp_path, GOOD)  # no loan entity
    args = [
        "check",
        str(facts),
        "--on",
        "2026-06-01",
        "--json",
        "--measure",
        "finance.ip_pledge_compensation",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    (only,) = json.loads(result.stdout)["results"]
    assert only["measure"] == "finance.ip_pledge_compensation" and only["outcome"] == "undetermined"
    assert "loan.amount" in only["missing_facts"]


def test_check_unknown_measure(fixture_pack: None, tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(write_facts(tmp_path, GOOD)), "--measure", "tax.nope"])
    assert result.exit_code == 2 and "tax.nope" in result.stderr


def test_lint_exit_codes() -> None:
    assert runner.invoke(app, ["rules", "lint", str(FIXTURES / "pack")]).exit_code == 0
    bad = runner.invoke(app, ["rules", "lint", str(FIXTURES / "bad" / "unknown_fact.yaml")])
    assert bad.exit_code == 1
    assert "unknown_fact.yaml:14: criteria[revenue]: unknown fact enterprise.revnue" in bad.stdout


def test_rules_test_and_list() -> None:
    result = runner.invoke(app, ["rules", "test", str(FIXTURES / "pack")])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == "9 passed, 0 failed"
    listed = runner.invoke(app, ["rules", "list", str(FIXTURES / "pack")], env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and "tax.high_tech_enterprise" in listed.stdout


def test_rules_test_reports_failures(tmp_path: Path) -> None:
    pack = tmp_path / "rules"
    (pack / "tax").mkdir(parents=True)
    for name in ("facts.yaml", "units.yaml"):
        (pack / name).write_text((FIXTURES / "pack" / name).read_text(encoding="utf-8"), encoding="utf-8")
    source = (FIXTURES / "pack" / "tax" / "high_tech_enterprise.2016.yaml").read_text(encoding="utf-8")
    (pack / "tax" / "ht.yaml").write_text(
        source.replace("outcome: ineligible", "outcome: eligible"), encoding="utf-8"
    )
    result = runner.invoke(app, ["rules", "test", str(pack)])
    assert result.exit_code == 1
    assert "outcome ineligible, expected eligible" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "2 passed, 1 failed"


def test_check_on_a_day_past_the_holiday_calendar(
    fixture_pack: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The calendar's last year (2027, provisional) limits SLA deadlines, never an eligibility check."""
    monkeypatch.setenv("PORTAL_TODAY", "2031-03-01")
    get_settings.cache_clear()
    result = runner.invoke(app, ["check", str(write_facts(tmp_path, GOOD)), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["on"] == "2031-03-01"
    assert doc["results"][0]["outcome"] == "eligible"
