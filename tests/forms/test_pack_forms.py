"""Every form in forms/ is valid 2020-12 and agrees with the rule pack it belongs to."""

from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from portal.forms import FormSpec
from portal.forms.lint import lint_forms
from tests.forms.conftest import REPO

REQUIRED_MEASURES = {
    "tax.high_tech_enterprise",
    "qualification.st_sme",
    "subsidy.ai_scenario_demo",
    "subsidy.model_filing",
    "procurement.first_set_reward",
    "talent.gba_iit_subsidy",
}


def test_the_required_measures_have_forms(forms: dict[str, FormSpec]) -> None:
    assert set(forms) >= REQUIRED_MEASURES


@pytest.mark.parametrize("path", sorted((REPO / "forms").glob("*.yaml")), ids=lambda p: p.stem)
def test_schema_is_valid_2020_12(path: Path, forms: dict[str, FormSpec]) -> None:
    spec = forms[path.stem]
    Draft202012Validator.check_schema(spec.schema)
    assert spec.schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert any(s.attachments for s in spec.sections)


def test_prefills_name_facts_of_the_right_type(forms: dict[str, FormSpec]) -> None:
    facts = yaml.safe_load((REPO / "rules" / "facts.yaml").read_text(encoding="utf-8"))
    assert lint_forms(forms, facts) == []


def test_every_form_belongs_to_a_measure_of_the_pack(forms: dict[str, FormSpec]) -> None:
    from portal.rules import load_pack

    facts = yaml.safe_load((REPO / "rules" / "facts.yaml").read_text(encoding="utf-8"))
    pack = load_pack(REPO / "rules")
    assert lint_forms(forms, facts, set(pack.measure_ids())) == []
