"""The built wheel, and a fresh virtual environment with it installed, made once per test run.

Building and installing take seconds, so every packaging test shares one wheel and one
environment. Under pytest-xdist each worker runs these session fixtures itself: a file lock in
the directory all workers share lets the first one build and the others reuse its result.
"""

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.packaging import REPO, clean_env, uv


def _shared_dir(factory: pytest.TempPathFactory) -> Path:
    base = factory.getbasetemp()
    # Each xdist worker gets its own basetemp below one directory of the run.
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = _shared_dir(tmp_path_factory) / "portal-wheel"
    with _exclusive(out.with_suffix(".lock")):
        if not list(out.glob("portal-*.whl")):
            subprocess.run([uv(), "build", "--wheel", "--out-dir", str(out), "--quiet"], cwd=REPO, check=True)
    (built,) = out.glob("portal-*.whl")
    return built


@pytest.fixture(scope="session")
def installed_python(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The interpreter of a new venv holding the wheel and its dependencies at uv.lock's versions."""
    venv = _shared_dir(tmp_path_factory) / "portal-venv"
    python = venv / "bin" / "python"
    done = venv / "installed"
    with _exclusive(venv.with_suffix(".lock")):
        if not done.is_file():
            shutil.rmtree(venv, ignore_errors=True)
            requirements = venv.with_suffix(".requirements.txt")
            subprocess.run(
                [uv(), "export", "--frozen", "--no-default-groups", "--no-emit-project", "--no-hashes",
                 "--quiet", "--output-file", str(requirements)],
                cwd=REPO, check=True,
            )  # fmt: skip
            subprocess.run([uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
            install = [uv(), "pip", "install", "--quiet", "--python", str(python)]
            subprocess.run([*install, "-r", str(requirements), str(wheel)], check=True, env=clean_env())
            done.touch()
    return python
