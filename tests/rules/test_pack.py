"""The real policy pack in rules/: it loads, lints clean and every example passes."""

import shutil
from pathlib import Path

import pytest

from portal.rules import RuleFileError, load_pack
from portal.rules.examples import run_examples
from portal.rules.lint import lint_paths

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
