"""One screening run: every chosen measure over every valid input row, one output row per pair."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection

from portal.rules.batch.columns import sql_column
from portal.rules.batch.compiler import OUTCOME, ROW_KEY, CompiledRule, compile_rule
from portal.rules.facts import FactDictionary
from portal.rules.model import Rule
from portal.screening.engines import load_facts, run_rule
from portal.screening.explain import explaining_ids, reason_counts
from portal.screening.inputs import ROW_ID, ScreeningInput

BENEFIT_PREFIX = "benefit."
USCC_COLUMN = "enterprise__uscc"
"""The input column copied into every OUT row, when the input has it."""
OUTCOMES = ("eligible", "ineligible", "undetermined")
REPEATED = ("measure", "version", "rule_hash")
"""OUT's columns that hold one value per measure, kept as dictionary arrays until OUT is read."""


@dataclass
class ScreeningResult:
    """The OUT table plus the counts the summary prints."""

    encoded: pa.Table
    """OUT's rows with the `REPEATED` columns as dictionary arrays: what a Parquet OUT is written
    from. Spelling out a 64-character rule hash per row, and the writer hashing it back into the
    file's dictionary, cost a sixth of writing OUT and a seventh of a run's peak memory."""
    schema: pa.Schema
    """OUT's published schema (text columns)."""
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    """measure → outcome → number of rows."""
    reasons: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    """measure → {"failed": leaf id (or "any one of" group) → ineligible rows it explains,
    "unknown": leaf id → undetermined rows it explains}: which criteria keep most rows out
    (`reason_counts`)."""

    @cached_property
    def table(self) -> pa.Table:
        """OUT's rows as published: every column plain."""
        return self.encoded.cast(self.schema)


def screen(
    conn: Connection,
    data: ScreeningInput,
    rules: Sequence[Rule],
    facts: FactDictionary,
    on: date,
    progress: Callable[[str], None] = lambda step: None,
    *,
    count_reasons: bool = False,
) -> ScreeningResult:
    """Load `data` into the connection's engine and evaluate every rule in SQL.

    `progress` is called after the load and after each measure, so the CLI can advance a bar.
    `count_reasons` fills `ScreeningResult.reasons` (a web run's page shows them; the CLI's
    OUT file carries each row's own, so it does not pay for the counting).
    """
    compiled = _compiled(rules, facts, on)
    needed = {c for item in compiled for c in item.fact_columns}
    keep = [ROW_KEY, *(n for n in data.facts.column_names if n in needed)]
    load_facts(conn, data.facts.select(keep))
    progress("load")
    benefit_names = sorted({name for rule in rules for name in rule.benefit})
    runs: list[tuple[Rule, dict[str, pa.Array | pa.ChunkedArray]]] = []
    keys: pa.ChunkedArray | None = None
    counts: dict[str, dict[str, int]] = {}
    reasons: dict[str, dict[str, dict[str, int]]] = {}
    for item in compiled:
        results = run_rule(conn, item)
        # Results are ordered by row and cover exactly the loaded rows: every measure's align.
        keys = results.column(ROW_KEY)
        columns = _measure_columns(item, results, benefit_names)
        runs.append((item.rule, columns))
        tally = pc.value_counts(results.column(OUTCOME)).to_pylist()
        counts[item.rule.id] = {o: 0 for o in OUTCOMES} | {t["values"]: t["counts"] for t in tally}
        if count_reasons:
            reasons[item.rule.id] = reason_counts(columns["failed"], columns["unknown"], item.rule.criteria)
        progress(item.rule.id)
    schema = output_schema(data.has_row_id, benefit_names)
    encoded = encoded_schema(schema)
    if keys is None:
        return ScreeningResult(encoded=encoded.empty_table(), schema=schema, counts=counts, reasons=reasons)
    table = _row_major(keys, data, sorted(runs, key=lambda run: run[0].id))
    return ScreeningResult(
        encoded=table.select(schema.names).cast(encoded), schema=schema, counts=counts, reasons=reasons
    )


_last: tuple[tuple[Rule, ...], FactDictionary, date, list[CompiledRule]] | None = None


def _compiled(rules: Sequence[Rule], facts: FactDictionary, on: date) -> list[CompiledRule]:
    """The rules compiled, reused while a run asks `facts_read` what to load and then streams its
    pieces through `screen` with the same rules (compiling every measure again for every piece
    cost more than a small piece's SQL)."""
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


def _row_major(
    keys: pa.ChunkedArray,
    data: ScreeningInput,
    runs: list[tuple[Rule, dict[str, pa.Array | pa.ChunkedArray]]],
) -> pa.Table:
    """OUT's rows of one piece, ordered by row, then measure (`runs` is in measure order).

    Row k of the result is row k // m of measure k % m. The columns the measures share (row
    key, uscc, row id) are taken from their one copy, each measure's constants (id, version,
    rule hash) from a list of m, and only the columns that differ per measure (outcome,
    explanations, benefits) from the m parts: sorting the m parts stacked by row number moved
    every column of every part, a fifth of an all-measures run.
    """
    m, n = len(runs), len(keys)
    shared: dict[str, pa.Array | pa.ChunkedArray] = {
        ROW_KEY: keys,
        "uscc": _input_column(data, USCC_COLUMN, n),
    }
    if data.has_row_id:
        shared[ROW_ID] = data.facts.column(ROW_ID)
    constants = {
        "measure": [rule.id for rule, _ in runs],
        "version": [rule.version for rule, _ in runs],
        "rule_hash": [rule.rule_hash for rule, _ in runs],
    }
    if m == 1:  # already in order
        first = pa.repeat(pa.scalar(0, pa.int32()), n)
        return pa.table(
            shared
            | {name: _coded(first, values) for name, values in constants.items()}
            | {name: _plain(column) for name, column in runs[0][1].items()}
        )
    position = pc.cumulative_sum(pa.repeat(pa.scalar(1, pa.int64()), n * m), start=-1)
    row = pc.divide(position, m)
    measure = pc.subtract(position, pc.multiply(row, m))
    stacked = pc.add(pc.multiply(measure, n), row)
    return pa.table(
        {name: _one_array([column]).take(row) for name, column in shared.items()}
        | {name: _coded(measure.cast(pa.int32()), values) for name, values in constants.items()}
        | {name: _stacked([own[name] for _, own in runs], stacked) for name in runs[0][1]}
    )


def _stacked(parts: list[pa.Array | pa.ChunkedArray], order: pa.Array) -> pa.Array:
    """The parts one after another, taken in `order`. Where every part is a dictionary array
    (the explanations), their indices are stacked and taken, and the texts once from that."""
    if not all(isinstance(part, pa.DictionaryArray) for part in parts):
        return _one_array([_plain(part) for part in parts]).take(order)
    shifted = []
    start = 0
    for part in parts:
        assert isinstance(part, pa.DictionaryArray)
        shifted.append(pc.add(part.indices, pa.scalar(start, part.indices.type)))
        start += len(part.dictionary)
    texts = pa.concat_arrays([part.dictionary for part in parts if isinstance(part, pa.DictionaryArray)])
    return texts.take(pa.concat_arrays(shifted).take(order))


def _plain(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    if isinstance(column, pa.DictionaryArray):
        return column.dictionary.take(column.indices)
    return column


def facts_read(rules: Sequence[Rule], facts: FactDictionary, on: date) -> set[str]:
    """The qualified facts a run over `rules` loads: what their SQL reads, and the USCC for OUT."""
    by_column = {sql_column(spec.qualified): spec.qualified for spec in facts.specs.values()}
    read = {by_column[c] for item in _compiled(rules, facts, on) for c in item.fact_columns}
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


def _measure_columns(
    compiled: CompiledRule, results: pa.Table, benefit_names: Sequence[str]
) -> dict[str, pa.Array | pa.ChunkedArray]:
    """One measure's own OUT columns over a piece: outcome, explanations, a column per benefit."""
    n = results.num_rows
    rule = compiled.rule
    verdicts = {leaf_id: results.column(label).combine_chunks() for leaf_id, label in compiled.criteria}
    failed, unknown = explaining_ids(rule.criteria, verdicts)
    columns: dict[str, pa.Array | pa.ChunkedArray] = {
        OUTCOME: results.column(OUTCOME),
        "failed": failed,
        "unknown": unknown,
    }
    labels = dict(compiled.benefits)
    for name in benefit_names:
        label = labels.get(name)
        columns[BENEFIT_PREFIX + name] = results.column(label) if label else pa.nulls(n, pa.string())
    return columns


def _one_array(parts: list[pa.Array | pa.ChunkedArray]) -> pa.Array:
    """The parts one after another as one array: a take from a chunked array of m parts cost
    nine times as much (each index's chunk is looked up)."""
    chunks = [chunk for part in parts for chunk in _chunks(part)]
    return pa.concat_arrays(chunks) if chunks else pa.array([], parts[0].type)


def _chunks(column: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    return column.chunks if isinstance(column, pa.ChunkedArray) else [column]


def _coded(indices: pa.Array, values: list[str]) -> pa.DictionaryArray:
    """Row k holds `values[indices[k]]`, without a text per row."""
    return pa.DictionaryArray.from_arrays(indices, pa.array(values, pa.string()))


def encoded_schema(schema: pa.Schema) -> pa.Schema:
    """`schema` with the `REPEATED` columns as dictionaries of their text."""
    return pa.schema(
        [f.with_type(pa.dictionary(pa.int32(), f.type)) if f.name in REPEATED else f for f in schema]
    )


def _input_column(data: ScreeningInput, name: str, n: int) -> pa.ChunkedArray | pa.Array:
    if name in data.facts.column_names:
        return data.facts.column(name)
    return pa.nulls(n, pa.string())
