"""`portal screen` (batch screening) and `portal rules impact` (what a rule change would flip).

Both are thin: they read settings and files, call `portal.screening` (and, for `db:` and
`--notify`, `portal.services.screening`), and print. Exit codes:
0 done (rejected rows do not fail a run); 2 bad input or options; 1 a pack that cannot be
loaded or compiled.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from portal.rules import RuleFileError, load_pack
from portal.rules.batch.formula_sql import NotCompilable
from portal.rules.model import Rule
from portal.rules.pack import Pack
from portal.screening.engines import ENGINES, open_engine
from portal.screening.impact import ImpactReport, RefError, compare, resolve_ref
from portal.screening.inputs import InputError, read_input, read_records
from portal.screening.outputs import OutputError, check_out_path, rejects_path, write_out, write_rejects
from portal.screening.run import OUTCOMES
from portal.screening.run import screen as run_screen
from portal.services.context import Portal
from portal.services.screening import notify_eligible, register_records
from portal.settings import get_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
console = Console(stderr=True)


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=code)


def parse_on(on: str | None) -> date:
    """`--on` as a date; default today in Asia/Shanghai."""
    if on is None:
        return datetime.now(SHANGHAI).date()
    try:
        return date.fromisoformat(on)
    except ValueError:
        raise _fail(f"--on: {on!r} is not a date (YYYY-MM-DD)", 2) from None


def load_configured_pack(rules_dir: Path | None = None) -> Pack:
    try:
        return load_pack(rules_dir or get_settings().rules_dir)
    except RuleFileError as exc:
        raise _fail(str(exc), 1) from None


def choose_rules(pack: Pack, measures: list[str], on: date) -> list[Rule]:
    """The named measures in force on `on`, or every enterprise measure in force."""
    known = set(pack.measure_ids())
    unknown = [m for m in measures if m not in known]
    if unknown:
        raise _fail(f"--measure: unknown measure(s) {', '.join(unknown)}", 2)
    chosen: list[Rule] = []
    for measure in measures or pack.measure_ids():
        rule = pack.select(measure, on)
        if rule is None:
            if measures:
                console.print(f"[yellow]skipped {measure}: not in force on {on.isoformat()}[/]")
            continue
        if measures or rule.applies_to == "enterprise":
            chosen.append(rule)
    return chosen


def screen(
    source: Annotated[
        str, typer.Argument(metavar="INPUT", help="CSV, Parquet or JSON Lines of enterprise facts.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Result file: .csv or .parquet.")],
    measure: Annotated[list[str] | None, typer.Option("--measure", help="Measure id (repeatable).")] = None,
    on: Annotated[
        str | None, typer.Option("--on", help="Evaluation date YYYY-MM-DD (default today).")
    ] = None,
    engine: Annotated[str, typer.Option("--engine", help="sqlite | duckdb | postgres.")] = "duckdb",
    db_url: Annotated[
        str | None,
        typer.Option("--db-url", help="SQLAlchemy URL of the engine (postgres: default local server)."),
    ] = None,
    notify: Annotated[
        bool,
        typer.Option(
            "--notify", help="With INPUT db: notify enterprises eligible for a measure not applied to."
        ),
    ] = False,
) -> None:
    """Screen every input enterprise against the measures, in SQL; one OUT row per enterprise × measure.

    INPUT `db:` screens the portal's enterprise register (latest profile of each enterprise);
    nightly 免申即享 is `portal screen db: --out var/screening/nightly.parquet --notify`.
    """
    if engine not in ENGINES:
        raise _fail(f"--engine: {engine!r} is not one of {', '.join(ENGINES)}", 2)
    from_register = source == "db:"
    if notify and not from_register:
        raise _fail("--notify needs INPUT db: (notices go to registered enterprises)", 2)
    try:
        check_out_path(out)
    except OutputError as exc:
        raise _fail(str(exc), 2) from None
    when = parse_on(on)
    pack = load_configured_pack()
    rules = choose_rules(pack, measure or [], when)
    columns = [spec for spec in pack.facts.specs.values() if not spec.derived]
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    ) as progress:  # fmt: skip
        task = progress.add_task("reading input", total=len(rules) + 3)
        portal = Portal.from_settings(get_settings()) if from_register else None
        try:
            if portal is not None:
                data = read_records(register_records(portal), columns, source)
            else:
                data = read_input(Path(source), columns)
        except InputError as exc:
            raise _fail(str(exc), 2) from None
        progress.update(task, advance=1, description="loading facts")

        def step(name: str) -> None:
            progress.update(
                task, advance=1, description=f"screened {name}" if name != "load" else "screening"
            )

        try:
            with open_engine(engine, db_url).begin() as conn:
                result = run_screen(conn, data, rules, pack.facts, when, step)
        except NotCompilable as exc:
            raise _fail(f"a rule cannot be compiled to SQL: {exc}", 1) from None
        except SQLAlchemyError as exc:
            raise _fail(f"{engine}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}", 2) from None
        progress.update(task, description="writing")
        write_out(result.table, out)
        write_rejects(data.rejects, rejects_path(out))
        progress.update(task, advance=1)
    _print_summary(result.counts, data.total_rows, len(data.rejects), out)
    if portal is not None and notify:
        written = notify_eligible(portal, result.table, rules)
        console.print(f"{written} notification(s) written")


def _print_summary(counts: dict[str, dict[str, int]], total: int, rejected: int, out: Path) -> None:
    table = Table(title=f"{total} input rows, {rejected} rejected → {out}")
    table.add_column("measure")
    for outcome in OUTCOMES:
        table.add_column(outcome, justify="right")
    for measure, by_outcome in sorted(counts.items()):
        table.add_row(measure, *(str(by_outcome.get(o, 0)) for o in OUTCOMES))
    Console().print(table)
    if rejected:
        console.print(f"[yellow]{rejected} rejected row(s) listed in {rejects_path(out)}[/]")


def impact(
    old_ref: Annotated[
        str, typer.Argument(metavar="OLD_REF", help="A rule file, or a git revision of rules/.")
    ],
    new_ref: Annotated[
        str, typer.Argument(metavar="NEW_REF", help="A rule file, or a git revision of rules/.")
    ],
    input_file: Annotated[
        Path | None, typer.Option("--input", help="Screening INPUT to replay (CSV, Parquet or JSON Lines).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Replay stored applications submitted on or after this date."),
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="table | json | csv.")] = "table",
    on: Annotated[
        str | None, typer.Option("--on", help="Evaluation date YYYY-MM-DD (default today).")
    ] = None,
    measure: Annotated[
        list[str] | None, typer.Option("--measure", help="Only these measures (git REFs).")
    ] = None,
    repo: Annotated[
        Path | None,
        typer.Option("--repo", help="Git repository holding rules/ (default: the pack directory)."),
    ] = None,
) -> None:
    """Replay the same facts under OLD_REF and NEW_REF: outcome flips, benefit change, affected rows."""
    if output_format not in ("table", "json", "csv"):
        raise _fail(f"--format: {output_format!r} is not one of table, json, csv", 2)
    if input_file is None:
        # Stored applications live in the portal database, which this command cannot reach yet.
        raise _fail(
            "--input FILE is required: replaying stored applications is not available in this build", 2
        )
    if since is not None:
        raise _fail("--since selects stored applications; it does not apply to --input", 2)
    when = parse_on(on)
    pack = load_configured_pack()
    where = repo or get_settings().pack_dir
    try:
        old = resolve_ref(old_ref, where, when, measure or [])
        new = resolve_ref(new_ref, where, when, measure or [])
    except (RefError, RuleFileError) as exc:
        raise _fail(str(exc), 2) from None
    columns = [spec for spec in pack.facts.specs.values() if not spec.derived]
    try:
        data = read_input(input_file, columns)
        with open_engine("duckdb").begin() as conn:
            report = compare(conn, data, old, new, when)
    except (InputError, RefError) as exc:
        raise _fail(str(exc), 2) from None
    except NotCompilable as exc:
        raise _fail(f"a rule cannot be compiled to SQL: {exc}", 1) from None
    if data.rejects:
        console.print(f"[yellow]{len(data.rejects)} input row(s) rejected and not replayed[/]")
    if output_format == "json":
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    elif output_format == "csv":
        _print_impact_csv(report)
    else:
        _print_impact_table(report, old_ref, new_ref)


def _print_impact_csv(report: ImpactReport) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["key", "uscc", "measure", "old", "new", "old_benefit", "new_benefit"])
    for flip in report.flips:
        writer.writerow([
            flip.key, flip.uscc or "", flip.measure, flip.old, flip.new,
            json.dumps({k: str(v) for k, v in flip.old_benefit.items()}),
            json.dumps({k: str(v) for k, v in flip.new_benefit.items()}),
        ])  # fmt: skip


def _print_impact_table(report: ImpactReport, old_ref: str, new_ref: str) -> None:
    out = Console()
    flips = Table(title=f"{old_ref} → {new_ref}: {report.rows} rows, {len(report.flips)} flipped")
    flips.add_column("from")
    flips.add_column("to")
    flips.add_column("rows", justify="right")
    for (was, now), n in sorted(report.directions.items()):
        flips.add_row(was, now, str(n))
    out.print(flips)
    money = Table(title="benefit totals (eligible rows)")
    for name in ("benefit", "old", "new", "change"):
        money.add_column(name, justify="left" if name == "benefit" else "right")
    for name, (old, new) in sorted(report.benefit_totals.items()):
        money.add_row(name, str(old), str(new), str(new - old))
    out.print(money)
    affected = Table(title="affected rows")
    for name in ("key", "uscc", "measure", "old", "new"):
        affected.add_column(name)
    for flip in report.flips:
        affected.add_row(flip.key, flip.uscc or "", flip.measure, flip.old, flip.new)
    out.print(affected)
