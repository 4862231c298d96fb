"""Nothing under portal/ names Guangzhou: the pack's identifiers never appear in the engine's code.

The identifiers are collected from the pack itself (measure ids, fact names, workflow, state and
event names, districts, tracks, unit codes, bank products). A hit is a Python string literal
(docstrings aside), or a quoted string in a template, style sheet or script, that equals one of
them, or a `stage-<name>` style class. The demo data (portal/demo/) may name them.

Some identifiers are also ordinary words of the engine's own vocabulary; they are listed once,
with the reason, in GENERIC below. Everything else is a real finding.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from portal.city import load_city
from portal.rules import load_pack
from portal.workflows import load_workflows

REPO = Path(__file__).resolve().parents[2]
PORTAL = REPO / "portal"
SKIPPED = ("demo", "_pack")

GENERIC: dict[str, str] = {
    # Events the engine gives their own use case: a pack's workflow uses these names for these steps.
    "submit": "engine event: submitting an application",
    "resubmit": "engine event: resubmitting after amendment",
    "return_for_amendment": "engine event: a reviewer reopens sections",
    "declare_no_conflict": "engine event: an expert's declaration",
    "score": "engine event: an expert's scores",
    "pass_mark_reached": "engine event: the panel reaches the pass mark",
    "dismiss_objection": "engine event: an objection dismissed",
    "uphold_objection": "engine event: an objection upheld",
    "withdraw": "engine event: the applicant withdraws",
    # Words of the engine's schema that a pack's names happen to share.
    "draft": "a state kind",
    "approved": "a decision outcome (and its letter wording)",
    "rejected": "a decision outcome; also a row outcome of batch screening",
    "accepted": "an upload's accepted file types",
    "registered": "English word in messages",
    "submitted": "a JSON field (submitted_at) and English word",
    "other": "English word",
    "outside": "English word in comments of code paths",
    "name": "an enterprise's registered name (db column)",
    "uscc": "the register's code column and the screening input's key (published)",
    "district": "an application's and a user's jurisdiction column",
    "amount": "a loan's column and the bank API's field (published)",
    "term_months": "a loan's column and the bank API's field (published)",
    "kind": "a letter's or a benefit's kind",
    "ai_track": "the register's track column and the registration form's field",
}


def pack_identifiers() -> dict[str, str]:
    pack = load_pack(REPO / "rules")
    workflows = load_workflows(REPO / "workflows")
    city = load_city(REPO)
    found: dict[str, str] = {}

    def add(kind: str, names: object) -> None:
        for name in names:  # type: ignore[attr-defined]
            found.setdefault(str(name), kind)

    add("measure id", pack.measure_ids())
    add("fact", [spec.qualified for spec in pack.facts.specs.values()])
    add("fact", [spec.name for spec in pack.facts.specs.values()])
    for workflow in workflows.values():
        add("workflow", [workflow.name])
        add("state", [state.name for state in workflow.states])
        add("event", [edge.event for edge in workflow.transitions])
    add("district", city.jurisdictions.labels)
    add("track", city.tracks.labels)
    add("unit code", pack.units)
    add("bank product", city.banking.products)
    return {name: kind for name, kind in found.items() if name not in GENERIC}


def _python_strings(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value.strip()


_QUOTED = re.compile(r"""["']([A-Za-z_][A-Za-z0-9_.]*)["']""")
_STAGE_CLASS = re.compile(r"\.stage-([a-z_]+)")


def _other_strings(path: Path) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for match in (*_QUOTED.finditer(line), *_STAGE_CLASS.finditer(line)):
            yield number, match.group(1)


def hits() -> list[str]:
    identifiers = pack_identifiers()
    found = []
    for path in sorted(PORTAL.rglob("*")):
        relative = path.relative_to(REPO)
        if not path.is_file() or any(part in SKIPPED for part in relative.parts):
            continue
        if path.suffix == ".py":
            strings = _python_strings(path)
        elif path.suffix in (".html", ".j2", ".yaml", ".css", ".js"):
            strings = _other_strings(path)
        else:
            continue
        for line, text in strings:
            if text in identifiers:
                found.append(f"{relative}:{line}: {identifiers[text]} {text!r}")
    return found


def test_the_identifiers_are_collected() -> None:
    identifiers = pack_identifiers()
    for name in ("subsidy.compute_voucher", "enterprise.revenue", "district_review", "tianhe", "gzsti"):
        assert name in identifiers, name
    assert not set(GENERIC) & set(identifiers)


def test_the_scanner_finds_a_literal(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('"""Mentions tianhe in a docstring."""\nX = "tianhe"\n', encoding="utf-8")
    assert list(_python_strings(module)) == [(2, "tianhe")]
    page = tmp_path / "p.html"
    page.write_text(
        '<span class="stage stage-{{ c.tone }}">{{ t("x") }}</span>\n.stage-approved {}', encoding="utf-8"
    )
    assert [text for _, text in _other_strings(page)] == ["x", "approved"]


def test_portal_names_no_guangzhou_identifier() -> None:
    assert hits() == []
