"""Helpers of the packaging tests: where the checkout is, uv, and an environment blind to the checkout."""

import os
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def uv() -> str:
    return shutil.which("uv") or str(Path.home() / ".local/bin/uv")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without the portal's settings and without anything pointing at the checkout."""
    dropped = ("PORTAL_", "PYTHONPATH", "VIRTUAL_ENV", "MYPYPATH", "DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.update(extra)
    return env
