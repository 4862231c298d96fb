"""The real policy pack in rules/: it loads, lints clean and every example passes."""

import shutil
from pathlib import Path

import pytest

from portal.rules import RuleFileError, load_pack
from portal.rules.examples import run_examples
from portal.rules.lint import lint_paths
from tests.support.broken_pack import serve_refusal

RULES = Path(__file__).resolve().parents[2] / "rules"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_pack_lints_clean() -> None:
    assert [str(p) for p in lint_paths([RULES])] == []


def test_pack_examples_pass() -> None:
    pack = load_pack(RULES)
    runs = run_examples(pack.rules, pack.facts)
    assert runs, "the pack has no examples"
    failures = [f"{run.location}: {'; '.join(run.problems)}" for run in runs if not run.passed]
    assert failures == []


@pytest.mark.parametrize("measure", ["tax.high_tech_enterprise", "finance.credit_risk_compensation"])
def test_published_measures_exist(measure: str) -> None:
    assert measure in load_pack(RULES).measure_ids()


def test_every_unit_has_names_and_an_abbreviation() -> None:
    pack = load_pack(RULES)
    assert pack.units["gzsti"] == {
        "zh": "广州市科学技术局",
        "en": "Guangzhou Municipal Science and Technology Bureau",
        "abbr": "穗科",
    }
    assert pack.unit_abbr("gzfin") == "穗金管"
    assert all(pack.unit_abbr(code) for code in pack.units)
    with pytest.raises(KeyError, match="'gzx' has no `abbr`"):
        pack.unit_abbr("gzx")


def test_a_unit_without_its_abbreviation_or_a_name_does_not_load(tmp_path: Path) -> None:
    """Its abbreviation numbers official letters and notices: an empty one is refused as the pack
    loads, naming file, line and field, not when the first notice would open (a 500 then)."""
    pack_dir = tmp_path / "pack"
    shutil.copytree(FIXTURES / "pack", pack_dir)
    units = pack_dir / "units.yaml"
    good = units.read_text(encoding="utf-8")
    units.write_text(good.replace(", abbr: 穗金管", ""), encoding="utf-8")
    with pytest.raises(RuleFileError) as refused:
        load_pack(pack_dir)
    assert str(refused.value) == f"{units}:2: gzfin.abbr: missing 发文机关代字 (e.g. 穗科)"
    units.write_text(good.replace("en: Guangzhou Municipal Science and Technology Bureau, ", ""), "utf-8")
    with pytest.raises(RuleFileError, match=r"units\.yaml:1: gzsti\.en: missing en text"):
        load_pack(pack_dir)


def test_a_server_on_a_unit_without_abbreviation_stops_in_one_line(tmp_path: Path) -> None:
    """`portal serve` refuses to start, naming units.yaml, the line and the field; exit 2."""
    pack = tmp_path / "pack"
    (pack / "rules").mkdir(parents=True)
    for name in ("forms", "workflows", "pack.yaml"):
        (pack / name).symlink_to(RULES.parent / name)
    for entry in RULES.iterdir():
        if entry.name != "units.yaml":
            (pack / "rules" / entry.name).symlink_to(entry)
    units = (RULES / "units.yaml").read_text(encoding="utf-8")
    (pack / "rules" / "units.yaml").write_text(units.replace("  abbr: 穗工信\n", ""), encoding="utf-8")
    code, line = serve_refusal(pack, tmp_path)
    assert code == 2, line
    assert line.startswith("error: cannot start: ") and "rules/units.yaml:" in line, line
    assert line.endswith(": gzmiit.abbr: missing 发文机关代字 (e.g. 穗科)"), line


def test_entities_are_the_fact_dictionarys(tmp_path: Path) -> None:
    """Issue 17: a pack's facts.yaml says what facts are about; the engine names no entity."""
    pack_dir = tmp_path / "pack"
    shutil.copytree(FIXTURES / "pack", pack_dir)
    facts = pack_dir / "facts.yaml"
    facts.write_text(
        facts.read_text(encoding="utf-8")
        + "vessel:\n  tonnage: {type: int, unit: none, label: {zh: 吨位, en: Tonnage}}\n",
        encoding="utf-8",
    )
    pack = load_pack(pack_dir)
    assert "vessel" in pack.facts.entities
    assert pack.facts.parse({"vessel": {"tonnage": 3}}) == {"vessel": {"tonnage": 3}}
    rule = next(pack_dir.rglob("high_tech_enterprise.2016.yaml"))
    rule.write_text(rule.read_text(encoding="utf-8").replace("applies_to: enterprise", "applies_to: ship"))
    with pytest.raises(RuleFileError, match=r"applies_to: must be an entity of facts\.yaml"):
        load_pack(pack_dir)
