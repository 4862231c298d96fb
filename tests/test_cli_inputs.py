"""Every CLI input passes the one boundary rule: NUL, C0 controls and bidi overrides in an
argument or in a text field of a file are refused in one line naming it, exit 2, no traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from portal.cli import app

PORTAL = str(Path(sys.executable).parent / "portal")
HOSTILE = ["nul\x00name", "bell\x07", "esc\x1b[31m", "scan\u202efdp.hta", "iso\u2066late"]


@pytest.mark.parametrize("value", HOSTILE, ids=["nul", "bel", "esc", "rlo", "lri"])
def test_a_hostile_argument_is_refused_before_any_command_runs(value: str) -> None:
    result = CliRunner().invoke(app, ["banks", "add", "--name", value, "--code", "gamma"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines == [
        "error: the value of --name contains a control or bidirectional-override character, "
        "which is not accepted"
    ], result.output
    positional = CliRunner().invoke(app, ["check", value])
    assert positional.exit_code == 2 and "argument 2 contains" in positional.output
    inline = CliRunner().invoke(app, ["check", "facts.json", f"--lang={value}"])
    assert inline.exit_code == 2 and "--lang contains" in inline.output


def test_multi_line_arguments_pass_the_guard(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check", str(tmp_path / "missing.json"), "--lang", "zh\tx"])
    assert "bidirectional" not in result.output


@pytest.mark.parametrize("value", HOSTILE, ids=["nul", "bel", "esc", "rlo", "lri"])
def test_a_hostile_text_field_in_a_file_is_named(tmp_path: Path, value: str) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({"enterprise": {"name": value}}), "utf-8")
    result = CliRunner().invoke(app, ["check", str(facts)])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: {facts}: field `enterprise.name` contains a control or bidirectional-override "
        "character, which is not accepted"
    )


def test_the_installed_command_refuses_in_one_line_without_a_traceback(tmp_path: Path) -> None:
    checkpoint = tmp_path / "checkpoint.json"
    checkpoint.write_text(json.dumps({"chains": {"audit\u202e": {"seq": 1}}}), "utf-8")
    done = subprocess.run(
        [PORTAL, "audit", "verify", "--checkpoint", str(checkpoint)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"error: {checkpoint}: field `chains.audit\\u202e` contains a control or bidirectional-override "
        "character, which is not accepted"
    ]
    assert "Traceback" not in done.stderr
    argument = subprocess.run(
        [PORTAL, "banks", "add", "--name", "x\x1by", "--code", "c"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert argument.returncode == 2 and len(argument.stderr.strip().splitlines()) == 1


def test_a_bad_setting_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    """A malformed environment variable stops the command with exit 2 and no traceback."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
        "PORTAL_PASSWORD_HASH_COST": "[1, 1, 1]",
    }
    done = subprocess.run(
        [str(Path(sys.executable).parent / "portal"), "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: environment variable PORTAL_PASSWORD_HASH_COST: ") and "8 × lanes" in line
