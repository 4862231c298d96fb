"""The real policy pack in rules/: it loads, lints clean and every example passes."""

from pathlib import Path

import pytest

from portal.rules import load_pack
from portal.rules.examples import run_examples
from portal.rules.lint import lint_paths

RULES = Path(__file__).resolve().parents[2] / "rules"


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
