"""The pure replay of stored cases: which version each side judges a case by, and on which date."""

import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from portal.rules import Pack
from portal.screening.impact import RefError, resolve_ref
from portal.screening.replay import StoredCase, replay_cases

FIXTURE_RULES = Path(__file__).parent / "fixtures" / "pack" / "rules"
CREDIT_2021 = FIXTURE_RULES / "fixture" / "credit.2021.yaml"  # revenue ≤ 2,000万, until 2025-09-30
CREDIT_2025 = FIXTURE_RULES / "fixture" / "credit.2025.yaml"  # revenue ≤ 3,000万, from 2025-10-01
SINCE = date(2025, 1, 1)


def _case(pack: Pack, application_id: int, submitted_on: date) -> StoredCase:
    facts = pack.facts.parse({"enterprise": {"revenue": "25000000", "core_ip": True}})
    return StoredCase(
        application_id, "914401040000000011", "fixture.credit", "submitted", submitted_on, facts
    )


def _git_repo(tmp_path: Path) -> Path:
    """HEAD~1 holds only the 2021 version; HEAD adds the 2025 one."""
    repo = tmp_path / "repo"
    (repo / "rules").mkdir(parents=True)
    (repo / "rules" / "facts.yaml").write_bytes((FIXTURE_RULES / "facts.yaml").read_bytes())
    (repo / "rules" / CREDIT_2021.name).write_bytes(CREDIT_2021.read_bytes())
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "2021"], check=True)
    (repo / "rules" / CREDIT_2025.name).write_bytes(CREDIT_2025.read_bytes())
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "2025"], check=True)
    return repo


def test_rule_files_are_replayed_whatever_their_window(fixture_pack: Pack) -> None:
    old = resolve_ref(str(CREDIT_2021), FIXTURE_RULES, SINCE)
    new = resolve_ref(str(CREDIT_2025), FIXTURE_RULES, SINCE)
    report = replay_cases([_case(fixture_pack, 7, date(2025, 6, 1))], old, new, SINCE)
    assert dict(report.directions) == {("ineligible", "eligible"): 1}
    (change,) = report.changes
    assert change.new_benefit == {"compensation_ratio": Decimal("0.40"), "compensable": Decimal("5000000.00")}
    assert change.benefit_delta == {
        "compensable": Decimal("5000000.00"),
        "compensation_ratio": Decimal("0.40"),
    }
    assert report.benefit_totals == {"compensable": (Decimal(0), Decimal("5000000.00"))}


def test_a_revision_judges_each_case_by_the_version_in_force_on_its_day(
    fixture_pack: Pack, tmp_path: Path
) -> None:
    repo = _git_repo(tmp_path)
    old, new = (resolve_ref(ref, repo, SINCE, ["fixture.credit"]) for ref in ("HEAD~1", "HEAD"))
    cases = [_case(fixture_pack, 1, date(2025, 6, 1)), _case(fixture_pack, 2, date(2026, 1, 10))]
    report = replay_cases(cases, old, new, SINCE)
    # Case 1 falls under 2021 on both sides; case 2 has no version in force under HEAD~1.
    assert report.replayed == 2
    assert [(c.application_id, c.old, c.new) for c in report.changes] == [(2, "not_in_force", "eligible")]
    forced = replay_cases(cases, old, new, SINCE, on=date(2025, 6, 1))
    assert (forced.replayed, forced.changes) == (2, [])


def test_rule_files_of_two_measures_are_refused(fixture_pack: Pack) -> None:
    banded = FIXTURE_RULES / "fixture" / "banded.2020.yaml"
    old = resolve_ref(str(CREDIT_2021), FIXTURE_RULES, SINCE)
    with pytest.raises(RefError, match="different measures"):
        replay_cases([], old, resolve_ref(str(banded), FIXTURE_RULES, SINCE), SINCE)
