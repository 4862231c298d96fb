"""docs/library.md is true: every Python block runs, and type-checks in strict mode, against the
wheel installed in a fresh virtual environment outside the checkout (issue 19).

Each block is a complete script, run on its own in an empty directory. The public API is exactly
what the guide imports: each engine package's `__all__` is compared with the guide's imports.
"""

import ast
import importlib
import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.packaging import REPO, clean_env

GUIDE = REPO / "docs" / "library.md"
ENGINES = ("portal.rules", "portal.screening", "portal.forms", "portal.workflows", "portal.documents")
FENCE = "```"


def python_blocks(markdown: str) -> list[str]:
    """The bodies of the ```python fences, in order."""
    blocks: list[str] = []
    body: list[str] | None = None
    for line in markdown.splitlines():
        if body is None and line.strip() == FENCE + "python":
            body = []
        elif body is not None and line.strip() == FENCE:
            blocks.append("\n".join(body) + "\n")
            body = None
        elif body is not None:
            body.append(line)
    assert body is None, "docs/library.md: a ```python fence is not closed"
    return blocks


BLOCKS = python_blocks(GUIDE.read_text(encoding="utf-8"))


def test_the_guide_has_its_steps() -> None:
    assert len(BLOCKS) >= 8


@pytest.mark.slow  # builds the wheel and a fresh venv (once per run)
@pytest.mark.parametrize("number", range(1, len(BLOCKS) + 1))
def test_guide_block_runs_outside_the_checkout(number: int, installed_python: Path, tmp_path: Path) -> None:
    script = tmp_path / f"step_{number}.py"
    script.write_text(BLOCKS[number - 1], encoding="utf-8")
    run = subprocess.run(
        [str(installed_python), "-I", script.name],
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, f"block {number} of docs/library.md failed:\n{run.stderr}"
    assert run.stdout.strip(), f"block {number} printed nothing"


@pytest.mark.slow  # builds the wheel and a fresh venv (once per run)
def test_the_installed_wheel_is_not_the_checkout(installed_python: Path, tmp_path: Path) -> None:
    where = subprocess.run(
        [str(installed_python), "-I", "-c", "import portal, portal.rules; print(portal.rules.__file__)"],
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, check=True,
    )  # fmt: skip
    module = Path(where.stdout.strip())
    assert module.is_relative_to(installed_python.parent.parent)
    assert not module.is_relative_to(REPO)
    assert (module.parent.parent / "py.typed").is_file()


MYPY_CONFIG = """\
[mypy]
strict = True
python_version = 3.11
cache_dir = {cache}

[mypy-pyarrow.*]
# pyarrow ships no type hints; `portal` must not need this, so it is listed alone.
ignore_missing_imports = True
"""

# A control: the check must see the installed package's hints, so a wrong argument is an error.
WRONG = """\
from portal.rules import load_pack

load_pack(42)
"""


@pytest.mark.slow  # builds the wheel and a fresh venv (once per run)
def test_guide_blocks_typecheck_against_the_installed_wheel(installed_python: Path, tmp_path: Path) -> None:
    for number, block in enumerate(BLOCKS, 1):
        (tmp_path / f"step_{number}.py").write_text(block, encoding="utf-8")
    (tmp_path / "wrong.py").write_text(WRONG, encoding="utf-8")
    config = tmp_path / "mypy.ini"
    config.write_text(MYPY_CONFIG.format(cache=tmp_path / ".mypy_cache"), encoding="utf-8")
    files = sorted(p.name for p in tmp_path.glob("*.py"))
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config),
         "--python-executable", str(installed_python), "--no-error-summary", *files],
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    errors = [line for line in run.stdout.splitlines() if ": error:" in line]
    expected = 'wrong.py:3: error: Argument 1 to "load_pack" has incompatible type "int"; expected "Path"'
    assert [e for e in errors if not e.startswith(expected)] == [], run.stdout
    assert len(errors) == 1, run.stdout + run.stderr


def guide_imports() -> dict[str, set[str]]:
    """Names the guide imports from each engine package."""
    used: dict[str, set[str]] = {name: set() for name in ENGINES}
    for block in BLOCKS:
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.ImportFrom) and node.module in used:
                used[node.module] |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(ENGINES):
                pytest.fail(f"the guide imports from an internal module: {node.module}")
    return used


@pytest.mark.parametrize("package", ENGINES)
def test_each_engine_exports_exactly_what_the_guide_uses(package: str) -> None:
    module = importlib.import_module(package)
    assert sorted(module.__all__) == sorted(guide_imports()[package])
    # Nothing else is reachable from the package by a public-looking name (submodules aside).
    loose = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "TYPE_CHECKING"
    } - set(module.__all__)
    assert not loose, f"{package} holds names outside __all__: {sorted(loose)}"
    for name in module.__all__:
        value = getattr(module, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            doc = value.__dict__.get("__doc__") if inspect.isclass(value) else value.__doc__
            assert doc and not doc.startswith(f"{name}("), f"{package}.{name} has no docstring"


def test_python_blocks_are_found() -> None:
    markdown = textwrap.dedent(
        """\
        text
        ```python
        print(1)
        ```
        ```sh
        ls
        ```
        ```python
        print(2)
        ```
        """
    )
    assert python_blocks(markdown) == ["print(1)\n", "print(2)\n"]


@pytest.mark.slow  # builds the wheel and a fresh venv (once per run)
def test_versions_agree(installed_python: Path, tmp_path: Path) -> None:
    """pyproject's version, `portal.__version__`, the wheel's metadata and the CHANGELOG's newest release."""
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    newest = next(line for line in changelog.splitlines() if line.startswith("## ["))
    script = "import importlib.metadata as m, portal; print(m.version('portal'), portal.__version__)"
    report = subprocess.run(
        [str(installed_python), "-I", "-c", script],
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, check=True,
    )  # fmt: skip
    metadata, module = report.stdout.split()
    assert metadata == module
    assert newest.startswith(f"## [{module}]")


@pytest.mark.slow  # builds the whole reference (seconds)
def test_the_reference_documents_every_public_name(tmp_path: Path) -> None:
    """`make docs` in strict mode, and every name of every `__all__` has its entry in the reference."""
    site = tmp_path / "site"
    mkdocs = Path(sys.executable).parent / "mkdocs"
    build = subprocess.run(
        [str(mkdocs), "build", "--site-dir", str(site)], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert build.returncode == 0, build.stderr
    for package in ENGINES:
        page = (site / "api" / package.removeprefix("portal.") / "index.html").read_text(encoding="utf-8")
        missing = [n for n in importlib.import_module(package).__all__ if f'id="{package}.{n}"' not in page]
        assert not missing, f"the reference of {package} lacks {missing}"
