"""The three SQL engines a screening runs on: bulk-load the facts table, run a compiled rule, fetch.

Rows go in by the engine's bulk path (Arrow for DuckDB, COPY for PostgreSQL, executemany for
SQLite) and results come back as whole columns; no row is evaluated in Python.
"""

from __future__ import annotations

import functools
import io
import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Connection, Engine, create_engine, make_url, text
from sqlalchemy.pool import StaticPool

from portal.rules.batch.compiler import FACTS_TABLE, OUTCOME, ROW_KEY, VERDICTS, CompiledRule

EngineName = Literal["sqlite", "duckdb", "postgres"]
"""The SQL engines a screening runs on: in-memory SQLite or DuckDB, or PostgreSQL temporary tables."""
ENGINES: tuple[EngineName, ...] = ("sqlite", "duckdb", "postgres")
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
_BACKENDS: dict[EngineName, str] = {"sqlite": "sqlite", "duckdb": "duckdb", "postgres": "postgresql"}
MONEY_SCALE = 2
FEN = Decimal("0.01")
TEN_DECIMALS = Decimal("1e-10")

_SQL_TYPES: dict[EngineName, dict[str, str]] = {
    "sqlite": {"bool": "INTEGER", "int": "INTEGER", "decimal": "NUMERIC", "date": "TEXT", "string": "TEXT"},
    "duckdb": {"bool": "BOOLEAN", "int": "BIGINT", "decimal": "DECIMAL(38, {scale})", "date": "DATE",
               "string": "VARCHAR"},
    "postgres": {"bool": "BOOLEAN", "int": "BIGINT", "decimal": "NUMERIC(38, {scale})", "date": "DATE",
                 "string": "TEXT"},
}  # fmt: skip


class EngineError(ValueError):
    """A `--db-url` that does not name the chosen engine, or whose driver is not installed."""


def open_engine(name: EngineName, url: str | None = None) -> Engine:
    """An engine for one screening run; SQLite and DuckDB work in memory, PostgreSQL in temp tables.

    From here on the process's Arrow buffers come from the C library's allocator: a run
    allocates and frees a few hundred MB per piece, which Arrow's default pool (mimalloc) handed
    back to the kernel and faulted in again for the next piece. 1M rows × all measures on
    DuckDB: 12.6 → 10.5 s CPU at the same peak memory; one measure 3.0 → 2.6 s.
    """
    if pa.default_memory_pool().backend_name != "system":
        pa.set_memory_pool(pa.system_memory_pool())
    if url is not None:
        # Checked before create_engine: another dialect would only fail later, with a traceback.
        backend = make_url(url).get_backend_name()
        if backend != _BACKENDS[name]:
            raise EngineError(f"--db-url: a {backend} URL cannot run the {name} engine")
    try:
        if name == "sqlite":
            # One shared in-memory connection: the facts table must outlive each checkout.
            return create_engine(url or "sqlite://", poolclass=StaticPool)
        if name == "duckdb":
            return create_engine(url or "duckdb:///:memory:", poolclass=StaticPool)
        return create_engine(url or DEFAULT_POSTGRES_URL)
    except ImportError as exc:
        raise EngineError(f"--db-url: its database driver is not installed ({exc.name})") from exc


def engine_name(conn: Connection) -> EngineName:
    dialect = conn.dialect.name
    if dialect == "sqlite":
        return "sqlite"
    if dialect == "duckdb":
        return "duckdb"
    if dialect == "postgresql":
        return "postgres"
    raise ValueError(f"screening does not run on {dialect}")


def _column_type(name: EngineName, field: pa.Field) -> str:
    types = _SQL_TYPES[name]
    if pa.types.is_boolean(field.type):
        return types["bool"]
    if pa.types.is_integer(field.type):
        return types["int"]
    if pa.types.is_decimal(field.type):
        return types["decimal"].format(scale=field.type.scale)
    if pa.types.is_date(field.type):
        return types["date"]
    return types["string"]


def load_facts(conn: Connection, facts: pa.Table, table_name: str = FACTS_TABLE) -> None:
    """Create the (temporary) facts table and fill it from `facts` in bulk (DuckDB: a view over it)."""
    name = engine_name(conn)
    raw: Any = conn.connection.driver_connection
    if name == "duckdb":
        # DuckDB reads the Arrow table in place: a view over it, no copy (replaces the last one).
        raw.register(table_name, facts)
        return
    columns = ", ".join(f'"{f.name}" {_column_type(name, f)}' for f in facts.schema)
    conn.execute(text(f'DROP TABLE IF EXISTS "{table_name}"'))
    conn.execute(text(f'CREATE TEMPORARY TABLE "{table_name}" ({columns})'))
    if name == "postgres":
        buffer = io.BytesIO()
        pacsv.write_csv(facts, buffer, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
        names = ", ".join(f'"{n}"' for n in facts.column_names)
        with raw.cursor() as cur, cur.copy(f'COPY "{table_name}" ({names}) FROM STDIN (FORMAT csv)') as copy:
            copy.write(buffer.getvalue())
    else:
        _sqlite_insert(raw, facts, table_name)
    conn.execute(text(f'CREATE INDEX IF NOT EXISTS "{table_name}_key" ON "{table_name}" ("{ROW_KEY}")'))


def _sqlite_insert(raw: Any, facts: pa.Table, table_name: str) -> None:
    """Fill the facts table through executemany, with values sqlite3 binds without an adapter.

    SQLite has no DECIMAL or DATE: decimals go in as their exact text (NUMERIC affinity turns
    them into INTEGER or REAL), dates as ISO text, which compares correctly as text. sqlite3
    binds an int, float or str directly but looks up an adapter for anything else, a bool or
    None: ~0.3 µs a value, a third of the values here. Booleans go in as the ints 1 and 0 they
    would be bound as, and NULLs as NaN, which SQLite stores as NULL (sqlite3_bind_double).
    """
    columns = []
    for field, column in zip(facts.schema, facts.columns, strict=True):
        if pa.types.is_decimal(field.type) or pa.types.is_date(field.type):
            column = column.cast(pa.string())
        elif pa.types.is_boolean(field.type):
            column = column.cast(pa.int64())
        values = column.to_pylist()
        if column.null_count:
            for i in pc.indices_nonzero(column.is_null()).to_pylist():
                values[i] = math.nan
        columns.append(values)
    marks = ", ".join("?" for _ in columns)
    raw.executemany(f'INSERT INTO "{table_name}" VALUES ({marks})', zip(*columns, strict=True))  # noqa: S608


def run_rule(conn: Connection, compiled: CompiledRule) -> pa.Table:
    """Evaluate over the loaded facts: `row`, `outcome`, criteria (bool), benefits (decimal text)."""
    name = engine_name(conn)
    if name == "duckdb":
        raw: Any = conn.connection.driver_connection
        result = _in_row_order(raw.sql(_parsed(compiled.sql(conn.dialect, ordered=False))).to_arrow_table())
        columns = {n: result.column(n) for n in result.column_names}
        verdicts = {label: columns[label].cast(pa.bool_()) for _, label in compiled.criteria}
    elif name == "postgres":
        columns = _copy_out(conn, compiled)
        verdicts = _unpack(columns[VERDICTS], [label for _, label in compiled.criteria])
    else:
        result = _in_row_order(_sqlite_text(conn, compiled))
        columns = {n: result.column(n) for n in result.column_names}
        verdicts = _unpack(columns[VERDICTS].cast(pa.string()), [label for _, label in compiled.criteria])
    out: dict[str, pa.Array | pa.ChunkedArray] = {
        ROW_KEY: columns[ROW_KEY].cast(pa.int64()),
        OUTCOME: columns[OUTCOME].cast(pa.string()),
        **verdicts,
    }
    for benefit, label in compiled.benefits:
        out[label] = benefit_text(columns[label], compiled.rule.benefit[benefit].type == "money")
    return pa.table(out)


@functools.lru_cache(maxsize=64)
def _parsed(sql: str) -> Any:
    """A rule's DuckDB statement parsed once per run, not once per piece (text → syntax tree was
    a tenth of running the statement on a piece)."""
    import duckdb

    return duckdb.extract_statements(sql)[0]


def _in_row_order(result: pa.Table) -> pa.Table:
    """DuckDB's rows sorted by row number, where its parallel plan did not keep them in order.

    Checking the order is one comparison per row; an ORDER BY in the statement sorted every
    result and cost about 40 % of the rules' run.
    """
    rows = result.column(ROW_KEY)
    n = len(rows)
    if n < 2 or pc.all(pc.less(rows.slice(0, n - 1), rows.slice(1))).as_py():
        return result
    return result.sort_by(ROW_KEY)


def _sqlite_text(conn: Connection, compiled: CompiledRule) -> pa.Table:
    """SQLite's results as one CSV text that SQLite builds, parsed by Arrow: no Python row objects.

    fetchall made a Python object per value and its transposition more, about a third of the
    rules' run (1M rows x all measures). quote() writes a REAL with digits that read back as
    the same double, so the benefits' types and values are those fetchall gave: Arrow infers
    null, int64 or double as pa.array did. Rows come in scan order, checked by the caller.
    """
    benefits = [label for _, label in compiled.benefits]
    amounts = "".join(f", CASE WHEN {b} IS NULL THEN '' ELSE quote({b}) END" for b in benefits)
    line = f"printf('%d,%s,%s{',%s' * len(benefits)}', \"{ROW_KEY}\", {OUTCOME}, {VERDICTS}{amounts})"
    sql = compiled.sql(conn.dialect, packed=True, ordered=False)
    query = f"SELECT CAST(group_concat({line}, char(10)) AS BLOB) FROM ({sql})"  # noqa: S608
    raw: Any = conn.connection.driver_connection
    ((blob,),) = raw.execute(query).fetchall()
    names = [ROW_KEY, OUTCOME, VERDICTS, *benefits]
    types = {ROW_KEY: pa.int64(), OUTCOME: pa.string(), VERDICTS: pa.string()}
    if blob is None:
        return pa.table({n: pa.array([], types.get(n, pa.null())) for n in names})
    table = pacsv.read_csv(
        pa.BufferReader(blob),
        read_options=pacsv.ReadOptions(column_names=names),
        parse_options=pacsv.ParseOptions(quote_char=False),
        convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True),
    )
    for label in benefits:
        column = table.column(label)
        if pa.types.is_floating(column.type) and pc.any(pc.equal(column, 0.0)).as_py():
            table = _signed_zeros(raw, sql, table, label)
    return table


def _signed_zeros(raw: Any, sql: str, table: pa.Table, label: str) -> pa.Table:
    """`table` with the -0.0 amounts quote() wrote as 0.0, fetched again (a money amount rounded
    to zero from below is -0.00, as the evaluator gives)."""
    zeros = raw.execute(f'SELECT "{ROW_KEY}", {label} FROM ({sql}) WHERE {label} = 0').fetchall()  # noqa: S608
    negative = [row for row, value in zeros if math.copysign(1.0, value) < 0]
    if not negative:
        return table
    below = pc.is_in(table.column(ROW_KEY), pa.array(negative, pa.int64()))
    signed = pc.if_else(below, pa.scalar(-0.0, pa.float64()), table.column(label))
    return table.set_column(table.column_names.index(label), label, signed)


def _copy_out(conn: Connection, compiled: CompiledRule) -> dict[str, pa.ChunkedArray]:
    """PostgreSQL results through COPY ... TO STDOUT as CSV, parsed by Arrow: no Python row objects."""
    sql = compiled.sql(conn.dialect, packed=True).replace("%%", "%")
    buffer = io.BytesIO()
    raw: Any = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv, HEADER true)") as copy:
        for chunk in copy:
            buffer.write(chunk)
    text_columns = [OUTCOME, VERDICTS, *(label for _, label in compiled.benefits)]
    options = pacsv.ConvertOptions(
        column_types={ROW_KEY: pa.int64(), **dict.fromkeys(text_columns, pa.string())},
        strings_can_be_null=True,
    )
    buffer.seek(0)
    table = pacsv.read_csv(buffer, convert_options=options)
    return {n: table.column(n) for n in table.column_names}


def _unpack(codes: pa.Array, labels: list[str]) -> dict[str, pa.Array]:
    """The `verdicts` text column back to one nullable boolean column per criterion."""
    unknown = pa.scalar(None, pa.bool_())
    result = {}
    for i, label in enumerate(labels):
        code = pc.utf8_slice_codeunits(codes, i, i + 1)
        result[label] = pc.if_else(pc.equal(code, "u"), unknown, pc.equal(code, "p"))
    return result


def benefit_text(column: pa.Array | pa.ChunkedArray, money: bool) -> pa.Array | pa.ChunkedArray:
    """Benefit amounts as exact decimal text, converted column-wise where the engine gave decimals."""
    kind = column.type
    if pa.types.is_floating(kind):
        # Converted once per distinct value: most benefits are constants (a rate) or NULL.
        distinct = pc.unique(column)
        texts = pa.array([decimal_text(v, money) for v in distinct.to_pylist()], pa.string())
        return texts.take(pc.index_in(column, distinct))
    if money and (pa.types.is_decimal(kind) or pa.types.is_integer(kind) or pa.types.is_string(kind)):
        # SQL already rounded money half-up to the fen, so narrowing the scale to 2 loses nothing.
        return pc.cast(pc.cast(column, pa.decimal128(38, MONEY_SCALE)), pa.string())
    if pa.types.is_decimal(kind) or pa.types.is_string(kind):
        # DECIMAL's padding trimmed once per distinct value, not once per eligible row.
        distinct = pc.unique(column)
        text = pc.replace_substring_regex(pc.cast(distinct, pa.string()), r"(\.[0-9]*?)0+$", r"\1")
        return pc.replace_substring_regex(text, r"\.$", "").take(pc.index_in(column, distinct))
    return pc.cast(column, pa.string())


def decimal_text(value: object, money: bool) -> str | None:
    """A benefit amount as exact decimal text: money to the fen, others without DECIMAL's padding."""
    if value is None:
        return None
    if isinstance(value, float):
        # SQLite computes in binary floating point. At most 15 significant digits and 10
        # decimals (the input scale of ratios) recover the decimal the arithmetic meant:
        # 0.8999999999999999 → 0.9, and (0.1016 - 0.1) * 2 = 0.0031999999999999806 → 0.0032.
        shortest = Decimal(format(value, ".15g"))
        if int(shortest.as_tuple().exponent) < -10:
            shortest = shortest.quantize(TEN_DECIMALS, rounding=ROUND_HALF_UP)
        value = str(shortest)
    number = Decimal(value) if isinstance(value, int | str) else value
    if not isinstance(number, Decimal):
        raise TypeError(f"benefit amount {value!r} is not a number")
    if money:
        return str(number.quantize(FEN, rounding=ROUND_HALF_UP))
    return format(number.normalize(), "f")
