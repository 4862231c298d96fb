"""The deployment files name only `portal` commands and options that exist.

Containers and systemd cannot run on the test machines, so this is what can be checked here:
every command line in compose.yaml and deploy/systemd parses as a real `portal` invocation.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from portal.cli import app

ROOT = Path(__file__).resolve().parents[1]


def _command_lines() -> list[str]:
    lines = []
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text("utf-8"))
    for service in compose["services"].values():
        command = service.get("command")
        if isinstance(command, list):
            lines.append(command[-1] if command[:2] == ["sh", "-c"] else shlex.join(command))
    for unit in sorted((ROOT / "deploy" / "systemd").glob("*.service")):
        lines += re.findall(r"^ExecStart=(.*)$", unit.read_text("utf-8"), flags=re.M)
    lines.append(
        " ".join(
            re.findall(r"^CMD \[(.*)\]$", (ROOT / "Containerfile").read_text("utf-8"), re.M)[0]
            .replace('"', "")
            .split(", ")
        )
    )
    return lines


def _invocations() -> list[list[str]]:
    found = []
    for line in _command_lines():
        for match in re.finditer(r"(?:^|[\s/;&(])portal((?:\s+[^\s;&|>]+)+)", line):
            words = shlex.split(match.group(1).replace("$(", "").replace(")", ""))
            found.append(words)
    return found


INVOCATIONS = _invocations()


def test_the_deployment_files_were_read() -> None:
    assert len(INVOCATIONS) >= 8


@pytest.mark.parametrize("words", INVOCATIONS, ids=[" ".join(w[:3]) for w in INVOCATIONS])
def test_each_portal_command_and_option_exists(words: list[str]) -> None:
    command = [w for w in words if not w.startswith("-")][:2]
    runner = CliRunner()
    result = runner.invoke(app, [*command, "--help"])
    if result.exit_code != 0:  # a one-word command (`portal serve`)
        command = command[:1]
        result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, (words, result.output)
    for option in (w.split("=")[0] for w in words if w.startswith("--")):
        assert option in result.output, f"portal {' '.join(command)} has no {option}"
