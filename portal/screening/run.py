"""One screening run: every chosen measure over every valid input row, one output row per pair."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection

from portal.rules.batch.columns import sql_column
from portal.rules.batch.compiler import OUTCOME, ROW_KEY, CompiledRule, compile_rule
from portal.rules.facts import FactDictionary
from portal.rules.model import Rule
from portal.screening.engines import load_facts, run_rule
from portal.screening.explain import explaining_ids
from portal.screening.inputs import ROW_ID, ScreeningInput

BENEFIT_PREFIX = "benefit."
USCC_COLUMN = "enterprise__uscc"
"""The input column copied into every OUT row, when the input has it."""
OUTCOMES = ("eligible", "ineligible", "undetermined")


@dataclass
class ScreeningResult:
    """The OUT table plus the counts the summary prints."""

    table: pa.Table
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    """measure → outcome → number of rows."""


def screen(
    conn: Connection,
    data: ScreeningInput,
    rules: Sequence[Rule],
    facts: FactDictionary,
    on: date,
    progress: Callable[[str], None] = lambda step: None,
) -> ScreeningResult:
    """Load `data` into the connection's engine and evaluate every rule in SQL.

    `progress` is called after the load and after each measure, so the CLI can advance a bar.
    """
    compiled = _compiled(rules, facts, on)
    needed = {c for item in compiled for c in item.fact_columns}
    keep = [ROW_KEY, *(n for n in data.facts.column_names if n in needed)]
    load_facts(conn, data.facts.select(keep))
    progress("load")
    benefit_names = sorted({name for rule in rules for name in rule.benefit})
    parts: list[pa.Table] = []
    counts: dict[str, dict[str, int]] = {}
    for item in compiled:
        results = run_rule(conn, item)
        parts.append(_output_rows(item, results, data, benefit_names))
        tally = pc.value_counts(results.column(OUTCOME)).to_pylist()
        counts[item.rule.id] = {o: 0 for o in OUTCOMES} | {t["values"]: t["counts"] for t in tally}
        progress(item.rule.id)
    schema = output_schema(data.has_row_id, benefit_names)
    if not parts:
        return ScreeningResult(table=schema.empty_table(), counts=counts)
    table = _row_major(parts, [item.rule.id for item in compiled])
    return ScreeningResult(table=table.select(schema.names).cast(schema), counts=counts)


_last: tuple[tuple[Rule, ...], FactDictionary, date, list[CompiledRule]] | None = None


def _compiled(rules: Sequence[Rule], facts: FactDictionary, on: date) -> list[CompiledRule]:
    """The rules compiled, reused while a run streams its pieces through `screen` with the same
    rules (compiling every measure again for every piece cost more than a small piece's SQL)."""
    global _last
    last = _last
    if (
        last is not None
        and last[1] is facts
        and last[2] == on
        and len(last[0]) == len(rules)
        and all(a is b for a, b in zip(last[0], rules, strict=True))
    ):
        return last[3]
    compiled = [compile_rule(rule, facts, on) for rule in rules]
    _last = (tuple(rules), facts, on, compiled)
    return compiled


def _row_major(parts: list[pa.Table], measures: list[str]) -> pa.Table:
    """The parts (one per measure, each over the same rows) ordered by row, then measure.

    The parts are put in measure order and then stably sorted by row number alone: sorting one
    integer column is much cheaper than comparing (row, measure text) pairs. One part is already
    in row order.
    """
    if len(parts) == 1:
        return parts[0]
    order = sorted(range(len(parts)), key=measures.__getitem__)
    return pa.concat_tables([parts[i] for i in order]).sort_by("_row")


def facts_read(rules: Sequence[Rule], facts: FactDictionary, on: date) -> set[str]:
    """The qualified facts a run over `rules` loads: what their SQL reads, and the USCC for OUT."""
    by_column = {sql_column(spec.qualified): spec.qualified for spec in facts.specs.values()}
    read = {by_column[c] for rule in rules for c in compile_rule(rule, facts, on).fact_columns}
    return read | {q for c, q in by_column.items() if c == USCC_COLUMN}


def output_schema(has_row_id: bool, benefit_names: Sequence[str]) -> pa.Schema:
    """OUT's columns: the row key, uscc, measure, version, outcome, benefits, failed, unknown, rule_hash."""
    key = pa.field(ROW_ID, pa.string()) if has_row_id else pa.field(ROW_KEY, pa.int64())
    return pa.schema(
        [
            key,
            ("uscc", pa.string()),
            ("measure", pa.string()),
            ("version", pa.string()),
            (OUTCOME, pa.string()),
        ]
        + [(BENEFIT_PREFIX + n, pa.string()) for n in benefit_names]
        + [("failed", pa.string()), ("unknown", pa.string()), ("rule_hash", pa.string())]
    )


def _output_rows(
    compiled: CompiledRule, results: pa.Table, data: ScreeningInput, benefit_names: Sequence[str]
) -> pa.Table:
    # Results are ordered by row and cover exactly the loaded rows, so columns align by position.
    n = results.num_rows
    rule = compiled.rule
    verdicts = {leaf_id: results.column(label).combine_chunks() for leaf_id, label in compiled.criteria}
    failed, unknown = explaining_ids(rule.criteria, verdicts)
    columns: dict[str, pa.Array | pa.ChunkedArray] = {
        "_row": results.column(ROW_KEY),
        ROW_KEY: results.column(ROW_KEY),
        "uscc": _input_column(data, USCC_COLUMN, n),
        "measure": _same(rule.id, n),
        "version": _same(rule.version, n),
        OUTCOME: results.column(OUTCOME),
        "failed": failed,
        "unknown": unknown,
        "rule_hash": _same(rule.rule_hash, n),
    }
    if data.has_row_id:
        columns[ROW_ID] = data.facts.column(ROW_ID)
    labels = dict(compiled.benefits)
    for name in benefit_names:
        label = labels.get(name)
        columns[BENEFIT_PREFIX + name] = results.column(label) if label else pa.nulls(n, pa.string())
    return pa.table(columns)


def _same(text: str | None, n: int) -> pa.Array:
    """One text repeated `n` times, made in Arrow (a Python list of `n` items costs ~100 times more)."""
    return pa.repeat(pa.scalar(text, pa.string()), n)


def _input_column(data: ScreeningInput, name: str, n: int) -> pa.ChunkedArray | pa.Array:
    if name in data.facts.column_names:
        return data.facts.column(name)
    return pa.nulls(n, pa.string())
