"""No synchronous service call runs on the event loop (issue 13 §4, issue 14 §8).

An `async def` route may await the request body; every call into `portal.services` (database
work) must go through `run_in_threadpool`, or the whole instance stalls while it runs.
"""

import ast
from pathlib import Path

import pytest

ROUTERS = Path(__file__).resolve().parents[2] / "portal" / "web" / "routers"


def _service_names(tree: ast.Module) -> set[str]:
    """Names this module bound from portal.services (modules or functions)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("portal.services"):
            names |= {alias.asname or alias.name for alias in node.names}
    return names


def _direct_service_calls(function: ast.AsyncFunctionDef, services: set[str]) -> list[str]:
    """Service calls outside `run_in_threadpool`; building a value object (`x.Upload(...)`) is fine."""
    offloaded: set[int] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "run_in_threadpool":
            offloaded |= {id(inner) for inner in ast.walk(node)}
    found = []
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and id(node) not in offloaded:
            root = node.func
            while isinstance(root, ast.Attribute):
                root = root.value
            constructs = isinstance(node.func, ast.Attribute) and node.func.attr[:1].isupper()
            if isinstance(root, ast.Name) and root.id in services and not constructs:
                found.append(f"{function.name}:{node.lineno} {ast.unparse(node.func)}")
    return found


@pytest.mark.parametrize("path", sorted(ROUTERS.glob("*.py")), ids=lambda p: p.name)
def test_async_routes_offload_service_calls(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    services = _service_names(tree)
    calls = [
        call
        for node in ast.walk(tree)
        if isinstance(node, ast.AsyncFunctionDef)
        for call in _direct_service_calls(node, services)
    ]
    assert calls == []
