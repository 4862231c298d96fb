"""A measure's rule names the rubric its experts score on (`rubric:`), else pack.yaml's
`scoring.rubric`; a name without a rubric file stops start-up, naming the file and the field."""

import shutil
from pathlib import Path

import pytest

from portal.rules.errors import RuleFileError
from portal.services.context import Portal
from portal.settings import Settings
from portal.workflows import WorkflowFileError
from portal.workflows.rubric import load_rubrics

REPO = Path(__file__).parents[2]
HIGH_TECH = "rules/tax/high_tech_enterprise.2016.yaml"


def _pack(tmp_path: Path, edits: dict[str, tuple[str, str]]) -> Path:
    """A copy of the repository's pack with `edits` (file → (old, new)) applied to its text."""
    pack = tmp_path / "pack"
    pack.mkdir()
    for name in ("forms", "workflows"):
        (pack / name).symlink_to(REPO / name)
    shutil.copytree(REPO / "rules", pack / "rules")
    shutil.copy(REPO / "pack.yaml", pack / "pack.yaml")
    for name, (old, new) in edits.items():
        path = pack / name
        text = path.read_text(encoding="utf-8")
        assert old in text, (name, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return pack


def _portal(tmp_path: Path, pack: Path) -> Portal:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'portal.db'}", pack_dir=pack)
    return Portal.from_settings(settings)


def test_every_rubric_file_is_loaded_by_its_id() -> None:
    rubrics = load_rubrics(REPO / "workflows" / "rubrics")
    assert {"default", "high_tech_enterprise", "st_sme"} <= set(rubrics)
    assert all(rubric.id == name for name, rubric in rubrics.items())
    high_tech = rubrics["high_tech_enterprise"]
    assert [(c.label.zh, c.weight) for c in high_tech.criteria] == [
        ("知识产权", 30),
        ("科技成果转化能力", 30),
        ("研究开发组织管理水平", 20),
        ("企业成长性", 20),
    ]
    st_sme = rubrics["st_sme"]
    indicators = [("科技人员", 20), ("研发投入", 50), ("科技成果", 30)]
    assert [(c.label.zh, c.weight) for c in st_sme.criteria] == indicators
    assert st_sme.pass_mark == 60


def test_a_rubric_whose_id_is_not_its_file_name_is_refused(tmp_path: Path) -> None:
    text = (REPO / "workflows" / "rubrics" / "default.yaml").read_text(encoding="utf-8")
    (tmp_path / "project.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(WorkflowFileError) as refused:
        load_rubrics(tmp_path)
    assert refused.value.path == tmp_path / "project.yaml" and refused.value.message.startswith("id: ")


def test_a_measure_gets_the_rubric_its_rule_names_else_the_default(tmp_path: Path) -> None:
    portal = _portal(tmp_path, REPO)
    assert portal.rubric_for("tax.high_tech_enterprise").id == "high_tech_enterprise"
    assert portal.rubric_for("qualification.st_sme").id == "st_sme"
    for project in ("subsidy.ai_scenario_demo", "subsidy.compute_voucher", "procurement.ai_product_listing"):
        assert portal.rubric_for(project).id == "default", project
    # The default is pack data: pack.yaml names it.
    pack = _pack(tmp_path, {"pack.yaml": ("  rubric: default", "  rubric: st_sme")})
    assert _portal(tmp_path, pack).rubric_for("subsidy.compute_voucher").id == "st_sme"


def test_a_pack_written_before_rubrics_were_chosen_scores_on_its_default_rubric(tmp_path: Path) -> None:
    """`scoring` is an addition to pack.yaml: a pack without it runs as before, every measure whose
    rule names no rubric scored on rubrics/default.yaml."""
    text = (REPO / "pack.yaml").read_text(encoding="utf-8")
    scoring = text[text.index("# 专家评审") :]
    assert scoring.rstrip().endswith("rubric: default")
    pack = _pack(tmp_path, {"pack.yaml": (scoring, "")})
    portal = _portal(tmp_path, pack)
    assert portal.rubric_for("subsidy.compute_voucher").id == "default"
    assert portal.rubric_for("qualification.st_sme").id == "st_sme"


@pytest.mark.parametrize(
    ("edits", "file", "field"),
    [
        ({HIGH_TECH: ("rubric: high_tech_enterprise", "rubric: high_tech")}, HIGH_TECH, "rubric"),
        ({"pack.yaml": ("  rubric: default", "  rubric: project")}, "pack.yaml", "scoring.rubric"),
    ],
)
def test_an_unknown_rubric_name_stops_start_up_naming_file_and_field(
    tmp_path: Path, edits: dict[str, tuple[str, str]], file: str, field: str
) -> None:
    pack = _pack(tmp_path, edits)
    with pytest.raises(RuleFileError) as refused:
        _portal(tmp_path, pack)
    assert (refused.value.path, refused.value.field) == (pack / file, field)
    assert "no rubric" in refused.value.message and "high_tech_enterprise, st_sme" in refused.value.message
    if file == HIGH_TECH:
        assert refused.value.line == 10


def test_a_measure_s_versions_name_one_rubric(tmp_path: Path) -> None:
    later = "rules/tax/rd_super_deduction.2028.yaml"
    pack = _pack(tmp_path, {later: ("workflow: municipal\n", "workflow: municipal\nrubric: st_sme\n")})
    with pytest.raises(RuleFileError) as refused:
        _portal(tmp_path, pack)
    assert (refused.value.path, refused.value.field) == (pack / later, "rubric")
    assert "rd_super_deduction.2023.yaml names none" in refused.value.message
