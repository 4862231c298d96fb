"""pack.yaml's `jurisdictions.units`: the unit a district stage names, checked when the pack loads."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from portal.city import load_city
from portal.rules.errors import RuleFileError
from portal.rules.pack import PACK_FILE

REPO = Path(__file__).resolve().parents[2]
LAKESIDE = REPO / "tests" / "packs" / "lakeside"


def test_a_district_stage_names_the_district_bureau_in_both_languages() -> None:
    districts = load_city(REPO).jurisdictions
    haizhu = "haizhu"
    assert districts.label(haizhu, "zh") == "海珠区"
    assert districts.unit(haizhu, "zh") == "广州市海珠区科技工业商务和信息化局"
    assert districts.unit(haizhu, "en").startswith("Haizhu District Bureau of")
    unnamed = next(value for value in districts.inside if value not in districts.units)
    assert districts.unit(unnamed, "zh") == districts.label(unnamed, "zh")  # not yet named: its label


def _lakeside_with(tmp_path: Path, units: str) -> Path:
    pack = tmp_path / "pack"
    shutil.copytree(LAKESIDE, pack)
    text = (pack / PACK_FILE).read_text(encoding="utf-8")
    marker = "jurisdictions:\n"
    assert marker in text
    (pack / PACK_FILE).write_text(text.replace(marker, marker + units, 1), encoding="utf-8")
    return pack


def test_another_pack_names_its_own_district_units(tmp_path: Path) -> None:
    plain = load_city(LAKESIDE).jurisdictions
    district = plain.inside[0]
    assert plain.unit(district, "en") == plain.label(district, "en")
    units = f"  units:\n    {district}: {{zh: 北岸区审核办, en: North Shore review office}}\n"
    named = load_city(_lakeside_with(tmp_path, units)).jurisdictions
    assert (
        named.unit(district, "zh") == "北岸区审核办"
        and named.unit(district, "en") == "North Shore review office"
    )


@pytest.mark.parametrize(
    ("units", "says"),
    [
        ("  units:\n    atlantis: {zh: 某局, en: A bureau}\n", "'atlantis' is not one of"),
        ("  units:\n    FIRST: {zh: 某局}\n", "missing ['en']"),
    ],
)
def test_a_bad_unit_is_refused_when_the_pack_loads(tmp_path: Path, units: str, says: str) -> None:
    district = load_city(LAKESIDE).jurisdictions.inside[0]
    with pytest.raises(RuleFileError) as refused:
        load_city(_lakeside_with(tmp_path, units.replace("FIRST", district)))
    assert says in str(refused.value) and "jurisdictions.units" in str(refused.value)


def test_a_bureau_stage_claims_no_level_while_district_bureaus_lead_measures() -> None:
    """Haizhu's bureau leads measures of its own (units.yaml), so the stage it reviews them at
    cannot be called 市级复核 on its cases: a bureau stage's label names no level."""
    from portal.rules import load_pack
    from portal.workflows import load_workflows

    pack = load_pack(REPO / "rules")
    led_by_a_district = {rule.lead_unit for rule in pack.rules} & {"hzkgxj"}
    assert led_by_a_district, "the pack no longer has a district-led measure: revisit this test"
    labels = [
        (workflow.name, state.label.zh)
        for workflow in load_workflows(REPO / "workflows").values()
        for state in workflow.states
        if state.responsible == "bureau"
    ]
    assert labels and not [label for label in labels if "市级" in label[1] or "区级" in label[1]], labels
