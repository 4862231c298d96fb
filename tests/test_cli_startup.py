"""`portal --help` and `portal check` stay light: a command imports only the modules it uses.

Start-up time is what a person at the terminal feels, and it was 99.9% imports. Timing would make
a flaky test, so this checks the cause instead: which heavy libraries a fresh interpreter holds
after importing the CLI, and after running `portal check`.
"""

import json
import subprocess
import sys
from pathlib import Path

HEAVY = (
    "weasyprint",
    "sqlalchemy",
    "sqlmodel",
    "fastapi",
    "starlette",
    "cn2an",
    "uvicorn",
    "duckdb",
    "procrastinate",
)
DEMO_FACTS = Path(__file__).resolve().parents[1] / "portal" / "demo" / "enterprise.json"


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return list(json.loads(done.stdout.splitlines()[-1]))


def test_importing_the_cli_pulls_in_no_heavy_library() -> None:
    assert _loaded_after("import portal.cli") == []


def test_help_pulls_in_no_heavy_library() -> None:
    code = (
        "from portal.cli import app\n"
        "try:\n    app(['--help'], standalone_mode=False)\nexcept SystemExit:\n    pass"
    )
    assert _loaded_after(code) == []


def test_check_pulls_in_no_heavy_library() -> None:
    code = (
        "import contextlib, io\nfrom portal.cli import app\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    app(['check', {str(DEMO_FACTS)!r}, '--json', '--on', '2026-06-01'], standalone_mode=False)"
    )
    assert _loaded_after(code) == []
