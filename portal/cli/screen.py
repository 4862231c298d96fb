"""`portal screen` (batch screening) and `portal rules impact` (what a rule change would flip).

Both are thin: they read settings and files, call `portal.screening` (and, for `db:` and
`--notify`, `portal.services.screening`; for stored applications, `portal.services.impact`),
and print. Exit codes:
0 done (rejected rows do not fail a run); 2 bad input or options; 1 a pack that cannot be
loaded or compiled.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import nullcontext
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from portal.cli.bootstrap import fail, load_rules, open_portal, parse_day, settings, today

if TYPE_CHECKING:
    from portal.rules.model import Rule
    from portal.rules.pack import Pack
    from portal.screening.impact import ImpactReport, RuleSet
    from portal.screening.inputs import Reject, ScreeningInput
    from portal.screening.outputs import OutWriter
    from portal.screening.replay import ApplicationImpact

console = Console(stderr=True)


def parse_on(on: str | None) -> date:
    """`--on` as a date; default today in the pack's time zone."""
    if on is None:
        return today()
    return parse_day("--on", on)


def choose_rules(pack: Pack, measures: list[str], on: date) -> list[Rule]:
    """The named measures in force on `on`, or every enterprise measure in force."""
    known = set(pack.measure_ids())
    unknown = [m for m in measures if m not in known]
    if unknown:
        raise fail(f"--measure: unknown measure(s) {', '.join(unknown)}", 2)
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
    out: Annotated[Path, typer.Option("--out", metavar="FILE", help="Result file: .csv or .parquet.")],
    measure: Annotated[
        list[str] | None, typer.Option("--measure", metavar="MEASURE", help="Measure id (repeatable).")
    ] = None,
    on: Annotated[
        str | None, typer.Option("--on", metavar="YYYY-MM-DD", help="Evaluation date (default today).")
    ] = None,
    engine: Annotated[
        str, typer.Option("--engine", metavar="sqlite|duckdb|postgres", help="The SQL engine that screens.")
    ] = "duckdb",
    db_url: Annotated[
        str | None,
        typer.Option(
            "--db-url", metavar="URL", help="SQLAlchemy URL of the engine (postgres: default local server)."
        ),
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
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from sqlalchemy.exc import SQLAlchemyError

    from portal.rules.batch.formula_sql import NotCompilable
    from portal.screening.engines import ENGINES, EngineError, open_engine
    from portal.screening.inputs import InputError, count_rows, piece_rows, read_chunks, read_records
    from portal.screening.outputs import (
        OutputError,
        OutWriter,
        check_out_path,
        rejects_path,
        write_out,
        write_rejects,
    )
    from portal.screening.run import facts_read, output_schema
    from portal.screening.run import screen as run_screen

    if engine not in ENGINES:
        raise fail(f"--engine: {engine!r} is not one of {', '.join(ENGINES)}", 2)
    from_register = source == "db:"
    if notify and not from_register:
        raise fail("--notify needs INPUT db: (notices go to registered enterprises)", 2)
    try:
        check_out_path(out)
    except OutputError as exc:
        raise fail(str(exc), 2) from None
    when = parse_on(on)
    pack = load_rules()
    rules = choose_rules(pack, measure or [], when)
    columns = pack.facts.supplied()
    try:
        keep = facts_read(rules, pack.facts, when)
    except NotCompilable as exc:
        raise fail(f"a rule cannot be compiled to SQL: {exc}", 1) from None
    register = open_portal(doing="cannot read the enterprise register") if from_register else nullcontext()
    with register as portal:
        if portal is not None:
            from portal.services.screening import register_records

            try:
                pieces: Iterator[ScreeningInput] = iter(
                    [read_records(register_records(portal), columns, source)]
                )
            except InputError as exc:
                raise fail(str(exc), 2) from None
            total = None
        else:  # a file is screened in pieces, so memory stays flat however long it is
            pieces = read_chunks(Path(source), columns, keep=keep, rows=piece_rows(len(rules)))
            total = count_rows(Path(source)) if Path(source).is_file() else None
        counts: dict[str, dict[str, int]] = {}
        rejects: list[Reject] = []
        rows = 0
        writer: OutWriter | None = None
        last = None
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=console, transient=True,
        ) as progress:  # fmt: skip
            task = progress.add_task("reading input", total=total)
            try:
                with open_engine(engine, db_url).connect() as conn:
                    for data in pieces:
                        # One transaction per piece: the previous piece's facts table is freed at its
                        # commit (inside one transaction the engine keeps every dropped version).
                        with conn.begin():
                            last = run_screen(conn, data, rules, pack.facts, when)
                        writer = writer or OutWriter(out, last.encoded.schema)
                        writer.write(last.encoded)
                        for name, by_outcome in last.counts.items():
                            mine = counts.setdefault(name, dict.fromkeys(by_outcome, 0))
                            for outcome, n in by_outcome.items():
                                mine[outcome] = mine.get(outcome, 0) + n
                        rejects += data.rejects
                        rows += data.total_rows
                        progress.update(task, advance=data.total_rows, description=f"screened {rows:,} rows")
                if writer is None:  # no rows at all: OUT still says what its columns are
                    benefits = sorted({name for rule in rules for name in rule.benefit})
                    write_out(output_schema(False, benefits).empty_table(), out)
                write_rejects(rejects, rejects_path(out))
            except InputError as exc:
                raise fail(str(exc), 2) from None
            except NotCompilable as exc:
                raise fail(f"a rule cannot be compiled to SQL: {exc}", 1) from None
            except EngineError as exc:
                raise fail(str(exc), 2) from None
            except SQLAlchemyError as exc:
                raise fail(f"{engine}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}", 2) from None
            except OutputError as exc:
                raise fail(str(exc), 2) from None
            finally:
                if writer is not None:
                    writer.close()
        _print_summary(counts, rows, rejects, out)
        if portal is not None and notify:
            from portal.services.screening import notify_eligible

            written = notify_eligible(portal, last.table, rules) if last is not None else 0
            console.print(f"{written} notification(s) written")
            if written and settings().jobs_runner == "worker":
                _queue_outbox()


def _queue_outbox() -> None:
    """Have a worker e-mail the new notices now rather than at the outbox's next minute."""
    from procrastinate.exceptions import ProcrastinateException

    from portal.jobs.queue import defer_outbox_now

    try:
        defer_outbox_now(settings())
    except ProcrastinateException as exc:
        typer.echo(f"warning: e-mail outbox not queued now ({exc}); its next run sends them", err=True)


REJECTS_PRINTED = 5


def _print_summary(
    counts: dict[str, dict[str, int]], total: int, rejects: Sequence[Reject], out: Path
) -> None:
    from portal.screening.outputs import rejects_path
    from portal.screening.run import OUTCOMES

    rejected = len(rejects)
    table = Table(title=f"{total} input rows, {rejected} rejected → {out}")
    table.add_column("measure")
    for outcome in OUTCOMES:
        table.add_column(outcome, justify="right")
    for measure, by_outcome in sorted(counts.items()):
        table.add_row(measure, *(str(by_outcome.get(o, 0)) for o in OUTCOMES))
    Console().print(table)
    if rejected:
        # Numbered as a spreadsheet shows the file (its `line`), the row a clerk looks up.
        for reject in rejects[:REJECTS_PRINTED]:
            console.print(f"[yellow]row {reject.line}:[/] {escape(reject.reason)}", highlight=False)
        console.print(
            f"[yellow]{rejected} rejected row(s) listed in {rejects_path(out)}; rows are numbered as a "
            "spreadsheet shows the file (the header is row 1), its column `line`[/]"
        )


def impact(
    old_ref: Annotated[
        str, typer.Argument(metavar="OLD_REF", help="A rule file, or a git revision of rules/.")
    ],
    new_ref: Annotated[
        str, typer.Argument(metavar="NEW_REF", help="A rule file, or a git revision of rules/.")
    ],
    input_file: Annotated[
        Path | None,
        typer.Option(
            "--input", metavar="FILE", help="Screening INPUT to replay (CSV, Parquet or JSON Lines)."
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="YYYY-MM-DD",
            help="Replay stored applications submitted on or after this date.",
        ),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", metavar="table|json|csv", help="How to print the report.")
    ] = "table",
    on: Annotated[
        str | None,
        typer.Option(
            "--on",
            metavar="YYYY-MM-DD",
            help="Evaluation date (INPUT: default today; applications: their submission day).",
        ),
    ] = None,
    measure: Annotated[
        list[str] | None, typer.Option("--measure", metavar="MEASURE", help="Only these measures (git REFs).")
    ] = None,
    repo: Annotated[
        Path | None,
        typer.Option(
            "--repo", metavar="DIR", help="Git repository holding rules/ (default: the pack directory)."
        ),
    ] = None,
) -> None:
    """Replay an INPUT (--input) and/or the stored applications (--since) under OLD_REF and NEW_REF.

    Reports outcome flips per direction, the change in benefit totals and what is affected.
    With both sources, JSON holds both reports under `input` and `applications`.
    """
    from portal.rules import RuleFileError
    from portal.screening.impact import RefError, resolve_ref

    if output_format not in ("table", "json", "csv"):
        raise fail(f"--format: {output_format!r} is not one of table, json, csv", 2)
    if input_file is None and since is None:
        raise fail("give --input FILE, --since DATE, or both", 2)
    if output_format == "csv" and input_file is not None and since is not None:
        raise fail("--format csv prints one table: give --input or --since, not both", 2)
    since_date = parse_day("--since", since) if since is not None else None
    forced_on = parse_day("--on", on) if on is not None else None
    when = forced_on or parse_on(None)
    where = repo or settings().pack_dir
    try:
        old = resolve_ref(old_ref, where, when, measure or [])
        new = resolve_ref(new_ref, where, when, measure or [])
    except (RefError, RuleFileError) as exc:
        raise fail(str(exc), 2) from None
    rows = _input_impact(input_file, old, new, when) if input_file is not None else None
    cases = _application_impact(old, new, since_date, forced_on) if since_date is not None else None
    if output_format == "json":
        # One source prints its report as before; both are keyed by source.
        documents: dict[str, object] = {}
        if rows is not None:
            documents["input"] = rows.to_json()
        if cases is not None:
            documents["applications"] = cases.to_json()
        document = next(iter(documents.values())) if len(documents) == 1 else documents
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    if output_format == "csv":
        if rows is not None:
            _print_impact_csv(rows)
        elif cases is not None:
            _print_cases_csv(cases)
        return
    if rows is not None:
        _print_impact_table(rows, old_ref, new_ref)
    if cases is not None:
        _print_cases_table(cases, old_ref, new_ref)


def _input_impact(input_file: Path, old: RuleSet, new: RuleSet, when: date) -> ImpactReport:
    from portal.rules.batch.formula_sql import NotCompilable
    from portal.screening.engines import open_engine
    from portal.screening.impact import RefError, compare
    from portal.screening.inputs import InputError, read_input

    pack = load_rules()
    columns = pack.facts.supplied()
    try:
        data = read_input(input_file, columns)
        with open_engine("duckdb").begin() as conn:
            report = compare(conn, data, old, new, when)
    except (InputError, RefError) as exc:
        raise fail(str(exc), 2) from None
    except NotCompilable as exc:
        raise fail(f"a rule cannot be compiled to SQL: {exc}", 1) from None
    if data.rejects:
        console.print(f"[yellow]{len(data.rejects)} input row(s) rejected and not replayed[/]")
    return report


def _application_impact(old: RuleSet, new: RuleSet, since: date, on: date | None) -> ApplicationImpact:
    from sqlalchemy.exc import SQLAlchemyError

    from portal.rules import RuleFileError
    from portal.screening.impact import RefError
    from portal.services.context import Portal
    from portal.services.impact import application_impact

    try:
        portal = Portal.from_settings(settings())
    except RuleFileError as exc:
        raise fail(str(exc), 1) from None
    try:
        report = application_impact(portal, old, new, since, on)
    except RefError as exc:
        raise fail(str(exc), 2) from None
    except SQLAlchemyError as exc:
        raise fail(f"database: {exc.__class__.__name__}: {str(exc).splitlines()[0]}", 1) from None
    finally:
        portal.engine.dispose()
    for skipped in report.skipped:
        console.print(
            f"[yellow]application {skipped.application_id} not replayed: its stored facts do not read "
            f"({skipped.reason})[/]"
        )
    return report


def _print_impact_csv(report: ImpactReport) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["key", "uscc", "measure", "old", "new", "old_benefit", "new_benefit"])
    for flip in report.flips:
        writer.writerow([
            flip.key, flip.uscc or "", flip.measure, flip.old, flip.new,
            json.dumps({k: str(v) for k, v in flip.old_benefit.items()}),
            json.dumps({k: str(v) for k, v in flip.new_benefit.items()}),
        ])  # fmt: skip


def _directions_table(title: str, unit: str, directions: Mapping[tuple[str, str], int]) -> Table:
    table = Table(title=title)
    table.add_column("from")
    table.add_column("to")
    table.add_column(unit, justify="right")
    for (was, now), n in sorted(directions.items()):
        table.add_row(was, now, str(n))
    return table


def _totals_table(title: str, totals: Mapping[str, tuple[Decimal, Decimal]]) -> Table:
    table = Table(title=title)
    for name in ("benefit", "old", "new", "change"):
        table.add_column(name, justify="left" if name == "benefit" else "right")
    for name, (old, new) in sorted(totals.items()):
        table.add_row(name, str(old), str(new), str(new - old))
    return table


def _print_impact_table(report: ImpactReport, old_ref: str, new_ref: str) -> None:
    out = Console()
    title = f"{old_ref} → {new_ref}: {report.rows} rows, {len(report.flips)} flipped"
    out.print(_directions_table(title, "rows", report.directions))
    out.print(_totals_table("benefit totals (eligible rows)", report.benefit_totals))
    affected = Table(title="affected rows")
    for name in ("key", "uscc", "measure", "old", "new"):
        affected.add_column(name)
    for flip in report.flips:
        affected.add_row(flip.key, flip.uscc or "", flip.measure, flip.old, flip.new)
    out.print(affected)


def _print_cases_csv(report: ApplicationImpact) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow([
        "application_id", "uscc", "measure", "state", "evaluated_on", "old", "new",
        "old_benefit", "new_benefit", "benefit_delta",
    ])  # fmt: skip
    for change in report.changes:
        row = change.to_json()
        writer.writerow([
            *(row[k] for k in ("application_id", "uscc", "measure", "state", "evaluated_on", "old", "new")),
            *(json.dumps(row[k]) for k in ("old_benefit", "new_benefit", "benefit_delta")),
        ])  # fmt: skip


def _print_cases_table(report: ApplicationImpact, old_ref: str, new_ref: str) -> None:
    out = Console()
    when = report.on.isoformat() if report.on else "each submission day"
    title = (
        f"{old_ref} → {new_ref}: {report.replayed} application(s) submitted since "
        f"{report.since.isoformat()}, judged on {when}; {sum(report.directions.values())} flipped"
    )
    out.print(_directions_table(title, "applications", report.directions))
    out.print(_totals_table("benefit totals (eligible applications)", report.benefit_totals))
    affected = Table(title="affected applications")
    for name in ("application", "uscc", "measure", "state", "evaluated on", "old", "new", "benefit change"):
        affected.add_column(name)
    for change in report.changes:
        delta = "\n".join(f"{k} {v:+}" for k, v in change.benefit_delta.items())
        affected.add_row(
            str(change.application_id), change.uscc, change.measure, change.state,
            change.evaluated_on.isoformat(), change.old, change.new, delta,
        )  # fmt: skip
    out.print(affected)
