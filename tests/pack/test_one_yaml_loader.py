"""Every pack file is read by one YAML loader (issue 17 §3): exact numbers, no duplicate keys,
and none of YAML 1.1's surprises (`on:` is a key, not True)."""

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from portal.documents.wording import load_remedies
from portal.forms.errors import FormFileError
from portal.forms.load import load_form
from portal.rules.errors import RuleFileError
from portal.rules.yaml_loader import load_yaml
from portal.workflows import WorkingCalendar
from portal.workflows.loader import load_workflow
from portal.workflows.rubric import load_rubric

LOADERS: dict[str, Callable[[Path], object]] = {
    "workflow": load_workflow,
    "form": load_form,
    "rubric": load_rubric,
    "calendar": WorkingCalendar.load,
    "letter wording": load_remedies,
}


@pytest.mark.parametrize("kind", sorted(LOADERS))
def test_a_duplicate_key_is_refused_with_its_file_and_line(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\nb: 2\na: 3\n", encoding="utf-8")
    with pytest.raises((RuleFileError, FormFileError, ValueError)) as refused:
        LOADERS[kind](path)
    message = str(refused.value)
    assert "duplicate key 'a'" in message and "x.yaml" in message and "3" in message


def test_yaml_1_1_booleans_and_floats_do_not_surprise(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("on: yes\noff: 0.1\nflag: true\n", encoding="utf-8")
    assert load_yaml(path) == {"on": "yes", "off": Decimal("0.1"), "flag": True}


def test_the_calendar_alone_may_key_by_number(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("2026: a\n", encoding="utf-8")
    assert load_yaml(path, text_keys=False) == {2026: "a"}
    with pytest.raises(RuleFileError, match="mapping keys must be text"):
        load_yaml(path)
