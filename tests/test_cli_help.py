"""Every command's `--help` names what an option takes in the reader's words, never a Python type.

Typer prints an option's type when it has no metavar (`<str>`, `<path>`), and Typer 0.29 printed
`<bool>` after every flag, as if `--notify` took a value. Each option of ours names its value
(FILE, YYYY-MM-DD, sqlite|duckdb|postgres) and a flag names none.
"""

import re

import typer
from typer.testing import CliRunner

from portal.cli import app

PYTHON_TYPE = re.compile(r"<(?:bool|str|path|int|float|list|[a-z_]+ range)\b[^>]*>")


def _commands(group: typer.Typer, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [
        (*prefix, info.name or (info.callback.__name__ if info.callback else ""))
        for info in group.registered_commands
    ]
    for sub in group.registered_groups:
        assert sub.typer_instance is not None and sub.name is not None
        found += _commands(sub.typer_instance, (*prefix, sub.name))
    return found


def _options_panel(help_text: str) -> str:
    """The Options box of a rich help page: arguments may show their type beside their name."""
    start = help_text.find("─ Options ")
    return help_text[start : help_text.find("╰", start)] if start >= 0 else ""


def test_no_option_shows_a_python_type_and_no_flag_a_value() -> None:
    runner = CliRunner()
    commands = _commands(app)
    assert ("screen",) in commands and ("banks", "key") in commands, commands
    shown: dict[str, list[str]] = {}
    for command in commands:
        done = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
        assert done.exit_code == 0, (command, done.output)
        panel = _options_panel(done.output)
        assert "--help" in panel, (command, done.output)
        if found := PYTHON_TYPE.findall(panel):
            shown[" ".join(command)] = found
    assert shown == {}


def test_a_value_option_names_its_value() -> None:
    done = CliRunner().invoke(app, ["screen", "--help"], env={"COLUMNS": "200"})
    panel = _options_panel(done.output)
    assert re.search(r"--on\s+YYYY-MM-DD\s", panel) and re.search(
        r"--engine\s+sqlite\|duckdb\|postgres\s", panel
    )
    assert re.search(r"--notify\s+With INPUT db:", panel), panel
