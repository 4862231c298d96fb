"""The engines stay pure: they import nothing from db, services or web, and read no environment.

Walking the source rather than importing it means a forbidden import is caught even in a
branch no test executes. Relative imports (`from ..services import x`) are resolved first, so
they cannot slip past.
"""

import ast
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parents[1] / "portal"
ENGINES = ("rules", "forms", "workflows", "documents", "screening")
FORBIDDEN = ("portal.db", "portal.services", "portal.web", "portal.settings", "portal.cli")


def _imports(path: Path) -> list[tuple[int, str]]:
    package = ["portal", *path.relative_to(PORTAL).parent.parts]
    return _imports_in(path.read_text(encoding="utf-8"), package)


def _imports_in(source: str, package: list[str]) -> list[tuple[int, str]]:
    """Every module a source imports, relative imports resolved against its `package`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                found.append((node.lineno, node.module or ""))
                continue
            base = ".".join([*package[: len(package) - (node.level - 1)], *filter(None, [node.module])])
            found += [(node.lineno, base)] + [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def test_relative_imports_are_resolved() -> None:
    source = "from ...services import cases\nfrom . import compiler\nfrom ...web.app import create_app\n"
    names = {name for _, name in _imports_in(source, ["portal", "rules", "batch"])}
    assert {"portal.services.cases", "portal.rules.batch.compiler", "portal.web.app"} <= names


def _engine_files() -> list[Path]:
    return sorted(p for engine in ENGINES for p in (PORTAL / engine).rglob("*.py"))


def test_engines_exist() -> None:
    assert len(_engine_files()) > 20


@pytest.mark.parametrize("path", _engine_files(), ids=lambda p: str(p.relative_to(PORTAL)))
def test_engine_imports_no_outer_layer(path: Path) -> None:
    bad = [
        f"{path.name}:{line}: imports {name}"
        for line, name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    ]
    assert not bad, bad


@pytest.mark.parametrize("path", _engine_files(), ids=lambda p: str(p.relative_to(PORTAL)))
def test_engine_reads_no_environment(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert "os.environ" not in source and "getenv" not in source
