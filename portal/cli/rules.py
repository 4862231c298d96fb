"""`portal rules lint|test|list` and `portal check`: the rule engine's published command line.

Exit codes: 0 fine; 1 a problem in the pack (lint findings, failing examples, unreadable pack);
2 bad input (facts file, option value). Errors are one line naming the file or fact, never a
traceback. The pack location is read from settings here, never inside the engine.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from portal.cli.bootstrap import fail, load_rules, parse_day, settings, today
from portal.cli.inputs import refuse_hostile

if TYPE_CHECKING:
    from portal.rules import Pack
    from portal.rules.model import Rule

app = typer.Typer(
    help="The policy pack's rules: lint them, run their examples, list them.", no_args_is_help=True
)

PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(metavar="PATH", help="Pack directories or rule files (default: the configured pack)."),
]


def _default_paths(paths: list[Path] | None) -> list[Path]:
    return paths or [settings().rules_dir]


@app.command("lint")
def lint(paths: PathsArg = None) -> None:
    """Check schema, names, types, windows, tables, citations, zh/en text and examples."""
    from portal.rules.lint import lint_paths

    problems = lint_paths(_default_paths(paths))
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        typer.echo(f"{len(problems)} problem(s)", err=True)
        raise typer.Exit(code=1)
    typer.echo("ok")


def _load_for(paths: list[Path]) -> list[tuple[Pack, list[Rule]]]:
    """The packs holding `paths`, each with the rules that lie in the named files or directories."""
    from portal.rules.lint import find_pack_root
    from portal.rules.pack import rule_files

    chosen: dict[Path, list[Path]] = {}
    for path in paths:
        root = find_pack_root(path) if path.exists() else None
        if root is None:
            raise fail(f"{path}: not a rule file or pack directory (no facts.yaml found)", 1)
        chosen.setdefault(root, []).append(path.resolve())
    loaded = []
    for root, selected in chosen.items():
        pack = load_rules(root)
        wanted = {
            f.resolve()
            for f in rule_files(root)
            if any(f.resolve() == s or s in f.resolve().parents for s in selected)
        }
        loaded.append((pack, [r for r in pack.rules if r.path.resolve() in wanted]))
    return loaded


@app.command("test")
def test(paths: PathsArg = None) -> None:
    """Run every example of every selected rule file; ends with `N passed, M failed`."""
    from portal.rules.examples import run_examples

    passed = failed = 0
    for pack, rules in _load_for(_default_paths(paths)):
        for run in run_examples(rules, pack.facts):
            if run.passed:
                passed += 1
                continue
            failed += 1
            typer.echo(
                f"{run.location}: {run.rule.id} {run.rule.version} «{run.example.name}»: "
                + "; ".join(run.problems)
            )
    typer.echo(f"{passed} passed, {failed} failed")
    if failed:
        raise typer.Exit(code=1)


@app.command("list")
def list_rules(paths: PathsArg = None) -> None:
    """A table of every measure version: id, version, category, window and source."""
    from rich.console import Console
    from rich.table import Table

    table = Table()
    for header in ("id", "version", "category", "window", "source"):
        table.add_column(header, overflow="fold")
    for _pack, rules in _load_for(_default_paths(paths)):
        for rule in sorted(rules, key=lambda r: (r.id, r.effective_from)):
            table.add_row(rule.id, rule.version, rule.category, rule.window_text(), rule.source.citation())
    Console().print(table)


def check(
    facts_file: Annotated[Path, typer.Argument(metavar="FACTS.json", help="Facts keyed by entity.")],
    on: Annotated[
        str | None, typer.Option("--on", metavar="YYYY-MM-DD", help="Evaluation date (default: today).")
    ] = None,
    measure: Annotated[
        list[str] | None,
        typer.Option("--measure", metavar="MEASURE", help="Only this measure id; repeatable."),
    ] = None,
    lang: Annotated[str, typer.Option("--lang", metavar="zh|en", help="The language of the answer.")] = "zh",
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON document.")] = False,
) -> None:
    """Which measures the facts qualify for, with benefits, trace and hints."""
    if lang not in ("zh", "en"):
        raise fail(f"--lang must be zh or en, got {lang!r}", 2)
    when = parse_day("--on", on) if on else today()
    try:
        # utf-8-sig: a byte-order mark, as some Windows editors write, is accepted and dropped.
        raw = json.loads(
            facts_file.read_text(encoding="utf-8-sig"),
            parse_float=Decimal,
            parse_constant=_no_constant,
            object_pairs_hook=_unique_keys,
        )
    except OSError as exc:
        raise fail(f"{facts_file}: cannot read: {exc.strerror}", 2) from None
    except _DuplicateKey as exc:
        raise fail(f"{facts_file}: duplicate key {exc.args[0]!r}", 2) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise fail(f"{facts_file}: not valid JSON: {exc}", 2) from None
    if not isinstance(raw, dict):
        raise fail(f"{facts_file}: expected an object keyed by entity", 2)
    refuse_hostile(facts_file, raw)
    from portal.rules import FactError

    pack = load_rules()
    try:
        document = pack.check(raw, when, measure or None, lang)
    except FactError as exc:
        raise fail(f"{facts_file}: {exc.fact}: {exc.message}", 2) from None
    except KeyError as exc:
        raise fail(str(exc.args[0]), 2) from None
    if as_json:
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    _print_table(document, lang)


class _DuplicateKey(ValueError):
    """A key given twice in one JSON object: the file is ambiguous, so it is refused."""


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    found: dict[str, object] = {}
    for key, value in pairs:
        if key in found:
            raise _DuplicateKey(key)
        found[key] = value
    return found


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number")


def _print_table(document: dict[str, object], lang: str) -> None:
    from rich.console import Console
    from rich.table import Table

    zh = lang == "zh"
    table = Table(title=("评估日期 " if zh else "Evaluated on ") + str(document["on"]))
    headers = (
        ("措施", "版本", "结果", "待遇", "提示")
        if zh
        else ("measure", "version", "outcome", "benefit", "hints")
    )
    for header in headers:
        table.add_column(header, overflow="fold")
    for result in document["results"]:  # type: ignore[attr-defined]
        benefit = "\n".join(f"{k} = {v}" for k, v in result["benefit"].items())
        table.add_row(
            result["measure"],
            result["version"] or "–",
            result["outcome"],
            benefit,
            "\n".join(result["hints"]),
        )
    Console().print(table)
