"""The built wheel carries the policy pack and the migrations, so an installed `portal` works
outside the repository (issue 2 §1)."""

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.packaging import REPO, clean_env, uv

pytestmark = pytest.mark.slow  # builds the wheel


def test_wheel_ships_pack_and_migrations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "portal/_pack/rules/facts.yaml" in names
    assert "portal/_pack/rules/tax/high_tech_enterprise.2016.yaml" in names
    assert "portal/_pack/workflows/municipal.yaml" in names
    assert any(n.startswith("portal/_pack/forms/") for n in names)
    assert "portal/_alembic/env.py" in names
    assert "portal/py.typed" in names  # PEP 561: type checkers read the installed package's hints
    assert any(n.startswith("portal/web/templates/") for n in names)
    assert any(n.startswith("portal/documents/assets/") for n in names)


def test_installed_wheel_checks_outside_the_repository(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [uv(), "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
    )
    facts = tmp_path / "facts.json"
    shutil.copy(REPO / "portal/demo/enterprise.json", facts)
    env = clean_env(PYTHONPATH=str(target))
    command = ["check", str(facts), "--json", "--on", "2026-06-01"]
    run = subprocess.run(
        [sys.executable, "-c", "from portal.cli import app; app()", *command],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    measures = {r["measure"] for r in document["results"]}
    assert "tax.high_tech_enterprise" in measures
    where = subprocess.run(
        [sys.executable, "-c", "from portal.settings import Settings; print(Settings().pack_dir)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.strip().startswith(str(target))
