"""The committed diagrams in docs/workflows/ are exactly what the definitions render."""

from pathlib import Path

import pytest
from typer.testing import CliRunner
from wf_helpers import REPO

from portal.cli import app
from portal.settings import get_settings
from portal.workflows import Workflow
from portal.workflows.diagrams import workflow_page


def test_committed_pages_match_the_definitions(workflows: dict[str, Workflow]) -> None:
    docs = REPO / "docs" / "workflows"
    assert sorted(p.stem for p in docs.glob("*.md")) == sorted(workflows)
    for name, workflow in workflows.items():
        committed = (docs / f"{name}.md").read_text(encoding="utf-8")
        assert committed == workflow_page(workflow), f"run `portal workflows docs` to refresh {name}.md"


def test_mermaid_has_every_state_and_edge(workflows: dict[str, Workflow]) -> None:
    for workflow in workflows.values():
        text = workflow.mermaid()
        assert text.startswith("stateDiagram-v2\n")
        for state in workflow.states:
            assert f" as {state.name}\n" in text
        arrows = [line for line in text.splitlines() if " --> " in line and "[*]" not in line]
        assert len(arrows) == len(workflow.transitions)


def test_cli_writes_and_checks_pages(tmp_path: Path) -> None:
    runner = CliRunner()
    stale = runner.invoke(app, ["workflows", "docs", "--check", "--out", str(tmp_path)])
    assert stale.exit_code == 1 and "out of date" in stale.output
    written = runner.invoke(app, ["workflows", "docs", "--out", str(tmp_path)])
    assert written.exit_code == 0, written.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bank_loan.md",
        "identity_check.md",
        "municipal.md",
        "short_track.md",
    ]
    fresh = runner.invoke(app, ["workflows", "docs", "--check", "--out", str(tmp_path)])
    assert fresh.exit_code == 0 and "up to date" in fresh.output


def test_cli_reports_an_unwritable_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    result = CliRunner().invoke(app, ["workflows", "docs", "--out", str(blocker / "sub")])
    assert result.exit_code == 2
    assert "cannot write" in result.output and result.exception is not None
    assert not isinstance(result.exception, OSError)


def test_cli_names_a_bad_workflow_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "workflows").mkdir()
    bad = tmp_path / "workflows" / "municipal.yaml"
    bad.write_text("name: municipal\ntitle: {zh: 流程}\n", encoding="utf-8")
    monkeypatch.setenv("PORTAL_PACK_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["workflows", "docs", "--check"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert str(bad) in result.output and "Traceback" not in result.output
